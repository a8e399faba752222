"""Forms of the questionnaire pages (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

import questionnaires as q
from survey.common.forms import REQUIRED, SECTOR_LABELS, Form, choices

ID = Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Use lower-case letters, digits and _ "
                                             "(snake_case), starting with a letter."))
PROVENANCE_LABELS = {"verified": _l("verified"), "secondary": _l("secondary"),
                     "inferred": _l("inferred")}
STATUS_LABELS = {"draft": _l("draft"), "published": _l("published"), "retired": _l("retired")}
TYPE_LABELS = {
    "likert5": _l("5-level satisfaction scale"), "points": _l("Points 0–2 (desk form)"),
    "single_choice": _l("Single choice"), "multiple_choice": _l("Multiple choice"),
    "yes_no": _l("Yes / no"), "number": _l("Number"), "percentage": _l("Percentage"),
    "text": _l("Free text"),
}
RULE_LABELS = {
    "share_at_least": _l("Share of answers at or above the threshold"),
    "share_in": _l("Share of answers with one of the values"),
    "mean_score": _l("Mean score"),
    "comprehensive": _l("Share rating every item at or above the threshold"),
    "mean": _l("Mean of the child nodes"),
    "weighted_mean": _l("Weighted mean of the child nodes"),
}
TEXT_STATUS_LABELS = {"verbatim": _l("verbatim (official wording)"),
                      "summary": _l("summary (not the official wording)")}


def _text_fields(label_vi: str, label_en: str) -> tuple[StringField, StringField]:
    return (StringField(label_vi, validators=[DataRequired(REQUIRED), Length(max=2000)]),
            StringField(label_en, validators=[DataRequired(REQUIRED), Length(max=2000)]))


class ActionForm(Form):
    """A bare POST button (publish, retire, delete, move, clone)."""

    submit = SubmitField(_l("Confirm"))


class CloneForm(Form):
    new_key = StringField(_l("New key (leave empty for the next version of this key)"),
                          validators=[Optional(), Length(max=64), ID])
    submit = SubmitField(_l("Create draft"))


class ImportForm(Form):
    file = FileField(_l("JSON file"), validators=[FileRequired(REQUIRED)])
    submit = SubmitField(_l("Import as draft"))


class MetaForm(Form):
    title_vi, title_en = _text_fields(_l("Title (Vietnamese)"), _l("Title (English)"))
    sector = SelectField(_l("Sector"), choices=choices(
        (s, SECTOR_LABELS[s]) for s in ("administrative", "health", "education")))
    provenance = SelectField(_l("Provenance"), choices=choices(PROVENANCE_LABELS.items()))
    text_status = SelectField(_l("Wording"), choices=choices(TEXT_STATUS_LABELS.items()))
    decisions = TextAreaField(_l("Source decisions (one per line)"),
                              validators=[DataRequired(REQUIRED), Length(max=5000)])
    submit = SubmitField(_l("Save"))


def _optional_texts(label_vi: str, label_en: str) -> tuple[TextAreaField, TextAreaField]:
    return (TextAreaField(label_vi, validators=[Length(max=5000)]),
            TextAreaField(label_en, validators=[Length(max=5000)]))


class SectionForm(Form):
    title_vi, title_en = _text_fields(_l("Title (Vietnamese)"), _l("Title (English)"))
    page = IntegerField(_l("Page"), validators=[DataRequired(REQUIRED), NumberRange(min=1)])
    intro_vi, intro_en = _optional_texts(_l("Introduction (Vietnamese, optional)"),
                                         _l("Introduction (English, optional)"))
    submit = SubmitField(_l("Save section"))


class NewSectionForm(SectionForm):
    id = StringField(_l("Section id"), validators=[DataRequired(REQUIRED), Length(max=64), ID])
    item_id = StringField(_l("Id of its first question"),
                          validators=[DataRequired(REQUIRED), Length(max=64), ID])
    item_text_vi, item_text_en = _text_fields(_l("First question (Vietnamese)"),
                                              _l("First question (English)"))
    submit = SubmitField(_l("Add section"))


class ItemForm(Form):
    text_vi, text_en = _text_fields(_l("Question (Vietnamese)"), _l("Question (English)"))
    type = SelectField(_l("Type"), choices=choices((t, TYPE_LABELS[t]) for t in q.ITEM_TYPES))
    scale = SelectField(_l("Answer scale (choice types)"), default="")
    required = BooleanField(_l("Required"))
    not_applicable = BooleanField(_l("Allows “not applicable”"))
    show_if_item = SelectField(_l("Show only if this earlier question…"), default="")
    show_if_values = StringField(_l("…was answered with one of (values, comma-separated)"),
                                 validators=[Length(max=200)])
    min = FloatField(_l("Minimum (number)"), validators=[Optional()])
    max = FloatField(_l("Maximum (number)"), validators=[Optional()])
    integer = BooleanField(_l("Whole numbers only (number)"))
    max_length = IntegerField(_l("Maximum length (free text)"), validators=[Optional()])
    max_choices = IntegerField(_l("Maximum selections (multiple choice)"),
                               validators=[Optional()])
    code = StringField(_l("Code on the official form"), validators=[Length(max=32)])
    profile_field = SelectField(_l("Profile field (profile sections only)"), default="")
    provenance = SelectField(_l("Provenance"), choices=choices(PROVENANCE_LABELS.items()))
    source = StringField(_l("Source of the wording (optional)"), validators=[Length(max=2000)])
    note = TextAreaField(_l("Note for staff (optional)"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Save question"))

    def fill_choices(self, scales: list[str], earlier: list[tuple[str, str]]) -> None:
        self.scale.choices = choices([("", "—")] + [(s, s) for s in scales])
        self.show_if_item.choices = choices([("", _l("(always shown)"))] + earlier)
        self.profile_field.choices = choices(
            [("", "—")] + [(f, f) for f in sorted(q.ALLOWED_PROFILE_FIELDS)])


class NewItemForm(ItemForm):
    id = StringField(_l("Question id (never reused)"),
                     validators=[DataRequired(REQUIRED), Length(max=64), ID])
    submit = SubmitField(_l("Add question"))


class NodeForm(Form):
    title_vi, title_en = _text_fields(_l("Title (Vietnamese)"), _l("Title (English)"))
    rule = SelectField(_l("Rule"), choices=choices(RULE_LABELS.items()))
    children = TextAreaField(_l("Children (question or node ids, one per line)"),
                             validators=[DataRequired(REQUIRED), Length(max=5000)])
    threshold = IntegerField(_l("Threshold of “satisfied”"), validators=[Optional()])
    values = StringField(_l("Values counted as satisfied (comma-separated)"),
                         validators=[Length(max=200)])
    pooling = SelectField(_l("Pooling"), choices=choices(
        [("", _l("per question (default)")), ("items", _l("per question")),
         ("answers", _l("all answers pooled"))]))
    submit = SubmitField(_l("Save node"))


class NewNodeForm(NodeForm):
    id = StringField(_l("Node id"), validators=[DataRequired(REQUIRED), Length(max=64), ID])
    provenance = SelectField(_l("Provenance"), choices=choices(PROVENANCE_LABELS.items()),
                             default="inferred")
    submit = SubmitField(_l("Add node"))


def weight_field(label: str) -> FloatField:
    return FloatField(label, validators=[Optional(), NumberRange(min=0, max=1)])


class NotesForm(Form):
    na_label_vi = StringField(_l("“Not applicable” answer (Vietnamese)"),
                              validators=[Length(max=2000)])
    na_label_en = StringField(_l("“Not applicable” answer (English)"),
                              validators=[Length(max=2000)])
    gaps = TextAreaField(_l("Known gaps against the official form (one per line)"),
                         validators=[Length(max=20000)])
    notes = TextAreaField(_l("Notes (one per line)"), validators=[Length(max=20000)])
    submit = SubmitField(_l("Save"))


class ScaleForm(Form):
    """An answer scale; the view adds ``value_N``, ``vi_N`` and ``en_N`` per option row."""

    submit = SubmitField(_l("Save scale"))


class NewScaleForm(ScaleForm):
    id = StringField(_l("Scale id"), validators=[DataRequired(REQUIRED), Length(max=64), ID])
    submit = SubmitField(_l("Add scale"))


def scale_form(base: type[ScaleForm], rows: int, data: dict[str, str] | None = None
               ) -> ScaleForm:
    """``base`` with three fields per option row (value, Vietnamese and English label).

    The value is a text field: what is not a whole number is passed on as typed, so that
    the questionnaire loader refuses it and names its path.
    """
    extra: dict[str, StringField] = {}
    for n in range(rows):
        extra[f"value_{n}"] = StringField(_l("Value of option %(n)d", n=n + 1),
                                          validators=[Length(max=20)])
        extra[f"vi_{n}"] = StringField(_l("Label of option %(n)d (Vietnamese)", n=n + 1),
                                       validators=[Length(max=2000)])
        extra[f"en_{n}"] = StringField(_l("Label of option %(n)d (English)", n=n + 1),
                                       validators=[Length(max=2000)])
    cls = type("ScaleRowsForm", (base,), extra)
    form: ScaleForm = cls(data=data)
    return form
