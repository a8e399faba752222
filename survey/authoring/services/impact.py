"""What retiring a questionnaire version would stop, for the confirmation page: the QR
codes and kiosk links (and the service points they belong to) that open it today."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from survey.authoring.models import QuestionnaireStatus, QuestionnaireVersion
from survey.collection.models import PointLink
from survey.extensions import db
from survey.org.models import ServicePoint


@dataclass(frozen=True)
class RetireImpact:
    links: int  # active links that open this version today
    points: int  # the service points of those links
    fallback: str | None  # "key vN" they will open instead, None: they stop working
    current: bool  # this is the version its key opens today (else nothing changes)


def retire_impact(row: QuestionnaireVersion, default_key: str) -> RetireImpact:
    """Links open the latest published version of their own key, else their point's,
    else ``default_key``; retiring that version moves them to the previous published
    version of the key, or leaves them with nothing to open."""
    published = list(db.session.scalars(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == row.key,
            QuestionnaireVersion.status == QuestionnaireStatus.published.value)
        .order_by(QuestionnaireVersion.version.desc())))
    current = bool(published) and published[0].id == row.id
    if not current:
        return RetireImpact(0, 0, None, False)
    fallback = next((f"{p.key} v{p.version}" for p in published if p.id != row.id), None)
    opens_key = or_(
        PointLink.questionnaire_key == row.key,
        and_(PointLink.questionnaire_key.is_(None), ServicePoint.questionnaire_key == row.key))
    if row.key == default_key:
        opens_key = or_(opens_key, and_(PointLink.questionnaire_key.is_(None),
                                        ServicePoint.questionnaire_key.is_(None)))
    links, points = db.session.execute(
        select(func.count(PointLink.id), func.count(func.distinct(ServicePoint.id)))
        .join(ServicePoint, PointLink.service_point_id == ServicePoint.id)
        .where(PointLink.revoked_at.is_(None), ServicePoint.active, opens_key)).one()
    return RetireImpact(int(links), int(points), fallback, True)
