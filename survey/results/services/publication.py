"""Publication of result snapshots, and what the public results page shows.

An administrator marks a finished snapshot published (or takes it back); the change is
audited by the session hook (``ResultSnapshot`` is an audited model: who, when, before and
after). The public sees, for each period and scope, only the newest published snapshot:
publishing a recomputation replaces the older figures without unpublishing them first.
The public page shows each agency's overall index with its 95 % interval and n; figures
the NCHS 2017 rules suppress are hidden (only counted), never shown with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import snapshots


@use_case
def set_published(scope: Scope, snapshot_id: int, published: bool,
                  actor: str) -> ResultSnapshot:
    """Publish (or take back) a finished snapshot; administrators only."""
    snapshot = snapshots.visible_one(scope, snapshot_id)
    if not scope.is_administrator:
        raise Forbidden("publish")
    if snapshot.status != "done":
        raise ServiceError(_("Only a finished snapshot can be published."))
    if snapshot.published == published:
        raise ServiceError(_("This snapshot is already published.") if published
                           else _("This snapshot is not published."))
    snapshot.published = published
    snapshot.published_at = utcnow() if published else None
    snapshot.published_by = actor if published else None
    db.session.commit()
    return snapshot


def current() -> list[ResultSnapshot]:
    """The snapshots the public sees: per period and scope the newest published finished
    one; the latest period first, province-wide before a unit's."""
    seen: set[tuple[str, int | None]] = set()
    out = []
    for snapshot in db.session.scalars(select(ResultSnapshot).where(
            ResultSnapshot.published.is_(True), ResultSnapshot.status == "done")
            .order_by(ResultSnapshot.id.desc())):
        key = (snapshot.period, snapshot.scope_unit_id)
        if key not in seen:
            seen.add(key)
            out.append(snapshot)
    out.sort(key=lambda s: (-s.period_end.toordinal(), s.scope_unit_id is not None,
                            -s.period_start.toordinal(), -s.id))
    return out


def is_current(snapshot_id: int) -> bool:
    return any(s.id == snapshot_id for s in current())


@dataclass(frozen=True)
class PublicLine:
    """One published figure: an agency's (or a component's) index with its interval."""

    label: str
    sector: str | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    suppressed: bool
    share: bool  # a share of satisfied answers (shown in %); else a mean score


@dataclass
class PublicPanel:
    """One questionnaire and channel basis of the snapshot."""

    title: str
    questionnaire: str
    basis: str
    probability: bool
    headline: list[PublicLine] = field(default_factory=list)  # overall, then components
    units: list[PublicLine] = field(default_factory=list)  # publishable figures only
    hidden: int = 0  # agencies whose figure is suppressed


@dataclass
class PublicPage:
    snapshot: ResultSnapshot
    scope_name: str
    panels: list[PublicPanel]
    sectors: list[str]  # sectors with at least one agency in the snapshot
    sector: str | None
    others: list[tuple[ResultSnapshot, str]]  # the other published snapshots


def _definition(label: str) -> Any:
    key, _sep, version = label.partition(" v")
    row = db.session.scalar(select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == key, QuestionnaireVersion.version == int(version)))
    return questionnaire_versions.definition_of(row) if row is not None else None


def _line(row: ResultRow, label: str) -> PublicLine:
    suppressed = row.publication == "suppress" or row.estimate is None or row.ci_low is None
    return PublicLine(label, row.sector, None if suppressed else row.estimate,
                      None if suppressed else row.ci_low, None if suppressed else row.ci_high,
                      row.n, suppressed, row.rule != "mean_score")


def _scope_names(ids: set[int | None]) -> dict[int | None, str]:
    wanted = {i for i in ids if i is not None}
    names: dict[int | None, str] = {}
    if wanted:
        names.update(db.session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_(wanted))).tuples().all())
    root = db.session.scalar(select(Unit.name).where(Unit.parent_id.is_(None))
                             .order_by(Unit.id))
    names[None] = root or ""
    return names


def page(snapshot_id: int | None, sector: str | None, lang: str = "vi") -> PublicPage | None:
    """The public page of a current published snapshot (default: the first of
    :func:`current`; None when nothing is published); any other snapshot is
    :class:`NotFound`."""
    shown = current()
    if not shown and snapshot_id is None:
        return None
    snapshot = shown[0] if shown and snapshot_id is None else next(
        (s for s in shown if s.id == snapshot_id), None)
    if snapshot is None:
        raise NotFound("published snapshot", snapshot_id)
    names = _scope_names({s.scope_unit_id for s in shown})
    rows = [r for r in snapshots.rows_of(snapshot.id) if r.domain == "unit"]
    root_id = snapshot.scope_unit_id or db.session.scalar(
        select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    panels: dict[tuple[str, str], PublicPanel] = {}
    for label in sorted({r.questionnaire for r in rows}):
        defn = _definition(label)
        if defn is None:
            continue
        overall = defn.index.overall
        titles = {n.id: (n.title.en if lang == "en" else n.title.vi) for n in defn.index.nodes}
        components = defn.index.node(overall).children
        for basis in sorted({r.basis for r in rows if r.questionnaire == label}):
            mine = [r for r in rows if r.questionnaire == label and r.basis == basis]
            title = defn.title.en if lang == "en" else defn.title.vi
            panel = PublicPanel(title, label, basis, mine[0].probability)
            panel.headline = [_line(r, titles.get(r.node, r.node)) for r in sorted(
                (r for r in mine if r.unit_id is not None and r.unit_id == root_id
                 and r.rule != "item" and (r.node == overall or r.node in components)),
                key=lambda r: (r.node != overall, list(components).index(r.node)
                               if r.node in components else 0))]
            agencies = [_line(r, r.unit_name) for r in mine
                        if r.node == overall and (r.unit_id is None or r.unit_id != root_id)
                        and (sector is None or r.sector == sector)]
            panel.units = sorted((a for a in agencies if not a.suppressed),
                                 key=lambda a: (-(a.estimate or 0), a.label))
            panel.hidden = sum(1 for a in agencies if a.suppressed)
            if panel.units or panel.hidden or sector is None:
                panels[(label, basis)] = panel
    ordered = sorted(panels.values(), key=lambda p: (not p.probability, p.title, p.basis))
    sectors = sorted({r.sector for r in rows if r.sector})
    others = [(s, names.get(s.scope_unit_id, "")) for s in shown if s.id != snapshot.id]
    return PublicPage(snapshot, names.get(snapshot.scope_unit_id, ""), ordered, sectors,
                      sector, others)
