"""Forms of the results pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from survey.common.forms import REQUIRED, Form


class ComputeForm(Form):
    period = StringField(_l("Period"), validators=[DataRequired(REQUIRED), Length(max=32)],
                         description=_l("2026-10 (a month), 2026-Q3 (a quarter), 2026 (a year) "
                                        "or 2026-08-01..2026-09-30"))
    scope = StringField(_l("Unit code (empty: everything in your scope)"),
                        validators=[Optional(), Length(max=64)])
    submit = SubmitField(_l("Compute"))


class CountsUploadForm(Form):
    file = FileField(_l("CSV file"), validators=[FileRequired(REQUIRED)])
    submit = SubmitField(_l("Upload counts"))


class PublicationForm(Form):
    """Confirms publishing (or taking back) a snapshot on the public page and the API."""

    submit = SubmitField(_l("Confirm"))
