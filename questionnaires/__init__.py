"""Questionnaire definitions as versioned data: schema, loader, index trees, scoring.

Standard library only. One JSON file per published version
(``questionnaires/<key>/v<N>.json``) is loaded into frozen dataclasses; errors name
the file and the path inside it. See ``README`` notes in each module docstring.

Examples
--------
>>> import questionnaires as q
>>> defn = q.load("sipas_2023")
>>> weights = defn.index.leaf_weights("dich_vu")
>>> round(sum(weights.values()), 9)
1.0
"""

from __future__ import annotations

from ._base import Provenance, Text
from .errors import AnswerError, DefinitionError, LockError, NotFlattenableError
from .index_tree import Flattening, IndexNode, IndexTree
from .loader import DEFAULT_ROOT, load, load_all, load_definition, parse_definition
from .lock import check_lock, compute_lock, update_lock
from .model import (
    ALLOWED_PROFILE_FIELDS,
    FORBIDDEN_PROFILE_FIELDS,
    ITEM_TYPES,
    NOT_APPLICABLE,
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

__all__ = [
    "ALLOWED_PROFILE_FIELDS",
    "DEFAULT_ROOT",
    "FORBIDDEN_PROFILE_FIELDS",
    "ITEM_TYPES",
    "NOT_APPLICABLE",
    "AnswerError",
    "Definition",
    "DefinitionError",
    "Flattening",
    "IndexNode",
    "IndexTree",
    "Item",
    "LockError",
    "NotFlattenableError",
    "Option",
    "Provenance",
    "Scale",
    "Section",
    "ShowIf",
    "Text",
    "check_lock",
    "comprehensive_indicator",
    "compute_lock",
    "definition_hash",
    "dumps_canonical",
    "dumps_pretty",
    "from_dict",
    "item_indicators",
    "load",
    "load_all",
    "load_definition",
    "parse_definition",
    "score_response",
    "to_dict",
    "update_lock",
    "validate_answers",
    "visible_items",
]
