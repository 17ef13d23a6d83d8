"""Random-effects meta-analysis by restricted maximum likelihood (REML), as ``metafor::rma``.

Model: :math:`y_i = \\mu + u_i + \\varepsilon_i`, :math:`u_i \\sim N(0, \\tau^2)`,
:math:`\\varepsilon_i \\sim N(0, v_i)` with known :math:`v_i` (squared standard errors),
i = 1..k studies (here regions). With :math:`w_i = 1/(v_i + \\tau^2)`,
:math:`\\hat\\mu = \\sum w_i y_i / \\sum w_i` and
:math:`P = W - W 1 1^\\top W / \\sum w_i`, the REML log-likelihood is

.. math::

    \\ell_R(\\tau^2) = -\\tfrac12\\Big[\\sum\\log(v_i + \\tau^2) + \\log\\sum w_i
        + \\sum w_i (y_i - \\hat\\mu)^2\\Big] + \\text{const},

with score :math:`\\tfrac12[y^\\top P P y - \\operatorname{tr} P]` and expected
information :math:`\\tfrac12\\operatorname{tr}(PP)`. Fisher scoring
:math:`\\tau^2 \\leftarrow \\tau^2 + (y^\\top PPy - \\operatorname{tr}P)/\\operatorname{tr}(PP)`,
truncated at 0 (step halved while it would go negative, as metafor), from the
Hedges (HE) estimate, until the change is below ``tol`` (metafor's default
threshold is 1e-5; 1e-12 here, the exact REML maximum, which is what metafor
returns with a tight ``threshold``).

Outputs as ``rma`` / ``predict.rma`` with the default ``test = "z"``:
:math:`SE(\\hat\\mu) = (\\sum w_i)^{-1/2}`, CI :math:`\\hat\\mu \\pm z\\,SE`,
prediction interval :math:`\\hat\\mu \\pm z\\sqrt{SE^2 + \\tau^2}` (normal quantile z,
not t(k-2): metafor uses t only with ``test = "t"`` or ``"knha"``),
Cochran's :math:`Q = \\sum (y_i - \\bar y_{FE})^2/v_i` and
:math:`I^2 = 100\\,\\tau^2/(\\tau^2 + s^2)` with the "typical" within-study variance
:math:`s^2 = (k-1)\\sum(1/v_i) / [(\\sum 1/v_i)^2 - \\sum 1/v_i^2]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["MetaResult", "rma_reml"]


@dataclass(frozen=True)
class MetaResult:
    """Pooled estimate (``estimate``, ``std_error``, ``conf_low``, ``conf_high``), ``tau2``,
    ``i2`` (percent), ``q`` (Cochran's Q), ``pi_low``/``pi_high`` (prediction interval),
    ``k`` studies, ``converged``."""

    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    tau2: float
    i2: float
    q: float
    pi_low: float
    pi_high: float
    k: int
    converged: bool


def rma_reml(
    yi: ArrayLike, sei: ArrayLike, *, level: float = 0.95, tol: float = 1e-12, max_iter: int = 1000
) -> MetaResult:
    """REML random-effects meta-analysis of estimates ``yi`` with standard errors ``sei``.

    Needs k >= 2 studies with finite estimates and positive standard errors.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(sei, dtype=float) ** 2
    k = y.size
    if k < 2 or v.shape != y.shape or not (np.all(np.isfinite(y)) and np.all(v > 0)):
        raise ValueError("rma_reml: needs at least 2 finite estimates with positive std errors")
    w0 = 1 / v
    y_fe = np.sum(w0 * y) / w0.sum()
    q = float(np.sum(w0 * (y - y_fe) ** 2))
    # Hedges (HE) starting value, as metafor's tau2.init
    tau2 = max(0.0, float(np.sum((y - y.mean()) ** 2) / (k - 1) - v.mean()))

    def pieces(t2: float):
        w = 1 / (v + t2)
        pmat = np.diag(w) - np.outer(w, w) / w.sum()
        py = pmat @ y
        return w, pmat, py

    converged = False
    for _ in range(max_iter):
        _, pmat, py = pieces(tau2)
        adj = (py @ py - np.trace(pmat)) / np.sum(pmat * pmat)
        while tau2 + adj < 0:
            adj /= 2
            if abs(adj) < tol:
                adj = -tau2
                break
        tau2 = max(0.0, tau2 + adj)
        if abs(adj) < tol:
            converged = True
            break
    w, _, _ = pieces(tau2)
    mu = float(np.sum(w * y) / w.sum())
    se = float(1 / np.sqrt(w.sum()))
    z = float(stats.norm.ppf(0.5 + level / 2))
    s2 = (k - 1) * w0.sum() / (w0.sum() ** 2 - np.sum(w0**2))
    pi_half = z * np.sqrt(se**2 + tau2)
    return MetaResult(
        estimate=mu,
        std_error=se,
        conf_low=mu - z * se,
        conf_high=mu + z * se,
        tau2=tau2,
        i2=float(100 * tau2 / (tau2 + s2)),
        q=q,
        pi_low=mu - pi_half,
        pi_high=mu + pi_half,
        k=k,
        converged=converged,
    )
