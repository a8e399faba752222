"""A Sở Y tế inpatient campaign in fieldwork over three hospitals, taking paper and
interviewer entry: frame imported, sample drawn; clerks of health and of education."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from survey.campaigns.services import campaigns, draw, frames
from survey.common.access import Scope
from survey.models import Campaign, FrameRow, User
from tests.survey.campaigns.conftest import BASE

GOOD = {f"a{i}": "4" for i in range(1, 6)} | {"b1": "5", "gioi_tinh": "2", "bhyt": "1"}


def scope_of(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def user_id(db: Any, username: str) -> int:
    return int(db.session.scalar(select(User.id).where(User.username == username)))


@pytest.fixture
def fieldwork(db: Any, province: dict[str, Any], make_user: Any) -> Campaign:
    admin = scope_of(db, "admin")
    today = dt.date.today()
    campaign = campaigns.create_campaign(admin, campaigns.CampaignInput(
        name="Người bệnh nội trú 2026", owner_unit_id=province["health"].id,
        questionnaire="health_inpatient:1", unit_kind="hospital", coverage="all", unit_ids=[],
        period_start=today - dt.timedelta(days=4), period_end=today + dt.timedelta(days=5),
        channels=["paper", "field"], strata_by="unit", stages="unit_person", cluster_kind=None,
        size_mode="total", target_margin_percent=None, total_sample=24, allocation="equal"))
    lines = ["so_benh_an,ma_bv"] + [f"BA-{h.code}-{i},{h.code}" for h in province["hospitals"]
                                    for i in range(30)]
    frames.import_frame(campaign, io.BytesIO("\n".join(lines).encode()), "benhan.csv",
                        frames.Mapping("so_benh_an", "ma_bv"))
    draw.draw_sample(campaign, method="srs", seed=7, reserve=1)
    campaigns.advance_status(campaign, "fieldwork")
    make_user("nhaplieu", "clerk", province["province"], sector="health")
    make_user("nhaplieu2", "clerk", province["province"], sector="health")
    make_user("nhaplieu_gd", "clerk", province["province"], sector="education")
    return campaign


def selected_rows(db: Any, campaign: Campaign) -> list[FrameRow]:
    return list(db.session.scalars(select(FrameRow).where(FrameRow.status == "selected")
                                   .order_by(FrameRow.row_number)))


def form_url(campaign: Campaign) -> str:
    return f"{BASE}/{campaign.id}/entry"


def post_form(client: Any, campaign: Campaign, slip: str | int, answers: dict[str, str],
              *, channel: str = "paper", unit_id: int = 0) -> Any:
    """Open the form (a fresh submission id), then post it."""
    html = client.get(form_url(campaign)).get_data(as_text=True)
    sid = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="submission_id" name="submission_id" type="hidden" value="([^"]+)"',
                  html)
    assert sid is not None, html[:800]
    data = {"slip": str(slip), "channel": channel, "unit_id": str(unit_id),
            "submission_id": sid.group(1), **answers}
    return client.post(form_url(campaign), data=data)
