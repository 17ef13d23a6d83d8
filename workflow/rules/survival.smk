# survival stage: time to first emergency admission with death competing, and all-cause
# death (optimal_analysis.survival; figures in optimal_analysis.figures.survival);
# see docs/developing.md


rule cumulative_incidence:
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/cumulative_incidence.csv"),
    params:
        care_models=config["care_models"],
    benchmark:
        R("benchmarks/cumulative_incidence.tsv")
    log:
        R("logs/cumulative_incidence.log"),
    script:
        "../scripts/cumulative_incidence.py"


rule at_risk:
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/at_risk.csv"),
    params:
        care_models=config["care_models"],
        days=config["survival"]["at_risk_days"],
    benchmark:
        R("benchmarks/at_risk.tsv")
    log:
        R("logs/at_risk.log"),
    script:
        "../scripts/at_risk.py"


rule hazard_models:
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        hazard_ratios=R("tables/hazard_ratios.csv"),
        ph_tests=R("tables/ph_tests.csv"),
    params:
        care_models=config["care_models"],
        reference=config["reference_care_model"],
        covariates=config["covariates"],
        ph_transform=config["survival"]["ph_transform"],
    benchmark:
        R("benchmarks/hazard_models.tsv")
    log:
        R("logs/hazard_models.log"),
    script:
        "../scripts/hazard_models.py"


rule km:
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/km.csv"),
    params:
        care_models=config["care_models"],
    benchmark:
        R("benchmarks/km.tsv")
    log:
        R("logs/km.log"),
    script:
        "../scripts/km.py"


rule km_summary:
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/km_summary.csv"),
    params:
        care_models=config["care_models"],
        rmst_horizon_days=config["survival"]["rmst_horizon_days"],
    benchmark:
        R("benchmarks/km_summary.tsv")
    log:
        R("logs/km_summary.log"),
    script:
        "../scripts/km_summary.py"


rule plot_cumulative_incidence:
    input:
        table=R("tables/cumulative_incidence.csv"),
        at_risk=R("tables/at_risk.csv"),
    output:
        png=R("figures/cumulative_incidence.png"),
        svg=R("figures/cumulative_incidence.svg"),
    params:
        care_models=config["care_models"],
    benchmark:
        R("benchmarks/plot_cumulative_incidence.tsv")
    log:
        R("logs/plot_cumulative_incidence.log"),
    script:
        "../scripts/plot_cumulative_incidence.py"


rule plot_km:
    input:
        table=R("tables/km.csv"),
        at_risk=R("tables/at_risk.csv"),
    output:
        png=R("figures/km.png"),
        svg=R("figures/km.svg"),
    params:
        care_models=config["care_models"],
    benchmark:
        R("benchmarks/plot_km.tsv")
    log:
        R("logs/plot_km.log"),
    script:
        "../scripts/plot_km.py"


ALL_OUTPUTS += [
    R("tables/cumulative_incidence.csv"),
    R("tables/at_risk.csv"),
    R("tables/hazard_ratios.csv"),
    R("tables/ph_tests.csv"),
    R("tables/km.csv"),
    R("tables/km_summary.csv"),
    R("figures/cumulative_incidence.png"),
    R("figures/cumulative_incidence.svg"),
    R("figures/km.png"),
    R("figures/km.svg"),
]
