"""Reserve lists of two-stage draws: spare persons drawn within each selected cluster
(seeded, not changing the selected persons), a refusal replaced from its own cluster only,
an exhausted cluster reserve said on the page, and the close weighting a replacement in
its original's slot (the two stages' probabilities kept) and an unreplaced refusal as a
nonrespondent of its cell."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select

from survey.campaigns.services import campaigns, closing, draw
from survey.models import Campaign, CampaignDraw, CampaignWeight, FrameRow
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.entry_fixtures import fieldwork  # noqa: F401 (fixture)
from tests.survey.campaigns.test_close import enter_rows
from tests.survey.campaigns.test_stages import CLUSTERS, TAKE, two_stage_campaign

RESERVE = 2


@pytest.fixture
def staged(db: Any, province: dict[str, Any]) -> Campaign:
    return two_stage_campaign(db, province)


def drawn(db: Any) -> dict[int, tuple[str, int | None, float | None, float | None]]:
    db.session.expire_all()
    return {r.id: (r.status, r.reserve_rank, r.selection_probability, r.stage2_probability)
            for r in db.session.scalars(select(FrameRow).where(FrameRow.status != "frame"))}


def rows(db: Any, status: str) -> list[FrameRow]:
    db.session.expire_all()
    return list(db.session.scalars(select(FrameRow).where(FrameRow.status == status)
                                   .order_by(FrameRow.id)))


def group(row: FrameRow) -> tuple[int, str, str | None]:
    return (row.unit_id, row.stratum or "", row.cluster)


def test_reserves_are_drawn_in_each_selected_cluster_and_seeded(db: Any,
                                                                staged: Campaign) -> None:
    record = draw.draw_sample(staged, method="srs", seed=12, take=TAKE, reserve=RESERVE)
    first = drawn(db)
    selected, spare = rows(db, "selected"), rows(db, "reserve")
    assert (record.selected, record.reserves) == (len(selected), len(spare))
    chosen = defaultdict(list)
    for r in selected:
        chosen[group(r)].append(r)
    spares = defaultdict(list)
    for r in spare:
        spares[group(r)].append(r)
    code_of = {cu.unit_id: cu.unit.code for cu in staged.units}
    # reserves only in selected clusters, RESERVE each (fewer when the cluster has no
    # more unselected rows), ranks 1.. per cluster, the cluster's probabilities
    assert set(spares) <= set(chosen)
    for key, members in chosen.items():
        size = CLUSTERS[code_of[key[0]]][int(key[2][1:])]
        ranks = sorted(r.reserve_rank for r in spares.get(key, []))
        assert ranks == list(range(1, min(RESERVE, size - len(members)) + 1))
        for r in spares.get(key, []):
            assert (r.stage1_probability, r.stage2_probability) == (
                members[0].stage1_probability, pytest.approx(len(members) / size))
            assert (r.stage1_population, r.stage2_population) == (
                members[0].stage1_population, size)
            assert r.selection_probability == pytest.approx(members[0].selection_probability)
    assert sum(len(v) for v in spares.values()) > 0
    # the same seed: the same sample, reserves in the same order
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE, reserve=RESERVE)
    assert drawn(db) == first
    # a reserve does not change who is selected
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE, reserve=0)
    again = drawn(db)
    assert {i for i, v in again.items() if v[0] == "selected"} == \
        {i for i, v in first.items() if v[0] == "selected"}
    assert not any(v[0] == "reserve" for v in again.values())
    draw.draw_sample(staged, method="srs", seed=13, take=TAKE, reserve=RESERVE)
    assert drawn(db) != first


def test_a_two_stage_pps_draw_takes_a_reserve_too(db: Any, staged: Campaign) -> None:
    draw.draw_sample(staged, method="pps", seed=5, take=TAKE, reserve=1)
    spare = rows(db, "reserve")
    clusters = {group(r) for r in rows(db, "selected")}
    assert spare and {group(r) for r in spare} <= clusters


def test_a_refusal_is_replaced_from_its_own_cluster_only(db: Any, staged: Campaign) -> None:
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE, reserve=RESERVE)
    spares = defaultdict(list)
    for r in rows(db, "reserve"):
        spares[group(r)].append(r)
    # a cluster with its full reserve, in a stratum where other clusters (of lower row
    # numbers) have reserves too
    key = [k for k, v in spares.items() if len(v) == RESERVE
           and any(o[0] == k[0] and o != k for o in spares)][-1]
    in_cluster = [r for r in rows(db, "selected") if group(r) == key]
    order = [r.id for r in sorted(spares[key], key=lambda r: r.reserve_rank)]
    others = {r.id for k, v in spares.items() if k != key for r in v}
    replaced = []
    for person in in_cluster[:RESERVE]:
        replacement = draw.replace_refusal(staged, person.id)
        assert replacement is not None and group(replacement) == key
        replaced.append(replacement.id)
    assert replaced == order  # in the drawn order of use
    # the cluster's reserve is used up: None, though other clusters still have reserves
    assert draw.replace_refusal(staged, in_cluster[RESERVE].id) is None
    assert {r.id for r in rows(db, "reserve")} == others
    assert len([r for r in rows(db, "selected") if group(r) == key]) == len(in_cluster) - 1
    assert len([r for r in rows(db, "refused") if group(r) == key]) == RESERVE + 1


def test_the_sample_page_says_the_cluster_reserve_is_used_up(client: Any, db: Any,
                                                             login: Any,
                                                             staged: Campaign) -> None:
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE, reserve=1)
    login("soyte")
    page = client.get(f"{BASE}/{staged.id}/sample").get_data(as_text=True)
    assert "cùng cụm (không bao giờ lấy từ cụm khác)" in page and "<th>Cụm</th>" in page
    spare = rows(db, "reserve")[0]
    person = next(r for r in rows(db, "selected") if group(r) == group(spare))
    done = client.post(f"{BASE}/{staged.id}/sample/{person.id}/refused",
                       follow_redirects=True)
    assert f"dòng {spare.row_number} của khung mẫu" in done.get_data(as_text=True)
    other = next(r for r in rows(db, "selected") if group(r) == group(spare))
    empty = client.post(f"{BASE}/{staged.id}/sample/{other.id}/refused",
                        follow_redirects=True).get_data(as_text=True)
    assert "cụm này không còn người dự phòng" in empty
    db.session.expire_all()
    assert db.session.get(FrameRow, other.id).status == "refused"


def test_the_draw_form_takes_a_reserve_with_two_stages(client: Any, db: Any, login: Any,
                                                       staged: Campaign) -> None:
    login("soyte")
    url = f"{BASE}/{staged.id}/draw"
    bad = client.post(url, data={"method": "srs", "seed": "3", "reserve": "-1", "take": "4"})
    assert bad.status_code == 422 and rows(db, "selected") == []
    done = client.post(url, data={"method": "srs", "seed": "3", "reserve": "1", "take": "4"})
    assert done.status_code == 302
    spare = rows(db, "reserve")
    assert spare and db.session.scalar(select(CampaignDraw.reserves)) == len(spare)


def _close_with_refusals(db: Any, staged: Campaign, make_user: Any,
                         province: dict[str, Any]) -> tuple[list[FrameRow], FrameRow,
                                                            FrameRow, FrameRow]:
    """Draw with a reserve of 1; refuse one person of a cluster with a reserve (replaced)
    and then a second of the same cluster (reserve used up); everyone else answers."""
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE, reserve=1)
    campaigns.advance_status(staged, "fieldwork")
    make_user("nhaplieu", "clerk", province["province"], sector="health")
    spare = rows(db, "reserve")[0]
    members = [r for r in rows(db, "selected") if group(r) == group(spare)]
    first, second = members[0], members[1]
    replacement = draw.replace_refusal(staged, first.id)
    assert replacement is not None and replacement.id == spare.id
    assert draw.replace_refusal(staged, second.id) is None
    answering = sorted(rows(db, "selected"), key=lambda r: r.row_number)
    enter_rows(db, staged, answering)
    return answering, replacement, first, second


def test_the_close_weights_a_replacement_in_its_originals_slot(
        db: Any, staged: Campaign, make_user: Any, province: dict[str, Any]) -> None:
    answering, replacement, first, second = _close_with_refusals(db, staged, make_user,
                                                                 province)
    snapshot = closing.close(staged, closing.CloseOptions(), "soyte")
    assert snapshot.status == "done", snapshot.error
    weights = {w.frame_row_id: w for w in db.session.scalars(select(CampaignWeight))}
    assert set(weights) == {r.id for r in answering}  # refused persons get no weight
    assert replacement.id in weights and first.id not in weights
    code_of = {cu.unit_id: cu.unit.code for cu in staged.units}
    clusters_taken: dict[int, set[str]] = defaultdict(set)
    for r in answering:
        clusters_taken[r.unit_id].add(r.cluster)
    clusters_taken[second.unit_id].add(second.cluster)
    base_of = {}
    for r in [*answering, first, second]:
        sizes = CLUSTERS[code_of[r.unit_id]]
        m, size = len(clusters_taken[r.unit_id]), sizes[int(r.cluster[1:])]
        # the two stages by hand: m of the unit's clusters, then TAKE of the cluster's rows
        base_of[r.id] = (len(sizes) / m) * (size / min(TAKE, size))
    for r in answering:
        w = weights[r.id]
        assert w.base == pytest.approx(base_of[r.id])
        assert w.psu.endswith(f":{r.cluster}") and w.psu2 == str(r.id)
        assert (w.fpc, w.fpc2) == (len(CLUSTERS[code_of[r.unit_id]]),
                                   CLUSTERS[code_of[r.unit_id]][int(r.cluster[1:])])
    # the replacement's weight is its original's: the same cluster, the same stages
    assert weights[replacement.id].base == pytest.approx(base_of[first.id])
    # the unit with the unreplaced refusal: a nonrespondent of its cell, whose weight the
    # cell's respondents carry (everyone else answered: adjustment 1 elsewhere)
    unit = second.unit_id
    in_unit = [r for r in answering if r.unit_id == unit]
    factor = (sum(base_of[r.id] for r in in_unit) + base_of[second.id]) / \
        sum(base_of[r.id] for r in in_unit)
    for r in answering:
        expected = base_of[r.id] * (factor if r.unit_id == unit else 1.0)
        assert weights[r.id].adjusted == pytest.approx(expected)
        assert weights[r.id].final == pytest.approx(expected)
    total = sum(base_of[r.id] for r in answering) + base_of[second.id]
    assert sum(w.final for w in weights.values()) == pytest.approx(total)
    report = staged.weighting_report
    assert report["refusals"] == {"replaced": 1, "unreplaced": 1}
    assert report["two_stage"] is True
    assert report["selected"] == len(answering) + 1 and report["respondents"] == len(answering)


def test_one_stage_refusals_keep_the_stratum_total(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    """One stage (a reserve of 1 per hospital): a refusal replaced, then one whose reserve
    ran out; the latter is a nonrespondent of its cell, so each hospital's weights still
    add up to its 30 frame rows."""
    unit = min(r.unit_id for r in rows(db, "selected"))
    members = [r for r in rows(db, "selected") if r.unit_id == unit]
    spare = next(r for r in rows(db, "reserve") if r.unit_id == unit)
    assert draw.replace_refusal(fieldwork, members[0].id).id == spare.id
    assert draw.replace_refusal(fieldwork, members[1].id) is None
    answering = rows(db, "selected")
    enter_rows(db, fieldwork, answering[:-2])  # two nonrespondents in the last hospital
    closing.close(fieldwork, closing.CloseOptions(), "soyte")
    weights = list(db.session.scalars(select(CampaignWeight)))
    unit_of = {r.id: r.unit_id for r in db.session.scalars(select(FrameRow))}
    totals: dict[int, float] = defaultdict(float)
    for w in weights:
        assert w.base == pytest.approx(30 / 8)  # a replacement: its original's n/N
        totals[unit_of[w.frame_row_id]] += w.final
    assert set(totals) == {cu.unit_id for cu in fieldwork.units}
    assert all(t == pytest.approx(30) for t in totals.values())
    assert spare.id in {w.frame_row_id for w in weights}
    assert fieldwork.weighting_report["refusals"] == {"replaced": 1, "unreplaced": 1}
