"""Reliability benchmark: citizens keep answering while PostgreSQL restarts, stops for
10 s and Redis (the rate-limit store) goes away; nothing may be lost or duplicated.

Usage::

    python bench/bench_reliability.py                 # 60 s of load, 64 citizens at a time
    python bench/bench_reliability.py --duration 30 --concurrency 16 --stop-seconds 0

What it does (issue 11, item 8), all on 127.0.0.1:

1. creates a fresh PostgreSQL database (``--db-name``), ``flask db upgrade``, the
   questionnaires and ``--links`` desk_rating poster links of one province (no demo:
   seconds instead of a minute);
2. starts ``redis-server`` on a private port (skipped with a notice when it is not
   installed: then the limits count in memory) and gunicorn (``wsgi:app``, production
   mode, rate limits on, stored in that Redis);
3. drives ``--concurrency`` simulated citizens for ``--duration`` seconds, each from its
   own loopback address: GET the form page, POST the answers; a citizen who gets the
   503 "send again" page (or no answer) presses "send again" every 0.5 s with the same
   body and submission id, as the page invites; ``--dup-fraction`` of them send their
   POST twice (a double tap, concurrently or right after);
4. meanwhile, at 25 %, 50 % and 75 % of the duration: restarts PostgreSQL
   (``pg_ctlcluster ... restart``), stops it for ``--stop-seconds`` and starts it again,
   and stops Redis;
5. prints requests, errors by status, p50/p99, how long after the database came back
   the service answered again, and, from the ``response`` table: answers acknowledged
   (302 to the thanks page) but not stored (lost), and rows beyond one per submission
   (duplicated). Drops the database and stops every process it started.

The PostgreSQL restarts hit every client of the local cluster (other test runs too).
Prints figures; asserts nothing. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import html
import multiprocessing as mp
import os
import random
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_submission as bs  # noqa: E402  (the shared HTTP client and process helpers)

ROOT = bs.ROOT
SEED = """
import sys
from survey import create_app
from survey.authoring.services import versions
from survey.collection.services import links
from survey.extensions import db
from survey.org.services import units

app = create_app()
with app.app_context():
    versions.sync()
    province = units.create_unit(None, {"name": "Tỉnh Thử Tải", "kind": "province",
                                        "sector": "administrative", "code": "98"})
    for i in range(int(sys.argv[1])):
        point = units.create_point(province, f"Quầy {i + 1}")
        point.questionnaire_key = "desk_rating"
        db.session.commit()
        print(links.create_link(point).token)
"""
Record = tuple[str, float, float, int]  # method, start, end (monotonic), status (0: no answer)
ODD: list[str] = []  # a few unexpected answers, shown in the report


# --- client (runs in worker processes) ---------------------------------------------------
def _timed(records: list[Record], port: int, ip: str, method: str, path: str,
           cookies: dict[str, str], body: str | None = None) -> tuple[int, dict[str, str], str,
                                                                      list[str]]:
    t0 = time.monotonic()
    try:
        status, headers, page, set_cookie = bs._request(port, ip, method, path, cookies, body)
    except OSError as err:
        status, headers, page, set_cookie = 0, {}, "", []
        if len(ODD) < 5:
            ODD.append(f"{method} {path[:12]}...: {err!r} after {time.monotonic() - t0:.1f} s")
    records.append((method, t0, time.monotonic(), status))
    return status, headers, page, set_cookie


def _citizen(port: int, path: str, ip: str, rng: random.Random, resend: str,
             give_up: float, records: list[Record]) -> tuple[str, bool]:
    """One citizen; returns (submission id, acknowledged)."""
    cookies: dict[str, str] = {}
    while True:  # the form page (reloaded while the service is away)
        status, _h, page, set_cookie = _timed(records, port, ip, "GET", path + "/p/1", cookies)
        if status == 200:
            break
        if time.monotonic() > give_up:
            return "", False
        time.sleep(0.5)
    bs._set_cookies(cookies, set_cookie)
    csrf, sid_match = bs.CSRF_RE.search(page), bs.SID_RE.search(page)
    if not csrf or not sid_match:
        return "", False
    sid = html.unescape(sid_match.group(1))
    groups: dict[str, list[str]] = {}
    for name, value in bs.RADIO_RE.findall(page):
        groups.setdefault(name, []).append(value)
    fields = [("csrf_token", html.unescape(csrf.group(1))), ("submission_id", sid),
              ("website", "")]
    fields += [(name, rng.choice(values)) for name, values in groups.items()]
    fields += [(name, rng.choice(bs.COMMENTS)) for name in bs.TEXTAREA_RE.findall(page)]
    body = urllib.parse.urlencode(fields)
    thanks = path + "/thanks"
    acked = [False]

    def send() -> None:
        while True:  # "send again" until the thanks page
            status, headers, _p, _c = _timed(records, port, ip, "POST", path + "/p/1",
                                             dict(cookies), body)
            location = headers.get("location", "")
            if status == 302 and location.endswith(thanks):
                acked[0] = True
                return
            if status not in (0, 503) and len(ODD) < 5:
                ODD.append(f"POST {status} {location} {_p[:200]!r}")
            if status not in (0, 503) or time.monotonic() > give_up:
                return
            time.sleep(0.5)

    twin = threading.Thread(target=send) if resend == "concurrent" else None
    if twin is not None:
        twin.start()
    send()
    if twin is not None:
        twin.join()
    elif resend == "after":
        send()
    return sid, acked[0]


def _client(paths: list[str], threads: int, port: int, deadline: float, grace: float,
            dup: float, seed: int) -> tuple[list[Record], list[tuple[str, bool]], list[str]]:
    records: list[Record] = []
    citizens: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        mine: list[Record] = []
        done: list[tuple[str, bool]] = []
        count = 0
        while time.monotonic() < deadline:
            count += 1
            index = seed * 100_000 + n * 1000 + count
            ip = f"127.{1 + index // 62500 % 200}.{index // 250 % 250}.{index % 250 + 1}"
            resend = ""
            if rng.random() < dup:
                resend = "concurrent" if rng.random() < 0.5 else "after"
            done.append(_citizen(port, rng.choice(paths), ip, rng, resend,
                                 deadline + grace, mine))
        with lock:
            records.extend(mine)
            citizens.extend(done)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return records, citizens, ODD


# --- faults ------------------------------------------------------------------------------
def pg(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_pg(url: str) -> float:
    """Seconds until PostgreSQL accepts a query again."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return time.monotonic() - t0
        except psycopg.Error:
            time.sleep(0.1)
    raise SystemExit("PostgreSQL did not come back in 120 s")


