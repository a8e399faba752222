"""Multistage variance against R's ``survey`` (tests/reference/make_multistage.R).

R's default ``svyrecvar`` with an fpc at every stage adds, below the first-stage variance,
each unit's within-unit variance times its sampling fraction, recursively. The data: a
three-stage patient survey (hospitals -> ward-days -> patients) whose ``central`` stratum is
taken with certainty, so the one-stage (ultimate cluster) variance of that stratum is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Estimates, SurveyDesign, compare_domains, variance
from analysis.longform import long_format
from analysis.sufficient import sufficient_statistics

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
RTOL = 1e-9
ITEMS = ["q1", "q2", "q3"]
Builder = Callable[[], Estimates]
THREE = {"psu": ["hosp", "wardday", "pid"], "strata": ["st", "st2"], "fpc": ["N1", "N2", "N3"]}


def read_reference(name: str) -> pd.DataFrame:
    return pd.read_csv(
        REFERENCE / name, skipinitialspace=True, keep_default_na=False, na_values=["NA", "NaN"]
    )


@pytest.fixture(scope="module")
def ms() -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / "multistage.csv")
    frame["keep_lonely"] = frame["keep_lonely"].astype(str).str.upper() == "TRUE"
    return frame


@pytest.fixture(scope="module")
def ms_reference() -> pd.DataFrame:
    frame = read_reference("multistage_reference.csv")
    frame["domain"] = frame["domain"].astype(str)
    return frame


@pytest.fixture(scope="module")
def totals() -> dict[str, dict[str, float]]:
    frame = pd.read_csv(REFERENCE / "multistage_totals.csv")
    return {
        str(m): dict(zip(g["category"], g["Freq"].astype(float), strict=True))
        for m, g in frame.groupby("margin")
    }


def _estimates(prefix: str, d: SurveyDesign, *, domains: bool = True) -> dict[str, Builder]:
    out: dict[str, Builder] = {
        f"{prefix}_mean_y": lambda: d.mean("y"),
        f"{prefix}_total_y": lambda: d.total("y"),
        f"{prefix}_ratio_y_x": lambda: d.ratio("y", "x"),
        f"{prefix}_prop_sat": lambda: d.mean("sat"),
    }
    if domains:
        out |= {
            f"{prefix}_mean_y_by_st": lambda: d.mean("y", by="st"),
            f"{prefix}_total_y_by_st": lambda: d.total("y", by="st"),
            f"{prefix}_item_q1_by_st": lambda: d.satisfaction_index("q1", by="st"),
            f"{prefix}_pooled_by_st": lambda: d.pooled_index(ITEMS, by="st"),
            f"{prefix}_mean_y_by_sex": lambda: d.mean("y", by="sex"),
            f"{prefix}_ratio_y_x_by_sex": lambda: d.ratio("y", "x", by="sex"),
            f"{prefix}_index_by_st": lambda: d.satisfaction_index(ITEMS, by="st"),
        }
    return out


def _cases(ms: pd.DataFrame, totals: dict[str, dict[str, float]]) -> dict[str, Builder]:
    ms = ms.copy()
    ms["f1"] = ms.groupby("st")["hosp"].transform("nunique") / ms["N1"]
    ms["f2"] = ms.groupby(["hosp", "st2"])["wardday"].transform("nunique") / ms["N2"]
    ms["f3"] = ms.groupby(["hosp", "st2", "wardday"])["pid"].transform("size") / ms["N3"]
    d1 = SurveyDesign(ms, psu="hosp", strata="st", fpc="N1", weights="w")
    d2 = SurveyDesign(
        ms, psu=["hosp", "wardday"], strata=["st", "st2"], fpc=["N1", "N2"], weights="w"
    )
    d3 = SurveyDesign(ms, **THREE)  # type: ignore[arg-type]  # R's default weights
    d3f = SurveyDesign(ms, psu=THREE["psu"], strata=THREE["strata"], fpc=["f1", "f2", "f3"])
    d3w = SurveyDesign(ms, weights="w", **THREE)  # type: ignore[arg-type]
    cases = _estimates("ms1", d1) | _estimates("ms2", d2) | _estimates("ms3", d3)
    cases |= _estimates("ms3f", d3f, domains=False)
    lonely = ms[ms["keep_lonely"]]
    for opt in ("adjust", "remove", "certainty", "average"):
        dl = SurveyDesign(lonely, weights="w", lonely_psu=opt, **THREE)  # type: ignore[arg-type]
        cases |= _estimates(f"ms3_lonely_{opt}", dl)
    lone1 = ms[~ms["hosp"].isin(["H05", "H06", "H07"])]
    for opt in ("adjust", "remove", "certainty", "average"):
        dl = SurveyDesign(lone1, weights="w", lonely_psu=opt, **THREE)  # type: ignore[arg-type]
        cases |= _estimates(f"ms3_lonely1_{opt}", dl)
    one = ms[~ms["hosp"].isin(["H02", "H03"])].copy()
    one.loc[one["st"] == "central", "N1"] = 1
    cases |= _estimates("ms3_single_certainty", SurveyDesign(one, weights="w", **THREE))  # type: ignore[arg-type]
    ps = d3w.poststratify("sex", totals["sex"])
    rk = d3w.rake({"sex": totals["sex"], "age": totals["age"]}, max_iter=1000, tol=1e-13)
    cases |= {
        "ms3_ps_mean_y": lambda: ps.mean("y"),
        "ms3_ps_mean_y_by_st": lambda: ps.mean("y", by="st"),
        "ms3_rake_mean_y": lambda: rk.mean("y"),
        "ms3_rake_mean_y_by_st": lambda: rk.mean("y", by="st"),
    }
    return cases


def _case_names() -> list[str]:
    return sorted(set(read_reference("multistage_reference.csv")["case"]))


@pytest.fixture(scope="module")
def cases(ms: pd.DataFrame, totals: dict[str, dict[str, float]]) -> dict[str, Builder]:
    return _cases(ms, totals)


@pytest.mark.parametrize("case", _case_names())
def test_agrees_with_r(case: str, cases: dict[str, Builder], ms_reference: pd.DataFrame) -> None:
    expected = ms_reference[ms_reference["case"] == case].set_index("domain")
    result = cases[case]()
    keys = result.keys
    domains = keys.iloc[:, 0].astype(str).to_numpy() if keys.shape[1] else np.array([""])
    got = pd.DataFrame(
        {"estimate": result.estimate, "se": result.se, "df": result.df, "deff": result.deff},
        index=domains,
    ).loc[expected.index]
    for col in ("estimate", "se", "df", "deff"):
        want = expected[col].to_numpy(dtype=float)
        have = got[col].to_numpy(dtype=float)
        known = ~np.isnan(want)
        np.testing.assert_allclose(have[known], want[known], rtol=RTOL, atol=1e-12, err_msg=col)
        if col == "se":  # R's NA (lonely 'average' with no other stratum) is NaN here too
            assert np.isnan(have[~known]).all()


def test_every_case_is_checked(cases: dict[str, Builder]) -> None:
    assert set(_case_names()) == set(cases)


def test_certainty_stratum_gets_its_second_stage_variance(
    cases: dict[str, Builder], ms_reference: pd.DataFrame
) -> None:
    """Hospitals taken with certainty: 0 at one stage, their within-hospital variance below."""
    one = cases["ms1_mean_y_by_st"]()
    two = cases["ms2_mean_y_by_st"]()
    three = cases["ms3_mean_y_by_st"]()
    central = list(one.keys["st"]).index("central")
    assert one.se[central] == 0.0
    assert two.se[central] > 0.0
    assert three.se[central] > two.se[central]  # the patients' sampling adds to it
    r = ms_reference.set_index(["case", "domain"])
    assert r.loc[("ms3_mean_y_by_st", "central"), "se"] == pytest.approx(three.se[central])
    # strata sampled without certainty keep their first-stage variance as the largest part
    district = list(one.keys["st"]).index("district")
    assert one.se[district] < three.se[district] < 1.1 * one.se[district]


def test_one_stage_results_unchanged_by_one_element_lists(ms: pd.DataFrame) -> None:
    a = SurveyDesign(ms, psu="hosp", strata="st", fpc="N1", weights="w")
    b = SurveyDesign(ms, psu=["hosp"], strata=["st"], fpc=["N1"], weights="w")
    assert not a.multistage and not b.multistage
    for d in (a, b):
        assert d.stages == ()
    ra, rb = a.mean("y", by="st"), b.mean("y", by="st")
    np.testing.assert_array_equal(ra.se, rb.se)


def test_without_fpc_only_the_first_stage_counts(ms: pd.DataFrame) -> None:
    """R recurses only when an fpc is given: without it, the ultimate-cluster variance."""
    d = SurveyDesign(ms, psu=["hosp", "wardday"], strata=["st", "st2"], weights="w")
    one = SurveyDesign(ms, psu="hosp", strata="st", weights="w")
    assert not d.multistage
    np.testing.assert_array_equal(d.mean("y").se, one.mean("y").se)


def test_a_stage_without_fpc_is_sampled_with_replacement(ms: pd.DataFrame) -> None:
    """``None`` at stage 2 is R's ``fpc = Inf``: stage 2 counts in full, stage 3 not at all."""
    d = SurveyDesign(
        ms, psu=THREE["psu"], strata=THREE["strata"], fpc=["N1", None, "N3"], weights="w"
    )
    two = SurveyDesign(
        ms, psu=["hosp", "wardday"], strata=["st", "st2"], fpc=["N1", "N2"], weights="w"
    )
    assert d.multistage
    assert d.mean("y").se[0] > two.mean("y").se[0]
    f2 = np.ones(len(ms)) * 1e12  # a huge N2 is the same as none
    wide = ms.assign(N2=f2)
    big = SurveyDesign(
        wide, psu=THREE["psu"], strata=THREE["strata"], fpc=["N1", "N2", "N3"], weights="w"
    )
    assert d.mean("y").se[0] == pytest.approx(big.mean("y").se[0], rel=1e-9)


