# evaluation stage: did a scheme work? Home x month panel from the care-model history,
# difference in differences, event study, power (optimal_analysis.evaluation; docs/evaluation.md)


rule evaluation:
    input:
        cohort=R("interim/cohort.parquet"),
        events=expand(R("interim/regions/{region}/events.parquet"), region=REGIONS),
        care_homes=R("interim/care_homes.parquet"),
        history=R("interim/care_model_history.parquet"),
    output:
        scheme_effects=R("tables/scheme_effects.csv"),
        event_study=R("tables/event_study.csv"),
        scheme_rates=R("tables/scheme_rates.csv"),
        power=R("tables/power.csv"),
    log:
        R("logs/evaluation.log"),
    benchmark:
        R("benchmarks/evaluation.tsv")
    params:
        outcomes=config["evaluation"]["outcomes"],
        event_window_months=config["evaluation"]["event_window_months"],
        pre_switch_months=config["evaluation"]["pre_switch_months"],
        care_models=config["care_models"],
        reference=config["reference_care_model"],
    script:
        "../scripts/evaluation.py"
