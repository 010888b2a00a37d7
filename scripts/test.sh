#!/usr/bin/env bash
# Set up, then check formatting and lint (ruff), then run the test suite (slow physics runs are deselected; add `-m slow` for them).
# As root on Debian, also installs SLURM and munge so the queue tests run on a real scheduler.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v slurmctld >/dev/null \
   && [ -z "${PHASEFIRE_NO_SLURM:-}" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge) \
    >/dev/null 2>&1 || echo "note: could not install SLURM; queue tests will be skipped"
fi
ruff format --check --quiet . || { echo "ruff format: files above need formatting (run: ruff format .)"; exit 1; }
ruff check --quiet .
python -m pytest "$@"
