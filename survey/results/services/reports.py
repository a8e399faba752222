"""PDF reports per unit and per sector, in Vietnamese, read from a frozen snapshot: the
kind a Sở attaches to its annual report to the People's Committee.

Each report has a title page (who, period, snapshot), then per questionnaire and channel:
the overall index and its components with their 95 % intervals (a table and a chart with
the interval bars and the target line), the comparison with the sector's target, the
change since the previous period with its significance, the criteria (index nodes over
questionnaire items), flags in words; a sector report lists its agencies; and a
one-page methodology note in plain Vietnamese (designs per channel, intervals,
publication rules). The layout is :mod:`survey.render.report`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from survey.common.access import Scope
from survey.common.errors import NotFound
from survey.extensions import db
from survey.render.report import (
    Bar,
    Block,
    Chart,
    Heading,
    Note,
    PageEnd,
    TableBlock,
    Text,
    TitlePage,
    report_pdf,
)
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import dashboard, designs, sectors, snapshots
from survey.results.services.tables import (
    SECTORS_VI,
    STATUS_VI,
    channel_vi,
    suppressed,
)

REPORT_TITLE = "BÁO CÁO KẾT QUẢ ĐO LƯỜNG SỰ HÀI LÒNG CỦA NGƯỜI DÂN"


def number(value: float | None, row: ResultRow, signed: bool = False) -> str:
    """A figure as printed: per cent with one decimal for shares, two for mean scores,
    decimal comma (Vietnamese usage)."""
    if value is None:
        return "—"
    if row.rule == "mean_score":
        text = f"{value:+.2f}" if signed else f"{value:.2f}"
    else:
        text = f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"
    return text.replace(".", ",")


def interval(row: ResultRow) -> str:
    if suppressed(row) or row.ci_low is None or row.ci_high is None:
        return "—"
    return f"{number(row.ci_low, row)} – {number(row.ci_high, row)}"


def notes(row: ResultRow) -> str:
    """Flags in words; the channel's non-probability nature is stated once per section."""
    flags = ",".join(f for f in row.flags.split(",") if f and f != "non_probability")
    words = dashboard.explain_flags(flags)
    if suppressed(row) and not words:
        words = "không công bố"
    return words


def _scale(row: ResultRow) -> float:
    return 1.0 if row.rule == "mean_score" else 100.0


def bar(label: str, line: dashboard.Line) -> Bar:
    r, f = line.row, _scale(line.row)
    if suppressed(r):
        return Bar(label, None, note=f"không công bố (n = {r.n}; lý do trong bảng)")
    return Bar(label, r.estimate * f if r.estimate is not None else None,
               r.ci_low * f if r.ci_low is not None else None,
               r.ci_high * f if r.ci_high is not None else None,
               line.target * 100 if line.target is not None and r.rule != "mean_score"
               else None, line.status)


def index_table(lines: list[tuple[str, dashboard.Line]]) -> TableBlock:
    return TableBlock(
        ("Chỉ số", "Ước lượng", "KTC 95%", "n", "n hiệu dụng", "deff", "Ghi chú"),
        [(title, "—" if suppressed(ln.row) else number(ln.row.estimate, ln.row),
          interval(ln.row), str(ln.row.n),
          "—" if ln.row.n_eff is None else f"{ln.row.n_eff:.0f}",
          "—" if ln.row.deff is None else f"{ln.row.deff:.2f}".replace(".", ","),
          notes(ln.row)) for title, ln in lines],
        (0.30, 0.09, 0.14, 0.07, 0.09, 0.07, 0.24))


def chart(title: str, lines: list[tuple[str, dashboard.Line]]) -> Chart | None:
    shares = [(t, ln) for t, ln in lines if ln.row.rule != "mean_score"]
    if all(suppressed(ln.row) for _, ln in shares):
        return None  # nothing to draw; the table says why
    return Chart(title, [bar(t, ln) for t, ln in shares])


def target_sentence(line: dashboard.Line, sector: str | None) -> str:
    r = line.row
    if line.target is None or r.rule == "mean_score":
        return "Không có mục tiêu cho chỉ số này."
    head = (f"Mục tiêu của lĩnh vực {SECTORS_VI.get(sector or '', sector or '')}: "
            f"trên {line.target * 100:.0f}% hài lòng.")
    if line.status == "suppressed":
        return f"{head} Chỉ số chung không được công bố ({notes(r)}), nên không so sánh."
    verdict = {"below": "thấp hơn mục tiêu một cách có ý nghĩa thống kê (cả khoảng tin cậy "
                        "95% nằm dưới mục tiêu)",
               "above": "cao hơn mục tiêu một cách có ý nghĩa thống kê (cả khoảng tin cậy "
                        "95% nằm trên mục tiêu)",
               "level": "chưa phân biệt được với mục tiêu (khoảng tin cậy 95% chứa mục tiêu)"}
    return (f"{head} Chỉ số chung {number(r.estimate, r)}% (KTC 95%: {interval(r)}%): "
            f"{verdict.get(line.status, STATUS_VI[line.status])}.")


