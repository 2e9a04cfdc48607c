# cplrecon: `make reconcile` and `make test` bootstrap everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
CERTS  ?= samples/corpus
CPL    ?= samples/cpl_submission.csv
OUT    ?= out
ARGS   ?=

.PHONY: setup reconcile test bench lint clean samples lock

# The dependencies come from the lock (exact versions, sha256-checked); the package itself is
# installed editable on top, without resolving anything again.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
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

# After editing the dependencies in pyproject.toml: re-pin them all (runtime and dev), with hashes.
lock: setup
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o $(LOCK)

clean:
	rm -rf $(OUT) bench-out .pytest_cache
