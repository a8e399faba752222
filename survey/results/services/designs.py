"""The design of each channel, stated in the data (never guessed at estimation time).

**One-time dossier tokens** (``tokens``, a probability sample): a stratified systematic
sample. Stratum = unit × period, split where the 1-in-k interval changed; a response's
weight is ``k`` × the nonresponse adjustment of its stratum (tokens selected ÷ tokens
answered); ``fpc`` = dossiers recorded in the stratum (the population the 1-in-k
selection ran over). PSU = the response (dossiers are drawn one by one).

**Open desk QR codes and kiosks** (``open``, a non-probability sample): respondents
select themselves. Stratum = service point × period; each point's respondents are
weighted to the point's **transaction counts** for the months of the period when its unit
reports them (weight = transactions ÷ respondents, so a busy desk counts for its volume),
and weigh 1 where no count exists. No fpc. Every such result rests on the assumption that
the respondents of a point and period are like the point's other users
(:data:`OPEN_ASSUMPTION`), and is labelled non-probability in the data and every output.

**Campaign samples** (sector surveys, ``campaign:<id>``, a probability sample) bring
their own design through the same columns, stored when the campaign is closed
(:class:`~survey.campaigns.models.CampaignWeight`): stratum = the campaign's stratum
(unit × frame stratum), psu = the person (the draw takes frame rows in one stage),
weight = the final weight (1/π → nonresponse adjustment within cells → raking →
trimming), fpc = the frame count of the stratum (none after a PPS draw). A two-stage
campaign (unit → cluster → person) stores psu = the cluster with fpc = the clusters in the
stratum, and psu2 = the person with fpc2 = the persons in the cluster: the engine then
uses ``analysis``' multistage design (R's ``svydesign(ids = ~psu + psu2, fpc = ~fpc + fpc2)``),
so a cluster taken with certainty keeps its second-stage variance. Microdata and the
bundle's R and Stata scripts carry psu2 and fpc2 and the same two-stage design; a
two-stage draw by PPS (no first-stage fpc) is estimated between clusters alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from survey.campaigns.models import CampaignWeight
from survey.collection.models import DossierToken, Response
from survey.extensions import db
from survey.results.models import TransactionCount

BASIS_OF_CHANNEL = {"token": "tokens", "desk_qr": "open", "kiosk": "open"}
PROBABILITY = {"tokens": True, "open": False}
OPEN_ASSUMPTION = (
    "Mẫu không xác suất (người dân tự quét mã QR): kết quả giả định rằng những người trả lời "
    "tại mỗi điểm phục vụ trong kỳ giống những người sử dụng dịch vụ khác của điểm đó; mỗi "
    "điểm được gia quyền theo số giao dịch của kỳ khi đơn vị báo cáo.")
OPEN_ASSUMPTION_EN = (
    "Non-probability sample (citizens scan the QR code themselves): results assume that "
    "the respondents of each service point in the period are like the point's other users; "
    "each point is weighted to its transaction count for the period where the unit "
    "reports it.")
CAMPAIGN_DESCRIPTION = (
    "Campaign sample: stratum = unit × frame stratum; psu = the person; "
    "weight = 1/selection probability × nonresponse adjustment within cells, raked and "
    "trimmed as the weighting report says; fpc = frame count of the stratum (none after "
    "a PPS draw).")
CAMPAIGN_TWO_STAGE_DESCRIPTION = (
    "Two-stage campaign sample (unit → cluster → person): stratum = unit × frame stratum; "
    "stage 1: psu = the cluster (a ward-day, a class), fpc = clusters in the stratum; "
    "stage 2: psu2 = the person, fpc2 = persons in the cluster; weight = 1/(stage-1 × "
    "stage-2 selection probability) × nonresponse adjustment within cells, raked and "
    "trimmed as the weighting report says. Multistage variance (R: svydesign(ids = ~psu + "
    "psu2, strata = ~stratum, fpc = ~fpc + fpc2, nest = TRUE)): a cluster taken with "
    "certainty keeps its second-stage variance.")
CAMPAIGN_PPS_CLUSTERS_DESCRIPTION = (
    "Two-stage campaign sample whose clusters were drawn with probability proportional to "
    "size: stratum = unit × frame stratum; psu = the cluster, psu2 = the person (fpc2 = "
    "persons in the cluster); no first-stage fpc, so the variance is the with-replacement "
    "variance between clusters (ultimate cluster: R's svydesign(ids = ~psu, strata = "
    "~stratum)), which covers the second stage; weight as in the weighting report.")
TOKENS_DESCRIPTION = (
    "Stratified systematic sample of completed dossiers: stratum = unit × period × 1-in-k "
    "interval; weight = k × tokens selected / tokens answered; fpc = dossiers recorded.")


def _k(probability: float | None) -> int:
    return max(1, round(1.0 / probability)) if probability else 1


@dataclass(frozen=True)
class RowDesign:
    basis: str
    probability: bool
    stratum: str
    weight: float
    fpc: float | None
    psu: str | None = None  # None: the response is its own PSU
    # Two-stage campaign samples: the second-stage unit (the person) and its stage's
    # population (persons in the cluster); ``psu`` is then the cluster, ``fpc`` the
    # clusters in the stratum.
    psu2: str | None = None
    fpc2: float | None = None


# What makes a campaign's stored design two-stage: both stages' units and populations on
# every row. The engine (estimation.two_stage, on a frame) and the outputs (is_two_stage,
# on stored rows) test these same columns, so every output says what the engine did.
TWO_STAGE_COLUMNS = ("psu2", "fpc", "fpc2")


def is_two_stage(rows: Iterable[RowDesign]) -> bool:
    """Whether a campaign's stored design is complete in two stages."""
    rows = list(rows)
    return bool(rows) and all(getattr(d, c) is not None for d in rows
                              for c in TWO_STAGE_COLUMNS)


