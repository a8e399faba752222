"""What the results overview shows, read from a frozen snapshot (never from responses):
the province's overall index and its components with their intervals, each agency
against its sector's target, the agencies significantly below it, the change since the
previous period with its significance, and coverage.

Targets default to the provincial reform plans' figures — over 90 % satisfied with
administrative agencies, over 85 % with public health and education — and can be set per
sector in ``RESULTS_TARGETS``. An agency is *significantly below* its target when its
whole 95 % confidence interval lies below it (a one-sided test at 2.5 %), *above* when the
whole interval lies above, and otherwise not distinguishable from it. Suppressed figures
(NCHS 2017 rules) are never classified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.campaigns.models import Campaign
from survey.common.access import Scope
from survey.common.errors import NotFound
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import snapshots
from survey.results.services.designs import campaign_design_vi
from survey.results.services.microdata import layout
from survey.results.services.periods import parse_period, previous

DEFAULT_TARGETS = {"administrative": 0.90, "health": 0.85, "education": 0.85, "other": 0.85}


def targets() -> dict[str, float]:
    return {**DEFAULT_TARGETS, **(current_app.config.get("RESULTS_TARGETS") or {})}


@dataclass(frozen=True)
class Change:
    """The difference from the previous period: independent samples, SE of a difference
    ``sqrt(se1² + se2²)``, t with the smaller df (``analysis.Comparison``)."""

    previous: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


@dataclass
class Line:
    row: ResultRow
    target: float | None = None
    change: Change | None = None

    @property
    def suppressed(self) -> bool:
        return self.row.publication == "suppress" or self.row.estimate is None

    @property
    def status(self) -> str:
        """``below`` / ``above`` the target (whole CI on one side), ``level`` (CI covers it),
        ``suppressed``, or ``none`` (no target)."""
        r = self.row
        if self.suppressed or r.ci_low is None or r.ci_high is None:
            return "suppressed"
        if self.target is None:
            return "none"
        if r.ci_high < self.target:
            return "below"
        if r.ci_low > self.target:
            return "above"
        return "level"


@dataclass
class Panel:
    """One questionnaire and channel basis of the snapshot."""

    questionnaire: str
    basis: str
    probability: bool
    overall: str
    title: str
    province: list[Line] = field(default_factory=list)  # overall and its components
    units: list[Line] = field(default_factory=list)  # every unit's overall index

    def count(self, status: str) -> int:
        return sum(1 for line in self.units if line.status == status)

    @property
    def shown(self) -> list[Line]:
        """The units with a publishable figure (the chart); the rest are only counted."""
        return [line for line in self.units if not line.suppressed]


@dataclass
class Overview:
    snapshot: ResultSnapshot
    previous: ResultSnapshot | None
    panels: list[Panel]
    targets: dict[str, float]


def definition_of_label(label: str) -> Any:
    key, _, version = label.partition(" v")
    row = db.session.scalar(select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == key, QuestionnaireVersion.version == int(version)))
    return questionnaire_versions.definition_of(row) if row is not None else None


def previous_snapshot(snapshot: ResultSnapshot) -> ResultSnapshot | None:
    before = previous(parse_period(snapshot.period))
    return db.session.scalar(select(ResultSnapshot).where(
        ResultSnapshot.period == before.label, ResultSnapshot.status == "done",
        ResultSnapshot.scope_unit_id.is_(snapshot.scope_unit_id)
        if snapshot.scope_unit_id is None
        else ResultSnapshot.scope_unit_id == snapshot.scope_unit_id)
        .order_by(ResultSnapshot.id.desc()))


def row_key(row: ResultRow) -> tuple[Any, ...]:
    return (row.domain, row.unit_id, row.unit_name, row.basis, row.questionnaire, row.node)


def add_changes(lines: Iterable[Line], before: dict[tuple[Any, ...], ResultRow]) -> None:
    import numpy as np
    import pandas as pd

    import analysis

    pairs = [(line, before[row_key(line.row)]) for line in lines
             if row_key(line.row) in before and not line.suppressed
             and before[row_key(line.row)].estimate is not None
             and line.row.se is not None and before[row_key(line.row)].se is not None]
    if not pairs:
        return
    now = np.array([(p.row.estimate, p.row.se, p.row.df or 0) for p, _ in pairs], dtype=float)
    old = np.array([(b.estimate, b.se, b.df or 0) for _, b in pairs], dtype=float)
    comparison = analysis.Comparison(
        keys=pd.DataFrame({"i": range(len(pairs))}), difference=now[:, 0] - old[:, 0],
        se=np.sqrt(now[:, 1] ** 2 + old[:, 1] ** 2), df=np.minimum(now[:, 2], old[:, 2]))
    ci = comparison.conf_int()
    p = comparison.p_value
    for i, (line, b) in enumerate(pairs):
        line.change = Change(float(b.estimate or 0), float(comparison.difference[i]),
                             float(ci[i, 0]), float(ci[i, 1]), float(p[i]))


def overview(scope: Scope, snapshot_id: int | None = None) -> Overview:
    """The overview of a snapshot (default: the newest finished one the scope sees)."""
    if snapshot_id is None:
        done = [s for s in snapshots.visible(scope) if s.status == "done"]
        if not done:
            raise NotFound("snapshot", "latest")
        snapshot = done[0]
    else:
        snapshot = snapshots.visible_one(scope, snapshot_id)
    rows = snapshots.rows_in_scope(scope, snapshot.id)
    before_snapshot = previous_snapshot(snapshot)
    before = {row_key(r): r for r in snapshots.rows_in_scope(scope, before_snapshot.id)} \
        if before_snapshot is not None else {}
    goal = targets()
    panels: dict[tuple[str, str], Panel] = {}
    definitions: dict[str, Any] = {}
    root_id = snapshot.scope_unit_id or db.session.scalar(
        select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    for row in rows:
        if row.questionnaire not in definitions:
            definitions[row.questionnaire] = definition_of_label(row.questionnaire)
        defn = definitions[row.questionnaire]
        if defn is None or row.domain != "unit":
            continue
        overall = defn.index.overall
        panel = panels.get((row.questionnaire, row.basis))
        if panel is None:
            panel = panels[(row.questionnaire, row.basis)] = Panel(
                row.questionnaire, row.basis, row.probability, overall,
                defn.index.node(overall).title.vi)
        if row.node == overall:
            panel.units.append(Line(row, goal.get(row.sector or "")))
    for (label, _basis), panel in panels.items():
        defn = definitions[label]
        # The headline unit: the snapshot's root when the viewer sees it, else the
        # viewer's unit with the most respondents.
        top = next((line.row.unit_id for line in panel.units if line.row.unit_id == root_id),
                   max(panel.units, key=lambda line: line.row.n).row.unit_id)
        components = {panel.overall, *defn.index.node(panel.overall).children}
        panel.province = [Line(r, goal.get(r.sector or "")) for r in rows
                          if r.domain == "unit" and r.unit_id == top and r.basis == panel.basis
                          and r.questionnaire == label and r.node in components
                          and r.rule != "item"]
        panel.units = [line for line in panel.units if line.row.unit_id != top]
    for panel in panels.values():
        panel.units.sort(key=lambda line: (line.suppressed, -(line.row.estimate or 0),
                                           line.row.unit_name))
        panel.province.sort(key=lambda line: line.row.node != panel.overall)
        add_changes([*panel.province, *panel.units], before)
    ordered = sorted(panels.values(), key=lambda p: (not p.probability, p.questionnaire))
    return Overview(snapshot, before_snapshot, ordered, goal)


def node_titles(label: str) -> dict[str, str]:
    """Vietnamese titles of a questionnaire version's index nodes."""
    defn = definition_of_label(label)
    return {n.id: n.title.vi for n in defn.index.nodes} if defn is not None else {}


