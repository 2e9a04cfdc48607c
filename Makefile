# cplrecon: `make reconcile` and `make test` bootstrap everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CERTS  ?= samples/corpus
CPL    ?= samples/cpl_submission.csv
OUT    ?= out
ARGS   ?=

.PHONY: setup reconcile test bench lint clean samples

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(STAMP)
	@scripts/ensure-tesseract.sh
	@scripts/ensure-chromium.sh

reconcile: setup
	$(BIN)/cplrecon reconcile --certs $(CERTS) --cpl $(CPL) --out $(OUT) $(ARGS)

test: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

lint: setup
	$(BIN)/ruff check pipeline tests samples benchmarks
	$(BIN)/mypy pipeline

samples: setup
	$(BIN)/python -m samples.generate --out samples/corpus

clean:
	rm -rf $(OUT) bench-out .pytest_cache
