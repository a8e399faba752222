"""The microdata bundle for analysts: ``microdata.csv`` (one row per response, the
columns of :mod:`~survey.results.services.microdata`), ``codebook.csv``, ``results.csv``
(the snapshot's rows), ``analysis.R`` (R ``survey``: ``svydesign`` from the design
columns, then every estimate of ``results.csv``) and ``analysis.do`` (Stata ``svyset``).
A closed campaign's snapshot (basis ``campaign:<id>``) exports the campaign's responses with
the design stored at its close; a two-stage campaign's ``psu`` is the cluster and ``psu2``
the person, and both scripts declare the two stages (``ids = ~psu + psu2``, ``svyset psu
... || psu2``), as the engine estimates.
CSV files are UTF-8 with a byte-order mark, so that Excel shows Vietnamese; R reads them
with ``fileEncoding = "UTF-8-BOM"``. microdata.csv is written column-wise, a chunk of
responses at a time (:func:`write_microdata`); a snapshot too big for a web request gets
its bundle as a file written outside the request (:mod:`~survey.results.services.bundles`)."""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import current_app

from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import designs, microdata
from survey.results.services.estimation import item_plans, plan
from survey.results.services.periods import parse_period

RESULT_COLUMNS = ("unit_code", "unit_name", "sector", "channel", "questionnaire", "node",
                  "estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff", "df", "method",
                  "flags", "domain", "unit_id", "rule", "publication", "probability")
BOM = "\ufeff"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


