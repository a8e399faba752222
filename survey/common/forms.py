"""The base of every form (Flask-WTF: CSRF on every one, WTForms' own messages in the
user's language) and the labels several domains share."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

SECTOR_LABELS = {
    "administrative": _l("Administrative"),
    "health": _l("Health"),
    "education": _l("Education"),
    "other": _l("Other"),
}
REQUIRED = _l("This field is required.")


class _BabelTranslations:
    """WTForms' own messages through our catalogue (see survey.common.wtforms_messages)."""

    # The catalogue directly: WTForms does the %-formatting itself.
    def gettext(self, string: str) -> str:
        return str(get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ungettext(singular, plural, n))


_TRANSLATIONS = _BabelTranslations()


class Form(FlaskForm):
    """Base of every form: CSRF from Flask-WTF, messages in the user's language."""

    class Meta:
        def get_translations(self, form: object) -> _BabelTranslations:
            return _TRANSLATIONS


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]


