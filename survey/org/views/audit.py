from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from survey.common.web import current_scope
from survey.extensions import db
from survey.org.models import AuditLog
from survey.org.views import bp


@bp.route("/audit")
def audit_log() -> str:
    if not current_scope().is_administrator:
        abort(403)
    query = select(AuditLog).order_by(AuditLog.id.desc())
    entity = request.args.get("entity")
    if entity:
        query = query.where(AuditLog.entity == entity)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("org/audit.html", page=page, entity=entity)
