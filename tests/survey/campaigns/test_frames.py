"""Sampling frames (CSV, XLSX): the validation report, all or nothing, hashed identifiers,
the size limit; the seeded draw, its reserve list and replacements."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
from typing import Any

import numpy as np
import openpyxl
import pytest
from sqlalchemy import func, select

import analysis
from survey.campaigns.services import campaigns, draw, frame_files, frames
from survey.common.access import Scope
from survey.models import Campaign, CampaignDraw, FrameRow, SamplingFrame, User
from tests.survey.campaigns.conftest import BASE

SIZES = {"99.BV1": 100, "99.BV2": 80, "99.BV3": 60}


def csv_bytes(rows: list[list[str]], header: str = "ma,ma_don_vi,khoa,ho_ten,so_giuong") -> bytes:
    lines = [header] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def good_rows(sizes: dict[str, int] = SIZES) -> list[list[str]]:
    out = []
    for code, n in sizes.items():
        for i in range(n):
            out.append([f"BA-{code}-{i:04d}", code, "Nội" if i % 2 else "Ngoại",
                        f"Nguyễn Văn {i}", str(10 + i % 7)])
    return out


@pytest.fixture
def campaign(db: Any, province: dict[str, Any]) -> Campaign:
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "soyte")))
    return campaigns.create_campaign(admin, campaigns.CampaignInput(
        name="Nội trú quý IV", owner_unit_id=province["health"].id,
        questionnaire="health_inpatient:1", unit_kind="hospital", coverage="all", unit_ids=[],
        period_start=dt.date(2026, 12, 1), period_end=dt.date(2026, 12, 31),
        channels=["token"], strata_by="unit", stages="unit_person", cluster_kind=None,
        size_mode="total", target_margin_percent=None, total_sample=30,
        allocation="proportional"))


def upload(client: Any, campaign: Campaign, data: bytes, name: str = "khung.csv",
           **columns: str) -> Any:
    form = {"id_column": "ma", "unit_column": "ma_don_vi", "stratum_column": "",
            "cluster_column": "", "size_column": "", **columns,
            "file": (io.BytesIO(data), name)}
    return client.post(f"{BASE}/{campaign.id}/frame", data=form,
                       content_type="multipart/form-data")


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_hashes_identifiers_and_stores_no_name(client: Any, db: Any, login: Any,
                                                      campaign: Campaign, app: Any) -> None:
    login("soyte")
    response = upload(client, campaign, csv_bytes(good_rows()))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    frame = db.session.scalar(select(SamplingFrame))
    assert frame.row_count == 240
    rows = db.session.scalars(select(FrameRow).order_by(FrameRow.row_number)).all()
    key = app.config["SECRET_KEY"].encode()
    expected = hmac.new(key, f"campaign-frame:{campaign.id}:BA-99.BV1-0000".encode(),
                        hashlib.sha256).hexdigest()
    assert rows[0].ident_hash == expected and rows[0].stratum is None
    stored = " ".join(f"{r.ident_hash} {r.stratum} {r.cluster}" for r in rows)
    assert "Nguyễn" not in stored and "BA-99" not in stored
    page = client.get(f"{BASE}/{campaign.id}/frame").get_data(as_text=True)
    assert "240" in page and frame.file_hash in page


def test_xlsx_with_strata_and_header_names_in_any_case(client: Any, db: Any, login: Any,
                                                     campaign: Campaign) -> None:
    login("soyte")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã", "Mã đơn vị", "Khoa"])
    for k, (code, n) in enumerate(SIZES.items()):
        for i in range(n):
            sheet.append([10_000 * k + i, code, "Nội" if i < n // 2 else "Ngoại"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, campaign, buffer.getvalue(), "khung.xlsx", id_column="mã",
                      unit_column="MÃ ĐƠN VỊ", stratum_column="Khoa")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    strata = set(db.session.scalars(select(FrameRow.stratum).distinct()))
    assert strata == {"Nội", "Ngoại"}


@pytest.mark.parametrize(("rows", "columns", "messages"), [
    (good_rows(), {"id_column": "ma_ho_so"}, ["Thiếu cột “ma_ho_so”", "ma, ma_don_vi"]),
    (good_rows() + [["BA-99.BV1-0003", "99.BV1", "Nội", "", "1"]], {},
     ["Trùng mã định danh với dòng 5"]),
    (good_rows() + [["X-1", "99.XX", "Nội", "", "1"]], {}, ["Mã đơn vị “99.XX”"]),
    (good_rows() + [["X-2", "", "Nội", "", "1"], ["", "99.BV1", "Nội", "", "1"]], {},
     ["Mã đơn vị trống", "Mã định danh trống"]),
    (good_rows() + [["X-3", "99.BV2", "", "", "1"]], {"stratum_column": "khoa"},
     ["Tầng trống"]),
    (good_rows({"99.BV1": 100, "99.BV2": 80}), {}, ["Bệnh viện 3 không có dòng nào"]),
    (good_rows() + [["X-4", "99.BV2", "Nội", "", "không"]], {"size_column": "so_giuong"},
     ["không phải là số dương"]),
])
def test_bad_frames_report_and_import_nothing(client: Any, db: Any, login: Any,
                                              campaign: Campaign, rows: list[list[str]],
                                              columns: dict[str, str],
                                              messages: list[str]) -> None:
    login("soyte")
    response = upload(client, campaign, csv_bytes(rows), **columns)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in messages:
        assert message in html
    assert count(db, SamplingFrame) == 0 and count(db, FrameRow) == 0


def test_a_stratum_smaller_than_its_allocation(client: Any, db: Any, login: Any,
                                               campaign: Campaign) -> None:
    login("soyte")
    campaign.size_mode, campaign.target_margin = "margin", 0.05
    for cu in campaign.units:  # the design expected 2,000 discharges per hospital
        cu.expected_population = 2000
    db.session.commit()
    planned = analysis.sample_size_proportion(0.05, population=2000, response_rate=0.8)
    response = upload(client, campaign, csv_bytes(good_rows()))
    assert response.status_code == 422
    assert f"có 100 dòng nhưng thiết kế phân bổ {planned} người" in response.get_data(as_text=True)
    assert count(db, FrameRow) == 0


class HugeStream(io.RawIOBase):
    """Says it holds 60 MB; reading it fails the test (the limit must come first)."""

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = 60 * 1024 * 1024 if whence == io.SEEK_END else offset
        return self.pos

    def tell(self) -> int:
        return getattr(self, "pos", 0)

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the file was read")


def test_a_file_over_50_mb_is_refused_unread(db: Any, campaign: Campaign) -> None:
    with pytest.raises(frame_files.FrameRefused) as refused:
        frames.import_frame(campaign, HugeStream(), "khung.csv", frames.Mapping("ma", "ma_don_vi"))
    assert "50 MB" in refused.value.problems[0].message
    assert count(db, SamplingFrame) == 0


def test_over_the_limit_through_the_page(client: Any, db: Any, login: Any, app: Any,
                                         campaign: Campaign) -> None:
    login("soyte")
    # (small sizes: the test client spools bodies over 500 KB to a file it never closes)
    app.config["CAMPAIGN_FRAME_MAX_BYTES"] = 100 * 1024
    big = csv_bytes(good_rows()) + b"x" * (200 * 1024)
    response = upload(client, campaign, big)
    assert response.status_code == 422
    assert "lớn hơn 100 KB" in response.get_data(as_text=True)
    assert count(db, FrameRow) == 0


def imported(db: Any, campaign: Campaign, sizes: bool = False) -> None:
    mapping = frames.Mapping("ma", "ma_don_vi", size_column="so_giuong" if sizes else None)
    frames.import_frame(campaign, io.BytesIO(csv_bytes(good_rows())), "khung.csv", mapping)


def selection(db: Any) -> dict[str, tuple[str, int | None, float | None]]:
    db.session.expire_all()
    return {r.ident_hash: (r.status, r.reserve_rank, r.selection_probability)
            for r in db.session.scalars(select(FrameRow).where(FrameRow.status != "frame"))}


def test_draw_is_seeded_stratified_and_recorded(db: Any, campaign: Campaign) -> None:
    imported(db, campaign)
    record = draw.draw_sample(campaign, method="srs", seed=20261201, reserve=2)
    first = selection(db)
    planned = analysis.allocate(30, {u.id: n for u, n in zip(
        [cu.unit for cu in campaign.units], SIZES.values(), strict=True)})
    by_unit = dict(db.session.execute(select(FrameRow.unit_id, func.count()).where(
        FrameRow.status == "selected").group_by(FrameRow.unit_id)).all())
    assert by_unit == planned
    for cu, big_n in zip(campaign.units, SIZES.values(), strict=True):
        probs = list(db.session.scalars(select(FrameRow.selection_probability).where(
            FrameRow.unit_id == cu.unit_id, FrameRow.status == "selected")))
        assert probs == [pytest.approx(planned[cu.unit_id] / big_n)] * planned[cu.unit_id]
    ranks = sorted(r for s, r, _p in first.values() if s == "reserve")
    assert ranks == [1, 1, 1, 2, 2, 2]
    assert record.seed == 20261201 and len(record.frame_hash) == 64
    assert (record.selected, record.reserves) == (30, 6)
    # the same seed on the same frame: the same sample, reserves in the same order
    draw.draw_sample(campaign, method="srs", seed=20261201, reserve=2)
    assert selection(db) == first
    assert count(db, CampaignDraw) == 1
    draw.draw_sample(campaign, method="srs", seed=7, reserve=2)
    assert selection(db) != first


def test_systematic_and_pps(db: Any, campaign: Campaign) -> None:
    imported(db, campaign, sizes=True)
    draw.draw_sample(campaign, method="systematic", seed=3)
    rows = db.session.scalars(select(FrameRow).where(FrameRow.status == "selected")
                              .order_by(FrameRow.row_number)).all()
    assert len(rows) == 30
    draw.draw_sample(campaign, method="pps", seed=3)
    db.session.expire_all()
    unit = campaign.units[0].unit_id
    all_rows = db.session.scalars(select(FrameRow).where(FrameRow.unit_id == unit)
                                  .order_by(FrameRow.row_number)).all()
    sizes = np.array([r.size for r in all_rows])
    picked = [r for r in all_rows if r.status == "selected"]
    n = len(picked)
    for r in picked:
        assert r.selection_probability == pytest.approx(n * r.size / sizes.sum())
    with pytest.raises(Exception, match="dự phòng|reserve"):
        draw.draw_sample(campaign, method="pps", seed=3, reserve=1)


def test_refusal_replaced_in_reserve_order_and_fieldwork(client: Any, db: Any, login: Any,
                                                         campaign: Campaign) -> None:
    imported(db, campaign)
    draw.draw_sample(campaign, method="srs", seed=11, reserve=2)
    unit = campaign.units[0].unit_id
    refused = db.session.scalar(select(FrameRow).where(
        FrameRow.unit_id == unit, FrameRow.status == "selected").limit(1))
    first_reserve = db.session.scalar(select(FrameRow).where(
        FrameRow.unit_id == unit, FrameRow.reserve_rank == 1))
    replacement = draw.replace_refusal(campaign, refused.id)
    assert replacement is not None and replacement.id == first_reserve.id
    assert replacement.status == "selected" and refused.status == "refused"
    login("soyte")
    client.post(f"{BASE}/{campaign.id}/status", data={"target": "fieldwork"})
    db.session.refresh(campaign)
    assert campaign.status == "fieldwork"
    again = upload(client, campaign, csv_bytes(good_rows()))
    assert again.status_code == 422 and count(db, SamplingFrame) == 1


def test_draw_page(client: Any, db: Any, login: Any, campaign: Campaign) -> None:
    login("soyte")
    assert upload(client, campaign, csv_bytes(good_rows())).status_code == 302
    response = client.post(f"{BASE}/{campaign.id}/draw",
                           data={"method": "srs", "seed": "42", "reserve": "1"})
    assert response.status_code == 302
    page = client.get(f"{BASE}/{campaign.id}/frame").get_data(as_text=True)
    assert "<code>42</code>" in page
    bad = client.post(f"{BASE}/{campaign.id}/draw",
                      data={"method": "pps", "seed": "42", "reserve": "0"})
    assert bad.status_code == 422 and "thước đo quy mô" in bad.get_data(as_text=True)


def test_after_import_the_sizes_rest_on_the_frame(db: Any, campaign: Campaign) -> None:
    from survey.campaigns.services import design

    campaign.size_mode, campaign.target_margin = "margin", 0.10
    for cu in campaign.units:  # the plan expected fewer persons than the frame holds
        cu.expected_population = 50
    db.session.commit()
    before = {u.unit_id: u.invitations for u in design.plan(campaign).units}
    assert set(before.values()) == {
        analysis.sample_size_proportion(0.10, population=50, response_rate=0.8)}
    imported(db, campaign)
    after = design.plan(campaign)
    assert after.from_frame
    for unit in after.units:
        assert unit.population in SIZES.values()
        assert unit.invitations == analysis.sample_size_proportion(
            0.10, population=unit.population, response_rate=0.8)
        assert unit.margin is not None and unit.margin <= 0.10
    draw.draw_sample(campaign, method="srs", seed=1)
    chosen = dict(db.session.execute(select(FrameRow.unit_id, func.count()).where(
        FrameRow.status == "selected").group_by(FrameRow.unit_id)).all())
    assert chosen == {u.unit_id: u.invitations for u in after.units}


def test_semicolons_and_a_file_not_in_utf8(client: Any, db: Any, login: Any,
                                           campaign: Campaign) -> None:
    login("soyte")
    text = csv_bytes(good_rows()).decode().replace(",", ";")
    assert upload(client, campaign, text.encode()).status_code == 302
    assert count(db, FrameRow) == 240
    legacy = upload(client, campaign, text.encode("utf-16"))
    assert legacy.status_code == 422  # the frame is kept until a good file replaces it
    assert "không ở mã UTF-8" in legacy.get_data(as_text=True)
    assert count(db, FrameRow) == 240
