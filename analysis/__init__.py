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
from analysis.ci import CIMethod
from analysis.compare import Comparison, compare_domains, compare_independent, rank_intervals
from analysis.design import CalibrationStep, LonelyPSU, SurveyDesign
from analysis.estimators import mean, ratio, total
from analysis.indices import mean_score, pooled_index, satisfaction_index
from analysis.longform import long_format, pass1_totals, pass2_totals, strata_table
from analysis.partials import combine_partials
from analysis.passone import (
    TwoPassStatistic,
    linearization_coefficients,
    twopass_point_estimates,
)
from analysis.planning import (
    margin_of_error,
    stratified_margin_of_error,
    stratified_two_stage_margin_of_error,
    two_stage_margin_of_error,
)
from analysis.publication import FLAG_COLUMNS, NCHS_2017, PublicationRules
from analysis.results import Estimates
from analysis.sampling import (
    Allocation,
    Selection,
    allocate,
    pps_systematic,
    sample_size_proportion,
    stratified_srswor,
    systematic,
)
from analysis.sufficient import index_from_sufficient, sufficient_statistics
from analysis.twopass import (
    SQL_PASS1_DOMAINS,
    SQL_PASS1_ITEMS,
    SQL_PASS2,
    SQL_STRATA,
    twopass_estimates,
)
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
    "allocate",
    "Allocation",
    "base_weights",
    "CalibrationStep",
    "ci",
    "CIMethod",
    "combine_partials",
    "compare_domains",
    "compare_independent",
    "Comparison",
    "ConvergenceError",
    "Estimates",
    "index_from_sufficient",
    "linearization_coefficients",
    "long_format",
    "margin_of_error",
    "LonelyPSU",
    "mean",
    "mean_score",
    "FLAG_COLUMNS",
    "NCHS_2017",
    "nonresponse_adjustment",
    "pooled_index",
    "poststratify",
    "pps_systematic",
    "pass1_totals",
    "pass2_totals",
    "PublicationRules",
    "rake",
    "rank_intervals",
    "ratio",
    "sample_size_proportion",
    "satisfaction_index",
    "Selection",
    "SQL_PASS1_DOMAINS",
    "SQL_PASS1_ITEMS",
    "SQL_PASS2",
    "SQL_STRATA",
    "strata_table",
    "stratified_margin_of_error",
    "stratified_two_stage_margin_of_error",
    "stratified_srswor",
    "sufficient_statistics",
    "SurveyDesign",
    "systematic",
    "total",
    "twopass_estimates",
    "twopass_point_estimates",
    "TwoPassStatistic",
    "two_stage_margin_of_error",
    "trim_weights",
    "weight_diagnostics",
    "WeightDiagnostics",
]
