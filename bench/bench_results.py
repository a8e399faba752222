"""Benchmark: every unit's satisfaction index through the SQL path (two passes inside
PostgreSQL, ``survey.results.services.sqlagg``) against the in-memory paths and R ``survey``.

Usage::

    python bench/bench_results.py                          # 1,000,000 responses x 20 items
    python bench/bench_results.py --responses 20000        # quick (about 2 minutes)
    python bench/bench_results.py --paths sql,frames       # without the row-by-row path

Creates a private database ``test_bench_results_<pid>`` on ``--server-url`` (PostgreSQL,
trust auth), ``db.create_all()`` through ``survey.create_app``, and seeds with COPY (psycopg):
a province with ``--units`` communes / hospitals / schools (three sectors), one or two desks
each, transaction counts for about half the desks (weights = transactions / respondents), a
published questionnaire of ``--items`` likert items in one ``share_at_least`` node
(threshold 4), and ``--responses`` open desk-QR responses in October 2026 (per item 5 %
blank, 5 % "not applicable"). Then, each path in a fresh child process (so that its peak
RSS is its own), all starting from ``microdata.load``:

- ``sql``: ``sqlagg.estimate_index_nodes`` (every unit's subtree and every sector);
- ``rows``: ``Microdata.rows()`` (every response and answer through the ORM, scored in
  Python) → ``pandas.DataFrame`` → ``SurveyDesign(strata, weights, lonely_psu="adjust")``
  → ``satisfaction_index`` by ``dom0`` (province), ``dom1`` (units) and ``sector``;
- ``frames``: the snapshots' column-wise frames (``frames.frames``: two queries and
  pandas) → the same ``SurveyDesign`` calls;
- R ``survey`` (when ``Rscript`` is installed) on the microdata CSV the first in-memory
  path writes (design columns and item indicators; not timed): ``svydesign(id=~1,
  strata=~stratum, weights=~weight)`` + ``svyby(~..., ~dom1, svycontrast(svytotal))``, the
  same linearised index for the unit domains (CSV reading not timed).

Times are wall clock of a run without tracemalloc; the tracemalloc peak comes from a second
run of the same path in the same child (``--no-trace`` skips it). The SQL path's figures
are the Python process's: PostgreSQL's own CPU and memory are not in them. Ratios are
against the ``rows`` path (``frames`` when ``rows`` is not run). Prints the largest
differences of estimates and SEs between the paths. Figures only; not collected by pytest.
The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing as mp
import os
import pickle
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIOD = "2026-10"
KEY = "bench_index"
R_SCRIPT = Path(__file__).with_name("index_svyby.R")  # shared with the other bench


# -- the database -------------------------------------------------------------------------------
def admin_engine(server: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(server.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")


@contextmanager
def private_database(server: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A database ``<prefix>_<pid>`` of its own on the PostgreSQL server, dropped at the end
    (unless ``keep``); yields its SQLAlchemy URL."""
    from sqlalchemy import text

    name = f"{prefix}_{os.getpid()}"
    admin = admin_engine(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str) -> Any:
    from survey import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 40,
                       "RATELIMIT_ENABLED": False, "TESTING": True})


def definition(n_items: int) -> dict[str, Any]:
    items = [f"q{j + 1:02d}" for j in range(n_items)]
    label = {"vi": "Mức độ", "en": "Level"}
    return {
        "format": 1, "key": KEY, "version": 1, "sector": "administrative",
        "title": {"vi": "Phiếu đo hiệu năng", "en": "Benchmark questionnaire"},
        "status": "published", "decisions": ["benchmark"], "provenance": "inferred",
        "text_status": "summary", "na_label": {"vi": "Không áp dụng", "en": "N/A"},
        "scales": {"hai_long5": {"options": [{"value": v, "label": label}
                                              for v in range(1, 6)]}},
        "sections": [{"id": "chung", "title": label, "page": 1, "items": [
            {"id": i, "type": "likert5", "scale": "hai_long5", "text": {"vi": i, "en": i},
             "required": False, "provenance": "inferred", "not_applicable": True}
            for i in items]}],
        "index": {"overall": "hai_long", "nodes": [
            {"id": "hai_long", "title": label, "rule": "share_at_least", "children": items,
             "threshold": 4, "provenance": "inferred", "pooling": "items"}]},
    }


def copy(cur: Any, table: str, frame: pd.DataFrame) -> None:
    buf = io.StringIO()
    frame.to_csv(buf, sep="\t", header=False, index=False, na_rep="\\N")
    with cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN") as cp:
        cp.write(buf.getvalue())


