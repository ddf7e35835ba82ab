#!/bin/sh
# Install the Debian packages a step needs, when they are missing.
#
#	scripts/deps.sh build|test|bench|fuzz
#
# Runs apt-get as root, or through sudo otherwise; installs nothing when
# everything is already there, so it is cheap to call before every build.
set -eu

build="gcc make pkg-config libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev
    libssl-dev libpq-dev libcurl4-openssl-dev libutf8proc-dev libzxcvbn-dev libcrypt-dev"
# postgresql: the server binaries for the throwaway test cluster;
# libfaketime: one instance's clock skewed, in the PostgreSQL tests;
# openssl makes the self-signed certificate of the test SMTP server;
# chromium: the hosted pages' tests drive Debian's headless Chromium;
# sqlite3 writes a database as an older version left it, in an upgrade test,
# and runs PRAGMA integrity_check after the full-disk test;
# locales: the sources a unit test compiles a German locale from;
# mandoc lints the man pages (tests/e2e/docs.test.js);
# python3 holds the sd_notify datagram socket Node.js cannot open
# (tests/e2e/lib/notify.js); systemd's systemd-analyze checks the unit
# (tests/e2e/install.test.js); clang-format checks the layout of the C
# sources (make check-format).
test="$build libcmocka-dev postgresql libfaketime openssl chromium sqlite3 mandoc
    python3 systemd locales clang-format"
bench="$build wrk postgresql valgrind"
# libFuzzer comes with clang's runtime libraries.
fuzz="$test clang libclang-rt-dev"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
bench) want=$bench ;;
fuzz) want=$fuzz ;;
*) echo "usage: scripts/deps.sh build|test|bench|fuzz" >&2; exit 2 ;;
esac

# Node.js runs the black-box tests; take Debian's only when none is installed.
if [ "${1:-build}" = test ] && ! command -v node >/dev/null 2>&1; then
	want="$want nodejs npm"
fi

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	sudo=""
else
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
