"""A whole Sở Y tế campaign in Debian's chromium, through the pages only: the manager
creates a campaign over the province's hospitals, fills the design's assumptions and reads
its expected margins, uploads a bad frame (the row report, nothing imported) then the
hospital's CSV with Vietnamese column names, draws the sample with a typed seed, issues the
invitations in one ZIP (A4 and 80 mm slips and the SMS CSV, the same links) and starts the
fieldwork; patients answer through the links of that CSV, a hospital clerk keys paper forms
with the keyboard; the manager follows the progress, closes the campaign (raking,
trimming), reads the weighting report and the campaign's results, whose index and
interval equal ``analysis`` computed here from the stored weights and answers. A Sở GD&ĐT
manager then finds none of it: not in the list, and every page above is a 404. A second,
shorter run does the same for a two-stage campaign (hospital → ward-day → patient)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import func, select

import analysis
from survey.campaigns.services.allocation import CONFIDENCE
from survey.campaigns.services.progress import local_today
from survey.models import (
    Answer,
    Campaign,
    CampaignWeight,
    FrameRow,
    ResultSnapshot,
    SamplingFrame,
)

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "accept_downloads": True}
PASSWORD = "mat-khau-123"  # the campaign fixtures' accounts
BASE = "/staff/campaigns"
PER_HOSPITAL = 16  # discharged patients per hospital in the frame
TOTAL_SAMPLE = 36  # 12 a hospital (equal allocation)
SEED = 20261201
ONLINE, PAPER = 4, 7  # per hospital: answers through the link, paper forms keyed
ITEMS = ["a1", "a2", "a3", "a4", "a5"]  # section A, the index "tiep_can"
TIEP_CAN = "Tỷ lệ hài lòng phần A. Khả năng tiếp cận"


def answers(i: int) -> dict[str, str]:
    """Respondent i: sex 1 and 2 in turn; section A mostly satisfied (4 or 5), one answer
    in seven 2 or 3."""
    out = {"gioi_tinh": str(1 + i % 2)}
    for k, item in enumerate(ITEMS):
        j = i + 3 * k
        out[item] = ("5" if j % 2 else "4") if j % 7 else ("3" if j % 3 else "2")
    return out


def sign_in(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(**DESKTOP).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r".*/staff/.*"))
    return page


def submit(page: Any, button: str) -> None:
    """Press a form's button and wait for the page it leads to (often the same URL)."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def download(page: Any, button: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return Path(info.value.path()).read_bytes()


def cells(row: Any) -> list[str]:
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def frame_csv(path: Path, hospitals: list[Any], *, duplicate: bool = False) -> Path:
    """The list a hospital clerk would export: Vietnamese headers, UTF-8 with a BOM
    (Excel's "CSV UTF-8"), more columns than the import needs."""
    wards = ["Nội tổng hợp", "Ngoại chấn thương", "Sản"]
    lines = ["Mã BN,Khoa,Ngày ra viện,Mã BV"]
    for h, hospital in enumerate(hospitals):
        for i in range(PER_HOSPITAL):
            ident = f"BN{h + 1}-{i:03d}"
            if duplicate and h == 1 and i == 5:
                ident = "BN2-002"  # typed twice by mistake
            lines.append(f"{ident},{wards[i % 3]},2026-11-{1 + i:02d},{hospital.code}")
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    return path


def answer_online(phone: Any, url: str, hospital: str, given: dict[str, str]) -> None:
    """A patient opens the link on a phone (no cookie of anybody before), ticks the
    answers given on each screen, goes through every screen and sends."""
    phone.context.clear_cookies()
    phone.goto(url)
    assert hospital in phone.locator("header").inner_text()
    wanted = ", ".join(f'#q-{item} input[value="{value}"]' for item, value in given.items())
    while True:
        for option in phone.locator(wanted).all():  # those on this screen
            option.check()
        button = phone.locator("form button[type=submit]")
        last = button.inner_text().strip() == "Gửi phiếu"
        with phone.expect_navigation():
            button.click()
        if last:
            break
    assert "Cảm ơn" in phone.locator("h1").inner_text()


