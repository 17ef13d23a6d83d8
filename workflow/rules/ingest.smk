# Ingest: each region read and validated on its own (parallel), then combined and checked
# (optimal_analysis.ingest). Table files are named by table (TABLES, common.smk).


rule ingest_region:
    """Read one region's four tables and check every row against the data contract."""
    input:
        REGION_FILES,
    output:
        **{t: R(f"interim/regions/{{region}}/{t}.parquet") for t in TABLES},
        failures=R("interim/regions/{region}/failures.parquet"),
    log:
        R("logs/ingest_region/{region}.log"),
    benchmark:
        R("benchmarks/ingest_region/{region}.tsv")
    params:
        region_dir=lambda w: str(DATA_DIR / w.region),
        care_models=config["care_models"],
        service_code_map=lambda w: config["service_code_map"].get(w.region, {}),
        date_format=lambda w: config["date_format"].get(w.region),
    script:
        "../scripts/ingest_region.py"


rule combine_regions:
    """Check ids across regions, stack care homes and residents, account for every row read."""
    input:
        tables=expand(
            R("interim/regions/{region}/{table}.parquet"), region=REGIONS, table=TABLES
        ),
        failures=expand(R("interim/regions/{region}/failures.parquet"), region=REGIONS),
    output:
        care_homes=R("interim/care_homes.parquet"),
        residents=R("interim/residents.parquet"),
        accounting=R("data_quality/data_quality.csv"),
        failures=R("data_quality/failures.csv"),
        optional_data=R("tables/optional_data.csv"),
    log:
        R("logs/combine_regions.log"),
    benchmark:
        R("benchmarks/combine_regions.tsv")
    params:
        regions=REGIONS,
        region_dirs={r: str(DATA_DIR / r) for r in REGIONS},
        care_models=config["care_models"],
        reference_care_model=config["reference_care_model"],
    script:
        "../scripts/combine_regions.py"


rule check_input:
    """Stop if the data break the contract (on_invalid) or exclude mode would drop too much."""
    input:
        failures=R("data_quality/failures.csv"),
        accounting=R("data_quality/data_quality.csv"),
    output:
        R("data_quality/check_input.txt"),
    log:
        R("logs/check_input.log"),
    benchmark:
        R("benchmarks/check_input.tsv")
    params:
        on_invalid=config["on_invalid"],
        max_excluded_share=config["max_excluded_share"],
    script:
        "../scripts/check_input.py"


rule ingest_history:
    input:
        care_homes=R("interim/care_homes.parquet"),
        residents=R("interim/residents.parquet"),
        # the optional files that exist (a new or changed one re-runs the rule)
        history_files=[
            str(p)
            for r in REGIONS
            for p in sorted((DATA_DIR / r).glob("care_model_history.*"))
        ],
    output:
        history=R("interim/care_model_history.parquet"),
        failures=R("data_quality/history_failures.csv"),
    log:
        R("logs/ingest_history.log"),
    benchmark:
        R("benchmarks/ingest_history.tsv")
    params:
        region_dirs={r: str(DATA_DIR / r) for r in REGIONS},
        care_models=config["care_models"],
        on_invalid=config["on_invalid"],
    script:
        "../scripts/ingest_history.py"
