"""The organisation tree: units (province, departments, communes, hospitals, schools) and
the service points under them (a desk, a hospital department, a school reception)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db


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


def _in(column: str, values: type[enum.Enum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Unit(db.Model):  # type: ignore[name-defined,misc]
    """An agency in the province's tree.

    ``path`` is a materialised path (``/1/7/42/``) so that "this unit and its subtree",
    the basis of every scope check, is one indexed prefix comparison on any database.
    """

    __tablename__ = "unit"
    __audited__ = True
    __table_args__ = (
        CheckConstraint(_in("kind", UnitKind), name="kind"),
        CheckConstraint(_in("sector", Sector), name="sector"),
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

    parent: Mapped[Unit | None] = relationship(
        remote_side="Unit.id", foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Unit]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="Unit.name"
    )
    successor: Mapped[Unit | None] = relationship(
        remote_side="Unit.id", foreign_keys=[successor_id]
    )
    service_points: Mapped[list[ServicePoint]] = relationship(
        back_populates="unit", order_by="ServicePoint.name"
    )

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

    unit: Mapped[Unit] = relationship(back_populates="service_points")

    def __repr__(self) -> str:
        return f"<ServicePoint {self.id} {self.name!r}>"