@dataclass
class ItemLine:
    """One question under a share node: the share satisfied on it alone (rule ``item``)."""

    number: str | None  # its number on the form (A1, 9.23), when it has one
    text: str
    line: Line


@dataclass
class NodeLine:
    """One index node of a unit, indented by its depth in the tree, with its questions."""

    title: str
    depth: int
    line: Line
    items: list[ItemLine] = field(default_factory=list)


def item_lines(defn: Any, node_id: str, by_node: dict[str, ResultRow]) -> list[ItemLine]:
    """The item rows held by a share node, in the node's order, with the question text
    and number from the questionnaire definition. No target: targets are for indices."""
    held = layout(defn).indicator_of
    out = []
    for child in defn.index.node(node_id).children:
        row = by_node.get(child)
        if row is None or row.rule != "item" or held.get(child) != node_id:
            continue
        item = defn.item(child)
        out.append(ItemLine(item.number, item.text.vi, Line(row)))
    return out


def node_lines(defn: Any, by_node: dict[str, ResultRow], goal: float | None) -> list[NodeLine]:
    """The index tree's rows (overall first, depth-first), each with its questions."""
    titles = {n.id: n.title.vi for n in defn.index.nodes}
    return [NodeLine(titles[node_id], depth, Line(by_node[node_id], goal),
                     item_lines(defn, node_id, by_node))
            for node_id, depth in tree(defn)
            if node_id in by_node and by_node[node_id].rule != "item"]


