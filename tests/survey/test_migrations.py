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
