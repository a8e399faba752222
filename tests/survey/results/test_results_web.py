"""Results pages, the transaction counts upload and API: who may do what, and bad input
refused with a message and nothing written."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.collection.services import apikeys
from survey.results.models import ResultSnapshot, TransactionCount
from tests.survey.results.test_results import province  # noqa: F401  (fixture)


def _count(db: Any, model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


@pytest.fixture
def staff(db: Any, make_user: Any, make_unit: Any, province: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    root = province["root"]
    commune = db.session.get(type(root), db.session.scalar(
        select(type(root).id).where(type(root).code == "99.X1")))
    make_user("tinh", "administrator", root)
    make_user("phantich", "analyst", root)
    make_user("xa1", "unit_manager", commune)
    make_user("yte", "analyst", root, sector="health")
    return {"root": root, "commune": commune, **province}


def test_snapshot_page_computes_lists_and_shows_scoped_rows(client: Any, login: Any, db: Any,
                                                            staff: dict[str, Any]) -> None:
    login("phantich")
    response = client.post("/staff/results/snapshots", data={"period": "2026-10", "scope": ""})
    # An analyst over the province may compute a province-wide snapshot? Only with a unit.
    assert response.status_code == 200 and "phạm vi" in response.get_data(as_text=True)
    response = client.post("/staff/results/snapshots", data={"period": "2026-10",
                                                              "scope": "99"})
    assert response.status_code == 302
    snapshot = db.session.scalar(select(ResultSnapshot))
    assert snapshot.status == "done" and snapshot.created_by == "phantich"
    listing = client.get("/staff/results/snapshots").get_data(as_text=True)
    assert "2026-10" in listing and "hoàn tất" in listing
    detail = client.get(f"/staff/results/snapshots/{snapshot.id}").get_data(as_text=True)
    assert "Xã 1" in detail and "Xã 2" in detail and "mẫu không xác suất" in detail
    client.post("/logout")
    login("xa1")
    detail = client.get(f"/staff/results/snapshots/{snapshot.id}").get_data(as_text=True)
    assert "Xã 1" in detail and "Xã 2" not in detail and "Tỉnh Thử" not in detail


@pytest.mark.parametrize(("period", "message"), [("2026-13", "2026-Q3"), ("", "bắt buộc")])
def test_bad_compute_input_writes_nothing(client: Any, login: Any, db: Any,
                                          staff: dict[str, Any], period: str,
                                          message: str) -> None:
    login("tinh")
    response = client.post("/staff/results/snapshots", data={"period": period, "scope": ""})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(db, ResultSnapshot) == 0


def test_exports_need_the_permission_and_the_whole_scope(client: Any, login: Any, db: Any,
                                                         runner: Any,
                                                         staff: dict[str, Any]) -> None:
    assert runner.invoke(args=["results", "compute", "--period", "2026-10"]).exit_code == 0
    snapshot = db.session.scalar(select(ResultSnapshot))
    base = f"/staff/results/snapshots/{snapshot.id}"
    login("phantich")
    bundle = client.get(f"{base}/bundle.zip")
    assert bundle.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    assert sorted(names) == ["analysis.R", "analysis.do", "codebook.csv", "microdata.csv",
                             "results.csv"]
    csv_text = client.get(f"{base}/results.csv").data.decode("utf-8-sig")
    assert "Xã 2" in csv_text
    client.post("/logout")
    # A unit manager may export the rows of their unit, not the province's microdata.
    login("xa1")
    assert client.get(f"{base}/bundle.zip").status_code == 403
    rows = client.get(f"{base}/results.csv").data.decode("utf-8-sig")
    assert "Xã 1" in rows and "Xã 2" not in rows
    client.post("/logout")
    # A health analyst sees no administrative rows and gets no administrative microdata.
    login("yte")
    assert client.get(f"{base}/bundle.zip").status_code == 403
    assert "Xã 1" not in client.get(f"{base}/results.csv").data.decode("utf-8-sig")


def _csv_upload(client: Any, unit_id: int, text: str) -> Any:
    return client.post(f"/staff/results/units/{unit_id}/transactions",
                       data={"file": (io.BytesIO(text.encode("utf-8")), "counts.csv")},
                       content_type="multipart/form-data")


def test_counts_upload_is_all_or_nothing(client: Any, login: Any, db: Any,
                                         staff: dict[str, Any]) -> None:
    login("xa1")
    commune = staff["commune"]
    point = staff["points"][1]
    other = staff["points"][2]
    before = _count(db, TransactionCount)
    bad = [f"service_point_id,month,count\n{point},2026-09,120\n{point},2026-13,5\n",
           f"service_point_id,month,count\n{point},2026-09,120\n{other},2026-09,5\n",
           "diem,thang,so\n1,2026-09,3\n", f"service_point_id,month,count\n{point},2026-09,-4\n"]
    for text in bad:
        response = _csv_upload(client, commune.id, text)
        assert response.status_code == 200
        assert "error" in response.get_data(as_text=True)
        assert _count(db, TransactionCount) == before
    good = f"service_point_id,month,count\n{point},2026-09,120\n"
    assert _csv_upload(client, commune.id, good).status_code == 302
    assert _csv_upload(client, commune.id, good).status_code == 302  # again: unchanged
    assert _count(db, TransactionCount) == before + 1
    assert client.get(f"/staff/results/units/{staff['root'].id}/transactions").status_code == 404


def test_transactions_api(client: Any, db: Any, staff: dict[str, Any]) -> None:
    key = apikeys.create_key(staff["commune"], "Một cửa")[1]
    headers = {"Authorization": f"Bearer {key}"}
    point, other = staff["points"][1], staff["points"][2]
    body = {"service_point_id": point, "month": "2026-09", "count": 77}
    first = client.post("/api/v1/transactions", json=body, headers=headers)
    assert first.status_code == 201 and first.json == {"created": 1, "updated": 0,
                                                       "unchanged": 0}
    again = client.post("/api/v1/transactions", json=body, headers=headers)
    assert again.status_code == 200 and again.json["unchanged"] == 1
    changed = client.post("/api/v1/transactions", json={**body, "count": 80}, headers=headers)
    assert changed.status_code == 201 and changed.json["updated"] == 1
    before = _count(db, TransactionCount)
    cases = [
        ({"counts": [body, {**body, "service_point_id": other}]}, 403,
         "counts[1].service_point_id"),
        ({"counts": [{**body, "month": "2026-08"}, {**body, "month": "09/2026"}]}, 422,
         "counts[1].month"),
        ({**body, "count": -1}, 422, "count"), ({**body, "count": True}, 422, "count"),
        ({**body, "service_point_id": 2**40}, 422, "service_point_id"),
        ({**body, "month": (dt.date.today().replace(day=1) + dt.timedelta(days=40))
          .strftime("%Y-%m")}, 422, "month"),
        ({**body, "extra": 1}, 422, "extra"), ({"counts": []}, 422, "counts"),
    ]
    for payload, status, field in cases:
        response = client.post("/api/v1/transactions", json=payload, headers=headers)
        assert response.status_code == status, (payload, response.json)
        assert response.json["error"]["field"] == field and response.json["error"]["message"]
    assert client.post("/api/v1/transactions", data="{", headers=headers,
                       content_type="application/json").status_code == 400
    assert client.post("/api/v1/transactions", json=body).status_code == 401
    assert _count(db, TransactionCount) == before
