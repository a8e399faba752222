"""Two-pass sums (analysis.twopass): same Estimates as in memory, additive, SQL-ready."""

from __future__ import annotations

import ast
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import analysis.longform
import analysis.twopass
from analysis import (
    Estimates,
    LonelyPSU,
    SurveyDesign,
    combine_partials,
    linearization_coefficients,
    long_format,
    pass1_totals,
    pass2_totals,
    strata_table,
    twopass_estimates,
    twopass_point_estimates,
)

ITEMS = ["q1", "q2", "q3", "q4", "q5"]
WEIGHTS = {"q1": 1.0, "q2": 2.0, "q3": 0.5, "q5": 1.0}  # q4 weighs 0
DESIGNS: dict[str, dict[str, Any]] = {
    "strata_fpc": {"strata": "stratum", "fpc": "n_pop"},
    "psu_fpc_weights_adjust": {
        "strata": "stratum",
        "psu": "hh",
        "fpc": "n_hh_pop",
        "weights": "w",
        "lonely_psu": "adjust",
    },
    "psu_weights_average": {
        "strata": "stratum",
        "psu": "hh",
        "weights": "w",
        "lonely_psu": "average",
    },
    "psu_fpc_certainty": {
        "strata": "stratum",
        "psu": "hh",
        "fpc": "n_hh_pop",
        "lonely_psu": "certainty",
    },
    "strata_weights_remove": {"strata": "stratum", "weights": "w", "lonely_psu": "remove"},
}
# (statistic, threshold, item weights, items)
CASES: dict[str, tuple[str, float | None, dict[str, float] | None, list[str]]] = {
    "index": ("satisfaction_index", 4, WEIGHTS, ITEMS),
    "index_scores": ("satisfaction_index", None, WEIGHTS, ITEMS),
    "index_equal_weights": ("satisfaction_index", 4, None, ITEMS),
    "pooled": ("pooled_index", 4, None, ITEMS),
    "mean_score": ("mean_score", None, None, ITEMS),
    "mean_share": ("mean", 4, None, ["q2"]),
    "mean_of_scores": ("mean", None, None, ["q2"]),
}
BYS: list[str | list[str] | None] = ["domain", None, ["agency", "sex"]]


@pytest.fixture(scope="module")
def data(synthetic: pd.DataFrame) -> pd.DataFrame:
    """Synthetic survey with items missing in whole agencies, weights, zero weights, NaN keys."""
    out = synthetic.copy()
    out.loc[out["agency"].isin(["A03", "A07"]), "q2"] = np.nan  # partial domains
    out.loc[out["agency"] == "A07", "q5"] = np.nan
    rng = np.random.default_rng(20261125)
    size = out.groupby("stratum")["n_pop"].transform("size")
    out["w"] = out["n_pop"] / size * rng.uniform(0.5, 1.5, len(out))
    out.loc[[5, 17], "w"] = 0.0
    out["domain"] = out["agency"].where(~out.index.isin([8, 40, 41]))
    out.loc[[3, 90], "sex"] = np.nan
    out["q2_sat"] = (out["q2"] >= 4).astype(np.float64).where(out["q2"].notna())
    return out


def in_memory(design: SurveyDesign, case: str, by: str | list[str] | None) -> Estimates:
    statistic, threshold, weights, items = CASES[case]
    if statistic == "satisfaction_index":
        return design.satisfaction_index(items, threshold=threshold, item_weights=weights, by=by)
    if statistic == "pooled_index":
        return design.pooled_index(items, threshold=threshold, by=by)
    if statistic == "mean_score":
        return design.mean_score(items, by=by)
    return design.mean("q2_sat" if threshold is not None else "q2", by=by)


def positive(case: str) -> list[str]:
    _, _, weights, items = CASES[case]
    return [i for i in items if weights is None or weights.get(i, 0) > 0]


def options(case: str, by: str | list[str] | None) -> dict[str, Any]:
    """Keyword arguments of ``case`` for linearization_coefficients and twopass_estimates."""
    statistic, _, weights, _ = CASES[case]
    return {"statistic": statistic, "item_weights": weights, "by": by}


def coefficients_of(
    item_totals: pd.DataFrame, domain_totals: pd.DataFrame, case: str, by: str | list[str] | None
) -> pd.DataFrame:
    return linearization_coefficients(
        item_totals, domain_totals, CASES[case][3], **options(case, by)
    )