def seed(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Schema through the app, then the tree, the questionnaire and the answers by COPY."""
    import psycopg

    import questionnaires as q
    from survey.authoring.models import QuestionnaireVersion
    from survey.extensions import db

    app = make_app(url)
    with app.app_context():
        db.create_all()
        defn = q.parse_definition(definition(args.items), source="bench")
        db.session.add(QuestionnaireVersion(key=KEY, version=1, definition=q.to_dict(defn),
                                            hash=q.definition_hash(defn), status="published"))
        db.session.commit()
        db.engine.dispose()
    rng = np.random.default_rng(args.seed)
    n_units, n = args.units, args.responses
    kinds = [("commune", "administrative"), ("hospital", "health"), ("school", "education")]
    units = pd.DataFrame({"id": np.arange(1, n_units + 2),
                          "parent_id": pd.array([None] + [1] * n_units, dtype="Int64")})
    units["kind"] = ["province"] + [kinds[i % 3][0] for i in range(n_units)]
    units["sector"] = ["administrative"] + [kinds[i % 3][1] for i in range(n_units)]
    units["code"] = [f"B{i:04d}" for i in units["id"]]
    units["name"] = [f"Đơn vị {i}" for i in units["id"]]
    units["path"] = ["/1/"] + [f"/1/{i}/" for i in units["id"][1:]]
    desks = rng.integers(1, 3, n_units)
    point_unit = np.repeat(np.arange(2, n_units + 2), desks)
    points = pd.DataFrame({"id": np.arange(1, len(point_unit) + 1), "unit_id": point_unit})
    points["name"] = [f"Quầy {i}" for i in points["id"]]
    points["active"] = True
    share = rng.gamma(2.0, 1.0, len(points))
    point_of = rng.choice(len(points), n, p=share / share.sum())
    respondents = np.bincount(point_of, minlength=len(points))
    weighted = rng.random(len(points)) < 0.5
    counts = pd.DataFrame({"id": np.arange(1, weighted.sum() + 1),
                           "service_point_id": points["id"][weighted].to_numpy(),
                           "month": "2026-10-01",
                           "count": (respondents[weighted] * rng.uniform(2, 50, weighted.sum()))
                           .astype(np.int64) + 1, "source": "csv",
                           "updated_at": "2026-11-01T00:00:00+00:00"})
    quality = rng.normal(0.3, 0.7, n_units + 2)
    t0 = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", "")) as con, con.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
        # Foreign keys that point at answer (comment moderation) depend on its primary key:
        # dropped with it for the load and made again after.
        cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE confrelid = 'answer'::regclass")
        referencing = cur.fetchall()
        for table, name, _sql in referencing:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cur.execute("ALTER TABLE answer DROP CONSTRAINT pk_answer, "
                    "DROP CONSTRAINT uq_answer_response_item")
        cur.execute("DROP INDEX ix_answer_item_id")
        copy(cur, "unit", units)
        copy(cur, "service_point", points)
        copy(cur, "transaction_count", counts)
        start = dt.datetime(2026, 9, 30, 17, tzinfo=dt.UTC)  # 1 October, 00:00 in Hà Nội
        block, answer_id = 100_000, 1
        for lo in range(0, n, block):
            ids = np.arange(lo + 1, min(lo + block, n) + 1)
            pts = point_of[ids - 1]
            unit_of = points["unit_id"].to_numpy()[pts]
            seconds = rng.integers(0, 30 * 86400, len(ids))
            copy(cur, "response", pd.DataFrame({
                "id": ids, "questionnaire_key": KEY, "questionnaire_version": 1,
                "channel": "desk_qr", "unit_id": unit_of,
                "service_point_id": points["id"].to_numpy()[pts],
                "submitted_at": [(start + dt.timedelta(seconds=int(s))).isoformat()
                                 for s in seconds],
                "client_submission_id": [f"b{i}" for i in ids], "selection_probability": 1.0,
                "flags": "", "review_status": "ok"}))
            latent = quality[unit_of][:, None] + rng.normal(0, 1.2, (len(ids), args.items))
            level = np.digitize(latent, [-1.5, -0.5, 0.3, 1.2]) + 1
            state = rng.random((len(ids), args.items))  # < .05 blank, < .10 N/A
            keep = state >= 0.05
            rows = pd.DataFrame({
                "response_id": np.repeat(ids, args.items)[keep.ravel()],
                "item_id": np.tile([f"q{j + 1:02d}" for j in range(args.items)],
                                   len(ids))[keep.ravel()],
                "value_num": np.where(state < 0.10, np.nan, level).astype(float)[keep],
                "not_applicable": (state < 0.10)[keep]})
            rows.insert(0, "id", np.arange(answer_id, answer_id + len(rows)))
            answer_id += len(rows)
            copy(cur, "answer", rows)
        cur.execute("SET session_replication_role = origin")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("ALTER TABLE answer ADD CONSTRAINT pk_answer PRIMARY KEY (id), "
                    "ADD CONSTRAINT uq_answer_response_item UNIQUE (response_id, item_id)")
        cur.execute("CREATE INDEX ix_answer_item_id ON answer (item_id)")
        for table, name, sql in referencing:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}')
        con.commit()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as con:
        con.execute("VACUUM ANALYZE")
    return {"seed_s": time.perf_counter() - t0, "answers": float(answer_id - 1)}


# -- the two paths, each in a child process -------------------------------------------------
def keyed(est: Any, by: str, prefix: str) -> pd.DataFrame:
    keys = [f"{prefix}{k}" for k in est.keys[by].astype(str)]
    return pd.DataFrame({"estimate": est.estimate, "se": est.se}, index=keys)


def sql_path() -> tuple[pd.DataFrame, None, Any]:
    from survey.results.services import microdata, sqlagg
    from survey.results.services.periods import parse_period

    micro = microdata.load(microdata.Selection(parse_period(PERIOD)))
    res = sqlagg.estimate_index_nodes(micro)[0]
    return pd.concat([keyed(res.units, "unit", "u"), keyed(res.sectors, "sector", "s")]), \
        None, res.queries


def in_memory(df: pd.DataFrame, paths: pd.Series, plan: Any) -> pd.DataFrame:
    """SurveyDesign.satisfaction_index of every unit subtree (dom0, dom1) and sector."""
    import analysis

    parts = paths.str.strip("/").str.split("/")
    df["dom0"], df["dom1"] = parts.str[0], parts.str[1].fillna("")
    items = list(plan.columns)
    df[items] = df[items].astype(float)
    design = analysis.SurveyDesign(df, strata="stratum", weights="weight", lonely_psu="adjust")
    est = {by: design.satisfaction_index(items, threshold=1, item_weights=plan.weights, by=by)
           for by in ("dom0", "dom1", "sector")}
    return pd.concat([keyed(est["dom0"], "dom0", "u"), keyed(est["dom1"], "dom1", "u"),
                      keyed(est["sector"], "sector", "s")])


def rows_path() -> tuple[pd.DataFrame, pd.DataFrame, None]:
    """Microdata.rows() (one Python step per response) -> DataFrame -> SurveyDesign."""
    from survey.results.services import estimation, microdata
    from survey.results.services.periods import parse_period

    micro = microdata.load(microdata.Selection(parse_period(PERIOD)))
    plan = estimation.plan(micro.layouts[(KEY, 1)], "hai_long")
    keep = ["stratum", "weight", "unit_path", "sector", *plan.columns]
    # Only the columns the estimate needs are kept from each streamed row.
    df = pd.DataFrame([[row[c] for c in keep] for row in micro.rows()], columns=keep)
    return in_memory(df, df["unit_path"], plan), df, None


def frames_path() -> tuple[pd.DataFrame, pd.DataFrame, None]:
    """The snapshots' column-wise frames (two queries and pandas) -> SurveyDesign."""
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Unit
    from survey.results.services import estimation, frames, microdata
    from survey.results.services.periods import parse_period

    micro = microdata.load(microdata.Selection(parse_period(PERIOD)))
    plan = estimation.plan(micro.layouts[(KEY, 1)], "hai_long")
    df = frames.frames(micro)[0][(KEY, 1, "open")].data
    path = dict(db.session.execute(select(Unit.id, Unit.path)).all())
    return in_memory(df, df["unit_id"].map(path), plan), df, None


PATHS: dict[str, Callable[[], tuple[pd.DataFrame, pd.DataFrame | None, Any]]] = {
    "sql": sql_path, "rows": rows_path, "frames": frames_path}
LABELS = {"sql": "SQL path (sqlagg, PostgreSQL)", "rows": "in memory: Microdata.rows()",
          "frames": "in memory: column-wise frames"}


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: its own, unlike ru_maxrss, which a child started by
    fork + exec inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, url: str, trace: bool, result: str, csv: str | None) -> None:
    from survey.extensions import db

    app = make_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        value, data, queries = PATHS[kind]()
        seconds = time.perf_counter() - t0
        rss = peak_rss_mib()
        db.session.rollback()
        if csv is not None and data is not None:  # for R, not timed
            items = [c for c in data if re.fullmatch(r"q\d+", str(c))]
            data[["stratum", "weight", "dom1", *items]].to_csv(csv, index=False)
        del data
        peak = None
        if trace:  # a second run: tracemalloc slows allocation-heavy code down
            tracemalloc.start()
            PATHS[kind]()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            db.session.rollback()
    with open(result, "wb") as fh:
        pickle.dump({"seconds": seconds, "rss_mib": rss, "peak_mib": peak, "value": value,
                     "queries": queries}, fh)


