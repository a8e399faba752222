"""The demo province: Tây Ninh (code 80, which absorbed Long An on 1 July 2025).

Communes and wards are the real ones from the official list, each with its one-stop
desk; departments are the real Sở of a province after the 2025 reform; hospitals and
schools have illustrative names. Everything is deterministic: the same database every
time. Later features extend this showroom (questionnaires, QR links, responses).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from survey.demo import campaigns as demo_campaigns
from survey.demo import responses as demo_responses
from survey.demo import results as demo_results
from survey.extensions import db
from survey.org import hours
from survey.org.models import Role, RoleAssignment, Sector, ServicePoint, Unit, UnitKind, User
from survey.org.services.accounts import hash_method
from survey.org.services.official_units import import_province

PROVINCE_CODE = "80"
DEMO_PASSWORD = "sipas-demo-2026"

DEPARTMENTS: list[tuple[str, str, str]] = [
    ("SNV", "Sở Nội vụ", Sector.administrative.value),
    ("STP", "Sở Tư pháp", Sector.administrative.value),
    ("STC", "Sở Tài chính", Sector.administrative.value),
    ("SCT", "Sở Công Thương", Sector.administrative.value),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", Sector.administrative.value),
    ("SXD", "Sở Xây dựng", Sector.administrative.value),
    ("SKHCN", "Sở Khoa học và Công nghệ", Sector.administrative.value),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", Sector.administrative.value),
    ("SDTTG", "Sở Dân tộc và Tôn giáo", Sector.administrative.value),
    ("SYT", "Sở Y tế", Sector.health.value),
    ("SGDDT", "Sở Giáo dục và Đào tạo", Sector.education.value),
    ("TTR", "Thanh tra tỉnh", Sector.administrative.value),
]
CENTRE_DESKS = ["Quầy Tư pháp – Hộ tịch", "Quầy Đất đai – Xây dựng", "Quầy Đầu tư – Kinh doanh",
                "Quầy Lao động – Xã hội"]
HOSPITALS: list[tuple[str, list[str]]] = [
    ("Bệnh viện Đa khoa tỉnh Tây Ninh", ["Khoa Khám bệnh", "Khoa Nội", "Khoa Ngoại", "Khoa Nhi"]),
    ("Bệnh viện Đa khoa Long An", ["Khoa Khám bệnh", "Khoa Nội", "Khoa Sản"]),
    ("Bệnh viện Y dược cổ truyền Tây Ninh", ["Khoa Khám bệnh", "Khoa Châm cứu"]),
    ("Bệnh viện Lao và Bệnh phổi Long An", ["Khoa Khám bệnh", "Khoa Lao"]),
    ("Bệnh viện Đa khoa khu vực Hậu Nghĩa", ["Khoa Khám bệnh", "Khoa Nội", "Khoa Cấp cứu"]),
    ("Bệnh viện Đa khoa khu vực Cần Giuộc", ["Khoa Khám bệnh", "Khoa Ngoại"]),
]
# (name, level, index of the commune it belongs to or None for the department)
SCHOOLS: list[tuple[str, str, int | None]] = [
    ("Trường THPT chuyên Hoàng Lê Kha", "upper_secondary", None),
    ("Trường THPT chuyên Long An", "upper_secondary", None),
    ("Trường Mầm non Hoa Sen", "preschool", 0),
    ("Trường Mầm non Sơn Ca", "preschool", 5),
    ("Trường Tiểu học Lê Lợi", "primary", 1),
    ("Trường Tiểu học Nguyễn Du", "primary", 7),
    ("Trường Tiểu học Kim Đồng", "primary", 12),
    ("Trường THCS Trần Quốc Toản", "lower_secondary", 2),
    ("Trường THCS Nguyễn Văn Trỗi", "lower_secondary", 9),
    ("Trường THCS Võ Văn Tần", "lower_secondary", 15),
]
SCHOOL_POINTS = ["Phòng tiếp phụ huynh", "Văn phòng nhà trường"]


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    unit: str  # a unit code or a unit name
    sector: str | None = None


def _unit(parent: Unit, name: str, kind: UnitKind, sector: str, code: str | None = None) -> Unit:
    unit = Unit(parent=parent, name=name, kind=kind.value, sector=sector, code=code)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path}{unit.id}/"
    return unit


def _points(unit: Unit, names: list[str]) -> None:
    for name in names:
        db.session.add(ServicePoint(unit=unit, name=name, opening_hours=None if unit.kind in
                                    hours.HOURLESS_KINDS else hours.DESK_DEFAULT))


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Unit))


KIOSK_PIN = "2468"


def _questionnaire_key(point: ServicePoint, unit: Unit, level: str | None) -> str:
    if unit.kind == UnitKind.hospital.value:
        return "health_outpatient" if point.name == "Khoa Khám bệnh" else "health_inpatient"
    if unit.kind == UnitKind.school.value and level in LEVEL_QUESTIONNAIRES:
        return LEVEL_QUESTIONNAIRES[level]
    return "desk_rating"


LEVEL_QUESTIONNAIRES = {"preschool": "edu_parents_preschool", "primary": "edu_parents_primary",
                        "lower_secondary": "edu_parents_lower_secondary"}


def _configure_collection() -> None:
    """Questionnaire per point, a poster link per point, kiosk links at the centre."""
    levels = {f"80.TH{i + 1:02d}": level for i, (_n, level, _c) in enumerate(SCHOOLS)}
    points = db.session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    for point in points:
        point.questionnaire_key = _questionnaire_key(point, point.unit,
                                                     levels.get(point.unit.code or ""))
        links.create_link(point, commit=False)
        if point.unit.kind == UnitKind.service_centre.value:
            links.create_link(point, "kiosk", commit=False)
            point.kiosk_pin_hash = generate_password_hash(KIOSK_PIN, method=hash_method())


def seed(*, responses: bool = True, response_scale: float = 1.0,
         say: Callable[[str], None] | None = None) -> list[DemoUser]:
    """Build the demo province; returns the demo accounts. Questionnaires are synced,
    every point gets its questionnaire and QR link, and (``responses``) a few months of
    answers go through the submission service. ``say`` hears each step as it ends."""
    tell = say or (lambda _message: None)
    started = time.perf_counter()
    questionnaire_versions.sync()
    report = import_province(PROVINCE_CODE, commit=False)
    root = report.province
    communes = sorted((u for u in root.children if u.kind == UnitKind.commune.value),
                      key=lambda u: u.code or "")
    for commune in communes:
        _points(commune, ["Bộ phận Một cửa"])
    by_code: dict[str, Unit] = {}
    for code, name, sector in DEPARTMENTS:
        by_code[code] = _unit(root, name, UnitKind.department, sector, f"80.{code}")
        _points(by_code[code], ["Bộ phận tiếp nhận và trả kết quả"])
    centre = _unit(root, "Trung tâm Phục vụ hành chính công tỉnh Tây Ninh",
                   UnitKind.service_centre, Sector.administrative.value, "80.TTPVHCC")
    _points(centre, CENTRE_DESKS)
    for i, (name, points) in enumerate(HOSPITALS):
        _points(_unit(by_code["SYT"], name, UnitKind.hospital, Sector.health.value,
                      f"80.BV{i + 1:02d}"), points)
    for i, (name, _level, commune_index) in enumerate(SCHOOLS):
        parent = by_code["SGDDT"] if commune_index is None else communes[commune_index]
        _points(_unit(parent, name, UnitKind.school, Sector.education.value,
                      f"80.TH{i + 1:02d}"), SCHOOL_POINTS)
    users = _demo_users(communes[0])
    for spec in users:
        unit = db.session.scalar(select(Unit).where(Unit.code == spec.unit))
        user = User(username=spec.username, full_name=spec.full_name)
        user.set_password(DEMO_PASSWORD)
        user.roles.append(RoleAssignment(role=spec.role.value, unit=unit, sector=spec.sector))
        db.session.add(user)
    db.session.flush()
    _configure_collection()
    db.session.commit()
    tell(f"  {root.name}: {db.session.scalar(select(func.count(Unit.id)))} units, "
         f"{len(users)} demo accounts ({time.perf_counter() - started:.0f} s)")
    if responses:
        count = demo_responses.seed_responses(scale=response_scale)
        tell(f"  {count} demo responses submitted through the citizen service "
             f"({time.perf_counter() - started:.0f} s)")
        # Before the province's snapshots, so that the overview opens on the latest one.
        done = demo_campaigns.seed_campaigns()
        tell(f"  campaigns: {done.closed.name} closed (snapshot {done.snapshot.id}, "
             f"{done.snapshot.n_responses} weighted responses), {done.fieldwork.name} in "
             f"fieldwork; {done.entered} paper forms entered "
             f"({time.perf_counter() - started:.0f} s)")
        for snapshot in demo_results.seed_results():
            tell(f"  results of {snapshot.period} computed: snapshot {snapshot.id}, "
                 f"{snapshot.n_responses} responses ({time.perf_counter() - started:.0f} s)")
    return users


def _demo_users(commune: Unit) -> list[DemoUser]:
    return [
        DemoUser("admin", "Nguyễn Văn An (Sở Nội vụ)", Role.administrator, PROVINCE_CODE),
        DemoUser("soyte", "Trần Thị Bình (Sở Y tế)", Role.sector_manager, PROVINCE_CODE,
                 Sector.health.value),
        DemoUser("sogddt", "Lê Văn Cường (Sở GD&ĐT)", Role.sector_manager, PROVINCE_CODE,
                 Sector.education.value),
        DemoUser("benhvien", "Phạm Thị Dung (BVĐK tỉnh)", Role.unit_manager, "80.BV01"),
        DemoUser("xa", f"Hoàng Văn Em ({commune.name})", Role.unit_manager, commune.code or ""),
        DemoUser("phantich", "Võ Thị Giang (phân tích)", Role.analyst, PROVINCE_CODE),
        DemoUser("phantich.yte", "Đặng Văn Hải (phân tích y tế)", Role.analyst, PROVINCE_CODE,
                 Sector.health.value),
        DemoUser("nhaplieu", "Bùi Thị Lan (nhập liệu)", Role.clerk, "80.TTPVHCC"),
    ]


def existing_accounts() -> list[DemoUser]:
    """The demo accounts still present (for the start-up banner of ``make run``)."""
    names = set(db.session.scalars(select(User.username)))
    commune = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.commune.value)
                                .order_by(Unit.code))
    if commune is None:
        return []
    return [spec for spec in _demo_users(commune) if spec.username in names]
