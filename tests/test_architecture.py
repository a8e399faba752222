"""Dependency rules of architecture.md, checked on the import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = {"flask", "flask_wtf", "flask_sqlalchemy", "sqlalchemy", "flask_login", "flask_babel",
       "flask_migrate", "flask_limiter", "qrcode", "wtforms", "alembic"}
FORBIDDEN = {
    "analysis": WEB | {"survey", "questionnaires"},
    "questionnaires": WEB | {"survey", "analysis", "numpy", "pandas", "scipy"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_library_packages_stay_pure(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    if not files:
        pytest.skip(f"{package}/ has no modules yet")
    for path in files:
        bad = imports(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_blueprints_do_not_import_each_other() -> None:
    blueprints = {"admin", "auth", "public", "api", "analyst", "campaigns", "collect", "qadmin"}
    for path in (ROOT / "survey").rglob("*.py"):
        rel = path.relative_to(ROOT / "survey").parts
        own = rel[0].removesuffix(".py")
        if own not in blueprints:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "survey" and len(parts) > 1 and parts[1] in blueprints:
                    assert parts[1] == own, f"{path} imports blueprint {parts[1]}"


def test_survey_uses_libraries_through_package_api() -> None:
    for path in (ROOT / "survey").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] in {"analysis", "questionnaires"}:
                    assert len(parts) == 1, f"{path} imports {node.module}; use the package API"
