"""Collection monitoring: per service point of the scope, the day's, week's and month's
responses, silent links, flagged share and tokens (aggregate queries only)."""

from __future__ import annotations

from flask import render_template, request

from survey.collection.services import monitoring as service
from survey.collection.views import bp
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.common.web import require, show_service_error
from survey.org.services import browse


@bp.route("/monitoring")
def monitoring() -> str:
    scope = require("results")
    unit_id = request.args.get("unit", type=int)
    unit = scope.get_unit(unit_id, "results") if unit_id else None
    try:
        days = service.parse_silent_days(request.args.get("silent"))
    except ServiceError as err:
        show_service_error(None, err)
        days = service.DEFAULT_SILENT_DAYS
    data = service.monitoring(scope, unit, now=utcnow(), silent_days=days)
    return render_template("collection/monitoring.html", data=data, unit=unit,
                           units=browse.units(scope, "results"))
