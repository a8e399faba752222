"""Parse scales, sections and items, with per-type, show_if and privacy checks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from ._base import PROVENANCES, Provenance, Text
from ._reader import ID_PATTERN, Reader
from .model import (
    ALLOWED_PROFILE_FIELDS,
    FORBIDDEN_PROFILE_FIELDS,
    ITEM_TYPES,
    Item,
    ItemType,
    Option,
    Scale,
    Section,
    ShowIf,
)

SCALED = frozenset({"likert5", "single_choice", "multiple_choice", "points"})
CHOICE = SCALED | {"yes_no"}
#: Fields allowed per item type, beyond the common ones.
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "likert5": frozenset({"scale"}),
    "single_choice": frozenset({"scale"}),
    "multiple_choice": frozenset({"scale", "max_choices"}),
    "points": frozenset({"scale"}),
    "yes_no": frozenset(),
    "number": frozenset({"min", "max", "integer"}),
    "percentage": frozenset(),
    "text": frozenset({"max_length"}),
}
SPECIFIC = frozenset().union(*TYPE_FIELDS.values())
#: Words that reveal an item asking for a personal identifier, whatever its section.
IDENTIFIER_TOKENS = frozenset({"name", "phone", "email", "cccd", "cmnd", "passport", "address"})
IDENTIFIER_PHRASES = (
    "ho_ten",
    "so_dien_thoai",
    "dia_chi",
    "id_number",
    "date_of_birth",
    "ngay_sinh",
)
#: Phrases that show a free-text or number item asking for a personal identifier.
IDENTIFIER_WORDING = (
    "họ tên",
    "họ và tên",
    "số điện thoại",
    "số di động",
    "email",
    "e-mail",
    "thư điện tử",
    "căn cước",
    "cccd",
    "cmnd",
    "chứng minh nhân dân",
    "hộ chiếu",
    "địa chỉ",
    "số nhà",
    "full name",
    "your name",
    "phone number",
    "mobile number",
    "identity card",
    "id number",
    "passport",
    "home address",
    "street address",
)
MAX_TEXT_LENGTH = 5000


def parse_text(r: Reader, key: str, *, required: bool = True) -> Text | None:
    """Read a ``{"vi": ..., "en": ...}`` object."""
    raw = r.raw(key, required=required)
    if raw is None:
        return None
    t = Reader(raw, r.at(key), r.source)
    vi, en = t.string("vi"), t.string("en")
    t.done()
    assert vi is not None and en is not None
    return Text(vi, en)


def parse_scales(r: Reader) -> tuple[Scale, ...]:
    """Read the ``scales`` object: scale id → ``{"options": [...]}``."""
    s = Reader(r.raw("scales"), r.at("scales"), r.source)
    scales = []
    for scale_id in s.data:
        if not ID_PATTERN.match(scale_id):
            s.fail(f"{scale_id!r} is not a snake_case id", scale_id)
        body = Reader(s.raw(scale_id), s.at(scale_id), r.source)
        options: list[Option] = []
        for o in body.objects("options"):
            value = o.integer("value")
            assert value is not None
            if any(prev.value == value for prev in options):
                o.fail(f"duplicate value {value}", "value")
            label = parse_text(o, "label")
            assert label is not None
            o.done()
            options.append(Option(value, label))
        body.done()
        if len(options) < 2:
            body.fail("a scale needs at least 2 options", "options")
        scales.append(Scale(scale_id, tuple(options)))
    s.done()
    # Sorted by id: a JSON object has no order, so the dataclass must not keep one.
    return tuple(sorted(scales, key=lambda scale: scale.id))


def _declared_item_ids(sections: object) -> set[str]:
    """Collect the item ids present anywhere in raw ``sections`` (to tell later from unknown)."""
    ids: set[str] = set()
    for section in sections if isinstance(sections, list) else []:
        raw_items = section.get("items") if isinstance(section, dict) else None
        for raw in raw_items if isinstance(raw_items, list) else []:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                ids.add(raw["id"])
    return ids


class ItemParser:
    """Parse sections in order, remembering earlier items for ``show_if`` checks."""

    def __init__(self, scales: tuple[Scale, ...], has_na_label: bool) -> None:
        self.scales = {s.id: s for s in scales}
        self.has_na_label = has_na_label
        self.items: dict[str, Item] = {}
        self.ids: set[str] = set()
        self.declared: set[str] = set()

    def claim(self, r: Reader, key: str, value: str) -> None:
        """Reserve a section/item id; ids are unique across the whole definition."""
        if value in self.ids:
            r.fail(f"duplicate id {value!r}", key)
        self.ids.add(value)

    def sections(self, r: Reader) -> tuple[Section, ...]:
        """Read the ``sections`` array."""
        self.declared = _declared_item_ids(r.data.get("sections"))
        result: list[Section] = []
        for s in r.objects("sections"):
            sid = s.identifier("id")
            self.claim(s, "id", sid)
            title = parse_text(s, "title")
            page = s.integer("page", minimum=1)
            assert title is not None and page is not None
            if result and page < result[-1].page:
                s.fail(f"page {page} comes after page {result[-1].page}", "page")
            profile = s.boolean("profile")
            intro = parse_text(s, "intro", required=False)
            items = tuple(self.item(i, profile) for i in s.objects("items"))
            s.done()
            result.append(Section(sid, title, page, items, profile, intro))
        return tuple(result)

    def item(self, r: Reader, profile: bool) -> Item:
        """Read one item."""
        iid = r.identifier("id")
        self.claim(r, "id", iid)
        tokens = iid.split("_")
        if IDENTIFIER_TOKENS & set(tokens) or any(p in iid for p in IDENTIFIER_PHRASES):
            r.fail(f"{iid!r} looks like a personal identifier; such items are not allowed", "id")
        itype = cast(ItemType, r.choice("type", ITEM_TYPES))
        for key in SPECIFIC - TYPE_FIELDS[itype]:
            if key in r.data:
                r.fail(f"not allowed for type {itype!r}", key)
        text = parse_text(r, "text")
        required = r.boolean("required", required=True)
        provenance = cast(Provenance, r.choice("provenance", PROVENANCES))
        assert text is not None
        item = Item(
            id=iid,
            type=itype,
            text=text,
            required=required,
            provenance=provenance,
            code=r.string("code", required=False),
            source=r.string("source", required=False),
            note=r.string("note", required=False),
        )
        if itype in ("text", "number"):
            wording = f"{text.vi} / {text.en}".casefold()
            asked = next((w for w in IDENTIFIER_WORDING if w in wording), None)
            if asked is not None:
                r.fail(f"asks for a personal identifier ({asked!r}); not allowed", "text")
        item = replace(item, **self.type_fields(r, itype))
        item = self.extras(r, item, profile)
        r.done()
        self.items[iid] = item
        return item

    def type_fields(self, r: Reader, itype: str) -> dict[str, Any]:
        """Read and check the fields specific to ``itype``."""
        out: dict[str, Any] = {}
        if itype in SCALED:
            scale_id = r.string("scale")
            assert scale_id is not None
            scale = self.scales.get(scale_id)
            if scale is None:
                r.fail(f"unknown scale {scale_id!r}", "scale")
            values = set(scale.values)
            if itype == "likert5" and values != {1, 2, 3, 4, 5}:
                r.fail(f"scale {scale_id!r} must have the values 1-5 for likert5", "scale")
            if itype == "points" and values != {0, 1, 2}:
                r.fail(f"scale {scale_id!r} must have the values 0-2 for points", "scale")
            out["scale"] = scale_id
            if itype == "multiple_choice":
                mc = r.integer("max_choices", required=False, minimum=1)
                if mc is not None and mc > len(values):
                    r.fail(f"exceeds the {len(values)} options", "max_choices")
                out["max_choices"] = mc
        elif itype == "number":
            lo, hi = r.number("min"), r.number("max")
            assert lo is not None and hi is not None
            if hi <= lo:
                r.fail(f"must be greater than min ({lo})", "max")
            out.update(min=lo, max=hi, integer=r.boolean("integer"))
        elif itype == "text":
            n = r.integer("max_length", minimum=1)
            assert n is not None
            if n > MAX_TEXT_LENGTH:
                r.fail(f"must be at most {MAX_TEXT_LENGTH}", "max_length")
            out["max_length"] = n
        return out

    def extras(self, r: Reader, item: Item, profile: bool) -> Item:
        """Read ``not_applicable``, ``profile_field`` and ``show_if`` (cross-checked)."""
        na = r.boolean("not_applicable")
        if na and item.type == "text":
            r.fail("not allowed for type 'text'", "not_applicable")
        if na and not self.has_na_label:
            r.fail("requires na_label in the definition", "not_applicable")
        field = r.string("profile_field", required=False)
        if field is not None and not profile:
            r.fail("only allowed in a profile section", "profile_field")
        if profile:
            if field is None:
                r.fail("missing (required in a profile section)", "profile_field")
            if field in FORBIDDEN_PROFILE_FIELDS:
                r.fail(f"{field!r} is a personal identifier; not allowed", "profile_field")
            if field not in ALLOWED_PROFILE_FIELDS:
                allowed = ", ".join(sorted(ALLOWED_PROFILE_FIELDS))
                r.fail(f"{field!r} is not an allowed profile field ({allowed})", "profile_field")
            if item.type == "text":
                r.fail("free-text items are not allowed in a profile section", "type")
        show_if = self.show_if(r) if "show_if" in r.data else None
        r.used.add("show_if")
        return replace(item, not_applicable=na, profile_field=field, show_if=show_if)

    def show_if(self, parent: Reader) -> ShowIf:
        """Read ``show_if``: it must refer to an earlier item and valid values."""
        r = Reader(parent.raw("show_if"), parent.at("show_if"), parent.source)
        ref = r.string("item")
        assert ref is not None
        target = self.items.get(ref)
        if target is None:
            where = "a later or the same item" if ref in self.declared else "an unknown item"
            r.fail(f"refers to {where} {ref!r}; show_if must refer to an earlier item", "item")
        if target.type not in CHOICE:
            r.fail(f"item {ref!r} has type {target.type!r}; show_if needs a choice item", "item")
        values: list[int | bool] = []
        for i, v in enumerate(r.array("in")):
            path = f"in[{i}]"
            if target.type == "yes_no":
                if not isinstance(v, bool):
                    r.fail(f"expected true or false (item {ref!r} is yes_no)", path)
            else:
                assert target.scale is not None
                if isinstance(v, bool) or v not in self.scales[target.scale].values:
                    r.fail(f"{v!r} is not a value of item {ref!r}", path)
            assert isinstance(v, int)
            values.append(v)
        r.done()
        return ShowIf(ref, tuple(values))
