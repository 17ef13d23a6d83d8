"""How much of each region ``on_invalid: exclude`` sets aside, and the stop when it is too much.

Setting invalid rows aside is meant for a few bad rows. When a cause affects a
whole column (dates in another layout, a care model missing from config), it
sets aside most of a region and the analysis that follows describes a
different population without saying so. :func:`excluded_shares` measures, per
region and table, the rows set aside because they break the contract (or
because the home or resident they belong to was); :func:`check_excluded_share`
stops the run, naming the region, the table and the cause, when a share is
above ``max_excluded_share``.

Rows outside a resident's follow-up (``before_entry``, ``after_exit``,
``after_death``) and blank lines are not invalid: they are not counted, and
blank lines are not in the denominator either.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CASCADE_REASONS", "ExcessiveExclusionError", "check_excluded_share",
           "excluded_shares", "set_aside_lines"]

#: Reasons that follow from another row's failure, in words.
CASCADE_REASONS = {
    "care_home_excluded": "their care home was set aside",
    "resident_excluded": "their resident was set aside",
}
_NOT_ROWS = {"blank_line"}


class ExcessiveExclusionError(Exception):
    """``on_invalid: exclude`` would set aside more of a region than allowed."""


def _invalid_reasons(failures: pd.DataFrame) -> set[str]:
    errors = failures.loc[failures["severity"] == "error", "problem"].astype(str)
    return set(errors) | set(CASCADE_REASONS)


def excluded_shares(accounting: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """Rows set aside as invalid, per region and table.

    Returns columns ``region, table, rows, set_aside, share, causes`` where
    ``rows`` is rows read less blank lines, ``set_aside`` the rows whose
    reason is a failure of severity ``error`` or a cascade
    (:data:`CASCADE_REASONS`), ``share = set_aside / rows`` (0 when
    ``rows`` is 0) and ``causes`` a list of ``(reason, rows)``, most rows first.
    """
    acc = accounting.copy()
    invalid = _invalid_reasons(failures)
    acc["blank"] = acc["reason"].isin(_NOT_ROWS) * acc["rows_excluded"]
    acc["bad"] = acc["reason"].isin(invalid) * acc["rows_excluded"]
    keys = ["region", "table"]
    g = acc.groupby(keys, sort=True)
    out = pd.DataFrame({"rows": g["rows_read"].first() - g["blank"].sum(),
                        "set_aside": g["bad"].sum()}).reset_index()
    out["share"] = (out["set_aside"] / out["rows"].where(out["rows"] > 0)).fillna(0.0)
    bad = acc[acc["bad"] > 0].sort_values(["region", "table", "bad", "reason"],
                                          ascending=[True, True, False, True])
    causes = bad.groupby(keys)[["reason", "bad"]].apply(
        lambda d: [(str(r), int(n)) for r, n in zip(d["reason"], d["bad"], strict=True)])
    out["causes"] = [causes.get((r, t), []) for r, t in zip(out["region"], out["table"],
                                                              strict=True)]
    return out


def _cause_text(region: str, table: str, reason: str, n: int, failures: pd.DataFrame) -> str:
    rows = f"{n:,} row{'s' if n != 1 else ''}"
    if reason in CASCADE_REASONS:
        return f"{CASCADE_REASONS[reason]} ({rows})"
    f = failures[(failures["region"] == region) & (failures["problem"] == reason)]
    if (f["table"] == table).any():
        f = f[f["table"] == table]
    if f.empty:
        return f"{reason} ({rows})"
    first = f.iloc[0]
    column = f"{first['column']}: " if str(first["column"]) else ""
    return f"{column}{first['message']} ({rows})"


def check_excluded_share(accounting: pd.DataFrame, failures: pd.DataFrame, *,
                         max_share: float, failures_file: str = "failures.csv") -> str:
    """Raise :class:`ExcessiveExclusionError` if a region/table share exceeds ``max_share``.

    The message names every region and table over the limit, how many of
    its rows would be set aside, and each cause (column and problem, or the
    cascade) with its rows. Returns a one-line-per-region summary of what is
    set aside otherwise ("" if nothing).
    """
    shares = excluded_shares(accounting, failures)
    over = shares[shares["share"] > max_share]
    if len(over):
        lines = []
        for r in over.itertuples():
            causes = "; ".join(_cause_text(r.region, r.table, reason, n, failures)
                               for reason, n in r.causes[:3])
            lines.append(f"  region {r.region!r}, {r.table}: {r.set_aside:,} of {r.rows:,} rows "
                         f"({100 * r.share:.0f}%) would be set aside: {causes}")
        regions = sorted(set(over["region"]))
        raise ExcessiveExclusionError(
            f"on_invalid=exclude would set aside more than {100 * max_share:g}% of the rows of "
            f"region{'s' if len(regions) > 1 else ''} {', '.join(map(repr, regions))} "
            "(config max_excluded_share); nothing was analysed.\n" + "\n".join(lines)
            + f"\nA cause that affects a whole column is usually a fix to make, not rows to drop;"
            f" every problem is listed in {failures_file}. To analyse without these rows anyway, "
            "raise the limit, e.g. --config max_excluded_share=1.")
    return set_aside_lines(shares)


def set_aside_lines(shares: pd.DataFrame) -> str:
    """``north: 3 of 120 residents (2.5%), 40 of 9,100 contacts (0.4%)`` per region set aside."""
    lines = []
    for region, g in shares[shares["set_aside"] > 0].groupby("region", sort=True):
        parts = [f"{r.set_aside:,} of {r.rows:,} {r.table} ({100 * r.share:.1f}%)"
                 for r in g.itertuples()]
        lines.append(f"{region}: " + ", ".join(parts))
    return "\n".join(lines)
