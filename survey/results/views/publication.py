"""Publishing a snapshot: administrators confirm on a page of its own (no JavaScript);
the public page and the read-only API show published snapshots only."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import Forbidden, ServiceError
from survey.common.web import require, show_service_error
from survey.results.forms import PublicationForm
from survey.results.services import publication, snapshots
from survey.results.views import bp


def snapshot_publication(snapshot_id: int, published: bool) -> str | WResponse:
    scope = require("results")
    snapshot = snapshots.visible_one(scope, snapshot_id)
    if not scope.is_administrator:
        raise Forbidden("publish")
    form = PublicationForm()
    if form.validate_on_submit():
        try:
            publication.set_published(scope, snapshot.id, published, current_user.username)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Snapshot %(id)d is published.", id=snapshot.id) if published
                  else _("Snapshot %(id)d is no longer published.", id=snapshot.id), "success")
            return redirect(url_for("results.snapshot_detail", snapshot_id=snapshot.id))
    return render_template("results/publication_confirm.html", form=form,
                           snapshot=snapshot, published=published,
                           replaces=[s for s in publication.current()
                                     if s.period == snapshot.period and s.id != snapshot.id
                                     and s.scope_unit_id == snapshot.scope_unit_id])


for _name, _value in (("publish", True), ("unpublish", False)):
    bp.add_url_rule(f"/snapshots/<int:snapshot_id>/{_name}", f"snapshot_{_name}",
                    snapshot_publication, methods=["GET", "POST"],
                    defaults={"published": _value})
