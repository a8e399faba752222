"""The answering flow shared by the three ways in: an open desk link (/q), a kiosk
tablet (/k) and a one-time dossier token (/t). Answers of earlier pages wait in the
signed session cookie under a key of the link, so a citizen needs no account and no
JavaScript; nothing stays behind after the response is stored."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import session

import questionnaires as q
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import versions as questionnaire_versions
from survey.collection import widgets as formbuilder
from survey.collection.models import DossierToken, PointLink
from survey.collection.services import links
from survey.org.models import ServicePoint, Unit


@dataclass(frozen=True)
class Ref:
    """What a page needs of a unit, a point or a link: plain values that can be cached
    across requests (ORM objects cannot)."""

    id: int
    name: str = ""


@dataclass(frozen=True)
class VersionRef:
    id: int
    key: str
    version: int


@dataclass(frozen=True)
class Target:
    """Where an answer goes: resolved from the URL, never from an editable parameter."""

    prefix: str  # "q", "k" or "t"
    key: str  # the link token or the token secret
    unit: Ref
    point: Ref | None
    link: Ref | None
    token: DossierToken | None
    version: VersionRef
    definition: q.Definition

    @property
    def channel(self) -> str:
        return {"q": "desk_qr", "k": "kiosk", "t": "token"}[self.prefix]

    @property
    def state_key(self) -> str:
        return f"{self.prefix}:{links.hash_secret(self.key)[:16]}"


def questionnaire_for(point: ServicePoint | None, override: str | None,
                      default: str) -> QuestionnaireVersion | None:
    """Latest published version of the link's, the point's or the default questionnaire.
    (Campaigns will take over a point here for their period.)"""
    key = override or (point.questionnaire_key if point else None) or default
    return questionnaire_versions.latest_published(key)


def _target(prefix: str, key: str, point: ServicePoint | None, unit: Unit,
            link: PointLink | None, token: DossierToken | None,
            version: QuestionnaireVersion) -> Target:
    return Target(prefix, key, Ref(unit.id, unit.name),
                  Ref(point.id, point.name) if point else None,
                  Ref(link.id) if link else None, token,
                  VersionRef(version.id, version.key, version.version),
                  questionnaire_versions.definition_of(version))


def _load_link_target(prefix: str, token: str, default_key: str) -> Target | None:
    link = links.resolve_link(token)
    if link is None or (prefix == "k") != (link.kind == "kiosk"):
        return None
    point = link.service_point
    version = questionnaire_for(point, link.questionnaire_key, default_key)
    if version is None:
        return None
    return _target(prefix, token, point, point.unit, link, None, version)


def target_for_link(prefix: str, token: str, default_key: str) -> Target | None:
    return links.cached(f"link:{prefix}:{default_key}", token,
                        lambda: _load_link_target(prefix, token, default_key))


def target_for_token(secret: str, token: DossierToken, default_key: str) -> Target | None:
    from survey.extensions import db

    point = db.session.get(ServicePoint, token.service_point_id) if token.service_point_id \
        else None
    version = questionnaire_for(point, token.questionnaire_key, default_key)
    if version is None:
        return None
    return _target("t", secret, point, token.unit, None, token, version)


# --- state in the session cookie -----------------------------------------------------
def state(target: Target) -> dict[str, Any]:
    current = session.get(target.state_key)
    if not isinstance(current, dict) or current.get("v") != target.version.id:
        current = {"v": target.version.id, "sid": uuid.uuid4().hex, "answers": {}}
        session[target.state_key] = current
    return current


def save_answers(target: Target, page_items: list[str], answers: Mapping[str, object]) -> None:
    current = state(target)
    merged = {k: v for k, v in current["answers"].items() if k not in page_items}
    merged.update({k: v for k, v in answers.items() if v not in (None, "", [])})
    current["answers"] = merged
    session[target.state_key] = current
    session.modified = True


def forget(target: Target) -> None:
    session.pop(target.state_key, None)


# --- pages ---------------------------------------------------------------------------
page_items = formbuilder.page_items
visible_pages = formbuilder.visible_pages


def next_page(defn: q.Definition, answers: Mapping[str, object], page: int) -> int | None:
    later = [p for p in visible_pages(defn, answers) if p > page]
    return later[0] if later else None
