"""A service point ready for citizens, for tests that only need somewhere to answer."""

from __future__ import annotations

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
