"""Fixtures for the analysis tests: the data sets exported by tests/reference/make_reference.R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def read_reference(name: str) -> pd.DataFrame:
    """Read one CSV written by the R script."""
    return pd.read_csv(
        REFERENCE / name, skipinitialspace=True, keep_default_na=False, na_values=["NA", "NaN"]
    )


@pytest.fixture(scope="session")
def r_reference() -> pd.DataFrame:
    frame = read_reference("r_reference.csv")
    frame["domain"] = frame["domain"].astype(str)
    return frame


@pytest.fixture(scope="session")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apistrat.csv")


@pytest.fixture(scope="session")
def apiclus1() -> pd.DataFrame:
    df = pd.read_csv(REFERENCE / "apiclus1.csv")
    df["sw"] = (df["sch.wide"] == "Yes").astype(np.float64)
    return df


@pytest.fixture(scope="session")
def apiclus2() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apiclus2.csv")


@pytest.fixture(scope="session")
def synthetic() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "synthetic.csv")


@pytest.fixture(scope="session")
def synthetic_totals() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "synthetic_totals.csv")


@pytest.fixture(scope="session")
def rake120() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "rake120.csv")


@pytest.fixture(scope="session")
def rake120_totals() -> dict[str, dict[str, float]]:
    frame = pd.read_csv(REFERENCE / "rake120_totals.csv")
    return {
        str(m): dict(zip(g["category"], g["Freq"].astype(float), strict=True))
        for m, g in frame.groupby("margin")
    }
