"""Staff accounts and their scoped role assignments."""

from __future__ import annotations

import datetime as dt
import enum

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from survey.extensions import db
from survey.models.org import Sector, Unit, _in
from survey.models.util import utcnow


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
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint(f"sector IS NULL OR {_in('sector', Sector)}", name="sector"),
        UniqueConstraint("user_id", "role", "unit_id", "sector", name="uq_role_assignment_all"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    sector: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit] = relationship()