def enter_paper_form(page: Any, slip: int, given: dict[str, str]) -> None:
    """The clerk keys one paper form with the keyboard: slip number, the unit from the
    slip, paper, then the questions in the form's order; Enter saves."""
    assert page.evaluate("document.activeElement.id") == "slip"
    page.keyboard.type(str(slip))
    page.keyboard.press("Tab")  # unit: from the slip
    page.keyboard.press("Tab")  # channel: paper (the campaign's only entry channel)
    # nguoi_tra_loi, gioi_tinh, nhom_tuoi, so_ngay_nam_vien, bhyt, noi_song, muc_song,
    # lan_thu, a1 … a5
    for value in ("1", given["gioi_tinh"], "", "", "", "", "", "",
                  *(given[i] for i in ITEMS)):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    assert page.evaluate("document.activeElement.id") == "a5"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Đã lưu phiếu." in page.locator(".flash-success").inner_text()


def pct(x: float) -> str:
    return f"{x * 100:.1f}"


def expected_index(db: Any, campaign_id: int, by: str) -> pd.DataFrame:
    """Section A's index from the stored weights and design and the stored answers,
    through analysis (the estimator and interval the engine uses: logit)."""
    weights = list(db.session.scalars(select(CampaignWeight).where(
        CampaignWeight.campaign_id == campaign_id)))
    unit_of = dict(db.session.execute(select(FrameRow.id, FrameRow.unit_id)).all())
    values: dict[int, dict[str, float]] = {}
    for response_id, item, value in db.session.execute(select(
            Answer.response_id, Answer.item_id, Answer.value_num).where(
            Answer.response_id.in_([w.response_id for w in weights]),
            Answer.item_id.in_(ITEMS))):
        values.setdefault(response_id, {})[item] = float(value)
    df = pd.DataFrame([{"unit": str(unit_of[w.frame_row_id]), "sector": "health",
                        "stratum": w.stratum, "psu": w.psu, "fpc": w.fpc, "psu2": w.psu2,
                        "fpc2": w.fpc2, "w": w.final, **values[w.response_id]}
                       for w in weights])
    if df["psu2"].notna().all():  # two stages: the cluster, then the person
        design = analysis.SurveyDesign(df, strata="stratum", psu=["psu", "psu2"], weights="w",
                                       fpc=["fpc", "fpc2"], lonely_psu="adjust")
    else:
        design = analysis.SurveyDesign(df, strata="stratum", psu="psu", weights="w",
                                       fpc="fpc", lonely_psu="adjust")
    est = design.satisfaction_index(ITEMS, threshold=4, by=by)
    return est.summary_frame(method="logit").set_index(by)


