"""Authorisation matrix of the campaign pages: Sở Y tế sees and manages only health
campaigns and units, Sở GD&ĐT only education, Sở Nội vụ (administrator) everything;
analysts read the campaigns of their scope (list, design, progress) and change nothing;
unit managers have no campaign pages. Outside the scope reads as missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.campaigns.services import campaigns
from survey.common.access import Scope
from survey.models import Campaign, User
from tests.survey.campaigns.conftest import BASE, campaign_form

# user -> sectors of the campaigns they must see (None: no campaign page at all)
SEES = {"admin": {"health", "education"}, "soyte": {"health"}, "sogddt": {"education"},
        "benhvien": None}
# analysts (read-only): the province's sees every sector, a health analyst only health
READS = {"phantich": {"health", "education"}, "phantich_yte": {"health"}}


def scope_of(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


@pytest.fixture
def two_campaigns(db: Any, province: dict[str, Any]) -> dict[str, Campaign]:
    admin = scope_of(db, "admin")
    out = {}
    for sector, owner, kind, key in [("health", province["health"], "hospital",
                                      "health_inpatient:1"),
                                     ("education", province["education"], "school",
                                      "edu_parents_primary:1")]:
        out[sector] = campaigns.create_campaign(admin, campaigns.CampaignInput(
            name=f"Đợt {sector}", owner_unit_id=owner.id, questionnaire=key, unit_kind=kind,
            coverage="all", unit_ids=[], period_start=dt.date(2026, 12, 1),
            period_end=dt.date(2026, 12, 31), channels=["token"], strata_by="unit",
            stages="unit_person", cluster_kind=None, size_mode="margin",
            target_margin_percent=5, total_sample=None, allocation="proportional"))
    return out


@pytest.mark.parametrize("username", sorted(SEES))
def test_campaign_pages_by_scope(client: Any, db: Any, login: Any, province: dict[str, Any],
                                 two_campaigns: dict[str, Campaign], username: str) -> None:
    login(username)
    sees = SEES[username]
    listing = client.get(f"{BASE}/")
    nav = client.get("/staff/").get_data(as_text=True)
    if sees is None:
        assert listing.status_code == 403
        assert client.get(f"{BASE}/new").status_code == 403
        assert 'href="/staff/campaigns/"' not in nav
    else:
        assert listing.status_code == 200
        assert 'href="/staff/campaigns/"' in nav
        html = listing.get_data(as_text=True)
        for sector, campaign in two_campaigns.items():
            assert (campaign.name in html) == (sector in sees)
    for sector, campaign in two_campaigns.items():
        visible = sees is not None and sector in sees
        codes = [client.get(f"{BASE}/{campaign.id}").status_code,
                 client.get(f"{BASE}/{campaign.id}/edit").status_code,
                 client.get(f"{BASE}/{campaign.id}/frame").status_code,
                 client.post(f"{BASE}/{campaign.id}/draw", data={"method": "srs"}).status_code,
                 client.post(f"{BASE}/{campaign.id}/status",
                             data={"target": "fieldwork"}).status_code,
                 client.post(f"{BASE}/{campaign.id}/delete").status_code]
        if visible:
            assert codes[:3] == [200, 200, 200] and codes[3:] == [422, 302, 302]
        else:
            assert codes == [403] * 6 if sees is None else codes == [404] * 6
            assert db.session.get(Campaign, campaign.id) is not None


def test_a_sector_manager_cannot_create_in_another_sector(client: Any, db: Any, login: Any,
                                                          province: dict[str, Any]) -> None:
    login("soyte")
    form = client.get(f"{BASE}/new").get_data(as_text=True)
    assert "Sở Y tế" in form and "Sở Giáo dục" not in form and "Trường Tiểu học" not in form
    before = db.session.scalar(select(func.count()).select_from(Campaign))
    as_education = campaign_form(province["education"], unit_kind="school",
                                 questionnaire="edu_parents_primary:1")
    assert client.post(f"{BASE}/new", data=as_education).status_code == 422
    schools = campaign_form(province["health"], coverage="list",
                            unit_ids=[province["schools"][0].id])
    assert client.post(f"{BASE}/new", data=schools).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == before


def test_scope_units_follow_the_sector(db: Any, province: dict[str, Any]) -> None:
    health = {u.name for u in campaigns.unit_choices(scope_of(db, "soyte"))}
    education = {u.name for u in campaigns.unit_choices(scope_of(db, "sogddt"))}
    everything = {u.name for u in campaigns.unit_choices(scope_of(db, "admin"))}
    assert health == {h.name for h in province["hospitals"]}
    assert education == {s.name for s in province["schools"]}
    assert health | education <= everything
    assert campaigns.unit_choices(scope_of(db, "phantich")) == []


@pytest.mark.parametrize("username", sorted(READS))
def test_analysts_read_campaigns_in_scope_and_change_nothing(
        client: Any, db: Any, login: Any, make_user: Any, province: dict[str, Any],
        two_campaigns: dict[str, Campaign], username: str) -> None:
    make_user("phantich_yte", "analyst", province["province"], sector="health")
    login(username)
    sees = READS[username]
    listing = client.get(f"{BASE}/").get_data(as_text=True)
    assert 'href="/staff/campaigns/"' in client.get("/staff/").get_data(as_text=True)
    assert f'href="{BASE}/new"' not in listing
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.post(f"{BASE}/new", data=campaign_form(province["health"])).status_code == 403
    for sector, campaign in two_campaigns.items():
        assert (campaign.name in listing) == (sector in sees)
        design = client.get(f"{BASE}/{campaign.id}")
        progress = client.get(f"{BASE}/{campaign.id}/progress")
        if sector in sees:
            assert design.status_code == 200 and progress.status_code == 200
            html = design.get_data(as_text=True)
            assert f"{BASE}/{campaign.id}/edit" not in html
            assert f"{BASE}/{campaign.id}/delete" not in html
        else:
            assert design.status_code == 404 and progress.status_code == 404
        posts = [client.post(f"{BASE}/{campaign.id}", data={"p_percent": "40"}),
                 client.post(f"{BASE}/{campaign.id}/status", data={"target": "fieldwork"}),
                 client.post(f"{BASE}/{campaign.id}/delete"),
                 client.post(f"{BASE}/{campaign.id}/draw", data={"method": "srs"}),
                 client.post(f"{BASE}/{campaign.id}/reminders", data={"output": "csv"})]
        assert [p.status_code for p in posts] == [403] * 5
        gets = [client.get(f"{BASE}/{campaign.id}/{page}").status_code
                for page in ("edit", "frame", "sample", "reminders")]
        assert gets == [403] * 4
        db.session.expire_all()
        kept = db.session.get(Campaign, campaign.id)
        assert kept is not None and kept.status == "draft" and kept.assumed_p == 0.5


# The weights page (weighting report, history, weighting again): user -> status codes on
# the (health, education) campaigns. Reading is view_campaigns (analysts in scope too);
# outside the scope reads as missing; unit managers have no campaign pages.
WEIGHTS = {"admin": (200, 200), "soyte": (200, 404), "sogddt": (404, 200),
           "phantich": (200, 200), "phantich_yte": (200, 404), "benhvien": (403, 403)}


@pytest.mark.parametrize("username", sorted(WEIGHTS))
def test_the_weights_page_by_scope(client: Any, db: Any, login: Any, make_user: Any,
                                   province: dict[str, Any],
                                   two_campaigns: dict[str, Campaign], username: str) -> None:
    make_user("phantich_yte", "analyst", province["province"], sector="health")
    login(username)
    pages = [client.get(f"{BASE}/{two_campaigns[s].id}/weights")
             for s in ("health", "education")]
    assert tuple(p.status_code for p in pages) == WEIGHTS[username]
    manager = username in SEES and SEES[username] is not None
    for sector, page in zip(("health", "education"), pages, strict=True):
        campaign = two_campaigns[sector]
        if page.status_code == 200:  # read-only while not closed: no action on the page
            html = page.get_data(as_text=True)
            assert "chưa kết thúc" in html and 'name="margins"' not in html
        posted = client.post(f"{BASE}/{campaign.id}/weights", data={"margins": ""})
        # an analyst (or a unit manager): not theirs to change; a manager outside the
        # scope: missing; in scope: refused, the campaign is not closed
        if not manager:
            assert posted.status_code == 403
        else:
            assert posted.status_code == (422 if page.status_code == 200 else page.status_code)
        db.session.expire_all()
        kept = db.session.get(Campaign, campaign.id)
        assert kept.status == "draft" and kept.weighting_report is None


def test_the_weights_page_needs_a_sign_in(client: Any, db: Any, province: dict[str, Any],
                                          two_campaigns: dict[str, Campaign]) -> None:
    page = client.get(f"{BASE}/{two_campaigns['health'].id}/weights")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    posted = client.post(f"{BASE}/{two_campaigns['health'].id}/weights", data={})
    assert posted.status_code in (302, 400) and "Kish" not in posted.get_data(as_text=True)


def test_the_design_page_title_is_the_name_alone(client: Any, db: Any, login: Any,
                                                 province: dict[str, Any],
                                                 two_campaigns: dict[str, Campaign]) -> None:
    # The delete button had been pasted into the title block too (rendered in <title>).
    login("soyte")
    campaign = two_campaigns["health"]
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    title = html[html.index("<title>"):html.index("</title>")]
    assert "<form" not in title and campaign.name in title
    assert html.count(f'action="{BASE}/{campaign.id}/delete"') == 1
