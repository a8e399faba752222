"""The index tree of a definition: items → components → contents → overall.

Rules
-----
``share_at_least``
    Children are items. Item index = share of valid answers at or above ``threshold``
    (default 4, i.e. levels 4–5). With ``pooling="items"`` (default) the node is the
    unweighted mean of its item indices (methodology §3.4); with ``pooling="answers"``
    the answers of all items are pooled (Bộ Y tế "tỷ lệ hài lòng chung", §4.3).
``share_in``
    Like ``share_at_least`` but "satisfied" means one of ``values`` (e.g. return
    intention 4 or 5 on a scale whose 6 means "other").
``mean_score``
    Children are items; mean of all valid scores (Σ scores / number of valid answers).
``comprehensive``
    Children are items; share of respondents who rated every listed item at or above
    ``threshold`` (Bộ Y tế "chỉ số hài lòng toàn diện").
``mean`` / ``weighted_mean``
    Children are nodes; (weighted) mean of the child indices. Weights sum to 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from ._base import Provenance, Text
from .errors import NotFlattenableError

__all__ = ["RULES", "Flattening", "IndexNode", "IndexTree", "Pooling", "Rule"]

Rule = Literal["share_at_least", "share_in", "mean_score", "comprehensive", "mean", "weighted_mean"]
Pooling = Literal["items", "answers"]
RULES: Final = (
    "share_at_least",
    "share_in",
    "mean_score",
    "comprehensive",
    "mean",
    "weighted_mean",
)
ITEM_RULES: Final = frozenset({"share_at_least", "share_in", "mean_score", "comprehensive"})
NODE_RULES: Final = frozenset({"mean", "weighted_mean"})
WEIGHT_TOLERANCE: Final = 1e-9


@dataclass(frozen=True)
class IndexNode:
    """One node of the index tree (see the module docstring for the rules)."""

    id: str
    title: Text
    rule: Rule
    children: tuple[str, ...]
    provenance: Provenance
    threshold: int | None = None
    values: tuple[int, ...] | None = None
    weights: tuple[float, ...] | None = None
    pooling: Pooling | None = None
    note: str | None = None


@dataclass(frozen=True)
class Flattening:
    """Result of trying to flatten a node into weights on items.

    Attributes
    ----------
    node_id : str
        The node.
    ok : bool
        Whether the node is a (weighted) mean of ``share_at_least`` item indices with a
        single threshold.
    threshold : int or None
        The common threshold when ``ok``.
    weights : tuple of (item id, weight)
        Item weights summing to 1 when ``ok``; empty otherwise.
    reason, needs : str or None
        When not ``ok``: why, and what the analysis needs instead.
    """

    node_id: str
    ok: bool
    threshold: int | None
    weights: tuple[tuple[str, float], ...]
    reason: str | None = None
    needs: str | None = None


def _fail(node_id: str, reason: str, needs: str) -> Flattening:
    return Flattening(node_id, False, None, (), reason, needs)


@dataclass(frozen=True)
class IndexTree:
    """The index nodes of a definition and the id of the overall node."""

    overall: str
    nodes: tuple[IndexNode, ...]

    def node(self, node_id: str) -> IndexNode:
        """Return node ``node_id`` (``KeyError`` if unknown)."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def is_node(self, ref: str) -> bool:
        """Return whether ``ref`` names a node (otherwise it names an item)."""
        return any(node.id == ref for node in self.nodes)

    @property
    def roots(self) -> tuple[str, ...]:
        """Return the nodes that are no other node's child (the overall node first)."""
        children = {c for node in self.nodes for c in node.children}
        roots = [n.id for n in self.nodes if n.id not in children and n.id != self.overall]
        return (self.overall, *roots)

    def items_under(self, node_id: str) -> tuple[str, ...]:
        """Return the item ids below ``node_id``, in first-seen order, without repeats."""
        seen: dict[str, None] = {}
        for child in self.node(node_id).children:
            if self.is_node(child):
                seen.update(dict.fromkeys(self.items_under(child)))
            else:
                seen[child] = None
        return tuple(seen)

    def flatten(self, node_id: str) -> Flattening:
        """Try to express ``node_id`` as weights on ``share_at_least`` item indices.

        Parameters
        ----------
        node_id : str
            The node to flatten.

        Returns
        -------
        Flattening
            ``ok`` with weights and threshold, or the reason and what is needed instead.
        """
        node = self.node(node_id)
        if node.rule == "share_at_least":
            if node.pooling == "answers":
                return _fail(
                    node_id,
                    "pools the answers of all its items",
                    "satisfied and valid answer counts summed over its items "
                    "(equivalently item weights proportional to each item's valid count)",
                )
            n = len(node.children)
            weights = {c: 1.0 / n for c in node.children}
            return Flattening(node_id, True, node.threshold, tuple(weights.items()))
        if node.rule == "share_in":
            return _fail(
                node_id,
                f"counts the answer values {list(node.values or ())}, not a threshold",
                "0/1 indicators per item from item_indicators(), then their mean",
            )
        if node.rule == "mean_score":
            return _fail(
                node_id, "averages scores, not shares", "item values from score_response()"
            )
        if node.rule == "comprehensive":
            return _fail(
                node_id,
                "is a per-respondent indicator (every item at or above the threshold)",
                "the 0/1 indicator per respondent from comprehensive_indicator(), "
                "estimated as a proportion",
            )
        n = len(node.children)
        child_weights = node.weights if node.weights is not None else (1.0 / n,) * n
        totals: dict[str, float] = {}
        threshold: int | None = None
        for child, w in zip(node.children, child_weights, strict=True):
            sub = self.flatten(child)
            if not sub.ok:
                return _fail(node_id, f"child {child!r} {sub.reason}", sub.needs or "")
            if threshold is not None and sub.threshold != threshold:
                return _fail(
                    node_id,
                    f"mixes thresholds {threshold} and {sub.threshold}",
                    "one satisfaction_index() per threshold, combined with the node weights",
                )
            threshold = sub.threshold
            for item_id, item_w in sub.weights:
                totals[item_id] = totals.get(item_id, 0.0) + w * item_w
        return Flattening(node_id, True, threshold, tuple(totals.items()))

    def flatten_all(self) -> dict[str, Flattening]:
        """Return :meth:`flatten` for every node, to list what can and cannot be flattened."""
        return {node.id: self.flatten(node.id) for node in self.nodes}

    def leaf_weights(self, node_id: str) -> dict[str, float]:
        """Return the weights on items of a flattenable node.

        Raises
        ------
        NotFlattenableError
            If the node is not a (weighted) mean of ``share_at_least`` leaves with one
            threshold; the exception says why and what is needed instead.
        """
        result = self.flatten(node_id)
        if not result.ok:
            raise NotFlattenableError(node_id, result.reason or "", result.needs or "")
        return dict(result.weights)

    def with_weights(self, node_id: str, weights: Sequence[float]) -> IndexTree:
        """Return a copy where the ``weighted_mean`` node ``node_id`` has new weights.

        This is how an analyst configures e.g. the SIPAS overall rule without a new
        questionnaire version.

        Raises
        ------
        ValueError
            If the node is not ``weighted_mean`` or the weights are invalid.
        """
        node = self.node(node_id)
        if node.rule != "weighted_mean":
            raise ValueError(f"node {node_id!r} has rule {node.rule!r}, not 'weighted_mean'")
        new = tuple(float(w) for w in weights)
        if len(new) != len(node.children):
            raise ValueError(f"expected {len(node.children)} weights, got {len(new)}")
        if any(w < 0 for w in new) or abs(sum(new) - 1.0) > WEIGHT_TOLERANCE:
            raise ValueError(f"weights must be non-negative and sum to 1, got {sum(new)!r}")
        nodes = tuple(replace(n, weights=new) if n.id == node_id else n for n in self.nodes)
        return replace(self, nodes=nodes)
