"""Date-layout detection and declared-layout parsing (optimal_analysis.ingest.dates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimal_analysis.ingest.dates import (
    LAYOUTS,
    detect_date_layout,
    layout_advice,
    parse_dates,
)

# (layout, text, the day it is) -- every day hand-checked
CASES = [
    ("ISO", "2021-07-27", "2021-07-27"),
    ("DD/MM/YYYY", "27/07/2021", "2021-07-27"),
    ("MM/DD/YYYY", "07/27/2021", "2021-07-27"),
    ("DD-MM-YYYY", "27-07-2021", "2021-07-27"),
    ("MM-DD-YYYY", "07-27-2021", "2021-07-27"),
    ("DD.MM.YYYY", "27.07.2021", "2021-07-27"),
    ("YYYY/MM/DD", "2021/07/27", "2021-07-27"),
    ("YYYYMMDD", "20210727", "2021-07-27"),
    ("DD/MM/YY", "27/07/21", "2021-07-27"),
    ("MM/DD/YY", "07/27/21", "2021-07-27"),
    ("DD-Mon-YYYY", "27-Jul-2021", "2021-07-27"),
    ("DDMONYYYY", "27JUL2021", "2021-07-27"),
    # Excel: serial 44197 is 2021-01-01; 181 days of Jan-Jun, +26 -> 27 July
    ("EXCEL", "44404", "2021-07-27"),
]


def test_every_layout_is_tested():
    assert sorted(c[0] for c in CASES) == sorted(LAYOUTS)


@pytest.mark.parametrize(("layout", "text", "day"), CASES, ids=[c[0] for c in CASES])
def test_each_layout_is_detected_and_read(layout, text, day):
    values = pd.Series([text, text, ""])
    report = detect_date_layout(values)
    assert report.layout == layout and report.share(layout) == 1.0 and report.n_values == 2
    parsed, bad = parse_dates(values, layout)
    assert parsed.iloc[0] == pd.Timestamp(day) and pd.isna(parsed.iloc[2])
    assert bad.tolist() == [False, False, False]


def test_day_first_and_month_first_are_told_apart_by_a_field_above_12():
    # 3 x 27/07 (only day-first reads it) and 1 x 01/02 (both read it)
    values = pd.Series(["27/07/2021"] * 3 + ["01/02/2021"])
    report = detect_date_layout(values)
    assert report.layout == "DD/MM/YYYY" and report.ambiguous == ()
    assert report.shares == {"DD/MM/YYYY": 1.0, "MM/DD/YYYY": 0.25}
    report = detect_date_layout(pd.Series(["07/27/2021", "01/02/2021"]))
    assert report.layout == "MM/DD/YYYY" and report.shares["DD/MM/YYYY"] == 0.5


def test_no_field_above_12_is_ambiguous():
    report = detect_date_layout(pd.Series(["01/02/2021", "03/04/2021", "12/11/2020"]))
    assert report.layout is None
    assert report.ambiguous == ("DD/MM/YYYY", "MM/DD/YYYY")
    advice = layout_advice(report, region="north")
    assert advice == ("the dates are DD/MM/YYYY or MM/DD/YYYY (e.g. '01/02/2021', "
                      "'03/04/2021'): no day above 12 tells which; declare the layout: "
                      '--config "date_format={north: DD/MM/YYYY}"')


def test_ambiguity_is_resolved_across_columns_of_one_file():
    entry = pd.Series(["01/02/2021", "03/04/2021"])
    exit_ = pd.Series(["05/06/2021", "30/06/2021"])
    assert detect_date_layout(entry).ambiguous
    report = detect_date_layout([entry, exit_])
    assert report.layout == "DD/MM/YYYY" and report.share("MM/DD/YYYY") == 0.75


def test_shares_of_a_mixed_column():
    values = pd.Series(["2021-07-27"] * 1 + ["27/07/2021"] * 9 + ["rubbish", ""])
    report = detect_date_layout(values)
    assert report.n_values == 11
    assert report.layout == "DD/MM/YYYY"
    assert report.share("DD/MM/YYYY") == pytest.approx(9 / 11)
    assert report.share("ISO") == pytest.approx(1 / 11)
    assert report.summary() == "DD/MM/YYYY 82%, ISO 9%"


def test_plausible_window_decides_what_counts_as_read():
    # 19991231 is a YYYYMMDD day in the window; as an 8-digit number it is no Excel serial
    assert detect_date_layout(pd.Series(["19991231"])).layout == "YYYYMMDD"
    # 36525 is Excel's 1999-12-31 (36526 = 2000-01-01)
    assert parse_dates(pd.Series(["36525"]), "EXCEL")[0].iloc[0] == pd.Timestamp("1999-12-31")
    # %y reads 85 as 1985 (69-99 -> 19xx): outside a window starting 1990
    report = detect_date_layout(pd.Series(["27/07/85"]))
    assert report.layout is None and report.shares == {}
    early = detect_date_layout(pd.Series(["27/07/85"]), lo=pd.Timestamp("1900-01-01"))
    assert early.layout == "DD/MM/YY"


def test_a_time_of_day_is_noted_and_ignored_when_read():
    values = pd.Series(["2021-07-27 00:00:00", "2021-07-28T13:05", "27/07/2021 13:05"])
    report = detect_date_layout(values)
    assert report.layout == "ISO" and report.with_time == 1.0
    assert report.share("ISO") == pytest.approx(2 / 3)
    parsed, bad = parse_dates(values, "ISO")
    assert parsed.iloc[:2].tolist() == [pd.Timestamp("2021-07-27"), pd.Timestamp("2021-07-28")]
    assert bad.tolist() == [False, False, True]
    assert "with a time of day" in layout_advice(report, region="r")
    excel, _ = parse_dates(pd.Series(["44404.75"]), "EXCEL")
    assert excel.iloc[0] == pd.Timestamp("2021-07-27")


def test_declared_layout_flags_impossible_days_and_other_layouts():
    values = pd.Series(["27/07/2021", "31/02/2021", "2021-07-27", None, " 1/7/2021 "],
                       dtype="string")
    parsed, bad = parse_dates(values, "DD/MM/YYYY")
    assert bad.tolist() == [False, True, True, False, False]
    assert parsed.iloc[4] == pd.Timestamp("2021-07-01")
    assert parsed.dtype == "datetime64[ns]"
    with pytest.raises(ValueError, match="unknown date layout 'DD/MM'"):
        parse_dates(values, "DD/MM")


def test_advice_names_the_layout_the_share_and_the_fix():
    values = pd.Series(["27/07/2021"] * 29_000 + ["01/02/2021"] * 128)
    advice = layout_advice(detect_date_layout(values), region="north")
    assert advice == ("the dates are DD/MM/YYYY (e.g. '27/07/2021', '01/02/2021'; this layout "
                      "reads 100% of 29,128 values), not YYYY-MM-DD: save them as YYYY-MM-DD, "
                      'or declare the layout: --config "date_format={north: DD/MM/YYYY}"')
    excel = layout_advice(detect_date_layout(pd.Series(["44404"])), region="s")
    assert excel.startswith("the dates are Excel serial day numbers (EXCEL) (e.g. '44404'; "
                            "this layout reads 100% of 1 value)")
    none = layout_advice(detect_date_layout(pd.Series(["soon"])), region="s")
    assert none.startswith("the dates follow no known layout (e.g. 'soon'); known layouts: ISO,")


def test_detection_is_on_distinct_values_so_large_columns_are_cheap():
    rng = np.random.default_rng(1)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 730, 500_000), unit="D")
    values = pd.Series(days.strftime("%d/%m/%Y"), dtype="string[pyarrow]")
    report = detect_date_layout(values)
    assert report.layout == "DD/MM/YYYY" and report.n_values == 500_000
    parsed, bad = parse_dates(values, "DD/MM/YYYY")
    assert not bad.any() and (parsed.to_numpy() == days.to_numpy()).all()


def test_empty_input():
    report = detect_date_layout(pd.Series(["", None]))
    assert report.n_values == 0 and report.layout is None and report.shares == {}
