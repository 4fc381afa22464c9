# civiclab — two commands: `make demo` and `make test` (and `make test-fast`, the unit tests, while you work).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.civiclab-installed
NODE_STAMP := node_modules/.civiclab-installed
# A real LRS for the journey's observe-mode tests: Ralph's pins conflict with ours, so it has its own venv.
LRS_VENV  := .venv-lrs
LRS_STAMP := $(LRS_VENV)/.civiclab-installed
RALPH_VERSION := 5.1.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
# The slower test tiers (pytest markers, registered in pyproject.toml); `make test-fast` leaves them out.
SLOW_TIERS := integration or browser or evm_node or lrs or ray or slow or packaging
# Under CI a test whose tool (PostgreSQL, Chromium, anvil, the LRS, Ray, the node packages) is missing fails instead of skipping.
REQUIRE_TOOLS := $(if $(filter-out 0 false no,$(CI)),--require-tools)
# The tests run on every core (pytest-xdist): one file, or one xdist_group, per worker at a time, the heaviest
# first (tests/workers.py). `make pytest WORKERS=0` runs them in this one process, for a debugger or -s.
WORKERS ?= auto
PARALLEL := -n $(WORKERS) --dist loadgroup --no-loadscope-reorder

.PHONY: demo test test-fast install node lrs bytecode lint typecheck pytest bench ui clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU build of torch first, so nothing pulls a CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

$(LRS_STAMP):
	test -x $(LRS_VENV)/bin/python || $(PYTHON) -m venv $(LRS_VENV)
	$(LRS_VENV)/bin/python -m pip install -q --upgrade pip
	$(LRS_VENV)/bin/python -m pip install -q "ralph-malph[backend-lrs,lrs,cli]==$(RALPH_VERSION)" requests==2.34.2
	touch $(LRS_STAMP)

lrs: $(LRS_STAMP)

# Compiled bytecode for civiclab's own modules, written even where PYTHONDONTWRITEBYTECODE is set (as on
# the lab's machines and CI): without it every `civiclab` start compiles each module it imports again
# (measured: 0.46 s of CPU for `civiclab validate` instead of 0.31 s). Only changed files are recompiled.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q civiclab pilots evaluators

demo: $(STAMP) bytecode
	$(BIN)/civiclab demo

lint: $(STAMP)
	$(BIN)/ruff check civiclab pilots evaluators tests bench scripts
	$(BIN)/ruff format --check civiclab pilots evaluators tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy civiclab pilots evaluators

pytest: $(STAMP) $(NODE_STAMP) $(LRS_STAMP) bytecode
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PARALLEL) $(REQUIRE_TOOLS)

test: lint typecheck pytest

test-fast: $(STAMP) bytecode
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PARALLEL) -m "not ($(SLOW_TIERS))"

bench: $(STAMP) $(LRS_STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

ui: $(STAMP)
	$(BIN)/civiclab ui

clean:
	rm -rf $(VENV) $(LRS_VENV) node_modules build .pytest_cache .mypy_cache .ruff_cache
