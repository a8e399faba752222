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
database in chunks (constant memory in the number of responses). The bundle's
microdata.csv comes from :func:`text_chunks`, the same values column-wise as CSV cells
(set-based queries per chunk of responses, no Python step a response: 0.6 ms a response
for :meth:`Microdata.rows`, about 35 µs for the column-wise path; ``bench/bench_bundle.py``).
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


# -- column-wise microdata (the bundle's microdata.csv) --------------------------------------
TEXT_CHUNK = 20_000  # responses: ~200 MiB above the app (bench/bench_bundle.py)
_MISSING = (None, None, False)  # stands for "no stored answer" (decoded as None)


def text_of(value: object) -> str:
    """A microdata value as its CSV cell (what the bundle writes for :meth:`Microdata.rows`'
    values): empty for None and NaN, ``repr`` of a float, 1/0 for a bool."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else repr(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _float_texts(values: Any) -> Any:
    """Float cells of a numpy array (NaN: empty), each distinct value formatted once."""
    import numpy as np

    uniques, inverse = np.unique(values, return_inverse=True)
    texts = np.array([text_of(float(v)) for v in uniques.tolist()] or [""], dtype=object)
    return texts[inverse.reshape(-1)] if len(values) else np.array([], dtype=object)


@dataclass
class _Kind:
    """One questionnaire version's items, as the column-wise path needs them."""

    lay: Layout
    items: list[q.Item]
    scored: list[str]
    conditions: list[str]  # items some show_if depends on


def _kind(lay: Layout) -> _Kind:
    defn = lay.definition
    items = [i for i in defn.items if i.type != "text"]
    scored = [i.id for i in items if q.item_type(i.type).scored]
    conditions = sorted({i.show_if.item for i in defn.items if i.show_if is not None})
    return _Kind(lay, items, scored, conditions)


def comprehensive_column(scores: list[Any], threshold: float) -> Any:
    """A comprehensive node's 0/1 value for each response from its items' score columns
    (NaN: not answered): 1 when every answered item is at least ``threshold``, NaN when none
    is answered (:func:`questionnaires.comprehensive_indicator` on arrays)."""
    import numpy as np

    values = np.column_stack(scores)
    valid = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        satisfied = np.where(valid, values >= threshold, True)
    return np.where(valid.any(axis=1), satisfied.all(axis=1).astype(float), np.nan)


