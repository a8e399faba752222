"""The bundle's microdata.csv is written column-wise (``microdata.text_chunks``: set-based
queries, each distinct stored answer decoded and scored once, index values on arrays),
and holds the same bytes as the row-by-row writer of ``Microdata.rows()``: every item type,
"not applicable", blanks, show_if-hidden answers, stored values a type rejects, answers to
items a version does not have, several questionnaire versions, chunk boundaries, and a
two-stage campaign's psu2/fpc2."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

import questionnaires as q
from survey.authoring.services import versions as questionnaire_versions
from survey.demo.responses import random_answers
from survey.models import Answer, Response, ResultSnapshot
from survey.results.services import export, microdata
from survey.results.services.periods import parse_period
from tests.survey.campaigns.conftest import province as campaign_province  # noqa: F401
from tests.survey.campaigns.entry_fixtures import fieldwork, selected_rows  # noqa: F401
from tests.survey.results.test_campaign_bundle import _close_two_stage
from tests.survey.results.test_results import OCT, _csv
from tests.survey.results.test_results import province as results_province  # noqa: F401

KEYS = ("sipas_2023", "health_inpatient", "health_outpatient", "edu_parents_primary",
        "desk_rating")


def _oracle(micro: microdata.Microdata, columns: list[str], path: Path) -> None:
    """The row-by-row writer the bundle used before (one Python step per response)."""
    export._write(path, columns, ([row.get(c) for c in columns] for row in micro.rows()))


def _add(db: Any, key: str, version: Any, unit_id: int, point_id: int | None,
         stored: dict[str, tuple[float | None, str | None, bool]], n: int) -> int:
    response = Response(questionnaire_key=key, questionnaire_version=version.version,
                        channel="desk_qr", unit_id=unit_id, service_point_id=point_id,
                        submitted_at=OCT + dt.timedelta(minutes=n),
                        client_submission_id=f"cw-{n}", selection_probability=1.0)
    db.session.add(response)
    db.session.flush()
    for item_id, (num, text, na) in stored.items():
        db.session.add(Answer(response_id=response.id, item_id=item_id, value_num=num,
                              value_text=text, not_applicable=na))
    return response.id


@pytest.fixture
def mixed(db: Any, results_province: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The results province's desk_rating responses, plus responses of other versions (show_if
    chains, yes/no, numbers, percentages, comprehensive, mean and mean-score nodes) with
    valid random answers, N/A everywhere allowed, and stored values no type accepts."""
    rng = random.Random(11)
    point = results_province["points"][1]
    unit_id = results_province["centre"].id
    n = 0
    for key in KEYS:
        version = questionnaire_versions.latest_published(key)
        defn = questionnaire_versions.definition_of(version)
        for i in range(12):
            n += 1
            answers = random_answers(defn, rng, rng.random())
            stored = {k: tuple(v) for k, v in q.stored_answers(defn, answers).items()}
            if i % 4 == 1:  # "not applicable" for every item that allows it and was asked
                for item in defn.items:
                    if item.id in stored and item.not_applicable:
                        stored[item.id] = (None, None, True)
            if i % 4 == 2:  # stored values a type rejects, an answer to no item of the version
                for item in defn.items[:6]:
                    stored[item.id] = (99.0, None, False)
                stored["no_such_item"] = (3.0, None, False)
            if i % 4 == 3 and defn.items:  # a hidden answer stored anyway
                for item in defn.items:
                    if item.show_if is not None:
                        stored[item.id] = (1.0, None, False)
            _add(db, key, version, unit_id, point if i % 2 else None, stored, n)
    db.session.commit()
    return results_province


def _same_bytes(micro: microdata.Microdata, tmp_path: Path, chunk: int) -> Path:
    columns = micro.columns()
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    _oracle(micro, columns, old)
    count = export.write_microdata(micro, columns, new, chunk)
    assert new.read_bytes() == old.read_bytes()
    assert count == len(_csv(new))
    return new


@pytest.mark.parametrize("chunk", [1, 7, 50_000])
def test_column_wise_microdata_is_byte_for_byte_the_rows(mixed: dict[str, Any], tmp_path: Path,
                                                         chunk: int) -> None:
    micro = microdata.load(microdata.Selection(parse_period("2026-10")))
    assert len(micro.layouts) == len(KEYS)
    new = _same_bytes(micro, tmp_path, chunk)
    rows = _csv(new)
    # The fixture reaches what it claims: N/A, blanks, several versions, index values.
    assert {r["questionnaire"] for r in rows} == set(KEYS)
    cells = [v for r in rows for k, v in r.items() if k.startswith("answer.")]
    assert "na" in cells and "" in cells and "99" in cells
    node_cells = {v for r in rows for k, v in r.items()
                  if k not in microdata.BASE_COLUMNS and not k.startswith("answer.")}
    assert {"0.0", "1.0"} <= node_cells  # item indicators, comprehensive indices
    assert any(v not in ("", "0.0", "1.0") for v in node_cells)  # shares, means, scores


