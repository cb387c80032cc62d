# attnphase: `make demo` runs the main job, `make test` the tests. Both create .venv if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-all lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,parquet]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/attnphase generate --preset assignment --out data
	$(BIN)/attnphase compare --data data/assignment_d1000.npz --alphas 0.5,1,1.5,2 --test-samples 20000
	$(BIN)/attnphase linear --data data/assignment_d1000.npz --n-train 2000
	$(BIN)/attnphase reproduce all --quick --out results/quick

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(VENV) data build src/*.egg-info .pytest_cache .ruff_cache
