"""Rankings that respect uncertainty, read from a frozen snapshot.

Units are ordered by one index node of one questionnaire version from **one channel
basis** (one-time tokens, a probability sample, and open QR codes, a non-probability one,
are never ranked together). Each ranked unit gets

- its 95 % confidence interval (the chart draws it on every bar);
- a **rank interval** (Goldstein & Spiegelhalter 1996, ``analysis.rank_intervals``): the
  2.5 % and 97.5 % quantiles of its rank over 2,000 draws of every estimate from
  ``N(estimate, se²)``, with the generator seeded by the snapshot id so that the page
  shows the same intervals every time;
- a **tied group**: walking down the order, a unit joins the current group while its
  difference from the group's first unit is not significant at 5 % (SE of a difference
  of independent samples, ``analysis.Comparison``; units of one ranking are in
  different strata and never contain each other, so their samples are independent).

Only units that do not contain another ranked unit are ranked (a province's or a ward's
figure includes its sub-units' respondents); those are named as left out. Figures the
publication rules suppress are listed apart with the reason in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from survey.common.access import Scope
from survey.common.errors import NotFound, ServiceError
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import snapshots
from survey.results.services.dashboard import (
    Line,
    by_estimate,
    definition_of_label,
    suppression_reason,
    targets,
)

DRAWS = 2000
ALPHA = 0.05


@dataclass
class Ranked:
    line: Line
    rank: int
    rank_low: int
    rank_high: int
    group: int  # 1 for the first tied group


@dataclass
class Suppressed:
    row: ResultRow
    reason: str


@dataclass
class Filters:
    """What the viewer chose and what they may choose from (within their scope)."""

    questionnaire: str
    basis: str
    node: str
    sector: str | None
    within: Unit | None
    questionnaires: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    nodes: list[tuple[str, str]] = field(default_factory=list)  # (id, title)
    sectors: list[str] = field(default_factory=list)
    parents: list[tuple[int, str]] = field(default_factory=list)  # units with sub-units


@dataclass
class Ranking:
    snapshot: ResultSnapshot
    filters: Filters
    probability: bool
    node_title: str
    proportion: bool
    ranked: list[Ranked]
    suppressed: list[Suppressed]
    containing: list[str]  # units left out because they contain ranked units
    seed: int
    draws: int = DRAWS

    @property
    def groups(self) -> int:
        return max((r.group for r in self.ranked), default=0)


def _snapshot(scope: Scope, snapshot_id: int | None) -> ResultSnapshot:
    if snapshot_id is not None:
        return snapshots.visible_one(scope, snapshot_id)
    done = [s for s in snapshots.visible(scope) if s.status == "done"]
    if not done:
        raise NotFound("snapshot", "latest")
    return done[0]


def _choose(value: str | None, options: list[str], default: str, what: str,
            name: str) -> str:
    """The chosen value, or the default; a value not among the options is refused with
    the filter's parameter ``name`` as the error's field."""
    if value is None or value == "":
        return default
    if value not in options:
        raise ServiceError(_("No %(what)s %(value)s in this snapshot within your scope.",
                             what=what, value=value), name)
    return value


def _filters(scope: Scope, rows: list[ResultRow], questionnaire: str | None,
             basis: str | None, node: str | None, sector: str | None,
             within: int | None) -> tuple[Filters, Any]:
    """Check the chosen filters against what the rows hold; defaults: the questionnaire
    with the most units, the probability basis when it has rows, the overall index."""
    count: dict[str, int] = {}
    for r in rows:
        count[r.questionnaire] = count.get(r.questionnaire, 0) + 1
    labels = sorted(count, key=lambda k: (-count[k], k))
    label = _choose(questionnaire, labels, labels[0], _("questionnaire"),
                    "questionnaire")
    mine = [r for r in rows if r.questionnaire == label]
    bases = sorted({r.basis for r in mine}, key=lambda b: (b != "tokens", b))
    chosen_basis = _choose(basis, bases, bases[0], _("channel"), "basis")
    defn = definition_of_label(label)
    if defn is None:
        raise NotFound("questionnaire", label)
    present = {r.node for r in mine if r.basis == chosen_basis}
    nodes = [(n.id, n.title.vi) for n in defn.index.nodes if n.id in present]
    overall = defn.index.overall if defn.index.overall in present else nodes[0][0]
    chosen_node = _choose(node, [n for n, _t in nodes], overall, _("index"), "node")
    sectors = sorted({r.sector for r in mine if r.sector})
    chosen_sector = _choose(sector, sectors, "", _("sector"), "sector") or None
    parent = scope.get_unit(within, "results") if within is not None else None
    return Filters(label, chosen_basis, chosen_node, chosen_sector, parent, labels, bases,
                   nodes, sectors), defn


def _ancestors(paths: Iterable[str]) -> set[str]:
    """The paths of every proper ancestor of the given unit paths (``/1/5/9/`` has
    ``/1/`` and ``/1/5/``)."""
    out: set[str] = set()
    for path in paths:
        parts = path.strip("/").split("/")
        out.update("/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    return out


def ranking(scope: Scope, *, snapshot_id: int | None = None, questionnaire: str | None = None,
            basis: str | None = None, node: str | None = None, sector: str | None = None,
            within: int | None = None) -> Ranking:
    """The ranking of the units the scope sees (see the module docstring); a filter value
    the snapshot does not hold is refused with a :class:`ServiceError` naming it."""
    snapshot = _snapshot(scope, snapshot_id)
    rows = [r for r in snapshots.rows_in_scope(scope, snapshot.id) if r.domain == "unit"]
    if not rows:
        raise NotFound("results in scope", snapshot.id)
    filters, defn = _filters(scope, rows, questionnaire, basis, node, sector, within)
    chosen = [r for r in rows if r.questionnaire == filters.questionnaire
              and r.basis == filters.basis and r.node == filters.node]
    units = {u.id: u for u in db.session.scalars(
        select(Unit).where(Unit.id.in_(sorted({r.unit_id for r in chosen if r.unit_id}))))}
    paths = {uid: u.path for uid, u in units.items()}
    above = _ancestors(paths.values())
    filters.parents = sorted(((uid, u.name) for uid, u in units.items() if u.path in above),
                             key=lambda item: item[1])
    if filters.within is not None:
        below = filters.within.path
        chosen = [r for r in chosen if paths[r.unit_id].startswith(below)
                  and paths[r.unit_id] != below]
    if filters.sector is not None:
        chosen = [r for r in chosen if r.sector == filters.sector]
    above = _ancestors(paths[r.unit_id] for r in chosen)
    contains = {r.unit_id for r in chosen if paths[r.unit_id] in above}
    goal = targets()
    lines = [Line(r, goal.get(r.sector or "")) for r in chosen if r.unit_id not in contains]
    shown = sorted((line for line in lines if not line.suppressed and line.row.se is not None),
                   key=by_estimate)
    hidden = sorted((line for line in lines if line.suppressed or line.row.se is None),
                    key=lambda line: line.row.unit_name)
    rule = defn.index.node(filters.node).rule
    return Ranking(
        snapshot=snapshot, filters=filters, probability=bool(chosen and chosen[0].probability),
        node_title=dict(filters.nodes)[filters.node], proportion=rule != "mean_score",
        ranked=_rank(shown, rule != "mean_score", snapshot.id),
        suppressed=[Suppressed(line.row, suppression_reason(line.row)) for line in hidden],
        containing=sorted(r.unit_name for r in chosen if r.unit_id in contains),
        seed=snapshot.id)


def _rank(lines: list[Line], proportion: bool, seed: int) -> list[Ranked]:
    """Rank intervals and tied groups through :mod:`analysis` (imported here: scipy and
    statsmodels are loaded when a ranking is drawn, not at app start)."""
    if not lines:
        return []
    import numpy as np
    import pandas as pd

    import analysis

    rows = [line.row for line in lines]
    estimates = analysis.Estimates(
        statistic="satisfaction_index" if proportion else "mean",
        keys=pd.DataFrame({"unit_id": [r.unit_id for r in rows]}),
        estimate=np.array([r.estimate for r in rows], dtype=float),
        se=np.array([r.se for r in rows], dtype=float),
        df=np.array([r.df if r.df is not None else np.nan for r in rows], dtype=float),
        n=np.array([r.n for r in rows], dtype=float),
        deff=np.array([r.deff if r.deff is not None else np.nan for r in rows], dtype=float),
        sum_weights=np.full(len(rows), np.nan), is_proportion=proportion)
    ranks = analysis.rank_intervals(estimates, rng=np.random.default_rng(seed), alpha=ALPHA,
                                    n_draws=DRAWS)
    groups = [1]
    leader = 0
    for i in range(1, len(rows)):
        comparison = analysis.Comparison(
            keys=pd.DataFrame({"first": [rows[leader].unit_id], "second": [rows[i].unit_id]}),
            difference=estimates.estimate[[leader]] - estimates.estimate[[i]],
            se=np.hypot(estimates.se[[leader]], estimates.se[[i]]),
            df=np.minimum(estimates.df[[leader]], estimates.df[[i]]))
        if comparison.p_value[0] < ALPHA:  # NaN (no df) is never significant
            leader = i
            groups.append(groups[-1] + 1)
        else:
            groups.append(groups[-1])
    return [Ranked(line, int(ranks["rank"].iloc[i]), int(ranks["rank_low"].iloc[i]),
                   int(ranks["rank_high"].iloc[i]), groups[i]) for i, line in enumerate(lines)]
