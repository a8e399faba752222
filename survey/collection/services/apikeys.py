"""API keys of units for the token API.

A key reads ``<prefix>.<secret>``: the prefix (12 hex characters) finds the row and keys
the rate limit; the secret (256 random bits) is shown once and stored as its SHA-256.
A slow password hash (scrypt) protects low-entropy secrets chosen by people against
guessing; a 256-bit random secret cannot be guessed, so a fast hash is as safe here, and
it keeps every API call cheap instead of handing callers a way to burn server memory
and CPU (one scrypt per request). Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from survey.collection.models import ApiKey
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Role, Unit

PREFIX_LENGTH = 12


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@use_case
def create_key(unit: Unit, label: str) -> tuple[ApiKey, str]:
    """A new key for ``unit``; returns the row and the full key (shown once, never kept)."""
    label = (label or "").strip()
    if not label:
        raise ServiceError(_("Enter a label, e.g. the name of the one-stop system."), "label")
    if len(label) > 255:
        raise ServiceError(_("The label is too long (at most 255 characters)."), "label")
    prefix, secret = secrets.token_hex(PREFIX_LENGTH // 2), secrets.token_urlsafe(32)
    key = ApiKey(unit_id=unit.id, label=label, prefix=prefix, key_hash=_digest(secret))
    db.session.add(key)
    db.session.commit()
    return key, f"{prefix}.{secret}"


@use_case
def revoke_key(key: ApiKey) -> None:
    if key.revoked_at is not None:
        raise ServiceError(_("This key is already revoked."))
    key.revoked_at = utcnow()
    db.session.commit()


def may_grant_read_results(scope: Scope, key: ApiKey) -> bool:
    """Whether the scope may grant or withdraw a key's ``read_results`` (reading
    unpublished snapshots and suppressed figures through the results API): an
    administrator whose grant covers the key's unit. Managers who create and revoke keys
    do not decide what the publication rules keep back."""
    return any(gr.role == Role.administrator and gr.covers(key.unit) for gr in scope.grants)


@use_case
def set_read_results(scope: Scope, key: ApiKey, allowed: bool) -> None:
    """Grant (``allowed``) or withdraw a key's ``read_results``; audited (``api_key`` is
    an audited model). Refused, nothing written: not an administrator over the key's unit
    (:class:`Forbidden`), a revoked key, or a key that already is so."""
    if not may_grant_read_results(scope, key):
        raise Forbidden("read_results")
    if key.revoked_at is not None:
        raise ServiceError(_("API key %(prefix)s is revoked: it reads nothing.",
                             prefix=key.prefix))
    if bool(key.read_results) == allowed:
        raise ServiceError(
            _("API key %(prefix)s already reads unpublished results.", prefix=key.prefix)
            if allowed else
            _("API key %(prefix)s already reads published results only.", prefix=key.prefix))
    key.read_results = allowed
    db.session.commit()


def key_in_scope(scope: Scope, key_id: int) -> ApiKey:
    """A key of a unit the scope manages; :class:`NotFound` / :class:`Forbidden`."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key", key_id)
    scope.get_unit(key.unit_id, "manage_units")
    return key


def keys_of(unit: Unit) -> list[ApiKey]:
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.unit_id == unit.id).order_by(ApiKey.id.desc())))


def bearer(header: str | None) -> str | None:
    """The key in an ``Authorization: Bearer <key>`` header, or None."""
    scheme, _sep, value = (header or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def prefix_of(header: str | None) -> str | None:
    """The prefix part of a well-formed key (the rate-limit key); nothing is looked up."""
    key = bearer(header)
    if key is None or "." not in key:
        return None
    prefix = key.split(".", 1)[0]
    return prefix if len(prefix) == PREFIX_LENGTH and prefix.isalnum() else None


def authenticate(header: str | None) -> ApiKey | None:
    """The active key matching the header, else None (missing, malformed, wrong, revoked)."""
    key = bearer(header)
    prefix = prefix_of(header)
    if key is None or prefix is None or len(key) > 128:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    secret = key.split(".", 1)[1]
    if row is None or not hmac.compare_digest(row.key_hash, _digest(secret)):
        return None
    return row if row.revoked_at is None else None