def case_estimates(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame],
    case: str,
    by: str | list[str] | None,
    lonely_psu: LonelyPSU,
) -> Estimates:
    """twopass_estimates of ``case`` from item_totals, domain_totals, stratum_totals, strata."""
    _, threshold, _, items = CASES[case]
    return twopass_estimates(
        *frames,
        items,
        lonely_psu=lonely_psu,
        is_proportion=threshold is not None,
        **options(case, by),
    )


def two_pass(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    strata: pd.DataFrame,
    case: str,
    by: str | list[str] | None,
    lonely_psu: LonelyPSU,
) -> Estimates:
    threshold = CASES[case][1]
    item_totals, domain_totals = pass1_totals(
        answers, responses, positive(case), threshold=threshold, by=by
    )
    coefficients = coefficients_of(item_totals, domain_totals, case, by)
    stratum_totals = pass2_totals(answers, responses, coefficients, threshold=threshold, by=by)
    return case_estimates(
        (item_totals, domain_totals, stratum_totals, strata), case, by, lonely_psu
    )


def stored_answers(answers: pd.DataFrame) -> pd.DataFrame:
    """As a database holds them: some missing answers absent, others stored as NULL (N/A)."""
    drop = answers["value"].isna() & (answers["response_id"] % 2 == 0)
    return answers[~drop].reset_index(drop=True)


def assert_same(got: Estimates, want: Estimates, rtol: float = 1e-10) -> None:
    """Every published number of ``got`` equals ``want`` to ``rtol`` (relative)."""
    pd.testing.assert_frame_equal(got.keys, want.keys)
    assert (got.statistic, got.is_proportion) == (want.statistic, want.is_proportion)
    assert got.missing_children == want.missing_children
    for f in ("estimate", "df", "n", "sum_weights"):
        np.testing.assert_allclose(getattr(got, f), getattr(want, f), rtol=rtol, atol=0, err_msg=f)
    # a variance that is 0 in exact arithmetic (one PSU, all alike) is ~1e-18 after rounding
    np.testing.assert_allclose(got.se, want.se, rtol=rtol, atol=1e-15)
    real = want.se > 1e-8
    np.testing.assert_allclose(got.deff[real], want.deff[real], rtol=rtol)
    methods = (
        ["wald", "logit", "wilson", "beta", "korn-graubard"] if want.is_proportion else ["wald"]
    )
    for method in methods:
        np.testing.assert_allclose(
            got.conf_int(0.05, method), want.conf_int(0.05, method), rtol=1e-9, atol=1e-12
        )
    flags_got, flags_want = got.flags(), want.flags()
    # a variance that is 0 in exact arithmetic (a domain of one respondent) comes out as 0 or
    # as ~1e-33 depending on the order of the sums, in either path: zero_se follows that bit
    noise = want.se < 1e-12
    flags_got.loc[noise, "zero_se"] = flags_want.loc[noise, "zero_se"]
    numeric = ["n_eff", "ci_width", "relative_ci_width"]
    pd.testing.assert_frame_equal(flags_got.drop(columns=numeric), flags_want.drop(columns=numeric))
    for col in numeric:
        np.testing.assert_allclose(flags_got[col][real], flags_want[col][real], rtol=1e-9)
    pd.testing.assert_frame_equal(got.summary_frame(), want.summary_frame(), rtol=1e-9, atol=1e-12)


# -- agreement with the in-memory estimators -----------------------------------------------
@pytest.mark.parametrize("by", BYS, ids=str)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", list(DESIGNS))
def test_two_passes_give_the_in_memory_estimates(
    data: pd.DataFrame, name: str, case: str, by: str | list[str] | None
) -> None:
    design = SurveyDesign(data, **DESIGNS[name])
    want = in_memory(design, case, by)
    answers, responses, strata = long_format(design, CASES[case][3], by=by)
    got = two_pass(stored_answers(answers), responses, strata, case, by, design.lonely_psu)
    assert_same(got, want)


