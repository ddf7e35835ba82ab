/*
 * Unit tests of the sd_notify sender: messages arrive as single datagrams
 * on the socket NOTIFY_SOCKET names, a path or an abstract "@name"; a
 * STATUS cannot inject another assignment; the watchdog interval is taken
 * only when it is meant for this process; and with no socket nothing is
 * sent and nothing fails.
 */
#include "unit.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "notify.h"

/* A datagram socket bound to name (a path, or "@name"); its fd. */
static int
listen_at(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, len) == -1)
		fail_msg("bind %s: %s", name, strerror(errno));
	return fd;
}

/* The next datagram on fd, as a string; fails when there is none. */
static void
next_message(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, 0);

	if (n < 0)
		fail_msg("no datagram: %s", strerror(errno));
	buf[n] = '\0';
}

static void
no_message(int fd)
{
	char buf[64];

	assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
}

static void
clear_env(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void
test_path_socket(void **state)
{
	char dir[UNIT_DIR_MAX], path[UNIT_PATH_MAX], msg[256];
	int fd;

	(void)state;
	clear_env();
	unit_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_open(), 0);

	notify_ready("serving on 127.0.0.1:8080\nREADY=0");
	next_message(fd, msg, sizeof(msg));
	/* The line break in the status is no new assignment. */
	assert_string_equal(msg,
	    "READY=1\nSTATUS=serving on 127.0.0.1:8080 READY=0");

	notify_reloading();
	next_message(fd, msg, sizeof(msg));
	assert_true(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	assert_true(strtoll(msg + 27, NULL, 10) > 0);

	notify_stopping("finishing requests in flight");
	next_message(fd, msg, sizeof(msg));
	assert_string_equal(msg,
	    "STOPPING=1\nSTATUS=finishing requests in flight");

	/* No watchdog asked for: no WATCHDOG=1. */
	assert_int_equal(notify_watchdog_ms(), 0);
	notify_watchdog();
	no_message(fd);

	notify_close();
	assert_int_equal(notify_send("READY=1"), 0); /* nowhere to send */
	no_message(fd);
	close(fd);
	unit_rmdir(dir);
	clear_env();
}

static void
test_abstract_socket(void **state)
{
	char name[64], msg[64];
	int fd;

	(void)state;
	clear_env();
	snprintf(name, sizeof(name), "@resetd-unit-notify-%ld", (long)getpid());
	fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "3000000", 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_watchdog_ms(), 3000);
	notify_watchdog();
	next_message(fd, msg, sizeof(msg));
	assert_string_equal(msg, "WATCHDOG=1");
	notify_close();
	close(fd);
	clear_env();
}

/* A watchdog meant for another process, or nonsense, is no watchdog. */
static void
test_watchdog_env(void **state)
{
	char pid[32];

	(void)state;
	clear_env();
	setenv("WATCHDOG_USEC", "3000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_watchdog_ms(), 0);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_watchdog_ms(), 3000);
	setenv("WATCHDOG_USEC", "soon", 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_watchdog_ms(), 0);
	notify_close();
	clear_env();
}

/* No socket: every call does nothing.  A bad one is refused at open. */
static void
test_no_socket(void **state)
{
	(void)state;
	clear_env();
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_send("READY=1"), 0);
	notify_ready("x");
	notify_stopping("x");
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_open(), -1);
	assert_int_equal(notify_send("READY=1"), 0);
	notify_close();
	clear_env();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_watchdog_env),
		cmocka_unit_test(test_no_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
