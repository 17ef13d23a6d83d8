# describe stage: baseline table, service use, cohort summary and the flow of records
# (optimal_analysis.describe); see docs/developing.md


DESCRIBE_TABLES = ["baseline", "service_use", "cohort_summary", "data_flow"]


rule describe:
    """Baseline characteristics, service use, cohort summary and the flow of records."""
    input:
        cohort=R("interim/cohort.parquet"),
        events=expand(R("interim/regions/{region}/events.parquet"), region=REGIONS),
        data_quality=R("data_quality/data_quality.csv"),
    output:
        **{t: R(f"tables/{t}.csv") for t in DESCRIBE_TABLES},
    log:
        R("logs/describe.log"),
    benchmark:
        R("benchmarks/describe.tsv")
    params:
        reference=config["reference_care_model"],
        care_models=config["care_models"],
    script:
        "../scripts/describe.py"


rule plot_service_use:
    """Figure of service use per resident-year by care model (unsuppressed)."""
    input:
        table=R("published/tables/service_use.csv"),
    output:
        png=R("figures/service_use.png"),
        svg=R("figures/service_use.svg"),
    log:
        R("logs/plot_service_use.log"),
    benchmark:
        R("benchmarks/plot_service_use.tsv")
    params:
        care_models=config["care_models"],
        care_model_labels=config["care_model_labels"],
    script:
        "../scripts/plot_service_use.py"
