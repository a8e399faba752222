"""A sector's page, read from a frozen snapshot: the sector's index tree (a domain on the
full design of each channel basis) with intervals and the flags in words, the trend of its
overall index with the significance of each change (independent samples: SE of a
difference), and every agency of the sector with its index and its status against the
sector's target (whole 95 % interval below / above it, or not distinguishable).

Who sees it: as for the sector rows of a snapshot (``snapshots.rows_in_scope``), a grant
over the whole province in that sector or in every sector — administrators, province-wide
analysts, a sector manager of that sector. Anyone else gets the same answer as for a
sector that does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, select

from survey.common.access import Scope
from survey.common.errors import NotFound
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import snapshots
from survey.results.services.dashboard import (
    Line,
    NodeLine,
    TrendPoint,
    by_estimate,
    definition_of_label,
    node_lines,
    series,
    targets,
    trend,
)


@dataclass
class SectorPanel:
    questionnaire: str
    basis: str
    probability: bool
    title: str
    nodes: list[NodeLine] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    agencies: list[Line] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for line in self.agencies if line.status == status)

    @property
    def shown(self) -> list[Line]:
        return [line for line in self.agencies if not line.suppressed]


@dataclass
class SectorPage:
    sector: str
    snapshot: ResultSnapshot
    target: float | None
    panels: list[SectorPanel]


def visible_sectors(scope: Scope) -> list[str]:
    """The sectors (of some unit) whose page the scope may open, in the order of the
    targets."""
    roots = set(db.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None))))
    granted = {gr.sector for gr in scope.grants
               if "results" in gr.permissions and gr.unit_id in roots}
    if not granted:
        return []
    present = set(db.session.scalars(select(Unit.sector).distinct()))
    return [s for s in targets() if s in present and (None in granted or s in granted)]


def sectors_of(scope: Scope, snapshot_id: int) -> list[str]:
    """The sectors whose page the scope may open that have figures in the snapshot (the
    results pages' links of a snapshot lead to its own sectors only)."""
    present = set(db.session.scalars(select(ResultRow.sector).distinct().where(
        ResultRow.snapshot_id == snapshot_id, ResultRow.domain == "sector")))
    return [s for s in visible_sectors(scope) if s in present]


def _sector_rows(scope: Scope, snapshot_id: int, sector: str) -> list[ResultRow]:
    return [r for r in snapshots.rows_in_scope(scope, snapshot_id)
            if r.sector == sector and r.domain in ("sector", "unit")]


def sector_page(scope: Scope, sector: str, snapshot_id: int | None = None) -> SectorPage:
    """The sector's page in a snapshot (default: the newest finished province-wide one
    with the sector's figures, else the newest of a unit's subtree)."""
    if sector not in visible_sectors(scope):
        raise NotFound("sector", sector)
    visible = [s for s in snapshots.visible(scope) if s.status == "done"]
    if snapshot_id is not None:
        snapshot = snapshots.visible_one(scope, snapshot_id)
        rows = _sector_rows(scope, snapshot.id, sector)
    else:
        # A province-wide snapshot first: a snapshot of one unit's subtree holds only that
        # part of the sector.
        for snapshot in sorted(visible, key=lambda s: (s.scope_unit_id is not None, -s.id)):
            if db.session.scalar(select(ResultRow.id).where(
                    ResultRow.snapshot_id == snapshot.id, ResultRow.domain == "sector",
                    ResultRow.sector == sector).limit(1)) is not None:
                break
        else:
            raise NotFound("results of sector", sector)
        rows = _sector_rows(scope, snapshot.id, sector)
    goal = targets().get(sector)
    own = [r for r in rows if r.domain == "sector"]
    # The province's own row is the whole province, not an agency of the sector.
    roots = set(db.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None))))
    periods = series(visible, snapshot)
    panels = []
    for label, basis in sorted({(r.questionnaire, r.basis) for r in own},
                               key=lambda k: (k[1] != "tokens", k[0])):
        defn = definition_of_label(label)
        if defn is None:
            continue
        by_node = {r.node: r for r in own if r.questionnaire == label and r.basis == basis}
        overall = defn.index.overall
        panel = SectorPanel(label, basis, next(iter(by_node.values())).probability,
                            defn.index.node(overall).title.vi)
        panel.nodes = node_lines(defn, by_node, goal)
        panel.trend = trend(periods, and_(
            ResultRow.domain == "sector", ResultRow.sector == sector,
            ResultRow.questionnaire == label, ResultRow.basis == basis,
            ResultRow.node == overall), goal)
        panel.agencies = sorted(
            (Line(r, goal) for r in rows if r.domain == "unit" and r.questionnaire == label
             and r.basis == basis and r.node == overall and r.unit_id not in roots),
            key=by_estimate)
        panels.append(panel)
    return SectorPage(sector, snapshot, goal, panels)
