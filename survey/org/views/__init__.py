"""Staff pages: dashboard, organisation tree, service points, accounts and roles."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("org", __name__, url_prefix="/staff")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page of this blueprint needs a signed-in staff member."""


from survey.org.views import account, audit, dashboard, units, users  # noqa: E402,F401
