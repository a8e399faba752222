"""The results pages of a closed campaign's snapshot (basis ``campaign:<id>``): clicking
from its overview through the sector, the hospitals, the rankings and the page of all
estimates stays on it; every page and export names its basis by the campaign ("Đợt khảo
sát: <name> (mẫu xác suất)", never the open QR channel's label); the page of all estimates
says the design in words and links to the campaign's weighting report for those who may
read it; a one-stage and a two-stage campaign."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from survey.campaigns.services import closing
from survey.models import Campaign, ResultSnapshot
from survey.results.services import designs
from tests.survey.campaigns.conftest import province  # noqa: F401 (fixture)
from tests.survey.campaigns.entry_fixtures import fieldwork, selected_rows  # noqa: F401
from tests.survey.campaigns.test_close import enter_rows
from tests.survey.results.test_campaign_bundle import _close_two_stage
from tests.survey.results.test_snapshot_links import crawl, main_links

OPEN_QR = ("QR mở", "không xác suất", "open QR")


@pytest.fixture
def closed(db: Any, fieldwork: Campaign) -> tuple[Campaign, ResultSnapshot]:  # noqa: F811
    enter_rows(db, fieldwork, selected_rows(db, fieldwork)[:20])
    snapshot = closing.close(fieldwork, closing.CloseOptions(), "soyte")
    assert snapshot.status == "done", snapshot.error
    return fieldwork, snapshot


def label(campaign: Campaign) -> str:
    return f"Đợt khảo sát: {campaign.name} (mẫu xác suất)"


def test_the_campaign_snapshots_pages_lead_to_each_other(
        client: Any, login: Any, closed: tuple[Campaign, ResultSnapshot]) -> None:
    campaign, snapshot = closed
    login("soyte")
    reached = crawl(client, snapshot)
    assert {"overview", "sectors", "units", "rankings", "snapshots", "download"} \
        <= set(reached), reached
    assert any("/sectors/health?" in u for u in reached["sectors"])
    assert len(reached["units"]) >= 3  # each hospital of the campaign, by a link
    for url in reached["sectors"] | reached["units"] | reached["rankings"] | {
            f"/staff/results/?snapshot={snapshot.id}",
            f"/staff/results/snapshots/{snapshot.id}"}:
        page = client.get(url).get_data(as_text=True)
        main = page[page.index('<main id="main">'):]
        assert label(campaign) in main, url
        assert not any(words in main for words in OPEN_QR), url


def test_the_page_of_all_estimates_says_the_design(
        client: Any, login: Any, closed: tuple[Campaign, ResultSnapshot]) -> None:
    campaign, snapshot = closed
    info = snapshot.designs[f"campaign:{campaign.id}"]
    login("soyte")
    page = client.get(f"/staff/results/snapshots/{snapshot.id}").get_data(as_text=True)
    assert "Thiết kế mẫu của đợt khảo sát" in page
    assert designs.campaign_design_vi(info) in page
    assert "Mẫu một giai đoạn" in page and f"<dd>{info['strata']}</dd>" in page
    assert f"<dd>{info['respondents']}</dd>" in page and info["respondents"] == 20
    weights = f"/staff/campaigns/{campaign.id}/weights"
    assert f'href="{weights}"' in page
    assert client.get(weights).status_code == 200
    # The rows: the campaign's name as their basis, with the estimates.
    rows = page[page.index("<tbody>"):]
    assert rows.count(label(campaign)) >= 4 and "QR mở" not in rows


def test_the_weighting_link_only_for_those_who_may_read_it(
        app: Any, login: Any, closed: tuple[Campaign, ResultSnapshot]) -> None:
    campaign, snapshot = closed
    weights = f"/staff/campaigns/{campaign.id}/weights"
    shown = {}
    for username in ("soyte", "admin", "benhvien"):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": "mat-khau-123"}
                           ).status_code == 302
        page = client.get(f"/staff/results/snapshots/{snapshot.id}").get_data(as_text=True)
        assert "Thiết kế mẫu của đợt khảo sát" in page, username
        shown[username] = f'href="{weights}"' in page
        assert shown[username] == (client.get(weights).status_code == 200), username
    assert shown == {"soyte": True, "admin": True, "benhvien": False}


def test_a_two_stage_campaigns_design_in_words(client: Any, login: Any, db: Any,
                                                make_user: Any,
                                                province: dict[str, Any]) -> None:  # noqa: F811
    campaign, snapshot = _close_two_stage(db, province, make_user)
    info = snapshot.designs[f"campaign:{campaign.id}"]
    login("soyte")
    page = client.get(f"/staff/results/snapshots/{snapshot.id}").get_data(as_text=True)
    assert "Mẫu hai giai đoạn" in page and "psu2 = người" in page
    assert "hai: đơn vị → cụm → người" in page and f"{info['psus']} cụm" in page
    assert "số cụm của tầng (giai đoạn 1), số người của cụm (giai đoạn 2)" in page
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get(f"/staff/results/snapshots/{snapshot.id}").get_data(as_text=True)
    assert designs.CAMPAIGN_TWO_STAGE_DESCRIPTION in page.replace("&gt;", ">")
    assert f"Survey campaign: {campaign.name} (probability sample)" in page


def test_exports_name_the_campaign(client: Any, login: Any,
                                   closed: tuple[Campaign, ResultSnapshot]) -> None:
    campaign, snapshot = closed
    login("soyte")
    overview = client.get(f"/staff/results/?snapshot={snapshot.id}").get_data(as_text=True)
    downloads = [link for link in main_links(overview) if link.endswith(".csv")
                 or ".csv?" in link]
    sector = client.get(f"/staff/results/sectors/health?snapshot={snapshot.id}")
    downloads += [link for link in main_links(sector.get_data(as_text=True))
                  if ".csv?" in link]
    assert len(downloads) >= 5
    with client.session_transaction() as session:
        session["lang"] = "en"  # exports stay Vietnamese
    for link in downloads:
        rows = list(csv.DictReader(io.StringIO(client.get(link).data.decode("utf-8-sig"))))
        channels = {r["Kênh"] for r in rows}
        assert channels <= {label(campaign)}, (link, channels)
