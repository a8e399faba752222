"""The FAIR baseline of ``bench_submission.py``: the citizen's page and rows, nothing else.

A bare Flask app (its own ``Flask`` object: no session, CSRF, rate limits, security
headers, request hooks or error pages) that does the work a citizen's submission cannot
do without, for the same desk questionnaire and the same links as the real path:

``GET /q/<link>/p/<page>``
    renders the SAME Jinja template as the platform (``collection/citizen/page.html``
    with its base and ``_questions.html``) with the same context: the WTForms form of
    the page built per request (``widgets.form_class``, with a fresh submission id) and
    ``widgets.page_context``. What it skips: the link is resolved from the database once
    per worker and link and then kept in memory (the platform caches resolutions too,
    but revalidates them); the CSRF token is a fixed placeholder of the same length
    (``csrf_token()`` is replaced in the context; the form's own CSRF is off); no session
    cookie is read or written. The template needs the platform's Jinja environment
    (translations, ``url_for`` of the citizen routes, static files), so it is rendered
    by ``survey.create_app()``'s environment inside a request context of that app
    pushed for the same path (no before/after-request hook of the platform runs).
    The HTML has the same size as the real page up to the token and id values.
``POST /q/<link>/p/<page>``
    parses the same form body (``request.form``: answers, ``submission_id``,
    ``csrf_token``, ``website``), turns each answer of the page into its stored value
    (a small type switch: option value -> number, ``na`` -> not applicable, text ->
    text, yes/no -> 1/0; no questionnaire validation), computes the same
    ``answers_hash`` and inserts, in ONE transaction on a persistent psycopg 3
    connection, the response row with ``INSERT ... ON CONFLICT (client_submission_id)
    DO NOTHING RETURNING id`` and, when a row was inserted, its answer rows (one
    ``executemany``; ``search_text`` folded as the model does). A resend of a stored
    submission id inserts nothing. Answers 302 to ``/q/<link>/thanks``.
    Not done: CSRF, the session, rate limits, validation, pseudonyms (``ip_hash`` and
    ``device_hash`` stay NULL), gaming flags (``flags`` is empty, no companion UPDATE),
    the duplicate SELECT before the insert.

Run by the benchmark as ``gunicorn bench.fair_app:app`` with the same worker settings
and the same ``SIPAS_*`` environment as the real app (rate limits off), plus
``FAIR_DATABASE_URL`` (a plain ``postgresql://`` URL of the same database).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass

import psycopg
from flask import Flask, abort, redirect, render_template, request

import questionnaires as q
from survey import create_app
from survey.collection.models import fold_text
from survey.collection.services import flow
from survey.collection.widgets import form_class, page_context

SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Flask-WTF's tokens are 91 characters (timestamped, signed); same length, fixed value.
CSRF_PLACEHOLDER = "f" * 91
RESPONSE = """
INSERT INTO response (questionnaire_key, questionnaire_version, channel, unit_id,
                      service_point_id, link_id, submitted_at, client_submission_id,
                      answers_hash, flags, review_status)
VALUES (%s, %s, 'desk_qr', %s, %s, %s, now(), %s, %s, '', 'ok')
ON CONFLICT (client_submission_id) DO NOTHING
RETURNING id
"""
ANSWER = """
INSERT INTO answer (response_id, item_id, value_num, value_text, not_applicable, search_text)
VALUES (%s, %s, %s, %s, %s, %s)
"""

app = Flask(__name__)
# Only a template renderer: its Jinja environment, translations and URL map.
sipas = create_app()
_local = threading.local()


@dataclass(frozen=True)
class Cached:
    target: flow.Target
    items: dict[int, list[q.Item]]  # page -> items of that page


_targets: dict[str, Cached] = {}


def _cached(key: str) -> Cached:
    found = _targets.get(key)
    if found is None:
        with sipas.app_context():
            try:
                target = flow.resolve("q", key, "desk_rating")
            except flow.LinkUnavailable:
                abort(404)
        defn = target.definition
        pages = {n: flow.page_items(defn, n) for n in flow.screen_numbers(defn)}
        found = _targets[key] = Cached(target, pages)
    return found


def _connection() -> psycopg.Connection:
    # One connection per worker thread, kept open (what a connection pool gives the app).
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["FAIR_DATABASE_URL"])
        _local.conn = conn
    return conn


def _stored(item: q.Item, value: str) -> tuple[float | None, str | None, bool | None]:
    """(value_num, value_text, not_applicable) of one posted value; ``None`` for the
    flag unless it is true, as ``submission.answer_rows`` leaves it before the flush."""
    if value == q.NOT_APPLICABLE:
        return None, None, True
    if item.type == "text":
        return None, value, None
    if item.type == "yes_no":
        return (1.0 if value == "true" else 0.0), None, None
    try:
        return float(int(value)), None, None
    except ValueError:
        abort(400)


@app.get("/ping")
def ping() -> str:
    return "ok"


@app.get("/q/<key>")
def start(key: str):  # type: ignore[no-untyped-def]
    _cached(key)
    return redirect(f"/q/{key}/p/1", 302)


@app.get("/q/<key>/p/<int:page>")
def page(key: str, page: int) -> str:
    cached = _cached(key)
    if page not in cached.items:
        abort(404)
    target = cached.target
    defn = target.definition
    with sipas.test_request_context(request.path, headers={"Accept-Language": "vi"}):
        form = form_class(defn, page, "vi")(data={"submission_id": uuid.uuid4().hex},
                                            meta={"csrf": False})
        context = page_context(defn, page, form, {}, [], "vi")
        return render_template("collection/citizen/page.html", target=target, **context,
                               idle=sipas.config.get("KIOSK_IDLE_SECONDS", 180),
                               csrf_token=lambda: CSRF_PLACEHOLDER)


@app.post("/q/<key>/p/<int:page>")
def submit(key: str, page: int):  # type: ignore[no-untyped-def]
    cached = _cached(key)
    items = cached.items.get(page)
    if items is None:
        abort(404)
    form = request.form
    sid = form.get("submission_id", "")
    if not SUBMISSION_ID.match(sid):
        abort(400)
    stored = {i.id: _stored(i, form[i.id]) for i in items if form.get(i.id)}
    answers_hash = hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()
    target = cached.target
    conn = _connection()
    try:
        with conn.cursor() as cur:
            cur.execute(RESPONSE, (target.version.key, target.version.version, target.unit.id,
                                   target.point.id if target.point else None,
                                   target.link.id if target.link else None, sid,
                                   answers_hash))
            row = cur.fetchone()
            if row is not None:  # a resend of a stored submission id inserts nothing
                cur.executemany(ANSWER, [
                    (row[0], item_id, num, text, bool(na),
                     fold_text(text) if text and any(c.isalpha() for c in text) else None)
                    for item_id, (num, text, na) in stored.items()])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return redirect(f"/q/{key}/thanks", 302)
