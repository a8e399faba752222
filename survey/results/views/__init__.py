"""Staff pages of the results domain: snapshots (compute outside the request, list,
rows, the microdata bundle) and the transaction counts open channels are weighted to."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import login_required

from survey.results.services import jobs

bp = Blueprint("results", __name__, url_prefix="/staff/results")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page of this blueprint needs a signed-in staff member."""


@bp.before_app_request
def _resume_snapshots() -> None:
    """The first request a process serves hands its worker the snapshots left waiting or
    interrupted by a restart (once per process; see ``jobs.resume``)."""
    jobs.resume(current_app._get_current_object())  # type: ignore[attr-defined]


from survey.results.views import (  # noqa: E402,F401
    counts,
    exports,
    publication,
    snapshots,
    table_exports,
)
