# costing stage: unit costs re-based to the reporting price year, every event costed,
# costs per resident-year with cluster-bootstrap CIs (optimal_analysis.costing);
# see docs/unit_costs.md. The cost tables come from config (unit_costs, inflation), so
# `--config unit_costs=PATH inflation=PATH` swaps them with no code change.


rule costs:
    """Cost every contact and stay at price_year prices; costs per resident-year, bootstrap CIs."""
    input:
        cohort=R("interim/cohort.parquet"),
        events=expand(R("interim/regions/{region}/events.parquet"), region=REGIONS),
        unit_costs=config["unit_costs"],
        inflation=config["inflation"],
    output:
        costs=R("tables/costs.csv"),
        sensitivity=R("tables/costs_sensitivity.csv"),
        resident_costs=R("interim/resident_costs.parquet"),
    log:
        R("logs/costs.log"),
    benchmark:
        R("benchmarks/costs.tsv")
    params:
        price_year=config["price_year"],
        scheme=config["hospital_costing"],
        replicates=config["bootstrap_replicates"],
        seed=config["seed"],
        care_models=config["care_models"],
        few_clusters_threshold=config["few_clusters_threshold"],
    script:
        "../scripts/costs.py"


rule plot_costs:
    """Figures of costs by care model and service group (unsuppressed, for the analyst)."""
    input:
        costs=R("tables/costs.csv"),
        resident_costs=R("interim/resident_costs.parquet"),
    output:
        by_service_group=[
            R(f"figures/costs_by_service_group.{x}") for x in ("png", "svg")
        ],
        distribution=[
            R(f"figures/resident_cost_distribution.{x}") for x in ("png", "svg")
        ],
    log:
        R("logs/plot_costs.log"),
    benchmark:
        R("benchmarks/plot_costs.tsv")
    params:
        care_models=config["care_models"],
        care_model_labels=config["care_model_labels"],
    script:
        "../scripts/plot_costs.py"
