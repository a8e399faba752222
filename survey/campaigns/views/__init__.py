"""Staff pages of survey campaigns: list, design, frame, draw, invitations."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("campaigns", __name__, url_prefix="/staff/campaigns")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page of this blueprint needs a signed-in staff member."""


from survey.campaigns.views import (  # noqa: E402,F401
    closing,
    entry,
    frames,
    pages,
    progress,
    reminders,
)
