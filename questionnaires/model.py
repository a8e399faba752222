"""Frozen dataclasses describing one questionnaire version.

A definition is pure data: it is built by :func:`questionnaires.parse_definition`
(which validates it) and turned back into JSON by :func:`questionnaires.to_dict`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Final, Literal

from ._base import PROVENANCES, Provenance, Text
from .index_tree import IndexTree

__all__ = [
    "PROVENANCES",
    "ALLOWED_PROFILE_FIELDS",
    "FORBIDDEN_PROFILE_FIELDS",
    "NOT_APPLICABLE",
    "Definition",
    "Item",
    "Option",
    "Provenance",
    "Scale",
    "Section",
    "Sector",
    "ShowIf",
    "Status",
    "Text",
    "YES_NO_LABELS",
]

Sector = Literal["administrative", "health", "education"]
Status = Literal["draft", "published", "retired"]
TextStatus = Literal["verbatim", "summary"]

SECTORS: Final = ("administrative", "health", "education")
STATUSES: Final = ("draft", "published", "retired")
TEXT_STATUSES: Final = ("verbatim", "summary")

#: Raw answer meaning "not applicable / no opinion" (only where the item allows it).
NOT_APPLICABLE: Final = "na"

#: Labels of the two answers of a ``yes_no`` item (stored as ``True`` / ``False``).
YES_NO_LABELS: Final = ((True, Text("Có", "Yes")), (False, Text("Không", "No")))

#: The closed list of fields a respondent-profile item may ask for (data minimisation,
#: methodology §7.3: age bands, not birth dates; no contact or identity data).
ALLOWED_PROFILE_FIELDS: Final = frozenset(
    {
        "sex",
        "age_band",
        "ethnicity",
        "education",
        "occupation",
        "residence_area",
        "terrain",
        "respondent_role",
        "health_insurance",
        "living_standard",
        "length_of_stay_days",
        "visit_number",
        "distance_km",
        "child_grade",
    }
)

#: Personal identifiers that a profile item must never ask for.
FORBIDDEN_PROFILE_FIELDS: Final = frozenset(
    {
        "name",
        "full_name",
        "ho_ten",
        "phone",
        "mobile",
        "phone_number",
        "so_dien_thoai",
        "email",
        "id_number",
        "national_id",
        "cccd",
        "cmnd",
        "passport",
        "address",
        "dia_chi",
        "date_of_birth",
        "ngay_sinh",
        "health_insurance_number",
        "social_insurance_number",
        "tax_code",
        "dossier_code",
        "ma_ho_so",
    }
)


@dataclass(frozen=True)
class Option:
    """One answer option of a scale: the stored integer ``value`` and its label."""

    value: int
    label: Text


@dataclass(frozen=True)
class Scale:
    """A list of answer options, defined once per definition and referenced by id."""

    id: str
    options: tuple[Option, ...]

    @property
    def values(self) -> tuple[int, ...]:
        """Return the option values in order."""
        return tuple(o.value for o in self.options)

    def label(self, value: int) -> Text:
        """Return the label of ``value`` (``KeyError`` if it is not an option)."""
        for option in self.options:
            if option.value == value:
                return option.label
        raise KeyError(value)


@dataclass(frozen=True)
class ShowIf:
    """Show an item only if the earlier item ``item`` was answered with one of ``values``.

    For a multiple-choice item, one selected value in ``values`` is enough.
    """

    item: str
    values: tuple[int | bool, ...]


@dataclass(frozen=True)
class Item:
    """One question.

    Attributes
    ----------
    id : str
        Stable snake_case id, never reused within a key.
    type : str
        A registered item type (:data:`questionnaires.ITEM_TYPES` are shipped); what
        it means lives in :func:`questionnaires.item_type`.
    text : Text
        Question text.
    required : bool
        Whether a visible item must be answered.
    provenance : Provenance
        Mark copied from ``questionnaire-items.md``.
    code : str or None
        Code on the official paper/online form (``A1``, ``9.23``).
    scale : str or None
        Scale id (likert5, points, single and multiple choice).
    not_applicable : bool
        Whether "not applicable / no opinion" may be answered.
    show_if : ShowIf or None
        Conditional display on an earlier answer.
    min, max : float or None
        Bounds of a ``number`` item.
    integer : bool
        Whether a ``number`` item takes whole numbers only.
    max_length : int or None
        Maximum length of a ``text`` item.
    max_choices : int or None
        Maximum number of selections of a ``multiple_choice`` item.
    profile_field : str or None
        For items of a profile section: which allowed profile field it asks.
    source, note : str or None
        Source key(s) of ``questionnaire-items.md`` and a note for staff.
    """

    id: str
    type: str
    text: Text
    required: bool
    provenance: Provenance
    code: str | None = None
    scale: str | None = None
    not_applicable: bool = False
    show_if: ShowIf | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    max_length: int | None = None
    max_choices: int | None = None
    profile_field: str | None = None
    source: str | None = None
    note: str | None = None

    @property
    def number(self) -> str | None:
        """The code as a question number shown to respondents (``A1``, ``9.23``), or
        ``None`` when the code is not a number on the form: the Bộ Y tế forms give the
        respondent-role question the code ``Header`` (a heading of the paper form), which
        would read "Header." before the first question."""
        if self.code and _QUESTION_NUMBER.fullmatch(self.code):
            return self.code
        return None


_QUESTION_NUMBER: Final = re.compile(r"[A-Z]{0,2}[0-9]+(?:\.[0-9]+)*[a-z]?")


@dataclass(frozen=True)
class Section:
    """A group of items with a title, shown on page ``page`` (1-based)."""

    id: str
    title: Text
    page: int
    items: tuple[Item, ...]
    profile: bool = False
    intro: Text | None = None


@dataclass(frozen=True)
class Definition:
    """One published (or draft) version of a questionnaire.

    Attributes
    ----------
    key, version : str, int
        Identify the definition; the file is ``<key>/v<version>.json``.
    title : Text
        Form title.
    sector : Sector
        ``administrative``, ``health`` or ``education``.
    status : Status
        ``draft``, ``published`` or ``retired``.
    decisions : tuple of str
        Legal source decision(s) cited.
    provenance : Provenance
        The weakest mark that applies to the form's structure.
    text_status : str
        ``verbatim`` or ``summary`` (item texts summarised, not the official wording).
    scales, sections : tuple
        Answer scales and the sections with their items, in display order.
    index : IndexTree
        Items → components → contents → overall, with a rule per node.
    na_label : Text or None
        Label of the "not applicable" answer, required if any item allows it.
    source_keys, gaps, notes : tuple of str
        Source keys, known gaps against the official form, staff notes.
    superseded_by : str or None
        Key of the successor of a retired questionnaire.
    """

    key: str
    version: int
    title: Text
    sector: Sector
    status: Status
    decisions: tuple[str, ...]
    provenance: Provenance
    text_status: TextStatus
    scales: tuple[Scale, ...]
    sections: tuple[Section, ...]
    index: IndexTree
    na_label: Text | None = None
    source_keys: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    superseded_by: str | None = None

    @property
    def ref(self) -> str:
        """Return ``"<key>/v<version>"``, the reference stored with every response."""
        return f"{self.key}/v{self.version}"

    @cached_property
    def items(self) -> tuple[Item, ...]:
        """Return all items in display order."""
        return tuple(item for section in self.sections for item in section.items)

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        """Return the item ``item_id`` (``KeyError`` if unknown)."""
        return self._items_by_id[item_id]

    def scale(self, scale_id: str) -> Scale:
        """Return the scale ``scale_id`` (``KeyError`` if unknown)."""
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        raise KeyError(scale_id)

    @property
    def pages(self) -> tuple[int, ...]:
        """Return the page numbers used, in order."""
        return tuple(sorted({section.page for section in self.sections}))

    def sections_on_page(self, page: int) -> tuple[Section, ...]:
        """Return the sections shown on ``page``."""
        return tuple(s for s in self.sections if s.page == page)
