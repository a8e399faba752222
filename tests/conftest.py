"""Shared fixtures: ``app``, ``client``, ``runner``, ``db`` and factories.

The database is SQLite in a temporary folder unless ``SIPAS_TEST_DATABASE_URL`` names
another one (``.ci/run`` sets it to PostgreSQL). The schema and the app are created once
per session; every test runs inside a transaction rolled back at its end (the code's own
commits become savepoints), so every test starts from empty tables. Browser tests and
tests marked ``real_commits`` commit for real and empty the tables afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from survey import create_app
from survey.common import transactions
from survey.config import normalise_database_url
from survey.extensions import db as _db
from survey.extensions import limiter

TEST_DATABASE_URL = os.environ.get("SIPAS_TEST_DATABASE_URL")
FAST_HASH = "pbkdf2:sha256:1000"  # tests only: keeps account creation fast


def is_postgres() -> bool:
    return bool(TEST_DATABASE_URL) and "postgres" in str(TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in a temporary folder, or a private PostgreSQL database created for this
    run next to the one ``SIPAS_TEST_DATABASE_URL`` names (so that concurrent runs on
    one server never truncate each other's tables), dropped at the end."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    url = make_url(normalise_database_url(TEST_DATABASE_URL))
    if url.get_backend_name() != "postgresql":
        yield url.render_as_string(hide_password=False)
        return
    with private_postgres_database(url, f"{url.database}_run_{os.getpid()}") as private:
        yield private


@contextmanager
def private_postgres_database(url: Any, name: str) -> Iterator[str]:
    """Create database ``name`` on ``url``'s server, yield its URL, drop it afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "RATELIMIT_ENABLED": False,
        "RESULTS_INLINE": True,  # snapshots computed in the request (one connection)
    }
    config.update(overrides)
    return create_app(config)


def _drop_everything() -> None:
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        _db.drop_all()


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        _drop_everything()
        _db.create_all()
    yield
    with app.app_context():
        _db.engine.dispose()


def empty_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _Binding.connection is not None:  # inside a test's transaction
        for table in tables:
            _db.session.execute(table.delete())
        _db.session.commit()
        return
    _db.session.remove()
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Fail loudly instead of hanging when a test leaks an open transaction.
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


class ExpiringClient(FlaskClient):
    """After each request, forget what the test's own session loaded, so that the test
    sees what the request committed (as a second browser tab would)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        if has_app_context():
            _db.session.expire_all()
        return response


@contextmanager
def twin_context(app: Flask) -> Iterator[None]:
    """Push the app context of a *twin* app on the same database for the test's own
    queries. Requests of ``app`` then push their own context (fresh ``g`` per request,
    as in production) instead of reusing the test's. What the test commits is real and
    emptied at the end (for apps a test builds with its own settings)."""
    app.test_client_class = ExpiringClient
    twin = make_app(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.instance_path),
                    **{k: app.config[k] for k in ("RATELIMIT_ENABLED", "WTF_CSRF_ENABLED")})
    with twin.app_context():
        try:
            yield
        finally:
            empty_tables()
            _db.engine.dispose()
    with app.app_context():
        _db.engine.dispose()


# --- one app per session, each test in a transaction rolled back at the end ----------
class _Binding:
    """The connection every session uses during a test (None: the engines, as in
    production). Sessions join its open transaction with a SAVEPOINT, so the code's own
    commits and rollbacks work, and the test's outer rollback undoes everything."""

    connection: Connection | None = None


class _TestSession(FlaskSession):
    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        if _Binding.connection is not None:
            return _Binding.connection
        return super().get_bind(*args, **kwargs)


def _bind_sessions_to_the_test_connection() -> None:
    _db.session = _db._make_scoped_session(
        {"class_": _TestSession, "join_transaction_mode": "create_savepoint"})


_bind_sessions_to_the_test_connection()


@contextmanager
def _own_transaction_in_the_test() -> Iterator[Connection]:
    # Code that commits on a connection of its own (the daily salt) works inside the
    # test's transaction: a second connection would wait for the test's write lock.
    assert _Binding.connection is not None
    with _Binding.connection.begin_nested():
        yield _Binding.connection


