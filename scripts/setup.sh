#!/usr/bin/env bash
# Set up phasefire in ./.venv on a fresh machine with Python 3.11 and pip (sourced by the
# other scripts). torch is pinned first so that CHGNet does not pull a different build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.phasefire-installed"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[test,sevennet]"
  echo "$want" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
