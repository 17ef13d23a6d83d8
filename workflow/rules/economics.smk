# economics stage: does a scheme pay for itself? Scheme running costs (config scheme_costs,
# re-based like unit costs), NHS + scheme cost per resident-year, incremental cost and
# emergency admissions avoided against the reference care model from one joint care-home
# bootstrap, cost per admission avoided, probability of saving, break-even running cost and
# an adjusted NHS cost difference (optimal_analysis.economics); see docs/developing.md.


rule economics:
    """Does a scheme pay for itself: scheme + NHS cost, cost per admission avoided, break-even."""
    input:
        cohort=R("interim/cohort.parquet"),
        resident_costs=R("interim/resident_costs.parquet"),
        scheme_costs=config["scheme_costs"],
        inflation=config["inflation"],
    output:
        economics=R("tables/economics.csv"),
        replicates=R("tables/economics_replicates.csv"),
        saving_curve=R("tables/economics_saving_curve.csv"),
    log:
        R("logs/economics.log"),
    benchmark:
        R("benchmarks/economics.tsv")
    params:
        price_year=config["price_year"],
        reference=config["reference_care_model"],
        care_models=config["care_models"],
        covariates=config["covariates"],
        replicates=config["bootstrap_replicates"],
        seed=config["seed"],
    script:
        "../scripts/economics.py"


rule plot_economics:
    """Figures of the economic comparison (unsuppressed, for the analyst)."""
    input:
        economics=R("tables/economics.csv"),
        replicates=R("tables/economics_replicates.csv"),
        saving_curve=R("tables/economics_saving_curve.csv"),
    output:
        plane=[R(f"figures/economics_plane.{x}") for x in ("png", "svg")],
        saving=[R(f"figures/economics_saving.{x}") for x in ("png", "svg")],
    log:
        R("logs/plot_economics.log"),
    benchmark:
        R("benchmarks/plot_economics.tsv")
    params:
        care_models=config["care_models"],
        care_model_labels=config["care_model_labels"],
    script:
        "../scripts/plot_economics.py"