def change_sentence(line: dashboard.Line, before_period: str | None) -> str:
    c = line.change
    if c is None:
        return ("Không có kết quả kỳ trước (hoặc kết quả không được công bố) để so sánh."
                if before_period is None else
                f"Không so sánh được với kỳ {before_period}.")
    r = line.row
    unit = " điểm" if r.rule == "mean_score" else " điểm phần trăm"
    low = number(c.ci_low, r, True)
    high = number(c.ci_high, r, True)
    sig = ("thay đổi có ý nghĩa thống kê" if c.significant
           else "thay đổi không có ý nghĩa thống kê (có thể chỉ do sai số chọn mẫu)")
    return (f"So với kỳ {before_period or 'trước'} ({number(c.previous, r)}): "
            f"{number(c.difference, r, True)}{unit} (KTC 95% của chênh lệch: {low} đến "
            f"{high}; p = {c.p_value:.3f}".replace(".", ",") + f"): {sig}.")


def campaign_sample(snapshot: ResultSnapshot) -> list[Block]:
    """A campaign snapshot's design (stages, what psu and psu2 are, each stage's fpc),
    from what the snapshot stored; empty for a snapshot of the channels."""
    out: list[Block] = []
    for basis, info in sorted((snapshot.designs or {}).items()):
        if basis.startswith("campaign:"):
            out += [Heading("Thiết kế mẫu của đợt khảo sát", 2),
                    Text(designs.campaign_design_vi(info) + " Dữ liệu vi mô kèm theo có các "
                         "cột stratum, psu, fpc, psu2, fpc2 và weight; chương trình R và Stata "
                         "khai báo đúng thiết kế này.")]
    return out


def channels(tokens: dict[str, Any], open_: dict[str, Any]) -> list[Block]:
    """The two channels' designs (a snapshot of the channels, not of a campaign)."""
    return [
        Heading("Hai kênh thu thập, không bao giờ gộp chung", 2),
        Text("Mã dùng một lần theo hồ sơ (mẫu xác suất): hệ thống chọn ngẫu nhiên có hệ thống "
             "1 trên k hồ sơ đã giải quyết và in mã khảo sát dùng một lần cho hồ sơ được chọn. "
             "Mẫu phân tầng theo đơn vị và kỳ; trọng số = k nhân hệ số điều chỉnh không trả lời "
             "(số mã được chọn chia số mã đã trả lời); có hiệu chỉnh tổng thể hữu hạn (fpc) theo "
             f"số hồ sơ của tầng. Số tầng trong kỳ: {tokens.get('strata', 0)}."),
        Text("Mã QR công khai tại quầy và máy tính bảng (mẫu không xác suất): người dân tự "
             "quét mã nên không biết xác suất chọn. Mỗi điểm phục vụ là một tầng; người trả "
             "lời được gia quyền theo số giao dịch của điểm trong kỳ khi đơn vị báo cáo (quầy "
             "đông người được tính theo khối lượng phục vụ). "
             + (open_.get("assumption") or "") + f" Số tầng: {open_.get('strata', 0)}, trong "
             f"đó {open_.get('strata_weighted_to_transactions', 0)} gia quyền theo số giao "
             "dịch. Đây là số liệu để theo dõi thường xuyên, cần đọc thận trọng."),
    ]


