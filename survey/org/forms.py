"""Staff forms (Flask-WTF: CSRF on every one). Labels are translated lazily."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from survey.common.forms import REQUIRED, SECTOR_LABELS, Form, choices
from survey.org.models import Role, Sector

KIND_LABELS = {
    "province": _l("Province"),
    "department": _l("Department (Sở)"),
    "service_centre": _l("Public service centre"),
    "commune": _l("Commune / ward"),
    "hospital": _l("Hospital"),
    "school": _l("School"),
    "other": _l("Other"),
}
ROLE_LABELS = {
    "administrator": _l("Administrator"),
    "sector_manager": _l("Sector manager"),
    "unit_manager": _l("Unit manager"),
    "analyst": _l("Analyst"),
    "clerk": _l("Data-entry clerk"),
}
class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=256)])
    remember = BooleanField(_l("Keep me signed in on this computer"))
    submit = SubmitField(_l("Sign in"))


class UnitForm(Form):
    name = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(REQUIRED),
                                                           Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=255)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    sector = SelectField(_l("Sector"), choices=choices(SECTOR_LABELS.items()))
    code = StringField(_l("Official code"), validators=[Optional(), Length(max=32)])
    parent_id = SelectField(_l("Parent unit"), coerce=int, validate_choice=True)
    successor_id = SelectField(_l("Succeeded by"), coerce=int, validate_choice=True)
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ServicePointForm(Form):
    name = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(REQUIRED),
                                                           Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=255)])
    active = BooleanField(_l("Active"), default=True)
    opening_hours = StringField(_l("Opening hours"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class DeleteForm(Form):
    submit = SubmitField(_l("Delete"))


def _sector_choices() -> list[SelectChoice]:
    return choices([("", _l("All sectors"))] + [(s.value, SECTOR_LABELS[s.value]) for s in Sector])


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=choices((r.value, ROLE_LABELS[r.value]) for r in Role))
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    sector = SelectField(_l("Sector"), choices=_sector_choices())
    submit = SubmitField(_l("Add role"))


class UserCreateForm(RoleForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=255)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(_l("Enter a valid e-mail."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED),
                                                         Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))


class UserEditForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=255)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(_l("Enter a valid e-mail."))])
    active = BooleanField(_l("Account active"))
    submit = SubmitField(_l("Save"))


class PasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED),
                                                             Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class RemoveRoleForm(Form):
    assignment_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))


class OwnPasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED),
                                                                Length(max=256)])
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED),
                                                             Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change my password"))


class EndSessionsForm(Form):
    submit = SubmitField(_l("Sign out everywhere"))


class EndOneSessionForm(Form):
    submit = SubmitField(_l("End this session"))
