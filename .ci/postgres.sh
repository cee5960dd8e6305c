#!/usr/bin/env bash
# Start a throw-away PostgreSQL on 127.0.0.1 for the test suite; print its SQLAlchemy URL.
# Usage: eval "$(.ci/postgres.sh start)" ... .ci/postgres.sh stop
set -euo pipefail
PORT="${GRIDFEED_PG_PORT:-54329}"
STATE="${TMPDIR:-/tmp}/gridfeed-ci-postgres"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

case "${1:-}" in
  start)
    if [ -z "$(pg_bin)" ]; then
      if [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
      else
        echo "PostgreSQL is not installed and this is not root: PostgreSQL tests will skip" >&2
        exit 0
      fi
    fi
    BIN="$(pg_bin)"
    rm -rf "$STATE" && mkdir -p "$STATE"
    RUN=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$STATE"; RUN=(runuser -u postgres --); fi
    "${RUN[@]}" "$BIN/initdb" -D "$STATE/data" -A trust -U postgres >/dev/null
    "${RUN[@]}" "$BIN/pg_ctl" -D "$STATE/data" -l "$STATE/log" -w \
      -o "-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    echo "export GRIDFEED_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    BIN="$(pg_bin)"
    [ -n "$BIN" ] && [ -d "$STATE/data" ] || exit 0
    RUN=()
    [ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
    "${RUN[@]}" "$BIN/pg_ctl" -D "$STATE/data" -m fast -w stop >/dev/null || true
    rm -rf "$STATE"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
