# The README's commands. Each sets up .venv on first use (Python >= 3.11 and PyPI needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2
# The results folder the notebooks read (make lab RESULTS=/path/to/results).
RESULTS ?= results

.PHONY: help run test test-fast test-slurm bench validate lint clean-results synthetic lab notebooks
.DEFAULT_GOAL := help

## help: list the targets with what each does (this list)
help:
	@echo "make <target>   (each sets up .venv on first use; CORES=$(CORES))"
	@sed -n 's/^## \([a-z-]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 16

$(STAMP): pyproject.toml requirements/lock.txt
	@echo "Setting up the environment in $(VENV) (first use only; downloads about 300 MB of pinned packages, a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -c requirements/lock.txt -e ".[test]"
	touch $(STAMP)
	@echo "Environment ready: $(VENV)"

## run: the whole analysis on the bundled synthetic data -> results/
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

## test: the full test suite (unit, reference, workflow end to end, notebooks)
test: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) -q

## test-fast: everything but the tests marked slow (end-to-end workflow runs, notebooks, large data)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) -q -m "not slow"

## test-slurm: the workflow through a real one-node SLURM cluster, compared with a local run (as root; 4-8 min)
# Installs slurm-wlm and munge with apt-get if missing, starts munged, slurmctld
# and slurmd in a temporary folder, stops them at the end (tests/slurm/run.sh).
test-slurm: $(STAMP)
	VENV=$(VENV) bash tests/slurm/run.sh

## bench: the benchmark at four sizes, up to five national years -> benchmarks/results.md (about 9 min)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py

## validate: simulation study of bias, SEs and coverage -> docs/validation.md (about 8 minutes)
# 1,000 replicates x 2 designs; VALIDATE_ARGS="--replicates 20" for a quick check.
validate: $(STAMP)
	$(BIN)/python validation/run_validation.py --workers $(CORES) $(VALIDATE_ARGS)

## synthetic: regenerate the committed synthetic dataset
synthetic: $(STAMP)
	$(BIN)/optimal-synth --out data/synthetic

## lint: ruff, snakefmt --check and mypy on src/ (dev tools from PyPI on first use, pinned by the lock)
lint: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements/lock.txt -e ".[test,dev]"
	$(BIN)/ruff check src tests workflow/scripts benchmarks validation
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/mypy

## lab: JupyterLab on notebooks/ in the project's environment, reading RESULTS (default results/)
lab: $(STAMP)
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --progress-bar on "jupyterlab>=4"
	@test -f "$(RESULTS)/config.yaml" || { echo "$(RESULTS)/config.yaml not found: run the analysis first (make run), or make lab RESULTS=<results_dir of a run>"; exit 1; }
	OPTIMAL_RESULTS="$(abspath $(RESULTS))" $(BIN)/jupyter lab notebooks/

## notebooks: the same as lab
notebooks: lab

## clean-results: delete results/ (the repository's own results folder only)
clean-results:
	rm -rf results
