# The README's commands. Each sets up .venv on first use (Python >= 3.11 and PyPI needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: run test test-fast bench validate lint clean-results synthetic

$(STAMP): pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/lock.txt -e ".[test]"
	touch $(STAMP)

## run: the whole analysis on the bundled synthetic data -> results/
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

## test: the full test suite (unit, reference, workflow end to end, notebooks)
test: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) -q

## test-fast: everything but the end-to-end and large-data tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) -q -m "not slow"

## bench: the benchmark at three sizes -> benchmarks/results.md (takes several minutes)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py

## validate: simulation study of bias, SEs and coverage -> docs/validation.md (1,000 replicates x 2 designs, about 8 minutes;
## VALIDATE_ARGS="--replicates 20" for a quick check)
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

clean-results:
	rm -rf results
