"""The satisfaction indices of every unit and sector with the heavy sums inside the
database (PostgreSQL or SQLite): the two passes of :mod:`analysis.twopass`, whose column
count does not depend on the number of items. Python receives sums per (domain, item)
and per (domain, stratum) and a table per stratum, never a response.

Same estimates, SEs, df, n and deff as the in-memory path over ``Microdata.rows()``
(:func:`estimation.estimate_all`) for the nodes whose plan is ``index``
(``share_at_least`` / ``share_in`` with items pooled, and (weighted) means of them), for
each questionnaire version and channel basis. The tables of the documented SQL are TEMP
tables of the session's transaction (dropped at the end), read through CTEs named as that
SQL expects; domains, strata and items are integer codes inside the database:

- ``responses(response_id, stratum, psu, weight, domain)``: one row per (response, domain
  it belongs to). ``stratum`` and ``weight`` come from :meth:`designs.Strata.row_design`
  of each (channel, unit, point, selection probability) group, which needs per-stratum
  counts only (a small table joined back); ``psu`` is the response. Domains: the id of
  every ancestor of the response's unit from the selection's scope root down to the unit
  itself (``unit.path LIKE ancestor.path || '%'``), as estimation's ``dom0, dom1, ...``
  columns, and a negative code for its unit's sector (:data:`SECTOR_CODE`).
- ``answers(response_id, item_id, value)``: a view over ``answer`` whose ``value`` is the
  item's satisfied indicator under the share node holding it (a CASE over the valid
  stored values, computed with the questionnaire's own type registry and rules; NULL
  otherwise), without "not applicable" and without answers to items hidden by
  ``show_if``.
- ``index_items`` (items of positive weight, threshold 1), ``strata_frame`` (``fpc``),
  ``coefficients`` (:func:`analysis.linearization_coefficients`, uploaded between the
  passes).

On PostgreSQL the transaction's ``work_mem`` is raised (``SET LOCAL``, :data:`WORK_MEM`)
so that the groupings over (response, domain) rows stay in memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import analysis
import questionnaires as q
from survey.collection.models import Response
from survey.extensions import db
from survey.org.models import Sector, Unit
from survey.results.services import designs, estimation
from survey.results.services.microdata import Microdata, responses_query

LONELY_PSU: analysis.LonelyPSU = "adjust"  # as estimation.estimate_all
MAX_CHOICES_ENUMERATED = 12  # show_if on a multiple-choice item: all its answer sets
_META = sa.MetaData()  # never db.metadata: no migration, no create_all


def _temp(name: str, *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(name, _META, *columns, prefixes=["TEMPORARY"])


_S, _F, _I = sa.String, sa.Double, sa.BigInteger
# Domains, strata and items are integer codes inside the database: cheaper to hash and sort
# than text in the joins and groupings over (response, domain) rows.
DESIGN = _temp("sqlagg_design", sa.Column("channel", _S), sa.Column("unit_id", _I),
               sa.Column("point_id", _I), sa.Column("probability", _F),
               sa.Column("stratum", _I), sa.Column("weight", _F))
UNIT_DOMAIN = _temp("sqlagg_unit_domain", sa.Column("unit_id", _I), sa.Column("domain", _I))
RESPONSES = _temp("sqlagg_responses", sa.Column("response_id", _I), sa.Column("stratum", _I),
                  sa.Column("psu", _I), sa.Column("weight", _F), sa.Column("domain", _I))
STRATA = _temp("sqlagg_strata", sa.Column("stratum", _I), sa.Column("population", _F))
ITEMS = _temp("sqlagg_items", sa.Column("item_id", _I), sa.Column("threshold", _F))
COEF = _temp("sqlagg_coef", sa.Column("domain", _I), sa.Column("item_id", _I),
             sa.Column("coef", _F), sa.Column("centre", _F))
NODE_TABLES = (ITEMS, COEF)
CTES = ("responses AS (SELECT * FROM sqlagg_responses), "
        "index_items AS (SELECT * FROM sqlagg_items), "
        "strata_frame AS (SELECT * FROM sqlagg_strata), "
        "coefficients AS (SELECT * FROM sqlagg_coef)")
# A sector's domain code (unit ids are positive).
SECTOR_CODE = {s.value: -1 - i for i, s in enumerate(Sector)}
WORK_MEM = "256MB"  # PostgreSQL, this transaction: the (response, domain) groupings in memory


@dataclass(frozen=True)
class NodeEstimates:
    """One node of one questionnaire version and basis: the estimates of every unit's
    subtree (``units``, by ``unit``: the unit id) and every sector (``sectors``, by
    ``sector``); ``queries``: (name, columns, rows) of every SELECT run for it."""

    questionnaire: str
    version: int
    basis: str
    node: str
    units: analysis.Estimates
    sectors: analysis.Estimates
    queries: tuple[tuple[str, int, int], ...]


@dataclass
class _Run:
    conn: sa.Connection
    queries: list[tuple[str, int, int]] = field(default_factory=list)
    strata: pd.DataFrame = field(default_factory=pd.DataFrame)

    def select(self, name: str, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        result = self.conn.execute(sa.text(sql), params or {})
        cols = list(result.keys())
        frame = pd.DataFrame(result.all(), columns=cols)
        for c in cols:  # PostgreSQL sums integers as numeric (Decimal); NULL comes as None
            if frame[c].dtype == object:
                frame[c] = np.array([np.nan if v is None else float(v) for v in frame[c]])
        self.queries.append((name, len(cols), len(frame)))
        return frame


def frames_in(micro: Microdata) -> list[tuple[str, int, str]]:
    """(questionnaire, version, basis) of the selection, as estimation groups them."""
    query = responses_query(micro.selection).with_only_columns(
        Response.questionnaire_key, Response.questionnaire_version, Response.channel).distinct()
    found = {(k, int(v), designs.BASIS_OF_CHANNEL[c])
             for k, v, c in db.session.execute(query).all()}
    return sorted(f for f in found if f[:2] in micro.layouts)


def index_nodes(micro: Microdata, key: str, version: int) -> list[str]:
    """The nodes of a version whose plan is ``index`` (the ones this path estimates)."""
    lay = micro.layouts[(key, version)]
    return [n.id for n in lay.definition.index.nodes
            if estimation.plan(lay, n.id).kind == "index"]


def estimate_index_nodes(micro: Microdata) -> list[NodeEstimates]:
    """Every ``index`` node of every version and basis of the selection."""
    out: list[NodeEstimates] = []
    for key, version, basis in frames_in(micro):
        with _frame(micro, key, version, basis) as run:
            mark = len(run.queries)
            for node in index_nodes(micro, key, version):
                out.append(_node(run, micro, key, version, basis, node, mark))
    return out


def estimate_node(micro: Microdata, key: str, version: int, basis: str,
                  node_id: str) -> NodeEstimates:
    """One ``index`` node of one version and basis (``ValueError`` for other plans)."""
    if node_id not in index_nodes(micro, key, version):
        raise ValueError(f"node {node_id!r}: not a satisfaction index of items")
    with _frame(micro, key, version, basis) as run:
        return _node(run, micro, key, version, basis, node_id, len(run.queries))


# -- the design and the domains, once per version and basis ---------------------------------
def _insert(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[Any, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _analyze(conn: sa.Connection, *tables: sa.Table) -> None:
    """Statistics for the planner: autovacuum never sees TEMP tables."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"ANALYZE {', '.join(t.name for t in tables)}"))


