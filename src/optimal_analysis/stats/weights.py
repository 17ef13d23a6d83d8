"""Propensity-score weights for several treatments, effective sample size and weighted SMDs.

With generalised propensity scores e_ik = P(Z_i = k | x_i), k = 0..K-1, and
z_i resident i's own care model:

* generalised overlap weights (Li & Li 2019, Ann Appl Stat 13:2389):
  :math:`w_i = (1/e_{i z_i}) / \\sum_k 1/e_{ik}`. The target population is the
  overlap population, weighted by :math:`h(x) = 1/\\sum_k 1/e_k(x)`; weights are
  bounded by 1, so no resident dominates. With K = 2 this is 1 - e for the
  treated and e for the controls, and with the logistic MLE the weighted means
  of every covariate in the model are equal in the two groups (the score
  equations), exactly; with K >= 3 they are not (the balance table shows how close).
* inverse-probability weights :math:`w_i = 1/e_{i z_i}` (target: the whole
  population), stabilised :math:`w_i = \\hat P(Z = z_i)/e_{i z_i}`, optionally
  trimmed: residents with :math:`\\min_k e_{ik} <` ``trim`` get weight 0 (Crump
  et al. 2009; Yoshida et al. 2019 for several treatments), and the stabilising
  proportions are those of the residents kept.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "effective_sample_size",
    "ipw_weights",
    "overlap_weights",
    "weighted_balance",
]


def _own(ps: NDArray[np.float64], z: NDArray[np.intp]) -> NDArray[np.float64]:
    return ps[np.arange(z.size), z]


def _check(ps: ArrayLike, z: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    e = np.asarray(ps, dtype=float)
    zc = np.asarray(z, dtype=np.intp)
    if e.ndim != 2 or zc.shape != (e.shape[0],):
        raise ValueError("ps must be n x K and z hold one class code per row")
    if np.any(~np.isfinite(e)) or np.any(e < 0):
        raise ValueError("propensity scores must be finite and >= 0")
    return e, zc


def overlap_weights(ps: ArrayLike, z: ArrayLike) -> NDArray[np.float64]:
    """Generalised overlap weights ``(1/e_{i z_i}) / sum_k 1/e_ik`` (module docstring).

    Computed as ``1 / sum_k (e_{i z_i} / e_ik)``, so a resident with a propensity
    score of 0 for some care model (no counterpart there: separation) gets weight 0
    rather than 0/0.
    """
    e, zc = _check(ps, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _own(e, zc)[:, None] / e
        w = 1.0 / np.where(np.isnan(ratio), np.inf, ratio).sum(axis=1)
    return np.nan_to_num(w, nan=0.0)


def ipw_weights(
    ps: ArrayLike, z: ArrayLike, *, stabilise: bool = False, trim: float = 0.0
) -> NDArray[np.float64]:
    """Inverse-probability weights ``1/e_{i z_i}``, optionally stabilised and trimmed.

    Parameters
    ----------
    ps, z
        Propensity scores (n x K) and each resident's class code.
    stabilise
        Multiply by the proportion of (kept) residents in the resident's class.
    trim
        Residents whose smallest propensity score is below ``trim`` get weight 0
        (0 keeps everyone; 0.05 or 0.1 are usual with three groups). A resident
        whose own score is 0 always gets weight 0.
    """
    e, zc = _check(ps, z)
    if not 0 <= trim < 1 / e.shape[1]:
        raise ValueError(f"trim must be in [0, 1/K) = [0, {1 / e.shape[1]:.3g})")
    keep = (e.min(axis=1) >= trim) & (_own(e, zc) > 0)
    with np.errstate(divide="ignore"):
        w = np.where(keep, 1.0 / _own(e, zc), 0.0)
    if stabilise:
        share = np.bincount(zc[keep], minlength=e.shape[1]) / keep.sum()
        w = w * share[zc]
    return w


def effective_sample_size(w: ArrayLike, z: ArrayLike, n_classes: int) -> NDArray[np.float64]:
    """Kish's effective sample size of each class: ``(sum w)^2 / sum w^2`` (0 if no weight)."""
    wa = np.asarray(w, dtype=float)
    zc = np.asarray(z, dtype=np.intp)
    s1 = np.bincount(zc, weights=wa, minlength=n_classes)
    s2 = np.bincount(zc, weights=wa**2, minlength=n_classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s2 > 0, s1**2 / s2, 0.0)


def weighted_balance(
    x: ArrayLike,
    z: ArrayLike,
    w: ArrayLike,
    *,
    n_classes: int,
    binary: ArrayLike,
    reference: int = 0,
) -> dict[str, NDArray[np.float64]]:
    """Crude and weighted means of each column of ``x`` by class, and SMDs against ``reference``.

    .. math::

        \\bar x_k = \\frac{\\sum_{z_i = k} v_i x_i}{\\sum_{z_i = k} v_i},\\qquad
        d_k = \\frac{\\bar x_k - \\bar x_{\\mathrm{ref}}}{\\sqrt{(s_k^2 + s_{\\mathrm{ref}}^2)/2}},

    with v_i = 1 (crude) or w_i (weighted). The denominator is the same for both:
    the *unweighted* group variances, s^2 = p(1 - p) for a binary column and the
    sample variance (n - 1) otherwise (Austin 2009; cobalt's default for several
    treatments compares the same pair with an unweighted pooled SD), so a change
    in d reflects a change in the means only. d is NaN where the denominator is 0.

    Returns
    -------
    dict of K x q arrays ``mean_crude``, ``mean_weighted``, ``smd_crude``,
    ``smd_weighted`` (the reference row's SMDs are 0).
    """
    xm = np.asarray(x, dtype=float)
    if xm.ndim == 1:
        xm = xm[:, None]
    zc = np.asarray(z, dtype=np.intp)
    wa = np.asarray(w, dtype=float)
    is_bin = np.broadcast_to(np.asarray(binary, dtype=bool), (xm.shape[1],))

    def means(v: NDArray[np.float64]) -> NDArray[np.float64]:
        tot = np.bincount(zc, weights=v, minlength=n_classes)
        sums = np.column_stack(
            [np.bincount(zc, weights=v * xm[:, j], minlength=n_classes) for j in range(xm.shape[1])]
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            return sums / tot[:, None]

    m0 = means(np.ones(zc.size))
    m1 = means(wa)
    n = np.bincount(zc, minlength=n_classes).astype(float)
    centred = xm - m0[zc]
    ss = np.column_stack(
        [np.bincount(zc, weights=centred[:, j] ** 2, minlength=n_classes)
         for j in range(xm.shape[1])]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(is_bin[None, :], m0 * (1 - m0), ss / (n[:, None] - 1))
        den = np.sqrt((var + var[reference]) / 2)
        smd0 = np.where(den > 0, (m0 - m0[reference]) / den, np.nan)
        smd1 = np.where(den > 0, (m1 - m1[reference]) / den, np.nan)
    return {"mean_crude": m0, "mean_weighted": m1, "smd_crude": smd0, "smd_weighted": smd1}
