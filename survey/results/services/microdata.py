"""Analysis-ready microdata: one row per counted response of a period and scope, with
every item's answer, every index node's respondent-level value and the design columns
of its channel (:mod:`survey.results.services.designs`).

Columns (see :meth:`Microdata.columns`): ``response_id, period, unit_id, unit_path``
(the ids from the province down to the unit, ``1/7/42``), ``unit_code, unit_name,
sector, service_point_id, channel, basis, probability, questionnaire, version, stratum,
psu, weight, fpc, psu2, fpc2``, then ``answer.<item>`` (the raw answer: a number, ``na`` for "not
applicable", empty when blank; several choices as ``1;3``), then one column per index
item and node named by its id. An item's column is 1 when the answer is "satisfied" under
the node that holds it, 0 when answered below, empty for N/A or blank; a node's column is
the respondent's own value (share of satisfied answers for share nodes, mean score for
mean-score nodes, 0/1 for the comprehensive index, the weighted mean of the children's
values for mean nodes). ``psu2`` and ``fpc2`` are the second stage of a two-stage
campaign (the person, and the persons in its cluster; ``psu`` is then the cluster and
``fpc`` the clusters in the stratum), blank for every one-stage design. Free-text answers
and anything derived from device or network data (pseudonymous hashes, flags) never enter
microdata.

Flagged responses are left out until accepted in the review screen. Rows stream from the
database in chunks (constant memory in the number of responses).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.models import Response
from survey.extensions import db
from survey.org.models import Unit
from survey.results.services import designs
from survey.results.services.periods import Period

BASE_COLUMNS = ("response_id", "period", "unit_id", "unit_path", "unit_code", "unit_name",
                "sector",
                "service_point_id", "channel", "basis", "probability", "questionnaire",
                "version", "stratum", "psu", "weight", "fpc", "psu2", "fpc2")
CHUNK = 2000


@dataclass(frozen=True)
class Selection:
    """Which responses: a period (local dates) and optionally a unit's subtree."""

    period: Period
    scope_unit_id: int | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    # A closed campaign's responses alone (its own design, whatever their dates).
    campaign_id: int | None = None

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        zone = ZoneInfo(self.timezone)
        start = dt.datetime.combine(self.period.start, dt.time(), zone)
        end = dt.datetime.combine(self.period.end + dt.timedelta(days=1), dt.time(), zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def responses_query(sel: Selection) -> Select[tuple[Response]]:
    """Counted responses of the probability and open channels in the selection."""
    if sel.campaign_id is not None:
        # A campaign sample brings its own design: its weighted responses, every channel.
        query = (select(Response).join(Unit, Response.unit_id == Unit.id)
                 .where(Response.id.in_(designs.campaign_response_ids(sel.campaign_id)),
                        Response.counts_in_indices))
    else:
        start, end = sel.bounds()
        query = (select(Response).join(Unit, Response.unit_id == Unit.id)
                 .where(Response.submitted_at >= start, Response.submitted_at < end,
                        Response.counts_in_indices, Response.campaign_id.is_(None),
                        Response.channel.in_(designs.BASIS_OF_CHANNEL)))
    if sel.scope_unit_id is not None:
        root = db.session.get(Unit, sel.scope_unit_id)
        path = root.path if root is not None else "/none/"
        query = query.where(Unit.path.startswith(path, autoescape=True))
    return query


@dataclass
class Layout:
    """The item and node columns of one questionnaire version."""

    definition: q.Definition
    answer_items: list[str] = field(default_factory=list)   # raw answers exported
    indicator_of: dict[str, str] = field(default_factory=dict)  # item -> share node holding it
    nodes: list[str] = field(default_factory=list)


def layout(defn: q.Definition) -> Layout:
    out = Layout(defn)
    # Free text stays out of microdata (it may name people); every other answer is in.
    out.answer_items = [i.id for i in defn.items if i.type != "text"]
    for node in defn.index.nodes:
        if node.rule in ("share_at_least", "share_in"):
            for child in node.children:
                if not defn.index.is_node(child):
                    out.indicator_of.setdefault(child, node.id)
    out.nodes = [n.id for n in defn.index.nodes]
    return out


def _raw(value: object) -> str:
    if value is None:
        return ""
    if value == q.NOT_APPLICABLE:
        return "na"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def node_values(lay: Layout, answers: dict[str, object]) -> dict[str, float | None]:
    """Respondent-level values of every index item and node (see the module docstring)."""
    defn = lay.definition
    scores = q.score_response(defn, answers)
    out: dict[str, float | None] = {}
    for item, node_id in lay.indicator_of.items():
        out[item] = q.item_indicators(defn, node_id, scores).get(item)

    def value(ref: str) -> float | None:
        if ref in out:
            return out[ref]
        if not defn.index.is_node(ref):
            return scores.get(ref)
        node = defn.index.node(ref)
        if node.rule in ("share_at_least", "share_in", "mean_score"):
            source = out if node.rule != "mean_score" else scores
            vals = [v for c in node.children if (v := source.get(c)) is not None]
            result = sum(vals) / len(vals) if vals else None
        elif node.rule == "comprehensive":
            result = q.comprehensive_indicator(defn, ref, scores)
        else:
            weights = node.weights or tuple(1.0 for _ in node.children)
            pairs = [(w, v) for w, c in zip(weights, node.children, strict=True)
                     if (v := value(c)) is not None]
            total = sum(w for w, _ in pairs)
            result = sum(w * v for w, v in pairs) / total if total else None
        out[ref] = result
        return result

    for node_id in lay.nodes:
        value(node_id)
    return out


@dataclass
class Microdata:
    """The selection, its versions' layouts and the design of every stratum."""

    selection: Selection
    layouts: dict[tuple[str, int], Layout]
    strata: designs.Strata

    def columns(self) -> list[str]:
        cols = list(BASE_COLUMNS)
        seen = set(cols)
        for lay in self.layouts.values():
            for name in [f"answer.{i}" for i in lay.answer_items] + list(lay.indicator_of) + \
                    lay.nodes:
                if name not in seen:
                    seen.add(name)
                    cols.append(name)
        return cols

    def rows(self) -> Iterator[dict[str, Any]]:
        """One dict per response, in response id order, streamed."""
        units: dict[int, Unit] = {}
        query = (responses_query(self.selection).options(selectinload(Response.answers))
                 .order_by(Response.id).execution_options(yield_per=CHUNK))
        for response in db.session.scalars(query):
            lay = self.layouts.get((response.questionnaire_key, response.questionnaire_version))
            if lay is None:
                continue
            unit = units.get(response.unit_id) or db.session.get(Unit, response.unit_id)
            assert unit is not None
            units[unit.id] = unit
            design = self.strata.row_design(response)
            answers = q.answers_from_stored(lay.definition, {
                a.item_id: (a.value_num, a.value_text, bool(a.not_applicable))
                for a in response.answers})
            row: dict[str, Any] = {
                "response_id": response.id, "period": self.selection.period.label,
                "unit_id": unit.id, "unit_path": unit.path.strip("/"),
                "unit_code": unit.code or "", "unit_name": unit.name,
                "sector": unit.sector, "service_point_id": response.service_point_id,
                "channel": response.channel, "basis": design.basis,
                "probability": design.probability, "questionnaire": response.questionnaire_key,
                "version": response.questionnaire_version, "stratum": design.stratum,
                "psu": design.psu if design.psu is not None else response.id,
                "weight": design.weight, "fpc": design.fpc,
                "psu2": design.psu2, "fpc2": design.fpc2,
            }
            for item in lay.answer_items:
                row[f"answer.{item}"] = _raw(answers.get(item))
            row.update(node_values(lay, answers))
            yield row


def versions_in(sel: Selection) -> list[tuple[str, int]]:
    query = responses_query(sel).with_only_columns(
        Response.questionnaire_key, Response.questionnaire_version).distinct()
    return sorted((k, int(v)) for k, v in db.session.execute(query).all())


def load(sel: Selection) -> Microdata:
    """Everything the rows need, from a few aggregate queries."""
    layouts: dict[tuple[str, int], Layout] = {}
    for key, version in versions_in(sel):
        row = db.session.scalar(select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == key, QuestionnaireVersion.version == version))
        if row is not None:
            layouts[(key, version)] = layout(questionnaire_versions.definition_of(row))
    return Microdata(sel, layouts, designs.strata_for(sel, responses_query(sel)))
