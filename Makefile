# The two commands: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/flash_sale_gateway_outage.yaml

.PHONY: demo test quick lint typecheck node-deps unit bench validate mutate golden schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/breakerlab run $(SCENARIO)

test: $(VENV)/.installed-dev lint typecheck node-deps unit

# The real opossum and cockatiel for tests/test_node_differential.py, pinned by
# tests/js/package-lock.json. Without npm those tests skip and say why (CI fails them).
node-deps:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/js --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Node.js differential tests will skip"; fi

# ruff, then the layer contracts of pyproject.toml ([tool.importlinter]): an import that
# runs back up a layer, or a forbidden library, fails here.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/ruff format --check sim tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy sim benchmarks/theory.py benchmarks/validation_checks.py benchmarks/crn.py

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -q

# The quick loop while editing: every test but those marked slow (whole scenarios, many
# runs, subprocesses, notebooks), in QUICK_WORKERS processes (pytest-xdist); under a
# minute on 2 cores. `make test` still runs everything, serially: its process-pool, Dask
# and SIGKILL tests use every core already.
QUICK_WORKERS ?= 2
quick: $(VENV)/.installed-dev
	$(BIN)/pytest -q -m "not slow" -n $(QUICK_WORKERS) -p no:cacheprovider

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_scale.py $(BENCH_FLAGS)  # BENCH_FLAGS=--quick: no 1M size

# The engine against queueing and resilience theory; writes docs/validation.md (a few
# minutes; exit 1 when a check fails). VALIDATE_WORKERS processes run the replications.
VALIDATE_WORKERS ?= 1
validate: $(VENV)/.installed
	$(BIN)/python benchmarks/validate_engine.py --workers $(VALIDATE_WORKERS)

# Mutation testing (mutmut) of the modules listed in benchmarks/mutation.toml, one at a time
# in a scratch copy of the tree; exit 1 on a survivor not explained as equivalent. Not part
# of `make test`. MODULE=sim/units.py (or a folder) runs one; MUTATE_JOBS mutants at once;
# MUTATE_FLAGS=--committed tests HEAD's files rather than the working tree's.
MODULE ?=
MUTATE_JOBS ?= 1
MUTATE_FLAGS ?=
mutate: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/mutate.py $(MODULE) --jobs $(MUTATE_JOBS) $(MUTATE_FLAGS)

# Results or the report changed on purpose: rewrite the golden summary and report.md
# (tests/test_golden.py) and commit them with the reason.
golden: $(VENV)/.installed-dev
	$(BIN)/python tests/test_golden.py

# The JSON Schemas shipped in sim/schemas/, after a change to the configuration models.
schemas: $(VENV)/.installed
	$(BIN)/breakerlab schema --out sim/schemas

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
