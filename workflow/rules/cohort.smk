# Cohort: one row per resident with person-time and event counts, and the tidy events table
# (optimal_analysis.cohort).


rule make_cohort:
    input:
        checked=R("data_quality/check_input.txt"),
        **{t: R(f"interim/{t}.parquet") for t in TABLES},
    output:
        cohort=R("interim/cohort.parquet"),
        events=R("interim/events.parquet"),
    log:
        R("logs/make_cohort.log"),
    benchmark:
        R("benchmarks/make_cohort.tsv")
    script:
        "../scripts/make_cohort.py"
