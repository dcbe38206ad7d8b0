#!/usr/bin/env bash
# The browser the end-to-end tests drive: Debian's Chromium at /usr/bin/chromium (Playwright
# uses it through its executable path; `playwright install` is never run). Idempotent: does
# nothing when Chromium is already there.
set -euo pipefail
CHROMIUM="${ASKWELL_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
else
  SUDO=""
fi
echo "installing Debian's chromium for the browser tests..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version >&2
