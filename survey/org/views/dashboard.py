from __future__ import annotations

from flask import render_template
from sqlalchemy import func, or_, select

from survey.common.web import current_scope
from survey.extensions import db
from survey.org.models import Unit
from survey.org.views import bp


@bp.route("/")
def dashboard() -> str:
    scope = current_scope()
    counts = {
        "units": db.session.scalar(select(func.count()).select_from(scope.units().subquery())),
        "points": db.session.scalar(
            select(func.count()).select_from(scope.service_points().subquery())
        ),
        "responses": db.session.scalar(
            select(func.count()).select_from(scope.responses("view").subquery())
        ),
    }
    roots = db.session.scalars(
        scope.units()
        .where(or_(Unit.parent_id.is_(None),
                   ~Unit.parent_id.in_(select(Unit.id).where(scope.unit_clause()))))
        .order_by(Unit.name)
    ).all()
    return render_template("org/dashboard.html", counts=counts, roots=roots)
