# Cohort: one row per resident with person-time and event counts, and the tidy events table
# (optimal_analysis.cohort).


rule make_cohort:
    """One row per resident analysed (follow-up, counts of every outcome) and the events table."""
    input:
        **{t: R(f"interim/{t}.parquet") for t in TABLES},
        checked=R("data_quality/check_input.txt"),
    output:
        cohort=R("interim/cohort.parquet"),
        events=R("interim/events.parquet"),
    log:
        R("logs/make_cohort.log"),
    benchmark:
        R("benchmarks/make_cohort.tsv")
    params:
        outcome_codes=config["outcome_codes"],
    script:
        "../scripts/make_cohort.py"
