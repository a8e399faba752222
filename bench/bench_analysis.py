"""Benchmark: every agency's satisfaction index with SE and CI on a national-size sample.

Usage::

    python bench/bench_analysis.py                      # 1,000,000 x 20 items x 1,000 agencies
    python bench/bench_analysis.py --n 100000 --agencies 100 --no-r
    python bench/bench_analysis.py --n 100000 --agencies 1000 --calibrate poststratify --cells 2000
    python bench/bench_analysis.py --n 100000 --agencies 1000 --calibrate rake --cells 2000

Generates a stratified sample (strata = agency x channel, fpc = stratum population), times
``SurveyDesign(...)`` + ``satisfaction_index(items, by="agency")`` + ``summary_frame()``
(logit CIs), and prints the time and peak memory (tracemalloc peak of the timed phase and the
process's maximum RSS). ``--calibrate poststratify`` post-stratifies the design to ``--cells``
random cells first, ``--calibrate rake`` rakes it to those cells and a second margin (sex), and
times the calibration and the index separately (the GREG residual variance; no R comparison).
When ``Rscript`` is on the PATH it runs R survey's ``svyby`` on the same
data (the same index as a ``svycontrast`` of ``svytotal`` per agency; only ``svydesign`` and
``svyby`` are timed, not reading the CSV), checks that the SEs agree and prints the ratio.
Not run by pytest.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import SurveyDesign  # noqa: E402

R_SCRIPT = Path(__file__).with_name("index_svyby.R")  # shared with the other bench


def make_data(n: int, n_items: int, n_agencies: int, seed: int) -> pd.DataFrame:
    """Synthetic national sample: agency x channel strata, 1-5 scores with item non-response."""
    rng = np.random.default_rng(seed)
    agency = rng.integers(0, n_agencies, size=n)
    channel = rng.integers(0, 2, size=n)
    stratum = agency * 2 + channel
    counts = np.bincount(stratum, minlength=2 * n_agencies)
    pop = counts * rng.integers(20, 200, size=2 * n_agencies)
    quality = rng.normal(0.5, 0.6, size=n_agencies)[agency]
    data = {
        "agency": agency.astype(np.int32),
        "stratum": stratum.astype(np.int32),
        "N": pop[stratum].astype(np.float64),
    }
    for j in range(n_items):
        latent = quality + rng.normal(0, 1.2, size=n)
        score = np.digitize(latent, [-1.5, -0.5, 0.3, 1.2]).astype(np.float64) + 1
        score[rng.random(n) < 0.05 + 0.3 * (j % 5 == 4)] = np.nan
        data[f"q{j + 1:02d}"] = score
    return pd.DataFrame(data)


def run_calibrated(data: pd.DataFrame, items: list[str], how: str, cells: int, seed: int) -> None:
    """Time post-stratification or raking to ``cells`` cells, then the index by agency."""
    rng = np.random.default_rng(seed + 1)
    data = data.assign(
        cell=rng.integers(0, cells, len(data)), sex=rng.choice(["F", "M"], len(data))
    )
    design = SurveyDesign(data, strata="stratum", fpc="N")
    target = design.weights * np.exp(rng.normal(0, 0.2, len(data)))  # a population to match
    totals = {c: pd.Series(target).groupby(data[c]).sum().to_dict() for c in ("cell", "sex")}
    t0 = time.perf_counter()
    if how == "poststratify":
        calibrated = design.poststratify("cell", totals["cell"])
    else:
        calibrated = design.rake(totals, max_iter=1000, tol=1e-10)
    t1 = time.perf_counter()
    result = calibrated.satisfaction_index(items, by="agency")
    table = result.summary_frame(0.05, "logit")
    t2 = time.perf_counter()
    print(f"{how} to {cells} cells: {t1 - t0:.3f} s")
    print(f"python: {t2 - t1:.3f} s for {len(table)} agencies (index, GREG SE, deff, logit CI)")


def run_python(data: pd.DataFrame, items: list[str]) -> tuple[float, int, pd.DataFrame]:
    """Time the design, the index by agency and the CI table; return seconds, peak bytes."""
    tracemalloc.start()
    t0 = time.perf_counter()
    design = SurveyDesign(data, strata="stratum", fpc="N")
    result = design.satisfaction_index(items, by="agency")
    table = result.summary_frame(0.05, "logit")
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, table


def run_r(data: pd.DataFrame, timeout: float) -> tuple[float, pd.DataFrame] | None:
    """Run R survey's svyby on the same data; ``None`` when Rscript is missing or fails."""
    if shutil.which("Rscript") is None:
        print("R: Rscript not found, skipping the comparison")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, out = (os.path.join(tmp, x) for x in ("data.csv", "out.csv"))
        data.to_csv(csv, index=False, na_rep="NA")
        try:
            proc = subprocess.run(
                ["Rscript", str(R_SCRIPT), csv, out, "agency", "fpc", "4"],
                capture_output=True, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            print(f"R: timed out after {timeout:.0f} s")
            return None
        if proc.returncode != 0:
            print("R failed:\n" + proc.stderr[-2000:])
            return None
        seconds = float(proc.stdout.split("R_SECONDS")[1].split()[0])
        return seconds, pd.read_csv(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="respondents")
    parser.add_argument("--items", type=int, default=20, help="items in the index")
    parser.add_argument("--agencies", type=int, default=1000, help="agencies (x 2 channels)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed (recorded)")
    parser.add_argument("--no-r", action="store_true", help="skip the R comparison")
    parser.add_argument(
        "--calibrate",
        choices=["none", "poststratify", "rake"],
        default="none",
        help="calibrate the design before the index (no R comparison)",
    )
    parser.add_argument("--cells", type=int, default=2000, help="cells for --calibrate")
    parser.add_argument("--r-timeout", type=float, default=3600, help="seconds allowed for R")
    args = parser.parse_args(argv)

    data = make_data(args.n, args.items, args.agencies, args.seed)
    items = [c for c in data.columns if c.startswith("q")]
    print(
        f"data: {args.n:,} respondents x {len(items)} items, {args.agencies} agencies, "
        f"{data['stratum'].nunique()} strata (seed {args.seed})"
    )
    if args.calibrate != "none":
        run_calibrated(data, items, args.calibrate, args.cells, args.seed)
        return 0
    seconds, peak, table = run_python(data, items)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(f"python: {seconds:.3f} s for {len(table)} agencies (index, SE, deff, logit CI)")
    print(f"python: peak traced memory {peak / 2**20:.0f} MiB; process max RSS {rss:.0f} MiB")
    if args.no_r:
        return 0
    r = run_r(data, args.r_timeout)
    if r is None:
        return 0
    r_seconds, r_table = r
    merged = table.merge(r_table, on="agency", suffixes=("", "_r"))
    diff_est = float(np.max(np.abs(merged["estimate"] - merged["estimate_r"])))
    diff_se = float(np.max(np.abs(merged["se"] / merged["se_r"] - 1)))
    print(f"R survey svyby: {r_seconds:.3f} s (svydesign + svyby, CSV reading excluded)")
    print(f"agreement: max |estimate diff| {diff_est:.2e}, max relative SE diff {diff_se:.2e}")
    print(f"ratio R / python: {r_seconds / seconds:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
