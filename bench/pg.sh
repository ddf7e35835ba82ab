#!/bin/sh
# Reset-request throughput of resetd on a local PostgreSQL, one instance and
# two, with wrk on loopback.
#
#	bench/pg.sh [SECONDS] [CONNECTIONS]
#
# Starts a throwaway cluster (scripts/pg-cluster.sh, default durability:
# fsync and synchronous_commit on), seeds USERS existing users, serves with
# the optimised build (build/resetd) and runs wrk; mail is only queued
# (RESETD_MAIL_WORKERS=0), so the figure is the request path alone.  With
# two instances, each gets half the connections from its own wrk, at once.
# Last, pgbench runs the same statements without resetd, for PostgreSQL's
# own ceiling on this machine.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-10}
conns=${2:-64}
users=${USERS:-10000}
workers=${RESETD_WORKERS:-32}
bin=${RESETD_BENCH_BIN:-build/resetd}

dir=$(mktemp -d "${TMPDIR:-/tmp}/resetd-bench-XXXXXX")
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/resetd-pg-XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	scripts/pg-cluster.sh stop "$pgdir" 2>/dev/null || true
	rm -rf "$dir" "$pgdir"
}
trap cleanup EXIT INT TERM

base=$(scripts/pg-cluster.sh start "$pgdir")
scripts/pg-cluster.sh psql "$pgdir" -d postgres -c "CREATE DATABASE bench"
db=$(echo "$base" | sed 's|:///|:///bench|')

export RESETD_DATABASE="$db"
# Instances on one PostgreSQL database must share a secret; none is made up.
RESETD_SERVER_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export RESETD_SERVER_SECRET
export RESETD_MAIL_WORKERS=0
export RESETD_WORKERS="$workers"
export RESETD_LOG_LEVEL=warn
# wrk is one client on 127.0.0.1: per-address limits would answer 429.
export RESETD_RATE_IP_REQUEST=0 RESETD_MAX_CONNECTIONS_PER_IP=0
"$bin" migrate >/dev/null
# Every request does the real work: no per-account limit or mail budget.
project=$("$bin" project create --name bench --reset-limit 1000 \
    --mail-budget 0 | sed -n 's/^  "id": "\(.*\)",$/\1/p')
scripts/pg-cluster.sh psql "$pgdir" -d bench -c "
    INSERT INTO users (id, project_id, email, email_key, created_at,
        updated_at)
    SELECT gen_random_uuid()::text, '$project', 'bench-' || n || '@example.com',
        'bench-' || n || '@example.com', 0, 0
    FROM generate_series(1, $users) AS n" -c "VACUUM ANALYZE"

serve() {
	RESETD_LISTEN="127.0.0.1:$1" RESETD_MAIL="maildir:$dir/mail$1" \
	    "$bin" serve 2>>"$dir/serve$1.log" &
	pids="$pids $!"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
		sleep 0.2
	done
	echo "resetd on port $1 did not start" >&2
	cat "$dir/serve$1.log" >&2
	exit 1
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "postgres: $(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc 'SHOW server_version') synchronous_commit=$(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc 'SHOW synchronous_commit') fsync=$(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc 'SHOW fsync')"

serve 18081
# warm up: prepared statements, pool, caches
wrk -t2 -c"$conns" -d${WARMUP:-2}s -s bench/reset_request.lua http://127.0.0.1:18081 \
    -- "$project" "$users" >/dev/null
echo
echo "== one instance: wrk -t2 -c$conns -d${secs}s --latency"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/reset_request.lua \
    http://127.0.0.1:18081 -- "$project" "$users"

serve 18082
half=$((conns / 2))
echo
echo "== two instances: two wrk -t1 -c$half -d${secs}s --latency at once"
wrk -t1 -c"$half" -d"${secs}s" --latency -s bench/reset_request.lua \
    http://127.0.0.1:18081 -- "$project" "$users" >"$dir/wrk1" &
w1=$!
wrk -t1 -c"$half" -d"${secs}s" --latency -s bench/reset_request.lua \
    http://127.0.0.1:18082 -- "$project" "$users" >"$dir/wrk2" &
w2=$!
wait "$w1" "$w2"
echo "-- instance 1"; cat "$dir/wrk1"
echo "-- instance 2"; cat "$dir/wrk2"
echo
echo "== PostgreSQL alone, the same statements: pgbench -M prepared -c32 -j2 -T$secs"
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | tail -1)
host=$(echo "$base" | sed -n 's/.*host=\([^&]*\).*/\1/p')
as_owner=""
[ "$(id -u)" = 0 ] && as_owner="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
$as_owner "$pgbench" -h "$host" -U postgres -n -M prepared -c32 -j2 -T"$secs" \
    -D project="$project" -f bench/pgbench_request.sql bench 2>/dev/null |
    grep -E '^(tps|latency average)'
echo
echo "errors logged:"
cat "$dir"/serve*.log | grep -c '"level":"error"' || true