def test_domain_comparison_uses_the_multistage_variance(ms: pd.DataFrame) -> None:
    d = SurveyDesign(ms, weights="w", **THREE)  # type: ignore[arg-type]
    res = d.mean("y", by="sex")
    comp = compare_domains(res, "F", "M")
    # the difference of two domain means: var(F) + var(M) - 2 cov; cov makes it differ from
    # the sum, but it must be positive and below the sum of the two SEs squared doubled
    assert 0 < comp.se[0] ** 2 < 2 * (res.se[0] ** 2 + res.se[1] ** 2)


def test_stage_lonely_unit_fails_by_default(ms: pd.DataFrame) -> None:
    lonely = ms[ms["keep_lonely"]]
    d = SurveyDesign(lonely, weights="w", **THREE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stage 2: the stratum of row"):
        d.mean("y")
    # domains that do not reach the lonely ward-day (hospital H08) are estimated, as in R
    away = lonely.assign(grp=np.where(lonely["hosp"] == "H08", None, lonely["sex"]))
    res = SurveyDesign(away, weights="w", **THREE).mean("y", by="grp")  # type: ignore[arg-type]
    assert np.isfinite(res.se).all() and (res.se > 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"psu": ["hosp", "wardday"], "fpc": "N1"}, "fpc: give one column"),
        ({"psu": ["hosp", "wardday"], "fpc": ["N1"]}, "fpc: give one column"),
        ({"psu": ["hosp"], "strata": ["st", "st2"]}, "strata: 2 stages"),
        ({"psu": [None, "wardday"]}, "psu: only the last stage"),
        (
            {"psu": ["hosp", "wardday"], "strata": ["st", "st2"], "fpc": ["N1", "N3"]},
            r"fpc \(stage 2\): must be constant",
        ),
        (
            {"psu": ["hosp", "wardday"], "strata": "st", "fpc": ["N1", None]},
            "weights: give the weights",
        ),
    ],
)
def test_bad_stage_declarations_are_refused(
    ms: pd.DataFrame, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SurveyDesign(ms, **kwargs)  # type: ignore[arg-type]


def test_population_smaller_than_sample_at_stage_three_is_refused(ms: pd.DataFrame) -> None:
    bad = ms.assign(N3=2)
    with pytest.raises(ValueError, match=r"fpc \(stage 3\): population size smaller"):
        SurveyDesign(bad, **THREE)  # type: ignore[arg-type]


def test_sums_pushed_to_sql_refuse_multistage_designs(ms: pd.DataFrame) -> None:
    d = SurveyDesign(ms, weights="w", **THREE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multistage"):
        long_format(d, ITEMS, by="st")
    with pytest.raises(ValueError, match="multistage"):
        sufficient_statistics(d, ITEMS, by="st")


def test_two_stage_total_is_cochrans_formula() -> None:
    """Stratified two-stage SRS, total: Cochran (1977) eq. 11.24 summed over strata,
    ``N^2 (1 - f1) s1^2 / n + (N / n) sum_i M_i^2 (1 - f2i) s2i^2 / m_i``, computed here
    without analysis (an independent check of the recursion)."""
    rng = np.random.default_rng(7)
    parts = []
    for h, (big_n, n) in enumerate([(6, 6), (20, 4), (50, 7)]):  # the first: certainty
        for i in range(n):
            big_m, m = int(rng.integers(8, 40)), int(rng.integers(2, 7))
            parts.append(
                pd.DataFrame(
                    {"h": h, "psu": i, "ssu": np.arange(m), "N": big_n, "M": big_m,
                     "w": big_n / n * big_m / m, "y": rng.normal(10 + i, 3, m)}
                )
            )  # fmt: skip
    df = pd.concat(parts, ignore_index=True)
    v = 0.0
    for _, sh in df.groupby("h"):
        big_n, n = sh["N"].iloc[0], sh["psu"].nunique()
        psu_totals = sh.groupby("psu").apply(lambda g: g["M"].iloc[0] * g["y"].mean())
        v += big_n**2 * (1 - n / big_n) * psu_totals.var(ddof=1) / n
        for _, g in sh.groupby("psu"):
            big_m, m = g["M"].iloc[0], len(g)
            v += big_n / n * big_m**2 * (1 - m / big_m) * g["y"].var(ddof=1) / m
    d = SurveyDesign(df, psu=["psu", "ssu"], strata="h", fpc=["N", "M"], weights="w")
    res = d.total("y")
    assert res.estimate[0] == pytest.approx(float((df["w"] * df["y"]).sum()), rel=1e-12)
    assert res.se[0] == pytest.approx(np.sqrt(v), rel=1e-10)
    # the default weights are N/n * M/m
    np.testing.assert_allclose(
        SurveyDesign(df, psu=["psu", "ssu"], strata="h", fpc=["N", "M"]).weights,
        df["w"],
        rtol=1e-12,
    )


def test_last_stage_none_means_each_row(ms: pd.DataFrame) -> None:
    """``psu=[..., None]``: the rows are the last stage's units (here: patients)."""
    named = SurveyDesign(ms, weights="w", **THREE)  # type: ignore[arg-type]
    rows = SurveyDesign(
        ms, psu=["hosp", "wardday", None], strata=THREE["strata"], fpc=THREE["fpc"], weights="w"
    )
    a, b = named.mean("y", by="st"), rows.mean("y", by="st")
    np.testing.assert_allclose(b.se, a.se, rtol=1e-13)
    assert (b.se > 0).all()


def test_a_unit_domain_is_its_within_unit_design_times_its_sampling_fraction(
    ms: pd.DataFrame,
) -> None:
    """A hospital's own mean: 0 between hospitals, ``n1/N1`` times the variance of the design
    of its own rows (ward-days, then patients), first-stage df 0 (R's ``degf``); the
    conditional design gives the README's recipe its df."""
    full = SurveyDesign(ms, weights="w", **THREE).mean("y", by="hosp")  # type: ignore[arg-type]
    for hosp in ("H01", "H05", "H09"):
        rows = ms[ms["hosp"] == hosp]
        own = SurveyDesign(
            rows, psu=["wardday", "pid"], strata="st2", fpc=["N2", "N3"], weights="w"
        ).mean("y")
        fraction = ms.loc[ms["st"] == rows["st"].iloc[0], "hosp"].nunique() / rows["N1"].iloc[0]
        i = list(full.keys["hosp"]).index(hosp)
        assert full.se[i] ** 2 == pytest.approx(fraction * own.se[0] ** 2, rel=1e-12)
        assert full.df[i] == 0 and own.df[0] > 0


def test_calibrated_multistage_variance_is_the_same_in_chunks(
    ms: pd.DataFrame, totals: dict[str, dict[str, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dense (calibrated) path works on a few domains at a time; chunks change nothing."""
    ps = SurveyDesign(ms, weights="w", **THREE).poststratify("sex", totals["sex"])  # type: ignore[arg-type]
    whole = ps.mean("y", by="hosp")
    monkeypatch.setattr(variance, "_DENSE_CELLS", 2 * len(ms))  # two domains per chunk
    chunked = ps.mean("y", by="hosp")
    np.testing.assert_allclose(chunked.se, whole.se, rtol=1e-13)
    assert (whole.se > 0).all()


def test_lonely_option_can_be_changed_on_a_multistage_design(ms: pd.DataFrame) -> None:
    lonely = ms[ms["keep_lonely"]]
    base = SurveyDesign(lonely, weights="w", **THREE)  # type: ignore[arg-type]
    for opt in ("adjust", "average"):
        built = SurveyDesign(lonely, weights="w", lonely_psu=opt, **THREE)  # type: ignore[arg-type]
        changed = base.with_lonely_psu(opt)  # type: ignore[arg-type]
        assert changed.multistage
        np.testing.assert_array_equal(changed.mean("y", by="st").se, built.mean("y", by="st").se)
