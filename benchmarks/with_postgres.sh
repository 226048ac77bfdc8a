#!/usr/bin/env bash
# Run a command with TEST_DATABASE_URL pointing at a throw-away PostgreSQL on 127.0.0.1,
# set up as .ci/run sets up CI's (trust auth, fsync off), stopped and deleted afterwards.
#
#   benchmarks/with_postgres.sh python benchmarks/slack_load.py --variants echo,replicas
#
# Needs root (the server runs as the postgres user) and Debian's postgresql package.
set -euo pipefail
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PG_BIN" ] || { echo "with_postgres.sh: no PostgreSQL in /usr/lib/postgresql" >&2; exit 2; }
PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PG_DIR=$(mktemp -d /tmp/bench-pg.XXXXXX)
chown postgres:postgres "$PG_DIR"
as_postgres() { runuser -u postgres -- "$@"; }
stop_postgres() {
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off" start >/dev/null
as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres ketamine_bench
export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/ketamine_bench"
export BENCH_PG_PIDFILE="$PG_DIR/data/postmaster.pid"  # for the PostgreSQL CPU figure
echo "with_postgres.sh: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (fsync off)"
"$@"
