"""A service point ready for citizens, for tests that only need somewhere to answer."""

from __future__ import annotations

import re
from typing import Any

from survey.authoring.services import versions as questionnaire_versions
from survey.org.services import units


def point_with(db: Any, questionnaire: str = "desk_rating", *, name: str = "Xã Thử",
               kind: str = "commune", sector: str = "administrative",
               code: str = "X9") -> Any:
    """A root unit with one service point answering ``questionnaire`` (synced first)."""
    questionnaire_versions.sync()
    unit = units.create_unit(None, {"name": name, "kind": kind, "sector": sector,
                                    "code": code})
    point = units.create_point(unit, "Quầy 1")
    point.questionnaire_key = questionnaire
    db.session.commit()
    return point


def first_page(client: Any, prefix: str, key: str) -> tuple[str, str]:
    """Open a link (``/q/<key>``, ``/k/<key>``, ``/t/<key>``) as a phone does: the address
    of its first page and that page's HTML."""
    start = client.get(f"/{prefix}/{key}")
    assert start.status_code == 302, start.status_code
    url = start.headers["Location"]
    return url, client.get(url).get_data(as_text=True)


def sid(html: str) -> str:
    """The idempotency key (submission id) in a citizen form."""
    found = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="submission_id" name="submission_id" type="hidden" value="([^"]+)"', html)
    assert found, "no submission id in the form"
    return found.group(1)