@dataclass
class TrendPoint:
    period: str
    line: Line


@dataclass
class UnitPanel:
    questionnaire: str
    basis: str
    probability: bool
    nodes: list[NodeLine] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    points: list[Line] = field(default_factory=list)  # the overall index per service point
    children: list[Line] = field(default_factory=list)


@dataclass
class UnitPage:
    unit: Unit
    snapshot: ResultSnapshot
    panels: list[UnitPanel]

    @property
    def channels(self) -> list[tuple[UnitPanel, Line]]:
        """The overall index of each questionnaire and channel basis side by side (the
        breakdown by channel; never pooled)."""
        return [(panel, panel.nodes[0].line) for panel in self.panels
                if panel.nodes and panel.nodes[0].depth == 0]


def tree(defn: Any) -> list[tuple[str, int]]:
    """Node ids of the index tree, overall first, depth-first, with their depth."""
    out: list[tuple[str, int]] = []

    def walk(node_id: str, depth: int) -> None:
        out.append((node_id, depth))
        for child in defn.index.node(node_id).children:
            if defn.index.is_node(child):
                walk(child, depth + 1)

    walk(defn.index.overall, 0)
    seen = {n for n, _ in out}
    out.extend((n.id, 0) for n in defn.index.nodes if n.id not in seen)
    return out


def series(visible: list[ResultSnapshot], snapshot: ResultSnapshot) -> list[ResultSnapshot]:
    """The snapshots a trend is drawn from: per period of the same kind and scope as
    ``snapshot``, its newest finished one (``snapshot`` itself for its own period), oldest
    first."""
    kind = period_kind(snapshot.period)
    newest: dict[str, ResultSnapshot] = {}
    for s in visible:
        if s.status == "done" and period_kind(s.period) == kind \
                and s.scope_unit_id == snapshot.scope_unit_id:
            if s.period not in newest or s.id > newest[s.period].id:
                newest[s.period] = s
    newest[snapshot.period] = snapshot
    return sorted(newest.values(), key=lambda s: parse_period(s.period).start)


def trend(snapshots_: list[ResultSnapshot], where: Any, goal: float | None) -> list[TrendPoint]:
    """One row per snapshot (``where``: the clause naming the row), each with its change
    from the one before and that change's significance (independent samples)."""
    points = []
    for s in snapshots_:
        row = db.session.scalar(select(ResultRow).where(ResultRow.snapshot_id == s.id, where))
        if row is not None:
            points.append(TrendPoint(s.period, Line(row, goal)))
    for earlier, later in zip(points, points[1:], strict=False):
        add_changes([later.line], {row_key(later.line.row): earlier.line.row})
    return points


