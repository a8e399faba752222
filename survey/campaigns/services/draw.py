"""The draw: a seeded selection in every stratum (unit, or unit × frame stratum) with the
selection of ``analysis`` (stratified SRS, systematic, PPS systematic), the seed and the
frame's content hash recorded, each selected row's inclusion probability stored, and a
reserve list drawn in random order for replacing refusals. The same seed on the same frame
gives the same sample.

Campaigns whose stages are unit → cluster → person draw in two stages within each stratum:
clusters (SRS, or PPS by their row count), then a fixed take of persons in each selected
cluster (SRS); each selected row keeps both stages' inclusion probabilities (their product
is its selection probability) and populations (clusters in the stratum, rows in the
cluster), which the close stores as the two-stage design.

Reserve lists. One stage: ``reserve`` spare persons per stratum, by SRS from the stratum's
unselected rows, in a random order of use; a refusal is replaced by the next unused reserve
of the same stratum. Two stages: ``reserve`` spare persons in each selected cluster, by SRS
from the cluster's unselected rows, in a random order of use, drawn from a generator of
their own (seeded from the draw's seed), so that the selected persons are the same with or
without a reserve; a refusal is replaced by the next unused reserve of the same cluster,
never of another cluster (the cluster was the stage-1 draw: a person of another cluster
would change which clusters are in the sample). A reserve row carries the probabilities
and populations of its group's selected persons (one stage: n/N of the stratum; two
stages: the cluster's stage-1 probability and take / cluster size), because a replacement
takes the slot of the person it replaces; how the close weights replacements and refusals
left without one is told in ``closing``'s module text."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

import analysis
from survey.campaigns.models import Campaign, CampaignDraw, FrameRow, SamplingFrame
from survey.campaigns.services.allocation import planned_sizes
from survey.campaigns.services.campaigns import require_draft
from survey.campaigns.services.clusters import frame_cells
from survey.collection.models import DossierToken
from survey.common.clock import utcnow
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit

METHODS = ("srs", "systematic", "pps")
MAX_SEED = 2**62


@dataclass(frozen=True)
class _Row:
    id: int
    key: tuple[int, str]
    size: float | None
    cluster: str | None = None


def _rows(frame: SamplingFrame) -> tuple[list[_Row], str]:
    """The frame's rows in frame order, and the SHA-256 of its content as imported (what
    the draw depends on), hashed as the rows stream by."""
    query = select(FrameRow.id, FrameRow.row_number, FrameRow.unit_id, FrameRow.ident_hash,
                   FrameRow.stratum, FrameRow.cluster, FrameRow.size).where(
        FrameRow.frame_id == frame.id).order_by(FrameRow.row_number)
    digest = hashlib.sha256()
    rows = []
    for r in db.session.execute(query.execution_options(yield_per=10_000)):
        digest.update(f"{r.row_number}|{r.unit_id}|{r.ident_hash}|{r.stratum or ''}|"
                      f"{r.cluster or ''}|{'' if r.size is None else repr(r.size)}\n".encode())
        rows.append(_Row(r.id, (r.unit_id, r.stratum or ""), r.size, r.cluster))
    return rows, digest.hexdigest()


def _select(method: str, positions: list[int], rows: list[_Row], n: int,
            rng: np.random.Generator) -> tuple[list[int], list[float]]:
    """Positions (in the stratum's frame order) selected, with their probabilities."""
    big_n = len(positions)
    if n == 0:
        return [], []
    if method == "systematic":
        chosen = analysis.systematic(big_n, n, rng=rng)
    elif method == "pps":
        chosen = analysis.pps_systematic([rows[p].size or 0.0 for p in positions], n, rng=rng)
    else:
        chosen = analysis.stratified_srswor(np.zeros(big_n), {0.0: n}, rng=rng)
    return ([positions[int(i)] for i in chosen.index],
            [float(p) for p in chosen.inclusion_probability])


def _reserve(rest: list[int], r: int, rng: np.random.Generator) -> list[int]:
    """``r`` rows of ``rest`` by simple random sampling, in a random order of use."""
    if r == 0 or not rest:
        return []
    picked = analysis.stratified_srswor(np.zeros(len(rest)), {0.0: min(r, len(rest))}, rng=rng)
    order = rng.permutation(len(picked.index))
    return [rest[int(picked.index[i])] for i in order]


def _check(campaign: Campaign, frame: SamplingFrame | None, method: str,
           reserve: int) -> SamplingFrame:
    require_draft(campaign)
    if frame is None:
        raise ServiceError(_("Import the sampling frame first."))
    if method not in METHODS:
        raise ServiceError(_("Choose a selection method."), "method")
    if method == "pps" and frame.size_column is None and not two_stage(campaign):
        raise ServiceError(_("PPS needs a size measure: import the frame with its size "
                             "column."), "method")
    if method == "pps" and reserve and not two_stage(campaign):
        # (a two-stage PPS draw selects clusters by size, but persons in them by SRS: its
        # reserve is drawn within each cluster)
        raise ServiceError(_("With PPS no reserve list is drawn; set the reserve to 0."),
                           "reserve")
    if not 0 <= reserve <= 1000:
        raise ServiceError(_("The reserve must be from 0 to 1000 per stratum (per cluster in "
                             "a two-stage draw)."), "reserve")
    return frame


def two_stage(campaign: Campaign) -> bool:
    """Whether the campaign's stages are unit → cluster → person (ward-day, class)."""
    return campaign.stages == "unit_cluster_person"


def _clusters_of(positions: list[int], rows: list[_Row]) -> dict[str, list[int]]:
    """The stratum's positions per cluster, clusters in the frame order of their first row."""
    clusters: dict[str, list[int]] = defaultdict(list)
    for p in positions:
        clusters[rows[p].cluster or ""].append(p)
    return clusters


def _two_stage(method: str, positions: list[int], rows: list[_Row], m: int, take: int,
               reserve: int, rng: np.random.Generator,
               spare_rng: np.random.Generator) -> list[dict[str, object]]:
    """Stage 1: ``m`` clusters of the stratum (those ``clusters.frame_cells`` plans; SRS,
    or PPS by the cluster's row count); stage 2: ``take`` rows (all, if fewer) of each
    selected cluster by SRS, then up to ``reserve`` of its other rows by SRS in a random
    order of use (``spare_rng``). One change per drawn row, with both stages' probabilities
    and populations (a reserve row: those of its cluster's selected persons, whose slot it
    may take)."""
    clusters = _clusters_of(positions, rows)
    names = list(clusters)  # frame order of each cluster's first row
    m = min(m, len(names))
    if m == 0:
        return []
    if m == len(names):  # every cluster of the stratum: taken with certainty
        first_index, first_pi = list(range(m)), [1.0] * m
    elif method == "pps":
        first = analysis.pps_systematic([float(len(clusters[c])) for c in names], m, rng=rng)
        first_index, first_pi = list(first.index), list(first.inclusion_probability)
    else:
        first = analysis.stratified_srswor(np.zeros(len(names)), {0.0: m}, rng=rng)
        first_index, first_pi = list(first.index), list(first.inclusion_probability)
    out: list[dict[str, object]] = []
    for i, p1 in zip(first_index, first_pi, strict=True):
        members = clusters[names[int(i)]]
        k = min(take, len(members))
        second = analysis.stratified_srswor(np.zeros(len(members)), {0.0: k}, rng=rng)
        stages = {"stage1_probability": float(p1), "stage1_population": len(names),
                  "stage2_population": len(members)}
        for j, p2 in zip(second.index, second.inclusion_probability, strict=True):
            out.append({"id": rows[members[int(j)]].id, "status": "selected",
                        "selection_probability": float(p1) * float(p2), "reserve_rank": None,
                        "stage2_probability": float(p2), **stages})
        taken = {int(j) for j in second.index}
        spare = _reserve([p for j, p in enumerate(members) if j not in taken], reserve,
                         spare_rng)
        p2 = k / len(members)  # the cluster's second-stage probability (SRS of k)
        out += [{"id": rows[p].id, "status": "reserve",
                 "selection_probability": float(p1) * p2, "reserve_rank": rank,
                 "stage2_probability": p2, **stages}
                for rank, p in enumerate(spare, start=1)]
    return out


def _check_two_stage(frame: SamplingFrame, method: str, take: int | None) -> int:
    if frame.cluster_column is None:
        raise ServiceError(_("A two-stage draw needs the clusters: import the frame with its "
                             "cluster column."), "method")
    if method == "systematic":
        raise ServiceError(_("A two-stage draw selects clusters by SRS or PPS."), "method")
    if take is None or not 1 <= take <= 1000:
        raise ServiceError(_("The take per cluster must be from 1 to 1000."), "take")
    return take


@use_case
def draw_sample(campaign: Campaign, *, method: str, seed: int | None = None,
                reserve: int = 0, take: int | None = None) -> CampaignDraw:
    """Draw (or draw again, while in draft) the campaign's sample from its frame."""
    frame = _check(campaign, db.session.scalar(select(SamplingFrame).where(
        SamplingFrame.campaign_id == campaign.id)), method, reserve)
    if db.session.scalar(select(FrameRow.id).where(
            FrameRow.frame_id == frame.id, FrameRow.token_id.is_not(None)).limit(1)):
        raise ServiceError(_("Invitations were issued from this sample: it cannot be drawn "
                             "again."))
    per_cluster = _check_two_stage(frame, method, take) if two_stage(campaign) else 0
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    if not 0 <= seed < MAX_SEED:
        raise ServiceError(_("The seed must be a whole number from 0."), "seed")
    rows, frame_hash = _rows(frame)
    strata: dict[tuple[int, str], list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        strata[row.key].append(position)
    if per_cluster:  # the clusters the design page planned, in every stratum
        cells = frame_cells(campaign, per_cluster, {
            k: [len(c) for c in _clusters_of(v, rows).values()] for k, v in strata.items()})
        sizes = {k: cell.clusters for k, cell in cells.items()}
    else:
        sizes = planned_sizes(campaign, {k: len(v) for k, v in strata.items()})
    rng = np.random.default_rng(seed)
    spare_rng = np.random.default_rng([seed, 1])  # two-stage reserves: a stream of their own
    changes: list[dict[str, object]] = []
    selected = reserves = 0
    for key in sorted(strata):
        positions = strata[key]
        n = sizes.get(key, 0)  # persons, or clusters of a two-stage draw
        if per_cluster:
            stage_rows = _two_stage(method, positions, rows, n, per_cluster, reserve, rng,
                                    spare_rng)
            changes += stage_rows
            spares = sum(1 for r in stage_rows if r["status"] == "reserve")
            selected, reserves = selected + len(stage_rows) - spares, reserves + spares
            continue
        if n > len(positions):
            raise ServiceError(_("A stratum has fewer rows than its allocation; import the "
                                 "frame again."))
        picked, probs = _select(method, positions, rows, n, rng)
        taken = set(picked)
        spare = _reserve([p for p in positions if p not in taken], reserve, rng)
        pi_srs = n / len(positions)
        changes += [{"id": rows[p].id, "status": "selected", "selection_probability": pi,
                     "reserve_rank": None} for p, pi in zip(picked, probs, strict=True)]
        changes += [{"id": rows[p].id, "status": "reserve", "selection_probability": pi_srs,
                     "reserve_rank": rank} for rank, p in enumerate(spare, start=1)]
        selected, reserves = selected + len(picked), reserves + len(spare)
    db.session.execute(update(FrameRow).where(  # a previous draw's rows only
        FrameRow.frame_id == frame.id, FrameRow.status != "frame").values(
        status="frame", selection_probability=None, reserve_rank=None,
        stage1_probability=None, stage2_probability=None, stage1_population=None,
        stage2_population=None))
    for keys in {tuple(sorted(c)) for c in changes}:  # one bulk update per row shape
        db.session.execute(update(FrameRow), [c for c in changes if tuple(sorted(c)) == keys])
    previous = draw_of(campaign)
    if previous is not None:
        db.session.delete(previous)
        db.session.flush()
    record = CampaignDraw(campaign_id=campaign.id, frame_id=frame.id, method=method, seed=seed,
                          frame_hash=frame_hash, reserve_per_stratum=reserve,
                          selected=selected, reserves=reserves)
    db.session.add(record)
    commit_or_refuse()
    return record


def draw_of(campaign: Campaign) -> CampaignDraw | None:
    return db.session.scalar(select(CampaignDraw).where(CampaignDraw.campaign_id == campaign.id))


@use_case
def replace_refusal(campaign: Campaign, row_id: int) -> FrameRow | None:
    """A selected person refused: mark them (their invitation, if any, expires now), and
    select the first unused reserve of the same group in its drawn order — the same
    cluster after a two-stage draw, the same stratum otherwise (None when the group's
    reserve list is used up)."""
    if campaign.status == "closed":
        raise ServiceError(_("The campaign is closed."))
    row = db.session.get(FrameRow, row_id)
    frame = db.session.scalar(select(SamplingFrame).where(
        SamplingFrame.campaign_id == campaign.id))
    if row is None or frame is None or row.frame_id != frame.id or row.status != "selected":
        raise ServiceError(_("Only a selected person can be marked as a refusal."))
    token = db.session.get(DossierToken, row.token_id) if row.token_id else None
    if token is not None and token.used_at is not None:
        raise ServiceError(_("This person has already answered."))
    if token is not None:  # the refused person's link stops working at once
        token.expires_at = utcnow()
    row.status = "refused"
    query = select(FrameRow).where(
        FrameRow.frame_id == frame.id, FrameRow.status == "reserve",
        FrameRow.unit_id == row.unit_id, _same(FrameRow.stratum, row.stratum))
    if row.stage1_population is not None:  # drawn in two stages: the same cluster only
        query = query.where(_same(FrameRow.cluster, row.cluster))
    nxt = db.session.scalar(query.order_by(FrameRow.reserve_rank, FrameRow.id).limit(1))
    if nxt is not None:
        nxt.status = "selected"
    commit_or_refuse()
    return nxt


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def replaced_within_cluster(row_id: int) -> bool:
    """Whether a refusal of this row is replaced from its cluster (a two-stage draw)."""
    return db.session.scalar(select(FrameRow.stage1_population).where(
        FrameRow.id == row_id)) is not None


def sample_rows(campaign: Campaign) -> Select[tuple[FrameRow]]:
    """The drawn persons (selected, reserve, refused) by unit, stratum (and cluster, after
    a two-stage draw: its reserve is the cluster's) and drawn order."""
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    by_cluster = [FrameRow.cluster] if two_stage(campaign) else []
    return select(FrameRow).join(Unit, Unit.id == FrameRow.unit_id).where(
        FrameRow.frame_id.in_(frame_id), FrameRow.status != "frame").order_by(
        Unit.name, FrameRow.stratum, *by_cluster, FrameRow.status.desc(),
        FrameRow.reserve_rank, FrameRow.row_number)


def sample_counts(campaign: Campaign) -> list[tuple[str, str, int, int, int, int]]:
    """Per unit and frame stratum: (unit, stratum, frame rows, selected, reserve, refused)."""
    frame = db.session.scalar(select(SamplingFrame).where(
        SamplingFrame.campaign_id == campaign.id))
    if frame is None:
        return []
    names = {cu.unit_id: cu.unit.name for cu in campaign.units}
    query = select(FrameRow.unit_id, FrameRow.stratum, FrameRow.status, func.count()).where(
        FrameRow.frame_id == frame.id).group_by(FrameRow.unit_id, FrameRow.stratum,
                                                FrameRow.status)
    table: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, stratum, status, n in db.session.execute(query):
        table[(unit_id, stratum or "")][status] += n
    return [(names.get(u, str(u)), s, sum(c.values()), c["selected"], c["reserve"],
             c["refused"]) for (u, s), c in sorted(table.items(),
                                                   key=lambda kv: (names.get(kv[0][0], ""),
                                                                   kv[0][1]))]
