"""Benchmark: the results pages with a province of 1,000,000 responses in PostgreSQL.

Usage::

    python bench/bench_pages.py                       # 1,000,000 responses x 20 items
    python bench/bench_pages.py --responses 50000     # quick
    python bench/bench_pages.py --requests 100

Seeds a private database ``test_bench_pages_<pid>`` on ``--server-url`` exactly as
``bench_results.py`` does (COPY: ``--units`` units, about 1.5 desks each, transaction
counts for half the desks, ``--responses`` open desk-QR responses of October 2026 with
``--items`` items), then computes the October snapshot through the results engine
(``snapshots.create`` + ``snapshots.run``: the column-wise frames, every unit, sector and
desk; timed), signs in an administrator and a unit manager through the sign-in page and
requests each results page ``--requests`` times with Flask's test client (the whole WSGI
stack: routing, session, scope, queries, templates, security headers, compression off).

Prints, per page: the response size, the SQL statements a request issues, and wall-clock
p50 / p95 / p99 / max in milliseconds. As a baseline in the same run it times a bare
request that renders a tiny template (the fixed cost of a request in this app), so the
ratios show what the page itself costs. The pages read the snapshot only, so their cost
does not grow with the number of responses (compare runs with different ``--responses``).
Figures only; not collected by pytest. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_results  # noqa: E402  (seeding shared with the engine's benchmark)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_page(client: Any, url: str, n: int, counter: list[int]) -> dict[str, Any]:
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    times, statements = [], []
    for _ in range(n):
        before = counter[0]
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        statements.append(counter[0] - before)
        assert response.status_code == 200
    return {"url": url, "bytes": len(first.get_data()), "sql": max(statements),
            "p50": percentile(times, 0.50), "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99), "max": max(times),
            "mean": statistics.fmean(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with bench_results.private_database(args.server_url, "test_bench_pages") as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    from flask import render_template_string
    from sqlalchemy import event, select

    from survey.extensions import db
    from survey.org.models import Unit
    from survey.org.services import users
    from survey.results.services import snapshots

    info = bench_results.seed(url, args)
    print(f"seeded {args.responses:,} responses x {args.items} items "
          f"({info['answers']:,.0f} answer rows), {args.units} units, in "
          f"{info['seed_s']:.1f} s", flush=True)
    app = bench_results.make_app(url)
    app.config.update(RESULTS_INLINE=True, WTF_CSRF_ENABLED=False, TESTING=False)

    @app.route("/bench-baseline")
    def baseline() -> str:
        return render_template_string("<!doctype html><title>x</title><p>{{ n }}</p>", n=1)

    with app.app_context():
        t0 = time.perf_counter()
        snapshot = snapshots.create("2026-10", None, "bench")
        done = snapshots.run(snapshot.id)
        compute_s = time.perf_counter() - t0
        assert done.status == "done", done.error
        n_rows = len(snapshots.rows_of(done.id))
        print(f"snapshot {done.id}: {done.n_responses:,} responses, {n_rows:,} estimates, "
              f"computed in {compute_s:.1f} s (frames path, every unit, sector and desk)",
              flush=True)
        province = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
        unit = db.session.scalar(select(Unit).where(Unit.parent_id == province.id,
                                                    Unit.kind == "hospital"))
        for username, role, where in (("tinh", "administrator", province),
                                      ("benhvien", "unit_manager", unit)):
            users.create_user(None, username=username, full_name=username,
                              password="Bench-password-2026!", role=role, unit=where)
        db.session.commit()
        unit_id, sector = unit.id, unit.sector
        counter = [0]

        def count(*_: Any) -> None:
            counter[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
    pages = {"administrator": ["/staff/results/", f"/staff/results/units/{unit_id}",
                               f"/staff/results/sectors/{sector}", "/staff/results/rankings"],
             "unit_manager": ["/staff/results/", f"/staff/results/units/{unit_id}"]}
    print(f"\n{'page':<44} {'KB':>6} {'SQL':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'p95 / base':>10}")
    for who, username in (("administrator", "tinh"), ("unit_manager", "benhvien")):
        client = app.test_client()
        signed = client.post("/login", data={"username": username,
                                             "password": "Bench-password-2026!"})
        assert signed.status_code in (302, 303), signed.status_code
        base = time_page(client, "/bench-baseline", args.requests, counter)
        print(f"{who + ' · baseline (tiny template)':<44} {base['bytes'] / 1024:6.1f} "
              f"{base['sql']:4d} {base['p50']:8.2f} {base['p95']:8.2f} {base['p99']:8.2f} "
              f"{base['max']:8.2f} {'1.0x':>10}")
        for page in pages[who]:
            status = client.get(page).status_code
            if status != 200:
                print(f"{who + ' · ' + page:<44} (answers {status})")
                continue
            r = time_page(client, page, args.requests, counter)
            print(f"{who + ' · ' + page:<44} {r['bytes'] / 1024:6.1f} {r['sql']:4d} "
                  f"{r['p50']:8.2f} {r['p95']:8.2f} {r['p99']:8.2f} {r['max']:8.2f} "
                  f"{r['p95'] / base['p95']:9.1f}x", flush=True)


if __name__ == "__main__":
    main()
