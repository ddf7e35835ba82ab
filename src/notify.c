/*
 * sd_notify in a few lines.  NOTIFY_SOCKET is a path, or "@name" for a
 * socket in the abstract namespace; each message is one datagram of
 * newline-separated assignments.  The socket is opened once, before any
 * thread starts; sendto(2) on a datagram socket is atomic, so threads may
 * share it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

#define NOTIFY_STATE_MAX 1024

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static int64_t watchdog_ms;

int
notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	long long v;
	size_t n;

	notify_close();
	watchdog_ms = 0;
	if (usec != NULL &&
	    (pid == NULL || strtoll(pid, NULL, 10) == (long long)getpid())) {
		errno = 0;
		v = strtoll(usec, &end, 10);
		if (errno == 0 && end != usec && *end == '\0' && v > 0)
			watchdog_ms = v / 1000 > 0 ? v / 1000 : 1;
	}
	if (path == NULL || *path == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    n >= sizeof(notify_addr.sun_path)) {
		log_error("NOTIFY_SOCKET: expected a path or @name of at most "
			  "%zu bytes",
		    sizeof(notify_addr.sun_path) - 1);
		return -1;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0'; /* the abstract namespace */
	notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    n);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd == -1) {
		log_error("NOTIFY_SOCKET: cannot make a socket: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
}

int
notify_send(const char *state)
{
	ssize_t n;

	if (notify_fd == -1)
		return 0;
	n = sendto(notify_fd, state, strlen(state), MSG_NOSIGNAL,
	    (const struct sockaddr *)&notify_addr, notify_addrlen);
	if (n == -1) {
		log_debug("NOTIFY_SOCKET: cannot send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Send "first\nSTATUS=status", the status cut to fit. */
static void
send_with_status(const char *first, const char *status)
{
	char msg[NOTIFY_STATE_MAX], *p;

	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s", first, status);
	/* A line break in status would start another assignment. */
	for (p = msg + strlen(first) + 1; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	(void)notify_send(msg);
}

void
notify_ready(const char *status)
{
	send_with_status("READY=1", status);
}

void
notify_reloading(void)
{
	char msg[64];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	(void)notify_send(msg);
}

void
notify_stopping(const char *status)
{
	send_with_status("STOPPING=1", status);
}

int64_t
notify_watchdog_ms(void)
{
	return watchdog_ms;
}

void
notify_watchdog(void)
{
	if (watchdog_ms > 0)
		(void)notify_send("WATCHDOG=1");
}