@pytest.fixture(scope="session")
def _apps(_schema: None, database_url: str,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Flask]]:
    """The application, and its twin whose context the tests' own queries use, built once."""
    instance = tmp_path_factory.mktemp("instance")
    app = make_app(database_url, instance)
    app.test_client_class = ExpiringClient
    twin = make_app(database_url, instance)
    yield app, twin
    for each in (app, twin):
        with each.app_context():
            _db.engine.dispose()


def _real_commits(request: pytest.FixtureRequest) -> bool:
    """Browser tests serve the app from threads (one connection cannot be shared between
    threads), and tests marked ``real_commits`` need what they write to be committed."""
    return ("live_server" in request.fixturenames
            or request.node.get_closest_marker("real_commits") is not None)


@pytest.fixture
def app(_apps: tuple[Flask, Flask], request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    app, twin = _apps
    config = dict(app.config)
    # The limiter is one object for every app: an app a test built with limits on
    # (init_app) leaves it on.
    limiter.enabled = bool(app.config["RATELIMIT_ENABLED"])
    try:
        if _real_commits(request):
            with twin.app_context():
                try:
                    yield app
                finally:
                    empty_tables()
            return
        with app.app_context():
            connection = _db.engine.connect()
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SAVEPOINTs need SQLAlchemy, not the sqlite3 module, to begin the
            # transaction (SQLAlchemy's pysqlite notes); for this connection only.
            connection.connection.driver_connection.isolation_level = None  # type: ignore[union-attr]
        outer = connection.begin()
        if sqlite:
            connection.exec_driver_sql("BEGIN")
        _Binding.connection = connection
        monkeypatch.setattr(transactions, "own_transaction",
                            _own_transaction_in_the_test)
        try:
            with twin.app_context():
                yield app
        finally:
            _Binding.connection = None
            outer.rollback()
            if sqlite:
                connection.connection.driver_connection.isolation_level = ""  # type: ignore[union-attr]
            connection.close()
    finally:
        app.config.clear()
        app.config.update(config)


@pytest.fixture
def db(app: Flask) -> Any:
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_unit(db: Any) -> Callable[..., Any]:
    from survey.org.services import units

    def factory(name: str = "Đơn vị thử", parent: Any = None, **values: Any) -> Any:
        values.setdefault("kind", "department" if parent else "province")
        values.setdefault("sector", "administrative")
        return units.create_unit(parent, {"name": name, **values})

    return factory


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from survey.models import RoleAssignment, User

    def factory(username: str, role: str | None = None, unit: Any = None,
                sector: str | None = None, password: str = "mat-khau-123") -> Any:
        user = User(username=username, full_name=f"Cán bộ {username}")
        user.set_password(password)
        if role:
            user.roles.append(RoleAssignment(role=role, unit=unit, sector=sector))
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str, str], Any]:
    def do(username: str, password: str = "mat-khau-123") -> Any:
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do


# --- browser tests -------------------------------------------------------------------
CHROMIUM = os.environ.get("SIPAS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("SIPAS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are mandatory here but {CHROMIUM} is missing")
        pytest.skip(f"NOTICE: browser tests skipped: {CHROMIUM} not installed "
                    "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread for the browser."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)



# --- templates receive computed values: no query while a template renders ------------
_rendering: list[str] = []
_template_queries: list[str] = []


@pytest.fixture(autouse=True)
def _no_queries_in_templates() -> Iterator[None]:
    """Fail a test whose pages load anything from the database while a template renders
    (``unit.children|length``, ``r.answers``, an expired attribute): views hand templates
    computed values (architecture.md, rule 5)."""
    _template_queries.clear()
    yield
    found = list(_template_queries)
    _template_queries.clear()
    assert not found, f"queries while rendering a template: {found[:5]}"


def _on_before_render(sender: Any, template: Any, context: Any, **extra: Any) -> None:
    _rendering.append(template.name or "?")


def _on_rendered(sender: Any, template: Any, context: Any, **extra: Any) -> None:
    if _rendering:
        _rendering.pop()


def _on_orm_execute(state: Any) -> None:
    if _rendering:
        _template_queries.append(f"{_rendering[-1]}: {str(state.statement)[:120]}")


def _watch_templates() -> None:
    from flask import before_render_template, template_rendered
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    before_render_template.connect(_on_before_render)
    template_rendered.connect(_on_rendered)
    event.listen(Session, "do_orm_execute", _on_orm_execute)


_watch_templates()
