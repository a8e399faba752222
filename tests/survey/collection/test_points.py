"""Staff collection pages for service points: links, QR codes, posters, kiosk, scope."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from survey.collection.services import links
from survey.models import AuditLog, PointLink, QuestionnaireVersion, ServicePoint
from survey.org.services import units


def count(db: Any, model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.fixture
def tree(db: Any, make_unit: Any, make_user: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    hospital = make_unit("Bệnh viện Thử", parent=province, kind="hospital", sector="health")
    school = make_unit("Trường Thử", parent=province, kind="school", sector="education")
    p1 = units.create_point(hospital, "Khoa Khám bệnh")
    p2 = units.create_point(hospital, "Khoa Nội")
    p3 = units.create_point(hospital, "Khoa cũ")
    units.update_point(p3, "Khoa cũ", None, False)
    s1 = units.create_point(school, "Phòng tiếp phụ huynh")
    make_user("quantri", "administrator", province)
    make_user("soyte", "sector_manager", province, sector="health")
    make_user("bv", "unit_manager", hospital)
    make_user("truong", "unit_manager", school)
    make_user("phantich", "analyst", province)
    return {"hospital": hospital.id, "school": school.id, "p1": p1.id, "p2": p2.id,
            "p3": p3.id, "s1": s1.id}


def test_unit_page_lists_points_and_creates_poster_links(
        client: Any, db: Any, login: Any, tree: dict[str, Any]) -> None:
    login("bv")
    page = client.get(f"/staff/collect/units/{tree['hospital']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Khoa Khám bệnh" in html and "Khoa Nội" in html and "Thu thập" in html
    made = db.session.scalars(select(PointLink)).all()
    assert {link.service_point_id for link in made} == {tree["p1"], tree["p2"]}  # active only
    for link in made:
        assert links.link_url(link) in html
    assert count(db, AuditLog, AuditLog.entity == "point_link") == 2
    client.get(f"/staff/collect/units/{tree['hospital']}")
    assert count(db, PointLink) == 2  # stable: no new link on the next visit


def test_qr_png_and_svg_encode_the_point_link(client: Any, db: Any, app: Flask, login: Any,
                                              tree: dict[str, Any]) -> None:
    login("bv")
    response = client.get(f"/staff/collect/points/{tree['p1']}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    link = db.session.scalar(select(PointLink).where(PointLink.service_point_id == tree["p1"]))
    url = links.link_url(link)
    assert url == f"{app.config['PUBLIC_BASE_URL']}/q/{link.token}"
    decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))]
    assert decoded == [url]
    svg = client.get(f"/staff/collect/points/{tree['p1']}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client.get(f"/staff/collect/points/{tree['p3']}/qr.png").status_code == 404  # inactive
    assert client.get(f"/staff/collect/points/{tree['p1']}/qr.png?desk=9").data == response.data


def test_posters_one_page_per_active_point(client: Any, login: Any, tree: dict[str, Any]) -> None:
    login("bv")
    for size in ("A4", "A5"):
        response = client.get(f"/staff/collect/units/{tree['hospital']}/posters.pdf?size={size}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert pages(response.data) == 2
    one = client.get(f"/staff/collect/points/{tree['p1']}/poster.pdf?size=A5")
    assert one.status_code == 200 and pages(one.data) == 1
    assert client.get(f"/staff/collect/points/{tree['p1']}/poster.pdf?size=A3").status_code == 404


def test_sector_posters_only_in_scope(client: Any, login: Any, tree: dict[str, Any]) -> None:
    login("soyte")
    health = client.get("/staff/collect/posters/sector.pdf?sector=health&size=A4")
    assert health.status_code == 200 and pages(health.data) == 2
    # The school is outside a health sector manager's scope: nothing to print.
    assert client.get("/staff/collect/posters/sector.pdf?sector=education").status_code == 404
    assert client.get("/staff/collect/posters/sector.pdf?sector=army").status_code == 404
    client.post("/logout")
    login("quantri")
    both = client.get("/staff/collect/posters/sector.pdf?sector=education&size=A5")
    assert both.status_code == 200 and pages(both.data) == 1
    client.post("/logout")
    login("bv")
    assert client.get("/staff/collect/posters/sector.pdf?sector=health").status_code == 403


def test_replace_and_revoke_links(client: Any, db: Any, login: Any,
                                  tree: dict[str, Any]) -> None:
    login("bv")
    client.get(f"/staff/collect/units/{tree['hospital']}")
    old = db.session.scalar(select(PointLink).where(PointLink.service_point_id == tree["p1"]))
    old_token = old.token
    response = client.post(f"/staff/collect/points/{tree['p1']}/links/poster/replace")
    assert response.status_code == 302
    rows = db.session.scalars(select(PointLink).where(
        PointLink.service_point_id == tree["p1"]).order_by(PointLink.id)).all()
    assert len(rows) == 2 and rows[0].revoked_at is not None and rows[1].revoked_at is None
    assert rows[1].token != old_token and links.resolve_link(old_token) is None
    assert count(db, AuditLog, AuditLog.entity == "point_link", AuditLog.action == "update") == 1
    assert client.post(f"/staff/collect/points/{tree['p1']}/links/kiosk/replace").status_code == 302
    kiosk = db.session.scalar(select(PointLink).where(PointLink.kind == "kiosk"))
    assert links.link_url(kiosk).endswith("/k/" + kiosk.token)
    page = client.get(f"/staff/collect/units/{tree['hospital']}").get_data(as_text=True)
    assert links.link_url(kiosk) in page
    client.post(f"/staff/collect/points/{tree['p1']}/links/kiosk/revoke")
    assert links.active_link(db.session.get(ServicePoint, tree["p1"]), "kiosk") is None
    again = client.post(f"/staff/collect/points/{tree['p1']}/links/kiosk/revoke",
                        follow_redirects=True)
    assert "Không có đường dẫn đang hoạt động để thu hồi." in again.get_data(as_text=True)
    inactive = client.post(f"/staff/collect/points/{tree['p3']}/links/poster/replace",
                           follow_redirects=True)
    assert "ngừng hoạt động" in inactive.get_data(as_text=True)
    assert count(db, PointLink, PointLink.service_point_id == tree["p3"]) == 0


def test_kiosk_pin(client: Any, db: Any, login: Any, tree: dict[str, Any]) -> None:
    login("bv")
    url = f"/staff/collect/points/{tree['p1']}/kiosk-pin"
    for bad, message in (("12", "4 đến 8 chữ số"), ("abcd", "4 đến 8 chữ số"),
                         ("123456789", "4 đến 8 chữ số"), ("", "Mục này bắt buộc.")):
        response = client.post(url, data={f"k{tree['p1']}-pin": bad})
        assert response.status_code == 200 and message in response.get_data(as_text=True), bad
    assert db.session.get(ServicePoint, tree["p1"]).kiosk_pin_hash is None
    assert client.post(url, data={f"k{tree['p1']}-pin": "2468"}).status_code == 302
    stored = db.session.get(ServicePoint, tree["p1"]).kiosk_pin_hash
    assert stored and "2468" not in stored and check_password_hash(stored, "2468")
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "service_point")).all()
    assert all("kiosk_pin_hash" not in (a.after or {}) for a in audit)


def test_questionnaire_of_a_point(client: Any, db: Any, login: Any,
                                  tree: dict[str, Any]) -> None:
    login("bv")
    url = f"/staff/collect/points/{tree['p1']}/questionnaire"
    field = f"q{tree['p1']}-questionnaire_key"
    assert client.post(url, data={field: "health_outpatient"}).status_code == 302
    assert db.session.get(ServicePoint, tree["p1"]).questionnaire_key == "health_outpatient"
    bad = client.post(url, data={field: "sipas_2017"})  # retired: not offered
    assert bad.status_code == 200 and "Lựa chọn không hợp lệ." in bad.get_data(as_text=True)
    assert db.session.get(ServicePoint, tree["p1"]).questionnaire_key == "health_outpatient"
    # Once versions are published in the database, those are the choices.
    db.session.add(QuestionnaireVersion(key="rieng_bv", version=1, definition={}, hash="x",
                                        status="published"))
    db.session.commit()
    assert client.post(url, data={field: "rieng_bv"}).status_code == 302
    assert client.post(url, data={field: "health_outpatient"}).status_code == 200
    assert client.post(url, data={field: ""}).status_code == 302
    assert db.session.get(ServicePoint, tree["p1"]).questionnaire_key is None


def test_index_lists_units_with_points_in_scope(client: Any, login: Any,
                                                tree: dict[str, Any]) -> None:
    login("quantri")
    html = client.get("/staff/collect/").get_data(as_text=True)
    assert "Bệnh viện Thử" in html and "Trường Thử" in html and "Tỉnh Thử" not in html
    assert "Áp phích của cả một lĩnh vực" in html
    html = client.get("/staff/collect/?q=Trường").get_data(as_text=True)
    assert "Trường Thử" in html and "Bệnh viện Thử" not in html
    client.post("/logout")
    login("bv")
    html = client.get("/staff/collect/").get_data(as_text=True)
    assert "Bệnh viện Thử" in html and "Trường Thử" not in html
    assert "Áp phích của cả một lĩnh vực" not in html
    client.get("/lang/en")
    pages_en = {"/staff/collect/": "Units with service points",
                f"/staff/collect/units/{tree['hospital']}": "Revoke and issue a new link",
                f"/staff/collect/units/{tree['hospital']}/tokens": "Upload completed dossiers",
                "/staff/collect/reviews": "No flagged response to review."}
    for url, text in pages_en.items():
        response = client.get(url)
        assert response.status_code == 200 and text in response.get_data(as_text=True), url


def test_other_unit_manager_gets_404_and_analyst_403(client: Any, db: Any, login: Any,
                                                    tree: dict[str, Any]) -> None:
    login("truong")
    p1, hospital = tree["p1"], tree["hospital"]
    gets = [f"/staff/collect/units/{hospital}", f"/staff/collect/points/{p1}/qr.png",
            f"/staff/collect/points/{p1}/qr.svg", f"/staff/collect/points/{p1}/poster.pdf",
            f"/staff/collect/units/{hospital}/posters.pdf"]
    posts = [f"/staff/collect/points/{p1}/links/poster/replace",
             f"/staff/collect/points/{p1}/links/kiosk/replace",
             f"/staff/collect/points/{p1}/kiosk-pin", f"/staff/collect/points/{p1}/questionnaire"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, data={f"k{p1}-pin": "1234"}).status_code == 404, url
    assert count(db, PointLink) == 0
    assert db.session.get(ServicePoint, p1).kiosk_pin_hash is None
    client.post("/logout")
    login("phantich")  # sees the hospital, may not manage it
    for url in gets:
        assert client.get(url).status_code == 403, url
    assert client.get("/staff/collect/").status_code == 200
    client.post("/logout")
    assert client.get(f"/staff/collect/units/{hospital}").status_code == 302  # sign in first
