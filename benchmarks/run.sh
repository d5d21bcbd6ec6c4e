#!/usr/bin/env bash
# `make bench`: install the benchmark-only extras, then run every benchmark in one go.
# Arguments pass through: bash benchmarks/run.sh --quick, --dbs sqlite, --help...
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then  # a fresh clone without `make install`
    "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
fi

# The peers and the report tooling: the `bench` extra, never a dependency of authtokens.
STAMP="$VENV/.bench-installed"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    "$VENV/bin/python" -m pip install --quiet -e ".[dev,bench]"
    touch "$STAMP"
fi

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    else
        echo "wrk is missing: sudo apt-get install wrk" >&2
        exit 1
    fi
fi

exec "$VENV/bin/python" -m benchmarks "$@"