@pytest.fixture()
def passes(data: pd.DataFrame) -> dict[str, Any]:
    """Both passes of the weighted index by ``domain`` on one design, and the design."""
    design = SurveyDesign(data, **DESIGNS["psu_fpc_weights_adjust"])
    answers, responses, strata = long_format(design, ITEMS, by="domain")
    item_totals, domain_totals = pass1_totals(answers, responses, list(WEIGHTS), by="domain")
    coef = linearization_coefficients(
        item_totals, domain_totals, ITEMS, item_weights=WEIGHTS, by="domain"
    )
    return {
        "design": design,
        "answers": answers,
        "responses": responses,
        "strata": strata,
        "item_totals": item_totals,
        "domain_totals": domain_totals,
        "coef": coef,
        "stratum_totals": pass2_totals(answers, responses, coef, by="domain"),
    }


def test_point_estimates_need_pass_one_only(passes: dict[str, Any]) -> None:
    want = passes["design"].satisfaction_index(ITEMS, item_weights=WEIGHTS, by="domain")
    got = twopass_point_estimates(
        passes["item_totals"], passes["domain_totals"], ITEMS, item_weights=WEIGHTS, by="domain"
    )
    np.testing.assert_allclose(got["estimate"], want.estimate, rtol=1e-13)
    np.testing.assert_array_equal(got["n"], want.n)
    assert list(got["missing_children"]) == list(want.missing_children)
    assert got["partial"].tolist() == want.flags()["partial"].tolist()
    assert set(got.loc[got["partial"], "domain"]) == {"A03", "A07"}


def test_coefficients_are_the_linearised_values(passes: dict[str, Any]) -> None:
    """sum_k coef r (y - centre), times w, is the in-memory influence value of each row."""
    design, coef = passes["design"], passes["coef"]
    want = design.satisfaction_index(ITEMS, item_weights=WEIGHTS, by="domain")
    assert list(coef.columns) == ["domain", "item_id", "coef", "centre"]
    rows = passes["answers"].merge(passes["responses"], on="response_id")
    rows = rows.merge(coef, on=["domain", "item_id"])
    rows = rows[rows["value"].notna() & (rows["weight"] != 0)]
    term = rows["weight"] * rows["coef"] * ((rows["value"] >= 4) - rows["centre"])
    z = term.groupby(rows["response_id"]).sum().reindex(range(design.n), fill_value=0.0)
    assert want.linearization is not None
    np.testing.assert_allclose(z.to_numpy(), want.linearization.z, rtol=1e-12, atol=1e-17)


# -- additivity --------------------------------------------------------------------------------
def _split(answers: pd.DataFrame, responses: pd.DataFrame, parts: int) -> list[tuple[Any, Any]]:
    """Partitions by PSU (no PSU is split): PSU number modulo ``parts``."""
    out = []
    for p in range(parts):
        resp = responses[responses["psu"] % parts == p]
        out.append((answers[answers["response_id"].isin(resp["response_id"])], resp))
    return out


@pytest.mark.parametrize("case", ["index", "pooled", "mean_share"])
@pytest.mark.parametrize("name", ["psu_fpc_weights_adjust", "psu_weights_average", "strata_fpc"])
def test_partials_of_three_partitions_add_up(data: pd.DataFrame, name: str, case: str) -> None:
    design = SurveyDesign(data, **DESIGNS[name])
    _, threshold, _, items = CASES[case]
    by = ["agency", "sex"]
    answers, responses, strata = long_format(design, items, by=by)
    answers = stored_answers(answers)
    whole = two_pass(answers, responses, strata, case, by, design.lonely_psu)
    parts = _split(answers, responses, 3)
    pass1 = [pass1_totals(a, r, positive(case), threshold=threshold, by=by) for a, r in parts]
    item_totals = combine_partials([p[0] for p in pass1])
    domain_totals = combine_partials([p[1] for p in pass1])
    whole_items, whole_domains = pass1_totals(
        answers, responses, positive(case), threshold=threshold, by=by
    )
    pd.testing.assert_frame_equal(item_totals, whole_items, rtol=1e-12, check_dtype=False)
    pd.testing.assert_frame_equal(domain_totals, whole_domains, rtol=1e-12, check_dtype=False)
    coef = coefficients_of(item_totals, domain_totals, case, by)
    pass2 = [pass2_totals(a, r, coef, threshold=threshold, by=by) for a, r in parts]
    population = dict(zip(strata["stratum"], strata["population"], strict=True))
    strata_parts = [strata_table(r, population) for _, r in parts]
    combined = combine_partials(strata_parts)
    pd.testing.assert_frame_equal(combined, strata, check_dtype=False, rtol=1e-12)
    frames = (item_totals, domain_totals, combine_partials(pass2), combined)
    got = case_estimates(frames, case, by, design.lonely_psu)
    assert_same(got, whole, rtol=1e-12)
    assert_same(got, in_memory(design, case, by))
    # concatenated partials, not combined first, give the same numbers
    concatenated = (
        pd.concat([p[0] for p in pass1]),
        pd.concat([p[1] for p in pass1]),
        pd.concat(pass2),
        pd.concat(strata_parts),
    )
    assert_same(case_estimates(concatenated, case, by, design.lonely_psu), got, rtol=1e-12)


