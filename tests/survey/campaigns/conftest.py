"""A small province for the campaign tests: Sở Y tế with three hospitals, Sở GD&ĐT with
two schools, the published questionnaires, and one account per department."""

from __future__ import annotations

from typing import Any

import pytest

from survey.authoring.services import versions as questionnaire_versions

BASE = "/staff/campaigns"


@pytest.fixture
def province(db: Any, make_unit: Any, make_user: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    prov = make_unit("Tỉnh Thử", code="99")
    health = make_unit("Sở Y tế", parent=prov, code="99.SYT", sector="health")
    edu = make_unit("Sở Giáo dục và Đào tạo", parent=prov, code="99.SGD", sector="education")
    snv = make_unit("Sở Nội vụ", parent=prov, code="99.SNV")
    hospitals = [make_unit(f"Bệnh viện {i}", parent=prov, code=f"99.BV{i}", kind="hospital",
                           sector="health") for i in (1, 2, 3)]
    schools = [make_unit(f"Trường Tiểu học {i}", parent=prov, code=f"99.TH{i}", kind="school",
                         sector="education") for i in (1, 2)]
    make_user("admin", "administrator", prov)
    make_user("soyte", "sector_manager", prov, sector="health")
    make_user("sogddt", "sector_manager", prov, sector="education")
    make_user("phantich", "analyst", prov)
    make_user("benhvien", "unit_manager", hospitals[0])
    return {"province": prov, "health": health, "education": edu, "snv": snv,
            "hospitals": hospitals, "schools": schools}


def campaign_form(owner: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Khảo sát người bệnh nội trú 2026", "owner_unit_id": owner.id,
        "questionnaire": "health_inpatient:1", "unit_kind": "hospital", "coverage": "all",
        "period_start": "2026-12-01", "period_end": "2026-12-31", "channels": ["token"],
        "strata_by": "unit", "stages": "unit_person", "cluster_kind": "",
        "size_mode": "margin", "target_margin_percent": "5", "total_sample": "",
        "allocation": "proportional",
    }
    data.update(overrides)
    return data