def in_child(kind: str, url: str, trace: bool, folder: str, csv: str | None = None) -> Any:
    result = os.path.join(folder, f"{kind}.pickle")
    proc = mp.get_context("spawn").Process(target=child, args=(kind, url, trace, result, csv))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"{kind} path failed (exit code {proc.exitcode})")
    with open(result, "rb") as fh:
        return pickle.load(fh)


def run_r(csv: str, folder: str, timeout: float) -> tuple[float, pd.DataFrame] | str:
    if shutil.which("Rscript") is None:
        return "R skipped: Rscript not found"
    out = os.path.join(folder, "r.csv")
    try:
        done = subprocess.run(["/usr/bin/time", "-v", "Rscript", str(R_SCRIPT), csv, out,
                               "dom1", "weights", "1"],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"R skipped: no answer within {timeout:.0f} s"
    if done.returncode != 0:
        return "R failed: " + done.stderr[-800:]
    seconds = float(done.stdout.split("R_SECONDS")[1].split()[0])
    rss = [ln for ln in done.stderr.splitlines() if "Maximum resident" in ln]
    frame = pd.read_csv(out, dtype={"dom1": str}).set_index("dom1")
    frame.attrs["rss_mib"] = int(rss[0].split()[-1]) / 1024 if rss else float("nan")
    return seconds, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--paths", default="sql,rows,frames",
                        help="paths to time, comma-separated: sql, rows, frames")
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--r-timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    with private_database(args.server_url, "test_bench_results", keep=args.keep) as url, \
            tempfile.TemporaryDirectory() as folder:
        report(args, url, folder)


