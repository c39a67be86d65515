#!/usr/bin/env bash
# The main job from the README: set up, bring up the local stack (Prometheus, nginx, Prefect with
# its UI, the load generator, fraud-api v1 x2), roll fraud-api v1 -> v2 by canary, then try a
# faulty v3 (30 % errors) that is rolled back automatically. Progress shows in the terminal and
# in the Prefect UI (http://127.0.0.1:4200). The stack stays up; `floodgate local down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOODGATE_SKIP_CONTROLPLANE=1 bash scripts/setup.sh

export FLOODGATE_HOME="${FLOODGATE_HOME:-$PWD/.floodgate}"
if [ -d "$FLOODGATE_HOME" ]; then
  echo "== a previous demo's stack: stopping it and starting afresh"
  floodgate local down || true
  rm -rf "$FLOODGATE_HOME"
fi

echo "== floodgate local up"
floodgate local up --rate 50 --scrape-interval 1

# Short dwell and analysis windows so the demo takes about two minutes; the defaults are
# 60 s each (see the README's settings).
FAST=(--step-interval 10 --analysis-window 20 --health-delay 2)

echo "== v1 -> v2, canary 5 -> 10 -> 50 -> 100 %, analysed at every step"
floodgate deploy fraud-api v2 --strategy canary "${FAST[@]}"

echo "== v2 -> v3 with 30 % errors: the analysis fails and the canary is rolled back"
set +e
floodgate deploy fraud-api v3 --strategy canary --env FAULT_ERROR_RATE=0.3 "${FAST[@]}"
code=$?
set -e
if [ "$code" -ne 3 ]; then
  echo "expected exit 3 (rolled back), got $code" >&2
  exit 1
fi

echo "== where things are"
floodgate status fraud-api
floodgate history fraud-api
echo
echo "Prefect UI: http://127.0.0.1:4200   Prometheus: http://127.0.0.1:9090   app: http://127.0.0.1:8080"
echo "More: floodgate deploy fraud-api v4 --strategy blue-green | floodgate local down"
