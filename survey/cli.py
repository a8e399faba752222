"""``flask`` command groups: users, units, demo."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from survey.authoring.services import versions as questionnaire_versions
from survey.common.errors import ServiceError
from survey.demo import seed as demo
from survey.extensions import db
from survey.org.models import Role, Sector, Unit
from survey.org.services import users
from survey.org.services.audit import acting_as
from survey.org.services.official_units import import_province

users_cli = AppGroup("users", help="Staff accounts.")
units_cli = AppGroup("units", help="The organisation tree.")
demo_cli = AppGroup("demo", help="The demo province.")
questionnaires_cli = AppGroup("questionnaires", help="Questionnaire versions.")


@questionnaires_cli.command("sync")
def sync_questionnaires() -> None:
    """Load the shipped questionnaire files into the database (new versions, statuses)."""
    with acting_as(None, "cli:questionnaires sync"):
        try:
            report = questionnaire_versions.sync()
        except ServiceError as err:
            _fail(err)
    click.echo(f"{len(report.created)} created, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged.")
    for ref in report.created + report.updated:
        click.echo(f"  {ref}")
    for ref in report.kept:
        click.echo(f"  {ref}: retired by staff, stays retired")


def _fail(err: ServiceError) -> None:
    db.session.rollback()
    raise click.ClickException(err.message)


@users_cli.command("create")
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--email", default=None)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
@click.option("--unit-code", default=None, help="Official code of the unit the role covers.")
@click.option("--sector", type=click.Choice([s.value for s in Sector]), default=None)
@click.password_option()
def create_user(username: str, full_name: str, email: str | None, role: str | None,
                unit_code: str | None, sector: str | None, password: str) -> None:
    """Create a staff account (with one role when --role and --unit-code are given)."""
    unit = None
    if unit_code is not None:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"No unit has the code {unit_code}.")
    with acting_as(None, "cli:users create"):
        try:
            user = users.create_user(None, username=username, full_name=full_name,
                                     password=password, email=email, role=role, unit=unit,
                                     sector=sector)
        except ServiceError as err:
            _fail(err)
    click.echo(f"Created {user.username}.")


@units_cli.command("import-official")
@click.option("--province", "code", required=True, help="Province code, e.g. 80 for Tây Ninh.")
def import_official(code: str) -> None:
    """Create or refresh a province and its communes/wards from the official 2025 list."""
    with acting_as(None, "cli:units import-official"):
        try:
            report = import_province(code)
        except ServiceError as err:
            _fail(err)
    click.echo(f"{report.province.name}: {report.created} created, {report.updated} updated, "
               f"{report.unchanged} unchanged.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database has units already.")
@click.option("--responses/--no-responses", default=True,
              help="Also submit a few months of demo responses (default: yes).")
@click.option("--response-scale", type=click.FloatRange(0.01, 10), default=1.0,
              help="Multiply the number of demo responses (1 gives about 1,900).")
def seed(if_empty: bool, responses: bool, response_scale: float) -> None:
    """Build the demo province (Tây Ninh) with demo accounts for every role."""
    if current_app.config.get("SIPAS_ENV") == "production":
        # The demo accounts (admin and others) share one published password.
        raise click.ClickException(
            "The demo is not for production: it creates accounts such as 'admin' with the "
            "published password. Create real accounts with 'flask users create'.")
    if not demo.is_empty():
        if not if_empty:
            raise click.ClickException("The database is not empty; the demo needs an empty one.")
        click.echo("The database already has data; demo seed skipped.")
    else:
        click.echo("Seeding the demo province Tây Ninh (about 30 s on 2 cores)…")
        with acting_as(None, "cli:demo seed"):
            demo.seed(responses=responses, response_scale=response_scale, say=click.echo)
        click.echo("Demo province Tây Ninh created.")
    accounts = demo.existing_accounts()
    if accounts:
        click.echo(f"Demo accounts (password '{demo.DEMO_PASSWORD}' unless changed):")
        for account in accounts:
            click.echo(f"  {account.username:<14} {account.role.value:<15} {account.full_name}")


def register_cli(app: Flask) -> None:
    from survey.results.cli import results_cli

    app.cli.add_command(results_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(units_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(questionnaires_cli)
