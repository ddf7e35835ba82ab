#!/bin/sh
# The cost of per-address limits shared through the database
# (rate_limit_store = database) against the in-memory ones, on a local
# PostgreSQL, with wrk on loopback.
#
#	[ROUNDS=N] bench/ratelimit.sh [SECONDS] [CONNECTIONS] [CLIENTS]
#
# One instance serves Xsolla reset requests for existing users from
# CLIENTS client addresses (X-Forwarded-For from a trusted 127.0.0.1), with
# limits high enough that nothing is refused, so every request pays for
# the take and does its full work.  Runs, each after a warm-up: memory;
# database with IPv4 clients (one bucket per take); database with IPv6
# clients (three: /64, /56, /48).  Last, all requests from one IPv4
# address, the database store's worst case: every take locks the same row.
# Every run starts from the seeded database.  The store runs alternate, in rounds, so that a machine whose load
# changes over the run does not favour one.  Besides wrk's figures, each
# run prints the CPU time per request of resetd and of PostgreSQL (all the
# cluster's processes), which load from elsewhere disturbs less than
# throughput.  Mail is only queued.  A throwaway cluster with default
# durability.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-8}
conns=${2:-32}
clients=${3:-1000}
users=${USERS:-10000}
bin=${RESETD_BENCH_BIN:-build/resetd}

dir=$(mktemp -d "${TMPDIR:-/tmp}/resetd-bench-XXXXXX")
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/resetd-pg-XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	scripts/pg-cluster.sh stop "$pgdir" 2>/dev/null || true
	rm -rf "$dir" "$pgdir"
}
trap cleanup EXIT INT TERM

base=$(scripts/pg-cluster.sh start "$pgdir")
scripts/pg-cluster.sh psql "$pgdir" -d postgres -c "CREATE DATABASE bench" \
    >/dev/null
db=$(echo "$base" | sed 's|:///|:///bench|')

export RESETD_DATABASE="$db"
export RESETD_MAIL_WORKERS=0
export RESETD_LOG_LEVEL=warn
export RESETD_TRUSTED_PROXIES=127.0.0.1 RESETD_MAX_CONNECTIONS_PER_IP=0
export RESETD_SERVER_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
# Limits that refuse nothing, so every request is a full one.
export RESETD_RATE_IP_REQUEST=1000000 RESETD_RATE_IP6_56_REQUEST=1000000 \
    RESETD_RATE_IP6_48_REQUEST=1000000
"$bin" migrate >/dev/null
project=$("$bin" project create --name bench --reset-limit 1000 \
    --mail-budget 0 | sed -n 's/^  "id": "\(.*\)",$/\1/p')
scripts/pg-cluster.sh psql "$pgdir" -d bench -c "
    INSERT INTO users (id, project_id, email, email_key, created_at,
        updated_at)
    SELECT gen_random_uuid()::text, '$project', 'bench-' || n || '@example.com',
        'bench-' || n || '@example.com', 0, 0
    FROM generate_series(1, $users) AS n" -c "VACUUM ANALYZE" >/dev/null

# CPU ticks of the cluster's processes: the postmaster and its children.
pg_ticks() {
	pm=$(head -1 "$pgdir/data/postmaster.pid")
	for p in $pm $(ps -o pid= --ppid "$pm"); do
		awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null
	done | awk '{t += $1} END {print t + 0}'
}

# run STORE FAMILY CLIENTS
run() {
	# Each run starts from the same database: the rows earlier runs wrote
	# (secrets, outbox, audit) would slow later ones.
	scripts/pg-cluster.sh psql "$pgdir" -d bench -qc "TRUNCATE secrets,
	    outbox, audit_events, rate_buckets" -c "VACUUM ANALYZE" >/dev/null
	RESETD_RATE_LIMIT_STORE=$1 RESETD_LISTEN=127.0.0.1:18091 \
	    RESETD_MAIL="maildir:$dir/mail" "$bin" serve 2>>"$dir/serve.log" &
	pid=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		curl -sf http://127.0.0.1:18091/readyz >/dev/null && break
		sleep 0.2
	done
	wrk -t2 -c"$conns" -d2s -s bench/reset_request_xff.lua \
	    http://127.0.0.1:18091 -- "$project" "$users" "$3" "$2" >/dev/null
	echo
	echo "== rate_limit_store=$1, $3 $2 clients: wrk -t2 -c$conns -d${secs}s"
	cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
	pg0=$(pg_ticks)
	wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/reset_request_xff.lua \
	    http://127.0.0.1:18091 -- "$project" "$users" "$3" "$2" |
	    tee "$dir/wrk" | grep -E 'Requests/sec|^ +(50|99)%|Non-2xx'
	cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
	pg1=$(pg_ticks)
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$dir/wrk")
	hz=$(getconf CLK_TCK)
	echo "  CPU per request: resetd $(( (cpu1 - cpu0) * 1000000 / hz / reqs )) us," \
	    "PostgreSQL $(( (pg1 - pg0) * 1000000 / hz / reqs )) us"
	echo "  rate_buckets rows: $(scripts/pg-cluster.sh psql "$pgdir" -d bench \
	    -Atc 'SELECT count(*) FROM rate_buckets')"
	if ! kill "$pid" 2>/dev/null; then
		echo "resetd had exited:" >&2
		tail -20 "$dir/serve.log" >&2
		exit 1
	fi
	wait "$pid" 2>/dev/null || true
	pid=""
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "postgres: $(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc 'SHOW server_version') synchronous_commit=$(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc 'SHOW synchronous_commit') fsync=$(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc 'SHOW fsync')"
echo "rate_buckets: $(scripts/pg-cluster.sh psql "$pgdir" -d bench -Atc "SELECT CASE relpersistence WHEN 'u' THEN 'unlogged' ELSE 'logged' END FROM pg_class WHERE relname = 'rate_buckets'")"
for round in $(seq "${ROUNDS:-2}"); do
	echo
	echo "=== round $round"
	run memory v4 "$clients"
	run database v4 "$clients"
	run memory v6 "$clients"
	run database v6 "$clients"
done
echo
echo "=== one client address for every request"
run memory v4 1
run database v4 1
echo
echo "errors logged: $(grep -c '"level":"error"' "$dir/serve.log" || true)"
