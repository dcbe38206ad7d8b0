#!/usr/bin/env bash
# The whole test suite: install what the tests need, lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian Chromium for the browser tests (Playwright drives it; nothing is downloaded by Playwright)
bash scripts/browser.sh
# PostgreSQL and Redis on loopback for the serving tests (exports ASKWELL_TEST_*_URL)
if services="$(bash scripts/services.sh)"; then
  # Only our own export lines are evaluated, whatever else a tool printed.
  eval "$(grep -E '^export ASKWELL_TEST_[A-Z_]+=' <<<"$services")"
elif [ "${ASKWELL_REQUIRE_REAL_DATA:-}" = "1" ]; then
  echo "scripts/services.sh failed: the serving tests need PostgreSQL and Redis" >&2
  exit 1
else
  echo "warning: PostgreSQL/Redis not started; their serving tests will skip" >&2
fi
.venv/bin/ruff check src tests benchmarks
# Types: the package ships py.typed, so its contracts are checked (config in pyproject.toml)
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
# The API contract against a live server: schemathesis, every check, bounded (fails on any finding)
bash scripts/schemathesis.sh
