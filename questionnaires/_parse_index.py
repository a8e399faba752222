"""Parse and check the index tree against the items of a definition."""

from __future__ import annotations

from typing import cast

from ._base import PROVENANCES, Provenance
from ._parse_items import parse_text
from ._reader import Reader, as_number
from .index_tree import ITEM_RULES, RULES, WEIGHT_TOLERANCE, IndexNode, IndexTree, Pooling, Rule
from .item_types import item_type
from .model import Item, Scale

DEFAULT_THRESHOLD = 4


def parse_index(
    parent: Reader, items: dict[str, Item], scales: dict[str, Scale], taken: set[str]
) -> IndexTree:
    """Read ``index`` = ``{"overall": id, "nodes": [...]}`` and check it.

    Checks: every child exists, ids are unique (also against items and sections),
    the rule fits its children, weights sum to 1, thresholds and values exist on the
    items' scales, the tree has no cycle, and a (weighted) mean does not mix shares
    with scores.
    """
    r = Reader(parent.raw("index"), parent.at("index"), parent.source)
    overall = r.identifier("overall")
    readers = list(r.objects("nodes"))
    node_ids: set[str] = set()
    for n in readers:
        nid = n.identifier("id")
        if nid in node_ids or nid in taken:
            n.fail(f"duplicate id {nid!r}", "id")
        node_ids.add(nid)
    nodes = [_node(n, items, scales, node_ids) for n in readers]
    if overall not in node_ids:
        r.fail(f"refers to unknown node {overall!r}", "overall")
    r.done()
    by_id = {n.id: (n, rd) for n, rd in zip(nodes, readers, strict=True)}
    measures: dict[str, str] = {}
    for node in nodes:
        _measure(node.id, by_id, measures, [])
    return IndexTree(overall, tuple(nodes))


def _node(
    r: Reader, items: dict[str, Item], scales: dict[str, Scale], nodes: set[str]
) -> IndexNode:
    nid = r.identifier("id")
    title = parse_text(r, "title")
    rule = cast(Rule, r.choice("rule", RULES))
    provenance = cast(Provenance, r.choice("provenance", PROVENANCES))
    children: list[str] = []
    for i, raw in enumerate(r.array("children")):
        path = f"children[{i}]"
        if not isinstance(raw, str):
            r.fail("expected string", path)
        if raw in children:
            r.fail(f"duplicate child {raw!r}", path)
        if raw == nid:
            r.fail(f"cycle: {nid} -> {nid}", path)
        if rule in ITEM_RULES:
            if raw in nodes:
                r.fail(f"rule {rule!r} takes items, {raw!r} is a node", path)
            if raw not in items:
                r.fail(f"refers to unknown item {raw!r}", path)
            if rule not in item_type(items[raw].type).rules:
                r.fail(f"rule {rule!r} does not fit item {raw!r} of type {items[raw].type!r}", path)
        elif raw not in nodes:
            kind = "an item" if raw in items else "unknown"
            r.fail(f"rule {rule!r} takes nodes, {raw!r} is {kind}", path)
        children.append(raw)
    child_items = [items[c] for c in children] if rule in ITEM_RULES else []
    threshold = _threshold(r, rule, child_items, scales)
    values = _values(r, rule, child_items, scales)
    weights = _weights(r, rule, len(children))
    pooling: Pooling | None = None
    if rule in ("share_at_least", "share_in"):
        pooling = cast(Pooling, r.choice("pooling", ("items", "answers"), default="items"))
    elif "pooling" in r.data:
        r.fail(f"not allowed for rule {rule!r}", "pooling")
    if rule == "mean_score" and len({i.type for i in child_items}) > 1:
        r.fail("mean_score needs items of one type", "children")
    note = r.string("note", required=False)
    r.done()
    assert title is not None
    return IndexNode(
        nid, title, rule, tuple(children), provenance, threshold, values, weights, pooling, note
    )


def _threshold(r: Reader, rule: str, items: list[Item], scales: dict[str, Scale]) -> int | None:
    if rule not in ("share_at_least", "comprehensive"):
        if "threshold" in r.data:
            r.fail(f"not allowed for rule {rule!r}", "threshold")
        return None
    t = r.integer("threshold", required=False)
    t = DEFAULT_THRESHOLD if t is None else t
    for item in items:
        if t not in _item_values(item, scales):
            r.fail(f"{t} is not a value of item {item.id!r} (scale {item.scale!r})", "threshold")
    return t


def _values(
    r: Reader, rule: str, items: list[Item], scales: dict[str, Scale]
) -> tuple[int, ...] | None:
    if rule != "share_in":
        if "values" in r.data:
            r.fail(f"not allowed for rule {rule!r}", "values")
        return None
    out: list[int] = []
    for i, v in enumerate(r.array("values")):
        if isinstance(v, bool) or not isinstance(v, int):
            r.fail("expected integer", f"values[{i}]")
        for item in items:
            if v not in _item_values(item, scales):
                r.fail(f"{v} is not a value of item {item.id!r}", f"values[{i}]")
        out.append(v)
    return tuple(out)


def _item_values(item: Item, scales: dict[str, Scale]) -> tuple[int | bool, ...]:
    """Return the answer values of an item under a threshold or share_in rule."""
    values = item_type(item.type).values(item, scales)
    assert values is not None, f"item type {item.type!r} takes a value rule but has no values"
    return values


def _weights(r: Reader, rule: str, n: int) -> tuple[float, ...] | None:
    if rule != "weighted_mean":
        if "weights" in r.data:
            r.fail(f"not allowed for rule {rule!r}", "weights")
        return None
    raw = r.array("weights")
    weights = tuple(as_number(w, f"{r.at('weights')}[{i}]", r.source) for i, w in enumerate(raw))
    if len(weights) != n:
        r.fail(f"{len(weights)} weights for {n} children", "weights")
    if any(w < 0 for w in weights):
        r.fail("weights must not be negative", "weights")
    if abs(sum(weights) - 1.0) > WEIGHT_TOLERANCE:
        r.fail(f"weights sum to {sum(weights)!r}, expected 1", "weights")
    return weights


def _measure(
    nid: str, by_id: dict[str, tuple[IndexNode, Reader]], done: dict[str, str], stack: list[str]
) -> str:
    """Return ``share`` or ``score`` for a node; detect cycles and mixed measures."""
    if nid in done:
        return done[nid]
    node, r = by_id[nid]
    if nid in stack:
        cycle = " -> ".join([*stack[stack.index(nid) :], nid])
        r.fail(f"cycle: {cycle}", "children")
    if node.rule in ITEM_RULES:
        done[nid] = "score" if node.rule == "mean_score" else "share"
        return done[nid]
    kinds = {_measure(c, by_id, done, [*stack, nid]) for c in node.children}
    if len(kinds) > 1:
        r.fail("mixes share and score children", "children")
    done[nid] = kinds.pop()
    return done[nid]
