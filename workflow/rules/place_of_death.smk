# Place of death: deaths, deaths in hospital and the share with an exact binomial CI by
# care model (optimal_analysis.place_of_death); header only when the data have no places.


rule place_of_death:
    input:
        cohort=R("interim/cohort.parquet"),
    output:
        table=R("tables/place_of_death.csv"),
    log:
        R("logs/place_of_death.log"),
    benchmark:
        R("benchmarks/place_of_death.tsv")
    params:
        care_models=config["care_models"],
    script:
        "../scripts/place_of_death.py"
