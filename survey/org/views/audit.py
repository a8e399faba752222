from __future__ import annotations

from flask import render_template, request

from survey.common.web import current_scope
from survey.org.services import browse
from survey.org.views import bp


@bp.route("/audit")
def audit_log() -> str:
    entity = request.args.get("entity")
    page = browse.audit_log(current_scope(), entity=entity,
                            page=request.args.get("page", type=int))
    return render_template("org/audit.html", page=page, entity=entity)
