"""Converting model estimates to broom-style tidy tables, in one place.

Library-specific labels (statsmodels' ``params``/``bse``, lifelines' ``coef``,
``se(coef)``) stop here: every stage's tables use ``term, estimate, std_error,
conf_low, conf_high, p_value``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

__all__ = [
    "MARKER",
    "SMALL_SAMPLE_COLUMNS",
    "TIDY_COLUMNS",
    "tidy_coefficients",
    "wald_inference",
]

#: What a suppressed value shows as in published tables, their figures and the report.
MARKER = "[c]"

TIDY_COLUMNS = ["term", "estimate", "std_error", "conf_low", "conf_high", "p_value"]

#: The small-sample interval every rate-ratio, hazard-ratio and cost row carries beside
#: the contract's CR1 / percentile columns (results contract, "Small-sample intervals"):
#: limits on the estimate's scale, p-value, degrees of freedom (NaN for a normal or
#: bootstrap reference distribution) and the method's name (e.g. ``CR2-Satterthwaite``).
SMALL_SAMPLE_COLUMNS = [
    "conf_low_small",
    "conf_high_small",
    "p_value_small",
    "df_small",
    "small_sample_method",
]


def wald_inference(
    estimate: npt.ArrayLike,
    std_error: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    df: npt.ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wald limits and two-sided p-values: ``b ± q·se`` and ``2·P(|Z| > |b/se|)``.

    ``q`` is the ``1 − alpha/2`` quantile of the standard normal, or of Student's
    t with ``df`` degrees of freedom when ``df`` is given (small-sample use; an
    array gives each estimate its own degrees of freedom).
    """
    b = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    dist = stats.norm if df is None else stats.t(df)
    q = dist.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * dist.sf(np.abs(b / se))
    return b - q * se, b + q * se, p


def tidy_coefficients(
    params: npt.ArrayLike,
    cov: npt.ArrayLike,
    names: Sequence[str],
    *,
    exponentiate: bool = False,
    alpha: float = 0.05,
    df: float | None = None,
) -> pd.DataFrame:
    """Tidy table of coefficients from an estimate vector and its covariance matrix.

    Parameters
    ----------
    params, cov
        Estimates (K,) on the linear-predictor scale and their (K × K) covariance.
    names
        Term names, one per estimate.
    exponentiate
        Report ``exp(estimate)`` and exponentiated limits (rate or hazard
        ratios); ``std_error`` stays on the linear (log) scale, as in broom.
    alpha, df
        Wald limits at level ``1 − alpha`` with normal (``df=None``) or t(df)
        quantiles; p-values from the same distribution.

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS`, one row per term.
    """
    b = np.asarray(params, dtype=float).ravel()
    v = np.asarray(cov, dtype=float)
    if v.shape != (b.size, b.size) or len(names) != b.size:
        raise ValueError(f"params ({b.size}), cov {v.shape} and names ({len(names)}) do not match")
    with np.errstate(invalid="ignore"):  # a variance rounded below 0 (singular meat) -> NaN
        se = np.sqrt(np.diag(v))
    low, high, p = wald_inference(b, se, alpha=alpha, df=df)
    transform = np.exp if exponentiate else (lambda x: x)
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": transform(b),
            "std_error": se,
            "conf_low": transform(low),
            "conf_high": transform(high),
            "p_value": p,
        }
    )
