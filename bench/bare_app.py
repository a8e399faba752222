"""The baseline of ``bench_submission.py``: a bare Flask endpoint that does ONE insert.

``POST /submit`` reads the same form body a citizen's phone sends (answers,
``submission_id``, ``csrf_token``) but ignores everything except ``submission_id`` and
the target ids, and runs one ``INSERT INTO response ... ON CONFLICT
(client_submission_id) DO NOTHING`` (one response row, no answer rows) in its own
transaction on a persistent psycopg 3 connection, then answers 302 like the real path.
No session, CSRF, questionnaire, validation, answer rows, pseudonyms or gaming flags:
it is the floor that the full submission path is compared with.

Run by the benchmark as ``gunicorn bench.bare_app:app`` with the same worker settings as
the real app; needs ``BARE_DATABASE_URL`` (a plain ``postgresql://`` URL).
"""

from __future__ import annotations

import os
import re
import threading

import psycopg
from flask import Flask, abort, redirect, request

SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
INSERT = """
INSERT INTO response (questionnaire_key, questionnaire_version, channel, unit_id,
                      service_point_id, link_id, submitted_at, client_submission_id,
                      flags, review_status)
VALUES ('desk_rating', 1, 'desk_qr', %s, %s, %s, now(), %s, '', 'ok')
ON CONFLICT (client_submission_id) DO NOTHING
"""

app = Flask(__name__)
_local = threading.local()


def _connection() -> psycopg.Connection:
    # One connection per worker thread, kept open (what a connection pool gives the app).
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["BARE_DATABASE_URL"])
        _local.conn = conn
    return conn


@app.get("/ping")
def ping() -> str:
    return "ok"


@app.post("/submit")
def submit():  # type: ignore[no-untyped-def]
    form = request.form
    sid = form.get("submission_id", "")
    if not SUBMISSION_ID.match(sid):
        abort(400)
    try:
        unit_id, point_id, link_id = (int(form[k]) for k in ("unit_id", "point_id", "link_id"))
    except (KeyError, ValueError):
        abort(400)
    conn = _connection()
    try:
        conn.execute(INSERT, (unit_id, point_id, link_id, sid))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return redirect("/thanks", 302)
