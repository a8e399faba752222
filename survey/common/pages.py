"""Pages of a long list for the staff screens (the query comes from a scope)."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from survey.extensions import db


def paginate(query: Select[Any], page: int | None, per_page: int) -> Pagination:
    """One page of ``query``; a page past the end is empty, never an error."""
    return db.paginate(query, page=max(page or 1, 1), per_page=per_page, error_out=False)