def faults(args: argparse.Namespace, url: str, start: float,
           redis: subprocess.Popen[bytes] | None, log: list[tuple[str, float, float]]) -> None:
    """Run in a thread: the fault schedule; ``log`` gets (fault, begun, database back)."""
    def at(fraction: float) -> None:
        time.sleep(max(0.0, start + fraction * args.duration - time.monotonic()))

    at(0.25)
    begun = time.monotonic()
    pg("restart")
    wait_pg(url)
    log.append(("PostgreSQL restart", begun, time.monotonic()))
    if args.stop_seconds > 0:
        at(0.50)
        begun = time.monotonic()
        pg("stop")
        time.sleep(args.stop_seconds)
        pg("start")
        wait_pg(url)
        log.append((f"PostgreSQL stopped {args.stop_seconds:g} s", begun, time.monotonic()))
    if redis is not None:
        at(0.75)
        begun = time.monotonic()
        redis.terminate()
        redis.wait(10)
        log.append(("Redis stopped (for good)", begun, begun))


# --- set-up, report ----------------------------------------------------------------------
def setup(args: argparse.Namespace, env: dict[str, str], log: Path) -> list[str]:
    bs.admin_execute(args, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    bs.admin_execute(args, f'CREATE DATABASE "{args.db_name}"')
    dev = {**env, "FLASK_APP": "survey", "SIPAS_ENV": "development"}
    with log.open("ab") as out:
        if subprocess.run([str(bs.VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=dev,
                          stdout=out, stderr=out).returncode:
            raise SystemExit(f"flask db upgrade failed; see {log}")
        seeded = subprocess.run([sys.executable, "-c", SEED, str(args.links)], cwd=ROOT,
                                env=dev, stdout=subprocess.PIPE, stderr=out)
    if seeded.returncode:
        raise SystemExit(f"seeding failed; see {log}")
    return [f"/q/{token}" for token in seeded.stdout.decode().split()]


def start_redis(port: int) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        print("NOTICE: redis-server is not installed (apt-get install -y redis-server): the "
              "Redis phase is skipped and the limits count in memory", flush=True)
        return None
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0


def report(records: list[Record], citizens: list[tuple[str, bool]], rows: dict[str, int],
           fault_log: list[tuple[str, float, float]], start: float, wall: float) -> None:
    statuses = Counter(status for _m, _s, _e, status in records)
    posts = [e - s for m, s, e, st in records if m == "POST" and st == 302]
    gets = [e - s for m, s, e, st in records if m == "GET" and st == 200]
    acked = {sid for sid, ok in citizens if ok and sid}
    tried = {sid for sid, _ok in citizens if sid}
    lost = len(acked - rows.keys())
    duplicated = sum(n - 1 for n in rows.values() if n > 1)
    stored_unacked = sum(1 for sid in tried - acked if sid in rows)
    gave_up = len([1 for sid, ok in citizens if not ok])
    print(f"\nload: {wall:.0f} s; {len(records)} requests "
          f"({len(records) / wall:.0f}/s); {len(citizens)} citizens, "
          f"{len(acked)} acknowledged, {gave_up} gave up")
    print("answers by status: " + ", ".join(
        f"{'no answer' if k == 0 else k}: {v}" for k, v in sorted(statuses.items())))
    print(f"POST 302 p50 {pct(posts, 50):.0f} ms, p99 {pct(posts, 99):.0f} ms; "
          f"GET 200 p50 {pct(gets, 50):.0f} ms, p99 {pct(gets, 99):.0f} ms")
    ends = [begun for _n, begun, _b in fault_log[1:]] + [float("inf")]
    for (name, begun, back), until in zip(fault_log, ends, strict=True):
        # The last failure of a request sent after the fault was over (and answered
        # before the next one began): how long the service took to answer again.
        failed = [e for _m, s, e, st in records
                  if back <= s and e < until and (st == 0 or st >= 500)]
        answered = max(failed) - back if failed else 0.0
        failures = sum(1 for _m, s, e, st in records if begun <= s < until and
                       (st == 0 or st >= 500))
        print(f"{name} at {begun - start:5.1f} s: over after {back - begun:.1f} s; service "
              f"answering again {answered:.1f} s later; {failures} failed answers "
              f"(503 or none) until the next fault")
    print(f"500 responses: {statuses.get(500, 0)}; lost (acknowledged, not stored): {lost}; "
          f"duplicated rows: {duplicated}; stored but not acknowledged: {stored_unacked}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--grace", type=float, default=20.0,
                        help="seconds a citizen still in flight keeps sending again")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--links", type=int, default=20)
    parser.add_argument("--dup-fraction", type=float, default=0.05)
    parser.add_argument("--stop-seconds", type=float, default=10.0,
                        help="how long PostgreSQL stays stopped (0: no stop)")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--admin-db", default="test")
    parser.add_argument("--db-name", default="sipas_bench_reliability")
    parser.add_argument("--port", type=int, default=18441)
    parser.add_argument("--redis-port", type=int, default=16391)
    args = parser.parse_args()
    args.worker_class, args.threads = "sync", 1

    url = f"{args.server_url}/{args.db_name}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_reliability.{os.getpid()}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
    env.update({"SIPAS_DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"})
    print(f"log: {log}", flush=True)
    t0 = time.monotonic()
    paths = setup(args, env, log)
    redis = start_redis(args.redis_port)
    storage = f"redis://127.0.0.1:{args.redis_port}/0" if redis else "memory://"
    app_env = {**env, "SIPAS_ENV": "production", "SIPAS_SECRET_KEY": secrets.token_urlsafe(48),
               "SIPAS_PUBLIC_BASE_URL": "https://khaosat.bench.invalid",
               "SIPAS_RATELIMIT_ENABLED": "true", "SIPAS_RATELIMIT_STORAGE_URI": storage}
    gunicorn = bs.start_gunicorn("wsgi:app", args.port, app_env, args, log)
    try:
        bs.wait_ready(args.port, paths[0], gunicorn, args.workers)
        print(f"ready in {time.monotonic() - t0:.1f} s: {len(paths)} links, rate limits in "
              f"{storage}; {args.concurrency} citizens for {args.duration:g} s", flush=True)
        procs = max(1, min(args.client_procs, args.concurrency))
        threads = [args.concurrency // procs + (i < args.concurrency % procs)
                   for i in range(procs)]
        start = time.monotonic()
        fault_log: list[tuple[str, float, float]] = []
        schedule = threading.Thread(target=faults, args=(args, url, start, redis, fault_log))
        schedule.start()
        with mp.get_context("fork").Pool(procs) as pool:
            outs: list[Any] = pool.starmap(_client, [
                (paths, threads[i], args.port, start + args.duration, args.grace,
                 args.dup_fraction, i + 1) for i in range(procs)])
        wall = time.monotonic() - start
        schedule.join()
        wait_pg(url)
        with psycopg.connect(url) as conn:
            rows = dict(conn.execute("SELECT client_submission_id, count(*) FROM response "
                                     "GROUP BY client_submission_id").fetchall())
        report([r for o in outs for r in o[0]], [c for o in outs for c in o[1]], rows,
               fault_log, start, wall)
        for odd in [line for o in outs for line in o[2]][:5]:
            print("unexpected:", odd)
    finally:
        bs.stop(gunicorn)
        if redis is not None and redis.poll() is None:
            redis.terminate()
            redis.wait(10)
        wait_pg(f"{args.server_url}/{args.admin_db}")
        bs.admin_execute(args, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    print(f"total {time.monotonic() - t0:.0f} s; database dropped; gunicorn log {log}")


if __name__ == "__main__":
    main()
