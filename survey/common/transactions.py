"""Transactions: a unit of work per use case, and a short transaction of its own for the
rare write that must be committed whatever happens to the caller's (the daily salt)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from survey.common.errors import ServiceError
from survey.extensions import db


@contextmanager
def own_transaction() -> Iterator[Connection]:
    """A connection in a transaction of its own, committed at the end of the block."""
    with db.engine.begin() as conn:
        yield conn


P = ParamSpec("P")
R = TypeVar("R")


def use_case(func: Callable[P, R]) -> Callable[P, R]:
    """One use case, one transaction: the function commits what it changed; if it raises
    (a refusal, a constraint, an outage) everything it changed is rolled back here, so
    that views never touch the session."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        session = db.session()
        flushes = session.info.get(_FLUSHES, 0)
        try:
            return func(*args, **kwargs)
        except ServiceError:
            # A refusal that changed nothing keeps the loaded objects as they are (a
            # rollback would expire them and the page would reload them).
            if session.new or session.dirty or session.deleted or \
                    session.info.get(_FLUSHES, 0) != flushes:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise

    return run


_FLUSHES = "sipas_flushes"


@event.listens_for(Session, "after_flush")
def _count_flushes(session: Session, context: object) -> None:
    session.info[_FLUSHES] = session.info.get(_FLUSHES, 0) + 1
