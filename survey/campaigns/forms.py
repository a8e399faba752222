"""Forms of the campaign pages (CSRF on every one, messages translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey.campaigns.services.campaigns import (
    ALLOCATIONS,
    CHANNELS,
    CLUSTER_KINDS,
    KIND_LABELS,
    STAGES,
    STRATA_BY,
)
from survey.common.forms import REQUIRED, Form, choices

DATE_MESSAGE = _l("Enter a date like 2026-12-01.")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(Form):
    name = StringField(_l("Name of the campaign"),
                       validators=[DataRequired(REQUIRED), Length(max=255)])
    owner_unit_id = SelectField(_l("Department that runs it"), coerce=int)
    questionnaire = SelectField(_l("Questionnaire version"))
    unit_kind = SelectField(_l("Units surveyed"), choices=choices(KIND_LABELS.items()))
    coverage = RadioField(_l("Coverage"), default="all", choices=choices([
        ("all", _l("Every unit of this kind in the sector")),
        ("list", _l("Only the units picked below"))]))
    unit_ids = SelectMultipleField(_l("Units picked"), coerce=int, validate_choice=False)
    period_start = DateField(_l("Start of fieldwork"),
                             validators=[InputRequired(REQUIRED)], format="%Y-%m-%d")
    period_end = DateField(_l("End of fieldwork"),
                           validators=[InputRequired(REQUIRED)], format="%Y-%m-%d")
    channels = CheckboxesField(_l("Channels"), choices=choices(CHANNELS.items()),
                               default=["token"])
    strata_by = SelectField(_l("Strata"), choices=choices(STRATA_BY.items()))
    stages = SelectField(_l("Stages"), choices=choices(STAGES.items()))
    cluster_kind = SelectField(_l("Clusters"), choices=choices(
        [("", _l("(none)")), *CLUSTER_KINDS.items()]))
    size_mode = RadioField(_l("Sample size from"), default="margin", choices=choices([
        ("margin", _l("a target margin of error per unit")),
        ("total", _l("a total sample size allocated to the units"))]))
    target_margin_percent = FloatField(_l("Target margin of error (percentage points)"),
                                       default=5.0, validators=[Optional()])
    total_sample = IntegerField(_l("Total sample size"), validators=[Optional()])
    allocation = SelectField(_l("Allocation"), choices=choices(ALLOCATIONS.items()))
    submit = SubmitField(_l("Save"))


class UnitRowForm(PlainForm):
    unit_id = HiddenField()
    stratum = StringField(_l("Stratum"), validators=[Length(max=64)])
    population = IntegerField(_l("Expected population"), validators=[
        Optional(), NumberRange(1, 100_000_000, _l("A positive whole number."))])


class DesignForm(Form):
    p_percent = FloatField(_l("Assumed share satisfied (%)"), default=50.0, validators=[
        InputRequired(REQUIRED), NumberRange(1, 99, _l("Between 1 and 99."))])
    deff = FloatField(_l("Design effect"), default=1.0, validators=[
        InputRequired(REQUIRED), NumberRange(1, 10, _l("Between 1 and 10."))])
    response_percent = FloatField(_l("Expected response rate (%)"), default=80.0, validators=[
        InputRequired(REQUIRED), NumberRange(5, 100, _l("Between 5 and 100."))])
    # Two-stage campaigns only (not shown, and ignored, for one-stage ones).
    take = IntegerField(_l("Persons taken in each cluster"), validators=[
        Optional(), NumberRange(1, 1000, _l("1 to 1000."))])
    icc = FloatField(_l("Intra-cluster correlation (ICC)"), default=0.05, validators=[
        Optional(), NumberRange(0, 0.5, _l("Between 0 and 0.5."))])
    cluster_size = IntegerField(_l("Mean persons per cluster (until a frame is imported)"),
                                validators=[Optional(), NumberRange(
                                    1, 100_000, _l("A positive whole number."))])
    units = FieldList(FormField(UnitRowForm))
    submit = SubmitField(_l("Save and recompute"))


class ActionForm(Form):
    """A button that changes something (CSRF only)."""

    target = HiddenField()
    submit = SubmitField(_l("Confirm"))


class FrameForm(Form):
    file = FileField(_l("Sampling frame (CSV or XLSX)"),
                     validators=[FileRequired(_l("Choose a CSV or XLSX file."))])
    id_column = StringField(_l("Column of the identifier"), default="ma",
                            validators=[DataRequired(REQUIRED), Length(max=255)])
    unit_column = StringField(_l("Column of the unit code"), default="ma_don_vi",
                              validators=[DataRequired(REQUIRED), Length(max=255)])
    stratum_column = StringField(_l("Column of the stratum (optional)"),
                                 validators=[Length(max=255)])
    cluster_column = StringField(_l("Column of the cluster (optional)"),
                                 validators=[Length(max=255)])
    size_column = StringField(_l("Column of the size measure (optional)"),
                              validators=[Length(max=255)])
    submit = SubmitField(_l("Check and import"))


class DrawForm(Form):
    METHODS = [("srs", _l("Simple random sampling in each stratum")),
               ("systematic", _l("Systematic sampling in each stratum (frame order)")),
               ("pps", _l("Probability proportional to size (needs a size measure)"))]
    method = SelectField(_l("Selection method"), choices=choices(METHODS))
    seed = IntegerField(_l("Seed (leave empty for a random one)"), validators=[
        Optional(), NumberRange(0, 2**62, _l("A whole number from 0."))])
    reserve = IntegerField(_l("Reserve persons per stratum, or per selected cluster in a "
                              "two-stage draw (replacements for refusals)"),
                           default=0, validators=[
                               InputRequired(REQUIRED), NumberRange(0, 1000, _l("0 to 1000."))])
    take = IntegerField(_l("Persons taken in each selected cluster (two-stage designs)"),
                        validators=[Optional(), NumberRange(1, 1000, _l("1 to 1000."))])
    submit = SubmitField(_l("Draw the sample"))


class InvitationForm(Form):
    """The reminders' format (a reminder gives fresh links in one format)."""

    output = SelectField(_l("Invitations as"), choices=choices([
        ("a4_grid", _l("A4 sheet, 8 slips with cut lines")),
        ("receipt_80mm", _l("80 mm receipt printer, one slip each")),
        ("csv", _l("CSV file for the unit's SMS or Zalo sender"))]))
    submit = SubmitField(_l("Issue the invitations and download"))


class IssueForm(Form):
    """Issuing the invitations: one download with every format (CSRF only)."""

    submit = SubmitField(_l("Issue the invitations and download the ZIP file"))


class CloseForm(Form):
    """Closing a campaign: optional raking margins and trimming, and a confirmation."""

    margins = TextAreaField(_l("Population margins for raking (optional)"),
                            validators=[Optional(), Length(max=4000)])
    trim = FloatField(_l("Trim weights above this multiple of the mean weight (optional)"),
                      validators=[Optional(), NumberRange(1.01, 100, _l(
                          "A number above 1, e.g. 3.5."))])
    confirm = BooleanField(_l("I understand that a closed campaign takes no more answers"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Close the campaign and compute the results"))


class ReweightForm(Form):
    """Weighting a closed campaign again: the close's margins and trimming, prefilled with
    the current run's."""

    margins = CloseForm.margins
    trim = CloseForm.trim
    submit = SubmitField(_l("Weight again and freeze a new snapshot"))
