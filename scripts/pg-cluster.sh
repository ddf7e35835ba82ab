#!/bin/sh
# A throwaway PostgreSQL cluster for tests and benchmarks, from Debian's
# server binaries, reachable only through a unix socket in its own folder.
#
#	scripts/pg-cluster.sh start DIR    initdb DIR (if new), start; print the URL
#	scripts/pg-cluster.sh stop DIR     stop it (fast shutdown)
#	scripts/pg-cluster.sh restart DIR  stop, then start again
#	scripts/pg-cluster.sh url DIR      print the base URL (no database name)
#	scripts/pg-cluster.sh psql DIR ... run psql on it as the superuser
#
# The URL is postgresql:///?host=DIR&user=postgres: append a database name
# after the third slash.  PostgreSQL refuses to run as root, so when this
# runs as root the cluster belongs to the unprivileged user "nobody" (set
# RESETD_PG_USER to choose another) and DIR is handed to that user.
# Settings beyond the defaults come from RESETD_PG_OPTS (postgres -c ...).
set -eu

bindir=${RESETD_PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && bindir=$d
	done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "pg-cluster: no PostgreSQL server binaries (apt-get install postgresql)" >&2
	exit 1
fi

usage() {
	echo "usage: scripts/pg-cluster.sh start|stop|restart|url|psql DIR" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2

# Run a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="${RESETD_PG_USER:-nobody}" \
		    --regid="$(id -g "${RESETD_PG_USER:-nobody}")" \
		    --clear-groups -- "$@"
	else
		"$@"
	fi
}

url() {
	echo "postgresql:///?host=$dir&user=postgres"
}

start() {
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown "${RESETD_PG_USER:-nobody}" "$dir"
	fi
	chmod 700 "$dir"
	if ! as_owner test -x "$dir"; then
		echo "pg-cluster: $dir: its owner cannot reach it (make its" \
		    "parent folders searchable, or use a folder of its own in /tmp)" >&2
		exit 1
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$dir/data" -U postgres \
		    --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
		    >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			exit 1
		}
	fi
	# Unix socket only; enough connections for several pooled daemons.
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	    -t 30 -o "-c listen_addresses='' -c unix_socket_directories='$dir' \
	    -c max_connections=300 -c shared_buffers=64MB ${RESETD_PG_OPTS:-}" \
	    start >/dev/null || {
		tail -20 "$dir/server.log" >&2
		exit 1
	}
	url
}

stop() {
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop \
		    >/dev/null
	fi
}

case "$cmd" in
start) start ;;
stop) stop ;;
restart) stop; start ;;
url) url ;;
psql) as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -U postgres "$@" ;;
*) usage ;;
esac
