"""Import structure of analysis/: no loops, no deferred imports, no private names across modules.

Rules (architecture.md, "No import loops: free functions in modules, thin methods on
SurveyDesign that call them"):

1. The graph of imports between analysis modules, counting every import statement wherever
   it is (functions, ``if TYPE_CHECKING:`` blocks), has no cycle.
2. An analysis module imports another one only at module level (no import inside a function
   or a ``TYPE_CHECKING`` block: that is how loops were hidden before).
3. No module imports a name starting with ``_`` from another analysis module, or reads a
   ``_private`` attribute of anything but ``self``/``cls``. ``analysis._checks`` is the shared
   internal module: the module is private to the package, its names are not, so it needs no
   exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import analysis

ROOT = Path(__file__).resolve().parents[2] / "analysis"
MODULES = {p.stem: p for p in sorted(ROOT.glob("*.py"))}

# the package API before the import restructuring: survey/ relies on these names
API_BEFORE = {
    "allocate", "Allocation", "base_weights", "CalibrationStep", "ci", "CIMethod",
    "compare_domains", "compare_independent", "Comparison", "ConvergenceError", "Estimates",
    "index_from_sufficient", "LonelyPSU", "mean", "nonresponse_adjustment", "poststratify",
    "pps_systematic", "rake", "rank_intervals", "ratio", "sample_size_proportion",
    "satisfaction_index", "Selection", "stratified_srswor", "sufficient_statistics",
    "SurveyDesign", "systematic", "total", "trim_weights", "weight_diagnostics",
    "WeightDiagnostics",
}  # fmt: skip


def _module_name(stem: str) -> str:
    return "analysis" if stem == "__init__" else f"analysis.{stem}"


def _targets(node: ast.Import | ast.ImportFrom, here: str) -> list[tuple[str, list[str]]]:
    """Analysis modules named by an import statement, with the names taken from each."""
    out: list[tuple[str, list[str]]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == "analysis" or alias.name.startswith("analysis."):
                out.append((alias.name, []))
        return out
    if node.level:
        package = here if here == "analysis" else here.rsplit(".", 1)[0]
        module = package + (f".{node.module}" if node.module else "")
    else:
        module = node.module or ""
    if module != "analysis" and not module.startswith("analysis."):
        return out
    names = [a.name for a in node.names]
    if module == "analysis":  # ``from analysis import ci``: submodules or package names
        subs = [n for n in names if n in MODULES]
        out += [(f"analysis.{n}", []) for n in subs]
        rest = [n for n in names if n not in MODULES]
        if rest:
            out.append(("analysis", rest))
        return out
    out.append((module, names))
    return out


def _parents(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    """The import graph of analysis modules and a list of rule violations (rules 2 and 3)."""
    graph: dict[str, set[str]] = {}
    problems: list[str] = []
    for stem, path in MODULES.items():
        here = _module_name(stem)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = _parents(tree)
        graph[here] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                private = node.attr.startswith("_") and not node.attr.startswith("__")
                own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
                if private and not own:
                    problems.append(f"{path.name}:{node.lineno} reads private .{node.attr}")
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target, names in _targets(node, here):
                graph[here].add(target)
                if parents[node] is not tree:
                    problems.append(f"{path.name}:{node.lineno} imports {target} below top level")
                for name in names:
                    if name.startswith("_"):
                        problems.append(f"{path.name}:{node.lineno} imports {target}.{name}")
    return graph, problems


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of ``graph`` as a list of modules, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_every_import_target_exists() -> None:
    graph, _ = _graph()
    known = {_module_name(stem) for stem in MODULES}
    for module, targets in graph.items():
        assert targets <= known, f"{module} imports unknown analysis modules {targets - known}"


def test_import_graph_is_acyclic() -> None:
    graph, _ = _graph()
    cycle = _cycle(graph)
    assert cycle is None, "import loop: " + " -> ".join(cycle or [])


def test_no_deferred_imports_and_no_private_names_across_modules() -> None:
    _, problems = _graph()
    assert problems == []


def test_only_the_package_imports_the_package() -> None:
    graph, _ = _graph()
    users = sorted(m for m, targets in graph.items() if "analysis" in targets)
    assert users == [], f"{users} import the analysis package itself (a loop through __init__)"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from analysis.x import y", [("analysis.x", ["y"])]),
        ("from analysis import ci, Estimates", [("analysis.ci", []), ("analysis", ["Estimates"])]),
        ("from .estimators import _f", [("analysis.estimators", ["_f"])]),
        ("import analysis.variance as v", [("analysis.variance", [])]),
        ("import numpy", []),
    ],
)  # fmt: skip
def test_import_parser(source: str, expected: list[tuple[str, list[str]]]) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.Import | ast.ImportFrom)
    assert _targets(node, "analysis.design") == expected


def test_cycle_finder_sees_a_loop() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_package_api_is_backwards_compatible() -> None:
    assert API_BEFORE <= set(analysis.__all__)
    for name in analysis.__all__:
        assert hasattr(analysis, name), name
    assert analysis.SurveyDesign.__module__ == "analysis.design"
