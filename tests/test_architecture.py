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


DOMAINS = {"org", "authoring", "collection", "results", "campaigns", "demo", "render", "common"}
REQUEST_STATE = {"request", "g", "session", "abort"}


def survey_modules() -> list[tuple[Path, tuple[str, ...]]]:
    """Every module of survey/ with its dotted name inside the package."""
    out = []
    for path in sorted((ROOT / "survey").rglob("*.py")):
        rel = path.relative_to(ROOT / "survey").with_suffix("").parts
        out.append((path, rel[:-1] if rel[-1] == "__init__" else rel))
    return out


def survey_imports(path: Path) -> list[tuple[int, tuple[str, ...], list[str]]]:
    """(line, module inside survey/, imported names) of every ``from survey...`` import,
    including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = tuple(node.module.split("."))
            if parts[0] == "survey":
                found.append((node.lineno, parts[1:], [a.name for a in node.names]))
    return found


def test_domains_are_packages_with_their_parts() -> None:
    """The tree shows the domains: each holds its models, services and views."""
    for domain in ("org", "authoring", "collection"):
        base = ROOT / "survey" / domain
        assert (base / "models.py").exists() and (base / "forms.py").exists(), domain
        assert (base / "services").is_dir() and (base / "views").is_dir(), domain
        assert (ROOT / "templates" / domain).is_dir(), domain


def test_features_use_each_others_services_never_their_views() -> None:
    for path, own in survey_modules():
        in_views = "views" in own
        for line, target, names in survey_imports(path):
            imported = [target + (n,) for n in names]
            for mod in [target, *imported]:
                if "views" not in mod:
                    continue
                where = f"{path.relative_to(ROOT)}:{line} imports survey.{'.'.join(target)}"
                if own[:1] == ("web",):
                    continue  # the wiring registers every blueprint
                assert in_views, f"{where}: only views import views"
                assert mod[0] == own[0], f"{where}: another domain's views"


def test_common_and_render_depend_on_no_feature() -> None:
    """common/ may read the domains' models (a scope is about units, keys and responses);
    render/ knows nothing of the app."""
    for path, own in survey_modules():
        if own[:1] not in {("common",), ("render",)}:
            continue
        for line, target, _names in survey_imports(path):
            if not target or target[0] not in DOMAINS - {"common"} or target[0] == own[0]:
                continue
            assert own[0] == "common" and target[1:] == ("models",), \
                f"{path.relative_to(ROOT)}:{line} imports survey.{'.'.join(target)}"


def test_views_do_not_talk_to_the_database() -> None:
    """Views call services; services own queries and transactions."""
    for path, own in survey_modules():
        if "views" not in own:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                assert not (node.module == "survey.extensions" and
                            any(a.name == "db" for a in node.names)), f"{where} imports db"
                assert node.module.split(".")[0] != "sqlalchemy" or \
                    node.module == "sqlalchemy.exc", f"{where} imports {node.module}"


def test_services_and_access_read_no_request() -> None:
    """Services, the scope and the models run outside a request (exports, jobs, the CLI):
    no request, g, session or abort."""
    for path, own in survey_modules():
        if not ("services" in own or own in {("common", "access"), ("common", "errors"),
                                               ("common", "transactions")}
                or own[-1:] == ("models",)):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in {"flask", "flask_login"}:
                bad = {a.name for a in node.names} & (REQUEST_STATE | {"current_user"})
                assert not bad, f"{path.relative_to(ROOT)}:{node.lineno} imports {sorted(bad)}"


def test_no_private_names_across_modules() -> None:
    for path, _own in survey_modules():
        for line, _target, names in survey_imports(path):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{path.relative_to(ROOT)}:{line} imports {private}"


def test_survey_uses_libraries_through_package_api() -> None:
    for path in (ROOT / "survey").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] in {"analysis", "questionnaires"}:
                    assert len(parts) == 1, f"{path} imports {node.module}; use the package API"
