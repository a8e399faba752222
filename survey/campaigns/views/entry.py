"""Paper and interviewer entry: the clerk's home (their campaigns and slips to enter), the
keyboard-fast form (no JavaScript: every item one text field in tab order, the first field
focused), and the supervisor's discrepancy screen of double entry."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse
from wtforms import HiddenField, SelectField, StringField

from survey.campaigns.models import Campaign
from survey.campaigns.services import campaigns, entry
from survey.campaigns.views import bp
from survey.common.errors import ServiceError
from survey.common.forms import Form
from survey.common.web import lang, require, show_service_error

Page = tuple[str, int] | WResponse
CHANNEL_LABELS = {"field": campaigns.CHANNELS["field"], "paper": campaigns.CHANNELS["paper"]}


class EntryForm(Form):
    slip = StringField()
    unit_id = SelectField(coerce=int, validate_choice=False)
    channel = SelectField(validate_choice=False)
    submission_id = HiddenField()


class PickForm(Form):
    """CSRF only: the picks are read by item id."""


@bp.route("/entry/")
def entry_home() -> Page:
    scope = require(entry.PERMISSION)
    return render_template("campaigns/entry_home.html", rows=entry.list_for_clerk(scope)), 200


def _items(campaign: Campaign) -> list[dict[str, object]]:
    """What the form shows of each item: code, text, the keys to type."""
    defn = entry.definition(campaign)
    language = lang()
    scales = {s.id: s for s in defn.scales}
    out = []
    for item in defn.items:
        keys: list[tuple[str, str]] = []
        if item.scale and item.scale in scales:
            keys = [(str(o.value), getattr(o.label, language)) for o in scales[item.scale].options]
        elif item.type == "yes_no":
            keys = [("1", _("Yes")), ("0", _("No"))]
        if item.not_applicable:
            keys.append(("na", _("Not applicable")))
        hint = ""
        if item.type == "multiple_choice":
            hint = _("several numbers, separated by spaces")
        elif item.min is not None and item.max is not None:
            hint = _("from %(low)s to %(high)s", low=f"{item.min:g}", high=f"{item.max:g}")
        out.append({"id": item.id, "code": item.code or "", "text": getattr(item.text, language),
                    "options": keys, "hint": hint, "required": item.required,
                    "numeric": item.type not in ("text",),
                    "long": item.type == "text"})
    return out


@bp.route("/<int:campaign_id>/entry", methods=["GET", "POST"])
def entry_form(campaign_id: int) -> Page:
    scope = require(entry.PERMISSION)
    campaign = entry.get_for_entry(scope, campaign_id)
    form = EntryForm()
    channels = entry.channels_of(campaign)
    form.channel.choices = [(c, str(CHANNEL_LABELS[c])) for c in channels]
    units = entry.entry_units(scope, campaign)
    form.unit_id.choices = [(0, _("(from the slip)"))] + [(u.id, u.name) for u in units]
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        form.submission_id.data = entry.new_submission_id()
        form.channel.data = request.args.get("channel") if request.args.get("channel") \
            in channels else channels[0] if channels else ""
    elif form.validate_on_submit():
        values = {k: v for k, v in request.form.items()}
        data = entry.EntryInput(
            channel=form.channel.data or "", slip=form.slip.data or "",
            unit_id=form.unit_id.data or None, answers=values,
            client_submission_id=form.submission_id.data or "")
        try:
            outcome = entry.enter(scope, current_user.id, campaign, data)
        except entry.EntryRefused as err:
            errors = {e.item_id: (e.message_vi if lang() == "vi" else e.message_en)
                      for e in err.errors}
            flash(err.message, "error")
            status = 422
        except ServiceError as err:
            show_service_error(form, err)
            status = 422
        else:
            flash({"pending": _("First entry saved: a second clerk enters this slip blind."),
                   "discrepancy": _("The two entries differ: a supervisor will decide."),
                   "matched": _("Second entry matches the first: the response is stored."),
                   }.get(outcome.status, _("Form stored.")), "success")
            return redirect(url_for("campaigns.entry_form", campaign_id=campaign_id,
                                    channel=form.channel.data))
    else:
        status = 422
    return render_template(
        "campaigns/entry.html", campaign_name=campaign.name, campaign_id=campaign.id,
        double_entry=campaign.double_entry, form=form, items=_items(campaign),
        errors=errors, values=values,
        recent=entry.entries_by(campaign, current_user.id),
        statuses=_statuses()), status


def _statuses() -> dict[str, str]:
    return {"submitted": _("Stored"), "pending": _("Awaits second entry"),
            "matched": _("Matched"), "discrepancy": _("Discrepancy"),
            "reconciled": _("Reconciled")}


@bp.route("/<int:campaign_id>/discrepancies")
def discrepancy_list(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require("manage_campaigns"), campaign_id)
    return render_template("campaigns/entry_discrepancies.html", campaign_name=campaign.name,
                           campaign_id=campaign.id, double_entry=campaign.double_entry,
                           form=PickForm(), rows=entry.discrepancies(campaign)), 200


@bp.route("/<int:campaign_id>/discrepancies/<int:row_id>", methods=["GET", "POST"])
def discrepancy_page(campaign_id: int, row_id: int) -> Page:
    campaign = campaigns.get_campaign(require("manage_campaigns"), campaign_id)
    found = entry.discrepancy(campaign, row_id)
    form = PickForm()
    status = 200
    if form.validate_on_submit():
        picks = {d.item.id: request.form.get(f"pick-{d.item.id}", "") for d in found.differences}
        try:
            entry.reconcile(campaign, row_id, current_user.id, picks)
        except entry.EntryRefused as err:
            flash(err.message, "error")
            status = 422
        except ServiceError as err:
            show_service_error(None, err)
            status = 422
        else:
            flash(_("Reconciled: the response is stored."), "success")
            return redirect(url_for("campaigns.discrepancy_list", campaign_id=campaign_id))
    language = lang()
    diffs = [{"id": d.item.id, "code": d.item.code or "", "text": getattr(d.item.text, language),
              "first": d.first or "—", "second": d.second or "—"} for d in found.differences]
    return render_template("campaigns/entry_reconcile.html", campaign_name=campaign.name,
                           campaign_id=campaign.id, row_number=found.row_number,
                           unit_name=found.unit_name, clerks=found.clerks, diffs=diffs,
                           form=form), status


@bp.route("/<int:campaign_id>/double-entry", methods=["POST"])
def double_entry(campaign_id: int) -> WResponse:
    campaign = campaigns.get_campaign(require("manage_campaigns"), campaign_id)
    if PickForm().validate_on_submit():
        try:
            entry.set_double_entry(campaign, request.form.get("enabled") == "1")
        except ServiceError as err:
            show_service_error(None, err)
        else:
            flash(_("Entry settings saved."), "success")
    return redirect(url_for("campaigns.discrepancy_list", campaign_id=campaign_id))
