"""The OpenAPI document at /api/v1/openapi.json describes every /api/v1 endpoint, and a
property-based test (schemathesis, in-process on the WSGI app) calls each of them with
generated requests — valid ones and invalid ones, with a valid key and without — and
checks that none answers 5xx and that every answer conforms to the document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from survey.collection.services import apikeys
from survey.common.access import Scope
from survey.models import ServicePoint, Unit, User
from survey.results.models import ResultSnapshot
from survey.results.services import publication
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 20  # per operation, generation mode and key (560 requests in all)


def test_the_document_lists_every_api_route(app: Any, client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {("/api/v1" + path, method.upper()) for path, ops in doc["paths"].items()
                  for method in ops}
    routes = {(rule.rule.replace("<int:", "{").replace(">", "}"), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              and "<path:" not in rule.rule and rule.rule != "/api/v1/openapi.json"
              for method in rule.methods - {"HEAD", "OPTIONS"}
              if not rule.endpoint.endswith("_other_methods")}
    assert routes == documented


@pytest.fixture
def keyed(db: Any, two_months: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    root = two_months["root"]
    commune = db.session.get(Unit, db.session.get(ServicePoint, two_months["points"][1]).unit_id)
    _row, key = apikeys.create_key(root, "Cổng dữ liệu tỉnh")
    october = db.session.scalar(select(ResultSnapshot).where(ResultSnapshot.period == "2026-10"))
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "tinh")))
    publication.set_published(admin, october.id, True, "tinh")
    return {"key": key, "snapshot_id": october.id, "unit_id": commune.id}


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str],
         real: dict[str, int]) -> int:
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in real.items() if k in names}
    strategy = operation.as_strategy(generation_mode=mode)
    if fixed:
        strategy = st.one_of(strategy,
                             operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    calls = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: Any) -> None:
        # Negative cases may break the document on purpose; only "no 5xx" holds for them.
        checks = CHECKS if mode is GenerationMode.POSITIVE else [not_a_server_error]
        # In-process WSGI calls do not undo the app's response compression.
        case.call_and_validate(headers={**headers, "Accept-Encoding": "identity"},
                               checks=checks)
        calls.append(case.method)

    check()
    return len(calls)


def test_every_endpoint_conforms_to_the_document(app: Any, keyed: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    real = {"snapshot_id": keyed["snapshot_id"], "unit_id": keyed["unit_id"]}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    for headers in ({"Authorization": f"Bearer {keyed['key']}"}, {}):
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                assert _run(operation, mode, headers, real) > 0, operation.label


def test_the_property_test_catches_a_drift(app: Any, db: Any, make_unit: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer that leaves the document (a unit without its name) fails the check."""
    from survey.results.services import api_read

    _row, key = apikeys.create_key(make_unit("Tỉnh Thử"), "Cổng dữ liệu")
    monkeypatch.setattr(api_read, "unit_json", lambda u: {"id": u.id})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    units = next(r.ok() for r in schema.get_all_operations() if r.ok().path == "/units")
    with pytest.raises(FailureGroup) as failed:
        _run(units, GenerationMode.POSITIVE, {"Authorization": f"Bearer {key}"}, {})
    assert "violates schema" in str(failed.value.exceptions[0])