# -- the column count does not grow with the items -------------------------------------------
def generated(n_items: int, seed: int = 7) -> pd.DataFrame:
    """600 respondents in 12 strata of 2-9 households, 8 domains, 1-5 scores, 20 % missing."""
    rng = np.random.default_rng(seed)
    n = 600
    stratum = rng.integers(0, 12, n)
    out = pd.DataFrame(
        {
            "stratum": stratum,
            "hh": rng.integers(0, 2 + stratum % 8, n),
            "domain": rng.integers(0, 8, n),
            "w": rng.uniform(1, 30, n),
        }
    )
    for j in range(n_items):
        score = rng.integers(1, 6, n).astype(np.float64)
        score[rng.random(n) < 0.2] = np.nan
        out[f"q{j:02d}"] = score
    out.loc[out["domain"] == 0, "q00"] = np.nan  # an item without data in a domain
    return out


def test_column_count_does_not_depend_on_the_number_of_items() -> None:
    shapes = set()
    for n_items in (1, 5, 40):
        data = generated(n_items)
        items = [c for c in data.columns if c.startswith("q")]
        design = SurveyDesign(data, strata="stratum", psu="hh", weights="w", lonely_psu="adjust")
        answers, responses, strata = long_format(design, items, by="domain")
        item_totals, domain_totals = pass1_totals(answers, responses, items, by="domain")
        coef = linearization_coefficients(item_totals, domain_totals, items, by="domain")
        stratum_totals = pass2_totals(answers, responses, coef, by="domain")
        frames = (item_totals, domain_totals, coef, stratum_totals, strata)
        shapes.add(tuple(tuple(f.columns) for f in frames))
        got = twopass_estimates(
            item_totals, domain_totals, stratum_totals, strata, items, by="domain",
            lonely_psu="adjust",
        )  # fmt: skip
        # 40 items: the one-query sums would need 2 + 4k + 4k^2 = 6,562 columns
        assert_same(got, design.satisfaction_index(items, by="domain"))
    assert len(shapes) == 1
    item_cols, domain_cols, coef_cols, pass2_cols, strata_cols = shapes.pop()
    assert len(item_cols) == 5 and len(domain_cols) == 3 and len(coef_cols) == 4
    assert len(pass2_cols) == 7 and len(strata_cols) == 3


# -- the documented SQL, run in SQLite (and PostgreSQL when the tests are given one) ---------
PG_URL = os.environ.get("SIPAS_TEST_DATABASE_URL", "")


@contextmanager
def connect(engine: str) -> Iterator[Any]:
    """A DB-API cursor; PostgreSQL only with TEMP tables, rolled back at the end."""
    if engine == "sqlite":
        con = sqlite3.connect(":memory:")
        try:
            yield con.cursor()
        finally:
            con.close()
        return
    if "postgres" not in PG_URL:
        pytest.skip("SIPAS_TEST_DATABASE_URL does not name a PostgreSQL database")
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(PG_URL.replace("+psycopg", "", 1)) as con:
        try:
            yield con.cursor()
        finally:
            con.rollback()


def query(cur: Any, sql: str) -> pd.DataFrame:
    cur.execute(sql)
    return pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])


