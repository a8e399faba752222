"""Index trees: flattening to item weights, and what cannot be flattened."""

from __future__ import annotations

import pytest

from questionnaires import Definition, NotFlattenableError, parse_definition

from .factory import minimal

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def defn() -> Definition:
    return parse_definition(minimal(), source="demo/v1.json")


def test_share_node_flattens_to_equal_weights(defn: Definition) -> None:
    assert defn.index.leaf_weights("nhom_a") == {"q_lik": 0.5, "q_lik2": 0.5}
    assert defn.index.flatten("nhom_a").threshold == 4
    assert defn.index.leaf_weights("tb_a") == {"q_lik": 0.5, "q_lik2": 0.5}


def test_weighted_mean_multiplies_weights() -> None:
    data = minimal()
    data["index"]["nodes"][1] = {
        **data["index"]["nodes"][1],
        "children": ["q_lik2"],
        "threshold": 4,
    }
    defn = parse_definition(data, source="demo/v1.json")
    weights = defn.index.leaf_weights("tong")
    assert weights == pytest.approx({"q_lik": 0.375, "q_lik2": 0.625})
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    ("node_id", "reason", "needs"),
    [
        ("tong", "mixes thresholds 4 and 2", "one satisfaction_index() per threshold"),
        ("diem", "averages scores, not shares", "score_response()"),
        ("toan_dien", "is a per-respondent indicator", "comprehensive_indicator()"),
        ("nhom_c", "counts the answer values [2, 3], not a threshold", "item_indicators()"),
        ("gop", "pools the answers of all its items", "valid answer counts"),
    ],
)
def test_nodes_that_cannot_be_flattened_say_why(
    defn: Definition, node_id: str, reason: str, needs: str
) -> None:
    result = defn.index.flatten(node_id)
    assert not result.ok and result.weights == ()
    assert result.reason is not None and reason in result.reason
    assert result.needs is not None and needs in result.needs
    with pytest.raises(NotFlattenableError) as info:
        defn.index.leaf_weights(node_id)
    assert info.value.node_id == node_id and reason in str(info.value)


def test_not_flattenable_child_is_named() -> None:
    data = minimal()
    data["index"]["nodes"][7]["children"] = ["nhom_a", "nhom_c"]
    defn = parse_definition(data, source="demo/v1.json")
    result = defn.index.flatten("tb_a")
    assert result.reason is not None and result.reason.startswith("child 'nhom_c' counts")


def test_with_weights_configures_a_weighted_mean(defn: Definition) -> None:
    tree = defn.index.with_weights("tong", [0.5, 0.5])
    assert tree.node("tong").weights == (0.5, 0.5)
    assert defn.index.node("tong").weights == (0.75, 0.25)  # the definition is unchanged
    with pytest.raises(ValueError, match="sum to 1"):
        defn.index.with_weights("tong", [0.5, 0.6])
    with pytest.raises(ValueError, match="expected 2 weights"):
        defn.index.with_weights("tong", [1.0])
    with pytest.raises(ValueError, match="not 'weighted_mean'"):
        defn.index.with_weights("tb_a", [1.0])


def test_tree_navigation(defn: Definition) -> None:
    assert defn.index.roots[0] == "tong"
    assert set(defn.index.roots) == {"tong", "diem", "toan_dien", "nhom_c", "gop", "tb_a"}
    assert defn.index.items_under("tong") == ("q_lik", "q_lik2", "q_pts")
    assert defn.index.is_node("nhom_a") and not defn.index.is_node("q_lik")
    with pytest.raises(KeyError):
        defn.index.node("zzz")


def test_default_threshold_and_pooling_are_filled_in() -> None:
    data = minimal()
    del data["index"]["nodes"][0]["threshold"]
    defn = parse_definition(data, source="demo/v1.json")
    node = defn.index.node("nhom_a")
    assert node.threshold == 4 and node.pooling == "items"


def test_flatten_all_lists_every_node(defn: Definition) -> None:
    report = defn.index.flatten_all()
    assert set(report) == {n.id for n in defn.index.nodes}
    assert sorted(k for k, v in report.items() if v.ok) == ["nhom_a", "nhom_b", "tb_a"]


def test_package_docstring_examples() -> None:
    import doctest

    import questionnaires

    assert doctest.testmod(questionnaires).failed == 0