def _materialized(conn: sa.Connection) -> str:
    """Compute the answers view once per query: the inlined view repeats its CASE at each
    use (2.5x slower on PostgreSQL). PostgreSQL 12+ and SQLite 3.35+ take the hint."""
    version = getattr(conn.dialect.dbapi, "sqlite_version_info", (3, 35))
    old = conn.dialect.name == "sqlite" and version < (3, 35)
    return "" if old else "MATERIALIZED "


def _drop(conn: sa.Connection, tables: tuple[sa.Table, ...]) -> None:
    for table in tables:
        table.drop(conn, checkfirst=True)


@contextmanager
def _frame(micro: Microdata, key: str, version: int, basis: str) -> Iterator[_Run]:
    conn = db.session.connection()
    tables = (DESIGN, UNIT_DOMAIN, RESPONSES, STRATA, *NODE_TABLES)
    _drop(conn, tables)  # left by a failed call on this connection (SQLite)
    for table in tables:
        table.create(conn)
    ok = False
    try:
        run = _Run(conn)
        _fill_frame(run, micro, key, version, basis)
        yield run
        ok = True
    finally:
        # After an error PostgreSQL refuses every statement until the caller's rollback,
        # which removes the tables anyway.
        if ok or conn.dialect.name != "postgresql":
            _drop(conn, tables)


