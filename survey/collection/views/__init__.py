"""Staff pages for collection: per-point links, QR codes and posters, kiosk settings,
one-time tokens (sampling, CSV upload, API keys) and the review of flagged responses."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("collection", __name__, url_prefix="/staff/collect")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page of this blueprint needs a signed-in staff member."""


from survey.collection.views import (  # noqa: E402,F401
    comments,
    monitoring,
    points,
    reviews,
    tokens,
)
