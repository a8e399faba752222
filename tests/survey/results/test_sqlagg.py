"""The SQL path of the satisfaction indices (two passes inside the database) gives the
in-memory path's numbers for every unit's subtree and every sector."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

import analysis
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.models import Answer
from survey.extensions import db
from survey.models import Unit
from survey.org.services import units
from survey.results.models import TransactionCount
from survey.results.services import estimation, microdata, sqlagg
from survey.results.services.periods import parse_period
from tests.survey.results.test_results import OCT, _submit, province  # noqa: F401

FIELDS = ("estimate", "se", "df", "n", "deff")


def _load(scope: int | None = None, period: str = "2026-10") -> microdata.Microdata:
    return microdata.load(microdata.Selection(parse_period(period), scope_unit_id=scope))


def _in_memory(micro: microdata.Microdata) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The in-memory path from the microdata rows (Microdata.rows(): scoring, show_if and
    designs per response in Python): SurveyDesign.satisfaction_index of every index node
    by each unit-depth column (below the scope root) and by sector."""
    grouped: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for row in micro.rows():
        grouped.setdefault((row["questionnaire"], int(row["version"]), row["basis"]), []) \
            .append(row)
    floor = 0
    if micro.selection.scope_unit_id is not None:
        floor = db.session.get(Unit, micro.selection.scope_unit_id).path.count("/") - 2
    out = {}
    for (key, version, basis), rows in grouped.items():
        df = pd.DataFrame(rows)
        paths = df["unit_path"].str.split("/")
        depths = [f"dom{d}" for d in range(floor, int(paths.str.len().max()))]
        for d, name in enumerate(depths, start=floor):
            df[name] = paths.str[d].fillna("")
        assert df["fpc"].notna().all() or df["fpc"].isna().all()  # fixtures: no mixed fpc
        fpc = "fpc" if df["fpc"].notna().all() else None
        design = analysis.SurveyDesign(df, strata="stratum", weights="weight", fpc=fpc,
                                       lonely_psu="adjust")
        lay = micro.layouts[(key, version)]
        for node in sqlagg.index_nodes(micro, key, version):
            plan = estimation.plan(lay, node)
            for by in [*depths, "sector"]:
                est = design.satisfaction_index(list(plan.columns), threshold=1,
                                                item_weights=plan.weights, by=by)
                domain = "sector" if by == "sector" else "unit"
                for i, k in enumerate(est.keys[by]):
                    if k != "":
                        row = {f: float(getattr(est, f)[i]) for f in FIELDS}
                        row["missing"] = est.missing_children[i]
                        out[(f"{key} v{version}", basis, node, domain, str(k))] = row
    return out


def _estimate_all(micro: microdata.Microdata) -> dict[tuple[Any, ...], dict[str, Any]]:
    """estimation.estimate_all's rows (the snapshot path), by the same keys."""
    all_units = {u.id: u for u in db.session.scalars(select(Unit))}
    out = {}
    for row in estimation.estimate_all(micro, all_units, with_points=False):
        key = row["unit_id"] if row["domain"] == "unit" else row["sector"]
        missing = [p[len("missing:"):] for p in row["flags"].split(",")
                   if p.startswith("missing:")]
        row["missing"] = tuple(missing[0].split("+")) if missing else ()
        out[(row["questionnaire"], row["basis"], row["node"], row["domain"], str(key))] = row
    return out


def _sql_rows(results: list[sqlagg.NodeEstimates]) -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    for res in results:
        questionnaire = f"{res.questionnaire} v{res.version}"
        for domain, est, col in (("unit", res.units, "unit"), ("sector", res.sectors, "sector")):
            for i, key in enumerate(est.keys[col]):
                row = {f: float(getattr(est, f)[i]) for f in FIELDS}
                row["missing"] = est.missing_children[i]
                out[(questionnaire, res.basis, res.node, domain, str(key))] = row
    return out


def _close(a: float | None, b: float | None) -> bool:
    a = math.nan if a is None else float(a)
    b = math.nan if b is None else float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-10 * max(abs(a), abs(b)) or abs(a - b) < 1e-300


def _assert_same(micro: microdata.Microdata, reference: Callable[..., Any] = _in_memory,
                 ) -> dict[tuple[Any, ...], dict[str, Any]]:
    sql = _sql_rows(sqlagg.estimate_index_nodes(micro))
    nodes = {(k[0], k[2]) for k in sql}
    memory = {k: r for k, r in reference(micro).items() if (k[0], k[2]) in nodes}
    assert sql and set(sql) == set(memory)
    for key, got in sql.items():
        want = memory[key]
        for f in FIELDS:
            assert _close(got[f], want[f]), (key, f, got[f], want[f])
        assert got["missing"] == want["missing"], key
    return sql


