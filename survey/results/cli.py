"""``flask results``: compute a snapshot, export its microdata bundle."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.services.audit import acting_as
from survey.results.services import bundles, export, reports, snapshots

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


@results_cli.command("resume")
def resume() -> None:
    """Compute, now and in the foreground, every snapshot still queued or interrupted by
    a restart (a running one whose process stopped beating)."""
    waiting = snapshots.pending()
    if not waiting:
        click.echo("No snapshot is waiting.")
    with acting_as(None, "cli:results resume"):
        for snapshot_id in waiting:
            done = snapshots.run(snapshot_id)
            click.echo(f"Snapshot {done.id} ({done.period}): {done.status}"
                       + (f": {done.error}" if done.error else ""))


@results_cli.command("microdata")
@click.option("--snapshot", "ref", required=True, help="Snapshot id, or 'latest'.")
@click.option("-o", "--out", "out", default=None, type=click.Path(file_okay=False),
              help="Folder to write microdata.csv, codebook.csv, results.csv, analysis.R, "
                   "analysis.do into.")
@click.option("--for-download", is_flag=True,
              help="Write the ZIP file the snapshot page's link serves (snapshots above "
                   "BUNDLE_INLINE_MAX responses are not built in a web request).")
def microdata(ref: str, out: str | None, for_download: bool) -> None:
    """Write a snapshot's microdata bundle for analysts (R and Stata scripts included)."""
    if out is None and not for_download:
        raise click.UsageError("Give -o FOLDER, --for-download, or both.")
    try:
        snapshot = snapshots.get(ref)
    except ServiceError as err:
        _fail(err)
    if out is not None:
        counts = export.write_bundle(snapshot, snapshots.rows_of(snapshot.id), Path(out))
        for name, n in counts.items():
            click.echo(f"  {name}: {n} rows")
        click.echo(f"Bundle of snapshot {snapshot.id} written to {out}.")
    if for_download:
        if not bundles.claim(snapshot.id):
            raise click.ClickException(f"The bundle of snapshot {snapshot.id} is being "
                                       "written by another process.")
        path = bundles.build(snapshot.id)
        click.echo(f"Bundle of snapshot {snapshot.id} for the download: {path}.")


@results_cli.command("api-key")
@click.argument("prefix")
@click.option("--read-results/--no-read-results", default=True,
              help="May the key read unpublished snapshots and suppressed figures through "
                   "the read-only API (every key reads published ones).")
def api_key(prefix: str, read_results: bool) -> None:
    """Grant or take back an API key's read_results permission (by its 12-character prefix)."""
    from survey.results.services import api_read

    with acting_as(None, "cli:results api-key"):
        try:
            key = api_read.set_read_results(prefix, read_results)
        except ServiceError as err:
            _fail(err)
    click.echo(f"API key {key.prefix} ({key.label}): read_results = {key.read_results}.")


@results_cli.command("report")
@click.option("--snapshot", "ref", default="latest", show_default=True,
              help="Snapshot id, or 'latest'.")
@click.option("--unit", "unit_code", default=None, help="Official code of a unit.")
@click.option("--sector", default=None,
              type=click.Choice(["administrative", "health", "education", "other"]),
              help="A sector instead of a unit.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The PDF file to write.")
def report(ref: str, unit_code: str | None, sector: str | None, out: str) -> None:
    """Write the PDF report of a unit (or a sector) in a snapshot, in Vietnamese."""
    if (unit_code is None) == (sector is None):
        raise click.UsageError("Give either --unit CODE or --sector NAME.")
    try:
        snapshot = snapshots.get(ref)
        data = reports.report_for_cli(snapshot, unit_code, sector)
    except ServiceError as err:
        _fail(err)
    Path(out).write_bytes(data)
    click.echo(f"Report of snapshot {snapshot.id} ({snapshot.period}) written to {out} "
               f"({len(data)} bytes).")
