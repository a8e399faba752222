"""The OpenAPI 3.1 document of ``/api/v1`` (served at ``/api/v1/openapi.json``): the
one-stop systems' writes (``POST /tokens``, ``POST /transactions``) and the read-only
results API. ``tests/survey/results/test_openapi.py`` checks every endpoint against it
with schemathesis (property-based), so the document and the code cannot drift apart."""

from __future__ import annotations

from typing import Any

NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}

ERROR = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "message_en", "field"],
        "additionalProperties": False,
        "properties": {"code": {"type": "string"},
                       "message": {"type": "string", "description": "Vietnamese"},
                       "message_en": {"type": "string"}, "field": NULLABLE_STRING}}},
}

SNAPSHOT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "period", "period_start", "period_end", "scope_unit_id", "status",
                 "published", "published_at", "finished_at", "n_responses",
                 "questionnaire_versions", "code_version", "input_hash", "parameters"],
    "properties": {
        "id": {"type": "integer"}, "period": {"type": "string", "examples": ["2026-10"]},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date", "description": "inclusive"},
        "scope_unit_id": {**NULLABLE_INT, "description": "null: the whole province"},
        "status": {"const": "done"}, "published": {"type": "boolean"},
        "published_at": {"type": ["string", "null"], "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "n_responses": {"type": "integer", "minimum": 0},
        "questionnaire_versions": {"type": "array", "items": {"type": "string"}},
        "code_version": {"type": "string"}, "input_hash": {"type": "string"},
        "parameters": {"type": "object",
                       "description": "period, scope, CI methods, alpha, publication rules"},
    },
}

UNIT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "code", "name", "kind", "sector", "parent_id", "depth"],
    "properties": {"id": {"type": "integer"}, "code": NULLABLE_STRING,
                   "name": {"type": "string"}, "kind": {"type": "string"},
                   "sector": {"type": "string"}, "parent_id": NULLABLE_INT,
                   "depth": {"type": "integer", "minimum": 0}},
}

RESULT = {
    "type": "object", "additionalProperties": False,
    "required": ["domain", "unit_id", "unit_code", "unit_name", "sector", "basis",
                 "probability", "questionnaire", "node", "rule", "estimate", "se", "ci_low",
                 "ci_high", "n", "n_eff", "deff", "df", "method", "publication", "flags"],
    "properties": {
        "domain": {"enum": ["unit", "sector", "point"],
                   "description": "a unit's subtree, a sector, or one service point"},
        "unit_id": NULLABLE_INT, "unit_code": NULLABLE_STRING, "unit_name": {"type": "string"},
        "sector": NULLABLE_STRING,
        "basis": {"type": "string", "description": "tokens | open | campaign:<id>"},
        "probability": {"type": "boolean",
                        "description": "false: open QR codes, a non-probability sample"},
        "questionnaire": {"type": "string", "examples": ["desk_rating v1"]},
        "node": {"type": "string"}, "rule": {"type": "string"},
        "estimate": {**NULLABLE_NUMBER,
                     "description": "a share 0-1 (mean_score: on the item scale); null when "
                                    "suppressed and the key lacks read_results"},
        "se": NULLABLE_NUMBER, "ci_low": NULLABLE_NUMBER, "ci_high": NULLABLE_NUMBER,
        "n": {"type": "integer", "minimum": 0}, "n_eff": NULLABLE_NUMBER,
        "deff": NULLABLE_NUMBER, "df": NULLABLE_NUMBER, "method": {"type": "string"},
        "publication": {"type": "string", "description": "present | suppress | review"},
        "flags": {"type": "array", "items": {"type": "string"}},
    },
}

DOSSIER = {
    "type": "object", "additionalProperties": False,
    "required": ["dossier_hash", "procedure_field", "channel", "completed_at"],
    "properties": {
        "dossier_hash": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$",
                         "description": "SHA-256 hex of the dossier code, never the code"},
        "procedure_field": {"type": "string", "maxLength": 255},
        "channel": {"enum": ["direct", "online", "postal"]},
        "completed_at": {"type": "string", "format": "date-time"},
        "service_point_id": {"type": "integer", "minimum": 1},
        "questionnaire_key": {"type": "string", "maxLength": 64},
    },
}

