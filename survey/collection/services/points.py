"""Use cases behind the staff collection pages: per-point links, questionnaire choice,
kiosk PIN and posters. Each writing function is one transaction."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, select
from werkzeug.security import generate_password_hash

import questionnaires
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.models import PointLink
from survey.collection.services import links
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.common.pages import paginate
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Role, ServicePoint, Unit
from survey.org.services import browse
from survey.org.services.accounts import hash_method
from survey.render import Poster

_PIN = re.compile(r"[0-9]{4,8}")
# Posters are printed in Vietnamese whatever the staff member's language.
POSTER_SUBTITLES = {
    "administrative": "về sự phục vụ của cơ quan hành chính nhà nước",
    "health": "về chất lượng khám, chữa bệnh",
    "education": "về chất lượng giáo dục của nhà trường",
}


@functools.cache
def _shipped() -> tuple[tuple[str, str, str, bool], ...]:
    return tuple((d.key, d.title.vi, d.title.en, d.status == "published")
                 for d in questionnaires.load_all())


def questionnaire_keys() -> list[str]:
    """Keys a point may use: those published in the database, else the shipped ones."""
    keys = questionnaire_versions.published_keys()
    if keys:
        return keys
    shipped = _shipped()
    return sorted({k for k, _vi, _en, published in shipped if published}) or sorted(
        {k for k, *_rest in shipped})


def questionnaire_titles(locale: str) -> dict[str, str]:
    return {key: vi if locale == "vi" else en for key, vi, en, _p in _shipped()}


@use_case
def set_questionnaire(point: ServicePoint, key: str | None) -> None:
    key = (key or "").strip() or None
    if key is not None and key not in questionnaire_keys():
        raise ServiceError(_("Choose a questionnaire from the list."), "questionnaire_key")
    point.questionnaire_key = key
    db.session.commit()


def ensure_poster_links(points: Sequence[ServicePoint]) -> dict[int, PointLink]:
    """The active poster link of every active point, creating the missing ones."""
    rows = db.session.scalars(select(PointLink).where(
        PointLink.service_point_id.in_([p.id for p in points]), PointLink.kind == "poster",
        PointLink.revoked_at.is_(None)).order_by(PointLink.id))
    found = {link.service_point_id: link for link in rows}  # the newest wins
    missing = [p for p in points if p.active and p.id not in found]
    for point in missing:
        found[point.id] = links.create_link(point, "poster", commit=False)
    if missing:
        db.session.commit()
    return found


@dataclass(frozen=True)
class UnitPage:
    """What a unit's collection page shows, loaded (after any commit) for the template."""

    unit: Unit
    points: list[ServicePoint]
    poster_urls: dict[int, str]
    kiosk_urls: dict[int, str]


def unit_page(unit_id: int) -> UnitPage:
    """The unit's points with their poster links (created where missing: one commit) and
    kiosk links, as URLs."""
    def load() -> tuple[Unit, list[ServicePoint]]:
        # A query (not the identity map) so that attributes a commit expired are loaded.
        unit = db.session.scalars(select(Unit).where(Unit.id == unit_id)).one()
        points = list(db.session.scalars(select(ServicePoint).where(
            ServicePoint.unit_id == unit_id).order_by(ServicePoint.name)))
        return unit, points

    unit, points = load()
    posters = {pid: links.link_url(link) for pid, link in ensure_poster_links(points).items()}
    kiosks = {p.id: links.link_url(link) for p in points
              if (link := links.active_link(p, "kiosk")) is not None}
    unit, points = load()
    return UnitPage(unit, points, posters, kiosks)


@use_case
def replace_link(point: ServicePoint, kind: str) -> PointLink:
    """Revoke the point's active link of this kind (its QR codes stop working) and issue
    a new one, in one transaction; both writes are audited by the session hook."""
    if not point.active:
        raise ServiceError(_("This service point is inactive; activate it first."))
    current = links.active_link(point, kind)
    if current is not None:
        current.revoked_at = utcnow()
    link = links.create_link(point, kind, commit=False)
    db.session.commit()
    return link


@use_case
def revoke_link(point: ServicePoint, kind: str) -> None:
    current = links.active_link(point, kind)
    if current is None:
        raise ServiceError(_("There is no active link to revoke."))
    links.revoke_link(current)


@use_case
def set_kiosk_pin(point: ServicePoint, pin: str) -> None:
    """The PIN staff type to leave kiosk mode; only a salted hash is kept."""
    pin = (pin or "").strip()
    if not _PIN.fullmatch(pin):
        raise ServiceError(_("The PIN must be 4 to 8 digits."), "pin")
    point.kiosk_pin_hash = generate_password_hash(pin, method=hash_method())
    db.session.commit()


def units_with_points(scope: Scope, *, q: str = "", page: int | None = None) -> Pagination:
    """The units whose points the scope manages, for the collection index."""
    query = scope.units("manage_units").where(
        exists().where(ServicePoint.unit_id == Unit.id)).order_by(*browse.unit_order())
    if q:
        query = query.where(browse.name_matches(q))
    return paginate(query, page, 50)


def sector_points(scope: Scope, sector: str) -> list[ServicePoint]:
    """The active points of one sector within the scope, in tree order (sector posters)."""
    return list(db.session.scalars(scope.service_points("manage_units").where(
        Unit.sector == sector, ServicePoint.active).order_by(Unit.path, ServicePoint.name)))


def can_print_sector(scope: Scope) -> bool:
    """Administrators and sector managers may print every poster of a sector at once."""
    return scope.has("manage_units") and scope.has_role(Role.administrator,
                                                         Role.sector_manager)


def short_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def posters(points: Sequence[ServicePoint], found: dict[int, PointLink]) -> list[Poster]:
    """Poster pages of the active points, in the order given."""
    pages = []
    for point in points:
        link = found.get(point.id)
        if link is None or not point.active:
            continue
        url = links.link_url(link)
        pages.append(Poster(unit_name=point.unit.name, point_name=point.name, url=url,
                            short_url=short_url(url),
                            subtitle=POSTER_SUBTITLES.get(point.unit.sector, "")))
    return pages