def _fill_frame(run: _Run, micro: Microdata, key: str, version: int, basis: str) -> None:
    conn = run.conn
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    channels = [c for c, b in designs.BASIS_OF_CHANNEL.items() if b == basis]
    base = responses_query(micro.selection).with_only_columns(
        Response.id.label("response_id"), Response.unit_id, Response.channel,
        Response.service_point_id, Response.selection_probability,
    ).where(Response.questionnaire_key == key, Response.questionnaire_version == version,
            Response.channel.in_(channels)).subquery("base")
    group = (base.c.channel, base.c.unit_id, base.c.service_point_id,
             base.c.selection_probability)
    result = conn.execute(sa.select(*group).group_by(*group))
    rows = result.all()
    run.queries.append(("design_groups", len(result.keys()), len(rows)))
    design: list[dict[str, Any]] = []
    population: dict[int, float | None] = {}
    code: dict[str, int] = {}
    for channel, unit_id, point_id, probability in rows:
        row = micro.strata.row_design(SimpleNamespace(  # type: ignore[arg-type]
            channel=channel, unit_id=unit_id, service_point_id=point_id,
            selection_probability=probability))
        stratum = code.setdefault(row.stratum, len(code) + 1)
        design.append({"channel": channel, "unit_id": unit_id,
                       "point_id": -1 if point_id is None else point_id,
                       "probability": -1.0 if probability is None else probability,
                       "stratum": stratum, "weight": row.weight})
        population[stratum] = row.fpc
    _insert(conn, DESIGN, design)
    _insert(conn, STRATA, [{"stratum": s, "population": p} for s, p in population.items()])
    _fill_domains(conn, micro, base)
    d, ud = DESIGN.c, UNIT_DOMAIN.c
    joined = base.join(DESIGN, sa.and_(
        d.channel == base.c.channel, d.unit_id == base.c.unit_id,
        d.point_id == sa.func.coalesce(base.c.service_point_id, -1),
        d.probability == sa.func.coalesce(base.c.selection_probability, -1.0),
    )).join(UNIT_DOMAIN, ud.unit_id == base.c.unit_id)
    conn.execute(RESPONSES.insert().from_select(
        ["response_id", "stratum", "psu", "weight", "domain"],
        sa.select(base.c.response_id, d.stratum, base.c.response_id.label("psu"), d.weight,
                  ud.domain).select_from(joined)))
    if conn.dialect.name == "sqlite":  # SQLite joins by nested loops: index the join key
        conn.execute(sa.text("CREATE INDEX sqlagg_responses_id ON sqlagg_responses "
                             "(response_id)"))
    _analyze(conn, DESIGN, UNIT_DOMAIN, RESPONSES, STRATA)
    run.strata = run.select("strata", f"WITH {CTES} {analysis.SQL_STRATA}")


def _fill_domains(conn: sa.Connection, micro: Microdata, base: sa.Subquery) -> None:
    unit, ancestor = Unit.__table__.alias("u"), Unit.__table__.alias("anc")
    present = sa.select(base.c.unit_id).distinct()
    ancestors = (sa.select(unit.c.id, ancestor.c.id)
                 .select_from(unit.join(ancestor, unit.c.path.startswith(ancestor.c.path)))
                 .where(unit.c.id.in_(present)))
    if micro.selection.scope_unit_id is not None:  # estimation leaves out higher ancestors
        root = db.session.get(Unit, micro.selection.scope_unit_id)
        ancestors = ancestors.where(ancestor.c.path.startswith(
            root.path if root is not None else "/none/", autoescape=True))
    sectors = sa.select(unit.c.id, sa.case(SECTOR_CODE, value=unit.c.sector)).where(
        unit.c.id.in_(present))
    conn.execute(UNIT_DOMAIN.insert().from_select(
        ["unit_id", "domain"], sa.union_all(ancestors, sectors)))