def campaign_design_vi(info: dict[str, Any]) -> str:
    """A campaign snapshot's design in plain Vietnamese, from what the snapshot stored
    (:meth:`Strata.describe`): stages, what psu and psu2 are, the fpc of each stage."""
    strata = info.get("strata", 0)
    respondents = info.get("respondents", 0)
    if info.get("two_stage"):
        return (
            "Mẫu hai giai đoạn (đơn vị → cụm → người): phân tầng theo đơn vị × tầng của khung "
            "mẫu. Giai đoạn 1 chọn cụm (khoa-ngày, lớp học) trong mỗi tầng: psu = cụm, fpc = "
            "số cụm của tầng trong khung. Giai đoạn 2 chọn một số người cố định trong mỗi cụm "
            "được chọn: psu2 = người, fpc2 = số người của cụm. Trọng số = 1/(xác suất chọn "
            "giai đoạn 1 × xác suất chọn giai đoạn 2) nhân hệ số điều chỉnh không trả lời "
            "trong từng ô, rồi cân chỉnh (raking) và cắt tỉa theo báo cáo trọng số. Sai số "
            "chuẩn tính theo thiết kế nhiều giai đoạn (như svydesign(ids = ~psu + psu2, fpc = "
            "~fpc + fpc2) của R): cụm được chọn chắc chắn (mọi cụm của tầng đều vào mẫu) vẫn "
            "giữ phương sai của giai đoạn 2. "
            f"Số tầng: {strata}; số cụm: {info.get('psus', 0)}; số người trả lời: "
            f"{respondents}.")
    if info.get("stages") == 2:
        return (
            "Mẫu hai giai đoạn (đơn vị → cụm → người), cụm được chọn theo xác suất tỷ lệ với "
            "quy mô (PPS): phân tầng theo đơn vị × tầng của khung mẫu; psu = cụm, psu2 = "
            "người, fpc2 = số người của cụm; giai đoạn 1 không có fpc nên sai số chuẩn tính "
            "theo phương sai giữa các cụm như chọn có hoàn lại (đã bao gồm giai đoạn 2, thận "
            "trọng). Trọng số = 1/(xác suất chọn cụm × xác suất chọn người trong cụm) nhân hệ "
            "số điều chỉnh không trả lời trong từng ô, rồi cân chỉnh và cắt tỉa theo báo cáo "
            f"trọng số. Số tầng: {strata}; số cụm: {info.get('psus', 0)}; số người trả lời: "
            f"{respondents}.")
    fpc = ("fpc = số người của tầng trong khung mẫu" if info.get("fpc") else
           "không hiệu chỉnh tổng thể hữu hạn (chọn theo xác suất tỷ lệ với quy mô)")
    return (
        "Mẫu một giai đoạn: phân tầng theo đơn vị × tầng của khung mẫu, chọn người trực tiếp "
        f"từ khung: psu = người; {fpc}. Trọng số = 1/xác suất chọn nhân hệ số điều chỉnh "
        "không trả lời trong từng ô, rồi cân chỉnh (raking) và cắt tỉa theo báo cáo trọng số. "
        f"Số tầng: {strata}; số người trả lời: {respondents}.")