def methodology(snapshot: ResultSnapshot) -> list[Block]:
    stored = snapshot.designs or {}
    tokens = stored.get("tokens") or {}
    open_ = stored.get("open") or {}
    p = snapshot.parameters or {}
    campaign = campaign_sample(snapshot)
    return [
        PageEnd(), Heading("Ghi chú về phương pháp"),
        Text("Chỉ số hài lòng của một nhóm câu hỏi là tỷ lệ câu trả lời hợp lệ ở mức 4 hoặc 5 "
             "(hài lòng, rất hài lòng); chỉ số thành phần là trung bình các chỉ số con; chỉ số "
             "chung tính theo quy tắc của bộ câu hỏi. Mọi con số được ước lượng theo thiết kế "
             "mẫu (có trọng số), kèm khoảng tin cậy 95%: nếu lặp lại việc khảo sát nhiều lần, "
             "95% các khoảng tính như vậy sẽ chứa giá trị thật."),
        *(campaign or channels(tokens, open_)),
        Heading("Sai số chuẩn và khoảng tin cậy", 2),
        Text("Sai số chuẩn tính bằng tuyến tính hoá Taylor của đúng công thức chỉ số (như gói "
             "survey của R). Khoảng tin cậy của tỷ lệ tính trên thang logit với phân phối t "
             "theo bậc tự do của thiết kế, nên luôn nằm trong 0–100%; khi tỷ lệ bằng 0% hoặc "
             "100% dùng khoảng Korn–Graubard (một phía). Điểm trung bình dùng khoảng Wald (t). "
             "n hiệu dụng = số phiếu chia hệ số thiết kế (deff). Thay đổi giữa hai kỳ: hai mẫu "
             "độc lập, sai số chuẩn của hiệu = căn bậc hai tổng bình phương hai sai số chuẩn; "
             "thay đổi có ý nghĩa khi p < 0,05. Một đơn vị thấp hơn (cao hơn) mục tiêu có ý "
             "nghĩa khi cả khoảng tin cậy 95% nằm dưới (trên) mục tiêu."),
        Heading("Quy tắc công bố (NCHS 2017)", 2),
        Text("Theo chuẩn trình bày tỷ lệ của Trung tâm Thống kê Y tế Quốc gia Hoa Kỳ (Parker "
             "và cộng sự, 2017): không công bố khi n hiệu dụng dưới 30, hoặc khoảng "
             "Korn–Graubard rộng từ 30 điểm phần trăm, hoặc độ rộng tương đối vượt 130%; cần "
             "thẩm định khi tỷ lệ bằng 0% hoặc 100% hoặc bậc tự do dưới 8. Điểm trung bình: "
             "không công bố dưới 30 phiếu. Con số không công bố để trống, kèm lý do; không "
             "bao giờ xếp hạng."),
        Note(f"Ảnh chụp kết quả số {snapshot.id}, kỳ {snapshot.period}; phương pháp khoảng "
             f"tin cậy: {p.get('ci_proportion', 'logit')} (tỷ lệ), {p.get('ci_mean', 'wald')} "
             f"(điểm); quy tắc công bố {p.get('publication_rules', 'NCHS 2017')}; mã tính toán "
             f"{snapshot.code_version}; mã băm dữ liệu {snapshot.input_hash[:16]}. Tính lại "
             "cùng dữ liệu cho cùng kết quả; dữ liệu vi mô và chương trình R kèm theo cho phép "
             "kiểm chứng."),
    ]


def title_page(subject: str, snapshot: ResultSnapshot, extra: list[str]) -> TitlePage:
    return TitlePage(REPORT_TITLE, subject, [
        f"Kỳ {snapshot.period}: từ {snapshot.period_start:%d/%m/%Y} đến "
        f"{snapshot.period_end:%d/%m/%Y}", *extra,
        f"Ảnh chụp kết quả số {snapshot.id} ({snapshot.n_responses} phiếu), tính lúc "
        f"{snapshot.created_at:%d/%m/%Y %H:%M} UTC" if snapshot.created_at else
        f"Ảnh chụp kết quả số {snapshot.id}",
        "Bộ câu hỏi: " + ", ".join(snapshot.questionnaire_versions or []),
    ])


def channel_text(probability: bool) -> str:
    return ("Mẫu xác suất (mã dùng một lần cho một mẫu hệ thống các hồ sơ đã giải quyết)."
            if probability else
            "Mẫu không xác suất (người dân tự quét mã QR): gia quyền theo số giao dịch của "
            "từng điểm phục vụ khi có; đọc thận trọng.")


# --- unit ----------------------------------------------------------------------------------
def unit_report(scope: Scope, unit_id: int, snapshot_id: int | None = None) -> bytes:
    """The PDF report of a unit (its subtree) in a snapshot (default: the newest)."""
    with force_locale("vi"):
        page = dashboard.unit_page(scope, unit_id, snapshot_id)
        return report_pdf(f"SIPAS · {page.unit.name} · {page.snapshot.period}",
                          unit_blocks(page))


