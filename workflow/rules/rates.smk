# rates stage: crude rates, rate-ratio models, standardised rates (optimal_analysis.rates,
# optimal_analysis.rates.models); see docs/developing.md


rule crude_rates:
    """Crude event rates per person-year by care model, with exact Poisson CIs."""
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/crude_rates.csv"),
    log:
        R("logs/crude_rates.log"),
    benchmark:
        R("benchmarks/crude_rates.tsv")
    params:
        care_models=config["care_models"],
        outcome_codes=config["outcome_codes"],
    script:
        "../scripts/crude_rates.py"


rule rate_models:
    """Poisson and negative binomial rate ratios, cluster-robust by care home."""
    input:
        cohort=R("interim/cohort.parquet"),
        weights=R("interim/weights.parquet"),
    output:
        rate_ratios=R("tables/rate_ratios.csv"),
        standardised=R("tables/standardised_rates.csv"),
        caveats=R("tables/caveats.csv"),
    log:
        R("logs/rate_models.log"),
    benchmark:
        R("benchmarks/rate_models.tsv")
    params:
        reference=config["reference_care_model"],
        care_models=config["care_models"],
        covariates=config["covariates"],
        outcomes=config["rate_outcomes"],
        outcome_codes=config["outcome_codes"],
        few_clusters_threshold=config["few_clusters_threshold"],
        wild_bootstrap_replicates=config["wild_bootstrap_replicates"],
        seed=config["seed"],
    script:
        "../scripts/rate_models.py"


rule plot_rates:
    """Figures of crude rates and the rate-ratio forest plot (unsuppressed)."""
    input:
        crude_rates=R("tables/crude_rates.csv"),
        rate_ratios=R("tables/rate_ratios.csv"),
    output:
        crude_rates=[R(f"figures/crude_rates.{x}") for x in ("png", "svg")],
        rate_ratios_forest=[
            R(f"figures/rate_ratios_forest.{x}") for x in ("png", "svg")
        ],
    log:
        R("logs/plot_rates.log"),
    benchmark:
        R("benchmarks/plot_rates.tsv")
    params:
        care_models=config["care_models"],
        care_model_labels=config["care_model_labels"],
    script:
        "../scripts/plot_rates.py"
