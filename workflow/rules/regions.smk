# regions stage: the adjusted rate ratio within each region that has two care models, and a
# random-effects meta-analysis across regions (optimal_analysis.regions); see docs/developing.md


rule region_effects:
    """Adjusted rate ratio within each region with two care models, and a meta-analysis."""
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/region_effects.csv"),
    log:
        R("logs/region_effects.log"),
    benchmark:
        R("benchmarks/region_effects.tsv")
    params:
        reference=config["reference_care_model"],
        covariates=config["covariates"],
        outcomes=config["rate_outcomes"],
    script:
        "../scripts/region_effects.py"
