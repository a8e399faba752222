from __future__ import annotations

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response

from survey.common.web import current_scope
from survey.org.services import browse
from survey.org.views import bp


@bp.route("/")
def dashboard() -> str | Response:
    scope = current_scope()
    if scope.has("data_entry") and not (scope.has("results") or scope.has("manage_units")):
        return redirect(url_for("campaigns.entry_home"))  # a clerk's home: data entry
    return render_template("org/dashboard.html", overview=browse.overview(current_scope()))
