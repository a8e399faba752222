"""Staff token pages: 1-in-k setting, CSV upload with slips, API keys; bad input, scope."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.collection.services import token_csv, tokens
from survey.models import ApiKey, AuditLog, DossierToken, TokenSampler, Unit
from survey.org.services import units

HEADER = "dossier_code,procedure_field,channel,completed_at\n"


def count(db: Any, model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def csv_file(rows: list[str], header: str = HEADER, bom: bool = False) -> bytes:
    text = header + "".join(r + "\n" for r in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def rows(n: int, start: int = 0) -> list[str]:
    return [f"000.00.12.H56-{i:04d},Hộ tịch,direct,20/11/2026 14:30" for i in range(start, n)]


@pytest.fixture
def setup(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    commune = make_unit("Xã Hòa Bình", parent=province, kind="commune")
    other = make_unit("Xã Khác", parent=province, kind="commune")
    desk = units.create_point(commune, "Bộ phận Một cửa")
    make_user("xa", "unit_manager", commune)
    make_user("khac", "unit_manager", other)
    login("xa")
    return {"unit": commune.id, "other": other.id, "desk": desk.id}


def upload(client: Any, unit_id: int, data: bytes, layout: str = "a4_grid",
           **kwargs: Any) -> Any:
    return client.post(f"/staff/collect/units/{unit_id}/upload",
                       data={"file": (io.BytesIO(data), "hoso.csv"), "layout": layout},
                       content_type="multipart/form-data", **kwargs)


def test_tokens_page_and_sampler(client: Any, db: Any, setup: dict[str, Any]) -> None:
    page = client.get(f"/staff/collect/units/{setup['unit']}/tokens")
    assert page.status_code == 200 and "mọi hồ sơ" in page.get_data(as_text=True)
    response = client.post(f"/staff/collect/units/{setup['unit']}/sampler", data={"k": "4"},
                           follow_redirects=True)
    assert "cứ 4 hồ sơ thì 1 hồ sơ" in response.get_data(as_text=True)
    sampler = db.session.scalar(select(TokenSampler))
    assert sampler.k == 4 and 0 <= sampler.start < 4 and sampler.counter == 0
    assert count(db, AuditLog, AuditLog.entity == "token_sampler") == 1
    for bad, message in (("0", "từ 1 đến 1000"), ("1001", "từ 1 đến 1000"),
                         ("abc", "số nguyên"), ("", "Mục này bắt buộc.")):
        response = client.post(f"/staff/collect/units/{setup['unit']}/sampler", data={"k": bad})
        assert response.status_code == 200 and message in response.get_data(as_text=True), bad
    assert db.session.scalar(select(TokenSampler.k)) == 4
    assert count(db, AuditLog, AuditLog.entity == "token_sampler") == 1


def test_csv_upload_issues_tokens_and_returns_slips(client: Any, db: Any, tmp_path: Path,
                                                    setup: dict[str, Any]) -> None:
    data = csv_file(rows(10), bom=True)
    response = upload(client, setup["unit"], data)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert pages(response.data) == 2  # 8 slips per A4 page
    stored = db.session.scalars(select(DossierToken)).all()
    assert len(stored) == 10 and all(t.selected and t.token_hash for t in stored)
    code = "000.00.12.H56-0003"
    assert hashlib.sha256(code.encode()).hexdigest() in {t.dossier_hash for t in stored}
    assert all(code not in (t.procedure_field or "") for t in stored)
    first = min(stored, key=lambda t: t.id)
    assert first.completed_at.hour in (7, 14)  # 14:30 in Hà Nội time (UTC+7)
    if shutil.which("pdftotext"):
        src = tmp_path / "slips.pdf"
        src.write_bytes(response.data)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(src), "-"], check=True,
                              capture_output=True).stdout.decode("utf-8")
        assert tokens.expiry_text(first.expires_at) in " ".join(text.split())
    receipt = upload(client, setup["unit"], csv_file(rows(13, 10)), layout="receipt_80mm")
    assert pages(receipt.data) == 3  # one page per slip
    again = upload(client, setup["unit"], data, follow_redirects=True)
    html = again.get_data(as_text=True)
    assert "Đã cấp 0 mã, 0 hồ sơ không được chọn, 10 hồ sơ đã được cấp trước đó." in html
    assert count(db, DossierToken) == 13


def test_csv_with_hashes_and_one_in_two(client: Any, db: Any, setup: dict[str, Any]) -> None:
    tokens.configure_sampler(db.session.get(Unit, setup["unit"]), 2)
    hashes = [hashlib.sha256(f"HS{i}".encode()).hexdigest() for i in range(6)]
    data = csv_file([f"{h};Đất đai;online;2026-11-20T09:00:00+07:00" for h in hashes],
                    header="dossier_hash;procedure_field;channel;completed_at\n")
    response = upload(client, setup["unit"], data)
    assert response.mimetype == "application/pdf" and pages(response.data) == 1
    assert count(db, DossierToken) == 6
    assert count(db, DossierToken, DossierToken.selected.is_(True)) == 3
    assert {t.selection_probability for t in db.session.scalars(select(DossierToken))} == {0.5}


BAD_FILES = [
    (csv_file(rows(2)).replace(b"H\xe1\xbb\x99", b"H\xff"), "không phải văn bản UTF-8"),
    (b"", "Tệp trống."),
    (csv_file(rows(1), header="dossier_code,channel,completed_at\n"),
     "Dòng 1: thiếu cột procedure_field."),
    (csv_file(rows(1), header="procedure_field,channel,completed_at\n"),
     "dossier_hash / dossier_code"),
    (csv_file(rows(2) + ["HS-X,Hộ tịch,fax,20/11/2026"]),
     "Dòng 4, cột channel: Phải là một trong: direct, online, postal."),
    (csv_file(rows(2) + ["HS-X,Hộ tịch,direct,hôm qua"]), "Dòng 4, cột completed_at:"),
    (csv_file(rows(2) + ["HS-X,Hộ tịch,direct,20/11/2099"]), "tương lai"),
    (csv_file(rows(2) + [",Hộ tịch,direct,20/11/2026"]), "Dòng 4, cột dossier_hash:"),
    (csv_file(rows(2) + ["HS-X,,direct,20/11/2026"]), "Dòng 4, cột procedure_field:"),
    (csv_file(rows(2) + rows(1)), "Dòng 4, cột dossier_hash: Cùng một hồ sơ"),
    (csv_file(["abc,Hộ tịch,direct,20/11/2026,9"],
              header="dossier_hash,procedure_field,channel,completed_at,service_point_id\n"),
     "Dòng 2, cột dossier_hash: Phải gồm 64 ký tự"),
    (csv_file(["HS-1,Hộ tịch,direct,20/11/2026,999999"],
              header="dossier_code,procedure_field,channel,completed_at,service_point_id\n"),
     "Dòng 2, cột service_point_id: Điểm phục vụ 999999 không thuộc đơn vị này."),
    (csv_file([]), "Tệp không có dòng hồ sơ nào."),
]


def test_bad_csv_files_write_nothing(client: Any, db: Any, setup: dict[str, Any]) -> None:
    for data, message in BAD_FILES:
        response = upload(client, setup["unit"], data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html, (message, html[-3000:])
    response = client.post(f"/staff/collect/units/{setup['unit']}/upload",
                           data={"layout": "a4_grid"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Hãy chọn một tệp CSV." in response.get_data(as_text=True)
    bad_layout = upload(client, setup["unit"], csv_file(rows(1)), layout="a3")
    assert bad_layout.status_code == 422
    assert "Lựa chọn không hợp lệ." in bad_layout.get_data(as_text=True)
    assert count(db, DossierToken) == 0 and count(db, TokenSampler) == 0


def test_csv_reader_limits(app: Any) -> None:
    with pytest.raises(token_csv.CsvError):
        token_csv.read(csv_file(rows(token_csv.MAX_ROWS + 1)))


def test_api_key_created_once_and_revoked(client: Any, db: Any, setup: dict[str, Any]) -> None:
    response = client.post(f"/staff/collect/units/{setup['unit']}/api-keys",
                           data={"label": "Hệ thống một cửa tỉnh"})
    html = response.get_data(as_text=True)
    full = re.search(r"<code class=\"secret\">([^<]+)</code>", html).group(1)
    key = db.session.scalar(select(ApiKey))
    prefix, secret = full.split(".")
    assert key.prefix == prefix and secret not in key.key_hash
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    audit = db.session.scalar(select(AuditLog).where(AuditLog.entity == "api_key"))
    assert "key_hash" not in audit.after
    listing = client.get(f"/staff/collect/units/{setup['unit']}/tokens").get_data(as_text=True)
    assert prefix in listing and secret not in listing
    body = {"dossier_hash": "a" * 64, "procedure_field": "Hộ tịch", "channel": "direct",
            "completed_at": "2026-11-20T14:30:00+07:00"}
    api = client.post("/api/v1/tokens", json=body, headers={"Authorization": f"Bearer {full}"})
    assert api.status_code == 201
    client.post(f"/staff/collect/api-keys/{key.id}/revoke")
    assert db.session.get(ApiKey, key.id).revoked_at is not None
    body["dossier_hash"] = "b" * 64
    api = client.post("/api/v1/tokens", json=body, headers={"Authorization": f"Bearer {full}"})
    assert api.status_code == 401
    for label, message in (("", "Mục này bắt buộc."), ("x" * 256, "255 ký tự")):
        response = client.post(f"/staff/collect/units/{setup['unit']}/api-keys",
                               data={"label": label})
        assert message in response.get_data(as_text=True)
    assert count(db, ApiKey) == 1


def test_other_unit_manager_cannot_touch_tokens(client: Any, db: Any, login: Any,
                                                setup: dict[str, Any]) -> None:
    client.post(f"/staff/collect/units/{setup['unit']}/api-keys", data={"label": "Một cửa"})
    key_id = db.session.scalar(select(ApiKey.id))
    client.post("/logout")
    login("khac")
    unit = setup["unit"]
    assert client.get(f"/staff/collect/units/{unit}/tokens").status_code == 404
    assert client.post(f"/staff/collect/units/{unit}/sampler", data={"k": "3"}).status_code == 404
    assert upload(client, unit, csv_file(rows(2))).status_code == 404
    assert client.post(f"/staff/collect/units/{unit}/api-keys",
                       data={"label": "X"}).status_code == 404
    assert client.post(f"/staff/collect/api-keys/{key_id}/revoke").status_code == 404
    assert client.post("/staff/collect/api-keys/999999/revoke").status_code == 404
    assert db.session.get(ApiKey, key_id).revoked_at is None
    assert count(db, DossierToken) == 0 and count(db, TokenSampler) == 0
    assert count(db, ApiKey) == 1
