"""The design of the rate models: region caveats and why a model or term cannot be estimated.

Reasons are keys of :data:`optimal_analysis.model_frame.REASONS`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["analysis_set_reason", "make_caveats", "term_reasons"]


def make_caveats(cohort: pd.DataFrame, *, reference: str) -> pd.DataFrame:
    """Design caveats: one row per care model other than the reference.

    ``region_confounded`` is true when no region has homes of both that care
    model and the reference: the comparison is then between regions as much as
    between care models, and the two cannot be separated. Columns:
    ``care_model, reference, regions, regions_with_both, region_confounded, caveat``.
    """
    pairs = cohort[["region", "care_model"]].astype(str).drop_duplicates()
    by_region = pairs.groupby("region")["care_model"].agg(set)
    rows = []
    for m in sorted(set(pairs["care_model"]) - {reference}):
        both = int(sum({m, reference} <= s for s in by_region))
        regions = sorted(pairs.loc[pairs["care_model"] == m, "region"])
        text = (
            f"{m} and {reference} never share a region: care model and region cannot be separated"
            if both == 0
            else f"{m} and {reference} share {both} region(s)"
        )
        rows.append(
            {
                "care_model": m,
                "reference": reference,
                "regions": ";".join(regions),
                "regions_with_both": both,
                "region_confounded": both == 0,
                "caveat": text,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "care_model",
            "reference",
            "regions",
            "regions_with_both",
            "region_confounded",
            "caveat",
        ],
    )


def analysis_set_reason(
    data: pd.DataFrame, cohort: pd.DataFrame, *, reference: str, covariates: Sequence[str]
) -> str:
    """Reason (a key of ``model_frame.REASONS``) no model can be fitted to ``data``, or ``""``.

    ``data`` is the analysed subset of ``cohort`` (exposure > 0, complete cases of
    ``covariates``). ``no_complete_cases`` when the covariates leave nobody, with the
    covariates missing for everyone named (else those with any missing value);
    ``no_reference_residents`` when the reference care model is not in ``data``.
    """
    if data.empty and len(covariates) and not cohort[list(covariates)].notna().all(axis=1).any():
        missing = cohort[list(covariates)].isna()
        named = [c for c in covariates if missing[c].all()] or [
            c for c in covariates if missing[c].any()
        ]
        return "no_complete_cases: " + ", ".join(named)
    if not (data["care_model"].astype(str) == reference).any():
        return "no_reference_residents"
    return ""


def term_reasons(
    data: pd.DataFrame, outcome: str, *, levels: Sequence[str], reference: str, set_reason: str
) -> dict[str, str]:
    """Per care model of ``levels``: the reason (``model_frame.REASONS``) it has no estimate.

    ``""`` when it has one.

    The reference's entry is the reason no model can be fitted at all:
    ``set_reason`` (from :func:`analysis_set_reason`), else
    ``no_reference_events`` when the reference has no event of ``outcome``; both
    then apply to every care model. Otherwise ``no_residents`` / ``no_events``
    per care model.
    """
    events = data.groupby(data["care_model"].astype(str))[outcome].sum()
    if not set_reason and events.get(reference, 0) == 0:
        set_reason = "no_reference_events"
    if set_reason:
        return {m: set_reason for m in levels}
    return {
        m: "no_residents" if m not in events.index else "no_events" if events[m] == 0 else ""
        for m in levels
    }
