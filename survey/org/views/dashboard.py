from __future__ import annotations

from flask import render_template

from survey.common.web import current_scope
from survey.org.services import browse
from survey.org.views import bp


@bp.route("/")
def dashboard() -> str:
    return render_template("org/dashboard.html", overview=browse.overview(current_scope()))