def test_a_health_campaign_from_design_to_results(
        app: Flask, db: Any, province: dict[str, Any], make_user: Any, live_server: str,
        browser: Any, tmp_path: Path) -> None:
    base = live_server
    app.config["PUBLIC_BASE_URL"] = live_server  # what the invitations link to
    hospitals = province["hospitals"]
    names = [h.name for h in hospitals]
    for i, hospital in enumerate(hospitals, start=1):  # each hospital's clerk
        make_user(f"nhaplieu.bv{i}", "clerk", hospital)
    db.session.commit()
    today = local_today()
    start, end = today - dt.timedelta(days=3), today + dt.timedelta(days=11)

    # 1. Sở Y tế creates the campaign over the hospitals and plans it.
    page = sign_in(browser, base, "soyte")
    page.locator(f'nav a[href="{BASE}/"]').click()
    page.get_by_role("link", name="Đợt khảo sát mới").click()
    page.get_by_label("Tên đợt khảo sát").fill("Hài lòng người bệnh nội trú 12/2026")
    page.get_by_label("Sở chủ trì").select_option(label="Sở Y tế")
    page.get_by_label("Phiên bản bộ câu hỏi").select_option(label="health_inpatient v1")
    page.get_by_label("Ngày bắt đầu khảo sát").fill(start.isoformat())
    page.get_by_label("Ngày kết thúc khảo sát").fill(end.isoformat())
    page.get_by_label("Đơn vị được khảo sát").select_option(label="Bệnh viện")
    page.get_by_label("Phiếu giấy").check()
    page.get_by_label("tổng cỡ mẫu phân bổ cho các đơn vị").check()
    page.get_by_label("Tổng cỡ mẫu", exact=True).fill(str(TOTAL_SAMPLE))
    page.get_by_label("Cách phân bổ").select_option(label="Bằng nhau")
    submit(page, "Lưu")
    assert re.search(rf"{BASE}/\d+$", page.url)
    assert "Đã tạo đợt khảo sát." in page.locator(".flash-success").inner_text()
    campaign_id = int(page.url.rsplit("/", 1)[1])
    campaign_url = f"{base}{BASE}/{campaign_id}"

    page.get_by_label("Tỷ lệ hài lòng giả định (%)").fill("80")
    page.get_by_label("Hệ số thiết kế", exact=True).fill("1.2")
    page.get_by_label("Tỷ lệ trả lời dự kiến (%)").fill("90")
    populations = page.get_by_label("Quy mô dự kiến")
    assert populations.count() == 3
    for i in range(3):
        populations.nth(i).fill(str(PER_HOSPITAL))
    submit(page, "Lưu và tính lại")
    assert "Đã lưu thiết kế." in page.locator(".flash-success").inner_text()
    moe = analysis.margin_of_error(12, p=0.8, confidence=CONFIDENCE, deff=1.2,
                                   population=PER_HOSPITAL, response_rate=0.9)
    overall = analysis.stratified_margin_of_error(
        {n: 12 for n in names}, {n: PER_HOSPITAL for n in names}, p=0.8,
        confidence=CONFIDENCE, deff=1.2, response_rate=0.9)
    for name in names:
        row = cells(page.locator("form table tbody tr").filter(has_text=name))
        # unit, stratum, expected population, population, invitations, interviews, margin
        assert row[4] == "12" and row[5] == f"{12 * 0.9:.0f}" and row[6] == f"±{pct(moe)}"
    facts = page.locator("dl.facts").nth(1).inner_text()
    assert f"±{pct(overall)}" in facts and "36" in facts

    # 2. The frame: a bad file first (refused, nothing imported), then the good one.
    page.get_by_role("link", name="Khung mẫu và mẫu").click()
    page.wait_for_url(f"{campaign_url}/frame")
    bad = frame_csv(tmp_path / "nguoi_benh_ra_vien_loi.csv", hospitals, duplicate=True)
    page.get_by_label("Khung mẫu (CSV hoặc XLSX)").set_input_files(str(bad))
    page.get_by_label("Cột mã định danh").fill("Mã BN")
    page.get_by_label("Cột mã đơn vị").fill("Mã BV")
    submit(page, "Kiểm tra và nhập")
    report = page.locator(".error-summary").filter(has_text="Báo cáo kiểm tra")
    assert "Báo cáo kiểm tra: 1 lỗi" in report.inner_text()
    # The duplicate is line 23 of the file (header, 16 rows of the first hospital, the
    # sixth of the second); its twin, BN2-002, is line 20.
    assert cells(report.locator("tbody tr")) == ["23", "Trùng mã định danh với dòng 20."]
    assert db.session.scalar(select(func.count()).select_from(SamplingFrame)) == 0
    assert db.session.scalar(select(func.count()).select_from(FrameRow)) == 0
    db.session.rollback()
    good = frame_csv(tmp_path / "nguoi_benh_ra_vien.csv", hospitals)
    page.get_by_label("Khung mẫu (CSV hoặc XLSX)").set_input_files(str(good))
    assert page.get_by_label("Cột mã định danh").input_value() == "Mã BN"  # kept
    submit(page, "Kiểm tra và nhập")
    assert page.url == f"{campaign_url}/frame"
    assert "Đã nhập khung mẫu: 48 dòng." in page.locator(".flash-success").inner_text()
    assert "nguoi_benh_ra_vien.csv · 48 dòng" in page.locator("dl.facts").inner_text()

    # 3. The draw, with the seed typed in.
    page.get_by_label("Phương pháp chọn mẫu").select_option(label="Chọn ngẫu nhiên đơn giản "
                                                             "trong từng tầng")
    page.get_by_label("Hạt giống ngẫu nhiên (để trống để máy tự chọn)").fill(str(SEED))
    page.locator("#reserve").fill("2")  # reserve persons per stratum
    submit(page, "Chọn mẫu")
    assert page.url == f"{campaign_url}/frame"
    assert (f"Đã chọn mẫu: 36 người và 6 người dự phòng (hạt giống {SEED})."
            in page.locator(".flash-success").inner_text())
    for name in names:  # unit, stratum, rows, selected, reserve, refused
        row = cells(page.locator("table tbody tr").filter(has_text=name))
        assert row[2:] == ["16", "12", "2", "0"], row
    page.get_by_role("link", name="Mẫu đã chọn và người từ chối").click()
    page.wait_for_url(f"{campaign_url}/sample")
    statuses = page.locator("table tbody tr td:nth-child(4)").all_inner_texts()
    assert statuses.count("Được chọn") == 36 and statuses.count("Dự phòng") == 6
    page.go_back()

    # 4. Invitations: one ZIP, the only copy of the links, with every format.
    main = page.locator("main").inner_text()
    assert "Người được chọn chưa có thư mời: 36" in main
    assert "Lần tải về này là bản duy nhất của các đường dẫn" in main
    with zipfile.ZipFile(io.BytesIO(download(page, "Phát hành thư mời và tải tệp ZIP"))) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    assert sorted(files) == ["DOC-TOI.txt", "thu-moi-80mm.pdf", "thu-moi-A4.pdf",
                             "thu-moi-sms-zalo.csv"]
    assert "KHÔNG THỂ TẢI LẠI" in files["DOC-TOI.txt"].decode("utf-8-sig")
    slips = files["thu-moi-A4.pdf"]
    assert slips.startswith(b"%PDF-")
    pdf = tmp_path / "thu_moi.pdf"
    pdf.write_bytes(slips)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+5$", info.stdout, re.M)  # 36 slips, 8 a sheet
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    printed_rows = sorted(re.findall(r"Dòng (\d+)", text))
    assert len(printed_rows) == 36
    for name in names:
        assert text.count(name) == 12
    receipt = tmp_path / "thu_moi_80mm.pdf"
    receipt.write_bytes(files["thu-moi-80mm.pdf"])
    info = subprocess.run(["pdfinfo", str(receipt)], capture_output=True, text=True,
                          check=True)
    assert re.search(r"^Pages:\s+36$", info.stdout, re.M)  # one slip a receipt
    page.reload()
    assert "Người được chọn chưa có thư mời: 0" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Phát hành thư mời và tải tệp ZIP").count() == 0
    page.goto(campaign_url)
    submit(page, "Bắt đầu khảo sát")
    assert "Đã chuyển trạng thái." in page.locator(".flash-success").inner_text()
    # the reminders would give fresh links (and end these): only counted here
    assert page.get_by_role("link", name="Nhắc trả lời (36 người)").count() == 1
    sms = files["thu-moi-sms-zalo.csv"]
    assert sms.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the UTF-8 right
    lines = list(csv.DictReader(io.StringIO(sms.decode("utf-8-sig"))))
    assert len(lines) == 36
    assert sorted(line["dong_trong_khung"] for line in lines) == printed_rows  # same persons
    assert {line["don_vi"] for line in lines} == set(names)
    assert all(line["duong_dan"].startswith(f"{live_server}/t/") for line in lines)
    by_hospital: dict[str, list[dict[str, str]]] = {}
    for line in lines:
        by_hospital.setdefault(line["ma_don_vi"], []).append(line)
    assert sorted(len(v) for v in by_hospital.values()) == [12, 12, 12]

    # 5. In each hospital, 4 patients answer through their links on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True).new_page()
    respondent = 0
    for hospital in hospitals:
        for line in by_hospital[hospital.code][:ONLINE]:
            answer_online(phone, line["duong_dan"], hospital.name, answers(respondent))
            respondent += 1
    phone.context.close()

    # 6. Each hospital's clerk keys 7 paper forms (by the row printed on the slip); the
    # last person of each hospital never answers.
    for i, hospital in enumerate(hospitals, start=1):
        clerk = sign_in(browser, base, f"nhaplieu.bv{i}")
        clerk.wait_for_url(f"{base}{BASE}/entry/")
        clerk.get_by_role("link", name="Nhập phiếu").click()
        clerk.wait_for_url(f"{base}{BASE}/{campaign_id}/entry")
        for line in by_hospital[hospital.code][ONLINE:ONLINE + PAPER]:
            enter_paper_form(clerk, int(line["dong_trong_khung"]), answers(respondent))
            respondent += 1
        clerk.context.close()
    achieved = {name: ONLINE + PAPER for name in names}

    # 7. The manager follows the progress.
    page.goto(campaign_url)
    page.get_by_role("link", name="Tiến độ thực địa").click()
    page.wait_for_url(f"{campaign_url}/progress")
    assert "33 phiếu trên" in page.locator("main").inner_text()
    units = page.locator("h2:has-text('Theo đơn vị') + table tbody tr")
    for name, n in achieved.items():
        # name, population, target, achieved, selected, response rate, …
        row = cells(units.filter(has_text=name))
        assert row[1] == "16" and row[3] == str(n) and row[4] == "12", row
        assert row[5] == f"{n / 12 * 100:.1f} %"
    clerks = page.locator("h2:has-text('Số phiếu theo người nhập') + table tbody tr")
    for i in (1, 2, 3):
        assert cells(clerks.filter(has_text=f"nhaplieu.bv{i}"))[1] == str(PAPER)

    # 8. Close: raked to the patients' sex, trimmed at 3.5 × the mean weight.
    page.goto(campaign_url)
    page.get_by_role("link", name="Kết thúc đợt khảo sát").click()
    page.wait_for_url(f"{campaign_url}/close")
    assert "33" in page.locator("main").inner_text()
    page.get_by_label("Tổng biên dân số để hiệu chỉnh (không bắt buộc)").fill(
        "gioi_tinh: 1=22, 2=26")
    page.get_by_label("Cắt trọng số vượt quá bội số này của trọng số trung bình "
                      "(không bắt buộc)").fill("3.5")
    page.get_by_label("Tôi hiểu rằng đợt khảo sát đã kết thúc sẽ không nhận thêm phiếu "
                      "trả lời").check()
    submit(page, "Kết thúc đợt khảo sát và tính kết quả")
    assert page.url == f"{campaign_url}/weights"
    assert "kết quả đã được chốt" in page.locator(".flash-success").inner_text()
    report_text = page.locator("dl.facts").inner_text()
    assert "33 / 36" in report_text and "gioi_tinh (1=22, 2=26)" in report_text
    assert "48.0" in report_text  # the final weights add up to the frame

    # 9. The campaign's results, against analysis.
    snapshot_id = db.session.scalar(select(Campaign.snapshot_id).where(
        Campaign.id == campaign_id))
    assert snapshot_id is not None
    assert db.session.get(ResultSnapshot, snapshot_id).status == "done"
    db.session.rollback()
    page.get_by_role("link", name="Kết quả kèm khoảng tin cậy").click()
    page.wait_for_url(f"{base}/staff/results/?snapshot={snapshot_id}")
    assert "Mẫu xác suất của một đợt khảo sát" in page.locator("main").inner_text()
    sector = expected_index(db, campaign_id, "sector").loc["health"]
    per_unit = expected_index(db, campaign_id, "unit")
    db.session.rollback()
    results_urls = [f"/staff/results/?snapshot={snapshot_id}",
                    f"/staff/results/sectors/health?snapshot={snapshot_id}",
                    f"/staff/results/snapshots/{snapshot_id}"] + [
        f"/staff/results/units/{h.id}?snapshot={snapshot_id}" for h in hospitals]
    # The sector's page of this snapshot, through the overview's link to it (the links
    # between results pages carry the snapshot being viewed).
    page.locator("nav.actions a", has_text="Y tế").first.click()
    page.wait_for_url(f"{base}{results_urls[1]}")
    row = cells(page.locator("table tbody tr").filter(has_text=TIEP_CAN).first)
    # index, estimate, 95% CI, n, …
    assert row[1] == pct(sector["estimate"])
    assert row[2] == f"{pct(sector['ci_low'])}–{pct(sector['ci_high'])}"
    assert row[3] == "33"
    # Each hospital: too few patients to publish (n < 30) on its page; every estimate
    # with its interval on the snapshot's page of all estimates.
    page.goto(f"{base}{results_urls[3]}")
    assert hospitals[0].name in page.locator("h1").inner_text()
    row = cells(page.locator("table tbody tr").filter(has_text=TIEP_CAN).first)
    assert row[1] == "—" and row[3] == "11"
    page.goto(f"{base}{results_urls[2]}")
    estimates = page.locator("table tbody tr")
    for h in hospitals:
        line = per_unit.loc[str(h.id)]
        row = cells(estimates.filter(has_text=h.name).filter(
            has=page.locator("td:nth-child(4)", has_text=re.compile(r"^tiep_can$"))))
        assert row[4] == f"{line['estimate']:.3f}"
        assert row[5] == f"{line['ci_low']:.3f} – {line['ci_high']:.3f}"
        assert row[6] == "11"
    page.context.close()

    # 10. Sở GD&ĐT sees none of it.
    other = sign_in(browser, base, "sogddt")
    other.goto(f"{base}{BASE}/")
    assert other.locator("h1").inner_text() == "Đợt khảo sát"
    assert "Hài lòng người bệnh nội trú" not in other.locator("main").inner_text()
    pages = ["", "/edit", "/frame", "/sample", "/progress", "/reminders", "/close",
             "/weights", "/discrepancies"]
    for suffix in pages:
        response = other.goto(f"{campaign_url}{suffix}")
        assert response is not None and response.status == 404, suffix
    # Data entry is the clerks': refused before any campaign is looked up.
    response = other.goto(f"{campaign_url}/entry")
    assert response is not None and response.status == 403
    for suffix in ["/draw", "/invitations", "/reminders", "/close", "/status"]:
        posted = other.request.post(f"{campaign_url}{suffix}", form={"target": "closed"})
        assert posted.status == 404, suffix
    for url in [results_urls[1], *results_urls[3:]]:  # the sector's and the hospitals'
        response = other.goto(f"{base}{url}")
        assert response is not None and response.status == 404, url
    # The overview and the page of all estimates open any snapshot without a unit of its
    # own, a campaign's too (its period and count of responses show; reported): at least
    # no figure and no hospital of it, and no microdata.
    for url in (results_urls[0], results_urls[2]):
        response = other.goto(f"{base}{url}")
        assert response is not None and response.status in (200, 404), url
        main = other.locator("main").inner_text()
        assert TIEP_CAN not in main and not any(name in main for name in names), url
        assert response.status == 404 or "Không có ước lượng nào trong phạm vi của bạn." in main
    bundle = other.request.get(f"{base}/staff/results/snapshots/{snapshot_id}/bundle.zip")
    assert bundle.status in (403, 404)
    other.context.close()


