#!/usr/bin/env bash
# `make test`: static checks, the whole suite, then the store and end-to-end tests again
# against a real TimescaleDB.
#
# Services come from the environment when given (METERLEDGER_TEST_DATABASE_URL,
# METERLEDGER_TEST_MQTT_URL, METERLEDGER_TEST_TIMESCALEDB_URL); otherwise the suite starts
# its own: an embedded PostgreSQL, a private Mosquitto, and a TimescaleDB from a cached
# Debian trixie root (deploy/timescaledb-local.sh, which needs root). With CI=true the
# machine's PostgreSQL (127.0.0.1:5432) and Mosquitto (127.0.0.1:1883) are used, restarted
# if they are down, and a TimescaleDB pass that cannot run is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
say() { printf '\n== %s\n' "$*"; }

# The tests run on two workers (pytest-xdist, one per core); the end-to-end ones one after
# another on one of them (the scheduler in tests/conftest.py). Tests marked `serial` count
# polls per real second, so they run afterwards with nothing beside them.
# Each takes a marker expression ("" for every test) and further pytest arguments.
in_parallel() { "$BIN/pytest" -n 2 --dist loadgroup -m "${1:+($1) and }not serial" "${@:2}"; }
alone() {
  local found=0
  "$BIN/pytest" --collect-only -q -m "${1:+($1) and }serial" "${@:2}" >/dev/null || found=$?
  case $found in
    0) "$BIN/pytest" -m "${1:+($1) and }serial" "${@:2}" ;;
    5) ;;  # none selected: pytest would close on "no tests ran"
    *) return "$found" ;;
  esac
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${CI:-}" = "true" ]; then
  if ! port_open 5432; then
    say "PostgreSQL on 127.0.0.1:5432 is down: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  fi
  if ! port_open 1883; then
    say "Mosquitto on 127.0.0.1:1883 is down: starting it"
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
  fi
  export METERLEDGER_TEST_DATABASE_URL="${METERLEDGER_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
  export METERLEDGER_TEST_MQTT_URL="${METERLEDGER_TEST_MQTT_URL:-mqtt://127.0.0.1:1883}"
fi

missing=()
command -v mbpoll >/dev/null 2>&1 || missing+=(mbpoll)  # an independent Modbus client
command -v socat >/dev/null 2>&1 || missing+=(socat)    # virtual serial lines for Modbus RTU
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)  # the dashboard test
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing ${missing[*]} (Debian) for the Modbus and browser tests"
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }
  else
    echo "missing ${missing[*]}, and installing needs root: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

say "static checks: ruff, mypy (strict)"
"$BIN/ruff" check .
"$BIN/ruff" format --check .
"$BIN/mypy"

say "pass 1: every test; store: ${METERLEDGER_TEST_DATABASE_URL:-embedded PostgreSQL}, broker: ${METERLEDGER_TEST_MQTT_URL:-private Mosquitto}"
in_parallel ""
alone ""

say "pass 2: store and end-to-end tests against TimescaleDB"
timescale_url="${METERLEDGER_TEST_TIMESCALEDB_URL:-}"
if [ -z "$timescale_url" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "TimescaleDB pass NOT RUN: provisioning it needs root (debootstrap and chroot)."
    echo "Run make test as root, or set METERLEDGER_TEST_TIMESCALEDB_URL to a TimescaleDB server."
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
  fi
  timescale_url="$(bash deploy/timescaledb-local.sh start)"
  trap 'bash deploy/timescaledb-local.sh stop >/dev/null 2>&1 || true' EXIT
fi
psql "$timescale_url" -Atc "SELECT 'TimescaleDB ' || extversion || ' on ' || version() FROM pg_extension WHERE extname = 'timescaledb'" 2>/dev/null \
  || echo "(psql not available to print the TimescaleDB version; the tests check it)"
export METERLEDGER_TEST_DATABASE_URL="$timescale_url" METERLEDGER_TEST_EXPECT_TIMESCALEDB=1
store_mode_only=(
  --deselect tests/e2e/test_dashboard.py --deselect tests/e2e/test_api_contract.py
  --deselect tests/e2e/test_cli.py --deselect tests/e2e/test_collect_check.py
  --deselect tests/e2e/test_modbus_rtu_system.py --deselect tests/e2e/test_example_plant.py
)
in_parallel "db or e2e" "${store_mode_only[@]}"
alone "db or e2e" "${store_mode_only[@]}"
# Left out here: what does not depend on the store's mode. The browser and the OpenAPI
# contract check the page and the schema (every store query behind them runs in the API
# tests); the CLI, `collect --check`, the serial line and the example plant's coverage
# exercise the same writes as the backfill, month-close, crash and system tests, which run.
