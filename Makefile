# Slipstream developer commands. `make test` and `make demo` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AIRFLOW_VENV := .airflow-venv
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_TASK_SDK := apache-airflow-task-sdk==1.3.2
AIRFLOW_CORE := apache-airflow-core==3.3.2

.PHONY: install test lint typecheck pytest bench soak conformance demo local airflow-venv sam-venv sam-validate sam-build deploy clean

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
	$(AIRFLOW_VENV)/bin/pip install --quiet '$(AIRFLOW_TASK_SDK)' '$(AIRFLOW_CORE)'
	touch $(AIRFLOW_STAMP)

# AWS SAM CLI in a venv of its own, on the Lambda runtime's Python (infra/sam_venv.sh says why).
SAM_VENV := .sam-venv
SAM_STAMP := $(SAM_VENV)/.installed
# `sam build` without Docker finds python3.13 in the SAM venv's bin/
SAM_RUN := PATH="$(abspath $(SAM_VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

sam-venv: $(SAM_STAMP)

$(SAM_STAMP): infra/sam_venv.sh
	infra/sam_venv.sh $(SAM_VENV)

sam-validate: sam-venv
	$(SAM_RUN) validate --lint

# What `sam deploy` ships: `sam build`'s output, finished by infra/slipstream/lambda_package.py under
# the runtime's Python (botocore's models for the services called only; compiled to bytecode, which
# Lambda's read-only package cannot write: 2.65 s to a first heartbeat without it, 1.0 s with it).
SAM_BUILD_DIR := .aws-sam/build
sam-build: sam-venv
	$(SAM_RUN) build --build-dir $(SAM_BUILD_DIR) $(SAM_BUILD_ARGS)
	PYTHONPATH=infra:functions $(SAM_VENV)/bin/python -B -m slipstream.lambda_package $(SAM_BUILD_DIR)

# e.g. make deploy DEPLOY_ARGS="--config-env prod --parameter-overrides WorkerImage=..."
deploy: sam-build
	$(SAM_RUN) deploy $(DEPLOY_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy functions/slipstream worker/slipstream infra/slipstream

pytest: install airflow-venv sam-venv
	SLIPSTREAM_AIRFLOW_PYTHON=$(abspath $(AIRFLOW_VENV))/bin/python $(BIN)/pytest -q

test: lint typecheck pytest

bench: install airflow-venv sam-build
	SLIPSTREAM_AIRFLOW_PYTHON=$(abspath $(AIRFLOW_VENV))/bin/python $(BIN)/python -m slipstream.bench

# Workers SIGKILLed at random under 2,000 tasks on a local stack (docs/reliability.md: it needs
# far more memory and time than 2 cores give; `python -m slipstream.chaos --runs 25` runs 500).
soak: install
	$(BIN)/python -m slipstream.chaos

conformance: install airflow-venv
	SLIPSTREAM_AIRFLOW_PYTHON=$(abspath $(AIRFLOW_VENV))/bin/python $(BIN)/pytest -q -m conformance tests/conformance

demo: install
	$(BIN)/slipstream demo

local: install
	$(BIN)/slipstream local up

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) $(SAM_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache bench-results.json
