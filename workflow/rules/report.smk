# report stage: disclosure control of the published tables (optimal_analysis.report.disclosure) and the
# self-contained HTML report (optimal_analysis.report); see docs/developing.md
from optimal_analysis.report.disclosure import TABLE_SPECS
from optimal_analysis.figures.published import FIGURE_CAPTIONS, FIGURE_TABLES

# What each report section shows: published tables and figures (no suffix). This is the one
# place the report is wired; a name listed here must be produced by some rule. "published/x"
# is published/figures/x, redrawn from the published (disclosed) tables by rule
# plot_published: every figure of the report is one of these, so the report shows nothing its
# published tables hide, and published/ plus report.html is everything there is to share.
REPORT_SECTIONS = {
    "economics": {
        "tables": ["economics"],
        "figures": ["published/economics_plane", "published/economics_saving"],
    },
    "data": {"tables": ["cohort_summary"], "figures": ["published/data_flow"]},
    "residents": {"tables": ["baseline"], "figures": []},
    "service_use": {"tables": ["service_use"], "figures": ["published/service_use"]},
    "costs": {
        "tables": ["costs", "costs_sensitivity"],
        "figures": ["published/costs_by_service_group"],
    },
    "admissions": {
        "tables": ["crude_rates", "rate_ratios", "standardised_rates"],
        "figures": ["published/crude_rates", "published/rate_ratios_forest"],
    },
    "survival": {
        "tables": ["hazard_ratios", "km_summary", "ph_tests"],
        "figures": ["published/cumulative_incidence", "published/km"],
    },
    "fairness": {  # also reads rate_ratios and hazard_ratios (report/fairness.py)
        "tables": ["balance", "weighting_summary", "region_effects"],
        "figures": [
            "published/love_plot",
            "published/ps_overlap",
            "published/region_forest",
        ],
    },
    "evaluation": {
        "tables": ["scheme_effects", "power"],
        "figures": ["published/scheme_rates", "published/event_study"],
    },
    "commissioner": {
        "tables": ["optional_data", "place_of_death"],
        "figures": ["published/place_of_death"],
    },
}


# The report's inputs, from REPORT_SECTIONS.
REPORT_FIGURE_NAMES = list(
    dict.fromkeys(n for s in REPORT_SECTIONS.values() for n in s["figures"])
)
REPORT_TABLE_FILES = [
    R(f"published/tables/{t}.csv")
    for t in dict.fromkeys(n for s in REPORT_SECTIONS.values() for n in s["tables"])
    if t in TABLE_SPECS
]


def figure_file(name, suffix="svg"):
    """Path of report figure ``name``: published/x -> published/figures/x, else figures/x."""
    if name.startswith("published/"):
        return R(f"published/figures/{name.removeprefix('published/')}.{suffix}")
    return R(f"figures/{name}.{suffix}")


REPORT_FIGURE_FILES = [figure_file(f) for f in REPORT_FIGURE_NAMES]


# Files whose SHA-256 the report records: the dataset and the cost tables.
REPORT_CHECKSUM_FILES = sorted(
    str(p)
    for region in REGIONS
    for p in (DATA_DIR / str(region)).glob("*")
    if p.suffix in (".csv", ".parquet")
) + [config["unit_costs"], config["inflation"], config["scheme_costs"]]


# Published too, though the report shows them only as figures.
PUBLISHED_EXTRA = ["cumulative_incidence", "km", "at_risk"]
# Every table that gets a published copy: the report's, those the published figures are
# drawn from, and the extras.
PUBLISHED_TABLES = [
    t
    for t in dict.fromkeys(
        [n for s in REPORT_SECTIONS.values() for n in s["tables"]]
        + [n for f in FIGURE_TABLES.values() for n in f]
        + PUBLISHED_EXTRA
        + ["service_use"]
    )
    if t in TABLE_SPECS
]


rule publish_tables:
    """Disclosure control: suppress and round counts, recompute, attack the published tables."""
    input:
        **{t: R(f"tables/{t}.csv") for t in PUBLISHED_TABLES},
        unit_costs=config["unit_costs"],
        inflation=config["inflation"],
    output:
        **{t: R(f"published/tables/{t}.csv") for t in PUBLISHED_TABLES},
    log:
        R("logs/publish_tables.log"),
    benchmark:
        R("benchmarks/publish_tables.tsv")
    params:
        tables=PUBLISHED_TABLES,
        suppress_max=config["disclosure"]["suppress_max"],
        round_to=config["disclosure"]["round_to"],
        rounding=config["disclosure"]["rounding"],
        curve_grid_days=config["disclosure"]["curve_grid_days"],
        price_year=config["price_year"],
    script:
        "../scripts/publish_tables.py"


rule plot_published:
    """Redraw the report's figures from the published (disclosure-controlled) tables."""
    input:
        **{t: R(f"published/tables/{t}.csv") for f in FIGURE_TABLES.values() for t in f},
    output:
        **{
            f: [R(f"published/figures/{f}.{x}") for x in ("png", "svg")]
            for f in FIGURE_TABLES
        },
    log:
        R("logs/plot_published.log"),
    benchmark:
        R("benchmarks/plot_published.tsv")
    params:
        care_models=config["care_models"],
        care_model_labels=config["care_model_labels"],
    script:
        "../scripts/plot_published.py"


rule report:
    """The self-contained HTML report (published tables and figures only)."""
    input:
        tables=REPORT_TABLE_FILES,
        figures=REPORT_FIGURE_FILES,
        checksum_files=REPORT_CHECKSUM_FILES,
    output:
        html=R("report.html"),
    log:
        R("logs/report.log"),
    benchmark:
        R("benchmarks/report.tsv")
    params:
        sections=REPORT_SECTIONS,
        figure_names=REPORT_FIGURE_NAMES,
        captions={f"published/{f}": c for f, c in FIGURE_CAPTIONS.items()},
        title=config["report"]["title"],
        config=config,
    script:
        "../scripts/report.py"