def line(label: str, r: dict[str, Any], base: dict[str, Any] | None) -> str:
    peak = "-" if r["peak_mib"] is None else f"{r['peak_mib']:,.0f} MiB"
    ratio = f"{r['seconds'] / base['seconds']:7.3f}x" if base else "       -"
    return (f"{label:<36} {r['seconds']:9.2f} s {ratio}  tracemalloc peak {peak:>10}"
            f"  max RSS {r['rss_mib']:,.0f} MiB")


def differences(a: pd.DataFrame, b: pd.DataFrame) -> str:
    d = (a - b.loc[a.index]).abs().max()
    rel = ((a["se"] - b.loc[a.index, "se"]).abs() / b.loc[a.index, "se"]).max()
    return f"max |diff| estimate {d['estimate']:.2e}, se {d['se']:.2e} (relative se {rel:.2e})"


def report(args: argparse.Namespace, url: str, folder: str) -> None:
    info = seed(url, args)
    print(f"seeded {args.responses:,} responses x {args.items} items ({info['answers']:,.0f} "
          f"answer rows), {args.units} units, in {info['seed_s']:.1f} s (COPY + indexes)",
          flush=True)
    csv = os.path.join(folder, "microdata.csv")
    trace = not args.no_trace
    kinds = [k for k in PATHS if k in args.paths.split(",")]
    done: dict[str, Any] = {}
    for kind in kinds:
        want_csv = not args.no_r and kind != "sql" and not os.path.exists(csv)
        done[kind] = in_child(kind, url, trace, folder, csv if want_csv else None)
        print(line(LABELS[kind], done[kind], None), flush=True)  # kept if a later path fails
    if "sql" in done:
        n_units = sum(1 for k in done["sql"]["value"].index if k.startswith("u"))
        print(f"domains: {len(done['sql']['value'])} ({n_units} unit subtrees, the rest "
              f"sectors); queries (name, columns, rows): {json.dumps(done['sql']['queries'])}")
    base_kind = next((k for k in ("rows", "frames") if k in done), None)
    base = done.get(base_kind) if base_kind else None
    print(f"\n{'':<36} {'wall':>11} {'/ ' + (base_kind or '-'):>8}")
    for kind, r in done.items():
        print(line(LABELS[kind], r, base))
    for kind in done:
        if kind != "sql" and "sql" in done:
            print(f"SQL vs {kind}: {differences(done['sql']['value'], done[kind]['value'])}")
    if args.no_r or base is None:
        print("R skipped: " + ("--no-r" if args.no_r else "no in-memory path exported data"))
        return
    r = run_r(csv, folder, args.r_timeout)
    if isinstance(r, str):
        print(r)
        return
    seconds, frame = r
    frame.index = [f"u{k}" for k in frame.index]
    print(f"{'R survey svyby (unit domains)':<36} {seconds:9.2f} s "
          f"{seconds / base['seconds']:7.3f}x  max RSS of Rscript "
          f"{frame.attrs['rss_mib']:,.0f} MiB ({len(frame)} domains; CSV reading not timed)")
    print(f"R vs {base_kind}: {differences(frame[['estimate', 'se']], base['value'])}")


if __name__ == "__main__":
    main()
