"""``flask results``: compute a snapshot, export its microdata bundle."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.services.audit import acting_as
from survey.results.services import export, snapshots

results_cli = AppGroup("results", help="Indices with confidence intervals: snapshots, exports.")


def _fail(err: ServiceError) -> None:
    db.session.rollback()
    raise click.ClickException(err.message)


@results_cli.command("compute")
@click.option("--period", required=True,
              help="2026-10 (month), 2026-Q3 (quarter), 2026 (year) or 2026-08-01..2026-09-30.")
@click.option("--scope", "scope_code", default=None,
              help="Official code of a unit: only its subtree (default: everything).")
def compute(period: str, scope_code: str | None) -> None:
    """Compute every index with its confidence interval and freeze it as a snapshot."""
    with acting_as(None, "cli:results compute"):
        try:
            snapshot = snapshots.create(period, scope_code, "cli")
        except ServiceError as err:
            _fail(err)
        steps: list[str] = []
        with click.progressbar(length=1, label=f"Snapshot {snapshot.id} ({snapshot.period})",
                               show_pos=True, item_show_func=lambda s: s) as bar:
            def progress(step: str, done: int, total: int) -> None:
                steps.append(step)
                bar.length = max(total, 1)
                bar.update(1, step)

            done = snapshots.run(snapshot.id, progress)
    if done.status != "done":
        raise click.ClickException(f"Snapshot {done.id} failed: {done.error}")
    count = len(snapshots.rows_of(done.id))
    click.echo(f"Snapshot {done.id}: {done.period}, {done.n_responses} responses, {count} "
               f"estimates ({len(steps)} steps), input {done.input_hash[:12]}.")


@results_cli.command("microdata")
@click.option("--snapshot", "ref", required=True, help="Snapshot id, or 'latest'.")
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder to write microdata.csv, codebook.csv, results.csv, analysis.R, "
                   "analysis.do into.")
def microdata(ref: str, out: str) -> None:
    """Write a snapshot's microdata bundle for analysts (R and Stata scripts included)."""
    try:
        snapshot = snapshots.get(ref)
    except ServiceError as err:
        _fail(err)
    counts = export.write_bundle(snapshot, snapshots.rows_of(snapshot.id), Path(out))
    for name, n in counts.items():
        click.echo(f"  {name}: {n} rows")
    click.echo(f"Bundle of snapshot {snapshot.id} written to {out}.")
