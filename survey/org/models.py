"""Organisation models: the unit tree (province, departments, communes, hospitals,
schools), the service points under them (a desk, a hospital department, a school
reception), staff accounts with their scoped role assignments, and the audit log of every
staff write (filled automatically by a session hook)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from survey.common.clock import utcnow
from survey.extensions import db, in_values
from survey.org.vietnamese import fold, sort_key


class UnitKind(enum.StrEnum):
    province = "province"
    department = "department"
    service_centre = "service_centre"
    commune = "commune"
    hospital = "hospital"
    school = "school"
    other = "other"


class Sector(enum.StrEnum):
    administrative = "administrative"
    health = "health"
    education = "education"
    other = "other"


class Unit(db.Model):  # type: ignore[name-defined,misc]
    """An agency in the province's tree.

    ``path`` is a materialised path (``/1/7/42/``) so that "this unit and its subtree",
    the basis of every scope check, is one indexed prefix comparison on any database.
    """

    __tablename__ = "unit"
    __audited__ = True
    __table_args__ = (
        CheckConstraint(in_values("kind", UnitKind), name="kind"),
        CheckConstraint(in_values("sector", Sector), name="sector"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        UniqueConstraint("code", name="uq_unit_code"),
        Index("ix_unit_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sector: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    path: Mapped[str] = mapped_column(String(512), default="")
    # Kept from ``name`` (see set_name_keys): lower case without diacritics (đ → d) for
    # searching, and a Vietnamese dictionary-order key, the same on every database.
    name_folded: Mapped[str] = mapped_column(String(255), default="", server_default="")
    name_sort: Mapped[str] = mapped_column(String(1024), default="", server_default="",
                                           index=True)

    parent: Mapped[Unit | None] = relationship(
        remote_side="Unit.id", foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Unit]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="Unit.name_sort"
    )
    successor: Mapped[Unit | None] = relationship(
        remote_side="Unit.id", foreign_keys=[successor_id]
    )
    service_points: Mapped[list[ServicePoint]] = relationship(
        back_populates="unit", order_by="ServicePoint.name"
    )

    @validates("name")
    def set_name_keys(self, _key: str, name: str) -> str:
        self.name_folded = fold(name or "")[:255]
        self.name_sort = sort_key(name or "")[:1024]
        return name

    def is_valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name!r}>"


class ServicePoint(db.Model):  # type: ignore[name-defined,misc]
    """A place where citizens are served and asked: a desk, a hospital department."""

    __tablename__ = "service_point"
    __audited__ = True
    __audit_exclude__ = ("kiosk_pin_hash",)
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_service_point_unit_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # The questionnaire its QR opens (latest published version of that key).
    questionnaire_key: Mapped[str | None] = mapped_column(String(64))
    kiosk_pin_hash: Mapped[str | None] = mapped_column(String(255))
    # Desk-type points only (hospital and school points have none): e.g.
    # "T2-T6 07:00-17:30; T7 07:30-11:30" (see survey.org.hours). None: no hours, so no
    # response is ever "outside opening hours".
    opening_hours: Mapped[str | None] = mapped_column(String(200))

    unit: Mapped[Unit] = relationship(back_populates="service_points")

    def __repr__(self) -> str:
        return f"<ServicePoint {self.id} {self.name!r}>"


class Role(enum.StrEnum):
    """Roles from the widest to the narrowest. Scope comes from the assignment."""

    administrator = "administrator"
    sector_manager = "sector_manager"
    unit_manager = "unit_manager"
    analyst = "analyst"
    clerk = "clerk"


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "user_account"
    __audited__ = True
    __audit_exclude__ = ("password_hash", "last_login_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of the id kept in sessions and remember-me cookies (get_id): raising it (sign
    # out, password change, "sign out everywhere") makes every earlier cookie invalid.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleAssignment.id"
    )

    def set_password(self, password: str) -> None:
        # Werkzeug's scrypt: memory-hard, salted, maintained. Tests may pick a cheaper
        # method through PASSWORD_HASH_METHOD; production keeps scrypt.
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    # The key of the session this request runs under (set by sign-in and by the user
    # loader; never stored: the database keeps its SHA-256 in UserSession).
    session_key = None  # str | None; a plain attribute, not a column
    session_id = None  # int | None: that session's UserSession row

    def get_id(self) -> str:
        """``id:session_version:key``: what sessions and remember-me cookies hold; the
        user loader accepts it only while the version is still the account's and the
        key's :class:`UserSession` has not ended."""
        return f"{self.id}:{self.session_version or 1}:{self.session_key or ''}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleAssignment(db.Model):  # type: ignore[name-defined,misc]
    """A role held over a unit's subtree, optionally narrowed to one sector.

    administrator: the province unit; sector_manager: the province unit and a sector;
    unit_manager, analyst, clerk: a unit (and its subtree), optionally a sector.
    """

    __tablename__ = "role_assignment"
    __audited__ = True
    __table_args__ = (
        CheckConstraint(in_values("role", Role), name="role"),
        CheckConstraint(f"sector IS NULL OR {in_values('sector', Sector)}", name="sector"),
        UniqueConstraint("user_id", "role", "unit_id", "sector", name="uq_role_assignment_all"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    sector: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit] = relationship()


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """One signed-in browser of an account: signing out ends this row only; "sign out
    everywhere", a password change and an administrator end them all (and raise the
    account's ``session_version``). The browser holds the key, the database its SHA-256;
    ``agent`` is the browser's own description (User-Agent, cut to 120 characters), shown
    on the account page so that a person can tell their sessions apart. No address."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFailure(db.Model):  # type: ignore[name-defined,misc]
    """Failed sign-ins counted under a key: an account at an address, or an address
    alone; the key is an HMAC under the secret key, so neither raw address nor username
    is stored. Successful sign-ins never count (survey.org.services.throttle)."""

    __tablename__ = "sign_in_failure"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditLog(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