def load(cur: Any, table: str, frame: pd.DataFrame) -> None:
    def sql_type(kind: str) -> str:
        return {"i": "BIGINT", "u": "BIGINT", "f": "DOUBLE PRECISION"}.get(kind, "TEXT")

    cols = ", ".join(f"{c} {sql_type(frame[c].dtype.kind)}" for c in frame.columns)
    cur.execute(f"CREATE TEMPORARY TABLE {table} ({cols})")
    mark = "?" if isinstance(cur, sqlite3.Cursor) else "%s"
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    cur.executemany(f"INSERT INTO {table} VALUES ({', '.join([mark] * frame.shape[1])})", rows)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("case", ["index", "index_scores", "pooled", "mean_score"])
@pytest.mark.parametrize("name", ["psu_fpc_weights_adjust", "psu_weights_average", "strata_fpc"])
def test_documented_sql_gives_the_in_memory_estimates(
    data: pd.DataFrame, name: str, case: str, engine: str
) -> None:
    design = SurveyDesign(data, **DESIGNS[name])
    _, threshold, _, items = CASES[case]
    answers, responses, strata = long_format(design, items, by="domain")
    answers = stored_answers(answers).astype({"item_id": str})
    index_items = pd.DataFrame({"item_id": positive(case), "threshold": threshold})
    with connect(engine) as cur:
        load(cur, "answers", answers)
        load(cur, "responses", responses)
        load(cur, "strata_frame", strata[["stratum", "population"]])
        load(cur, "index_items", index_items.astype({"threshold": float}))
        item_totals = query(cur, analysis.twopass.SQL_PASS1_ITEMS)
        domain_totals = query(cur, analysis.twopass.SQL_PASS1_DOMAINS)
        strata_sql = query(cur, analysis.twopass.SQL_STRATA)
        coef = coefficients_of(item_totals, domain_totals, case, "domain")
        load(cur, "coefficients", coef)
        stratum_totals = query(cur, analysis.twopass.SQL_PASS2)
    pandas_items, pandas_domains = pass1_totals(
        answers, responses, positive(case), threshold=threshold, by="domain"
    )
    same: dict[str, Any] = {"check_dtype": False, "check_column_type": False, "rtol": 1e-12}
    for sql_frame, pandas_frame in [(item_totals, pandas_items), (domain_totals, pandas_domains)]:
        ordered = sql_frame.sort_values(list(sql_frame.columns[:2])).reset_index(drop=True)
        pd.testing.assert_frame_equal(ordered, pandas_frame, **same)
    pd.testing.assert_frame_equal(strata_sql.astype({"population": float}), strata, **same)
    frames = (item_totals, domain_totals, stratum_totals, strata_sql)
    got = case_estimates(frames, case, "domain", design.lonely_psu)
    assert_same(got, in_memory(design, case, "domain"))


@pytest.mark.parametrize(
    "name", ["SQL_PASS1_ITEMS", "SQL_PASS1_DOMAINS", "SQL_STRATA", "SQL_PASS2"]
)
def test_module_docstring_shows_the_tested_sql(name: str) -> None:
    def squash(text: str | None) -> str:
        return " ".join((text or "").split())

    assert squash(getattr(analysis.twopass, name)) in squash(analysis.twopass.__doc__)


def test_analysis_imports_no_database_driver() -> None:
    banned = {"sqlite3", "psycopg", "psycopg2", "sqlalchemy", "duckdb", "pyodbc"}
    for path in (Path(__file__).resolve().parents[2] / "analysis").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not {n.split(".")[0] for n in names} & banned, path.name


# -- misuse is refused -------------------------------------------------------------------------
def estimate(p: Mapping[str, Any], **kwargs: Any) -> Estimates:
    opts: dict[str, Any] = {"item_weights": WEIGHTS, "by": "domain", "lonely_psu": "adjust"}
    opts.update(kwargs)
    frames = [p[k] for k in ("item_totals", "domain_totals", "stratum_totals", "strata")]
    return twopass_estimates(*frames, opts.pop("items", ITEMS), **opts)


def test_pass_one_over_zero_weight_items_is_refused(passes: dict[str, Any]) -> None:
    items, _ = pass1_totals(passes["answers"], passes["responses"], ITEMS, by="domain")
    with pytest.raises(ValueError, match="positive weight"):
        estimate({**passes, "item_totals": items})


def test_pass_two_from_other_answers_is_refused(passes: dict[str, Any]) -> None:
    subset = passes["coef"][passes["coef"]["item_id"] != "q1"]
    stratum_totals = pass2_totals(passes["answers"], passes["responses"], subset, by="domain")
    with pytest.raises(ValueError, match="respondents per domain differ"):
        estimate({**passes, "stratum_totals": stratum_totals})


