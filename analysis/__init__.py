"""Survey statistics engine for SIPAS: design, estimation, weighting, sampling.

Everything public is importable from the package level::

    from analysis import SurveyDesign
    design = SurveyDesign(df, strata="stratum", fpc="N_h")
    design.satisfaction_index(["q1", "q2"], by="agency").summary_frame(scale=100)

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley.
Kish, L. (1965). *Survey Sampling*. Wiley.
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed. CRC Press.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
"""

from analysis import ci
from analysis.design import CalibrationStep, LonelyPSU, SurveyDesign
from analysis.estimators import mean, ratio, satisfaction_index, total
from analysis.results import Estimates
from analysis.weighting import (
    ConvergenceError,
    WeightDiagnostics,
    base_weights,
    nonresponse_adjustment,
    poststratify,
    rake,
    trim_weights,
    weight_diagnostics,
)

__all__ = [
    "CalibrationStep",
    "ConvergenceError",
    "Estimates",
    "LonelyPSU",
    "SurveyDesign",
    "WeightDiagnostics",
    "base_weights",
    "ci",
    "mean",
    "nonresponse_adjustment",
    "poststratify",
    "rake",
    "ratio",
    "satisfaction_index",
    "total",
    "trim_weights",
    "weight_diagnostics",
]
