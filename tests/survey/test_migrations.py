"""Models and migrations agree; upgrade → downgrade → upgrade works from empty."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from survey.extensions import db
from tests.conftest import make_app, private_postgres_database


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    with private_postgres_database(url, f"sipas_mig_{uuid.uuid4().hex[:8]}") as private:
        yield private


def test_upgrade_downgrade_upgrade_and_models_agree(empty_database: str, tmp_path: Path) -> None:
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"unit", "service_point", "response", "answer", "user_account",
                "role_assignment", "audit_log", "questionnaire_version"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        db.engine.dispose()


def test_existing_responses_survive_the_collection_migration(empty_database: str,
                                                             tmp_path: Path) -> None:
    """Rows written before the collection migration get its defaults (no flag, ok)."""
    from sqlalchemy import text

    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="61c4669aeba0")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO unit (id, kind, sector, name, path) "
                "VALUES (1, 'province', 'administrative', 'Tỉnh', '/1/')"))
            conn.execute(text(
                "INSERT INTO response (id, questionnaire_key, questionnaire_version, channel, "
                "unit_id, submitted_at, client_submission_id) VALUES (1, 'desk_rating', 1, "
                "'desk_qr', 1, CURRENT_TIMESTAMP, 'before-migration')"))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT flags, review_status, link_id FROM response WHERE id = 1")).one()
        assert tuple(row) == ("", "ok", None)
        db.engine.dispose()