# -- one node: the answers view, the two passes ------------------------------------------------
def _node(run: _Run, micro: Microdata, key: str, version: int, basis: str, node_id: str,
          mark: int) -> NodeEstimates:
    conn, lay = run.conn, micro.layouts[(key, version)]
    plan = estimation.plan(lay, node_id)
    weights = {k: w for k, w in (plan.weights or {}).items() if w > 0}
    items = list(weights)
    start = len(run.queries)
    for table in NODE_TABLES:
        conn.execute(table.delete())
    _insert(conn, ITEMS, [{"item_id": k, "threshold": 1.0} for k in range(1, len(items) + 1)])
    _analyze(conn, ITEMS)
    params: dict[str, Any] = {}
    answers = _answers_sql(lay.definition, lay.indicator_of, items, params)
    prefix = f"WITH answers AS {_materialized(conn)}({answers}), {CTES} "
    names = dict(enumerate(items, start=1))
    item_totals = run.select("pass1_items", prefix + analysis.SQL_PASS1_ITEMS, params)
    item_totals["item_id"] = item_totals["item_id"].map(names)
    domain_totals = run.select("pass1_domains", prefix + analysis.SQL_PASS1_DOMAINS, params)
    opts: dict[str, Any] = {"statistic": "satisfaction_index", "item_weights": weights}
    coef = analysis.linearization_coefficients(item_totals, domain_totals, items, by="domain",
                                               **opts)
    coef["item_id"] = coef["item_id"].map({n: k for k, n in names.items()})
    _insert(conn, COEF, coef.to_dict("records"))
    _analyze(conn, COEF)
    stratum_totals = run.select("pass2", prefix + analysis.SQL_PASS2, params)
    passes = (item_totals, domain_totals, stratum_totals)
    return NodeEstimates(key, version, basis, node_id,
                         _estimates(passes, run.strata, items, opts, "unit"),
                         _estimates(passes, run.strata, items, opts, "sector"),
                         tuple(run.queries[:mark] + run.queries[start:]))


def _estimates(passes: tuple[pd.DataFrame, ...], strata: pd.DataFrame, items: list[str],
               opts: dict[str, Any], by: str) -> analysis.Estimates:
    """The unit subtrees (positive domain codes) or the sectors (negative ones)."""
    sector_of = {c: s for s, c in SECTOR_CODE.items()}
    frames = []
    for frame in passes:
        rows = frame[frame["domain"] > 0 if by == "unit" else frame["domain"] < 0].copy()
        codes = rows.pop("domain").astype(int)
        rows[by] = codes if by == "unit" else codes.map(sector_of)
        frames.append(rows)
    return analysis.twopass_estimates(frames[0], frames[1], frames[2], strata, items, by=by,
                                      lonely_psu=LONELY_PSU, is_proportion=True, **opts)


def _stored_values(defn: q.Definition, item_id: str) -> list[tuple[q.StoredAnswer, object]]:
    """Every valid answer of a closed item as stored, with the answer it decodes to."""
    item = defn.item(item_id)
    kind = q.item_type(item.type)
    values = kind.values(item, {s.id: s for s in defn.scales})
    if values is None:
        raise NotImplementedError(f"item {item_id!r}: open answers are not enumerable in SQL")
    answers: list[object] = list(values)
    if kind.multiple:
        if len(values) > MAX_CHOICES_ENUMERATED:
            raise NotImplementedError(f"item {item_id!r}: too many options to enumerate")
        top = item.max_choices or len(values)
        answers = [list(c) for r in range(1, top + 1)
                   for c in itertools.combinations(sorted(values), r)]
    out = []
    for answer in answers:
        stored = kind.encode(answer)
        out.append((stored, kind.decode(stored.num, stored.text, stored.not_applicable)))
    return out


