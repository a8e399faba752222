"""Benchmark: the two-pass sums (analysis.twopass) against the in-memory index, same data.

Usage::

    python bench/bench_sufficient_twopass.py                 # 1,000,000 x 20 items x 1,000 domains
    python bench/bench_sufficient_twopass.py --n 100000 --domains 100 --shards 4

Generates a stratified cluster sample (strata = agency x channel, 2 per agency; PSUs of
``--cluster`` respondents on average, ``--cluster 0``: none; fpc = stratum population in PSUs;
5-35 % item non-response; the domain is the agency), then in one run times

- **in memory**: ``SurveyDesign(...)`` + ``satisfaction_index(items, by="agency")`` +
  ``summary_frame()``;
- **two passes** from the long-format tables the database would hold (``answers``: one row per
  respondent and item; ``responses``; built, and split into ``--shards`` partitions by PSU,
  before the clock starts): ``pass1_totals`` and ``pass2_totals`` on every partition (the SQL
  emulated in memory: ``GROUP BY`` on integer codes with ``numpy.bincount`` for the answer-level
  sums, pandas ``groupby`` for the PSU and stratum sums), ``combine_partials``,
  ``linearization_coefficients``, ``strata_table``, ``twopass_estimates`` and
  ``summary_frame()``;

and prints the time and the tracemalloc peak of each phase, the size of the frames that would
cross the wire, the process's maximum RSS and the agreement of estimates and SEs. No assertion
on times. Not run by pytest.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import (  # noqa: E402
    Estimates,
    SurveyDesign,
    combine_partials,
    linearization_coefficients,
    long_format,
    pass1_totals,
    pass2_totals,
    strata_table,
    twopass_estimates,
)


def make_data(n: int, n_items: int, n_domains: int, cluster: int, seed: int) -> pd.DataFrame:
    """Synthetic national sample: agency x channel strata, clusters, 1-5 scores with N/A."""
    rng = np.random.default_rng(seed)
    agency = rng.integers(0, n_domains, size=n)
    stratum = agency * 2 + rng.integers(0, 2, size=n)
    data: dict[str, Any] = {"agency": agency.astype(np.int32), "stratum": stratum.astype(np.int32)}
    counts = np.bincount(stratum, minlength=2 * n_domains)
    units = counts.copy()
    if cluster > 0:  # about `cluster` respondents per PSU, at least one PSU per stratum
        n_psu = np.maximum(counts // cluster, 1)
        data["psu"] = (rng.random(n) * n_psu[stratum]).astype(np.int64)
        seen = np.unique(stratum.astype(np.int64) * n + data["psu"])
        units = np.bincount(seen // n, minlength=2 * n_domains)
    quality = rng.normal(0.5, 0.6, size=n_domains)[agency]
    for j in range(n_items):
        latent = quality + rng.normal(0, 1.2, size=n)
        score = np.digitize(latent, [-1.5, -0.5, 0.3, 1.2]).astype(np.float64) + 1
        score[rng.random(n) < 0.05 + 0.3 * (j % 5 == 4)] = np.nan
        data[f"q{j + 1:02d}"] = score
    frame = pd.DataFrame(data)
    pop = units * rng.integers(20, 200, size=2 * n_domains)  # population of PSUs
    frame["N"] = pop[stratum].astype(np.float64)
    frame["w"] = pop[stratum] / units[stratum] * rng.uniform(0.7, 1.3, size=n)
    return frame


def measure(label: str, run: Callable[[], Estimates]) -> tuple[Estimates, float, int]:
    """Run ``run`` under tracemalloc; return its result, seconds and peak traced bytes."""
    tracemalloc.start()
    t0 = time.perf_counter()
    result = run()
    result.summary_frame(0.05, "logit")
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {seconds:.3f} s, peak traced memory {peak / 2**20:.0f} MiB")
    return result, seconds, peak


def shards_of(
    answers: pd.DataFrame, responses: pd.DataFrame, shards: int
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Partitions by PSU number modulo ``shards`` (no PSU split), as the database holds them."""
    if shards <= 1:
        return [(answers, responses)]
    part = (responses["psu"] % shards).to_numpy()
    of_answer = part[answers["response_id"].to_numpy()]  # response_id = row number here
    return [(answers[of_answer == s], responses[part == s]) for s in range(shards)]


