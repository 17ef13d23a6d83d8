"""The HTML report: every section and figure, no external resources, disclosed tables only."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from optimal_analysis.describe import (
    make_baseline,
    make_cohort_summary,
    make_data_flow,
    make_service_use,
)
from optimal_analysis.report import (
    SECTION_TITLES,
    Figure,
    SectionInputs,
    compute_caveats,
    make_provenance,
    render_report,
)
from optimal_analysis.report.disclosure import disclose_named
from optimal_analysis.tidy import MARKER

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
MODELS = ["dedicated_team", "paid_gp", "usual_care"]
REGION = {"dedicated_team": "north", "paid_gp": "midlands", "usual_care": "south"}

# Patterns of a reference to anything outside the file.
EXTERNAL = [
    re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"url\(\s*[\"']?\s*(?:https?:)?//", re.I),
    re.compile(r"<script|<link|<iframe|<object|<embed", re.I),
]


def _cohort(n: int = 120, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    model = rng.choice(MODELS, n)
    days = rng.integers(30, 700, n)
    return pd.DataFrame(
        {
            "resident_id": [f"r{i:03d}" for i in range(n)],
            "care_model": model,
            "region": pd.Series(model).map(REGION),
            "care_home_id": [f"{m}_{h}" for m, h in zip(model, rng.integers(0, 4, n), strict=True)],
            "sex": rng.choice(["F", "M"], n),
            "age": rng.normal(86, 7, n),
            "dementia": rng.random(n) < 0.6,
            "nursing": rng.random(n) < 0.4,
            "barthel": pd.array(rng.integers(0, 21, n), dtype="Int64"),
            "exit_reason": rng.choice(["died", "moved_out", "study_end"], n, p=[0.3, 0.1, 0.6]),
            "follow_up_days": days,
            "person_years": days / 365.25,
        }
    ).assign(died=lambda d: d["exit_reason"] == "died")


def _figure(name: str, fmt: str) -> Figure:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return Figure(name, buf.getvalue(), "image/svg+xml" if fmt == "svg" else "image/png")


def _tables(cohort: pd.DataFrame) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    events = pd.DataFrame(
        {
            "resident_id": rng.choice(cohort["resident_id"], 600),
            "event_type": "contact",
            "item": rng.choice(
                ["gp_visit", "district_nurse", "ae", "podiatry"], 600, p=[0.5, 0.3, 0.18, 0.02]
            ),
            "n": 1,
        }
    )
    dq = pd.DataFrame(
        {
            "region": ["north"] * 3,
            "table": ["residents", "contacts", "contacts"],
            "rows_read": [40, 300, 300],
            "rows_used": [40, 296, 296],
            "rows_excluded": [0, 3, 1],
            "reason": ["", "outside_follow_up", "unknown_service"],
        }
    )
    crude = pd.DataFrame(
        {
            "outcome": np.repeat(["emergency_admission", "ae"], 3),
            "care_model": MODELS * 2,
            "residents": [40, 38, 42] * 2,
            "events": [12, 5, 30, 22, 25, 41],
            "person_years": [30.0, 28.0, 33.0] * 2,
        }
    ).assign(
        rate=lambda d: d["events"] / d["person_years"],
        conf_low=lambda d: d["rate"] * 0.6,
        conf_high=lambda d: d["rate"] * 1.6,
    )
    rr = pd.DataFrame(
        {
            "outcome": "ae",
            "model": "poisson",
            "adjustment": "crude",
            "term": ["dedicated_team", "paid_gp"],
            "estimate": [0.6, 0.7],
            "std_error": [0.2, 0.2],
            "conf_low": [0.4, 0.5],
            "conf_high": [0.9, 1.0],
            "p_value": [0.01, 0.07],
            "n_residents": [120, 120],
            "n_clusters": [12, 12],
        }
    )
    hr = rr.drop(columns=["n_residents", "n_clusters"]).assign(
        outcome="emergency_admission", model="cox"
    )
    costs = pd.DataFrame(
        {
            "care_model": np.repeat(MODELS, 2),
            "item": ["gp_visit", "total"] * 3,
            "units": [100, np.nan, 90, np.nan, 4, np.nan],
            "cost": [4000.0, 4000.0, 3600.0, 3600.0, 160.0, 160.0],
            "price_year": 2024,
        }
    ).assign(
        cost_per_resident_year=lambda d: d["cost"] / 30,
        conf_low=lambda d: d["cost"] / 40,
        conf_high=lambda d: d["cost"] / 20,
    )
    raw = {
        "cohort_summary": make_cohort_summary(cohort, MODELS),
        "data_flow": make_data_flow(dq),
        "baseline": make_baseline(cohort, "usual_care", MODELS),
        "service_use": make_service_use(events, cohort),
        "crude_rates": crude,
        "rate_ratios": rr,
        "hazard_ratios": hr,
        "costs": costs,
    }
    return {k: disclose_named(v, k, suppress_max=7, round_to=5) for k, v in raw.items()}


SECTIONS = {
    "data": SectionInputs(["cohort_summary", "data_flow"]),
    "residents": SectionInputs(["baseline"]),
    "service_use": SectionInputs(["service_use"], ["service_use"]),
    "costs": SectionInputs(["costs"], ["costs_by_service_group"]),
    "admissions": SectionInputs(
        ["crude_rates", "rate_ratios"], ["crude_rates", "rate_ratios_forest"]
    ),
    "survival": SectionInputs(["hazard_ratios", "km_summary"], ["cumulative_incidence", "km"]),
}
FIGURES = [
    "service_use",
    "costs_by_service_group",
    "crude_rates",
    "rate_ratios_forest",
    "cumulative_incidence",
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, pd.DataFrame], Path]:
    tables = _tables(_cohort())
    figures = {
        f: _figure(f, "svg" if i % 2 else "png") for i, f in enumerate(FIGURES)
    }  # "km" left out
    data_file = tmp_path_factory.mktemp("data") / "residents.csv"
    data_file.write_text("resident_id\nr1\n")
    prov = make_provenance(CONFIG, [data_file], run_date="2026-01-02")
    html = render_report(
        sections=SECTIONS, tables=tables, figures=figures, config=CONFIG, provenance=prov
    )
    return html, tables, data_file


def test_every_section_heading_present(rendered):
    html, _, _ = rendered
    for sid, heading in SECTION_TITLES.items():
        assert re.search(rf'<section id="{sid}">\s*<h2[^>]*>{re.escape(heading)}</h2>', html), sid


def test_every_figure_embedded(rendered):
    html, _, _ = rendered
    for name in FIGURES:
        m = re.search(
            rf'data-figure="{name}">\s*<img '
            r'src="data:image/(svg\+xml|png);base64,([A-Za-z0-9+/=]+)"',
            html,
        )
        assert m, name
        payload = base64.b64decode(m.group(2))
        assert payload.startswith(b"\x89PNG") or b"<svg" in payload
    # a wired figure that was not produced is named, not silently dropped
    section = html[html.index('<section id="survival">') : html.index('<section id="methods">')]
    assert "Not produced in this run" in section and "km_summary" in section and ", km." in section


def test_no_external_resources(rendered):
    html, _, _ = rendered
    for pattern in EXTERNAL:
        assert not pattern.search(html), pattern.pattern


def test_external_resource_check_can_fail():
    for bad in [
        '<img src="https://x.org/a.png">',
        "<style>@import 'a.css'</style>",
        "background: url(http://x)",
        '<a href="//cdn.example/x">',
    ]:
        assert any(p.search(bad) for p in EXTERNAL), bad


def test_report_tables_show_no_small_or_unrounded_count(rendered):
    html, _, _ = rendered
    base = html[html.index('data-table="baseline"') :]
    base = base[: base.index("</table>")]
    counts = re.findall(r"<td>(\d[\d,]*) \(", base)  # "n (%)" cells
    assert counts and all(int(c.replace(",", "")) % 5 == 0 for c in counts)
    assert MARKER in base  # the fixture has small cells
    flow = html[html.index('data-table="data_flow"') :]
    flow = flow[: flow.index("</table>")]
    # excluded 3 and 1 rows are suppressed; 296 -> 295 and 300 shown rounded
    assert "<td>296</td>" not in flow and "<td>295</td>" in flow and MARKER in flow


def test_methods_from_config_and_caveats(rendered):
    html, _, _ = rendered
    methods = html[html.index('<section id="methods">') : html.index('<section id="caveats">')]
    for text in [
        str(CONFIG["seed"]),
        f"{CONFIG['price_year']}/",
        ", ".join(CONFIG["covariates"]),
        "Usual GP care",
    ]:
        assert text in methods, text
    caveats = html[html.index('<section id="caveats">') : html.index('<section id="provenance">')]
    assert "Few clusters: 12 care homes" in caveats
    assert "confounded with region" in caveats
    assert "Small numbers" in caveats


def test_provenance_checksums_and_run_date(rendered):
    html, _, data_file = rendered
    prov = html[html.index('<section id="provenance">') :]
    assert hashlib.sha256(data_file.read_bytes()).hexdigest() in prov
    assert (
        "2026-01-02" in prov
        and "statsmodels" in prov
        and "reference_care_model: usual_care" in prov
    )


def test_caveats_when_regions_share_care_models():
    summary = pd.DataFrame(
        {
            "care_model": ["a", "b", "all"],
            "regions": ["r1;r2", "r2", "r1;r2"],
            "care_homes": [20, 20, 40],
        }
    )
    out = compute_caveats({"cohort_summary": summary}, {"few_clusters_threshold": 30})
    assert not any("confounded" in c for c in out) and not any("Few clusters" in c for c in out)


def test_unknown_section_raises():
    with pytest.raises(ValueError, match=r"unknown report section\(s\) \['appendix'\]"):
        render_report(
            sections={"appendix": SectionInputs()},
            tables={},
            figures={},
            config=CONFIG,
            provenance=make_provenance(CONFIG, [], run_date="2026-01-02"),
        )


def test_empty_run_says_inputs_absent():
    html = render_report(
        sections={},
        tables={},
        figures={},
        config=CONFIG,
        provenance=make_provenance(CONFIG, [], run_date="2026-01-02"),
    )
    # every wired section (all but methods, caveats, provenance) says it has no inputs
    assert html.count("No inputs were wired to this section") == len(SECTION_TITLES) - 3


@pytest.mark.slow
def test_report_of_a_synthetic_run(synthetic_results):
    html = (synthetic_results / "report.html").read_text(encoding="utf-8")
    for sid, heading in SECTION_TITLES.items():
        assert re.search(rf'<section id="{sid}">\s*<h2[^>]*>{re.escape(heading)}</h2>', html), sid
    for pattern in EXTERNAL:
        assert not pattern.search(html), pattern.pattern
    srcs = re.findall(r'<img src="([^"]{0,40})', html)
    assert srcs and all(s.startswith("data:image/") for s in srcs)
    # every figure of the run that the report shows is embedded, each drawn from published tables
    shown = set(re.findall(r'data-figure="([\w/]+)"', html))
    assert {"published/service_use", "published/crude_rates", "published/km"} <= shown
    assert all(f.startswith("published/") for f in shown)


def test_published_km_figure_stops_where_too_few_are_at_risk():
    from optimal_analysis.figures.published import numeric_published, plot_published

    km = pd.DataFrame(
        {
            "care_model": "usual_care",
            "time": [10, 50, 90, 200],
            "estimate": [0.95, 0.9, 0.8, 0.7],
            "std_error": 0.05,
            "conf_low": [0.9, 0.8, 0.7, 0.5],
            "conf_high": [1.0, 0.95, 0.9, 0.8],
            "n_at_risk": [40, 20, 9, 4],
            "n_events": [2, 2, 3, 1],
        }
    )
    at_risk = pd.DataFrame(
        {"care_model": "usual_care", "scale": "death", "time": [0, 100], "n_at_risk": [41, 6]}
    )
    pub_km = disclose_named(km, "km", suppress_max=7, round_to=5)
    pub_at_risk = disclose_named(at_risk, "at_risk", suppress_max=7, round_to=5)
    assert numeric_published(pub_km)["estimate"].isna().tolist() == [False, False, False, True]
    fig = plot_published("km", {"km": pub_km, "at_risk": pub_at_risk})
    ax = fig.axes[0]
    x = ax.lines[0].get_xdata()
    assert max(x) == 90  # the step at day 200 (4 at risk) is not drawn
    texts = [t.get_text() for t in ax.texts]
    assert "40" in texts and "–" in texts and "41" not in texts and "6" not in texts
    plt.close(fig)


def test_model_rows_explain_few_clusters_and_missing_estimates():
    from optimal_analysis.report.tables import display_table

    t = pd.DataFrame({
        "outcome": ["ae", "ae"], "model": ["poisson", "poisson"],
        "adjustment": ["crude", "crude"], "exposure": ["person_years", "person_years"],
        "term": ["dedicated_team", "paid_gp"], "estimate": [0.8, None],
        "conf_low": [0.6, None], "conf_high": [1.1, None], "p_value": [0.2, None],
        "n_residents": [240, 240], "n_clusters": [12, 12], "few_clusters": [True, True],
        "p_value_wild": [0.31, None], "reason": [None, "no_events"],
    })
    d = display_table("rate_ratios", t, {})
    notes = [row[-1] for row in d["rows"]]
    assert notes == ["few care homes; wild-bootstrap p 0.310",
                     "few care homes; no events"]
    assert "wild-bootstrap" in d["note"]


def test_model_rows_show_the_small_sample_interval_and_its_method():
    from optimal_analysis.report.tables import display_table

    t = pd.DataFrame({
        "outcome": ["ae"], "model": ["poisson"], "adjustment": ["crude"],
        "exposure": ["person_years"], "term": ["dedicated_team"], "estimate": [0.8],
        "conf_low": [0.6], "conf_high": [1.1], "p_value": [0.2],
        "conf_low_small": [0.45], "conf_high_small": [1.42], "p_value_small": [0.37],
        "df_small": [5.3], "small_sample_method": ["CR2-Satterthwaite"],
        "n_residents": [240], "n_clusters": [12], "few_clusters": [True],
        "p_value_wild": [0.31], "reason": [None],
    })
    d = display_table("rate_ratios", t, {})
    row = dict(zip(d["columns"], d["rows"][0], strict=True))
    assert row["Rate ratio (95% CI)"] == "0.800 (0.450 to 1.42)"
    assert row["p value"] == "0.370" and row["interval"] == "CR2-Satterthwaite"
    assert "small-sample" in d["note"]


def test_cost_table_shows_the_small_sample_interval_and_its_own_price_year():
    from optimal_analysis.report.tables import display_table

    t = pd.DataFrame({
        "care_model": ["usual_care"], "item": ["total"], "cost_per_resident_year": [8000.0],
        "conf_low": [7000.0], "conf_high": [9000.0], "conf_low_small": [6100.0],
        "conf_high_small": [9900.0], "p_value_small": [None], "df_small": [3.0],
        "small_sample_method": ["t(G-1) ratio linearisation"], "few_clusters": [True],
        "price_year": [2019],
    })
    d = display_table("costs", t, {"price_year": 2024})
    assert d["rows"] == [["Total", "£8,000 (£6,100 to £9,900)"]]
    assert "2019 prices" in d["note"] and "t(G-1) ratio linearisation" in d["note"]
    assert "too narrow" in d["note"]


def test_methods_say_how_each_shown_interval_is_made():
    from optimal_analysis.report import make_methods

    tables = {
        "rate_ratios": pd.DataFrame({"model": ["poisson"], "small_sample_method":
                                     ["CR2-Satterthwaite"], "p_value_wild": [0.2]}),
        "hazard_ratios": pd.DataFrame({"model": ["cox"], "small_sample_method":
                                       ["jackknife t(G-1)"], "p_value_wild": [None]}),
        "costs": pd.DataFrame({"small_sample_method": ["t(G-1)-log-linearised"]}),
    }
    methods = dict(make_methods(CONFIG, tables))
    shown = methods["Confidence intervals shown"]
    assert "rate ratios: CR2 (bias-reduced linearisation" in shown
    assert "hazard ratios: delete-one-care-home jackknife" in shown
    assert "costs: a t(G-1) interval on the log of cost" in shown
    assert "influence on the estimate summed within care home" in shown
    assert "cmprsk::crr(cengroup = region)" in methods["Intervals in the published tables"]
    assert methods["Few care homes"].startswith("Where a comparison") and (
        "rate ratios also carry" in methods["Few care homes"])


def test_methods_name_outcomes_and_care_models_by_their_labels():
    config = {**CONFIG, "rate_outcomes": ["emergency_admission", "ae"],
              "care_models": ["dedicated_team", "enhanced_practice", "usual_care"],
              "care_model_labels": {"enhanced_practice": "Enhanced GP practice"}}
    from optimal_analysis.report import make_methods

    methods = dict(make_methods(config, {}))
    assert methods["Outcomes"].startswith(
        "Counts per person-year of Emergency admissions (emergency_admission), "
        "A&E attendances (ae);")
    assert methods["Care models"] == (
        "Dedicated team (dedicated_team), Enhanced GP practice (enhanced_practice), "
        "Usual care (usual_care)")


def test_a_section_module_gives_the_display_of_its_own_tables(monkeypatch):
    from optimal_analysis.report import render

    def balance(table, config):
        return {"columns": ["Covariate", "SMD"], "rows": [["age", "0.05"]],
                "note": "after weighting", "title": "Balance"}

    monkeypatch.setitem(render.TABLE_DISPLAYS, "balance", balance)
    html = render_report(
        sections={"residents": SectionInputs(tables=("balance",))},
        tables={"balance": pd.DataFrame({"covariate": ["age"], "smd": [0.05]})},
        figures={},
        config=CONFIG,
        provenance=make_provenance(CONFIG, [], run_date="2026-01-02"),
    )
    assert "after weighting" in html and "<td>age</td>" in html.replace(' class="text"', "")