def by_estimate(line: Line) -> tuple[Any, ...]:
    """Published figures first, highest first, then by name."""
    return (line.suppressed, -(line.row.estimate or 0), line.row.unit_name)


def unit_page(scope: Scope, unit_id: int, snapshot_id: int | None = None) -> UnitPage:
    """A unit's indices in a snapshot (default: the newest finished one that has it), with
    the trend of its overall index over the finished snapshots of periods of the same kind,
    its overall index per service point and the indices of its sub-units."""
    unit = scope.get_unit(unit_id, "results")
    visible = [s for s in snapshots.visible(scope) if s.status == "done"]
    if snapshot_id is not None:
        snapshot = snapshots.visible_one(scope, snapshot_id)
    else:
        with_unit = [s for s in visible if db.session.scalar(
            select(ResultRow.id).where(ResultRow.snapshot_id == s.id,
                                       ResultRow.unit_id == unit.id).limit(1))]
        if not with_unit:
            raise NotFound("results of unit", unit_id)
        snapshot = with_unit[0]
    goal = targets().get(unit.sector)
    rows = [r for r in snapshots.rows_in_scope(scope, snapshot.id) if r.domain == "unit"]
    mine = [r for r in rows if r.unit_id == unit.id]
    # The unit's own service points (its scope was checked above).
    points = list(db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == snapshot.id, ResultRow.domain == "point",
        ResultRow.unit_id == unit.id)))
    children = {c.id for c in db.session.scalars(select(Unit).where(Unit.parent_id == unit.id))}
    periods = series(visible, snapshot)
    panels = []
    for label, basis in sorted({(r.questionnaire, r.basis) for r in mine},
                               key=lambda k: (k[1] != "tokens", k[0])):
        defn = definition_of_label(label)
        if defn is None:
            continue
        by_node = {r.node: r for r in mine if r.questionnaire == label and r.basis == basis}
        panel = UnitPanel(label, basis, next(iter(by_node.values())).probability)
        panel.nodes = node_lines(defn, by_node, goal)
        overall = defn.index.overall
        panel.trend = trend(periods, and_(
            ResultRow.unit_id == unit.id, ResultRow.domain == "unit",
            ResultRow.questionnaire == label, ResultRow.basis == basis,
            ResultRow.node == overall), goal)
        panel.points = sorted((Line(r, goal) for r in points if r.questionnaire == label
                               and r.basis == basis and r.node == overall), key=by_estimate)
        panel.children = sorted(
            (Line(r, targets().get(r.sector or "")) for r in rows
             if r.unit_id in children and r.questionnaire == label and r.basis == basis
             and r.node == overall), key=by_estimate)
        panels.append(panel)
    return UnitPage(unit, snapshot, panels)


def period_kind(label: str) -> str:
    if "Q" in label:
        return "quarter"
    if ".." in label:
        return "range"
    return "month" if "-" in label else "year"


FLAG_WORDS = {
    "suppress": _l("not published: too few responses or too wide an interval"),
    "empty": _l("no respondent in this domain"),
    "small_n": _l("few responses"),
    "high_rse": _l("relative standard error of %(p)d%% or more", p=30),
    "no_df": _l("no degrees of freedom"),
    "complement_unreliable": _l("the share not satisfied may be unreliable"),
    "wide_ci": _l("wide interval"),
    "wide_relative_ci": _l("wide interval relative to the estimate"),
    "low_df": _l("few degrees of freedom"),
    "extreme": _l("everyone or no one satisfied: one-sided interval"),
    "zero_se": _l("no measured variation"),
    "partial": _l("some questions had no answers: computed from the others"),
    "non_probability": _l("non-probability sample"),
    "review": _l("to be reviewed before publication"),
}


