#!/usr/bin/env bash
# The API contract, checked against a live server: start `askwell serve` on a free loopback
# port (its own temporary home: SQLite, the packaged model, rate limit off, an admin token so
# the admin routes are in the schema), run schemathesis with every check, bounded examples and
# time, and fail on any finding. Usage: bash scripts/schemathesis.sh [extra schemathesis args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"  # absolute (the run happens elsewhere), venv kept
ST="${SCHEMATHESIS:-$(dirname "$PY")/schemathesis}"
home="$(mktemp -d)"
port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ASKWELL_HOME="$home" ASKWELL_RATE_LIMIT=0 ASKWELL_ADMIN_TOKEN="contract-$$" \
  "$PY" -c "from askwell.cli import main; main()" serve --port "$port" >"$home/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$home"' EXIT
for _ in $(seq 1 600); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=2)" 2>/dev/null; then break; fi
  kill -0 "$server" 2>/dev/null || { cat "$home/serve.log" >&2; exit 1; }
  sleep 0.5
done
# run from the temporary home, so schemathesis' own cache (.schemathesis/) stays out of the repo
repo="$PWD"
cd "$home"
PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$repo" SCHEMATHESIS_HOOKS=tests.contract.askwell_checks \
  "$ST" --config-file "$repo/tests/contract/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
  --checks all --max-examples "${ASKWELL_SCHEMATHESIS_EXAMPLES:-25}" \
  --max-time "${ASKWELL_SCHEMATHESIS_SECONDS:-240}" --workers 1 --generation-deterministic \
  -H "Authorization: Bearer contract-$$" "$@"
