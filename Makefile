# Slipstream developer commands. `make test` and `make demo` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AIRFLOW_VENV := .airflow-venv
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_TASK_SDK := apache-airflow-task-sdk==1.3.2

.PHONY: install test lint typecheck pytest bench demo airflow-venv clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Airflow's own Task SDK lives in a venv of its own: it never enters the project's venv.
airflow-venv: $(AIRFLOW_STAMP)

$(AIRFLOW_STAMP):
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(AIRFLOW_VENV)/bin/pip install --quiet '$(AIRFLOW_TASK_SDK)'
	touch $(AIRFLOW_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy -p slipstream

pytest: install airflow-venv
	SLIPSTREAM_AIRFLOW_PYTHON=$(abspath $(AIRFLOW_VENV))/bin/python $(BIN)/pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m slipstream.bench

demo: install
	$(BIN)/slipstream demo

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) .mypy_cache .ruff_cache .pytest_cache bench-results.json