def explain_flags(flags: str) -> str:
    """The flags of a row in words (Vietnamese by default), most important first."""
    names = [f for f in flags.split(",") if f]
    words = [str(FLAG_WORDS[f]) for f in FLAG_WORDS if f in names]
    missing = [f.removeprefix("missing:") for f in names if f.startswith("missing:")]
    if missing:
        words.append(str(_l("without answers: %(items)s", items=missing[0].replace("+", ", "))))
    return "; ".join(words)


SUPPRESSION_FLAGS = ("empty", "small_n", "wide_ci", "wide_relative_ci")


def suppression_reason(row: ResultRow) -> str:
    """Why a figure is not published, in words: the reasons the publication rules suppress
    for (too few respondents, an interval too wide); the review flags are left out."""
    names = [f for f in row.flags.split(",") if f]
    words = [str(FLAG_WORDS[f]) for f in SUPPRESSION_FLAGS if f in names]
    if row.estimate is None and not words:
        words.append(str(_l("no estimate")))
    return "; ".join(words) or str(FLAG_WORDS["suppress"])


# --- the channel basis of a row, in words --------------------------------------------------
def campaign_of(basis: str) -> int | None:
    """The campaign id of a basis ``campaign:<id>``; None for the channels."""
    prefix, _sep, number = basis.partition(":")
    return int(number) if prefix == "campaign" and number.isdigit() else None


def campaign_name(campaign_id: int) -> str | None:
    """A campaign's name (the session's identity map keeps it for the other rows)."""
    found = db.session.get(Campaign, campaign_id)
    return found.name if found is not None else None


def basis_label(basis: str, probability: bool | None = None,
                names: dict[int, str] | None = None) -> str:
    """A channel basis as the pages name it (the interface language): one-time tokens and
    open QR codes by their channel, a survey campaign's sample by the campaign's name
    (``names``: campaign id → name, read beforehand; else read here); every basis says
    whether it is a probability sample."""
    if basis == "tokens":
        return str(_l("one-time tokens (probability)"))
    if basis == "open":
        return str(_l("open QR (non-probability)"))
    campaign_id = campaign_of(basis)
    if campaign_id is not None:
        name = names.get(campaign_id) if names is not None else campaign_name(campaign_id)
        return str(_l("Survey campaign: %(name)s (probability sample)", name=name or basis))
    return f"{basis} ({_l('probability') if probability else _l('non-probability')})"


def basis_labels(snapshot: ResultSnapshot) -> Callable[..., str]:
    """:func:`basis_label` for the pages of a snapshot, the names of its campaigns read
    here in one query (a template reads nothing from the database)."""
    ids = {campaign_of(b) for b in (snapshot.designs or {})}
    ids.add((snapshot.parameters or {}).get("campaign"))
    wanted = sorted(i for i in ids if isinstance(i, int))
    names = {int(i): str(n) for i, n in db.session.execute(
        select(Campaign.id, Campaign.name).where(Campaign.id.in_(wanted)))} if wanted else {}

    def label(basis: str, probability: bool | None = None) -> str:
        return basis_label(basis, probability, names)

    return label


@dataclass(frozen=True)
class CampaignDesign:
    """A campaign snapshot's design as the snapshot stored it (``designs.Strata.describe``)
    and in words: Vietnamese (:func:`designs.campaign_design_vi`) and English (the stored
    description)."""

    campaign_id: int
    label: str
    info: dict[str, Any]
    words_vi: str
    words_en: str


def campaign_designs(snapshot: ResultSnapshot) -> list[CampaignDesign]:
    """The campaign designs a snapshot rests on (empty for a snapshot of the channels)."""
    out = []
    for basis, info in sorted((snapshot.designs or {}).items()):
        campaign_id = campaign_of(basis)
        if campaign_id is not None and isinstance(info, dict):
            out.append(CampaignDesign(campaign_id, basis_label(basis, True), info,
                                      campaign_design_vi(info), str(info.get("description", ""))))
    return out
