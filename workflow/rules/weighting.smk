# weighting stage: propensity scores for the care models, weights, balance and overlap
# (optimal_analysis.weighting); the rates and survival stages read interim/weights.parquet
# for their weighted rows. See docs/developing.md


WEIGHTING_TABLES = ["balance", "weighting_summary", "ps_overlap"]


rule weighting:
    """Propensity scores for the care models, weights, balance and overlap tables."""
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        **{t: R(f"tables/{t}.csv") for t in WEIGHTING_TABLES},
        weights=R("interim/weights.parquet"),
    log:
        R("logs/weighting.log"),
    benchmark:
        R("benchmarks/weighting.tsv")
    params:
        reference=config["reference_care_model"],
        care_models=config["care_models"],
        covariates=config["covariates"],
        weighting=config["weighting"],
    script:
        "../scripts/weighting.py"
