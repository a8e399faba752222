"""GREG residuals of calibrated designs (post-stratification, raking), as R's ``svyrecvar``.

A calibration step with model matrix ``X`` (cell indicators), weights ``d`` before and
``g d`` after it replaces the linearised values ``e`` of an estimate by the residuals of a
weighted least-squares fit on ``X``::

    e - g d X B,   B a solution of (X' D X) B = X' (e / g)

(Deville and Sarndal 1992; R: ``qr.resid(qr(X sqrt(d)), e / (g sqrt(d))) g sqrt(d)``). Only
the fitted values ``X B`` matter, so any solution of the normal equations will do; the work
is in solving them exactly when ``X' D X`` is singular, which it always is when two margins
are raked (each margin's indicators add up to the intercept).

- Disjoint cells (post-stratification, or raking to one joint margin): ``X' D X`` is
  diagonal and ``B_c = sum_{i in c} e_i / g_i / sum_{i in c} d_i``: the residual is ``e``
  minus ``g d`` times the cell mean of ``e / g`` weighted by ``d``, no matrix at all.
- Several margins: a rank-revealing pivoted Cholesky factorisation (LAPACK ``dpstrf``) of the
  Gram matrix scaled to unit diagonal picks a set of linearly independent columns (the role of
  the pivoting in R's ``qr()``); the fit on those columns has the same fitted values and a
  nonsingular sparse system, factorised once (``scipy.sparse.linalg.splu``) and solved for
  every domain. A column whose squared sine to the span of the columns before it is below
  ``ALIAS_TOL`` counts as aliased. Before, ``numpy.linalg.pinv`` of the dense Gram matrix per
  chunk of domains decided the rank by an eigenvalue cutoff (``1e-15`` relative), which keeps
  a spurious eigenvalue whenever rounding lifts the exact zero above it.

References
----------
Deville, J.-C., Sarndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87.
Lumley, T. (2010). *Complex Surveys*, sec. 7.3-7.4 and appendix C (R's ``svyrecvar``).
Higham, N. J. (1990). Analysis of the Cholesky decomposition of a semi-definite matrix. In
    *Reliable Numerical Computation*, Oxford University Press (``dpstrf``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.linalg import lapack
from scipy.sparse import linalg as splinalg

from analysis._checks import FloatArray, IntArray

# Squared sine (relative residual of a unit-diagonal Gram pivot) below which a calibration
# column is aliased. R's qr() uses 1e-7 on the unsquared scale (1e-14 squared), but the
# Gram matrix squares the rounding too: an exact dependency leaves pivots of about p * eps.
ALIAS_TOL = 1e-10


@dataclass(frozen=True)
class CalibrationStep:
    """One calibration (post-stratification or raking) applied to a design.

    Attributes
    ----------
    x : scipy.sparse.csr_matrix
        Calibration model matrix (cell indicators), one row per respondent.
    g : ndarray
        Ratio of the weights after this step to the weights before it.
    d : ndarray
        Weights before this step (the regression weights of the GREG residuals).
    """

    x: sparse.csr_matrix
    g: FloatArray
    d: FloatArray
    _fit: list[_Fit] = field(default_factory=list, init=False, repr=False, compare=False)

    def residuals(self, e: FloatArray) -> FloatArray:
        """GREG residuals ``e - g d X B`` of linearised values ``e`` (rows x estimates)."""
        if not self._fit:  # factorised once per step, reused by every estimate of the design
            self._fit.append(_Fit.of(self.x, self.d))
        fit = self._fit[0]
        e = np.asarray(e, dtype=np.float64)
        out = fit.fitted(e, 1.0 / self.g)  # a new array: scaled and subtracted in place
        out *= (self.g * self.d)[:, None]
        np.subtract(e, out, out=out)
        return out


@dataclass(frozen=True)
class _Fit:
    """Weighted least-squares fitted values ``X B`` for right-hand sides ``X' v``."""

    x: sparse.csr_matrix  # the model matrix, or its kept (linearly independent) columns
    cells: IntArray | None  # disjoint cells: the cell of each row
    dsum: FloatArray | None  # disjoint cells: sum of d per cell
    lu: splinalg.SuperLU | None  # otherwise: LU of the Gram matrix X' D X of the kept columns

    @staticmethod
    def of(x: sparse.csr_matrix, d: FloatArray) -> _Fit:
        x = sparse.csr_matrix(x)
        if (np.diff(x.indptr) == 1).all() and (x.data == 1).all():  # one cell per row
            cells = x.indices.astype(np.int64)
            dsum = np.bincount(cells, weights=d, minlength=x.shape[1]).astype(np.float64)
            return _Fit(x=x, cells=cells, dsum=dsum, lu=None)
        keep = independent_columns(x, d)
        xk = sparse.csr_matrix(x[:, keep])
        gram = sparse.csc_matrix(xk.T @ xk.multiply(d[:, None]))
        return _Fit(x=xk, cells=None, dsum=None, lu=splinalg.splu(gram))

    def fitted(self, e: FloatArray, scale: FloatArray) -> FloatArray:
        """``X B`` with ``(X' D X) B = X' v``, ``v = scale e`` row by row, for every column."""
        rhs = np.asarray(self.x.T.multiply(scale[None, :]) @ e, dtype=np.float64)
        if self.cells is not None and self.dsum is not None:
            # X' D X is diagonal: B_c = sum_{i in c} v_i / sum_{i in c} d_i
            with np.errstate(divide="ignore", invalid="ignore"):
                coef = np.where(self.dsum[:, None] > 0, rhs / self.dsum[:, None], 0.0)
            return np.asarray(coef[self.cells], dtype=np.float64)
        assert self.lu is not None
        return np.asarray(self.x @ self.lu.solve(rhs), dtype=np.float64)


def independent_columns(x: sparse.csr_matrix, d: FloatArray) -> IntArray:
    """Indices of a maximal set of linearly independent columns of ``sqrt(d) X``, sorted.

    Rank-revealing pivoted Cholesky (LAPACK ``dpstrf``) of ``X' D X`` scaled to unit
    diagonal, stopping at pivots below :data:`ALIAS_TOL`; columns of weight 0 are dropped.
    """
    gram = np.asarray((x.T @ x.multiply(d[:, None])).todense(), dtype=np.float64)
    diag = np.diag(gram).copy()
    live = np.nonzero(diag > 0)[0]
    scale = 1.0 / np.sqrt(diag[live])
    unit = gram[np.ix_(live, live)] * scale[:, None] * scale[None, :]
    _, piv, rank, info = lapack.dpstrf(unit, tol=ALIAS_TOL, lower=1)
    if info < 0:
        raise RuntimeError(f"dpstrf failed (info={info})")
    return np.sort(live[piv[:rank] - 1]).astype(np.int64)
