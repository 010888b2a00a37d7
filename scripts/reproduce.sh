#!/usr/bin/env bash
# The main job: set up, then reproduce the papers' relaxation campaign on the embedded
# defaults (CHGNet, embedded FireWorks store) and print the results table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
phasefire reproduce campaign --workers "${PHASEFIRE_WORKERS:-1}" "$@"
