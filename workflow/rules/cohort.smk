# Cohort: one row per resident with person-time and event counts, and the tidy events table
# (optimal_analysis.cohort). The heavy part runs per region (cohort_region: one region's
# contacts and stays, its events table); make_cohort stacks the regions' cohort parts.


rule cohort_region:
    """One region's cohort part (follow-up, counts of every outcome) and its events table."""
    input:
        contacts=R("interim/regions/{region}/contacts.parquet"),
        admissions=R("interim/regions/{region}/admissions.parquet"),
        care_homes=R("interim/care_homes.parquet"),
        residents=R("interim/residents.parquet"),
        checked=R("data_quality/check_input.txt"),
    output:
        cohort=R("interim/regions/{region}/cohort.parquet"),
        events=R("interim/regions/{region}/events.parquet"),
    log:
        R("logs/cohort_region/{region}.log"),
    benchmark:
        R("benchmarks/cohort_region/{region}.tsv")
    params:
        outcome_codes=config["outcome_codes"],
    script:
        "../scripts/cohort_region.py"


rule make_cohort:
    """One row per resident analysed, every region: the regions' cohort parts stacked."""
    input:
        parts=expand(R("interim/regions/{region}/cohort.parquet"), region=REGIONS),
    output:
        cohort=R("interim/cohort.parquet"),
    log:
        R("logs/make_cohort.log"),
    benchmark:
        R("benchmarks/make_cohort.tsv")
    params:
        outcome_codes=config["outcome_codes"],
    script:
        "../scripts/make_cohort.py"
