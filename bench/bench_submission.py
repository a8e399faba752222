"""Benchmark: the full citizen submission path against a fair baseline (the same page and
rows, bare Flask) and a bare one-insert Flask endpoint.

Usage::

    python bench/bench_submission.py                         # 3,000 per target, 16 clients
    python bench/bench_submission.py --quick                 # 500 per target, ~1-2 min

What it does (issue 5, item 9), all on loopback (127.0.0.0/8):

1. creates a fresh PostgreSQL database (``--db-name``, default ``sipas_bench``), runs
   ``flask db upgrade`` and ``flask demo seed --no-responses`` and picks ``--links``
   desk_rating poster links (the desk_rating questionnaire is one page of 11 items);
2. for each target starts gunicorn with the same worker settings (``--workers``,
   ``--worker-class``, ``--threads``), warms it up, then drives it with the same load
   generator: ``--client-procs`` processes x threads = ``--concurrency`` simulated
   citizens at a time, bounded by ``--submissions`` and ``--time-cap``:

   * ``bare``: ``bench/bare_app.py``, one POST = one ``INSERT`` of a response row
     (no answer rows, no session, no CSRF) on a persistent psycopg connection;
   * ``fair``: ``bench/fair_app.py``, one citizen = the same GET (the same page
     template and context, no session, a placeholder CSRF token) and the same POST
     body, which inserts the response row and its 11 answer rows in one transaction
     (``ON CONFLICT (client_submission_id) DO NOTHING``), then 302 to the thanks page;
     no session, CSRF, rate limits, validation, pseudonyms or gaming flags;
   * ``real``: ``wsgi:app`` (SIPAS_ENV=production, rate limits off); one citizen =
     ``GET /q/<link>/p/1`` (form page: session cookie, CSRF token, submission id) then
     ``POST /q/<link>/p/1`` with random answers to all 11 items, which must answer
     302 to ``/q/<link>/thanks``; the app stores a response + 11 answer rows (validation,
     pseudonyms, gaming flags, one transaction);
   * ``real+limits``: the same with Flask-Limiter on (memory storage, the default).
     Every citizen connects from its own loopback address (127.1.x.y) as phones would,
     so the per-address ceiling (600/hour) measures its cost without refusing anyone.

   ``--dup-fraction`` of the citizens (5 %) send their POST a second time with the same
   ``submission_id`` and the cookies they had before the first POST: half right after
   the first answer, half concurrently with it (a double tap). Resends are not counted
   as submissions; they must answer 302 and must not create rows.
3. counts the rows in ``response`` (and ``answer``) per target after the run: ``lost`` =
   successes (302) without a row, ``duplicated`` = rows beyond one per successful
   submission (rows of failed requests and extra rows of a submission id);
4. stops every process it started, drops the database and prints a summary table.

The client, gunicorn and PostgreSQL share the machine's cores; the table shows how much
CPU each took. Prints figures; asserts nothing. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import html
import http.client
import multiprocessing as mp
import os
import random
import re
import resource
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SID_RE = re.compile(r'name="submission_id"[^>]*value="([^"]*)"')
RADIO_RE = re.compile(r'<input[^>]*type="radio"[^>]*name="([^"]+)"[^>]*value="([^"]+)"')
TEXTAREA_RE = re.compile(r'<textarea[^>]*name="([^"]+)"')
COMMENTS = ["Cán bộ hướng dẫn tận tình.", "Thời gian chờ hơi lâu.", "Tốt", "Cần thêm ghế ngồi.",
            "Nhanh gọn, đúng hẹn."]


# --- load generator (runs in client processes) ----------------------------------------
@dataclass
class Job:
    index: int
    kind: str  # "bare" or "real"
    path: str  # /q/<token>
    link: tuple[int, int, int]  # link id, service point id, unit id
    resend: str  # "", "after" or "concurrent"
    source_ip: str
    measured: bool


@dataclass
class Result:
    index: int
    measured: bool
    sid: str = ""
    ok: bool = False
    error: str = ""
    get_status: int = 0
    get_s: float = 0.0
    post_status: int = 0
    post_s: float = 0.0
    start: float = 0.0
    end: float = 0.0
    resend_status: int = -1  # -1: no resend
    resend_ok: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _request(port: int, source_ip: str, method: str, path: str, cookies: dict[str, str],
             body: str | None = None) -> tuple[int, dict[str, str], str, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                      source_address=(source_ip, 0) if source_ip else None)
    headers = {"Connection": "close", "User-Agent": "sipas-bench/1 (phone)",
               "Accept-Language": "vi"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body.encode() if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, \
            resp.headers.get_all("Set-Cookie") or []
    finally:
        conn.close()


def _set_cookies(cookies: dict[str, str], set_cookie: list[str]) -> None:
    for line in set_cookie:
        name, _, value = line.split(";", 1)[0].partition("=")
        cookies[name.strip()] = value.strip()


def _citizen(job: Job, port: int, rng: random.Random) -> Result:
    res = Result(job.index, job.measured)
    cookies: dict[str, str] = {}
    res.start = time.monotonic()
    try:
        if job.kind in ("real", "fair"):
            t0 = time.monotonic()
            status, _h, page, set_cookie = _request(port, job.source_ip, "GET",
                                                    job.path + "/p/1", cookies)
            res.get_s, res.get_status = time.monotonic() - t0, status
            if status != 200:
                res.error = f"GET {status}"
                return res
            _set_cookies(cookies, set_cookie)
            csrf, sid = CSRF_RE.search(page), SID_RE.search(page)
            if not csrf or not sid:
                res.error = "no csrf/submission id in page"
                return res
            res.sid = html.unescape(sid.group(1))
            groups: dict[str, list[str]] = {}
            for name, value in RADIO_RE.findall(page):
                groups.setdefault(name, []).append(value)
            fields = [("csrf_token", html.unescape(csrf.group(1))),
                      ("submission_id", res.sid), ("website", "")]
            fields += [(name, rng.choice(values)) for name, values in groups.items()]
            fields += [(name, rng.choice(COMMENTS)) for name in TEXTAREA_RE.findall(page)]
            res.extra["answers"] = len(groups) + len(TEXTAREA_RE.findall(page))
            post_path, expect = job.path + "/p/1", job.path + "/thanks"
        else:
            res.sid = f"bare-{job.index:07d}-{secrets.token_hex(6)}"
            link_id, point_id, unit_id = job.link
            fields = [("csrf_token", "x" * 90), ("submission_id", res.sid), ("website", ""),
                      ("link_id", str(link_id)), ("point_id", str(point_id)),
                      ("unit_id", str(unit_id))]
            fields += [(f"q{i}", str(rng.randint(0, 2))) for i in range(10)]
            fields.append(("gop_y", rng.choice(COMMENTS)))
            post_path, expect = "/submit", "/thanks"
        body = urllib.parse.urlencode(fields)
        before = dict(cookies)

        def resend() -> None:
            try:
                status, headers, _b, _c = _request(port, job.source_ip, "POST", post_path,
                                                   dict(before), body)
                res.resend_status = status
                res.resend_ok = status == 302 and headers.get("location", "").endswith(expect)
            except Exception as err:  # noqa: BLE001 - counted, not raised
                res.resend_status = 0
                res.extra["resend_error"] = repr(err)

        twin = None
        if job.resend == "concurrent":
            twin = threading.Thread(target=resend)
            twin.start()
        t0 = time.monotonic()
        status, headers, _b, _c = _request(port, job.source_ip, "POST", post_path, cookies,
                                           body)
        res.post_s, res.post_status = time.monotonic() - t0, status
        res.end = time.monotonic()
        location = headers.get("location", "")
        res.ok = status == 302 and location.endswith(expect)
        if not res.ok:
            res.error = f"POST {status} {location}"
        if twin is not None:
            twin.join()
        elif job.resend == "after":
            resend()
    except Exception as err:  # noqa: BLE001 - a failed citizen is counted, not raised
        res.error = repr(err)
        res.end = time.monotonic()
    return res


def _client_process(jobs: list[Job], threads: int, port: int, deadline: float,
                    seed: int) -> tuple[list[Result], float, int]:
    """Run ``jobs`` on ``threads`` threads; returns results, CPU seconds, jobs skipped."""
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    lock = threading.Lock()
    pending = list(reversed(jobs))
    results: list[Result] = []
    skipped = [0]

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while True:
            with lock:
                if not pending:
                    return
                if time.monotonic() > deadline:
                    skipped[0] += len(pending)
                    pending.clear()
                    return
                job = pending.pop()
            out = _citizen(job, port, rng)
            with lock:
                results.append(out)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return results, cpu, skipped[0]


def drive(jobs: list[Job], concurrency: int, procs: int, port: int,
          time_cap: float) -> tuple[list[Result], float, int, float]:
    """All jobs through ``procs`` processes x threads; results, client CPU s, skipped, wall."""
    procs = max(1, min(procs, concurrency))
    shares = [jobs[i::procs] for i in range(procs)]
    threads = [concurrency // procs + (1 if i < concurrency % procs else 0)
               for i in range(procs)]
    t0 = time.monotonic()
    deadline = t0 + time_cap
    ctx = mp.get_context("fork")
    with ctx.Pool(procs) as pool:
        outs = pool.starmap(_client_process, [(shares[i], threads[i], port, deadline, i + 1)
                                              for i in range(procs)])
    wall = time.monotonic() - t0
    results = [r for out in outs for r in out[0]]
    return results, sum(o[1] for o in outs), sum(o[2] for o in outs), wall


# --- processes and CPU accounting ------------------------------------------------------
def _ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().startswith("postgres"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def _machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, sum(values[:8])


HZ = os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of gunicorn (master + workers) and PostgreSQL, and machine busy %."""

    def __init__(self, master: int) -> None:
        self.master = master

    def snapshot(self) -> dict[str, Any]:
        server = {p: _ticks(p) for p in [self.master, *_children(self.master)]}
        pg = {p: _ticks(p) for p in _postgres_pids()}
        return {"server": server, "pg": pg, "machine": _machine_ticks(), "t": time.monotonic()}

    @staticmethod
    def delta(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
        def diff(key: str) -> float:
            return sum(v - a[key].get(p, 0) for p, v in b[key].items()) / HZ

        busy = b["machine"][0] - a["machine"][0]
        total = b["machine"][1] - a["machine"][1]
        return {"server": diff("server"), "pg": diff("pg"), "busy_s": busy / HZ,
                "busy": busy / total if total else 0.0, "wall": b["t"] - a["t"]}


def start_gunicorn(app: str, port: int, env: dict[str, str], args: argparse.Namespace,
                   log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(VENV_BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}",
           "--workers", str(args.workers), "--worker-class", args.worker_class,
           "--timeout", "60", "--log-level", "warning"]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out,
                                start_new_session=True)
    return proc


