# Two commands do all the set-up: `make run` (the main job) and `make test`.
# Each creates or reuses .venv and installs everything itself.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# No hub here: fail fast instead of retrying for half a minute.
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
# Prefect: no telemetry, and its state beside ours (flows/__init__.py sets the same).
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

DASHBOARD_PORT ?= 8501
.PHONY: run dashboard test test-fast lint model bench server deploy workers stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/hybrid-eval experiment --profile quick

dashboard: $(STAMP)
	$(BIN)/streamlit run dashboard/app.py --server.headless true --server.address 127.0.0.1 --server.port $(DASHBOARD_PORT) --browser.gatherUsageStats false --client.toolbarMode minimal

test: lint
	$(BIN)/pytest -q

# The edit-test loop: every test that needs neither the real model nor a server.
test-fast: lint
	$(BIN)/pytest -q -m "not real_model and not server"

# ruff, and the import contracts in pyproject.toml (layers, a plain library, formats named only by their module)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

model: $(STAMP)
	$(BIN)/hybrid-eval model build

bench: $(STAMP)
	$(BIN)/hybrid-eval bench

# Orchestration: a local Prefect server, the process work pool and its deployments, workers.
PORT ?= 4200
WORKERS ?= 2
server: $(STAMP)
	$(BIN)/python -m flows.services server --port $(PORT)

deploy: $(STAMP)
	$(BIN)/python -m flows.services deploy --port $(PORT)

workers: $(STAMP)
	$(BIN)/python -m flows.services workers --count $(WORKERS) --port $(PORT)

stop:
	$(BIN)/python -m flows.services stop

clean:
	rm -rf $(VENV) .hybrid-eval results
