"""Per-point public links (what QR codes encode) and one-time token secrets."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from survey.collection.models import DossierToken, PointLink
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.models import ServicePoint

LINK_KINDS = ("poster", "kiosk")
T = TypeVar("T")


def new_secret() -> str:
    """128 random bits, URL-safe: unguessable and short enough for a QR code."""
    return secrets.token_urlsafe(16)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def public_url(path: str) -> str:
    """An absolute URL on the configured public base (what posters and slips print)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}"


def link_url(link: PointLink) -> str:
    prefix = "/k/" if link.kind == "kiosk" else "/q/"
    return public_url(prefix + link.token)


def token_url(secret: str) -> str:
    return public_url("/t/" + secret)


def create_link(point: ServicePoint, kind: str = "poster",
                questionnaire_key: str | None = None, *, commit: bool = True) -> PointLink:
    if kind not in LINK_KINDS:
        raise ServiceError(_("Choose a link kind from the list."), "kind")
    link = PointLink(service_point=point, token=new_secret(), kind=kind,
                     questionnaire_key=questionnaire_key or None)
    db.session.add(link)
    if commit:
        db.session.commit()
    return link


def revoke_link(link: PointLink) -> None:
    """A revoked link answers with a friendly 404; its QR codes stop working."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.commit()


def active_link(point: ServicePoint, kind: str = "poster") -> PointLink | None:
    return db.session.scalar(
        select(PointLink).where(PointLink.service_point_id == point.id, PointLink.kind == kind,
                                PointLink.revoked_at.is_(None)).order_by(PointLink.id.desc())
    )


def resolve_link(token: str) -> PointLink | None:
    """The active link with this token whose point is active, else None."""
    if not token or len(token) > 64:
        return None
    link = db.session.scalar(select(PointLink).where(PointLink.token == token))
    if link is None or link.revoked_at is not None or not link.service_point.active:
        return None
    return link


def link_accepts(link_id: int) -> bool:
    """Is the link still open (not revoked, its point active)? One indexed query, read
    at submit: a revocation applies at once on every worker, whatever their caches."""
    row = db.session.execute(
        select(PointLink.revoked_at, ServicePoint.active)
        .join(ServicePoint, ServicePoint.id == PointLink.service_point_id)
        .where(PointLink.id == link_id)).first()
    return row is not None and row.revoked_at is None and bool(row.active)


def resolve_token(secret: str) -> DossierToken | None:
    if not secret or len(secret) > 64:
        return None
    return db.session.scalar(
        select(DossierToken).where(DossierToken.token_hash == hash_secret(secret))
    )


# --- a short-lived cache of resolved links ----------------------------------------------
# Every citizen request starts by resolving its link (link → point → unit → questionnaire
# version): four queries for data that changes a few times a year. Resolutions are kept
# for LINK_CACHE_SECONDS in each process; any commit in this process that touches a link,
# a point, a unit or a questionnaire version empties the cache at once, and other worker
# processes follow within LINK_CACHE_SECONDS. A revoked QR code may still show its form
# there for that long, but never stores an answer: flow.submit asks the database
# (link_accepts) before every insert.
_RESOLVED: dict[tuple[str, str], tuple[float, object]] = {}
_WATCHED = ("point_link", "service_point", "unit", "questionnaire_version")


def cached(kind: str, key: str, load: Callable[[], T | None]) -> T | None:
    ttl = float(current_app.config.get("LINK_CACHE_SECONDS", 30))
    now = time.monotonic()
    hit = _RESOLVED.get((kind, key))
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    value = load()
    if value is not None and ttl > 0:
        if len(_RESOLVED) > 10_000:
            _RESOLVED.clear()
        _RESOLVED[(kind, key)] = (now + ttl, value)
    return value


def invalidate() -> None:
    _RESOLVED.clear()


@event.listens_for(Session, "after_flush")
def _watch(session: Session, flush_context: object) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in _WATCHED:
            session.info["sipas_links_changed"] = True
            return


@event.listens_for(Session, "after_commit")
def _forget(session: Session) -> None:
    if session.info.pop("sipas_links_changed", False):
        invalidate()
