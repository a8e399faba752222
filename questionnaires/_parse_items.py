"""Parse scales, sections and items, with per-type, show_if and privacy checks."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from ._base import PROVENANCES, Provenance, Text
from ._reader import ID_PATTERN, Reader
from .item_types import ItemType, item_type, item_type_fields, item_type_names
from .model import (
    ALLOWED_PROFILE_FIELDS,
    FORBIDDEN_PROFILE_FIELDS,
    Item,
    Option,
    Scale,
    Section,
    ShowIf,
)

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
        itype = r.choice("type", item_type_names())
        kind = item_type(itype)
        for key in item_type_fields() - kind.fields:
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
        if kind.free_input:
            wording = f"{text.vi} / {text.en}".casefold()
            asked = next((w for w in IDENTIFIER_WORDING if w in wording), None)
            if asked is not None:
                r.fail(f"asks for a personal identifier ({asked!r}); not allowed", "text")
        item = self.type_fields(r, kind, item)
        item = self.extras(r, kind, item, profile)
        r.done()
        self.items[iid] = item
        return item

    def type_fields(self, r: Reader, kind: ItemType, item: Item) -> Item:
        """Read the fields specific to the item's type, then check them against the scales."""
        item = replace(item, **kind.parse(r))
        problem = kind.check(item, self.scales)
        if problem is not None:
            key, message = problem
            r.fail(message, key)
        return item

    def extras(self, r: Reader, kind: ItemType, item: Item, profile: bool) -> Item:
        """Read ``not_applicable``, ``profile_field`` and ``show_if`` (cross-checked)."""
        na = r.boolean("not_applicable")
        if na and not kind.allows_na:
            r.fail(f"not allowed for type {kind.name!r}", "not_applicable")
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
            if kind.not_in_profile is not None:
                r.fail(kind.not_in_profile, "type")
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
        kind = item_type(target.type)
        if kind.values(target, self.scales) is None:
            r.fail(f"item {ref!r} has type {target.type!r}; show_if needs a choice item", "item")
        values: list[int | bool] = []
        for i, v in enumerate(r.array("in")):
            problem = kind.value_error(v, target, self.scales)
            if problem is not None:
                r.fail(problem, f"in[{i}]")
            assert isinstance(v, int)
            values.append(v)
        r.done()
        return ShowIf(ref, tuple(values))