def wait_ready(port: int, path: str, proc: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see the log")
        try:
            status, _h, _b, _c = _request(port, "", "GET", path, {})
            if status in (200, 302) and len(_children(proc.pid)) >= workers:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready in 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- database ----------------------------------------------------------------------------
def admin_execute(args: argparse.Namespace, sql: str) -> None:
    with psycopg.connect(f"{args.server_url}/{args.admin_db}", autocommit=True) as conn:
        conn.execute(sql)


def setup_database(args: argparse.Namespace, env: dict[str, str], log: Path) -> None:
    admin_execute(args, f'DROP DATABASE IF EXISTS "{args.db_name}"')
    admin_execute(args, f'CREATE DATABASE "{args.db_name}"')
    flask = str(VENV_BIN / "flask")
    for cmd in ([flask, "db", "upgrade"], [flask, "demo", "seed", "--no-responses"]):
        with log.open("ab") as out:
            # The demo refuses to seed in production (its accounts share a published
            # password): the set-up runs as development on the same database.
            done = subprocess.run(cmd, cwd=ROOT, env={**env, "FLASK_APP": "survey",
                                                      "SIPAS_ENV": "development"},
                                  stdout=out, stderr=out)
        if done.returncode:
            raise SystemExit(f"{' '.join(cmd[1:])} failed; see {log}")


def pick_links(db_url: str, n: int) -> list[tuple[str, tuple[int, int, int]]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT pl.token, pl.id, sp.id, sp.unit_id FROM point_link pl "
            "JOIN service_point sp ON sp.id = pl.service_point_id "
            "WHERE pl.kind = 'poster' AND pl.revoked_at IS NULL AND sp.active "
            "AND sp.questionnaire_key = 'desk_rating' ORDER BY pl.id LIMIT %s", (n,)).fetchall()
    return [(f"/q/{token}", (link_id, point_id, unit_id))
            for token, link_id, point_id, unit_id in rows]


# --- one target ----------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    kind: str
    app: str
    env: dict[str, str]
    does: str
    results: list[Result] = field(default_factory=list)
    measured: list[Result] = field(default_factory=list)
    client_cpu: float = 0.0
    skipped: int = 0
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    rows: int = 0
    answers: int = 0
    lost: int = 0
    duplicated: int = 0
    flags: dict[str, int] = field(default_factory=dict)


def make_jobs(phase: Phase, links: list[tuple[str, tuple[int, int, int]]], n: int,
              offset: int, measured: bool, dup_fraction: float, seed: int) -> list[Job]:
    rng = random.Random(seed)
    jobs = []
    for i in range(n):
        index = offset + i
        path, link = links[rng.randrange(len(links))]
        resend = ""
        if rng.random() < dup_fraction:
            resend = "concurrent" if rng.random() < 0.5 else "after"
        # Each citizen has its own loopback address (a phone on its own connection).
        ip = f"127.{1 + index // 65000}.{(index % 65000) // 250}.{index % 250 + 1}"
        jobs.append(Job(index, phase.kind, path, link, resend, ip, measured))
    return jobs


def run_phase(phase: Phase, links: list[tuple[str, tuple[int, int, int]]], port: int,
              offset: int, args: argparse.Namespace, log: Path) -> None:
    print(f"[{phase.name}] starting gunicorn {phase.app} ...", flush=True)
    proc = start_gunicorn(phase.app, port, phase.env, args, log)
    try:
        wait_ready(port, "/ping" if phase.kind == "bare" else links[0][0], proc, args.workers)
        warm = make_jobs(phase, links, args.warmup, offset, False, args.dup_fraction,
                         args.seed + offset)
        results, _cpu, _skip, _wall = drive(warm, args.concurrency, args.client_procs, port,
                                            args.time_cap)
        meter = CpuMeter(proc.pid)
        spy = None
        if args.py_spy and phase.name == "real":
            # Sampling profile of master + workers (distorts this run's figures a little).
            spy = subprocess.Popen([args.py_spy_bin, "record", "--pid", str(proc.pid),
                                    "--subprocesses", "--rate", "200", "--format", "raw",
                                    "--output", args.py_spy, "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        before = meter.snapshot()
        jobs = make_jobs(phase, links, args.submissions, offset + args.warmup, True,
                         args.dup_fraction, args.seed + offset + 1)
        measured, phase.client_cpu, phase.skipped, phase.wall = drive(
            jobs, args.concurrency, args.client_procs, port, args.time_cap)
        phase.cpu = CpuMeter.delta(before, meter.snapshot())
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        phase.results = results + measured
        phase.measured = measured
        ok = sum(r.ok for r in measured)
        print(f"[{phase.name}] {ok}/{len(measured)} ok in {phase.wall:.1f} s", flush=True)
    finally:
        stop(proc)


def count_rows(db_url: str, phases: list[Phase]) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT r.client_submission_id, r.flags, count(a.id) FROM response r "
            "LEFT JOIN answer a ON a.response_id = r.id GROUP BY r.id").fetchall()
    by_sid: dict[str, list[tuple[str, int]]] = {}
    for sid, flags, answers in rows:
        by_sid.setdefault(sid, []).append((flags, answers))
    claimed: set[str] = set()
    for phase in phases:
        sids = {r.sid for r in phase.results if r.sid}
        # A citizen got its thanks page if its POST or its resend (double tap) answered 302.
        ok = {r.sid for r in phase.results if r.ok or r.resend_ok}
        claimed |= sids
        stored = [(sid, row) for sid in sids for row in by_sid.get(sid, [])]
        phase.rows = len(stored)
        phase.answers = sum(row[1] for _sid, row in stored)
        phase.lost = len(ok - by_sid.keys())
        # Rows beyond one per successful submission: extra rows of one id, and rows of
        # submissions whose client saw a failure (the citizen would answer again).
        phase.duplicated = sum(len(by_sid[s]) - 1 for s in sids if s in by_sid) + \
            sum(len(by_sid[s]) for s in sids - ok if s in by_sid)
        for _sid, (flags, _n) in stored:
            key = flags or "(none)"
            phase.flags[key] = phase.flags.get(key, 0) + 1
    unclaimed = sum(len(v) for k, v in by_sid.items() if k not in claimed)
    if unclaimed:
        print(f"WARNING: {unclaimed} rows belong to no simulated citizen", flush=True)
        phases[-1].duplicated += unclaimed


# --- report ------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def throughput(results: list[Result]) -> float:
    done = [r for r in results if r.ok]
    if len(done) < 2:
        return 0.0
    span = max(r.end for r in done) - min(r.start for r in results)
    return len(done) / span if span > 0 else 0.0


def report(phases: list[Phase], args: argparse.Namespace) -> None:
    ms = 1000.0
    bare = next((p for p in phases if p.kind == "bare"), None)
    base = throughput(bare.measured) if bare else 0.0
    fair = next((p for p in phases if p.kind == "fair"), None)
    fair_base = throughput(fair.measured) if fair else 0.0
    print()
    print(f"SIPAS submission benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"cores={os.cpu_count()}  gunicorn {args.worker_class} workers={args.workers}"
          + (f" threads={args.threads}" if args.worker_class == "gthread" else "")
          + f"  concurrency={args.concurrency} ({args.client_procs} client processes)  "
          f"links={args.links}  load average {args.load_before} before, "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} now")
    for p in phases:
        print(f"  {p.name:<12} {p.does}")
    print()
    head = (f"{'target':<12} {'done':>6} {'fail':>5} {'subm/s':>7} {'/bare':>6} {'/fair':>6} "
            f"{'POST p50':>9} {'POST p99':>9} {'GET p50':>8} {'GET p99':>8} "
            f"{'citz p50':>9} {'citz p99':>9}  {'resend ok':>9} {'rows':>6} {'answers':>7} "
            f"{'lost':>4} {'dup':>4}")
    print(head)
    print("-" * len(head))
    for p in phases:
        m = p.measured
        ok = [r for r in m if r.ok]
        post = [r.post_s for r in ok]
        get = [r.get_s for r in ok if r.get_status]
        both = [r.get_s + r.post_s for r in ok]
        rate = throughput(m)
        resends = [r for r in p.results if r.resend_status != -1]
        gp50 = f"{pct(get, 50) * ms:7.1f}" if get else f"{'-':>7}"
        gp99 = f"{pct(get, 99) * ms:7.1f}" if get else f"{'-':>7}"
        print(f"{p.name:<12} {len(ok):>6} {len(m) - len(ok) + p.skipped:>5} {rate:>7.1f} "
              f"{(rate / base if base else float('nan')):>6.0%} "
              f"{(rate / fair_base if fair_base else float('nan')):>6.0%} "
              f"{pct(post, 50) * ms:>7.1f}ms {pct(post, 99) * ms:>7.1f}ms "
              f"{gp50}ms {gp99}ms {pct(both, 50) * ms:>7.1f}ms {pct(both, 99) * ms:>7.1f}ms  "
              f"{sum(r.resend_ok for r in resends):>4}/{len(resends):<4} {p.rows:>6} "
              f"{p.answers:>7} {p.lost:>4} {p.duplicated:>4}")
    print()
    print(f"{'target':<12} {'wall s':>7} {'machine busy':>12} {'gunicorn cpu s':>14} "
          f"{'postgres cpu s':>14} {'client cpu s':>12} {'other cpu s':>11}  "
          f"per submission: gunicorn / pg / client")
    for p in phases:
        n = max(1, sum(r.ok for r in p.measured))
        c = p.cpu
        # Other: kernel (loopback TCP, process switches) and anything else on the machine.
        other = c.get("busy_s", 0) - c.get("server", 0) - c.get("pg", 0) - p.client_cpu
        print(f"{p.name:<12} {c.get('wall', 0):>7.1f} {c.get('busy', 0):>12.0%} "
              f"{c.get('server', 0):>14.1f} {c.get('pg', 0):>14.1f} {p.client_cpu:>12.1f} "
              f"{other:>11.1f}  "
              f"{c.get('server', 0) / n * ms:.2f} / {c.get('pg', 0) / n * ms:.2f} / "
              f"{p.client_cpu / n * ms:.2f} ms")
    if bare is not None:
        def server_ms(p: Phase) -> float:
            n = max(1, sum(r.ok for r in p.measured))
            return (p.cpu.get("server", 0) + p.cpu.get("pg", 0)) / n * ms

        base_ms = server_ms(bare)
        print("server CPU (gunicorn + PostgreSQL) per submission, robust to other load: "
              + ", ".join(f"{p.name} {server_ms(p):.1f} ms" for p in phases)
              + "; bare/real = " + ", ".join(f"{base_ms / server_ms(p):.0%}" for p in phases
                                             if p.kind == "real" and server_ms(p)))
    if fair is not None:
        def cpu_ms(p: Phase) -> float:
            n = max(1, sum(r.ok for r in p.measured))
            return (p.cpu.get("server", 0) + p.cpu.get("pg", 0)) / n * ms

        fair_ms = cpu_ms(fair)
        print(f"fair baseline: {fair_ms:.1f} ms of server CPU per citizen; real/fair by "
              "server CPU per citizen (the throughput ratio on an otherwise idle machine): "
              + ", ".join(f"{p.name} {fair_ms / cpu_ms(p):.0%}" for p in phases
                          if p.kind == "real" and cpu_ms(p)))
    print()
    for p in phases:
        errors: dict[str, int] = {}
        for r in p.results:
            for err in (r.error, f"resend POST {r.resend_status}" if r.resend_status not in
                        (-1, 302) or (r.resend_status == 302 and not r.resend_ok) else ""):
                if err:
                    errors[err[:80]] = errors.get(err[:80], 0) + 1
        if errors:
            print(f"{p.name} errors (warm-up + measured, resends apart): {errors}")
        if p.kind == "real":
            print(f"{p.name} flags of stored rows: {p.flags}")
    lost = sum(p.lost for p in phases)
    dup = sum(p.duplicated for p in phases)
    print(f"(rows counted after the run over warm-up + measured citizens: "
          f"{sum(len(p.results) for p in phases)} citizens, "
          f"{sum(r.resend_status != -1 for p in phases for r in p.results)} resends)")
    print(f"lost: {lost}, duplicated: {dup}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=3000, help="measured, per target")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="per worker, gthread only")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--links", type=int, default=100, help="desk_rating poster links")
    parser.add_argument("--warmup", type=int, default=200, help="citizens per target, untimed")
    parser.add_argument("--time-cap", type=float, default=120.0, help="seconds per target")
    parser.add_argument("--dup-fraction", type=float, default=0.05)
    parser.add_argument("--no-limits-run", action="store_true",
                        help="skip the run with rate limits on")
    parser.add_argument("--only", choices=["bare", "fair", "real"], help="one target only")
    parser.add_argument("--quick", action="store_true",
                        help="bounded run of about 1-2 minutes: 500 citizens per target, "
                        "100 warm-up, 45 s cap per target, no rate-limit run")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--admin-db", default="test", help="database to connect to for "
                        "CREATE/DROP DATABASE")
    parser.add_argument("--db-name", default="sipas_bench")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument("--py-spy", metavar="FILE",
                        help="record a py-spy profile (raw/collapsed stacks) of the gunicorn "
                        "workers during the measured 'real' run (py-spy is not a dependency: "
                        "pip install --target /tmp/pyspy py-spy)")
    parser.add_argument("--py-spy-bin", default="py-spy", help="path of the py-spy binary")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.quick:
        args.submissions, args.warmup = min(args.submissions, 500), min(args.warmup, 100)
        args.time_cap, args.no_limits_run = min(args.time_cap, 45.0), True
    args.load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())

    db_url = f"{args.server_url}/{args.db_name}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_submission.{os.getpid()}.log"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
    base_env.update({"SIPAS_DATABASE_URL": db_url, "SIPAS_ENV": "production",
                     "SIPAS_SECRET_KEY": secrets.token_urlsafe(48),
                     "SIPAS_PUBLIC_BASE_URL": "https://khaosat.bench.invalid",
                     "PYTHONDONTWRITEBYTECODE": "1"})
    real = ("GET form page (session + CSRF) then POST 11 answers: CSRF, validation, "
            "response + 11 answer rows, pseudonyms, gaming flags, 1 transaction")
    phases = [
        Phase("bare", "bare", "bench.bare_app:app",
              {**base_env, "BARE_DATABASE_URL": db_url},
              "POST only: one INSERT of a response row (no answer rows), psycopg, commit"),
        Phase("fair", "fair", "bench.fair_app:app",
              {**base_env, "SIPAS_RATELIMIT_ENABLED": "false", "FAIR_DATABASE_URL": db_url},
              "the same GET page (same template + context, placeholder CSRF, no session) "
              "and POST body: response + 11 answer rows, 1 transaction, ON CONFLICT; "
              "no CSRF, limits, validation, pseudonyms, gaming flags"),
        Phase("real", "real", "wsgi:app", {**base_env, "SIPAS_RATELIMIT_ENABLED": "false"},
              real + "; rate limits off"),
        Phase("real+limits", "real", "wsgi:app",
              {**base_env, "SIPAS_RATELIMIT_ENABLED": "true",
               "SIPAS_RATELIMIT_STORAGE_URI": "memory://"},
              "the same with rate limits on (memory storage per worker)"),
    ]
    if args.no_limits_run:
        phases = [p for p in phases if p.name != "real+limits"]
    if args.only:
        phases = [p for p in phases if p.kind == args.only]
    print(f"log: {log}", flush=True)
    a = _machine_ticks()
    time.sleep(2.0)
    b = _machine_ticks()
    idle_busy = (b[0] - a[0]) / max(1, b[1] - a[1])
    print(f"machine busy before the run: {idle_busy:.0%} of {os.cpu_count()} cores"
          + ("  WARNING: something else is running; figures will be low and noisy"
             if idle_busy > 0.10 else ""), flush=True)
    t0 = time.monotonic()
    setup_database(args, base_env, log)
    try:
        links = pick_links(db_url, args.links)
        if not links:
            raise SystemExit("no desk_rating poster links in the demo database")
        args.links = len(links)
        print(f"database {args.db_name} ready in {time.monotonic() - t0:.1f} s; "
              f"{len(links)} desk_rating links", flush=True)
        offset = 0
        for phase in phases:
            run_phase(phase, links, args.port, offset, args, log)
            offset += args.warmup + args.submissions
        count_rows(db_url, phases)
        report(phases, args)
    finally:
        if not args.keep_db:
            admin_execute(args, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    print(f"total {time.monotonic() - t0:.0f} s; database {args.db_name} "
          f"{'kept' if args.keep_db else 'dropped'}; gunicorn log {log}")


if __name__ == "__main__":
    main()
