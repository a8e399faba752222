"""The demo's survey campaigns, run through the campaign services as a department would:
a finished Sở Y tế inpatient campaign over the province's hospitals (frame imported,
sample drawn, paper forms entered, closed with weights raked to the patients' sex and a
frozen snapshot) and a Sở GD&ĐT primary-school parents' campaign in fieldwork (frame,
sample, some forms entered). Small frames: a few seconds in all. Deterministic (seeded
draws and answers); the periods end today."""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from sqlalchemy import select

from survey.campaigns.models import Campaign, FrameRow, SamplingFrame
from survey.campaigns.services import campaigns, closing, draw, entry, frames
from survey.campaigns.services.progress import local_today
from survey.common.access import Scope
from survey.demo.responses import random_answers
from survey.extensions import db
from survey.org.models import Unit, User
from survey.results.models import ResultSnapshot

HEALTH_FRAME = 30  # discharged inpatients per hospital in the frame
HEALTH_SAMPLE = 48  # 8 a hospital (equal allocation)
SCHOOL_FRAME = 40  # pupils' families per school
SCHOOL_SAMPLE = 24


@dataclass(frozen=True)
class DemoCampaigns:
    closed: Campaign
    fieldwork: Campaign
    snapshot: ResultSnapshot
    entered: int


def _frame(units: list[Unit], per_unit: int, prefix: str, id_column: str) -> io.BytesIO:
    lines = [f"{id_column},ma_don_vi"] + [f"{prefix}-{u.code}-{i:04d},{u.code}"
                                         for u in units for i in range(per_unit)]
    return io.BytesIO("\n".join(lines).encode())


def _campaign(admin: Scope, name: str, owner: Unit, questionnaire: str, kind: str,
              units: list[Unit], days: int, total: int) -> Campaign:
    today = local_today()
    return campaigns.create_campaign(admin, campaigns.CampaignInput(
        name=name, owner_unit_id=owner.id, questionnaire=questionnaire, unit_kind=kind,
        coverage="list", unit_ids=[u.id for u in units],
        period_start=today - dt.timedelta(days=days), period_end=today,
        channels=["token", "paper"], strata_by="unit", stages="unit_person",
        cluster_kind=None, size_mode="total", target_margin_percent=None, total_sample=total,
        allocation="equal"))


def _enter(admin: Scope, user_id: int, campaign: Campaign, share: float,
           rng: random.Random) -> int:
    """Paper forms of the given share of each unit's sampled persons."""
    defn = entry.definition(campaign)
    sexes = [item for item in defn.items if item.id == "gioi_tinh"]
    rows = list(db.session.scalars(select(FrameRow).where(
        FrameRow.frame_id.in_(select(SamplingFrame.id).where(
            SamplingFrame.campaign_id == campaign.id)),
        FrameRow.status == "selected").order_by(FrameRow.unit_id, FrameRow.row_number)))
    entered = 0
    for row in rows:
        if rng.random() >= share:
            continue
        answers = random_answers(defn, rng, 0.4 + 0.5 * rng.random())
        if sexes:  # every patient says their sex (male or female): raked to it
            answers["gioi_tinh"] = rng.choice(sorted(defn.scale(sexes[0].scale or "").values)[:2])
        entry.enter(admin, user_id, campaign, entry.EntryInput(
            channel="paper", slip=str(row.row_number), unit_id=None,
            answers=entry.form_values(defn, answers),
            client_submission_id=entry.new_submission_id()))
        entered += 1
    return entered


def seed_campaigns(*, seed: int = 2026) -> DemoCampaigns:
    rng = random.Random(seed)
    admin_user = db.session.scalar(select(User).where(User.username == "admin"))
    assert admin_user is not None
    admin = Scope.for_user(admin_user)
    health = db.session.scalar(select(Unit).where(Unit.code == "80.SYT"))
    education = db.session.scalar(select(Unit).where(Unit.code == "80.SGDDT"))
    assert health is not None and education is not None
    hospitals = [u for u in campaigns.unit_choices(admin, "health") if u.kind == "hospital"]
    hospitals.sort(key=lambda u: u.code or "")
    schools = sorted((u for u in campaigns.unit_choices(admin, "education")
                      if u.name.startswith("Trường Tiểu học")), key=lambda u: u.code or "")

    inpatient = _campaign(admin, "Khảo sát hài lòng người bệnh nội trú", health,
                          "health_inpatient:1", "hospital", hospitals, 30, HEALTH_SAMPLE)
    frames.import_frame(inpatient, _frame(hospitals, HEALTH_FRAME, "BA", "so_benh_an"),
                        "nguoi_benh_ra_vien.csv", frames.Mapping("so_benh_an", "ma_don_vi"))
    draw.draw_sample(inpatient, method="systematic", seed=seed)
    campaigns.advance_status(inpatient, "fieldwork")
    entered = _enter(admin, admin_user.id, inpatient, 0.8, rng)
    population = HEALTH_FRAME * len(hospitals)
    women = round(population * 0.54)
    snapshot = closing.close(inpatient, closing.CloseOptions(
        margins={"gioi_tinh": {"1": population - women, "2": women}}, trim=3.5), "admin")

    primary = _campaign(admin, "Khảo sát hài lòng cha mẹ học sinh tiểu học", education,
                        "edu_parents_primary:1", "school", schools, 10, SCHOOL_SAMPLE)
    frames.import_frame(primary, _frame(schools, SCHOOL_FRAME, "HS", "ma_hoc_sinh"),
                        "hoc_sinh_tieu_hoc.csv", frames.Mapping("ma_hoc_sinh", "ma_don_vi"))
    draw.draw_sample(primary, method="srs", seed=seed)
    campaigns.advance_status(primary, "fieldwork")
    entered += _enter(admin, admin_user.id, primary, 0.4, rng)
    return DemoCampaigns(inpatient, primary, snapshot, entered)