def test_unknown_domains_and_strata_are_refused(passes: dict[str, Any]) -> None:
    other = passes["stratum_totals"].assign(domain="nowhere")
    with pytest.raises(ValueError, match="domains not found"):
        estimate({**passes, "stratum_totals": other})
    with pytest.raises(ValueError, match="strata not found"):
        estimate({**passes, "strata": passes["strata"].iloc[1:]})


def test_lonely_psu_fail_raises_as_in_memory(data: pd.DataFrame, passes: dict[str, Any]) -> None:
    design = SurveyDesign(data, strata="stratum", psu="hh", fpc="n_hh_pop")
    with pytest.raises(ValueError, match="only one PSU") as micro:
        design.satisfaction_index(ITEMS, item_weights=WEIGHTS, by="domain")
    with pytest.raises(ValueError, match="only one PSU") as summed:
        estimate(passes, lonely_psu="fail")
    assert str(summed.value) == str(micro.value)


def test_options_are_checked(passes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="statistic"):
        estimate(passes, statistic="median")
    with pytest.raises(ValueError, match="item_weights"):
        estimate(passes, statistic="pooled_index")
    with pytest.raises(ValueError, match="exactly one item"):
        estimate(passes, statistic="mean", item_weights=None)
    with pytest.raises(ValueError, match="lonely_psu"):
        estimate(passes, lonely_psu="drop")
    with pytest.raises(ValueError, match="reserved"):
        estimate(
            {**passes, "domain_totals": passes["domain_totals"].rename(columns={"domain": "psu"})},
            by="psu",
        )


def test_partials_must_agree_on_the_population(passes: dict[str, Any]) -> None:
    strata = passes["strata"]
    other = strata.assign(population=strata["population"] + 1)
    with pytest.raises(ValueError, match="population"):
        combine_partials([strata, other])
    with pytest.raises(ValueError, match="same columns"):
        combine_partials([strata, strata.drop(columns="population")])
    with pytest.raises(ValueError, match="nothing"):
        combine_partials([])
    doubled = combine_partials([strata, strata])
    np.testing.assert_array_equal(doubled["n_psu"], 2 * strata["n_psu"])


def test_rows_with_a_missing_domain_key_belong_to_no_domain(data: pd.DataFrame) -> None:
    """As in memory: SQL that groups NULL keys too gives the same estimates."""
    design = SurveyDesign(data, **DESIGNS["psu_weights_average"])
    by = ["agency", "sex"]
    answers, responses, strata = long_format(design, ITEMS, by=by)
    item_totals, domain_totals = pass1_totals(answers, responses, ITEMS, by=by)
    coef = linearization_coefficients(item_totals, domain_totals, ITEMS, by=by)
    stratum_totals = pass2_totals(answers, responses, coef, by=by)
    frames = [item_totals, domain_totals, stratum_totals]
    with_null = [pd.concat([f, f.head(3).assign(sex=np.nan)], ignore_index=True) for f in frames]
    got = twopass_estimates(*with_null, strata, ITEMS, by=by, lonely_psu="average")
    assert_same(got, design.satisfaction_index(ITEMS, by=by))


