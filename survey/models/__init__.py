"""Typed SQLAlchemy models. Import from here: ``from survey.models import Unit``."""

from survey.models.audit import AuditLog
from survey.models.collection import ApiKey, DailySalt, DossierToken, PointLink
from survey.models.org import Sector, ServicePoint, Unit, UnitKind
from survey.models.questionnaire import QuestionnaireStatus, QuestionnaireVersion
from survey.models.response import Answer, Channel, Response
from survey.models.sampling import TokenSampler
from survey.models.user import Role, RoleAssignment, User

__all__ = [
    "ApiKey",
    "DailySalt",
    "DossierToken",
    "PointLink",
    "Answer",
    "AuditLog",
    "Channel",
    "QuestionnaireStatus",
    "QuestionnaireVersion",
    "Response",
    "Role",
    "RoleAssignment",
    "Sector",
    "ServicePoint",
    "TokenSampler",
    "Unit",
    "UnitKind",
    "User",
]