def index_blocks(nodes: list[dashboard.NodeLine], trend: list[dashboard.TrendPoint],
                 snapshot: ResultSnapshot, sector: str | None, what: str) -> list[Block]:
    """The overall index and its components (table, chart), the target comparison, the
    change since the previous period and the trend, then the criteria and the share
    satisfied on each question."""
    top = [(n.title, n.line) for i, n in enumerate(nodes) if i == 0 or n.depth == 1]
    rest = [(n.title, n.line) for i, n in enumerate(nodes) if i > 0 and n.depth != 1]
    blocks: list[Block] = [Heading(f"Chỉ số chung và các thành phần {what}".strip(), 2),
                           index_table(top)]
    figure = chart("Biểu đồ: ước lượng và khoảng tin cậy 95% (vạch đứt: mục tiêu)", top)
    if figure is not None:
        blocks.append(figure)
    if nodes:
        blocks.append(Text(target_sentence(nodes[0].line, sector)))
        current = bool(trend) and trend[-1].line.row.snapshot_id == snapshot.id
        before = trend[-2].period if current and len(trend) > 1 else None
        blocks.append(Text(change_sentence(trend[-1].line if current else nodes[0].line,
                                           before)))
    if len(trend) > 1:
        blocks += [Heading("Xu hướng của chỉ số chung qua các kỳ", 2), trend_table(trend)]
    if rest:
        blocks += [Heading("Các tiêu chí", 2), index_table(rest)]
    questions = [(f"{q.number}. {q.text}" if q.number else q.text, q.line)
                 for n in nodes for q in n.items]
    if questions:
        blocks += [Heading("Tỷ lệ hài lòng theo từng câu hỏi", 2), index_table(questions)]
    return blocks


def trend_table(trend: list[dashboard.TrendPoint]) -> TableBlock:
    def cells(line: dashboard.Line) -> tuple[str, ...]:
        r, c = line.row, line.change
        return ("—" if suppressed(r) else number(r.estimate, r), interval(r), str(r.n),
                number(c.difference, r, True) if c else "—",
                f"{c.p_value:.3f}".replace(".", ",") if c else "—",
                ("có ý nghĩa" if c.significant else "không có ý nghĩa") if c else "—")

    return TableBlock(("Kỳ", "Ước lượng", "KTC 95%", "n", "Thay đổi", "p", "Ý nghĩa"),
                      [(pt.period, *cells(pt.line)) for pt in trend],
                      (0.16, 0.13, 0.2, 0.1, 0.13, 0.1, 0.18))


def panel_heading(title: str, label: str, basis: str, probability: bool) -> list[Block]:
    return [Heading(f"{title} — {channel_vi(basis, probability)}"),
            Note(f"Bộ câu hỏi {label}. {channel_text(probability)}")]


def unit_blocks(page: dashboard.UnitPage) -> list[Block]:
    unit, snapshot = page.unit, page.snapshot
    goal = dashboard.targets().get(unit.sector)
    blocks: list[Block] = [title_page(unit.name, snapshot, [
        f"Lĩnh vực: {SECTORS_VI.get(unit.sector, unit.sector)}"
        + (f" — mục tiêu trên {goal * 100:.0f}% hài lòng" if goal is not None else "")])]
    if not page.panels:
        blocks.append(Text("Không có ước lượng nào trong phạm vi của bạn."))
    for panel in page.panels:
        title = panel.nodes[0].title if panel.nodes else panel.questionnaire
        blocks += panel_heading(title, panel.questionnaire, panel.basis, panel.probability)
        blocks += index_blocks(panel.nodes, panel.trend, snapshot, unit.sector, "")
        if panel.points:
            blocks.append(Heading("Theo điểm phục vụ", 2))
            blocks += agency_blocks(panel.points, "Chỉ số chung theo điểm phục vụ (vạch đứt: "
                                                  "mục tiêu)")
        if panel.children:
            blocks.append(Heading("Các đơn vị trực thuộc", 2))
            blocks += agency_blocks(panel.children, "Chỉ số chung của các đơn vị trực thuộc "
                                                    "(vạch đứt: mục tiêu)")
    return blocks + methodology(snapshot)


# --- sector --------------------------------------------------------------------------------
def sector_report(scope: Scope, sector: str, snapshot_id: int | None = None) -> bytes:
    """The PDF report of a sector, from its page (:func:`sectors.sector_page`: the
    sector's index tree over the whole province, its trend, its agencies), with each
    agency's change since the previous period."""
    page = sectors.sector_page(scope, sector, snapshot_id)
    if not page.panels:
        raise NotFound("sector results", sector)
    before_snapshot = dashboard.previous_snapshot(page.snapshot)
    if before_snapshot is not None:
        before = {dashboard.row_key(r): r
                  for r in snapshots.rows_in_scope(scope, before_snapshot.id)}
        dashboard.add_changes([ln for p in page.panels for ln in p.agencies], before)
    with force_locale("vi"):
        name = f"Lĩnh vực {SECTORS_VI.get(sector, sector)}"
        return report_pdf(f"SIPAS · {name} · {page.snapshot.period}", sector_blocks(name, page))