def _node_columns(kind: _Kind, scores: dict[str, Any], n: int) -> dict[str, Any]:
    """:func:`node_values` on arrays: every index item's and node's value for n responses
    (NaN for None), with the same additions in the same order, so the same floats."""
    import numpy as np

    defn = kind.lay.definition
    nan = np.full(n, np.nan)
    out: dict[str, Any] = {}
    for item, node_id in kind.lay.indicator_of.items():
        value = scores.get(item, nan)
        column = np.full(n, np.nan)
        for v in np.unique(value[~np.isnan(value)]).tolist():
            got = q.item_indicators(defn, node_id, {item: float(v)}).get(item)
            column[value == v] = np.nan if got is None else got
        if np.isnan(value).any():  # the indicator of no score (None in every rule)
            got = q.item_indicators(defn, node_id, {item: None}).get(item)
            column[np.isnan(value)] = np.nan if got is None else got
        out[item] = column

    def mean(values: list[Any]) -> Any:
        total, count = np.zeros(n), np.zeros(n, dtype=np.int64)
        for v in values:
            valid = ~np.isnan(v)
            total = total + np.where(valid, v, 0.0)
            count = count + valid
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def value(ref: str) -> Any:
        if ref in out:
            return out[ref]
        if not defn.index.is_node(ref):
            return scores.get(ref, nan)
        node = defn.index.node(ref)
        if node.rule in ("share_at_least", "share_in"):
            result = mean([out.get(c, nan) for c in node.children])
        elif node.rule == "mean_score":
            result = mean([scores.get(c, nan) for c in node.children])
        elif node.rule == "comprehensive":
            threshold = node.threshold
            assert threshold is not None
            result = comprehensive_column([scores.get(c, nan) for c in node.children],
                                          threshold)
        else:
            weights = node.weights or tuple(1.0 for _ in node.children)
            total, numer = np.zeros(n), np.zeros(n)
            for w, c in zip(weights, node.children, strict=True):
                v = value(c)
                valid = ~np.isnan(v)
                total = total + np.where(valid, w, 0.0)
                numer = numer + np.where(valid, w * np.where(valid, v, 0.0), 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                result = np.where(total != 0, numer / np.where(total != 0, total, 1.0), np.nan)
        out[ref] = result
        return result

    for node_id in kind.lay.nodes:
        value(node_id)
    return out


def _stored_codes(kind: _Kind, answers: Any, rows: Any, n: int) -> dict[str, tuple[Any, list[tuple[
        float | None, str | None, bool]]]]:
    """Per item of the version: for each response a code into the distinct stored answers
    (the last code: nothing stored), and those distinct ``(num, text, not_applicable)``."""
    import numpy as np
    import pandas as pd

    out: dict[str, tuple[Any, list[tuple[float | None, str | None, bool]]]] = {}
    by_item = dict(tuple(answers.groupby("item_id", sort=False))) if len(answers) else {}
    for item in kind.items:
        sub = by_item.get(item.id)
        if sub is None or sub.empty:
            out[item.id] = (np.zeros(n, dtype=np.int64), [_MISSING])
            continue
        group = sub.groupby(["num", "text", "na"], dropna=False, sort=False).ngroup()
        group_codes = group.to_numpy()
        count = int(group_codes.max()) + 1
        first = np.empty(count, dtype=np.int64)
        first[group_codes[::-1]] = np.arange(len(group_codes))[::-1]
        nums, texts, nas = (sub["num"].to_numpy(), sub["text"].to_numpy(),
                            sub["na"].to_numpy())
        distinct = [(None if pd.isna(nums[i]) else float(nums[i]),
                     None if pd.isna(texts[i]) else str(texts[i]), bool(nas[i]))
                    for i in first.tolist()]
        codes = np.full(n, count, dtype=np.int64)
        codes[np.searchsorted(rows, sub["response_id"].to_numpy())] = group_codes
        out[item.id] = (codes, [*distinct, _MISSING])
    return out


def _version_columns(kind: _Kind, answers: Any, rows: Any) -> dict[str, Any]:
    """The answer and node columns (CSV cells) of one version's responses ``rows`` (sorted
    ids) from their stored ``answers`` (a frame: response_id, item_id, num, text, na)."""
    import numpy as np

    defn = kind.lay.definition
    n = len(rows)
    stored = _stored_codes(kind, answers, rows, n)
    decoded: dict[str, list[object]] = {}
    columns: dict[str, Any] = {}
    for item in kind.items:
        codes, distinct = stored[item.id]
        itype = q.item_type(item.type)
        # The last code is "nothing stored" (not a decoded empty value: a yes/no decodes
        # (None, None) as False).
        values = [itype.decode(num, text, na) for num, text, na in distinct[:-1]] + [None]
        decoded[item.id] = values
        if item.id in kind.lay.answer_items:
            texts = np.array([_raw(v) for v in values], dtype=object)
            columns[f"answer.{item.id}"] = texts[codes]
    # Visibility (show_if) depends on the answers of the condition items alone: each
    # distinct combination of them is asked once.
    visible: dict[str, Any] = {}
    if kind.conditions:
        missing = np.zeros(n, dtype=np.int64)
        combos = np.column_stack([stored[c][0] if c in stored else missing
                                  for c in kind.conditions])
        _, firsts, inverse = np.unique(combos, axis=0, return_index=True,
                                       return_inverse=True)
        inverse = inverse.reshape(-1)
        shown_sets = []
        for first in firsts.tolist():
            answers_of = {}
            for item_id in kind.conditions:
                if item_id in stored:
                    value = decoded[item_id][int(stored[item_id][0][first])]
                    if value is not None:
                        answers_of[item_id] = value
            shown_sets.append(q.visible_items(defn, answers_of))
        for item_id in kind.scored:
            mask = np.array([item_id in s for s in shown_sets], dtype=bool)
            visible[item_id] = mask[inverse]
    scores: dict[str, Any] = {}
    for item_id in kind.scored:
        item = defn.item(item_id)
        itype = q.item_type(item.type)
        codes, _ = stored[item_id]
        per_code = np.array([np.nan if (s := itype.score(defn, item, v)) is None else s
                             for v in decoded[item_id]], dtype=float)
        score = per_code[codes]
        if item_id in visible:  # a hidden item scores None
            score = np.where(visible[item_id], score, np.nan)
        scores[item_id] = score
    for name, values in _node_columns(kind, scores, n).items():
        columns[name] = _float_texts(values)
    return columns


def _fetch(statement: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a Core statement as the driver's tuples: SQLAlchemy binds the parameters
    and executes it, the rows come from its DBAPI cursor (no Row object and result
    processing a row: the columns read here are ints, floats, strings and booleans, which
    both drivers return as they are, booleans as 0/1 on SQLite)."""
    result = db.session.connection().execute(statement)
    cursor = getattr(result, "cursor", None)
    rows: list[tuple[Any, ...]] = (cursor.fetchall() if cursor is not None
                                   else [tuple(r) for r in result.all()])
    result.close()
    return rows


def text_chunks(micro: Microdata, size: int = TEXT_CHUNK) -> Iterator[tuple[int, dict[str, Any]]]:
    """:meth:`Microdata.rows` column-wise, as CSV cells: per chunk of at most ``size``
    responses (in response id order), the number of rows and each column's cells
    (:func:`text_of` of the row values; a column absent from a chunk is empty in it).

    Set-based: the selection's ids, then per chunk one query for the responses (a range
    of ids) and one for their answers; each item's distinct stored answers are decoded and
    scored once, visibility is asked once per distinct answer to the ``show_if`` items,
    and the index values are computed on arrays (:func:`_node_columns`). Memory: one
    chunk, plus the ids of the selection (8 bytes a response)."""
    import numpy as np
    import pandas as pd

    from survey.collection.models import Answer

    kinds = {key: _kind(lay) for key, lay in micro.layouts.items()}
    item_ids = sorted({i.id for k in kinds.values() for i in k.items})
    units: dict[int, tuple[str, str, str, str, str]] = {}
    designs_of: dict[tuple[Any, ...], tuple[str, ...]] = {}
    campaign = micro.strata.campaign
    period = micro.selection.period.label
    base = responses_query(micro.selection).with_only_columns(
        Response.id, Response.unit_id, Response.service_point_id, Response.channel,
        Response.selection_probability, Response.questionnaire_key,
        Response.questionnaire_version)
    # The ids first (8 bytes a response), then each chunk as a range of ids: a range scan
    # of the primary key, where "after the last id, ordered, LIMIT" made PostgreSQL read
    # the whole period again for every chunk.
    every = np.array([r[0] for r in _fetch(
        responses_query(micro.selection).with_only_columns(Response.id)
        .order_by(Response.id))], dtype=np.int64)
    for start in range(0, len(every), size):
        first, final = int(every[start]), int(every[min(start + size, len(every)) - 1])
        rows = sorted(_fetch(base.where(Response.id >= first, Response.id <= final)))
        rows = [r for r in rows if (r[5], r[6]) in kinds]
        if not rows:
            continue
        lo, hi = rows[0][0], rows[-1][0]
        missing_units = {r[1] for r in rows} - set(units)
        if missing_units:
            for uid, path, code, name, sector in db.session.execute(
                    select(Unit.id, Unit.path, Unit.code, Unit.name, Unit.sector)
                    .where(Unit.id.in_(missing_units))).all():
                units[uid] = (str(uid), path.strip("/"), code or "", text_of(name),
                              text_of(sector))
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        n = len(rows)
        chosen = responses_query(micro.selection).with_only_columns(Response.id).where(
            Response.id >= lo, Response.id <= hi)
        # The driver's rows (no ORM or Row object a row), made a frame column-wise.
        fetched = _fetch(
            select(Answer.response_id, Answer.item_id, Answer.value_num, Answer.value_text,
                   Answer.not_applicable)
            .where(Answer.response_id.in_(chosen), Answer.item_id.in_(item_ids)))
        names = ["response_id", "item_id", "num", "text", "na"]
        answers = pd.DataFrame.from_records(fetched, columns=names)
        del fetched
        answers["response_id"] = answers["response_id"].astype(np.int64)
        answers["num"] = answers["num"].astype(float)
        answers["text"] = answers["text"].astype(object)
        answers["na"] = answers["na"].fillna(False).astype(bool)
        # Only the answers of this chunk's responses (the id range may hold others).
        at = np.minimum(np.searchsorted(ids, answers["response_id"].to_numpy()), n - 1)
        answers = answers[ids[at] == answers["response_id"].to_numpy()]
        columns: dict[str, Any] = {}
        cells = []
        for r in rows:
            rid, uid, point, channel, probability, key, version = r
            if campaign is not None:
                d = campaign[rid]
                design = (d.basis, text_of(d.probability), d.stratum,
                          text_of(d.psu) if d.psu is not None else str(rid), text_of(d.weight),
                          text_of(d.fpc), text_of(d.psu2), text_of(d.fpc2))
            else:
                combo = (channel, uid, point, probability)
                got = designs_of.get(combo)
                if got is None:
                    d = micro.strata.design_for(channel, uid, point, probability)
                    got = designs_of[combo] = (
                        d.basis, text_of(d.probability), d.stratum,
                        "" if d.psu is None else text_of(d.psu), text_of(d.weight),
                        text_of(d.fpc), text_of(d.psu2), text_of(d.fpc2))
                design = got if got[3] else (*got[:3], str(rid), *got[4:])
            cells.append((str(rid), period, *units[uid], text_of(point), channel, design[0],
                          design[1], key, str(version), design[2], design[3], design[4],
                          design[5], design[6], design[7]))
        for name, values in zip(BASE_COLUMNS, zip(*cells, strict=True), strict=True):
            columns[name] = np.array(values, dtype=object)
        by_version: dict[tuple[str, int], list[int]] = {}
        for i, r in enumerate(rows):
            by_version.setdefault((r[5], r[6]), []).append(i)
        answer_rows = np.searchsorted(ids, answers["response_id"].to_numpy())
        for key, positions in by_version.items():
            mine = np.zeros(n, dtype=bool)
            mine[positions] = True
            own = answers[mine[answer_rows]] if len(answers) else answers
            for name, values in _version_columns(kinds[key], own, ids[positions]).items():
                column = columns.get(name)
                if column is None:
                    column = columns[name] = np.full(n, "", dtype=object)
                column[positions] = values
        yield n, columns
        del columns, cells, answers  # before the next chunk is read
