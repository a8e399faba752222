"""WTForms' built-in messages, listed so that Babel extracts them into our catalogue
(WTForms ships no Vietnamese). ``survey.common.forms.Form`` routes WTForms' gettext through
Flask-Babel, so these show in the user's language. Never called."""

from __future__ import annotations

from flask_babel import gettext, ngettext


def _catalogue() -> None:  # pragma: no cover - extraction only
    gettext("This field is required.")
    gettext("Not a valid choice.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Not a valid date value.")
    gettext("Not a valid datetime value.")
    gettext("Not a valid integer value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid float value.")
    gettext("Invalid email address.")
    gettext("Field must be equal to %(other_name)s.")
    gettext("Field must be between %(min)d and %(max)d characters long.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be at least %(min)d character.",
             "Field must be at least %(min)d characters.", 1)
    ngettext("'%(value)s' is not a valid choice for this field.",
             "'%(value)s' are not valid choices for this field.", 1)
