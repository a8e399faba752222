"""The demo's survey campaigns, run through the campaign services as a department would:
a finished Sở Y tế inpatient campaign over the province's hospitals, drawn in two stages
as inpatient surveys are (hospital → ward-day → patient: the frame lists each discharged
patient with their ward-day, the draw takes two ward-days a hospital then four patients
in each; the last hospital has only two ward-days, both taken with certainty), paper
forms entered, closed with weights raked to the patients' sex, the multistage design and
a frozen snapshot; and a Sở GD&ĐT primary-school parents' campaign in fieldwork (frame,
sample, some forms entered). Small frames: a few seconds in all. Deterministic (seeded
draws and answers); the periods end today."""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from sqlalchemy import func, select

from survey.campaigns.models import Campaign, FrameRow, SamplingFrame
from survey.campaigns.services import campaigns, closing, design, draw, entry, frames
from survey.campaigns.services.progress import local_today
from survey.common.access import Scope
from survey.demo.responses import random_answers
from survey.extensions import db
from survey.org.models import Unit, User
from survey.results.models import ResultSnapshot

HEALTH_SAMPLE = 48  # 8 a hospital (equal allocation): 2 ward-days × 4 patients
HEALTH_TAKE = 4  # patients drawn in each drawn ward-day
WARDS = ("Nội", "Ngoại", "Sản", "Nhi", "Hồi sức", "Truyền nhiễm")
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


def _ward_days(hospitals: list[Unit]) -> io.BytesIO:
    """Discharged inpatients with their ward-day (the cluster): six ward-days of 4 to 8
    patients in each hospital, two of 15 in the last one (taken with certainty)."""
    lines = ["so_benh_an,ma_don_vi,ngay_khoa"]
    for h, unit in enumerate(hospitals):
        last = h == len(hospitals) - 1
        sizes = [15, 15] if last else [4 + (7 * h + 3 * c) % 5 for c in range(len(WARDS))]
        for c, size in enumerate(sizes):
            ward_day = f"Khoa {WARDS[c]} ngày {2 + 3 * c}"
            lines += [f"BA-{unit.code}-{c}{i:03d},{unit.code},{ward_day}" for i in range(size)]
    return io.BytesIO("\n".join(lines).encode())


def _campaign(admin: Scope, name: str, owner: Unit, questionnaire: str, kind: str,
              units: list[Unit], days: int, total: int, cluster_kind: str | None = None
              ) -> Campaign:
    today = local_today()
    return campaigns.create_campaign(admin, campaigns.CampaignInput(
        name=name, owner_unit_id=owner.id, questionnaire=questionnaire, unit_kind=kind,
        coverage="list", unit_ids=[u.id for u in units],
        period_start=today - dt.timedelta(days=days), period_end=today,
        channels=["token", "paper"], strata_by="unit",
        stages="unit_cluster_person" if cluster_kind else "unit_person",
        cluster_kind=cluster_kind, size_mode="total", target_margin_percent=None,
        total_sample=total, allocation="equal"))


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
                          "health_inpatient:1", "hospital", hospitals, 30, HEALTH_SAMPLE,
                          cluster_kind="ward_day")
    # The design page prices the two stages: four patients a ward-day, ICC 0.05.
    design.set_assumptions(inpatient, p=0.5, deff=1.0, response_rate=0.8, units={},
                           take=HEALTH_TAKE, icc=0.05)
    frames.import_frame(inpatient, _ward_days(hospitals), "nguoi_benh_ra_vien.csv",
                        frames.Mapping("so_benh_an", "ma_don_vi", cluster_column="ngay_khoa"))
    draw.draw_sample(inpatient, method="srs", seed=seed, take=HEALTH_TAKE)
    campaigns.advance_status(inpatient, "fieldwork")
    entered = _enter(admin, admin_user.id, inpatient, 0.8, rng)
    population = int(db.session.scalar(select(func.count()).select_from(FrameRow).where(
        FrameRow.frame_id.in_(select(SamplingFrame.id).where(
            SamplingFrame.campaign_id == inpatient.id)))) or 0)
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
