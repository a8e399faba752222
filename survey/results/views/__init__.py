"""Staff pages of the results domain: snapshots (compute outside the request, list,
rows, the microdata bundle) and the transaction counts open channels are weighted to."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("results", __name__, url_prefix="/staff/results")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page of this blueprint needs a signed-in staff member."""


from survey.results.views import counts, snapshots  # noqa: E402,F401
