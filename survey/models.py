"""Every table of the application, gathered from the domains for Alembic, the test
fixtures and ad-hoc scripts. Code inside ``survey/`` imports from the domain that owns a
model (``survey.org.models``, ``survey.authoring.models``, ``survey.collection.models``)."""

from survey.authoring.models import QuestionnaireStatus, QuestionnaireVersion
from survey.campaigns.models import (
    Campaign,
    CampaignDraw,
    CampaignEntry,
    CampaignStatus,
    CampaignUnit,
    CampaignWeight,
    FrameRow,
    SamplingFrame,
)
from survey.collection.models import (
    Answer,
    ApiKey,
    Channel,
    DossierToken,
    PointLink,
    Response,
    TokenSampler,
)
from survey.org.models import (
    AuditLog,
    Role,
    RoleAssignment,
    Sector,
    ServicePoint,
    Unit,
    UnitKind,
    User,
    UserSession,
)
from survey.results.models import ResultRow, ResultSnapshot, TransactionCount

__all__ = [
    "ApiKey",
    "DossierToken",
    "PointLink",
    "Answer",
    "Campaign",
    "CampaignDraw",
    "CampaignEntry",
    "CampaignWeight",
    "CampaignStatus",
    "CampaignUnit",
    "FrameRow",
    "SamplingFrame",
    "AuditLog",
    "Channel",
    "QuestionnaireStatus",
    "QuestionnaireVersion",
    "ResultRow",
    "ResultSnapshot",
    "Response",
    "Role",
    "RoleAssignment",
    "Sector",
    "ServicePoint",
    "TokenSampler",
    "TransactionCount",
    "Unit",
    "UnitKind",
    "User",
    "UserSession",
]