def two_passes(
    parts: list[tuple[pd.DataFrame, pd.DataFrame]],
    population: dict[Any, float],
    items: list[str],
    sizes: dict[str, tuple[int, int]],
) -> Estimates:
    """Both passes on every partition, partials combined (what SQL would return)."""
    pass1 = [pass1_totals(a, r, items, by="agency") for a, r in parts]
    item_totals = combine_partials([p[0] for p in pass1])
    domain_totals = combine_partials([p[1] for p in pass1])
    coef = linearization_coefficients(item_totals, domain_totals, items, by="agency")
    stratum_totals = combine_partials([pass2_totals(a, r, coef, by="agency") for a, r in parts])
    strata = combine_partials([strata_table(r, population) for _, r in parts])
    frames = {
        "item_totals": item_totals,
        "domain_totals": domain_totals,
        "coefficients": coef,
        "stratum_totals": stratum_totals,
        "strata": strata,
    }
    sizes.update({k: f.shape for k, f in frames.items()})
    return twopass_estimates(
        item_totals, domain_totals, stratum_totals, strata, items, by="agency",
        lonely_psu="adjust",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="respondents")
    parser.add_argument("--items", type=int, default=20, help="items in the index")
    parser.add_argument("--domains", type=int, default=1000, help="agencies (x 2 channels)")
    parser.add_argument("--cluster", type=int, default=4, help="respondents per PSU (0: none)")
    parser.add_argument("--shards", type=int, default=1, help="partitions by PSU, combined")
    parser.add_argument("--seed", type=int, default=20261125, help="random seed (recorded)")
    args = parser.parse_args(argv)
    data = make_data(args.n, args.items, args.domains, args.cluster, args.seed)
    items = [c for c in data.columns if c.startswith("q")]
    psu = "psu" if args.cluster > 0 else None
    opts: dict[str, Any] = {"strata": "stratum", "psu": psu, "fpc": "N", "weights": "w"}
    print(
        f"data: {args.n:,} respondents x {len(items)} items, {args.domains} domains, "
        f"{data['stratum'].nunique()} strata, "
        f"{data.groupby('stratum')['psu'].nunique().sum() if psu else args.n:,} PSUs "
        f"(seed {args.seed})"
    )

    def in_memory() -> Estimates:
        design = SurveyDesign(data, lonely_psu="adjust", **opts)
        return design.satisfaction_index(items, by="agency")

    micro, t_micro, m_micro = measure("in memory (design + satisfaction_index)", in_memory)
    t0 = time.perf_counter()
    design = SurveyDesign(data, lonely_psu="adjust", **opts)
    answers, responses, strata = long_format(design, items, by="agency")
    population = dict(zip(strata["stratum"], strata["population"], strict=True))
    del design
    print(
        f"long format (not timed in the passes): {time.perf_counter() - t0:.3f} s; answers "
        f"{len(answers):,} rows, {answers.memory_usage(deep=True).sum() / 2**20:.0f} MiB"
    )
    parts = shards_of(answers, responses, args.shards)
    sizes: dict[str, tuple[int, int]] = {}
    label = f"two passes ({len(parts)} shard{'s' if len(parts) > 1 else ''}, numpy/pandas)"
    summed, t_two, m_two = measure(label, lambda: two_passes(parts, population, items, sizes))
    for name, (rows, cols) in sizes.items():
        print(f"  {name}: {rows:,} rows x {cols} columns")
    k = len(items)
    print(f"  one-query sums (analysis.sufficient) would need {2 + 4 * k + 4 * k * k:,} columns")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {rss:.0f} MiB")
    print(
        f"ratio two passes / in memory: time {t_two / t_micro:.2f}x, memory {m_two / m_micro:.2f}x"
    )
    rel_est = np.nanmax(np.abs(summed.estimate / micro.estimate - 1))
    rel_se = np.nanmax(np.abs(summed.se / micro.se - 1))
    print(f"agreement: max relative difference estimate {rel_est:.1e}, SE {rel_se:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
