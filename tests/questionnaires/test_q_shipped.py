"""The shipped definitions: they load, round-trip, and follow the official structure."""

from __future__ import annotations

import json

import pytest

from questionnaires import (
    DEFAULT_ROOT,
    Definition,
    definition_hash,
    dumps_canonical,
    dumps_pretty,
    from_dict,
    load,
    load_all,
    score_response,
    to_dict,
    validate_answers,
)

pytestmark = pytest.mark.filterwarnings("error")

KEYS = {
    "desk_rating",
    "sipas_2023",
    "sipas_2017",
    "health_outpatient",
    "health_inpatient",
    "edu_parents_preschool",
    "edu_parents_primary",
    "edu_parents_lower_secondary",
}
SHIPPED = load_all()
IDS = [d.ref for d in SHIPPED]
LIKERT_LABELS = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def test_every_shipped_key_loads() -> None:
    assert {d.key for d in SHIPPED} == KEYS
    assert all(d.version == 1 for d in SHIPPED)


@pytest.mark.parametrize("defn", SHIPPED, ids=IDS)
def test_round_trip_json_dataclasses_json(defn: Definition) -> None:
    path = DEFAULT_ROOT / defn.key / f"v{defn.version}.json"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert to_dict(defn) == data
    assert dumps_pretty(defn) == text
    again = from_dict(json.loads(dumps_canonical(defn)))
    assert again == defn
    assert definition_hash(again) == definition_hash(defn)
    assert json.loads(dumps_canonical(defn)) == data


@pytest.mark.parametrize("defn", SHIPPED, ids=IDS)
def test_metadata(defn: Definition) -> None:
    assert defn.decisions and defn.title.vi and defn.title.en
    assert defn.status == ("retired" if defn.key == "sipas_2017" else "published")
    assert defn.sector == (
        "health"
        if defn.key.startswith("health")
        else "education"
        if defn.key.startswith("edu")
        else "administrative"
    )
    # The form-level mark is the weakest mark of the structure, so it is never stronger
    # than every item's mark.
    order = ["verified", "secondary", "inferred"]
    assert order.index(defn.provenance) >= min(order.index(i.provenance) for i in defn.items)


@pytest.mark.parametrize("defn", SHIPPED, ids=IDS)
def test_leaf_weights_sum_to_one(defn: Definition) -> None:
    flattenable = 0
    for node in defn.index.nodes:
        result = defn.index.flatten(node.id)
        if not result.ok:
            assert result.reason and result.needs
            continue
        flattenable += 1
        weights = defn.index.leaf_weights(node.id)
        assert abs(sum(weights.values()) - 1.0) <= 1e-9, node.id
        assert all(w > 0 for w in weights.values())
        assert set(weights) == set(defn.index.items_under(node.id))
    assert flattenable >= 1


@pytest.mark.parametrize("defn", SHIPPED, ids=IDS)
def test_likert_items_use_five_labelled_levels(defn: Definition) -> None:
    for item in defn.items:
        if item.type == "likert5":
            assert item.scale is not None
            labels = [o.label.vi for o in defn.scale(item.scale).options]
            if defn.sector == "health":
                assert [label.split(" / ")[0] for label in labels] == LIKERT_LABELS
            else:
                assert labels == LIKERT_LABELS


@pytest.mark.parametrize("defn", SHIPPED, ids=IDS)
def test_empty_and_satisfied_responses(defn: Definition) -> None:
    required = {e.item_id for e in validate_answers(defn, {})}
    assert required == {i.id for i in defn.items if i.required and i.show_if is None}
    answers: dict[str, object] = {}
    for item in defn.items:
        if item.type in ("likert5", "single_choice", "points") and item.scale:
            answers[item.id] = defn.scale(item.scale).values[-1 if item.type == "points" else 0]
        elif item.type == "yes_no":
            answers[item.id] = True
    assert validate_answers(defn, answers) == []
    scores = score_response(defn, answers)
    assert all(v is not None for k, v in scores.items() if k in answers)


def _items(defn: Definition, node_id: str) -> tuple[str, ...]:
    return defn.index.items_under(node_id)


def test_sipas_2023_structure() -> None:
    d = load("sipas_2023")
    assert len(d.index.node("dich_vu").children) == 5
    assert len(_items(d, "dich_vu")) == 19
    assert len(d.index.node("chinh_sach").children) == 4
    assert len(_items(d, "chinh_sach")) == 14
    assert d.index.overall == "sipas" and d.index.node("sipas").rule == "weighted_mean"
    assert len(_items(d, "mong_doi")) == 10
    assert len(d.pages) > 1
    service = [d.item(i) for i in _items(d, "dich_vu")]
    assert all(i.show_if and i.show_if.item == "c8_thu_tuc_hanh_chinh" for i in service)
    assert d.item("c10_thu_tuc").provenance == "inferred"
    tree = d.index.with_weights("sipas", [0.6, 0.4])
    assert tree.leaf_weights("sipas")["c9_01"] == pytest.approx(0.6 / 4 / 2)


def test_sipas_2017_structure() -> None:
    d = load("sipas_2017")
    assert d.status == "retired" and d.superseded_by == "sipas_2023"
    assert [len(d.index.node(c).children) for c in d.index.node("sipas").children] == [
        4,
        5,
        6,
        3,
        4,
    ]
    marks = [d.item(i).provenance for i in _items(d, "sipas")]
    # Row marks of questionnaire-items.md §4.1 (its summary table says 11/11; rows say 12/10).
    assert marks.count("secondary") == 12 and marks.count("inferred") == 10


@pytest.mark.parametrize(("key", "n"), [("health_inpatient", 36), ("health_outpatient", 31)])
def test_health_structure(key: str, n: int) -> None:
    d = load(key)
    likert = _items(d, "ty_le_hai_long_chung")
    assert len(likert) == n and all(d.item(i).type == "likert5" for i in likert)
    assert all(d.item(i).not_applicable for i in likert)
    assert d.index.node("ty_le_hai_long_chung").pooling == "answers"
    assert not d.index.flatten("ty_le_hai_long_chung").ok
    assert d.index.node("toan_dien").rule == "comprehensive"
    assert _items(d, "toan_dien") == likert
    assert d.item("g1").type == "percentage"
    assert d.index.node("quay_lai").values == (4, 5)
    cost = "e7" if key == "health_inpatient" else "e5"
    assert d.item(cost).type == "single_choice" and cost not in likert
    scores = score_response(d, {i: 5 for i in likert})
    assert scores["e1"] == 5.0


def test_desk_rating_structure() -> None:
    d = load("desk_rating")
    points = [i for i in d.items if i.type == "points"]
    assert len(points) == 9 and d.pages == (1,)
    assert d.scale(d.item("muc_do_hai_long").scale or "").values == (1, 2, 3)
    assert d.index.leaf_weights("hai_long") == {"muc_do_hai_long": 1.0}
    assert d.index.flatten("hai_long").threshold == 2
    assert {d.item(i).provenance for i in ("tiep_thu_pakn", "dvc_truc_tuyen")} == {"inferred"}


@pytest.mark.parametrize(
    "key", ["edu_parents_preschool", "edu_parents_primary", "edu_parents_lower_secondary"]
)
def test_education_structure(key: str) -> None:
    d = load(key)
    assert len(d.index.node("chi_so_hai_long").children) == 5
    assert len([s for s in d.sections if not s.profile]) == 6
    assert "2329/QĐ-BGDĐT" in d.decisions[0]
    assert d.item("hai_long_chung").id not in _items(d, "chi_so_hai_long")
