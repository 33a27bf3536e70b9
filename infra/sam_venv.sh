#!/usr/bin/env bash
# Creates the SAM CLI venv (default .sam-venv): aws-sam-cli, the cfn-lint it accepts, and awslambdaric.
#
# Kept apart from the project venv because aws-sam-cli pins boto3, click and (through
# aws-sam-translator) pydantic versions that the project must not be held to. Built on the Lambda
# runtime's Python (template.yaml: python3.13) for two reasons: `sam build` without Docker needs
# that interpreter on PATH (this venv's bin/ provides it), and awslambdaric runs the built
# functions, whose compiled wheels (pydantic-core) are for that Python, under the emulator.
#
# Usage: infra/sam_venv.sh [VENV_DIR]      SAM_PYTHON=/path/to/python3.13 overrides the lookup.
set -euo pipefail

VENV="${1:-.sam-venv}"
RUNTIME_PYTHON="3.13"
PINS=(
    "aws-sam-cli==1.170.0"
    "cfn-lint==1.58.0"   # aws-sam-cli 1.170.0 requires cfn-lint>=1.52.0,<1.59
    "awslambdaric==4.2.2"
)

find_python() {
    if [[ -n "${SAM_PYTHON:-}" ]]; then
        echo "$SAM_PYTHON"
        return
    fi
    # A pyenv shim answers `command -v` even when that version is not selected: run it to be sure.
    if python${RUNTIME_PYTHON} -c "" 2>/dev/null; then
        command -v "python${RUNTIME_PYTHON}"
        return
    fi
    if command -v pyenv >/dev/null 2>&1; then
        local version
        version="$(pyenv versions --bare 2>/dev/null | grep -E "^${RUNTIME_PYTHON//./\\.}(\.[0-9]+)?$" | sort -V | tail -n 1)"
        if [[ -n "$version" ]]; then
            echo "$(pyenv root)/versions/${version}/bin/python${RUNTIME_PYTHON}"
            return
        fi
    fi
    echo "infra/sam_venv.sh: python${RUNTIME_PYTHON} (the Lambda runtime's Python) is not installed;" \
        "install it (e.g. pyenv install ${RUNTIME_PYTHON}) or set SAM_PYTHON" >&2
    exit 1
}

PYTHON="$(find_python)"
"$PYTHON" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
touch "$VENV/.installed"
