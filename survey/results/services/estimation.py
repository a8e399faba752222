"""Every index of every unit: for each questionnaire version and channel basis, every
node of the index tree (components, contents, overall) and every item held by a share node
(rule ``item``: the share satisfied on that one question) for every unit's subtree
(a domain on the full design, so a department's, a sector's or the province's figure
uses the whole sample's design), for every service point (domain ``point``, the same way:
a unit's page breaks its figure down by desk or department) and for every sector, through
:mod:`analysis`.

No estimate mixes a probability and a non-probability channel: the tokens and the open
channels are estimated separately, each with its own design
(:mod:`survey.results.services.designs`). Proportions get a logit interval, mean scores
a Wald one (t with the design's degrees of freedom); the method is recorded on each row.

How a node is estimated (the leaves are the item columns of the microdata, 1 when
satisfied under the share node holding the item):

- ``share_at_least`` / ``share_in`` (items pooled, the default) and ``mean`` /
  ``weighted_mean`` of such nodes: a satisfaction index with the tree's weights carried
  down to the items (``analysis.satisfaction_index``); a child without data in a domain
  is left out and named (flag ``partial``);
- ``share_at_least`` with answers pooled (Bộ Y tế "tỷ lệ hài lòng chung"): a ratio of
  each respondent's satisfied answers to their valid answers (``analysis.pooled_index``);
- ``mean_score``: a ratio of each respondent's score total to their valid answers
  (``analysis.mean_score``);
- ``comprehensive``: the share of respondents whose rated items are all satisfied
  (``analysis.mean`` of the 0/1 node value);
- a mean over children of other kinds cannot be written as one estimator of the items:
  it is reported with the flag ``not_estimable`` and no value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

import questionnaires as q
from survey.extensions import db
from survey.org.models import ServicePoint, Unit
from survey.results.services import designs
from survey.results.services.microdata import Layout, Microdata

if TYPE_CHECKING:
    import pandas as pd

    import analysis

PROPORTION_METHOD = "logit"
MEAN_METHOD = "wald"
ROW_FIELDS = ("domain", "unit_id", "unit_code", "unit_name", "sector", "basis", "probability",
              "questionnaire", "node", "rule", "estimate", "se", "ci_low", "ci_high", "n",
              "n_eff", "deff", "df", "method", "publication", "flags")


@dataclass(frozen=True)
class Plan:
    kind: str  # index | pooled | mean_score | proportion | not_estimable
    columns: tuple[str, ...] = ()
    weights: dict[str, float] | None = None
    why: str = ""


def share_weights(defn: q.Definition, node_id: str,
                  indicator_of: dict[str, str]) -> dict[str, float] | None:
    """Weights on item indicator columns that make ``node_id`` a satisfaction index, or
    None when the node is not a (weighted) mean of item-pooled share nodes."""
    node = defn.index.node(node_id)
    if node.rule in ("share_at_least", "share_in"):
        if node.pooling == "answers":
            return None
        # The item's column holds its indicator under its first share node only.
        if any(indicator_of.get(c) != node_id for c in node.children):
            return None
        return {c: 1.0 / len(node.children) for c in node.children}
    if node.rule in ("mean", "weighted_mean"):
        weights = node.weights or tuple(1.0 / len(node.children) for _ in node.children)
        out: dict[str, float] = {}
        for w, child in zip(weights, node.children, strict=True):
            below = share_weights(defn, child, indicator_of) if defn.index.is_node(child) \
                else None
            if below is None:
                return None
            for item, v in below.items():
                out[item] = out.get(item, 0.0) + w * v
        return out
    return None


def item_plans(lay: Layout, node_id: str) -> list[tuple[str, Plan]]:
    """The items of a share node whose indicator column is held under it (an item under
    several share nodes is estimated once, under its first): each a satisfaction index of
    the single item, i.e. the share of respondents satisfied on that question among those
    who answered it (N/A and blank left out)."""
    return [(item, Plan("index", (item,), {item: 1.0}))
            for item, holder in lay.indicator_of.items() if holder == node_id]


def plan(lay: Layout, node_id: str) -> Plan:
    defn = lay.definition
    node = defn.index.node(node_id)
    if node.rule in ("share_at_least", "share_in") and node.pooling == "answers":
        if all(lay.indicator_of.get(c) for c in node.children):
            return Plan("pooled", tuple(node.children))
        return Plan("not_estimable", why="items without a share rule")
    if node.rule == "mean_score":
        return Plan("mean_score", tuple(f"score.{c}" for c in node.children))
    if node.rule == "comprehensive":
        return Plan("proportion", (node_id,))
    weights = share_weights(defn, node_id, lay.indicator_of)
    if weights is None:
        return Plan("not_estimable", why="a mean over children of different kinds")
    return Plan("index", tuple(weights), weights)


@dataclass
class Frame:
    """The columns estimation needs, for one questionnaire version and channel basis."""

    lay: Layout
    basis: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def row_frames(micro: Microdata) -> dict[tuple[str, int, str], Frame]:
    """The estimation frames from the microdata rows, one Python step per response (the
    reference the column-wise :func:`survey.results.services.frames.frames` is tested
    against)."""
    out: dict[tuple[str, int, str], Frame] = {}
    for row in micro.rows():
        key = (row["questionnaire"], int(row["version"]), row["basis"])
        frame = out.get(key)
        if frame is None:
            frame = out[key] = Frame(micro.layouts[key[:2]], key[2])
        defn = frame.lay.definition
        for node in defn.index.nodes:
            if node.rule == "mean_score":
                for item in node.children:
                    raw = row.get(f"answer.{item}", "")
                    row[f"score.{item}"] = float(raw) if raw not in ("", "na") else math.nan
        frame.rows.append(row)
    return out


def _domains(df: pd.DataFrame, units: dict[int, Unit], scope_root: Unit | None) -> list[str]:
    """Add one domain column per tree depth (the ancestor of the response's unit at that
    depth) and return their names. Ancestors above the scope root are left out."""
    paths = {uid: [int(p) for p in units[uid].path.strip("/").split("/")] for uid in units}
    floor = len(paths[scope_root.id]) - 1 if scope_root is not None else 0
    depth = max(len(p) for p in paths.values())
    names = []
    for d in range(floor, depth):
        name = f"dom{d}"
        df[name] = [str(paths[u][d]) if len(paths[u]) > d else "" for u in df["unit_id"]]
        names.append(name)
    return names


def _estimate(design: analysis.SurveyDesign, p: Plan, by: str) -> analysis.Estimates:
    # analysis (scipy, statsmodels) is imported when a snapshot is computed, not when the
    # app starts: every worker and CLI call would pay ~2.5 s for it.
    if p.kind == "index":
        return design.satisfaction_index(list(p.columns), threshold=1, item_weights=p.weights,
                                         by=by)
    if p.kind == "pooled":
        return design.pooled_index(list(p.columns), threshold=1, by=by)
    if p.kind == "mean_score":
        return design.mean_score(list(p.columns), by=by)
    return design.mean(p.columns[0], by=by)


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _rows_of(est: analysis.Estimates, p: Plan, by: str, label: Callable[[str], dict[str, Any]],
             common: dict[str, Any]) -> Iterable[dict[str, Any]]:
    import analysis

    method = PROPORTION_METHOD if est.is_proportion else MEAN_METHOD
    summary = est.summary_frame(method=method, flags=True)  # type: ignore[arg-type]
    flag_names = [c for c in analysis.FLAG_COLUMNS if c in summary.columns]
    columns = {c: summary[c].to_numpy() for c in summary.columns}
    for i in range(len(summary)):
        key = str(columns[by][i])
        if key == "":
            continue
        raised = [f for f in flag_names if bool(columns[f][i])]
        missing = columns["missing_children"][i] if "missing_children" in columns else ()
        if missing:
            raised.append("missing:" + "+".join(missing))
        if not common["probability"]:
            raised.append("non_probability")
        yield {**common, **label(key), "estimate": _num(columns["estimate"][i]),
               "se": _num(columns["se"][i]), "ci_low": _num(columns["ci_low"][i]),
               "ci_high": _num(columns["ci_high"][i]), "n": int(columns["n"][i]),
               "n_eff": _num(columns["n_eff"][i]), "deff": _num(columns["deff"][i]),
               "df": _num(columns["df"][i]), "method": method,
               "publication": str(columns["publication"][i]),
               "flags": ",".join(raised)}


def _point_keys(values: Iterable[Any]) -> list[str]:
    """The service point of each response as a domain key ("" for none: left out)."""
    return ["" if v is None or v != v else str(int(v)) for v in values]


def _points(data: dict[tuple[str, int, str], pd.DataFrame]) -> dict[int, ServicePoint]:
    wanted = {int(k) for df in data.values() for k in _point_keys(df["service_point_id"]) if k}
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(
        select(ServicePoint).where(ServicePoint.id.in_(sorted(wanted))))}


def estimate_all(micro: Microdata, units: dict[int, Unit],
                 progress: Callable[[str, int, int], None] | None = None, *,
                 data: dict[tuple[str, int, str], pd.DataFrame] | None = None,
                 with_points: bool = True) -> list[dict[str, Any]]:
    """Every row of a snapshot (see :data:`ROW_FIELDS`), in a stable order, from the
    column-wise frames (or ``data``, frames built another way): per node, every unit's
    subtree, then every service point (domain ``point``, unless ``with_points`` is false),
    then every sector."""

    import analysis

    scope_root = units.get(micro.selection.scope_unit_id or -1)
    out: list[dict[str, Any]] = []
    if data is None:
        from survey.results.services.frames import frames

        data = {k: f.data for k, f in frames(micro)[0].items()}
    grouped = sorted(data.items())
    points = _points(data) if with_points else {}

    def point_label(k: str) -> dict[str, Any]:
        # A service point is a domain on the full design too; its row names the point and
        # carries its unit (whose scope decides who reads it).
        point = points[int(k)]
        unit = units[point.unit_id]
        return {"domain": "point", "unit_id": unit.id, "unit_code": unit.code,
                "unit_name": point.name, "sector": unit.sector}

    total = sum(len(micro.layouts[k[:2]].definition.index.nodes)
                + len(micro.layouts[k[:2]].indicator_of) for k, _ in grouped)
    step = 0
    for (key, version, basis), df in grouped:
        df = df.copy()
        lay = micro.layouts[(key, version)]
        doms = _domains(df, units, scope_root)
        df["point"] = _point_keys(df["service_point_id"])
        # The finite-population correction only when every stratum has its frame count
        # (a dossier completed before the period and answered in it leaves a stratum
        # without one): without it the variance is slightly overstated, never understated.
        fpc = "fpc" if df["fpc"].notna().all() else None
        # Campaign samples name their PSUs (persons or clusters); elsewhere each response
        # is its own PSU.
        psu = "psu" if basis.startswith("campaign:") else None
        design = (campaign_two_stage(df) if psu and two_stage(df) else
                  analysis.SurveyDesign(df, strata="stratum", weights="weight", fpc=fpc,
                                        psu=psu, lonely_psu="adjust"))
        questionnaire = f"{key} v{version}"
        common0 = {"basis": basis, "probability": bool(df["probability"].iloc[0]),
                   "questionnaire": questionnaire}
        for node in lay.definition.index.nodes:
            step += 1
            if progress is not None:
                progress(f"{questionnaire} · {basis} · {node.id}", step, total)
            p = plan(lay, node.id)
            common = {**common0, "node": node.id, "rule": node.rule}
            if p.kind != "not_estimable":
                out.extend(_domain_rows(design, p, doms, units, common,
                                        point_label if with_points else None))
            # The node's questions, one by one (rule ``item``; no service point rows: the
            # unit pages break only the overall index down by point).
            for item, item_plan in item_plans(lay, node.id):
                step += 1
                if progress is not None:
                    progress(f"{questionnaire} · {basis} · {item}", step, total)
                out.extend(_domain_rows(design, item_plan, doms, units,
                                        {**common0, "node": item, "rule": "item"}, None))
    return out


def two_stage(df: pd.DataFrame) -> bool:
    """Whether a campaign's frame holds a complete two-stage design
    (:data:`designs.TWO_STAGE_COLUMNS` on every row)."""
    return all(c in df.columns and df[c].notna().all() for c in designs.TWO_STAGE_COLUMNS)


def campaign_two_stage(df: pd.DataFrame) -> analysis.SurveyDesign:
    """The multistage design of a two-stage campaign: stage 1 the clusters within the
    strata (fpc = clusters in the stratum), stage 2 the persons within each cluster (fpc =
    persons in the cluster), R's ``svydesign(ids = ~psu + psu2, strata = ~stratum,
    fpc = ~fpc + fpc2, weights = ~weight, nest = TRUE)`` with its recursive variance
    (``svyrecvar``): a cluster taken with certainty contributes its within-cluster
    variance."""
    import analysis

    return analysis.SurveyDesign(df, strata="stratum", weights="weight", psu=["psu", "psu2"],
                                 fpc=["fpc", "fpc2"], lonely_psu="adjust")


def _domain_rows(design: analysis.SurveyDesign, p: Plan, doms: list[str],
                 units: dict[int, Unit], common: dict[str, Any],
                 point_label: Callable[[str], dict[str, Any]] | None
                 ) -> list[dict[str, Any]]:
    """One estimate's rows: every unit's subtree, then every service point (when
    ``point_label`` is given), then every sector."""
    out: list[dict[str, Any]] = []

    def unit_label(k: str) -> dict[str, Any]:
        unit = units[int(k)]
        return {"domain": "unit", "unit_id": unit.id, "unit_code": unit.code,
                "unit_name": unit.name, "sector": unit.sector}

    for name in doms:
        out.extend(_rows_of(_estimate(design, p, name), p, name, unit_label, common))
    if point_label is not None:
        out.extend(_rows_of(_estimate(design, p, "point"), p, "point", point_label, common))
    out.extend(_rows_of(
        _estimate(design, p, "sector"), p, "sector",
        lambda k: {"domain": "sector", "unit_id": None, "unit_code": None,
                   "unit_name": k, "sector": k}, common))
    return out
