"""The results API pages in SQL: the page is read with ORDER BY id, LIMIT and OFFSET and
the total with a COUNT, so the statements of a request do not grow with the rows of the
snapshot, and the rows are exactly those of the staff pages' scope rule
(``snapshots.rows_in_scope``) for every key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from survey.collection.models import ApiKey
from survey.results.services import api_read, snapshots
from tests.survey.results.test_api_results import _get, api  # noqa: F401
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)


@contextmanager
def counting(db: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", before)  # the request's engine too
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def _result_reads(statements: list[str]) -> list[str]:
    """The statements that read result rows (not a COUNT, not an existence probe)."""
    return [s for s in statements if re.search(r"FROM result_row\b", s)
            and "count(" not in s.lower()]


def test_statements_do_not_grow_with_the_page(client: Any, db: Any,
                                              api: dict[str, Any]) -> None:  # noqa: F811
    counts = {}
    for path in (f"/snapshots/{api['oct'].id}/results", f"/units/{api['root'].id}/results"):
        for query in ("limit=1", "limit=7&offset=3", "limit=5000"):
            db.session.expire_all()
            with counting(db) as statements:
                response = _get(client, f"{path}?{query}", api["province"])
            assert response.status_code == 200
            body = response.get_json()
            assert len(body["results"]) == min(body["limit"], body["total"] - body["offset"])
            counts[(path, query)] = len(statements)
            reads = _result_reads(statements)
            # Every read of result rows is paged (or a probe of one row), ordered by id.
            assert reads and all("LIMIT" in s for s in reads), statements
            page_reads = [s for s in reads if "ORDER BY result_row.id" in s and "OFFSET" in s]
            assert len(page_reads) == 1, reads
            assert sum(1 for s in statements if "count(result_row.id)" in s) == 1
        assert len({n for (p, _q), n in counts.items() if p == path}) == 1, counts
        assert max(counts.values()) < 30, counts


def test_the_sql_scope_is_the_pages_scope(client: Any, db: Any,
                                          api: dict[str, Any]) -> None:  # noqa: F811
    for key in (api["province"], api["commune_key"]):
        prefix = key.split(".")[0]
        row = db.session.query(ApiKey).filter_by(prefix=prefix).one()
        if not row.read_results:
            api_read.set_read_results(prefix, True)
        reader = api_read.Reader.of(db.session.query(ApiKey).filter_by(prefix=prefix).one())
        for snapshot in (api["oct"], api["sep"]):
            expected = [r.id for r in snapshots.rows_in_scope(reader.scope, snapshot.id)]
            page, total = api_read.rows(reader, snapshot.id, {}, 5000, 0)
            assert [r.id for r in page] == expected and total == len(expected)
            for filters in ({"domain": "sector"}, {"basis": "open"},
                            {"unit": api["commune"].id}):
                want = [r.id for r in snapshots.rows_in_scope(reader.scope, snapshot.id)
                        if all(getattr(r, "unit_id" if k == "unit" else k) == v
                               for k, v in filters.items())]
                page, total = api_read.rows(reader, snapshot.id, filters, 3, 1)
                assert [r.id for r in page] == want[1:4] and total == len(want), filters
        assert expected  # each key reads some rows: the comparison is not of two empties
