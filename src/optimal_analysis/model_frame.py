"""Model frames shared by the rate and survival models: design matrices, aliased columns and
the ``reason`` vocabulary of rows that cannot be estimated.

A model matrix has an intercept (rate models; Cox models drop it), one indicator
per care model other than the reference (named by the care model) and the
covariates. Columns that add no rank are dropped, never the care-model columns:
:func:`drop_aliased_columns` (with an intercept, as R's ``lm``/``glm`` alias) and
:func:`independent_columns` (without one, as for ``coxph``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "INTERCEPT",
    "REASONS",
    "check_cohort_columns",
    "design_matrix",
    "drop_aliased_columns",
    "independent_columns",
]

#: Name of the intercept column of a model matrix.
INTERCEPT = "(Intercept)"
#: Why a rate-ratio or standardised-rate row has empty values (its ``reason`` column;
#: empty when the row is fine). "Analysed set": residents with exposure > 0 and,
#: when adjusted, every covariate (complete cases).
REASONS: dict[str, str] = {
    "no_complete_cases": "no resident has every covariate; the detail after ': ' names the "
    "covariates missing for everyone (else those with any missing value)",
    "no_reference_residents": "the reference care model has no resident in the analysed set",
    "no_residents": "this care model has no resident in the analysed set",
    "no_reference_events": "the reference care model has no event of this outcome",
    "no_events": "this care model has no event of this outcome (its residents are left out "
    "of the fit; the other contrasts are kept)",
    "aliased": "care-model indicators are aliased (linearly dependent): no contrast is identified",
    "not_converged": "the model fit did not converge",
    "single_cluster": "this care model or the reference has fewer than 2 care homes in the fit: "
    "estimate kept, but its cluster score sums to 0, so std_error, CIs and p-values are empty",
}


def check_cohort_columns(
    cohort: pd.DataFrame, columns: Sequence[str], *, table: str = "cohort"
) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` missing from ``cohort``."""
    missing = [c for c in dict.fromkeys(columns) if c not in cohort.columns]
    if missing:
        raise ValueError(f"{table} table lacks column(s) {missing}; it has {list(cohort.columns)}")


def design_matrix(
    data: pd.DataFrame, *, levels: Sequence[str], reference: str, covariates: Sequence[str] = ()
) -> tuple[np.ndarray, list[str]]:
    """Model matrix: intercept, care-model indicators (``reference`` omitted), covariates.

    Care-model columns are named by the care model. Covariates: booleans as
    0/1; numbers as they are (linear); text as treatment indicators named
    ``<column>_<level>`` against the first level in sorted order (``sex_M`` for
    ``F``/``M``). Rows must have no missing covariates (see complete cases).
    """
    care = data["care_model"].astype(str).to_numpy()
    cols = [np.ones(len(data))]
    names = [INTERCEPT]
    for level in levels:
        if level != reference:
            cols.append((care == level).astype(float))
            names.append(level)
    for cov in covariates:
        s = data[cov]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            cols.append(s.astype(float).to_numpy())
            names.append(cov)
        else:
            values = s.astype(str).to_numpy()
            for level in sorted(np.unique(values))[1:]:
                cols.append((values == level).astype(float))
                names.append(f"{cov}_{level}")
    return np.column_stack(cols), names


def drop_aliased_columns(
    x: np.ndarray, names: Sequence[str], *, tol: float = 1e-10
) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop columns that are linear combinations of earlier ones (as R's ``lm``/``glm`` alias).

    Columns are taken in order (intercept, care models, covariates), each kept
    if it raises the rank of the correlation-scaled cross-product matrix, so
    a covariate constant within the data or confounded with care model is the
    one dropped. Returns the reduced matrix, its names and the dropped names.
    """
    gram = x.T @ x
    scale = np.sqrt(np.diag(gram))
    keep: list[int] = []
    for j in range(x.shape[1]):  # a handful of columns, never rows
        if scale[j] == 0:
            continue
        trial = [*keep, j]
        sub = gram[np.ix_(trial, trial)] / np.outer(scale[trial], scale[trial])
        if np.linalg.matrix_rank(sub, tol=tol) == len(trial):
            keep.append(j)
    dropped = [n for k, n in enumerate(names) if k not in keep]
    return x[:, keep], [names[k] for k in keep], dropped


def independent_columns(x: np.ndarray, n_protected: int, tol: float = 1e-10) -> list[int]:
    """Columns of ``x`` kept: the first ``n_protected`` always, then each that adds rank.

    Cox models have no intercept, so a column constant over the rows is aliased
    with the baseline hazard: columns are centred and scaled to unit norm, and
    column j is kept if the singular values of [kept, j] stay above ``tol`` times
    the largest (a handful of columns; never a loop over rows).
    """
    xc = x - x.mean(axis=0)
    norm = np.linalg.norm(xc, axis=0)
    keep = list(range(n_protected))
    for j in range(n_protected, x.shape[1]):
        if norm[j] <= tol * max(1.0, np.abs(x[:, j]).max()):
            continue
        trial = xc[:, [*keep, j]] / norm[[*keep, j]]
        s = np.linalg.svd(trial, compute_uv=False)
        if s[-1] > tol * s[0]:
            keep.append(j)
    return keep
