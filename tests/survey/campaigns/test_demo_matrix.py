"""Rows of the authorisation matrix for campaigns, with the demo province's accounts: the
campaign permission by role, the departments each may run a campaign for, the units each
may cover, and one campaign per sector seen only in its sector (and by Sở Nội vụ)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from survey.campaigns.services import campaigns
from survey.common.access import Scope
from survey.demo import seed as demo
from survey.extensions import db
from survey.models import Campaign, Unit, User
from tests.conftest import make_app, twin_context

ALL_USERS = ["admin", "soyte", "sogddt", "benhvien", "xa", "phantich", "phantich.yte",
             "nhaplieu"]
# the oracle, written apart from survey.common.access: sectors whose campaigns each sees
SECTORS = {"admin": {"health", "education", "administrative"}, "soyte": {"health"},
           "sogddt": {"education"}}
OWNERS = {"admin": {"SNV", "SYT", "SGDDT"}, "soyte": {"SYT"}, "sogddt": {"SGDDT"}}
# analysts read the campaigns of their scope and run none
READS = {"phantich": {"health", "education", "administrative"}, "phantich.yte": {"health"}}


@pytest.fixture(scope="module")
def demo_app(_schema: None, database_url: str, tmp_path_factory: Any) -> Iterator[Flask]:
    app = make_app(database_url, Path(tmp_path_factory.mktemp("inst")))
    with twin_context(app):
        demo.seed(responses=False)
        admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "admin")))
        for code, kind, key in [("SYT", "hospital", "health_inpatient:1"),
                                ("SGDDT", "school", "edu_parents_primary:1"),
                                ("SNV", "commune", "desk_rating:1")]:
            owner = db.session.scalar(select(Unit).where(Unit.code.endswith("." + code)))
            campaigns.create_campaign(admin, campaigns.CampaignInput(
                name=f"Đợt thử {code}", owner_unit_id=owner.id, questionnaire=key,
                unit_kind=kind, coverage="all", unit_ids=[], period_start=dt.date(2026, 12, 1),
                period_end=dt.date(2026, 12, 31), channels=["token"], strata_by="unit",
                stages="unit_person", cluster_kind=None, size_mode="margin",
                target_margin_percent=5, total_sample=None, allocation="proportional"))
        yield app


@pytest.fixture(scope="module")
def clients(demo_app: Flask) -> dict[str, Any]:
    out = {}
    for username in ALL_USERS:
        client = demo_app.test_client()
        assert client.post("/login", data={"username": username,
                                           "password": demo.DEMO_PASSWORD}).status_code == 302
        out[username] = client
    return out


@pytest.mark.parametrize("username", ALL_USERS)
def test_campaigns_by_demo_account(clients: dict[str, Any], username: str) -> None:
    client = clients[username]
    sectors = SECTORS.get(username)
    reads = READS.get(username)
    scope = Scope.for_user(db.session.scalar(select(User).where(User.username == username)))
    if reads is not None:
        assert client.get("/staff/campaigns/").status_code == 200
        assert campaigns.owner_choices(scope) == [] and campaigns.unit_choices(scope) == []
        for campaign in db.session.scalars(select(Campaign)):
            status = client.get(f"/staff/campaigns/{campaign.id}").status_code
            assert status == (200 if campaign.sector in reads else 404), campaign.name
            assert client.get(f"/staff/campaigns/{campaign.id}/edit").status_code == 403
            # the weighting report: read-only, in scope
            weights = client.get(f"/staff/campaigns/{campaign.id}/weights")
            assert weights.status_code == status, campaign.name
            assert 'name="margins"' not in weights.get_data(as_text=True)
        return
    if sectors is None:
        assert client.get("/staff/campaigns/").status_code == 403
        assert campaigns.owner_choices(scope) == [] and campaigns.unit_choices(scope) == []
    else:
        assert client.get("/staff/campaigns/").status_code == 200
        owners = {u.code.rsplit(".", 1)[-1] for u in campaigns.owner_choices(scope)}
        # Sở Nội vụ may run a campaign for any department; a sector manager for theirs
        assert owners >= OWNERS[username] if username == "admin" else owners == OWNERS[username]
        assert {u.sector for u in campaigns.unit_choices(scope)} == sectors
    for campaign in db.session.scalars(select(Campaign)):
        status = client.get(f"/staff/campaigns/{campaign.id}").status_code
        weights = client.get(f"/staff/campaigns/{campaign.id}/weights").status_code
        if sectors is None:
            assert status == 403 and weights == 403
        else:
            assert status == (200 if campaign.sector in sectors else 404), campaign.name
            assert weights == status, campaign.name