def test_every_unit_and_sector_as_in_memory(province: dict[str, Any]) -> None:  # noqa: F811
    micro = _load()
    sql = _assert_same(micro)
    assert _assert_same(micro, _estimate_all) == sql  # the snapshot path's rows too
    root, centre = province["root"], province["centre"]
    nodes = {(k[1], k[2]) for k in sql}
    assert nodes == {(b, n) for b in ("open", "tokens") for n in ("hai_long", "dat_yeu_cau")}
    # Each subtree is a domain: the province holds all open respondents, the centre the tokens.
    open_root = sql[("desk_rating v1", "open", "dat_yeu_cau", "unit", str(root.id))]
    assert open_root["n"] == 42 and open_root["se"] > 0
    assert sql[("desk_rating v1", "tokens", "hai_long", "unit", str(centre.id))]["n"] == 15
    assert ("desk_rating v1", "open", "hai_long", "sector", "administrative") in sql


def test_a_scope_leaves_out_the_domains_above_its_root(
        province: dict[str, Any]) -> None:  # noqa: F811
    centre = province["centre"]
    micro = _load(scope=centre.id)
    sql = _assert_same(micro)
    assert {k[4] for k in sql if k[3] == "unit"} == {str(centre.id)}


def test_column_count_does_not_grow_with_the_items(tree: dict[str, Any]) -> None:
    micro = _load()
    results = sqlagg.estimate_index_nodes(micro)
    sizes = {}
    for res in results:
        plan = estimation.plan(micro.layouts[(res.questionnaire, res.version)], res.node)
        sizes[len(plan.columns)] = tuple((name, cols) for name, cols, _rows in res.queries)
    assert {1, 9, 33} <= set(sizes)  # one item up to the 33 items of the SIPAS 2023 index
    assert len(set(sizes.values())) == 1
    shape = dict(next(iter(sizes.values())))
    assert shape == {"design_groups": 4, "strata": 3, "pass1_items": 5, "pass1_domains": 3,
                     "pass2": 7}


@pytest.fixture
def tree(province: dict[str, Any], db: Any) -> dict[str, Any]:  # noqa: F811
    """SIPAS 2023 answers in a deeper tree (province → department → hospital, and a
    commune) next to the desk_rating province: several sectors, a lonely stratum, item
    weights over two levels, show_if, and answers stored for items that were hidden."""
    version = questionnaire_versions.latest_published("sipas_2023")
    defn = questionnaire_versions.definition_of(version)
    root = province["root"]
    dept = units.create_unit(root, {"name": "Sở Y tế", "kind": "department",
                                    "sector": "health", "code": "99.SYT"})
    hosp = units.create_unit(dept, {"name": "Bệnh viện", "kind": "hospital",
                                    "sector": "health", "code": "99.BV"})
    commune = units.create_unit(root, {"name": "Xã 3", "kind": "commune",
                                       "sector": "administrative", "code": "99.X3"})
    rng = random.Random(11)
    ids = []
    for unit, n, quality in ((dept, 1, 0.5), (hosp, 25, 0.8), (commune, 20, 0.2)):
        point = units.create_point(unit, "Một cửa")
        for _ in range(n):
            ids.append(_submit(defn, version, unit.id, point.id, "desk_qr", rng, quality,
                               when=OCT))
        if unit is hosp:
            db.session.add(TransactionCount(service_point_id=point.id, count=900,
                                            month=OCT.date().replace(day=1)))
    # An answer stored for an item its show_if hides counts nowhere.
    gate = defn.item("c9_15").show_if
    assert gate is not None
    hidden = [r for r in ids if db.session.scalar(select(Answer.value_num).where(
        Answer.response_id == r, Answer.item_id == gate.item)) == 0.0]
    assert hidden
    for response_id in hidden[:3]:
        db.session.add(Answer(response_id=response_id, item_id="c9_15", value_num=5.0))
    db.session.commit()
    return {"dept": dept, "hosp": hosp, "commune": commune, "defn": defn}


def test_deeper_tree_weights_and_show_if_as_in_memory(tree: dict[str, Any]) -> None:
    sql = _assert_same(_load())
    key = ("sipas_2023 v1", "open", "sipas", "unit", str(tree["dept"].id))
    assert sql[key]["n"] == 26  # the department's subtree holds the hospital
    assert ("sipas_2023 v1", "open", "dv_tiep_can", "sector", "health") in sql