TOKEN = {
    "type": "object", "additionalProperties": False,
    "required": ["url", "expires_at", "selected", "selection_probability", "already_issued"],
    "properties": {"url": NULLABLE_STRING,
                   "expires_at": {"type": ["string", "null"], "format": "date-time"},
                   "selected": {"type": "boolean"},
                   "selection_probability": NULLABLE_NUMBER,
                   "already_issued": {"type": "boolean"}},
}

COUNT = {
    "type": "object", "additionalProperties": False,
    "required": ["service_point_id", "month", "count"],
    "properties": {"service_point_id": {"type": "integer", "minimum": 1},
                   "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                   "count": {"type": "integer", "minimum": 0}},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "bad request or query parameter (`field` names it)",
             401: "missing, wrong or revoked API key", 403: "outside the key's unit subtree",
             404: "unknown (or not readable by this key)", 409: "a concurrent call: send again",
             413: "too large", 422: "invalid field (`field` names it)",
             429: "too many requests"}
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


def _get(summary: str, ok: dict[str, Any], parameters: list[dict[str, Any]],
         *errors: int) -> dict[str, Any]:
    return {"get": {"summary": summary, "security": [{"apiKey": []}],
                    "parameters": parameters,
                    "responses": {"200": _json(ok, "OK"), **_errors(401, 429, *errors)}}}


def _paged(path: dict[str, Any]) -> dict[str, Any]:
    """A results endpoint: its description says how it pages; its 200 has the Link header."""
    path["get"]["description"] = PAGED
    path["get"]["responses"]["200"]["headers"] = LINK
    return path


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


FILTERS = [
    _query("sector", {"enum": ["administrative", "health", "education", "other"]}, "sector"),
    _query("node", {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
           "index-tree node id (e.g. the overall index)"),
    _query("basis", {"type": "string", "pattern": "^(tokens|open|campaign:[0-9]{1,9})$"},
           "channel basis"),
]


PAGE_FIELDS = {
    "total": {"type": "integer", "minimum": 0,
              "description": "rows matching the query, on every page"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 5000},
    "offset": {"type": "integer", "minimum": 0},
    "next": {"type": ["string", "null"],
             "description": "address of the next page (also in the Link header); null on "
                            "the last page"},
}

PAGING = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 5000},
           "rows per page: default 500, at most 5000"),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
           "rows to skip (default 0); follow `next` rather than computing it"),
]

PAGED = ("Paged: `limit` rows (default 500, at most 5000) from `offset`, in a stable order "
         "(a snapshot is frozen). `total` counts every matching row; `next` and the RFC "
         "8288 header `Link: <...>; rel=\"next\"` give the next page, absent on the last. "
         "Before paging existed these endpoints returned every row at once: a client that "
         "ignores `next` now reads the first 500.")

LINK = {"Link": {"description": "`<address of the next page>; rel=\"next\"` when there is "
                                "one", "schema": {"type": "string"}}}


