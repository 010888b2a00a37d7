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
# The dft extra (GPAW, compiled with g++) so that the gpaw engine is tested; the main job does not need it.
# As root on Debian, first libxc and OpenBLAS, which GPAW links when present (without them it still
# builds, with its own PBE/LDA code and numpy's BLAS). PHASEFIRE_NO_DFT=1 skips this.
if [ -z "${PHASEFIRE_NO_DFT:-}" ] && ! python -c "import gpaw, gpaw_data, threadpoolctl" 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      g++ libxc-dev libopenblas-dev) >/dev/null 2>&1 || echo "note: could not install libxc/OpenBLAS; GPAW builds without them"
  fi
  CC=g++ python -m pip install --quiet -e ".[dft]" || echo "note: could not build GPAW; the gpaw tests will be skipped"
fi
ruff format --check --quiet . || { echo "ruff format: files above need formatting (run: ruff format .)"; exit 1; }
ruff check --quiet .
python -m pytest "$@"
