#!/usr/bin/env bash
# The test command from the README: installs what is missing, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY="${PYTHON:-python3}"
"$PY" -m ruff check .
"$PY" -m mypy flows blocks app examples
exec "$PY" -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
