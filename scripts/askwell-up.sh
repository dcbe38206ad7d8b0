#!/usr/bin/env bash
# The main job on embedded defaults: install, ingest the shared dumps, print the data report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/askwell quickstart "$@"
