"""Date layouts of input files: which one a column uses, and reading a declared one.

The data contract asks for ISO dates (``YYYY-MM-DD``). Extracts saved by a
spreadsheet often hold another layout (``27/07/2021``, ``07/27/2021``,
``27-Jul-2021``, ``44404``). :func:`detect_date_layout` says which layout the
values follow, with the share of values each known layout reads, so that a
message can name the layout and the fix; :func:`parse_dates` reads a layout
the user declares in config (``date_format``, per region).

Detection works on the distinct values (dates repeat: a column of ten million
contacts holds a few thousand distinct days), weighted by how often each
occurs, so it is exact and fast. A value is read by a layout when it matches
the layout's pattern, is a real calendar day and falls in the plausible window
(``lo`` to ``hi``). Day-first and month-first layouts read the same text; they
are told apart by values whose first (or second) field is above 12: only the
day can be. When no value tells them apart, the result is ambiguous and the
user is asked to declare the layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["LAYOUTS", "DateLayout", "DateLayoutReport", "detect_date_layout", "layout_advice",
           "layout_hint", "layout_names", "parse_dates", "read_by"]

#: A time of day after the date ("2021-07-27 00:00:00", "27/07/2021 13:05"): ignored.
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
#: Day 0 of Excel's (1900) date system: serial 1 is 1900-01-01, with Excel's phantom
#: 29 February 1900 the offset is exact for every serial from 61 (1900-03-01) on.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


@dataclass(frozen=True)
class DateLayout:
    """One layout: its name in config, the text pattern and the ``strptime`` format."""

    name: str
    pattern: str
    fmt: str | None  # None: an Excel serial day number
    example: str


LAYOUTS: dict[str, DateLayout] = {
    lay.name: lay
    for lay in (
        DateLayout("ISO", r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d", "2021-07-27"),
        DateLayout("DD/MM/YYYY", r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y", "27/07/2021"),
        DateLayout("MM/DD/YYYY", r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y", "07/27/2021"),
        DateLayout("DD-MM-YYYY", r"\d{1,2}-\d{1,2}-\d{4}", "%d-%m-%Y", "27-07-2021"),
        DateLayout("MM-DD-YYYY", r"\d{1,2}-\d{1,2}-\d{4}", "%m-%d-%Y", "07-27-2021"),
        DateLayout("DD.MM.YYYY", r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y", "27.07.2021"),
        DateLayout("YYYY/MM/DD", r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d", "2021/07/27"),
        DateLayout("YYYYMMDD", r"\d{8}", "%Y%m%d", "20210727"),
        DateLayout("DD/MM/YY", r"\d{1,2}/\d{1,2}/\d{2}", "%d/%m/%y", "27/07/21"),
        DateLayout("MM/DD/YY", r"\d{1,2}/\d{1,2}/\d{2}", "%m/%d/%y", "07/27/21"),
        DateLayout("DD-Mon-YYYY", r"\d{1,2}[- ][A-Za-z]{3}[- ]\d{4}", "%d-%b-%Y", "27-Jul-2021"),
        DateLayout("DDMONYYYY", r"\d{1,2}[A-Za-z]{3}\d{4}", "%d%b%Y", "27JUL2021"),
        DateLayout("EXCEL", r"\d{5}(?:\.\d+)?", None, "44404 (Excel serial day number)"),
    )
}
#: Pairs that read the same text with day and month swapped.
_SWAPPED = {"DD/MM/YYYY": "MM/DD/YYYY", "DD-MM-YYYY": "MM-DD-YYYY", "DD/MM/YY": "MM/DD/YY"}
_SWAPPED.update({v: k for k, v in list(_SWAPPED.items())})
CONTRACT_MIN = pd.Timestamp("1990-01-01")
CONTRACT_MAX = pd.Timestamp("2100-12-31")


def layout_names() -> list[str]:
    """Names of the known layouts, as ``date_format`` accepts them."""
    return list(LAYOUTS)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").str.strip()


def _read_distinct(text: np.ndarray, layout: DateLayout) -> pd.Series:
    """Parse distinct stripped strings under ``layout`` (NaT where it does not read them)."""
    s = pd.Series(text, dtype="string")
    if layout.fmt is None:
        ok = s.str.fullmatch(layout.pattern).fillna(False).to_numpy(bool)
        days = pd.to_numeric(s.where(ok), errors="coerce").to_numpy(float)
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        whole = np.floor(days)
        fine = np.isfinite(whole)
        out[fine] = EXCEL_EPOCH + pd.to_timedelta(whole[fine], unit="D")
        return out
    core = s.str.replace(_TIME + "$", "", regex=True)
    ok = core.str.fullmatch(layout.pattern).fillna(False).to_numpy(bool)
    core = core.str.replace(r"(\d)[ ]([A-Za-z]{3})[ ](\d)", r"\1-\2-\3", regex=True)
    parsed = pd.to_datetime(core.where(ok), format=layout.fmt, errors="coerce")
    return pd.Series(parsed.to_numpy("datetime64[ns]"), index=s.index)


def parse_dates(values: pd.Series, layout: str) -> tuple[pd.Series, pd.Series]:
    """Read ``values`` in the declared ``layout`` (a name of :data:`LAYOUTS`).

    Returns ``(parsed, bad)``: ``datetime64[ns]`` values (NaT for empty or
    unreadable cells) and a mask of cells that are non-empty but not a date in
    this layout. A time of day after the date is ignored. Excel serial
    numbers are days since 1899-12-30 (Excel's 1900 date system); a fraction
    (a time of day) is dropped. Distinct values are parsed once.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown date layout {layout!r}; known: {', '.join(LAYOUTS)}")
    text = _text(values)
    codes, uniques = pd.factorize(text)
    parsed_u = _read_distinct(np.asarray(uniques, dtype=object), LAYOUTS[layout]).to_numpy()
    parsed = pd.Series(parsed_u[codes], index=values.index, dtype="datetime64[ns]")
    bad = (text != "").to_numpy(bool) & parsed.isna().to_numpy()
    return parsed, pd.Series(bad, index=values.index)


@dataclass
class DateLayoutReport:
    """What :func:`detect_date_layout` found.

    Attributes
    ----------
    n_values
        Non-empty values examined.
    shares
        ``{layout: share of the values it reads}``, layouts reading any value,
        largest share first.
    layout
        The layout reading the most values, or None (ambiguous or none reads any).
    ambiguous
        Layouts tied for the largest share (a day-first and a month-first
        layout when no day is above 12); empty when ``layout`` is set.
    examples
        Up to three of the commonest values.
    with_time
        Share of values carrying a time of day after the date.
    """

    n_values: int
    shares: dict[str, float] = field(default_factory=dict)
    layout: str | None = None
    ambiguous: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    with_time: float = 0.0

    def share(self, layout: str) -> float:
        """Share of the values ``layout`` reads (0 if none)."""
        return self.shares.get(layout, 0.0)

    def summary(self) -> str:
        """``'DD/MM/YYYY' 100%, 'MM/DD/YYYY' 41%``: the share each layout reads."""
        return ", ".join(f"{k} {_pct(v)}" for k, v in self.shares.items()) or "none"


def _pct(share: float) -> str:
    pct = 100 * share
    if 0 < pct < 1:
        return "<1%"
    if 99 < pct < 100:
        return ">99%"
    return f"{pct:.0f}%"


def detect_date_layout(values: pd.Series | list[pd.Series], *, lo: pd.Timestamp = CONTRACT_MIN,
                       hi: pd.Timestamp = CONTRACT_MAX) -> DateLayoutReport:
    """Which known layout the non-empty ``values`` follow, with the share each reads.

    Parameters
    ----------
    values
        One column, or several (e.g. every date column of one file: one
        spreadsheet save writes one layout), as text.
    lo, hi
        Plausible window: a value read as a date outside it does not count as
        read (this tells an Excel serial from a ``YYYYMMDD`` number and
        two-digit years apart).

    Returns
    -------
    DateLayoutReport
        ``share(L) = sum over distinct values v read by L of count(v) / n``,
        where ``n`` is the number of non-empty values. The layout with the
        largest share wins; a tie at the top (``DD/MM/YYYY`` and
        ``MM/DD/YYYY`` when every day and month is at most 12) is ambiguous.
    """
    cols = values if isinstance(values, list) else [values]
    text = pd.concat([_text(v) for v in cols], ignore_index=True) if cols else pd.Series(
        [], dtype="string")
    counts = text[text != ""].value_counts(sort=True)
    n = int(counts.sum())
    if n == 0:
        return DateLayoutReport(0)
    distinct = np.asarray(counts.index, dtype=object)
    weight = counts.to_numpy(np.int64)
    shares = {}
    for name, lay in LAYOUTS.items():
        parsed = _read_distinct(distinct, lay)
        inside = (parsed.notna() & (parsed >= lo) & (parsed <= hi)).to_numpy(bool)
        if inside.any():
            shares[name] = float(weight[inside].sum() / n)
    timed = pd.Series(distinct, dtype="string").str.contains(
        r"\d[ T]\d{1,2}:\d{2}", regex=True).fillna(False).to_numpy(bool)
    ordered = dict(sorted(shares.items(), key=lambda kv: -kv[1]))
    report = DateLayoutReport(n, ordered, examples=tuple(map(str, distinct[:3])),
                              with_time=float(weight[timed].sum() / n))
    if not ordered:
        return report
    top = max(ordered.values())
    tied = tuple(k for k, v in ordered.items() if np.isclose(v, top, rtol=0, atol=1e-12))
    if len(tied) == 1:
        report.layout = tied[0]
    else:
        report.ambiguous = tied
    return report


def layout_advice(report: DateLayoutReport, *, region: str, config_key: str = "date_format",
                  ) -> str:
    """One sentence naming the layout found and how to fix or declare it.

    Examples (region ``north``)::

        the dates are DD/MM/YYYY (e.g. '27/07/2021'; this layout reads 100% of
        29,128 values), not YYYY-MM-DD: save them as YYYY-MM-DD, or declare the
        layout: --config "date_format={north: DD/MM/YYYY}"
    """
    eg = ", ".join(repr(e) for e in report.examples[:2])
    declare = f'--config "{config_key}={{{region}: %s}}"'
    if report.layout == "ISO":
        note = " with a time of day" if report.with_time > 0 else ""
        return (f"the dates are YYYY-MM-DD{note} (e.g. {eg}); only the date may be given: "
                "save them as YYYY-MM-DD, or declare the layout to ignore the time: "
                + declare % "ISO")
    if report.layout:
        shown = "Excel serial day numbers (EXCEL)" if report.layout == "EXCEL" else report.layout
        n = report.n_values
        return (f"the dates are {shown} (e.g. {eg}; this layout reads "
                f"{_pct(report.share(report.layout))} of {n:,} value{'s' if n != 1 else ''}), not "
                "YYYY-MM-DD: save them as YYYY-MM-DD, or declare the layout: "
                + declare % report.layout)
    if report.ambiguous:
        both = " or ".join(report.ambiguous)
        return (f"the dates are {both} (e.g. {eg}): no day above 12 tells which; declare the "
                "layout: " + declare % report.ambiguous[0])
    return (f"the dates follow no known layout (e.g. {eg}); known layouts: "
            f"{', '.join(LAYOUTS)}")



def layout_hint(columns: list[pd.Series], *, region: str, lo: pd.Timestamp = CONTRACT_MIN,
                hi: pd.Timestamp = CONTRACT_MAX) -> tuple[tuple[str, ...], str]:
    """The layout(s) a file's dates follow when it is not the contract's, and the advice.

    ``columns`` are the date columns of one file, as text. Returns
    ``(layouts, advice)``: the detected layout (or the tied ambiguous ones) and
    :func:`layout_advice`; ``((), "")`` when the dates are plain ISO (a few
    bad values are then typos, not a layout) or follow no known layout.
    """
    report = detect_date_layout(columns, lo=lo, hi=hi)
    if report.layout == "ISO" and report.with_time == 0:
        return (), ""
    layouts = (report.layout,) if report.layout else report.ambiguous
    if not layouts:
        return (), ""
    return layouts, layout_advice(report, region=region)


def read_by(values: pd.Series, layouts: tuple[str, ...]) -> pd.Series:
    """Mask of the non-empty ``values`` that any of ``layouts`` reads as a date."""
    ok = pd.Series(False, index=values.index)
    for name in layouts:
        parsed, _ = parse_dates(values, name)
        ok |= parsed.notna()
    return ok