def document() -> dict[str, Any]:
    listing = {"type": "object", "additionalProperties": False,
               "required": ["snapshots", "page", "per_page", "total"],
               "properties": {"snapshots": {"type": "array", "items": _ref("Snapshot")},
                              "page": {"type": "integer"}, "per_page": {"type": "integer"},
                              "total": {"type": "integer"}}}
    page = {"results": {"type": "array", "items": _ref("Result")}, **PAGE_FIELDS}
    results = {"type": "object", "additionalProperties": False,
               "required": ["snapshot_id", *page],
               "properties": {"snapshot_id": {"type": "integer"}, **page}}
    unit_results = {"type": "object", "additionalProperties": False,
                    "required": ["unit", "snapshot", *page],
                    "properties": {"unit": _ref("Unit"), "snapshot": _ref("Snapshot"),
                                   **page}}
    tokens_in = {"oneOf": [_ref("Dossier"), {
        "type": "object", "additionalProperties": False, "required": ["tokens"],
        "properties": {"tokens": {"type": "array", "minItems": 1, "maxItems": 500,
                                  "items": _ref("Dossier")}}}]}
    tokens_out = {"oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["token"],
         "properties": {"token": _ref("Token")}},
        {"type": "object", "additionalProperties": False, "required": ["tokens"],
         "properties": {"tokens": {"type": "array", "items": _ref("Token")}}}]}
    counts_in = {"oneOf": [_ref("Count"), {
        "type": "object", "additionalProperties": False, "required": ["counts"],
        "properties": {"counts": {"type": "array", "minItems": 1, "maxItems": 500,
                                  "items": _ref("Count")}}}]}
    counts_out = {"type": "object", "additionalProperties": False,
                  "required": ["created", "updated", "unchanged"],
                  "properties": {k: {"type": "integer", "minimum": 0}
                                 for k in ("created", "updated", "unchanged")}}

    def post(summary: str, body: dict[str, Any], out: dict[str, Any],
             *errors: int) -> dict[str, Any]:
        return {"post": {"summary": summary, "security": [{"apiKey": []}],
                         "requestBody": {"required": True,
                                         "content": {"application/json": {"schema": body}}},
                         "responses": {"200": _json(out, "nothing new (idempotent resend)"),
                                       "201": _json(out, "created or changed"),
                                       **_errors(400, 401, 403, 413, 422, 429, *errors)}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "SIPAS API", "version": "1",
                 "description": "Citizen satisfaction with public services: one-time "
                                "tokens and transaction counts from one-stop systems, and "
                                "read-only results (frozen snapshots: every index with its "
                                "95% confidence interval). Every call takes a unit's API "
                                "key: `Authorization: Bearer <prefix>.<secret>`. A key "
                                "reads published snapshots within its unit's subtree; one "
                                "with the read_results permission reads unpublished ones "
                                "and suppressed figures too. Results come in pages of 500 "
                                "rows by default (`limit`, at most 5000; `offset`; follow "
                                "`next` or the Link header)."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/tokens": post("Issue one-time tokens for completed dossiers", tokens_in,
                            tokens_out, 409),
            "/transactions": post("Report monthly transaction counts of service points",
                                  counts_in, counts_out),
            "/snapshots": _get("Snapshots the key may read, newest first", listing, [
                _query("page", {"type": "integer", "minimum": 1}, "page (from 1)"),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200},
                       "snapshots per page (default 50)")], 400),
            "/snapshots/{snapshot_id}": _get(
                "One snapshot", {"type": "object", "additionalProperties": False,
                                 "required": ["snapshot"],
                                 "properties": {"snapshot": _ref("Snapshot")}},
                [_path_id("snapshot_id")], 400, 403, 404),
            "/snapshots/{snapshot_id}/results": _paged(_get(
                "The estimates of a snapshot within the key's scope", results,
                [_path_id("snapshot_id"),
                 _query("unit", {"type": "integer", "minimum": 1}, "one unit's rows"),
                 *FILTERS,
                 _query("domain", {"enum": ["unit", "sector", "point"]}, "domain"),
                 *PAGING],
                400, 403, 404)),
            "/units": _get("The key's unit and its subtree, depth first", {
                "type": "object", "additionalProperties": False, "required": ["units"],
                "properties": {"units": {"type": "array", "items": _ref("Unit")}}}, [], 400),
            "/units/{unit_id}/results": _paged(_get(
                "A unit's estimates in the newest snapshot the key may read that has them",
                unit_results, [_path_id("unit_id"), *FILTERS[1:], *PAGING], 400, 403, 404)),
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "<prefix>.<secret>"}},
            "schemas": {"Error": ERROR, "Snapshot": SNAPSHOT, "Unit": UNIT, "Result": RESULT,
                        "Dossier": DOSSIER, "Token": TOKEN, "Count": COUNT},
        },
    }
