"""The design page's "Start fieldwork" button, posted exactly as a browser posts its form
(every input of the form: the CSRF token and the one target the button asks for): it
starts the fieldwork once the sample is drawn, and before the draw it is refused with the
reason and changes nothing. The page's action forms (status, delete) and the sample page's
refusal buttons carry only the CSRF token besides their own fields."""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from survey.campaigns.services import campaigns, draw, frames
from survey.models import Campaign, FrameRow
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.entry_fixtures import scope_of


class FormInputs(HTMLParser):
    """The (name, value) pairs a browser sends for the form posting to ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.pairs = action, False, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif tag == "input" and self.inside and a.get("name"):
            self.pairs.append((a["name"] or "", a.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def press_start(client: Any, campaign: Campaign) -> tuple[Any, list[tuple[str, str]]]:
    page = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "Bắt đầu khảo sát</button>" in page
    parser = FormInputs(f"{BASE}/{campaign.id}/status")
    parser.feed(page)
    assert [value for name, value in parser.pairs if name == "target"] == ["fieldwork"]
    assert [name for name, _value in parser.pairs] == ["csrf_token", "target"]
    return client.post(f"{BASE}/{campaign.id}/status", data=MultiDict(parser.pairs),
                       follow_redirects=True), parser.pairs


def new_campaign(db: Any, province: dict[str, Any]) -> Campaign:
    today = dt.date.today()
    return campaigns.create_campaign(scope_of(db, "admin"), campaigns.CampaignInput(
        name="Nội trú 2026", owner_unit_id=province["health"].id,
        questionnaire="health_inpatient:1", unit_kind="hospital", coverage="all", unit_ids=[],
        period_start=today, period_end=today + dt.timedelta(days=9), channels=["token"],
        strata_by="unit", stages="unit_person", cluster_kind=None, size_mode="total",
        target_margin_percent=None, total_sample=6, allocation="equal"))


def test_start_fieldwork_as_the_page_posts_it(client: Any, db: Any, login: Any,
                                              province: dict[str, Any]) -> None:
    campaign = new_campaign(db, province)
    lines = ["ma,ma_don_vi"] + [f"BA{h.code}-{i},{h.code}" for h in province["hospitals"]
                                for i in range(5)]
    frames.import_frame(campaign, io.BytesIO("\n".join(lines).encode()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi"))
    draw.draw_sample(campaign, method="srs", seed=3)
    login("soyte")
    response, _pairs = press_start(client, campaign)
    assert response.status_code == 200
    assert "Đã chuyển trạng thái." in response.get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.status == "fieldwork"


def test_start_fieldwork_before_the_draw_is_refused(client: Any, db: Any, login: Any,
                                                   province: dict[str, Any]) -> None:
    campaign = new_campaign(db, province)
    login("soyte")
    response, _pairs = press_start(client, campaign)
    assert "Hãy chọn mẫu trước khi bắt đầu khảo sát." in response.get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.status == "draft"


def test_delete_and_refusal_forms_send_only_the_csrf_token(client: Any, db: Any, login: Any,
                                                          province: dict[str, Any]) -> None:
    campaign = new_campaign(db, province)
    login("soyte")
    page = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    parser = FormInputs(f"{BASE}/{campaign.id}/delete")
    parser.feed(page)
    assert [name for name, _value in parser.pairs] == ["csrf_token"]
    lines = ["ma,ma_don_vi"] + [f"BA{h.code}-{i},{h.code}" for h in province["hospitals"]
                                for i in range(5)]
    frames.import_frame(campaign, io.BytesIO("\n".join(lines).encode()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi"))
    draw.draw_sample(campaign, method="srs", seed=3)
    sample = client.get(f"{BASE}/{campaign.id}/sample").get_data(as_text=True)
    row = db.session.scalar(select(FrameRow).where(FrameRow.status == "selected").limit(1))
    parser = FormInputs(f"{BASE}/{campaign.id}/sample/{row.id}/refused?page=1")
    parser.feed(sample)
    assert [name for name, _value in parser.pairs] == ["csrf_token"]
    # the delete button, posted as the page gives it, deletes the draft
    campaign_id = campaign.id
    deleted = client.post(f"{BASE}/{campaign_id}/delete", data={"csrf_token": "x"})
    assert deleted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id) is None
