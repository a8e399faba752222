"""Survey design declaration with thin methods over the free functions of the other modules.

:class:`SurveyDesign` is :class:`analysis.designbase.DesignBase` (the declared sample) plus
one method per estimator or weighting step; each calls the function of the same name in
:mod:`analysis.estimators`, :mod:`analysis.indices` or :mod:`analysis.weighting`. Those
modules import only ``DesignBase``, so the imports run one way (no loop).

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 5 (stratified sampling).
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., ch. 3, 5 and 9.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2-3.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from analysis import estimators, indices, weighting
from analysis.designbase import LONELY_PSU_OPTIONS, CalibrationStep, DesignBase, LonelyPSU
from analysis.results import Estimates
from analysis.weighting import WeightDiagnostics

__all__ = ["CalibrationStep", "LONELY_PSU_OPTIONS", "LonelyPSU", "SurveyDesign"]


class SurveyDesign(DesignBase):
    """A stratified (optionally clustered) sample with weights, as R's ``svydesign``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (the design never drops rows; missing answers are handled
        estimate by estimate as domain restrictions).
    strata : str or list, optional
        Column holding the stratum of each row (e.g. agency x channel). ``None``: one stratum.
        For a multistage design, one column (or ``None``) per stage, the first stages first;
        stages left out are not stratified. A stratum of stage ``k > 1`` lies inside one unit
        of stage ``k - 1`` (the same value in two units makes two strata).
    weights : str, optional
        Column of sampling weights. When omitted, weights are ``N_h / n_h`` if ``fpc`` is
        given (as R does), otherwise 1.
    fpc : str or list, optional
        Column with the finite population correction, constant within a stratum: either
        the population count ``N_h`` (of PSUs, or of respondents when ``psu`` is omitted) or,
        when every value is <= 1, the sampling fraction ``n_h / N_h``. For a multistage
        design, one column per stage (``N`` of the units of that stage in their stratum;
        ``None``: no fpc at that stage, R's ``Inf``), as R's ``fpc = ~N1 + N2``; the variance
        then adds the later stages (Notes). Weights default to the product of ``N / n`` over
        the stages.
    psu : str or list, optional
        Column identifying primary sampling units (e.g. households, villages), nested
        within strata (ids may repeat across strata). ``None``: each row is its own PSU.
        A list gives one id column per stage (R's ``ids = ~psu + ssu``): hospitals, then
        ward-days, then patients; each stage's units are nested in their stratum and in the
        unit above (R's ``nest = TRUE``); the last entry may be ``None`` (each row a unit).
    lonely_psu : {"fail", "adjust", "remove", "certainty", "average"}
        What to do with strata holding a single PSU, with the meaning of R's
        ``options(survey.lonely.psu=)``: ``fail`` raises when such a stratum enters a
        variance, ``remove`` and ``certainty`` let it contribute zero, ``adjust`` centres
        its PSU total at zero (the grand mean) instead of its own mean, ``average`` gives it
        the average variance of the other strata present.

    Notes
    -----
    Variances use Taylor linearisation with the ultimate-cluster estimator
    ``v = sum_h f_h n_h/(n_h - 1) sum_i (t_hi - t_h)^2`` with ``f_h = 1 - n_h/N_h``
    (Lumley 2010, sec. 2.2; R's ``onestrat``). A design with several stages and an fpc adds,
    recursively, each sampled unit's within-unit variance (the same formula over the units
    of the next stage, in their strata inside it) times the unit's sampling fraction
    ``n_h/N_h`` (R's default ``svyrecvar``/``multistage``; Cochran 1977, ch. 10-11): units
    taken with certainty (``N_h = n_h``) contribute their second-stage variance in full.
    Without fpc only the first stage counts (with-replacement, as R). Lonely units at any
    stage follow ``lonely_psu``; degrees of freedom are first-stage (R's ``degf``).

    Examples
    --------
    >>> d = SurveyDesign(df, strata="stratum", weights="w")          # doctest: +SKIP
    >>> d.satisfaction_index(["q1", "q2"], by="agency").summary_frame()  # doctest: +SKIP
    """

    # -- estimators (analysis.estimators, analysis.indices) ---------------------------
    def mean(self, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
        """Design-based mean of ``var`` (see :func:`analysis.estimators.mean`)."""
        return estimators.mean(self, var, by=by)

    def total(self, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
        """Design-based total of ``var`` (see :func:`analysis.estimators.total`)."""
        return estimators.total(self, var, by=by)

    def ratio(self, num: str, den: str, *, by: str | Sequence[str] | None = None) -> Estimates:
        """Ratio of totals ``num / den`` (see :func:`analysis.estimators.ratio`)."""
        return estimators.ratio(self, num, den, by=by)

    def satisfaction_index(
        self,
        items: str | Sequence[str],
        *,
        threshold: float | None = 4,
        item_weights: Mapping[str, float] | None = None,
        by: str | Sequence[str] | None = None,
    ) -> Estimates:
        """Satisfaction index (see :func:`analysis.indices.satisfaction_index`)."""
        return indices.satisfaction_index(
            self, items, threshold=threshold, item_weights=item_weights, by=by
        )

    def pooled_index(
        self,
        items: str | Sequence[str],
        *,
        threshold: float | None = 4,
        by: str | Sequence[str] | None = None,
    ) -> Estimates:
        """Pooled share of satisfied answers (see :func:`analysis.indices.pooled_index`)."""
        return indices.pooled_index(self, items, threshold=threshold, by=by)

    def mean_score(
        self, items: str | Sequence[str], *, by: str | Sequence[str] | None = None
    ) -> Estimates:
        """Pooled mean score over items (see :func:`analysis.indices.mean_score`)."""
        return indices.mean_score(self, items, by=by)

    # -- weighting (analysis.weighting) -----------------------------------------------
    def poststratify(
        self, by: str | Sequence[str], totals: Mapping[Hashable, float]
    ) -> SurveyDesign:
        """Post-stratify to population counts (see :func:`analysis.weighting.poststratify`)."""
        return weighting.poststratify(self, by, totals)

    def rake(
        self,
        margins: Mapping[str | tuple[str, ...], Mapping[Hashable, float]],
        *,
        max_iter: int = 100,
        tol: float = 1e-10,
    ) -> SurveyDesign:
        """Rake to several margins (see :func:`analysis.weighting.rake`)."""
        return weighting.rake(self, margins, max_iter=max_iter, tol=tol)

    def trim_weights(
        self, *, upper: float = np.inf, lower: float = -np.inf, strict: bool = False
    ) -> SurveyDesign:
        """Trim weights and redistribute (see :func:`analysis.weighting.trim_weights`)."""
        return weighting.trim_weights(self, upper=upper, lower=lower, strict=strict)

    def weight_diagnostics(self) -> WeightDiagnostics:
        """Kish design effect, effective n and CV of the weights."""
        return weighting.weight_diagnostics(self.weights)
