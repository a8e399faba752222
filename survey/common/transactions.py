"""Transactions: a unit of work per use case, and a short transaction of its own for the
rare write that must be committed whatever happens to the caller's (the daily salt)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from survey.extensions import db


@contextmanager
def own_transaction() -> Iterator[Connection]:
    """A connection in a transaction of its own, committed at the end of the block."""
    with db.engine.begin() as conn:
        yield conn