def _write(path: Path, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(BOM)
        writer = csv.writer(fh)
        writer.writerow(list(header))
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            count += 1
    return count


def result_rows(rows: Iterable[ResultRow]) -> Iterable[list[Any]]:
    for r in rows:
        # Service points are shown on unit pages; analysis.R reproduces the units' and
        # sectors' rows, so results.csv holds those (consistently in every export).
        if r.domain == "point":
            continue
        yield [r.unit_code, r.unit_name, r.sector, r.basis, r.questionnaire, r.node, r.estimate,
               r.se, r.ci_low, r.ci_high, r.n, r.n_eff, r.deff, r.df, r.method, r.flags,
               r.domain, r.unit_id, r.rule, r.publication, r.probability]


def _plans(micro: microdata.Microdata) -> list[dict[str, Any]]:
    """What analysis.R must compute: per questionnaire version, each node's estimator."""
    out = []
    for (key, version), lay in sorted(micro.layouts.items()):
        nodes = []
        for node in lay.definition.index.nodes:
            p = plan(lay, node.id)
            if p.kind != "not_estimable":
                columns = [c.removeprefix("score.") for c in p.columns]
                nodes.append({"node": node.id, "kind": p.kind, "columns": columns,
                              "weights": [p.weights[c] for c in p.columns] if p.weights
                              else None})
            # Each question of a share node: the share satisfied on that item alone (an
            # index of one item, svymean of its 0/1 column on the domain).
            for item, item_plan in item_plans(lay, node.id):
                nodes.append({"node": item, "kind": "item", "columns": [item],
                              "weights": [item_plan.weights[item] if item_plan.weights
                                          else 1.0]})
        out.append({"questionnaire": f"{key} v{version}", "key": key, "version": version,
                    "nodes": nodes})
    return out


def write_microdata(micro: microdata.Microdata, columns: list[str], path: Path,
                    chunk: int = microdata.TEXT_CHUNK) -> int:
    """microdata.csv, column-wise (:func:`microdata.text_chunks`): the same bytes as
    :func:`_write` of :meth:`Microdata.rows`, a chunk of responses at a time (about 35 µs
    a response instead of 0.6-1.5 ms; memory bounded by the chunk)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(BOM)
        writer = csv.writer(fh)
        writer.writerow(columns)
        for n, cells in microdata.text_chunks(micro, chunk):
            blank = [""] * n
            writer.writerows(zip(*[cells[c] if c in cells else blank for c in columns],
                                 strict=True))
            count += n
            del cells  # the chunk's cells, before the next chunk is made
    return count


def write_bundle(snapshot: ResultSnapshot, rows: list[ResultRow], out: Path) -> dict[str, int]:
    """Write the five files into ``out`` (created); returns rows written per file."""
    out.mkdir(parents=True, exist_ok=True)
    sel = microdata.Selection(parse_period(snapshot.period), snapshot.scope_unit_id,
                              current_app.config.get("BABEL_DEFAULT_TIMEZONE",
                                                     "Asia/Ho_Chi_Minh"),
                              campaign_id=(snapshot.parameters or {}).get("campaign"))
    micro = microdata.load(sel)
    columns = micro.columns()
    counts = {"microdata.csv": write_microdata(micro, columns, out / "microdata.csv")}
    counts["codebook.csv"] = _write(out / "codebook.csv", ("column", "meaning"),
                                    codebook(micro, columns))
    counts["results.csv"] = _write(out / "results.csv", RESULT_COLUMNS, result_rows(rows))
    plans = _plans(micro)
    (out / "analysis.R").write_text(r_script(snapshot, plans, micro), encoding="utf-8")
    (out / "analysis.do").write_text(stata_script(snapshot, micro), encoding="utf-8")
    return counts


BASE_MEANINGS = {
    "response_id": "Mã phiếu (ẩn danh) / response id",
    "period": "Kỳ báo cáo / reporting period",
    "unit_id": "Mã nội bộ của đơn vị / unit id",
    "unit_path": "Đường dẫn đơn vị từ tỉnh xuống (mã nội bộ) / unit ids from the province down",
    "unit_code": "Mã đơn vị chính thức / official unit code",
    "unit_name": "Tên đơn vị / unit name",
    "sector": "Lĩnh vực / sector",
    "service_point_id": "Điểm phục vụ / service point id",
    "channel": "Kênh thu thập: desk_qr, kiosk, token; đợt khảo sát: thêm paper (phiếu giấy), "
               "field (phỏng vấn viên) / channel",
    "basis": "Cơ sở ước lượng: tokens (mẫu xác suất), open (mẫu không xác suất), campaign:<mã> "
             "(mẫu xác suất của một đợt khảo sát, thiết kế riêng) / basis",
    "probability": "1 nếu là mẫu xác suất / 1 for a probability sample",
    "questionnaire": "Bộ câu hỏi / questionnaire key",
    "version": "Phiên bản bộ câu hỏi / questionnaire version",
    "stratum": "Tầng / stratum",
    "psu": "Đơn vị mẫu cấp 1 (mẫu hai giai đoạn: cụm, ví dụ khoa-ngày hay lớp học) / primary "
           "sampling unit (the cluster in a two-stage campaign)",
    "weight": "Quyền số / design weight",
    "fpc": "Số đơn vị cấp 1 của tầng trong tổng thể (mẫu hai giai đoạn: số cụm của tầng; "
           "trống: không hiệu chỉnh) / stratum population size (clusters in a two-stage "
           "campaign)",
    "psu2": "Đơn vị mẫu cấp 2 của mẫu hai giai đoạn: người được chọn trong cụm (trống: mẫu "
            "một giai đoạn) / second-stage unit: the person within the cluster (blank: one "
            "stage)",
    "fpc2": "Số người của cụm trong khung mẫu, tổng thể của giai đoạn 2 (trống: mẫu một giai "
            "đoạn) / persons in the cluster, the second stage's population (blank: one stage)",
}


def codebook(micro: microdata.Microdata, columns: list[str]) -> Iterable[list[str]]:
    texts: dict[str, str] = {}
    for lay in micro.layouts.values():
        defn = lay.definition
        for item in defn.items:
            texts.setdefault(f"answer.{item.id}", f"Câu trả lời: {item.text.vi} "
                             "(na = không áp dụng; trống = không trả lời)")
            texts.setdefault(item.id, f"1 = hài lòng, 0 = chưa hài lòng, trống = không áp dụng "
                             f"hoặc không trả lời: {item.text.vi}")
        for node in defn.index.nodes:
            texts.setdefault(node.id, f"Giá trị của người trả lời cho chỉ số {node.title.vi} "
                             f"({node.rule})")
    for column in columns:
        yield [column, BASE_MEANINGS.get(column) or texts.get(column, "")]
    # What each basis rests on (not columns: the designs of the bases in the file).
    if micro.strata.campaign is not None:
        info = micro.strata.describe()
        for basis, design in info.items():
            yield [f"(basis = {basis})",
                   f"{designs.campaign_design_vi(design)} / {design['description']}"]
        return
    yield ["(basis = tokens)", designs.TOKENS_DESCRIPTION]
    yield ["(basis = open)", f"{designs.OPEN_ASSUMPTION} / {designs.OPEN_ASSUMPTION_EN}"]


R_TEMPLATE = r'''# SIPAS — reproduce results.csv from microdata.csv with R's survey package.
# Snapshot __SNAPSHOT__, period __PERIOD__, computed by __CODE__.
# Run in this folder:  Rscript analysis.R   (writes results_r.csv and compares)
#
# Design (per channel basis, never mixed):
__DESIGNS__
# Each estimate is a ratio of weighted totals; its standard error is that of the
# linearised variable z (Woodruff), taken from svytotal(~z) on the full design with the
# domain's respondents carrying z and everyone else 0 (domain estimation).
# A stratum (or, in a two-stage campaign, a cluster) with a single sampled unit is centred
# at the grand mean, as the platform does (lonely_psu = "adjust").
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- read.csv("microdata.csv", fileEncoding = "UTF-8-BOM", stringsAsFactors = FALSE,
              colClasses = c(unit_path = "character", unit_code = "character",
                             psu = "character", psu2 = "character"))
plans <- __PLANS__
num <- function(x) suppressWarnings(as.numeric(ifelse(x %in% c("", "na"), NA, x)))

estimate <- function(des, sub, p, member) {
  if (p$kind == "item") {
    # One question: the share satisfied among the domain's respondents who answered it
    # (svymean of its 0/1 column on the domain; N/A and blank are NA and left out).
    x <- as.numeric(sub[[p$columns[[1]]]])
    inside <- member & !is.na(x)
    if (!any(inside)) return(NULL)
    m <- svymean(~item_y, subset(update(des, item_y = ifelse(is.na(x), 0, x)), inside))
    return(c(estimate = as.numeric(coef(m)), se = as.numeric(SE(m))))
  }
  w <- weights(des)
  cols <- p$columns
  if (p$kind == "mean_score") {
    v <- sapply(cols, function(c) num(sub[[paste0("answer.", c)]]))
  } else {
    v <- sapply(cols, function(c) as.numeric(sub[[c]]))
  }
  v <- matrix(v, nrow = nrow(sub))
  r <- !is.na(v)
  v[!r] <- 0
  m <- as.numeric(member)
  if (!any(m == 1 & rowSums(r) > 0)) return(NULL)
  if (p$kind == "index") {
    X <- colSums(w * m * r); Y <- colSums(w * m * r * v)
    a <- unlist(p$weights); keep <- X > 0
    a <- ifelse(keep, a, 0); a <- a / sum(a)
    P <- ifelse(keep, Y / X, 0)
    est <- sum(a * P)
    z <- m * as.numeric((r * sweep(v, 2, P)) %*% ifelse(keep, a / X, 0))
  } else {
    X <- sum(w * m * r); Y <- sum(w * m * r * v)
    est <- Y / X
    z <- m * (rowSums(r * v) - est * rowSums(r)) / X
  }
  des <- update(des, z_lin = z)
  se <- SE(svytotal(~z_lin, des))
  c(estimate = est, se = as.numeric(se))
}

design_of <- function(sub, basis) {
  # As the platform: a campaign's two stages when both stages' units and populations are
  # on every row (multistage variance: a cluster taken with certainty keeps the variance
  # of its second stage); otherwise one stage, with the fpc only when every stratum has it.
  two_stage <- startsWith(basis, "campaign:") && all(!is.na(sub$psu2) & sub$psu2 != "") &&
    all(!is.na(sub$fpc)) && all(!is.na(sub$fpc2))
  if (two_stage) {
    return(svydesign(ids = ~psu + psu2, strata = ~stratum, fpc = ~fpc + fpc2,
                     weights = ~weight, nest = TRUE, data = sub))
  }
  if (all(!is.na(sub$fpc))) {
    svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc, data = sub)
  } else {
    svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = sub)
  }
}

out <- list()
for (q in plans) {
  for (basis in sort(unique(d$basis))) {
    sub <- d[d$questionnaire == q$key & d$version == q$version & d$basis == basis, ]
    if (nrow(sub) == 0) next
    des <- design_of(sub, basis)
    paths <- paste0("/", sub$unit_path, "/")
    ids <- unique(unlist(strsplit(sub$unit_path, "/")))
    domains <- c(lapply(ids, function(id) list(domain = "unit", key = id,
                                                member = grepl(paste0("/", id, "/"), paths,
                                                               fixed = TRUE))),
                 lapply(unique(sub$sector), function(s) list(domain = "sector", key = s,
                                                            member = sub$sector == s)))
    for (p in q$nodes) {
      for (dm in domains) {
        e <- estimate(des, sub, p, dm$member)
        if (is.null(e)) next
        out[[length(out) + 1]] <- data.frame(
          domain = dm$domain, key = dm$key, channel = basis, questionnaire = q$questionnaire,
          node = p$node, estimate = e[["estimate"]], se = e[["se"]])
      }
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, "results_r.csv", row.names = FALSE)

ref <- read.csv("results.csv", fileEncoding = "UTF-8-BOM", stringsAsFactors = FALSE)
ref <- ref[!is.na(ref$estimate), ]
ref$key <- ifelse(ref$domain == "unit", as.character(ref$unit_id), ref$unit_name)
m <- merge(ref, res, by = c("domain", "key", "channel", "questionnaire", "node"),
           suffixes = c("", ".r"))
cat(sprintf("%d of %d estimates compared; largest difference: estimate %.3g, se %.3g\n",
            nrow(m), nrow(ref), max(abs(m$estimate - m$estimate.r)),
            max(abs(m$se - m$se.r), na.rm = TRUE)))
'''


def _design_lines(micro: microdata.Microdata) -> list[tuple[str, str]]:
    """(basis, English description) of each basis the bundle holds."""
    if micro.strata.campaign is not None:
        return [(basis, info["description"]) for basis, info in micro.strata.describe().items()]
    return [("tokens", designs.TOKENS_DESCRIPTION), ("open", designs.OPEN_ASSUMPTION_EN)]


def r_script(snapshot: ResultSnapshot, plans: list[dict[str, Any]],
             micro: microdata.Microdata) -> str:
    lines = "\n".join(textwrap.fill(f"{basis}: {text}", 90, initial_indent="#   ",
                                     subsequent_indent="#     ")
                       for basis, text in _design_lines(micro))
    return (R_TEMPLATE.replace("__SNAPSHOT__", str(snapshot.id))
            .replace("__PERIOD__", snapshot.period)
            .replace("__CODE__", snapshot.code_version)
            .replace("__DESIGNS__", lines)
            .replace("__PLANS__", _r_value(plans)))


def _r_value(value: Any) -> str:
    """A JSON-like value as R code (lists of named lists)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "list(" + ", ".join(f"{k} = {_r_value(v)}" for k, v in value.items()) + ")"
    return "list(" + ", ".join(_r_value(v) for v in value) + ")"


STATA_TEMPLATE = '''* SIPAS — snapshot __SNAPSHOT__, period __PERIOD__ (__CODE__)
* The design columns of microdata.csv, for Stata's svy commands. Estimate each channel
* basis separately: tokens is a probability sample, open is not (see codebook.csv).
import delimited using "microdata.csv", encoding("utf-8") clear varnames(1)
* Each response is its own PSU; strata per channel; fpc = stratum population (tokens).
replace fpc = . if basis != "tokens"
svyset psu [pweight = weight], strata(stratum) fpc(fpc) singleunit(centered)
* Example: the share of satisfied answers to one item in one unit's subtree, tokens only.
* svy, subpop(if basis == "tokens" & strpos("/" + unit_path + "/", "/7/") > 0): mean <item>
'''


STATA_CAMPAIGN_TEMPLATE = '''* SIPAS — snapshot __SNAPSHOT__, campaign __CAMPAIGN__ (__BASIS__)
* Period __PERIOD__ (__CODE__).
* The design columns of microdata.csv, for Stata's svy commands (see codebook.csv):
__DESIGN__
import delimited using "microdata.csv", encoding("utf-8") clear varnames(1)
* Text identifiers (a cluster such as "12:K3") become group numbers; numbers stay.
foreach v in stratum psu psu2 {
    capture confirm string variable `v'
    if !_rc {
        rename `v' `v'_text
        egen long `v' = group(`v'_text)
    }
}
__SVYSET__
* Example: the share of satisfied answers to one item in one unit's subtree.
* svy, subpop(if strpos("/" + unit_path + "/", "/7/") > 0): mean <item>
'''


def stata_svyset(micro: microdata.Microdata) -> str:
    """The ``svyset`` line of a campaign bundle, the design the engine estimates with.

    Stata's multiple-stage syntax is ``svyset psu [weight], design_options || ssu,
    design_options [options]``: the global options (``singleunit()``) come after the last
    stage. ``singleunit(centered)`` centres a lonely unit at the grand mean, as R's
    ``survey.lonely.psu = "adjust"`` and the platform do."""
    rows = list((micro.strata.campaign or {}).values())
    if designs.is_two_stage(rows):
        return ("svyset psu [pweight = weight], strata(stratum) fpc(fpc) "
                "|| psu2, fpc(fpc2) singleunit(centered)")
    fpc = " fpc(fpc)" if rows and all(d.fpc is not None for d in rows) else ""
    return f"svyset psu [pweight = weight], strata(stratum){fpc} singleunit(centered)"


def stata_script(snapshot: ResultSnapshot, micro: microdata.Microdata | None = None) -> str:
    campaign_id = micro.selection.campaign_id if micro is not None else None
    if micro is not None and campaign_id is not None:
        [(basis, text)] = _design_lines(micro)
        return (STATA_CAMPAIGN_TEMPLATE.replace("__SNAPSHOT__", str(snapshot.id))
                .replace("__CAMPAIGN__", str(campaign_id)).replace("__BASIS__", basis)
                .replace("__PERIOD__", snapshot.period)
                .replace("__CODE__", snapshot.code_version)
                .replace("__DESIGN__", textwrap.fill(text, 90, initial_indent="* ",
                                                     subsequent_indent="* "))
                .replace("__SVYSET__", stata_svyset(micro)))
    return (STATA_TEMPLATE.replace("__SNAPSHOT__", str(snapshot.id))
            .replace("__PERIOD__", snapshot.period).replace("__CODE__", snapshot.code_version))


def results_csv(rows: Iterable[ResultRow]) -> bytes:
    """results.csv in memory (for a download)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(RESULT_COLUMNS)
    for row in result_rows(rows):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A CSV file in memory: UTF-8 with a byte-order mark (Excel then shows Vietnamese),
    blanks for missing values, numbers written as plain numbers (point decimal)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([format(v, ".10g") if isinstance(v, float) and not math.isnan(v)
                         else _text(v) for v in row])
    return buffer.getvalue().encode("utf-8")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula (a unit named ``=HYPERLINK(…)``)
    gets a leading apostrophe, which Excel and LibreOffice show as plain text (OWASP
    "CSV injection")."""
    value = _cell(value)
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def table_csv(table: Any) -> bytes:
    """One table of a results page (:class:`survey.results.services.tables.Table`)."""
    return csv_bytes(table.header, table.rows)