def test_one_node_and_refusals(province: dict[str, Any]) -> None:  # noqa: F811
    micro = _load()
    assert sqlagg.frames_in(micro) == [("desk_rating", 1, "open"), ("desk_rating", 1, "tokens")]
    assert sqlagg.index_nodes(micro, "desk_rating", 1) == ["hai_long", "dat_yeu_cau"]
    one = sqlagg.estimate_node(micro, "desk_rating", 1, "tokens", "dat_yeu_cau")
    again = sqlagg.estimate_node(micro, "desk_rating", 1, "tokens", "dat_yeu_cau")
    assert list(one.units.estimate) == list(again.units.estimate)  # TEMP tables were dropped
    with pytest.raises(ValueError, match="diem_binh_quan"):
        sqlagg.estimate_node(micro, "desk_rating", 1, "open", "diem_binh_quan")
    assert sqlagg.estimate_index_nodes(_load(period="2026-09")) == []


def _chained_questionnaire() -> dict[str, Any]:
    """A published definition whose index items hang on show_if chains: a yes/no gate, a
    single choice behind it, a multiple-choice gate (stored as text), an item weighed 0."""
    label = {"vi": "Mức độ", "en": "Level"}

    def item(id_: str, type_: str, scale: str | None = None, **extra: Any) -> dict[str, Any]:
        out = {"id": id_, "type": type_, "text": {"vi": id_, "en": id_}, "required": False,
               "provenance": "inferred", **extra}
        return {**out, "scale": scale} if scale else out

    items = [
        item("gate", "yes_no"),
        item("kind", "single_choice", "loai", show_if={"item": "gate", "in": [True]}),
        item("c1", "likert5", "hl", show_if={"item": "kind", "in": [2, 3]},
             not_applicable=True),
        item("tags", "multiple_choice", "loai", max_choices=2),
        item("c2", "likert5", "hl", show_if={"item": "tags", "in": [1]}),
        item("c3", "points", "diem"), item("c4", "likert5", "hl"),
    ]
    options = {"hl": range(1, 6), "loai": range(1, 4), "diem": range(0, 3)}
    node = {"title": label, "provenance": "inferred", "pooling": "items"}
    return {
        "format": 1, "key": "chained", "version": 1, "sector": "administrative",
        "title": label, "status": "published", "decisions": ["test"],
        "provenance": "inferred", "text_status": "summary",
        "na_label": {"vi": "Không áp dụng", "en": "N/A"},
        "scales": {k: {"options": [{"value": v, "label": label} for v in vs]}
                   for k, vs in options.items()},
        "sections": [{"id": "s", "title": label, "page": 1, "items": items}],
        "index": {"overall": "all", "nodes": [
            {**node, "id": "gated", "rule": "share_at_least", "children": ["c1", "c2"],
             "threshold": 4},
            {**node, "id": "points", "rule": "share_in", "children": ["c3"], "values": [2]},
            {**node, "id": "plain", "rule": "share_at_least", "children": ["c4"],
             "threshold": 4},
            {"id": "all", "title": label, "provenance": "inferred", "rule": "weighted_mean",
             "children": ["gated", "points", "plain"], "weights": [0.7, 0.3, 0.0]}]},
    }


def test_show_if_chains_and_choice_lists_as_in_memory(province: dict[str, Any],  # noqa: F811
                                                       db: Any) -> None:
    import questionnaires as q
    from survey.authoring.models import QuestionnaireVersion

    defn = q.parse_definition(_chained_questionnaire(), source="test")
    version = QuestionnaireVersion(key="chained", version=1, definition=q.to_dict(defn),
                                   hash=q.definition_hash(defn), status="published")
    db.session.add(version)
    db.session.commit()
    rng = random.Random(5)
    point = province["points"][2]
    unit_id = _unit_of(db, point)
    ids = [_submit(defn, version, unit_id, point, "desk_qr", rng, rng.random())
           for _ in range(40)]
    # Answers stored for hidden items (another writer than the citizen flow): never counted.
    stored = {(r, i) for r, i in db.session.execute(select(Answer.response_id, Answer.item_id)
                                                    .where(Answer.response_id.in_(ids)))}
    for response_id in ids:
        for item_id, value in (("c1", 5.0), ("c2", 5.0), ("kind", 2.0)):
            if (response_id, item_id) not in stored:
                db.session.add(Answer(response_id=response_id, item_id=item_id,
                                      value_num=value))
    db.session.commit()
    sql = _assert_same(_load())
    assert {k[2] for k in sql if k[0] == "chained v1"} == {"gated", "points", "plain", "all"}


def _unit_of(db: Any, point_id: int) -> int:
    from survey.models import ServicePoint

    return db.session.get(ServicePoint, point_id).unit_id
