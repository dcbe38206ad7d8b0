#!/usr/bin/env bash
# The real servers the tests run against, on loopback: PostgreSQL (preinstalled on these
# machines, its cluster stopped) and Redis (Debian's redis-server, installed if missing).
# Idempotent and quick when both already run. Prints the URLs to export, e.g.
#   eval "$(bash scripts/services.sh)"
# which sets ASKWELL_TEST_POSTGRES_URL and ASKWELL_TEST_REDIS_URL.
set -euo pipefail

# Everything but the final export lines goes to stderr: tools such as pg_ctlcluster print
# notes like "Removed stale pid file." on stdout, which must never reach the caller's eval.
# (A plain redirection, not a spare descriptor: daemons started here must not inherit a
# pipe that would keep the caller's $(...) waiting forever.)
start_services() {

PG_DB="${ASKWELL_PG_DB:-askwell_test}"
PG_USER="${ASKWELL_PG_USER:-askwell}"
PG_PASSWORD="${ASKWELL_PG_PASSWORD:-askwell}"
REDIS_PORT="${ASKWELL_REDIS_PORT:-6379}"

if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; AS_PG="sudo -u postgres"; else SUDO=""; AS_PG="runuser -u postgres --"; fi
say() { echo "services: $*" >&2; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# ------------------------------------------------------------------ PostgreSQL
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  say "installing postgresql"
  apt_install postgresql
fi
read -r PG_VERSION PG_CLUSTER PG_PORT PG_STATUS <<<"$(pg_lsclusters -h | awk 'NR==1 {print $1, $2, $3, $4}')"
if [ -z "${PG_VERSION:-}" ]; then
  PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"
  say "creating PostgreSQL $PG_VERSION cluster main"
  $SUDO pg_createcluster "$PG_VERSION" main >/dev/null
  read -r PG_VERSION PG_CLUSTER PG_PORT PG_STATUS <<<"$(pg_lsclusters -h | awk 'NR==1 {print $1, $2, $3, $4}')"
fi
if [ "$PG_STATUS" != "online" ]; then
  say "starting PostgreSQL $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
  $SUDO pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
fi
for _ in $(seq 1 50); do
  if $AS_PG psql -p "$PG_PORT" -Atqc "select 1" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
psql_admin() { $AS_PG psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -Atq "$@"; }
if [ "$(psql_admin -c "select 1 from pg_roles where rolname='$PG_USER'")" != "1" ]; then
  psql_admin -c "create role $PG_USER login password '$PG_PASSWORD'"
fi
if [ "$(psql_admin -c "select 1 from pg_database where datname='$PG_DB'")" != "1" ]; then
  psql_admin -c "create database $PG_DB owner $PG_USER"
fi

# ------------------------------------------------------------------ Redis
if ! command -v redis-server >/dev/null 2>&1; then
  say "installing redis-server"
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  say "starting redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p /tmp/askwell-redis
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save "" --appendonly no \
    --dir /tmp/askwell-redis --logfile /tmp/askwell-redis/redis.log --maxmemory 256mb \
    --maxmemory-policy allkeys-lru >/dev/null
  for _ in $(seq 1 50); do
    if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
fi

}
start_services >&2

echo "export ASKWELL_TEST_POSTGRES_URL=postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
echo "export ASKWELL_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/15"
