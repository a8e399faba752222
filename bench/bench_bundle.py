"""Benchmark: the bundle's microdata.csv written column-wise (``export.write_microdata``:
set-based queries per chunk of responses, pandas/numpy, ``csv.writer``) against the
row-by-row writer it replaced (``Microdata.rows()``: every response and answer through the
ORM, scored in Python, one CSV row at a time), the baseline measured in the same run.

Usage::

    python bench/bench_bundle.py                           # 100,000 responses x 20 items
    python bench/bench_bundle.py --responses 1000000       # a province (rows: ~10 minutes)
    python bench/bench_bundle.py --responses 1000000 --paths columns

Creates a private database ``test_bench_bundle_<pid>`` on ``--server-url`` (PostgreSQL,
trust auth) and seeds it by COPY exactly as ``bench_results.py`` does (its ``seed``: a
province of ``--units`` units, open desk-QR responses in October 2026, ``--items`` likert
items in one ``share_at_least`` node, per item 5 % blank and 5 % "not applicable").
Each path runs in a fresh child process (its peak RSS, VmHWM, is its own), from
``microdata.load`` to the closed file; the figures are wall-clock seconds, rows a second
and peak RSS, with ratios against ``rows`` (when it runs). The files of both paths are
compared byte for byte (SHA-256). ``--zip`` also times deflating the file as the download
does. Figures only; not collected by pytest. The database is dropped at the end
(``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import pickle
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_results import PERIOD, make_app, peak_rss_mib, private_database, seed  # noqa: E402

LABELS = {"rows": "row by row: Microdata.rows()", "columns": "column-wise: write_microdata"}


def write(kind: str, path: Path, chunk: int) -> int:
    from survey.results.services import export, microdata
    from survey.results.services.periods import parse_period

    micro = microdata.load(microdata.Selection(parse_period(PERIOD)))
    columns = micro.columns()
    if kind == "rows":
        return export._write(path, columns,
                             ([row.get(c) for c in columns] for row in micro.rows()))
    return export.write_microdata(micro, columns, path, chunk)


def child(kind: str, url: str, folder: str, chunk: int, deflate: bool) -> None:
    from survey.extensions import db

    app = make_app(url)
    path = Path(folder) / f"{kind}.csv"
    with app.app_context():
        t0 = time.perf_counter()
        count = write(kind, path, chunk)
        seconds = time.perf_counter() - t0
        rss = peak_rss_mib()
        db.session.rollback()
    zip_s = None
    if deflate:
        t0 = time.perf_counter()
        with zipfile.ZipFile(Path(folder) / f"{kind}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.write(path, "microdata.csv")
        zip_s = time.perf_counter() - t0
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    size = path.stat().st_size
    path.unlink()
    with open(Path(folder) / f"{kind}.pickle", "wb") as fh:
        pickle.dump({"seconds": seconds, "rows": count, "rss_mib": rss, "sha256": digest,
                     "bytes": size, "zip_s": zip_s}, fh)


def in_child(kind: str, url: str, folder: str, chunk: int, deflate: bool) -> dict[str, Any]:
    proc = mp.get_context("spawn").Process(target=child,
                                           args=(kind, url, folder, chunk, deflate))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"{kind} path failed (exit code {proc.exitcode})")
    with open(Path(folder) / f"{kind}.pickle", "rb") as fh:
        result: dict[str, Any] = pickle.load(fh)
    return result


def line(kind: str, r: dict[str, Any], base: dict[str, Any] | None) -> str:
    ratio = f"{r['seconds'] / base['seconds']:8.4f}x" if base else "        -"
    rate = r["rows"] / r["seconds"] if r["seconds"] else float("inf")
    deflate = "" if r["zip_s"] is None else f"  + zip {r['zip_s']:.1f} s"
    return (f"{LABELS[kind]:<32} {r['seconds']:9.2f} s {ratio} {rate:12,.0f} rows/s"
            f"  peak RSS {r['rss_mib']:,.0f} MiB  {r['bytes'] / 2**20:,.0f} MiB{deflate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk", type=int, default=20_000,
                        help="responses a chunk of the column-wise writer")
    parser.add_argument("--paths", default="rows,columns", help="rows, columns (comma-separated)")
    parser.add_argument("--zip", action="store_true", help="also time deflating the file")
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    with private_database(args.server_url, "test_bench_bundle", keep=args.keep) as url, \
            tempfile.TemporaryDirectory() as folder:
        info = seed(url, args)
        print(f"seeded {args.responses:,} responses x {args.items} items "
              f"({info['answers']:,.0f} answer rows), {args.units} units, in "
              f"{info['seed_s']:.1f} s", flush=True)
        done: dict[str, dict[str, Any]] = {}
        for kind in [k for k in LABELS if k in args.paths.split(",")]:
            done[kind] = in_child(kind, url, folder, args.chunk, args.zip)
            print(line(kind, done[kind], None), flush=True)
        base = done.get("rows")
        print(f"\n{'':<32} {'wall':>11} {'/ rows':>9}")
        for kind, r in done.items():
            print(line(kind, r, base))
        if len(done) == 2:
            same = done["rows"]["sha256"] == done["columns"]["sha256"]
            print("files identical (SHA-256): " + ("yes" if same else "NO"))


if __name__ == "__main__":
    main()
