"""Staff pages for questionnaires as versioned data: list, preview, structure, drafts
(clone, form-based editor with answer scales, publish, retire, delete) and JSON import/export."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("authoring", __name__, url_prefix="/staff/questionnaires")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page of this blueprint needs a signed-in staff member."""


from survey.authoring.views import editor, items, scales, versions  # noqa: E402,F401