def test_a_two_stage_campaign_over_ward_days(
        app: Flask, db: Any, province: dict[str, Any], make_user: Any, live_server: str,
        browser: Any, tmp_path: Path) -> None:
    """The same through the pages for a unit → ward-day → person campaign: the design's
    clusters and margins from the take and ICC, a frame with its "Ngày-khoa" column, two
    ward-days of 3 patients drawn in each hospital, invitations from the ZIP's SMS CSV, answers
    by link and on paper, and the results of the two-stage design equal to analysis."""
    base = live_server
    app.config["PUBLIC_BASE_URL"] = live_server
    hospitals = province["hospitals"]
    names = [h.name for h in hospitals]
    make_user("nhaplieu.yte", "clerk", province["province"], sector="health")
    db.session.commit()
    today = local_today()
    page = sign_in(browser, base, "soyte")
    page.goto(f"{base}{BASE}/new")
    page.get_by_label("Tên đợt khảo sát").fill("Nội trú theo khoa-ngày 12/2026")
    page.get_by_label("Sở chủ trì").select_option(label="Sở Y tế")
    page.get_by_label("Phiên bản bộ câu hỏi").select_option(label="health_inpatient v1")
    page.get_by_label("Ngày bắt đầu khảo sát").fill((today - dt.timedelta(days=2)).isoformat())
    page.get_by_label("Ngày kết thúc khảo sát").fill((today + dt.timedelta(days=12)).isoformat())
    page.get_by_label("Đơn vị được khảo sát").select_option(label="Bệnh viện")
    page.get_by_label("Phiếu giấy").check()
    page.get_by_label("Các giai đoạn chọn mẫu").select_option(label="Đơn vị → cụm → người")
    page.get_by_label("Cụm", exact=True).select_option(label="Khoa-ngày")
    page.get_by_label("tổng cỡ mẫu phân bổ cho các đơn vị").check()
    page.get_by_label("Tổng cỡ mẫu", exact=True).fill("18")
    page.get_by_label("Cách phân bổ").select_option(label="Bằng nhau")
    submit(page, "Lưu")
    campaign_id = int(page.url.rsplit("/", 1)[1])
    campaign_url = f"{base}{BASE}/{campaign_id}"

    # The design: 20 patients a hospital in ward-days of about 5, 3 taken in each.
    page.get_by_label("Tỷ lệ hài lòng giả định (%)").fill("80")
    page.get_by_label("Hệ số thiết kế", exact=True).fill("1")
    page.get_by_label("Tỷ lệ trả lời dự kiến (%)").fill("90")
    page.get_by_label("Số người lấy trong mỗi cụm", exact=True).fill("3")
    page.get_by_label("Hệ số tương quan trong cụm (ICC)").fill("0.05")
    page.get_by_label("Số người trung bình mỗi cụm (cho đến khi nhập khung mẫu)").fill("5")
    populations = page.get_by_label("Quy mô dự kiến")
    for i in range(3):
        populations.nth(i).fill("20")
    submit(page, "Lưu và tính lại")
    assert "Đã lưu thiết kế." in page.locator(".flash-success").inner_text()

    def margin(cells: int) -> float:  # 2 ward-days of 4 drawn in each hospital, 3 taken
        keys = range(cells)
        return analysis.stratified_two_stage_margin_of_error(
            {k: 2 for k in keys}, {k: 20 for k in keys}, {k: 3.0 for k in keys},
            population_clusters={k: 4 for k in keys}, cluster_size={k: 5.0 for k in keys},
            p=0.8, icc=0.05, confidence=CONFIDENCE, deff=1.0, response_rate=0.9)

    for name in names:
        row = cells(page.locator("form table tbody tr").filter(has_text=name))
        # unit, stratum, expected population, population, invitations, interviews,
        # clusters drawn / in the unit, design effect of clustering, margin
        assert row[4] == "6" and row[6] == "2 / 4" and row[8] == f"±{pct(margin(1))}", row
    facts = page.locator("dl.facts").nth(1).inner_text()
    assert f"±{pct(margin(3))}" in facts

    # The frame with its ward-day column, then the draw (the take comes proposed).
    page.get_by_role("link", name="Khung mẫu và mẫu").click()
    lines = ["Mã BN,Ngày-khoa,Mã BV"] + [
        f"BN{h}-{i:03d},{1 + i // 5:02d}/11 {['Nội', 'Ngoại', 'Sản', 'Nhi'][i // 5]},"
        f"{hospital.code}" for h, hospital in enumerate(hospitals, start=1) for i in range(20)]
    frame = tmp_path / "khoa_ngay.csv"
    frame.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    page.get_by_label("Khung mẫu (CSV hoặc XLSX)").set_input_files(str(frame))
    page.get_by_label("Cột mã định danh").fill("Mã BN")
    page.get_by_label("Cột mã đơn vị").fill("Mã BV")
    page.get_by_label("Cột cụm (không bắt buộc)").fill("Ngày-khoa")
    submit(page, "Kiểm tra và nhập")
    assert "Đã nhập khung mẫu: 60 dòng." in page.locator(".flash-success").inner_text()
    take = page.get_by_label("Số người lấy trong mỗi cụm được chọn (thiết kế hai giai đoạn)")
    assert take.input_value() == "3"
    page.get_by_label("Hạt giống ngẫu nhiên (để trống để máy tự chọn)").fill(str(SEED))
    submit(page, "Chọn mẫu")
    assert "Đã chọn mẫu: 18 người" in page.locator(".flash-success").inner_text()
    for name in names:  # unit, stratum, rows, selected, …
        assert cells(page.locator("table tbody tr").filter(has_text=name))[2:4] == ["20", "6"]

    # Invitations from the ZIP's SMS CSV; fieldwork; 1 answer by link and 4 paper forms a hospital.
    with zipfile.ZipFile(io.BytesIO(download(page, "Phát hành thư mời và tải tệp ZIP"))) as zf:
        sms = zf.read("thu-moi-sms-zalo.csv")
    invited = list(csv.DictReader(io.StringIO(sms.decode("utf-8-sig"))))
    assert sms.startswith(b"\xef\xbb\xbf") and len(invited) == 18
    page.goto(campaign_url)
    submit(page, "Bắt đầu khảo sát")
    by_hospital: dict[str, list[dict[str, str]]] = {}
    for line in invited:
        by_hospital.setdefault(line["ma_don_vi"], []).append(line)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True).new_page()
    for i, hospital in enumerate(hospitals):
        line = by_hospital[hospital.code][0]
        answer_online(phone, line["duong_dan"], hospital.name, answers(5 * i))
    phone.context.close()
    clerk = sign_in(browser, base, "nhaplieu.yte")
    clerk.get_by_role("link", name="Nhập phiếu").click()
    clerk.wait_for_url(f"{base}{BASE}/{campaign_id}/entry")
    for i, hospital in enumerate(hospitals):
        for j, line in enumerate(by_hospital[hospital.code][1:5], start=1):
            enter_paper_form(clerk, int(line["dong_trong_khung"]), answers(5 * i + j))
    clerk.context.close()
    page.goto(f"{campaign_url}/progress")
    units = page.locator("h2:has-text('Theo đơn vị') + table tbody tr")
    for name in names:
        assert cells(units.filter(has_text=name))[3:5] == ["5", "6"]

    # Close (no margins, no trimming) and the results of the two-stage design.
    page.goto(campaign_url)
    page.get_by_role("link", name="Kết thúc đợt khảo sát").click()
    page.get_by_label("Tôi hiểu rằng đợt khảo sát đã kết thúc sẽ không nhận thêm phiếu "
                      "trả lời").check()
    submit(page, "Kết thúc đợt khảo sát và tính kết quả")
    assert page.url == f"{campaign_url}/weights"
    assert "15 / 18" in page.locator("dl.facts").inner_text()
    snapshot_id = db.session.scalar(select(Campaign.snapshot_id).where(
        Campaign.id == campaign_id))
    weights = list(db.session.scalars(select(CampaignWeight)))
    assert len(weights) == 15 and all(w.psu2 and w.fpc == 4 and w.fpc2 == 5 for w in weights)
    per_unit = expected_index(db, campaign_id, "unit")
    sector = expected_index(db, campaign_id, "sector").loc["health"]
    db.session.rollback()
    page.goto(f"{base}/staff/results/snapshots/{snapshot_id}")
    estimates = page.locator("table tbody tr").filter(
        has=page.locator("td:nth-child(4)", has_text=re.compile(r"^tiep_can$")))
    for label, line, n in [*((h.name, per_unit.loc[str(h.id)], "5") for h in hospitals),
                           ("health", sector, "15")]:
        row = cells(estimates.filter(has=page.locator("td:first-child",
                                                      has_text=re.compile(f"^{label}$"))))
        assert row[4] == f"{line['estimate']:.3f}", (label, row)
        assert row[5] == f"{line['ci_low']:.3f} – {line['ci_high']:.3f}", (label, row)
        assert row[6] == n
    page.context.close()
    other = sign_in(browser, base, "sogddt")
    for suffix in ("", "/frame", "/sample", "/progress", "/weights"):
        response = other.goto(f"{campaign_url}{suffix}")
        assert response is not None and response.status == 404, suffix
    other.context.close()