def test_scoped_column_wise_microdata(mixed: dict[str, Any], tmp_path: Path) -> None:
    """A unit's subtree: the answers of responses of other units in the same id range are
    left out of the chunk."""
    micro = microdata.load(microdata.Selection(parse_period("2026-10"),
                                               mixed["centre"].id))
    new = _same_bytes(micro, tmp_path, 5)
    assert {r["unit_id"] for r in _csv(new)} == {str(mixed["centre"].id)}


def test_an_empty_selection_writes_the_header_alone(mixed: dict[str, Any],
                                                     tmp_path: Path) -> None:
    micro = microdata.load(microdata.Selection(parse_period("2026-09")))
    new = _same_bytes(micro, tmp_path, 50_000)
    assert _csv(new) == []


def test_a_two_stage_campaign_column_wise(db: Any, tmp_path: Path, make_user: Any,
                                          campaign_province: dict[str, Any]  # noqa: F811
                                          ) -> None:
    campaign, snapshot = _close_two_stage(db, campaign_province, make_user)
    assert isinstance(snapshot, ResultSnapshot)
    micro = microdata.load(microdata.Selection(parse_period(snapshot.period), None,
                                               campaign_id=campaign.id))
    new = _same_bytes(micro, tmp_path, 3)
    rows = _csv(new)
    assert rows and all(r["psu2"] and r["fpc2"] for r in rows)


def test_the_cells_of_one_response_worked_out_by_hand(results_province: dict[str, Any],  # noqa: F811
                                                       db: Any, tmp_path: Path) -> None:
    """A reference independent of both writers: one desk_rating response whose every cell
    is written out here (scale 0-2 items under "dat_yeu_cau" at least 1 and the
    "diem_binh_quan" mean score; "muc_do_hai_long" 1-3 under "hai_long" at least 2)."""
    version = questionnaire_versions.latest_published("desk_rating")
    rid = _add(db, "desk_rating", version, results_province["centre"].id, None, {
        "tong_thoi_gian": (2.0, None, False), "thoi_gian_tung_co_quan": (0.0, None, False),
        "so_lan_lien_he": (1.0, None, False),
        "so_co_quan_lien_he": (None, None, True),  # "not applicable", stored
        "cong_khai_tthc": (7.0, None, False),  # outside the 0-2 scale: no score
        "muc_do_hai_long": (3.0, None, False),
        "gop_y": (None, "Tôi là Nguyễn Văn A", False),  # free text: never exported
    }, 999)
    db.session.commit()
    micro = microdata.load(microdata.Selection(parse_period("2026-10")))
    path = tmp_path / "microdata.csv"
    export.write_microdata(micro, micro.columns(), path, 4)
    assert "Nguyễn" not in path.read_text(encoding="utf-8-sig")
    [row] = [r for r in _csv(path) if r["response_id"] == str(rid)]
    answers = {k.removeprefix("answer."): v for k, v in row.items() if k.startswith("answer.")}
    assert answers == {"tong_thoi_gian": "2", "thoi_gian_tung_co_quan": "0",
                       "so_lan_lien_he": "1", "so_co_quan_lien_he": "na", "mot_cua": "",
                       "cong_khai_tthc": "7", "thai_do": "", "tiep_thu_pakn": "",
                       "dvc_truc_tuyen": "", "muc_do_hai_long": "3"}
    assert {k: row[k] for k in ("tong_thoi_gian", "thoi_gian_tung_co_quan", "so_lan_lien_he",
                                "so_co_quan_lien_he", "mot_cua", "cong_khai_tthc",
                                "muc_do_hai_long")} == {
        "tong_thoi_gian": "1.0", "thoi_gian_tung_co_quan": "0.0", "so_lan_lien_he": "1.0",
        "so_co_quan_lien_he": "", "mot_cua": "", "cong_khai_tthc": "",
        "muc_do_hai_long": "1.0"}
    assert (row["dat_yeu_cau"], row["diem_binh_quan"], row["hai_long"]) == (
        repr(2 / 3), "1.0", "1.0")
    assert (row["channel"], row["basis"], row["probability"], row["service_point_id"],
            row["psu"], row["psu2"], row["fpc2"]) == ("desk_qr", "open", "0", "", str(rid),
                                                      "", "")
    assert row["unit_path"] == "/".join(
        results_province["centre"].path.strip("/").split("/"))
