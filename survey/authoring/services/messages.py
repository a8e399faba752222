"""The questionnaire loader's messages in the staff member's language.

``questionnaires`` is standard-library only and reports in English; the staff pages
show its most frequent messages translated (the path stays as it is), others as they are.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

DETAILS: list[tuple[re.Pattern[str], Any]] = [(re.compile(p), m) for p, m in (
    (r"^missing$", _l("missing")),
    (r"^must not be empty$", _l("must not be empty")),
    (r"^unknown field$", _l("field not supported")),
    (r"^expected integer$", _l("must be a whole number")),
    (r"^expected string$", _l("must be a text")),
    (r"^duplicate value (?P<a>.+)$", _l("the value %(a)s is used by another option")),
    (r"^a scale needs at least 2 options$", _l("a scale needs at least 2 options")),
    (r"^duplicate id (?P<a>'.+')$", _l("the id %(a)s is already used")),
    (r"^refers to unknown item (?P<a>'.+')$", _l("refers to the question %(a)s, which "
                                                 "does not exist")),
    (r"^weights sum to (?P<a>.+), expected 1$", _l("the weights add up to %(a)s, not 1")),
    (r"^(?P<a>\d+) weights for (?P<b>\d+) children$", _l("%(a)s weights for %(b)s children")),
    (r"^must be greater than min \((?P<a>.+)\)$", _l("must be greater than the minimum "
                                                     "(%(a)s)")),
    (r"^asks for a personal identifier \((?P<a>'.+')\); not allowed$",
     _l("asks for personal data (%(a)s); not allowed")),
    (r"^(?P<a>.+) is not a value of item (?P<b>'[^']+').*$",
     _l("%(a)s is not an answer value of the question %(b)s")),
    (r"^page (?P<a>\d+) comes after page (?P<b>\d+)$",
     _l("page %(a)s comes after page %(b)s; sections go in page order")),
    (r"^refers to .* (?P<a>'.+'); show_if must refer to an earlier item$",
     _l("the condition must refer to an earlier question, not %(a)s")),
    (r"^rule (?P<a>'.+') takes nodes, (?P<b>'.+') is .*$",
     _l("the rule %(a)s takes index nodes; %(b)s is not one")),
    (r"^rule (?P<a>'.+') takes items, (?P<b>'.+') is a node$",
     _l("the rule %(a)s takes questions; %(b)s is an index node")),
    (r"^'(?P<a>.*)' is not one of (?P<b>.+)$", _l("%(a)s is not one of: %(b)s")),
    (r"^unknown scale (?P<a>'.+')$", _l("there is no answer scale %(a)s")),
    (r"^scale (?P<a>'.+') must have the values (?P<b>.+) for (?P<c>\w+)$",
     _l("the scale %(a)s must have the values %(b)s for the type %(c)s")),
    (r"^not allowed for type (?P<a>'.+')$", _l("not allowed for the type %(a)s")),
    (r"^not allowed for rule (?P<a>'.+')$", _l("not allowed for the rule %(a)s")),
    (r"^requires na_label in the definition$",
     _l("needs a “not applicable” label in the questionnaire")),
    (r"^(?P<a>'.+') is not a snake_case id$", _l("%(a)s is not a snake_case id")),
    (r"^unsupported format (?P<a>.+), expected 1$", _l("format %(a)s is not supported "
                                                     "(expected 1)")),
)]


def explain(message: str) -> str:
    """The loader's message in the user's language where it is a known one."""
    for pattern, text in DETAILS:
        found = pattern.match(message)
        if found:
            return str(text) % found.groupdict()
    return message
