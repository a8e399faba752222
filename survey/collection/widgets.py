"""Citizen forms built from a questionnaire definition through a registry of field
builders, one per item type. Shared by the citizen pages and the staff preview (which
must show a questionnaire exactly as a citizen sees it).

Fields render the questions; the answers are validated by
``questionnaires.validate_answers`` so that the rules live in one place (bilingual
messages, show_if, not-applicable)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from wtforms import Field, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField

import questionnaires as q
from survey.collection.services.flow import page_items, screen, screen_numbers, visible_pages
from survey.collection.services.words import question_label
from survey.common.forms import Form, choices

Builder = Callable[[q.Item, q.Definition, str], Field]
FIELD_BUILDERS: dict[str, Builder] = {}
YES_NO = {"vi": (("true", "Có"), ("false", "Không")), "en": (("true", "Yes"), ("false", "No"))}


def register(*item_types: str) -> Callable[[Builder], Builder]:
    def wrap(builder: Builder) -> Builder:
        for item_type in item_types:
            FIELD_BUILDERS[item_type] = builder
        return builder

    return wrap


def text(value: q.Text | None, lang: str) -> str:
    if value is None:
        return ""
    return value.en if lang == "en" and value.en else value.vi


def _options(item: q.Item, defn: q.Definition, lang: str) -> list[tuple[str, str]]:
    if item.type == "yes_no":
        pairs = list(YES_NO["en" if lang == "en" else "vi"])
    else:
        scale = defn.scale(item.scale or "")
        pairs = [(str(o.value), text(o.label, lang)) for o in scale.options]
    if item.not_applicable and defn.na_label is not None:
        pairs.append((q.NOT_APPLICABLE, text(defn.na_label, lang)))
    return pairs


@register("likert5", "points", "single_choice", "yes_no")
def _radio(item: q.Item, defn: q.Definition, lang: str) -> Field:
    return RadioField(text(item.text, lang), choices=choices(_options(item, defn, lang)),
                      validate_choice=False)


@register("multiple_choice")
def _checkboxes(item: q.Item, defn: q.Definition, lang: str) -> Field:
    return SelectMultipleField(text(item.text, lang),
                               choices=choices(_options(item, defn, lang)),
                               validate_choice=False)


@register("number", "percentage")
def _number(item: q.Item, defn: q.Definition, lang: str) -> Field:
    # Text input with a numeric keyboard: accepts the Vietnamese decimal comma.
    mode = "numeric" if item.integer or item.type == "percentage" else "decimal"
    return StringField(text(item.text, lang), render_kw={"inputmode": mode, "autocomplete": "off"})


@register("text")
def _text(item: q.Item, defn: q.Definition, lang: str) -> Field:
    return TextAreaField(text(item.text, lang),
                         render_kw={"maxlength": item.max_length or 2000, "rows": 4})


class CitizenForm(Form):
    """Base of generated forms: CSRF, the idempotency key and a honeypot."""

    submission_id = HiddenField()
    # Humans never see or fill this field; bots that fill every input do.
    website = StringField(render_kw={"tabindex": "-1", "autocomplete": "off"})


@lru_cache(maxsize=512)
def form_class(defn: q.Definition, page: int, lang: str) -> type[CitizenForm]:
    """The form class for one page of a definition in one language (cached)."""
    attrs: dict[str, Any] = {}
    for item in page_items(defn, page):
        attrs[item.id] = FIELD_BUILDERS[item.type](item, defn, lang)
    return type(f"Form_{defn.key}_v{defn.version}_p{page}_{lang}", (CitizenForm,), attrs)


def page_context(defn: q.Definition, page: int, form: CitizenForm,
                 answers: Mapping[str, object], errors: list[q.AnswerError],
                 lang: str) -> dict[str, Any]:
    """What ``collection/citizen/_questions.html`` needs to render one page of a questionnaire.

    Items hidden by an answer on an earlier page are left out; an item that depends on
    an answer on the same page is shown with a hint (the page works without JavaScript).
    """
    shown = q.visible_items(defn, answers)
    known = {i.id for i in defn.items}
    on_page = {i.id for i in page_items(defn, page)}
    sections = []
    shown_screen = screen(defn, page)
    for section, items in (shown_screen.sections if shown_screen else ()):
        rows = []
        for item in items:
            cond = item.show_if
            if cond is not None and cond.item not in on_page and item.id not in shown:
                continue
            hint = text(defn.item(cond.item).text, lang) if cond is not None and \
                cond.item in on_page else None
            rows.append((item, form[item.id], hint))
        if rows:
            sections.append((section, rows))
    return {
        "defn": defn, "page": page, "form": form, "lang": lang, "text": text,
        "na": q.NOT_APPLICABLE, "sections": sections,
        "pages": visible_pages(defn, answers) or screen_numbers(defn),
        "all_pages": screen_numbers(defn),
        "messages": {e.item_id: (e.message_en if lang == "en" else e.message_vi)
                     for e in errors},
        "asked": {e.item_id: question_label(defn.item(e.item_id), lang) for e in errors
                  if e.item_id in known},
    }

