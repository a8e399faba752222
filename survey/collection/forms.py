"""Forms of the collection pages (CSRF on every one, messages translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Regexp

from survey.collection.services.comments import REASON_LABELS
from survey.collection.services.tokens import MAX_K
from survey.common.forms import REQUIRED, Form, choices

LAYOUTS = {"a4_grid": _l("A4 sheet, 8 slips with cut lines"),
           "receipt_80mm": _l("80 mm receipt printer, one slip each")}


class ActionForm(Form):
    """A button that changes something (CSRF only)."""

    submit = SubmitField(_l("Confirm"))


class QuestionnaireForm(Form):
    questionnaire_key = SelectField(_l("Questionnaire"), validate_choice=True)
    submit = SubmitField(_l("Save"))


class PinForm(Form):
    pin = PasswordField(_l("Kiosk exit PIN"), validators=[
        DataRequired(REQUIRED),
        Regexp(r"^[0-9]{4,8}$", message=_l("The PIN must be 4 to 8 digits."))])
    submit = SubmitField(_l("Set PIN"))


class SamplerForm(Form):
    k = IntegerField(_l("Give a token to 1 dossier in every"), validators=[
        InputRequired(REQUIRED),
        NumberRange(1, MAX_K, _l("Choose a whole number from 1 to %(max)s."))])
    submit = SubmitField(_l("Save and draw a new random start"))


class ApiKeyForm(Form):
    label = StringField(_l("Label (which system uses the key)"),
                        validators=[DataRequired(REQUIRED), Length(max=255)])
    submit = SubmitField(_l("Create API key"))


class UploadForm(Form):
    file = FileField(_l("CSV file of completed dossiers"),
                     validators=[FileRequired(_l("Choose a CSV file."))])
    layout = SelectField(_l("Slip layout"), choices=choices(LAYOUTS.items()))
    submit = SubmitField(_l("Issue tokens and download the slips"))


class ReviewForm(Form):
    decision = HiddenField(validators=[AnyOf(["accepted", "rejected"],
                                             message=_l("Choose accept or reject."))])


class HideCommentForm(Form):
    """Hide a comment: a reason from the short list, a note (required for "other"). The
    service checks both, so that a refusal is the same from any caller."""

    reason = SelectField(_l("Reason"),
                         choices=choices([("", _l("Choose a reason")), *REASON_LABELS.items()]))
    note = StringField(_l("Note"), validators=[Length(max=500)])
