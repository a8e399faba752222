"""Closing a campaign: the weights of its respondents, its results through the results
engine, frozen as a snapshot, and the weighting report kept with it.

Weights, for each responding sampled person (a selected frame row whose invitation token
was answered):

1. **base** = 1/π, the selection probability the draw recorded (for a two-stage design the
   draw's probability is already the product over the stages);
2. **adjusted** = base × (Σ base of the cell's selected persons ÷ Σ base of its
   respondents), the weighting-class nonresponse adjustment (``analysis.
   nonresponse_adjustment``, Valliant, Dever & Kreuter 2018, sec. 13.5) within cells = the
   campaign's strata (unit × frame stratum); a cell with fewer than :data:`MIN_CELL`
   respondents is collapsed with its neighbour in the same unit (or, failing that, the
   next cell in order) and the collapse recorded;
3. **final** = adjusted, raked to the margins the analyst enters (``analysis.rake``, R's
   ``calibrate(calfun = "raking")``) on answers every respondent gave (sex, age group), then
   trimmed to at most ``trim`` × the mean weight (``analysis.trim_weights``, R's
   ``trimWeights``: the cut is spread over the others, the total kept).

Design stored with each weight: stratum = unit × frame stratum, psu = the person (the draw
takes frame rows in one stage within the stratum, whatever the clusters), fpc = the
stratum's frame count (none after a PPS draw: with-replacement variance, conservative).
After a two-stage draw (clusters, then persons): psu = the cluster, fpc = the clusters in
the stratum (none after PPS), psu2 = the person, fpc2 = the persons in the cluster; the
results engine then estimates with the multistage design.

Slips keyed without a sampled person (no frame row) are not part of the probability sample
and get no weight: they are counted in the report and left out of the results.

Refusals and their replacements (``draw.replace_refusal``). The draw fixes a number of
slots in each replacement group (one-stage: the unit × frame stratum; two-stage: the
selected cluster); a refused person's slot passes to the next reserve of the same group,
so a replacement is treated as the original's slot, not as an extra draw: it keeps the
probability the draw gave the group's persons (one-stage SRS or systematic: n/N of the
stratum, the original's; two-stage: the cluster's stage-1 probability × take/cluster size,
the cluster's populations as fpc and fpc2, psu = the same cluster), and the refused person
leaves the sample. A slot whose reserve ran out (or a PPS draw, which has no reserve) ends
with a refused person: that person stays in the sample as a nonrespondent of their cell,
so the nonresponse adjustment carries their weight over to the cell's respondents instead
of losing it. Within a group every person has the same probability, so which refused row
stands for an empty slot changes no weight. The report counts both kinds of refusal.

Re-weighting (:func:`reweight`): a closed campaign's weights can be computed again with
other margins or another trimming bound by its managers. All or nothing: refused options
change nothing; otherwise the weights are replaced, a new snapshot is frozen (the earlier
ones stay as they were, readable), the campaign points at it, and the run is added to the
campaign's history (:class:`~survey.campaigns.models.CampaignWeighting`, run 1 = the
close). A published earlier snapshot stays what the public sees until an administrator
publishes the new one.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

import analysis
from survey.campaigns.models import (
    Campaign,
    CampaignDraw,
    CampaignStatus,
    CampaignWeight,
    CampaignWeighting,
    FrameRow,
    SamplingFrame,
)
from survey.collection.models import Answer, Response
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultSnapshot
from survey.results.services import snapshots

MIN_CELL = 2
MARGIN_LINE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*:\s*(.+)$")


@dataclass(frozen=True)
class CloseOptions:
    """The analyst's choices: margins (item id → answer value → population total) and the
    trimming bound (a multiple of the mean weight; None: no trimming)."""

    margins: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    trim: float | None = None


@dataclass
class Person:
    frame_row_id: int
    unit_id: int
    stratum: str
    cluster: str | None
    probability: float
    response_id: int | None
    clusters: int | None = None  # two-stage draws: clusters in the stratum
    cluster_size: int | None = None  # and persons in the person's cluster
    refused: bool = False  # a refusal left without replacement (a nonrespondent)


@dataclass
class Weights:
    """The computed weights (respondents only) and the report."""

    rows: list[dict[str, Any]]
    report: dict[str, Any]


def parse_margins(text: str) -> dict[str, dict[str, float]]:
    """``gioi_tinh: 1=5200, 2=5800`` one item a line → {item: {value: total}}; refused with
    a message naming the line when it does not read."""
    out: dict[str, dict[str, float]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = MARGIN_LINE.match(line)
        if match is None:
            raise ServiceError(_("Line %(n)d of the margins does not read as “item: "
                                 "value=total, value=total”.", n=number), "margins")
        totals: dict[str, float] = {}
        for part in match.group(2).split(","):
            value, sep, total = part.partition("=")
            try:
                number_total = float(total.strip().replace(" ", ""))
            except ValueError:
                number_total = math.nan
            if not sep or not value.strip() or not math.isfinite(number_total):
                raise ServiceError(_("Line %(n)d of the margins does not read as “item: "
                                     "value=total, value=total”.", n=number), "margins")
            totals[value.strip()] = number_total
        out[match.group(1)] = totals
    return out


def _check_margins(margins: Mapping[str, Mapping[str, float]]) -> None:
    sums = []
    for item, totals in margins.items():
        if not totals:
            raise ServiceError(_("The margin of %(item)s has no category.", item=item),
                               "margins")
        if any(t < 0 for t in totals.values()):
            raise ServiceError(_("Population totals cannot be negative (%(item)s).",
                                 item=item), "margins")
        sums.append(sum(totals.values()))
    if sums and max(sums) - min(sums) > 1e-9 * max(sums):
        raise ServiceError(_("The margins do not add up to the same population total: %(sums)s.",
                             sums=", ".join(f"{s:,.0f}" for s in sums)), "margins")
    if sums and sums[0] <= 0:
        raise ServiceError(_("The margins' population total must be positive."), "margins")


def sampled_persons(campaign: Campaign) -> list[Person]:
    """The persons of the campaign's sample and their response, if any: the selected
    (replacements included, in their original's slot), and a refused person for each
    slot left empty after its reserve ran out (a nonrespondent; see the module text)."""
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    query = (select(FrameRow.id, FrameRow.unit_id, FrameRow.stratum, FrameRow.cluster,
                    FrameRow.selection_probability, Response.id, FrameRow.stage1_population,
                    FrameRow.stage2_population, FrameRow.status, FrameRow.reserve_rank)
             .outerjoin(Response, (Response.token_id == FrameRow.token_id)
                        & (Response.campaign_id == campaign.id)
                        & FrameRow.token_id.is_not(None) & Response.counts_in_indices)
             .where(FrameRow.frame_id.in_(frame_id),
                    FrameRow.status.in_(("selected", "refused")))
             .order_by(FrameRow.id))
    people: list[Person] = []
    slots: dict[tuple[int, str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    refused: dict[tuple[int, str, str | None], list[tuple[int, Person]]] = defaultdict(list)
    for i, u, s, c, p, r, n1, n2, status, rank in db.session.execute(query):
        # the replacement group: the cluster after a two-stage draw, else the stratum
        group = (int(u), s or "", c if n1 is not None else None)
        person = Person(int(i), int(u), s or "", c, float(p or 1.0),
                        int(r) if r is not None and status == "selected" else None, n1, n2,
                        refused=status == "refused")
        slots[group][0] += rank is None  # drawn as selected (not from the reserve)
        if status == "selected":
            slots[group][1] += 1
            people.append(person)
        else:
            refused[group].append((-(rank or 0), person))
    for group, persons in refused.items():
        empty = slots[group][0] - slots[group][1]
        people += [person for _key, person in sorted(
            persons, key=lambda kp: (kp[0], kp[1].frame_row_id))[:max(empty, 0)]]
    return sorted(people, key=lambda p: p.frame_row_id)


def _frame_counts(campaign: Campaign) -> dict[tuple[int, str], int]:
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    return {(int(u), s or ""): int(n) for u, s, n in db.session.execute(
        select(FrameRow.unit_id, FrameRow.stratum, func.count())
        .where(FrameRow.frame_id.in_(frame_id)).group_by(FrameRow.unit_id, FrameRow.stratum))}


def _cells(people: list[Person], key: Any) -> tuple[dict[Any, Any], list[dict[str, str]]]:
    """Each stratum's cell: strata with fewer than MIN_CELL respondents are merged into a
    neighbour (the next stratum of the same unit, else the previous one, else the next
    cell in order) until every cell has enough or one cell is left."""
    strata = sorted({key(p) for p in people})
    cell_of = {s: s for s in strata}
    respondents: dict[Any, int] = defaultdict(int)
    for p in people:
        if p.response_id is not None:
            respondents[key(p)] += 1
    collapsed: list[dict[str, str]] = []
    while True:
        cells = sorted(set(cell_of.values()))
        counts = {c: sum(respondents[s] for s in strata if cell_of[s] == c) for c in cells}
        small = [c for c in cells if counts[c] < MIN_CELL]
        if not small or len(cells) == 1:
            return cell_of, collapsed
        cell = small[0]
        others = [c for c in cells if c != cell]
        same_unit = [c for c in others if c[0] == cell[0]]
        pool = same_unit or others
        after = [c for c in pool if c > cell]
        into = after[0] if after else pool[-1]
        for s in strata:
            if cell_of[s] == cell:
                cell_of[s] = into
        collapsed.append({"cell": _label(cell), "into": _label(into)})


def _label(key: tuple[int, str]) -> str:
    return f"{key[0]}:{key[1]}" if key[1] else str(key[0])


def compute(campaign: Campaign, options: CloseOptions) -> Weights:
    """The weights and the report (nothing written); refused in Vietnamese when the
    campaign has no respondent or the margins cannot be met."""
    _check_margins(options.margins)
    if options.trim is not None and not 1.0 < options.trim <= 100:
        raise ServiceError(_("The trimming bound must be a multiple of the mean weight "
                             "above 1 (e.g. 3.5)."), "trim")
    people = sampled_persons(campaign)
    respondents = [p for p in people if p.response_id is not None]
    if not respondents:
        raise ServiceError(_("No sampled person has answered yet: the campaign cannot be "
                             "closed without responses."))
    def key(p: Person) -> tuple[int, str]:
        return (p.unit_id, p.stratum)

    cell_of, collapsed = _cells(people, key)
    base = np.array([1.0 / p.probability for p in people])
    responded = np.array([p.response_id is not None for p in people])
    cells = [_label(cell_of[key(p)]) for p in people]
    adjusted_all = analysis.nonresponse_adjustment(base, cells, responded)
    frame_counts = _frame_counts(campaign)
    # The draw takes persons (frame rows) within unit × frame stratum in one stage, so the
    # person is the PSU whatever the clusters; with equal-probability draws the fpc is the
    # stratum's frame count, with PPS none (with-replacement variance: conservative).
    method = db.session.scalar(select(CampaignDraw.method).where(
        CampaignDraw.campaign_id == campaign.id))
    with_fpc = method != "pps"
    # A two-stage draw (clusters, then persons in each): psu = the cluster with fpc = the
    # clusters in the stratum (none after PPS), psu2 = the person with fpc2 = the persons
    # in the cluster.
    two = all(p.clusters is not None for p in people)
    data = pd.DataFrame({
        "response_id": [p.response_id for p in respondents],
        "frame_row_id": [p.frame_row_id for p in respondents],
        "stratum": [f"campaign:{campaign.id}:{_label(key(p))}" for p in respondents],
        "cell": [c for c, r in zip(cells, responded, strict=True) if r],
        "psu": [f"{_label(key(p))}:{p.cluster or ''}" if two else str(p.frame_row_id)
                for p in respondents],
        "psu2": [str(p.frame_row_id) if two else None for p in respondents],
        "fpc": [(p.clusters if two else frame_counts.get(key(p))) if with_fpc else None
                for p in respondents],
        "fpc2": [p.cluster_size if two else None for p in respondents],
        "base": base[responded], "adjusted": adjusted_all[responded]})
    final = data["adjusted"].to_numpy(dtype=float)
    raked: dict[str, dict[str, float]] = {}
    if options.margins:
        final = _rake(data, options.margins)
        raked = {k: dict(v) for k, v in options.margins.items()}
    trimmed = 0
    upper = None
    if options.trim is not None:
        upper = options.trim * float(final.mean())
        trimmed = int((final > upper).sum())
        if trimmed:
            design = analysis.SurveyDesign(data.assign(w=final), weights="w")
            final = analysis.trim_weights(design, upper=upper).weights
    data["final"] = final
    report = _report(campaign, people, data, collapsed, raked, options.trim, upper, trimmed,
                     frame_counts)
    unreplaced = sum(1 for p in people if p.refused)
    report.update(draw_method=method, fpc=with_fpc, two_stage=two, refusals={
        "replaced": _refused_rows(campaign) - unreplaced, "unreplaced": unreplaced})
    return Weights(data.to_dict("records"), report)


def _refused_rows(campaign: Campaign) -> int:
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    return int(db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.frame_id.in_(frame_id), FrameRow.status == "refused")) or 0)


def _rake(data: pd.DataFrame, margins: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    ids = [int(i) for i in data["response_id"]]
    frame = data.copy()
    for item, totals in margins.items():
        answers = {int(r): v for r, v in db.session.execute(
            select(Answer.response_id, Answer.value_num).where(
                Answer.response_id.in_(ids), Answer.item_id == item,
                Answer.value_num.is_not(None)))}
        if len(answers) < len(ids):
            raise ServiceError(_("Not every respondent answered %(item)s: rake only on an "
                                 "item every respondent answered.", item=item), "margins")
        values = [_value_text(answers[i]) for i in ids]
        unknown = sorted(set(values) - set(totals))
        if unknown:
            raise ServiceError(_("The margin of %(item)s has no total for the answer(s) "
                                 "%(values)s.", item=item, values=", ".join(unknown)),
                               "margins")
        empty = [v for v, t in totals.items() if t > 0 and v not in set(values)]
        if empty:
            raise ServiceError(_("No respondent gave the answer %(values)s to %(item)s: its "
                                 "total cannot be met.", item=item, values=", ".join(empty)),
                               "margins")
        frame[f"m.{item}"] = values
    design = analysis.SurveyDesign(frame.assign(w=frame["adjusted"]), weights="w")
    try:
        raked = analysis.rake(design, {f"m.{k}": dict(v) for k, v in margins.items()})
    except analysis.ConvergenceError as exc:
        raise ServiceError(_("Raking did not converge: these respondents cannot meet all the "
                             "margins at once (they contradict each other). Check the "
                             "totals, or rake on fewer items."), "margins") from exc
    except ValueError as exc:
        raise ServiceError(_("The weights cannot be raked to these margins: %(why)s",
                             why=str(exc)), "margins") from exc
    return np.asarray(raked.weights, dtype=float)


def _value_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _report(campaign: Campaign, people: list[Person], data: pd.DataFrame,
            collapsed: list[dict[str, str]], raked: dict[str, dict[str, float]],
            trim: float | None, upper: float | None, trimmed: int,
            frame_counts: dict[tuple[int, str], int]) -> dict[str, Any]:
    w = data["final"].to_numpy(dtype=float)
    diag = analysis.weight_diagnostics(w)
    q1, median, q3 = (float(x) for x in np.quantile(w, [0.25, 0.5, 0.75]))
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({p.unit_id for p in people}))).all())
    per: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for p in people:
        per[(p.unit_id, p.stratum)][0] += 1
        per[(p.unit_id, p.stratum)][1] += p.response_id is not None
    keyed = db.session.scalar(select(func.count()).select_from(Response).where(
        Response.campaign_id == campaign.id, Response.counts_in_indices)) or 0
    return {
        "respondents": int(len(w)), "selected": len(people),
        "response_rate": len(w) / len(people) if people else None,
        "outside_sample": int(keyed) - int(len(w)),
        "weights": {"min": diag.min, "q1": q1, "median": median, "q3": q3, "max": diag.max,
                    "mean": diag.mean, "total": diag.total, "cv": diag.cv,
                    "kish_deff": diag.kish_deff, "n_effective": diag.n_effective},
        "base_total": float(data["base"].sum()), "adjusted_total": float(data["adjusted"].sum()),
        "min_cell": MIN_CELL, "cells_collapsed": collapsed,
        "cells": int(data["cell"].nunique()),
        "raked_to": raked, "trim": trim, "trim_upper": upper, "trimmed": trimmed,
        "strata": [{"unit": names.get(u, str(u)), "stratum": s, "frame": frame_counts.get((u, s)),
                    "selected": n, "respondents": r}
                   for (u, s), (n, r) in sorted(per.items(),
                                                key=lambda kv: (names.get(kv[0][0], ""),
                                                                kv[0][1]))],
        "stages": campaign.stages,
    }


@use_case
def close_campaign(campaign: Campaign, options: CloseOptions, actor: str) -> ResultSnapshot:
    """Fieldwork → closed: the weights stored on each response, the report on the
    campaign, a snapshot queued for its results, run 1 of the weighting history (one
    commit). Refused, nothing written, when the campaign is not in fieldwork, has no
    respondent, or the margins are bad."""
    if campaign.status != CampaignStatus.fieldwork.value:
        raise ServiceError(_("Only a campaign in fieldwork can be closed."))
    snapshot = _store(campaign, compute(campaign, options), options, actor)
    campaign.status = CampaignStatus.closed.value
    commit_or_refuse()
    return snapshot


@use_case
def reweight_campaign(campaign: Campaign, options: CloseOptions, actor: str) -> ResultSnapshot:
    """A closed campaign weighted again with other options: its weights replaced, a new
    snapshot queued (the earlier ones kept as they are), the run added to the history (one
    commit). Refused, nothing written, when the campaign is not closed or the options are
    refused (bad margins, raking that does not converge)."""
    if campaign.status != CampaignStatus.closed.value:
        raise ServiceError(_("Only a closed campaign can be weighted again."))
    weights = compute(campaign, options)
    db.session.execute(delete(CampaignWeight).where(CampaignWeight.campaign_id == campaign.id))
    snapshot = _store(campaign, weights, options, actor)
    commit_or_refuse()
    return snapshot


def _store(campaign: Campaign, weights: Weights, options: CloseOptions,
           actor: str) -> ResultSnapshot:
    for row in weights.rows:
        db.session.add(CampaignWeight(
            campaign_id=campaign.id, response_id=int(row["response_id"]),
            frame_row_id=int(row["frame_row_id"]), stratum=row["stratum"], cell=row["cell"],
            psu=row["psu"], fpc=None if pd.isna(row["fpc"]) else int(row["fpc"]),
            psu2=row["psu2"], fpc2=None if pd.isna(row["fpc2"]) else int(row["fpc2"]),
            base=float(row["base"]), adjusted=float(row["adjusted"]),
            final=float(row["final"])))
    snapshot = snapshots.queue_for_campaign(campaign.id, campaign.period_start,
                                            campaign.period_end, actor)
    last = db.session.scalar(select(func.max(CampaignWeighting.run)).where(
        CampaignWeighting.campaign_id == campaign.id)) or 0
    db.session.add(CampaignWeighting(
        campaign_id=campaign.id, run=int(last) + 1, options=options_json(options),
        report=weights.report, snapshot_id=snapshot.id, weighted_by=actor))
    campaign.weighting_report = weights.report
    campaign.snapshot_id = snapshot.id
    return snapshot


def options_json(options: CloseOptions) -> dict[str, Any]:
    return {"margins": {k: dict(v) for k, v in options.margins.items()}, "trim": options.trim}


def close(campaign: Campaign, options: CloseOptions, actor: str) -> ResultSnapshot:
    """Close the campaign, then compute its snapshot (the engine's own transaction; a
    failure is stored on the snapshot, the campaign stays closed with its weights)."""
    snapshot = close_campaign(campaign, options, actor)
    return snapshots.run(snapshot.id)


def reweight(campaign: Campaign, options: CloseOptions, actor: str) -> ResultSnapshot:
    """Weight the closed campaign again, then compute its new snapshot (as :func:`close`:
    a failure is stored on the snapshot, the new weights stay; run it again to retry)."""
    snapshot = reweight_campaign(campaign, options, actor)
    return snapshots.run(snapshot.id)


def snapshot_of(campaign: Campaign) -> ResultSnapshot | None:
    """The snapshot of the campaign's newest weighting run (the one results pages of the
    campaign should show; earlier runs' snapshots stay readable by their id)."""
    if campaign.snapshot_id is None:
        return None
    return db.session.get(ResultSnapshot, campaign.snapshot_id)


def history(campaign: Campaign) -> list[CampaignWeighting]:
    """The campaign's weighting runs, the newest first."""
    return list(db.session.scalars(select(CampaignWeighting).where(
        CampaignWeighting.campaign_id == campaign.id).order_by(CampaignWeighting.run.desc())))


@dataclass(frozen=True)
class Run:
    """One weighting run as the weights page lists it."""

    run: int
    weighted_by: str
    weighted_at: Any
    margins: dict[str, dict[str, float]]
    trim: float | None
    report: dict[str, Any] | None
    snapshot_id: int | None
    snapshot_status: str | None
    published: bool


@dataclass(frozen=True)
class History:
    runs: list[Run]  # the newest first
    # a run's snapshot the public still sees while the newest run's is not published
    public_snapshot_id: int | None


def runs_of(campaign: Campaign) -> History:
    """The history with each run's snapshot (status, published), and which older snapshot
    the public page still shows when the newest is not published."""
    rows = history(campaign)
    snaps = {s.id: s for s in db.session.scalars(select(ResultSnapshot).where(
        ResultSnapshot.id.in_({r.snapshot_id for r in rows if r.snapshot_id is not None})))}
    runs = []
    for r in rows:
        snap = snaps.get(r.snapshot_id) if r.snapshot_id is not None else None
        runs.append(Run(r.run, r.weighted_by, r.weighted_at,
                        dict((r.options or {}).get("margins") or {}),
                        (r.options or {}).get("trim"), r.report, r.snapshot_id,
                        snap.status if snap is not None else None,
                        bool(snap is not None and snap.published)))
    public = None
    if runs and not runs[0].published:
        public = next((r.snapshot_id for r in runs[1:] if r.published), None)
    return History(runs, public)


def current_options(campaign: Campaign) -> CloseOptions:
    """The options of the newest run (read back from the report for a campaign closed
    before the history was kept)."""
    runs = history(campaign)
    stored: dict[str, Any] = runs[0].options if runs else {
        "margins": (campaign.weighting_report or {}).get("raked_to") or {},
        "trim": (campaign.weighting_report or {}).get("trim")}
    return CloseOptions({k: dict(v) for k, v in (stored.get("margins") or {}).items()},
                        stored.get("trim"))


def margins_text(margins: Mapping[str, Mapping[str, float]]) -> str:
    """The margins as the form takes them (the inverse of :func:`parse_margins`)."""
    return "\n".join(f"{item}: " + ", ".join(f"{v}={_number(t)}" for v, t in totals.items())
                     for item, totals in margins.items())


def _number(total: float) -> str:
    return str(int(total)) if float(total).is_integer() else repr(float(total))


def weights_of(campaign: Campaign) -> list[CampaignWeight]:
    return list(db.session.scalars(select(CampaignWeight).where(
        CampaignWeight.campaign_id == campaign.id).order_by(CampaignWeight.response_id)))