# -- pass 1 and pass 2 as plain pandas merge + groupby, read off the SQL -------------------------
def groupby_pass1(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    items: list[str],
    threshold: float | None,
    by: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    valid = answers[answers["item_id"].isin(items) & answers["value"].notna()]
    rows = valid.merge(responses, on="response_id")
    rows = rows[(rows["weight"] != 0) & rows[by].notna().all(axis=1)]
    y = (rows["value"] >= threshold).astype(float) if threshold is not None else rows["value"]
    rows = rows.assign(wy=rows["weight"] * y, item_id=rows["item_id"].astype(str))
    item_totals = (
        rows.groupby([*by, "item_id"])
        .agg(n=("weight", "size"), sum_w=("weight", "sum"), sum_wy=("wy", "sum"))
        .reset_index()
    )
    answered = responses["response_id"].isin(valid["response_id"])
    per = responses.assign(
        n=(answered & (responses["weight"] != 0)).astype(int),
        sum_w=responses["weight"].where(answered, 0.0),
    )
    per = per[per[by].notna().all(axis=1)]
    domain_totals = per.groupby(by)[["n", "sum_w"]].sum().reset_index()
    return item_totals, domain_totals


def groupby_pass2(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    coef: pd.DataFrame,
    threshold: float | None,
    by: list[str],
) -> pd.DataFrame:
    rows = answers[answers["value"].notna()].astype({"item_id": str})
    rows = rows.merge(responses, on="response_id")
    rows = rows[rows["weight"] != 0].merge(coef, on=[*by, "item_id"])
    y = (rows["value"] >= threshold).astype(float) if threshold is not None else rows["value"]
    rows["term"] = rows["coef"] * (y - rows["centre"])
    per = rows.groupby(["response_id", *by, "stratum", "psu", "weight"])["term"].sum()
    per = per.rename("u").reset_index()
    per = per.assign(z=per["weight"] * per["u"], wu2=per["weight"] * per["u"] ** 2, n=1)
    psu = per.groupby([*by, "stratum", "psu"])[["n", "z", "wu2"]].sum().reset_index()
    psu["z2"] = psu["z"] ** 2
    return (
        psu.groupby([*by, "stratum"])
        .agg(
            n=("n", "sum"),
            psus=("n", "size"),
            sum_z=("z", "sum"),
            sum_z2=("z2", "sum"),
            sum_wu2=("wu2", "sum"),
        )
        .reset_index()
    )


@pytest.mark.parametrize("case", ["index", "index_scores", "pooled", "mean_share"])
@pytest.mark.parametrize("name", ["psu_fpc_weights_adjust", "strata_weights_remove"])
def test_pandas_groupby_passes_match_and_give_the_in_memory_estimates(
    data: pd.DataFrame, name: str, case: str
) -> None:
    design = SurveyDesign(data, **DESIGNS[name])
    _, threshold, _, items = CASES[case]
    by = ["agency", "sex"]
    answers, responses, strata = long_format(design, items, by=by)
    answers = stored_answers(answers)
    item_totals, domain_totals = groupby_pass1(answers, responses, positive(case), threshold, by)
    library = pass1_totals(answers, responses, positive(case), threshold=threshold, by=by)
    same: dict[str, Any] = {"check_dtype": False, "check_column_type": False, "rtol": 1e-12}
    pd.testing.assert_frame_equal(item_totals, library[0], **same)
    pd.testing.assert_frame_equal(domain_totals, library[1], **same)
    coef = coefficients_of(item_totals, domain_totals, case, by)
    stratum_totals = groupby_pass2(answers, responses, coef, threshold, by)
    library2 = pass2_totals(answers, responses, coef, threshold=threshold, by=by)
    pd.testing.assert_frame_equal(stratum_totals, library2, atol=1e-15, **same)
    got = case_estimates(
        (item_totals, domain_totals, stratum_totals, strata), case, by, design.lonely_psu
    )
    assert_same(got, in_memory(design, case, by))


def test_answers_read_in_blocks_give_the_same_sums(
    data: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = SurveyDesign(data, **DESIGNS["psu_fpc_weights_adjust"])
    answers, responses, _ = long_format(design, ITEMS, by="domain")
    answers = stored_answers(answers)
    whole = pass1_totals(answers, responses, ITEMS, by="domain")
    coef = linearization_coefficients(*whole, ITEMS, by="domain")
    whole2 = pass2_totals(answers, responses, coef, by="domain")
    monkeypatch.setattr(analysis.longform, "_BLOCK", 97)
    blocks = pass1_totals(answers, responses, ITEMS, by="domain")
    for got, want in zip(blocks, whole, strict=True):
        pd.testing.assert_frame_equal(got, want, rtol=1e-12)
    got2 = pass2_totals(answers, responses, coef, by="domain")
    pd.testing.assert_frame_equal(got2, whole2, rtol=1e-12, atol=1e-15)
    # response ids that are not small integers go through a hash index
    shifted = pass1_totals(
        answers.assign(response_id=answers["response_id"] * 1000 + 10**9),
        responses.assign(response_id=responses["response_id"] * 1000 + 10**9),
        ITEMS,
        by="domain",
    )
    pd.testing.assert_frame_equal(shifted[0], whole[0], rtol=1e-12)
    with pytest.raises(ValueError, match="not found in responses"):
        pass1_totals(answers, responses.iloc[5:], ITEMS, by="domain")
    with pytest.raises(ValueError, match="unique"):
        pass1_totals(answers, pd.concat([responses, responses.head(2)]), ITEMS, by="domain")
