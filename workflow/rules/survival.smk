# survival stage: time to first emergency admission with death competing, and all-cause
# death (optimal_analysis.survival; figures in optimal_analysis.figures.survival);
# see docs/developing.md

SURVIVAL_TABLES = [
    "cumulative_incidence",
    "at_risk",
    "hazard_ratios",
    "ph_tests",
    "km",
    "km_summary",
]


rule survival:
    """Time to first emergency admission: Aalen-Johansen, Cox, Fine-Gray, KM, PH tests."""
    input:
        cohort=R("interim/cohort.parquet"),
        weights=R("interim/weights.parquet"),
    output:
        **{t: R(f"tables/{t}.csv") for t in SURVIVAL_TABLES},
    log:
        R("logs/survival.log"),
    benchmark:
        R("benchmarks/survival.tsv")
    params:
        care_models=config["care_models"],
        reference=config["reference_care_model"],
        covariates=config["covariates"],
        outcome_codes=config["outcome_codes"],
        at_risk_days=config["survival"]["at_risk_days"],
        rmst_horizon_days=config["survival"]["rmst_horizon_days"],
        ph_transform=config["survival"]["ph_transform"],
        few_clusters_threshold=config["few_clusters_threshold"],
        wild_bootstrap_replicates=config["wild_bootstrap_replicates"],
        seed=config["seed"],
    script:
        "../scripts/survival.py"


rule plot_survival:
    """Figures of cumulative incidence and survival curves (unsuppressed)."""
    input:
        cumulative_incidence=R("tables/cumulative_incidence.csv"),
        km=R("tables/km.csv"),
        at_risk=R("tables/at_risk.csv"),
    output:
        cumulative_incidence=[
            R(f"figures/cumulative_incidence.{x}") for x in ("png", "svg")
        ],
        km=[R(f"figures/km.{x}") for x in ("png", "svg")],
    log:
        R("logs/plot_survival.log"),
    benchmark:
        R("benchmarks/plot_survival.tsv")
    params:
        care_models=config["care_models"],
        care_model_labels=config["care_model_labels"],
    script:
        "../scripts/plot_survival.py"
