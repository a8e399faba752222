"""Questionnaire definitions as versioned data: schema, loader, index trees, scoring.

Standard library only. One JSON file per published version,
``questionnaires/<key>/v<N>.json``, is validated and loaded into frozen dataclasses;
errors name the file and the path inside it, e.g.
``health_outpatient/v1.json: sections[2].items[4].scale: missing``. Published files
are immutable: ``questionnaires/lock.json`` holds their hashes (``python -m
questionnaires check-lock``; ``python -m questionnaires lock`` adds new versions).

JSON format (``format`` 1), in short::

    {"format": 1, "key": "desk_rating", "version": 1,
     "title": {"vi": "...", "en": "..."},
     "sector": "administrative|health|education",
     "status": "draft|published|retired",
     "decisions": ["Thông tư 01/2018/TT-VPCP ..."],
     "provenance": "verified|secondary|inferred", "text_status": "verbatim|summary",
     "na_label": {"vi": "...", "en": "..."},            # if any item allows N/A
     "source_keys": [...], "gaps": [...], "notes": [...], "superseded_by": "key",
     "scales": {"hai_long5": {"options": [{"value": 1, "label": {"vi": "...", "en": "..."}}]}},
     "sections": [{"id": "chung", "title": {...}, "page": 1, "profile": false,
                   "items": [{"id": "q1", "type": "likert5", "scale": "hai_long5",
                              "text": {...}, "required": true, "provenance": "secondary",
                              "code": "A1", "not_applicable": true,
                              "show_if": {"item": "q0", "in": [true]}}]}],
     "index": {"overall": "tong",
               "nodes": [{"id": "tong", "title": {...}, "rule": "share_at_least",
                          "children": ["q1"], "threshold": 4, "provenance": "inferred"}]}}

Item types: ``likert5`` (scale with values 1-5), ``points`` (scale 0-2),
``single_choice`` / ``multiple_choice`` (scale; ``max_choices``), ``yes_no``,
``number`` (``min``, ``max``, ``integer``), ``percentage`` (0-100), ``text``
(``max_length``). Each is one :class:`ItemType` entry of :data:`ITEM_TYPE_REGISTRY`
(``item_type(name)``): its fields and checks, form conversion, answer validation,
score, and storage as ``(num, text, not_applicable)`` (``encode`` / ``decode``;
:func:`stored_answers` / :func:`answers_from_stored` for a whole response).

Items of a ``profile`` section carry a ``profile_field`` from
:data:`ALLOWED_PROFILE_FIELDS`; personal identifiers are rejected. Index rules:
``share_at_least``, ``share_in``, ``mean_score``, ``comprehensive`` (children are
items) and ``mean``, ``weighted_mean`` (children are nodes); see
:mod:`questionnaires.index_tree`.

Examples
--------
>>> import questionnaires as q
>>> defn = q.load("sipas_2023")
>>> weights = defn.index.leaf_weights("dich_vu")
>>> round(sum(weights.values()), 9)
1.0
>>> q.load("health_inpatient").index.flatten("toan_dien").ok
False
"""

from __future__ import annotations

from ._base import Provenance, Text
from .errors import AnswerError, DefinitionError, LockError, NotFlattenableError
from .forms import answers_from_form
from .index_tree import Flattening, IndexNode, IndexTree
from .item_types import (
    ITEM_TYPE_REGISTRY,
    ITEM_TYPES,
    ItemType,
    StoredAnswer,
    extra_item_types,
    item_type,
)
from .loader import DEFAULT_ROOT, load, load_all, load_definition, parse_definition
from .lock import check_lock, compute_lock, update_lock
from .model import (
    ALLOWED_PROFILE_FIELDS,
    FORBIDDEN_PROFILE_FIELDS,
    NOT_APPLICABLE,
    YES_NO_LABELS,
    Definition,
    Item,
    Option,
    Scale,
    Section,
    ShowIf,
)
from .scoring import (
    comprehensive_indicator,
    item_indicators,
    score_response,
    validate_answers,
    visible_items,
)
from .serialize import definition_hash, dumps_canonical, dumps_pretty, from_dict, to_dict
from .storage import answers_from_stored, stored_answers

__all__ = [
    "ALLOWED_PROFILE_FIELDS",
    "DEFAULT_ROOT",
    "FORBIDDEN_PROFILE_FIELDS",
    "ITEM_TYPES",
    "ITEM_TYPE_REGISTRY",
    "NOT_APPLICABLE",
    "AnswerError",
    "Definition",
    "DefinitionError",
    "Flattening",
    "IndexNode",
    "IndexTree",
    "Item",
    "ItemType",
    "LockError",
    "NotFlattenableError",
    "Option",
    "Provenance",
    "Scale",
    "Section",
    "ShowIf",
    "StoredAnswer",
    "Text",
    "YES_NO_LABELS",
    "answers_from_form",
    "answers_from_stored",
    "check_lock",
    "comprehensive_indicator",
    "compute_lock",
    "definition_hash",
    "dumps_canonical",
    "dumps_pretty",
    "extra_item_types",
    "from_dict",
    "item_indicators",
    "item_type",
    "load",
    "load_all",
    "load_definition",
    "parse_definition",
    "score_response",
    "stored_answers",
    "to_dict",
    "update_lock",
    "validate_answers",
    "visible_items",
]
