"""Build a province's part of the tree from the official list of the 2025 reform.

The maintained PyPI package ``vietnam-provinces`` carries the 34 provinces and 3,321
communes and wards with their official codes; provinces keep their 2-digit code and
communes their 5-digit code, so a second import finds every unit again and only
updates names (idempotent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from vietnam_provinces import Province, ProvinceCode, Ward

from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.models import Sector, Unit, UnitKind

REFORM_DATE = dt.date(2025, 7, 1)


@dataclass(frozen=True)
class ImportReport:
    province: Unit
    created: int
    updated: int
    unchanged: int


def province_code(code: str | int) -> str:
    return f"{int(code):02d}"


def _lookup_province(code: str | int) -> Province:
    try:
        return Province.from_code(ProvinceCode(int(code)))
    except ValueError:
        raise ServiceError(
            _("%(code)s is not the code of one of the 34 provinces.", code=code)
        ) from None


def _upsert(code: str, parent: Unit | None, name: str, kind: UnitKind,
            counts: dict[str, int]) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind.value, sector=Sector.administrative.value,
                    parent=parent, valid_from=REFORM_DATE)
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        counts["created"] += 1
    elif unit.name != name:
        unit.name = name
        counts["updated"] += 1
    else:
        counts["unchanged"] += 1
    return unit


def import_province(code: str | int, *, commit: bool = True) -> ImportReport:
    """Create or refresh the province unit and all its communes and wards."""
    province = _lookup_province(code)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    root = _upsert(province_code(code), None, f"{province.division_type.value.capitalize()} "
                   f"{province.name}" if not province.name.startswith(("Tỉnh", "Thành"))
                   else province.name, UnitKind.province, counts)
    for ward in sorted(Ward.iter_by_province(province.code), key=lambda w: w.code.value):
        _upsert(f"{ward.code.value:05d}", root, ward.name, UnitKind.commune, counts)
    if commit:
        db.session.commit()
    return ImportReport(root, counts["created"], counts["updated"], counts["unchanged"])
