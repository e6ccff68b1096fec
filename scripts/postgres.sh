# Starts a throwaway PostgreSQL on loopback for the tests. Sourced by scripts/test.
# PostgreSQL refuses to run as root, so when we are root the cluster belongs to `postgres`.
# Sets PG_URL and PG_DIR; `stop_postgres` ends it.

start_postgres() {
    local port="${1:-55432}"
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found"; return 1; }
    PG_DIR=$(mktemp -d /tmp/parley-pg.XXXXXX)
    local run=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$PG_DIR"
        run=(runuser -u postgres --)
    fi
    # Set before anything can fail, so that the EXIT trap's stop_postgres always can run.
    PG_BIN="$bin"
    PG_PORT="$port"
    PG_RUN=("${run[@]}")
    "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U parley --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1
    "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-k $PG_DIR -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
    "${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U parley parley_test
    PG_URL="postgres://parley@127.0.0.1:$port/parley_test?sslmode=disable"
    echo "==> PostgreSQL on 127.0.0.1:$port"
}

# Creates another empty database on the running server and prints its URL.
create_database() {
    "${PG_RUN[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U parley "$1"
    echo "postgres://parley@127.0.0.1:$PG_PORT/$1?sslmode=disable"
}

stop_postgres() {
    [ -n "${PG_DIR:-}" ] || return 0
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}