def sector_blocks(name: str, page: sectors.SectorPage) -> list[Block]:
    snapshot = page.snapshot
    agencies = {ln.row.unit_id for p in page.panels for ln in p.agencies}
    blocks: list[Block] = [title_page(name, snapshot, [
        *([f"Mục tiêu: trên {page.target * 100:.0f}% hài lòng"] if page.target is not None
          else []),
        f"{len(agencies)} cơ quan, đơn vị có kết quả trong phạm vi"])]
    for panel in page.panels:
        blocks += panel_heading(panel.title, panel.questionnaire, panel.basis,
                                panel.probability)
        blocks += index_blocks(panel.nodes, panel.trend, snapshot, page.sector,
                               "của lĩnh vực")
        mine = panel.agencies
        if mine:
            blocks += [Heading("Các cơ quan, đơn vị", 2),
                       Text(f"{panel.count('below')} trên {len(mine)} đơn vị thấp hơn mục "
                            f"tiêu một cách có ý nghĩa; {panel.count('above')} cao hơn; "
                            f"{panel.count('level')} chưa phân biệt được; "
                            f"{panel.count('suppressed')} không công bố (quá ít phiếu)."),
                       *agency_blocks(mine)]
    return blocks + methodology(snapshot)


def agency_blocks(lines: list[dashboard.Line],
                  title: str = "Chỉ số chung của từng đơn vị (vạch đứt: mục tiêu)"
                  ) -> list[Block]:
    """The published agencies as a chart and a table; the suppressed ones only named,
    with their n (as the overview page does), so that a long list stays short."""
    shown = [ln for ln in lines if not suppressed(ln.row)]
    hidden = [ln for ln in lines if suppressed(ln.row)]
    out: list[Block] = []
    if shown:
        out += [Chart(title, [bar(ln.row.unit_name, ln) for ln in shown]),
                agency_table(shown)]
    if hidden:
        out.append(Text(f"Không công bố ({len(hidden)} đơn vị: quá ít phiếu hoặc khoảng tin "
                        "cậy quá rộng theo quy tắc NCHS 2017): " + "; ".join(
                            f"{ln.row.unit_name} (n = {ln.row.n})" for ln in hidden) + "."))
    return out


def agency_table(lines: list[dashboard.Line]) -> TableBlock:
    def moved(ln: dashboard.Line) -> str:
        if ln.change is None:
            return "—"
        return (number(ln.change.difference, ln.row, True)
                + (" (có ý nghĩa)" if ln.change.significant else " (không có ý nghĩa)"))

    return TableBlock(
        ("Đơn vị", "Ước lượng", "KTC 95%", "n", "So với mục tiêu", "Thay đổi", "Ghi chú"),
        [(ln.row.unit_name, "—" if suppressed(ln.row) else number(ln.row.estimate, ln.row),
          interval(ln.row), str(ln.row.n), STATUS_VI[ln.status], moved(ln), notes(ln.row))
         for ln in lines],
        (0.26, 0.09, 0.14, 0.06, 0.16, 0.12, 0.17))


def report_for_cli(snapshot: ResultSnapshot, unit_code: str | None,
                   sector: str | None) -> bytes:
    """The report of a unit (by official code) or a sector for the command line, which
    reads every unit (a scope over every root unit, results and export only)."""
    from survey.common.access import Grant
    from survey.common.errors import ServiceError
    from survey.org.models import Unit

    roots = db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)))
    scope = Scope(tuple(Grant(None, u.id, u.path, None, frozenset({"view", "results", "export"}))
                        for u in roots))
    try:
        if sector is not None:
            return sector_report(scope, sector, snapshot.id)
        unit = db.session.scalar(select(Unit).where(Unit.code == (unit_code or "").strip()))
        if unit is None:
            raise ServiceError(_("No unit has the code %(code)s.", code=unit_code), "unit")
        return unit_report(scope, unit.id, snapshot.id)
    except NotFound as err:
        raise ServiceError(_("Snapshot %(id)d has no results for %(what)s.", id=snapshot.id,
                             what=unit_code or sector)) from err