def campaign_basis(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def campaign_response_ids(campaign_id: int) -> Select[tuple[int]]:
    return select(CampaignWeight.response_id).where(CampaignWeight.campaign_id == campaign_id)


def campaign_designs(campaign_id: int) -> dict[int, RowDesign]:
    """Each weighted response's design, as stored when its campaign was closed."""
    basis = campaign_basis(campaign_id)
    return {int(r.response_id): RowDesign(basis, True, r.stratum, float(r.final),
                                          float(r.fpc) if r.fpc is not None else None, r.psu,
                                          r.psu2, float(r.fpc2) if r.fpc2 is not None else None)
            for r in db.session.execute(select(
                CampaignWeight.response_id, CampaignWeight.stratum, CampaignWeight.final,
                CampaignWeight.fpc, CampaignWeight.psu, CampaignWeight.psu2,
                CampaignWeight.fpc2).where(
                CampaignWeight.campaign_id == campaign_id))}


@dataclass
class Strata:
    """Per stratum: respondents, and for tokens the dossiers and selections; per point:
    the transaction count of the period."""

    period_label: str
    respondents: dict[str, int]
    token_selected: dict[str, int]
    token_dossiers: dict[str, int]
    transactions: dict[int, int]
    campaign_id: int | None = None
    campaign: dict[int, RowDesign] | None = None

    def stratum_key(self, channel: str, unit_id: int, point_id: int | None,
                    probability: float | None) -> str:
        if BASIS_OF_CHANNEL[channel] == "tokens":
            return f"tokens:{unit_id}:{self.period_label}:k{_k(probability)}"
        where = f"p{point_id}" if point_id is not None else f"u{unit_id}"
        return f"open:{where}:{self.period_label}"

    def stratum_of(self, response: Response) -> str:
        return self.stratum_key(response.channel, response.unit_id, response.service_point_id,
                                response.selection_probability)

    def row_design(self, response: Response) -> RowDesign:
        if self.campaign is not None:
            return self.campaign[response.id]
        return self.design_for(response.channel, response.unit_id, response.service_point_id,
                               response.selection_probability)

    def design_for(self, channel: str, unit_id: int, point_id: int | None,
                   probability: float | None) -> RowDesign:
        """The design columns of a response of this channel, unit, point and selection
        probability (all a response's design depends on)."""
        basis = BASIS_OF_CHANNEL[channel]
        stratum = self.stratum_key(channel, unit_id, point_id, probability)
        answered = self.respondents.get(stratum, 0)
        if basis == "tokens":
            k = _k(probability)
            selected = self.token_selected.get(stratum, answered)
            weight = k * (max(selected, answered) / answered) if answered else float(k)
            dossiers = self.token_dossiers.get(stratum)
            fpc = float(max(dossiers, answered)) if dossiers else None
            return RowDesign(basis, True, stratum, weight, fpc)
        count = self.transactions.get(point_id if point_id is not None else -1)
        weight = count / answered if count and answered else 1.0
        return RowDesign(basis, False, stratum, weight, None)

    def describe(self) -> dict[str, Any]:
        """The design of each channel basis as stored with a snapshot."""
        if self.campaign is not None:
            designs = list(self.campaign.values())
            two_stage = is_two_stage(designs)
            clustered = any(d.psu2 is not None for d in designs)
            return {campaign_basis(self.campaign_id or 0): {
                "probability": True, "campaign_id": self.campaign_id,
                "description": (CAMPAIGN_TWO_STAGE_DESCRIPTION if two_stage else
                                CAMPAIGN_PPS_CLUSTERS_DESCRIPTION if clustered else
                                CAMPAIGN_DESCRIPTION),
                "stages": 2 if clustered else 1,
                "strata": len({d.stratum for d in designs}),
                "psus": len({d.psu for d in designs}),
                "respondents": len(designs),
                "fpc": all(d.fpc is not None for d in designs),
                "two_stage": two_stage,
                "weight_total": sum(d.weight for d in designs)}}
        open_strata = [s for s in self.respondents if s.startswith("open:")]
        points = [s.split(":")[1] for s in open_strata]
        weighted = sum(1 for p in points if p.startswith("p") and self.transactions.get(int(p[1:])))
        return {
            "tokens": {"probability": True, "description": TOKENS_DESCRIPTION,
                       "strata": sum(1 for s in self.respondents if s.startswith("tokens:"))},
            "open": {"probability": False, "assumption": OPEN_ASSUMPTION,
                     "assumption_en": OPEN_ASSUMPTION_EN, "strata": len(open_strata),
                     "strata_weighted_to_transactions": weighted},
        }


def strata_for(sel: Any, responses: Select[tuple[Response]]) -> Strata:
    """Aggregate queries only: respondents per stratum, tokens per stratum, counts (for a
    campaign: its stored design, one row a response)."""
    label = sel.period.label
    campaign_id = getattr(sel, "campaign_id", None)
    if campaign_id is not None:
        return Strata(label, {}, {}, {}, {}, campaign_id, campaign_designs(campaign_id))
    strata = Strata(label, {}, {}, {}, {})
    sub = responses.subquery()
    rows = db.session.execute(select(
        sub.c.channel, sub.c.unit_id, sub.c.service_point_id, sub.c.selection_probability,
        func.count()).group_by(sub.c.channel, sub.c.unit_id, sub.c.service_point_id,
                               sub.c.selection_probability)).all()
    token_units: set[int] = set()
    for channel, unit_id, point_id, probability, n in rows:
        key = strata.stratum_key(channel, unit_id, point_id, probability)
        strata.respondents[key] = strata.respondents.get(key, 0) + int(n)
        if BASIS_OF_CHANNEL[channel] == "tokens":
            token_units.add(unit_id)
    if token_units:
        start, end = sel.bounds()
        moment = func.coalesce(DossierToken.completed_at, DossierToken.issued_at)
        for unit_id, probability, selected, n in db.session.execute(
                select(DossierToken.unit_id, DossierToken.selection_probability,
                       DossierToken.selected, func.count())
                .where(DossierToken.unit_id.in_(token_units), moment >= start, moment < end)
                .group_by(DossierToken.unit_id, DossierToken.selection_probability,
                          DossierToken.selected)).all():
            key = f"tokens:{unit_id}:{label}:k{_k(probability)}"
            strata.token_dossiers[key] = strata.token_dossiers.get(key, 0) + int(n)
            if selected:
                strata.token_selected[key] = strata.token_selected.get(key, 0) + int(n)
    months = sel.period.months()
    for point_id, total in db.session.execute(
            select(TransactionCount.service_point_id, func.sum(TransactionCount.count))
            .where(TransactionCount.month.in_(months))
            .group_by(TransactionCount.service_point_id)).all():
        strata.transactions[int(point_id)] = int(total or 0)
    return strata