def _indicators(defn: q.Definition, holder: str, item_id: str) -> dict[float, float]:
    """Stored value -> satisfied indicator of an item, as microdata's item column computes
    it: the type's score of the decoded answer, under the share node holding the item."""
    item = defn.item(item_id)
    kind = q.item_type(item.type)
    out = {}
    for stored, answer in _stored_values(defn, item_id):
        if stored.num is None or stored.text is not None:
            raise NotImplementedError(f"item {item_id!r}: not stored as a number")
        score = kind.score(defn, item, answer)
        value = q.item_indicators(defn, holder, {item_id: score}).get(item_id)
        if value is not None:
            out[stored.num] = value
    return out


def _witness(defn: q.Definition, item_id: str) -> dict[str, object] | None:
    """Answers under which ``item_id`` is shown ({} without show_if; None: never shown)."""
    cond = defn.item(item_id).show_if
    if cond is None:
        return {}
    base = _witness(defn, cond.item)
    if base is None:
        return None
    for _stored, answer in _stored_values(defn, cond.item):
        if item_id in q.visible_items(defn, {**base, cond.item: answer}):
            return {**base, cond.item: answer}
    return None


def _chain(defn: q.Definition, item_id: str) -> tuple[tuple[str, str, tuple[Any, ...]], ...]:
    """What shows ``item_id``: per link of its show_if chain, (item, stored column, stored
    values that show the next item down); a link without values never shows it."""
    cond = defn.item(item_id).show_if
    if cond is None:
        return ()
    base = _witness(defn, cond.item)
    shown = [stored for stored, answer in _stored_values(defn, cond.item) if base is not None
             and item_id in q.visible_items(defn, {**base, cond.item: answer})]
    by_num = all(s.num is not None and s.text is None for s in shown)
    values = tuple(s.num if by_num else s.text for s in shown)
    return ((cond.item, "value_num" if by_num else "value_text", values),
            *_chain(defn, cond.item))


def _answers_sql(defn: q.Definition, holder: dict[str, str], items: list[str],
                 params: dict[str, Any]) -> str:
    """The ``answers`` view: each valid stored value of the node's items as its indicator
    (a CASE per item; items by their code). Answers of items hidden by show_if (chains
    included) are left out, as in scoring: one LEFT JOIN per link of each distinct chain
    (``answer`` has one row per response and item), hashed once by the database."""

    def bind(value: Any) -> str:
        params[f"p{len(params)}"] = value
        return f":p{len(params) - 1}"

    def among(values: Any) -> str:
        return f"({', '.join(bind(v) for v in values) or 'NULL'})"

    codes, cases = [], []
    for code, item in enumerate(items, start=1):
        name = bind(item)
        codes.append(f"WHEN {name} THEN {code}")
        by_value = _indicators(defn, holder[item], item)
        inner = " ".join(f"WHEN a.value_num IN {among(v for v, x in by_value.items() if x == y)}"
                         f" THEN {bind(float(y))}" for y in sorted(set(by_value.values())))
        cases.append(f"WHEN {name} THEN CASE {inner} END" if inner else "")
    groups: dict[tuple[Any, ...], list[str]] = {}
    for item in items:
        if chain := _chain(defn, item):
            groups.setdefault(chain, []).append(item)
    joins, where = [], f"a.item_id IN {among(items)} AND NOT a.not_applicable"
    if groups:
        shown = [f"a.item_id NOT IN {among(i for g in groups.values() for i in g)}"]
        for n, (chain, members) in enumerate(groups.items()):
            found = []
            for j, (target, column, values) in enumerate(chain):
                c = f"c{n}_{j}"
                joins.append(f"LEFT JOIN answer {c} ON {c}.response_id = a.response_id AND "
                             f"{c}.item_id = {bind(target)} AND NOT {c}.not_applicable AND "
                             f"{c}.{column} IN {among(values)}")
                found.append(f"{c}.response_id IS NOT NULL")
            shown.append(f"(a.item_id IN {among(members)} AND {' AND '.join(found)})")
        where += f" AND ({' OR '.join(shown)})"
    value = f"CASE a.item_id {' '.join(c for c in cases if c)} END" if any(cases) else "NULL"
    return (f"SELECT a.response_id, CASE a.item_id {' '.join(codes)} END AS item_id, "
            f"{value} AS value FROM answer a {' '.join(joins)} WHERE {where}")
