"""The daily salt is never stored (derived from the secret key), and link keys and
one-time token secrets never reach the access or error logs."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import inspect

from survey.collection.services import privacy
from survey.extensions import db as _db


def test_no_salt_table_in_the_database(db: Any) -> None:
    assert "daily_salt" not in _db.metadata.tables
    assert "daily_salt" not in inspect(db.session.connection()).get_table_names()


def test_pseudonyms_compare_within_a_day_and_not_across_days(app: Any) -> None:
    monday, tuesday = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    first = privacy.pseudonym("203.0.113.9", monday)
    assert first == privacy.pseudonym("203.0.113.9", monday)  # every worker agrees
    assert first != privacy.pseudonym("203.0.113.9", tuesday)
    assert first != privacy.pseudonym("203.0.113.10", monday)
    assert privacy.pseudonym(None, monday) is None and privacy.pseudonym("", monday) is None
    assert first is not None and "203.0.113.9" not in first and len(first) == 64


def test_the_salt_depends_on_a_key_kept_out_of_the_database(app: Any,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    config = current_app.config  # the context the test's own calls run in
    day = dt.date(2026, 11, 30)
    with_secret = privacy.pseudonym("203.0.113.9", day)
    monkeypatch.setitem(config, "PSEUDONYM_KEY", "a-separate-pseudonym-key-0123456789")
    with_own_key = privacy.pseudonym("203.0.113.9", day)
    monkeypatch.setitem(config, "SECRET_KEY", "another-secret-key-0123456789-abcdef")
    assert with_own_key == privacy.pseudonym("203.0.113.9", day)  # only PSEUDONYM_KEY counts
    monkeypatch.delitem(config, "PSEUDONYM_KEY")
    assert privacy.pseudonym("203.0.113.9", day) not in (with_secret, with_own_key)


@pytest.mark.parametrize(("line", "expected"), [
    ('GET /q/Xy7_abc-123 HTTP/1.1', 'GET /q/[redacted] HTTP/1.1'),
    ('POST /k/Xy7abc123/2?lang=en HTTP/1.1', 'POST /k/[redacted]/2?lang=en HTTP/1.1'),
    ('GET /t/s3cr3t-token HTTP/1.1', 'GET /t/[redacted] HTTP/1.1'),
    ('GET /staff/units/3 HTTP/1.1', 'GET /staff/units/3 HTTP/1.1'),
    ('Referer: https://sipas.example/q/abcdef', 'Referer: https://sipas.example/q/[redacted]'),
])
def test_redact(line: str, expected: str) -> None:
    assert privacy.redact(line) == expected


def test_the_development_servers_access_log_holds_no_link_key(
        app: Any, caplog: pytest.LogCaptureFixture) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in ("/q/khoa-bi-mat-cua-quay", "/t/bi-mat-mot-lan"):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}")
                except urllib.error.HTTPError:
                    pass  # an unknown link: its page, and one access line
    finally:
        server.shutdown()
        thread.join(timeout=5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/q/[redacted]" in line for line in lines), lines
    assert any("/t/[redacted]" in line for line in lines), lines
    assert not any("bi-mat" in line or "khoa-bi-mat" in line for line in lines)


def test_gunicorns_access_log_holds_no_link_key(app: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from gunicorn.glogging import SafeAtoms

    atoms = SafeAtoms({"r": "GET /k/khoa-bi-mat/1 HTTP/1.1", "U": "/k/khoa-bi-mat/1",
                       "s": "200", "{referer}i": "https://x.example/q/khoa-khac"})
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logging.getLogger("gunicorn.access").info('"%(r)s" %(s)s "%({Referer}i)s" %(b)s',
                                                  atoms)
    line = caplog.records[-1].getMessage()
    assert line == '"GET /k/[redacted]/1 HTTP/1.1" 200 "https://x.example/q/[redacted]" -'


def test_an_error_logged_for_a_citizen_url_holds_no_key(app: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        app.logger.error("Exception on %s [%s]", "/q/khoa-bi-mat", "POST")
    assert caplog.records[-1].getMessage() == "Exception on /q/[redacted] [POST]"
