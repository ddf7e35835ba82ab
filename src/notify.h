/*
 * The service manager's readiness protocol (sd_notify), without
 * libsystemd: state lines such as "READY=1" sent as one datagram to the
 * AF_UNIX socket named by NOTIFY_SOCKET.  With no NOTIFY_SOCKET, every call
 * does nothing, so the daemon runs the same under any supervisor.
 */
#ifndef RESETD_NOTIFY_H
#define RESETD_NOTIFY_H

#include <stdint.h>

#include "util/util.h"

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment
 * and open the socket.  Return 0, or -1 (logged) when NOTIFY_SOCKET is set
 * but unusable; notifications are then not sent.  Call once, from the main
 * thread, before the others start.
 */
int notify_open(void) WUR;
/* Close the socket; later calls send nothing. */
void notify_close(void);
/*
 * Send state, one or more "NAME=value" lines ("READY=1\nSTATUS=...").
 * Return 0 when sent or when there is nowhere to send, -1 (logged at
 * debug) when the send failed.  Safe from any thread.
 */
int notify_send(const char *state);
/* READY=1 with a STATUS line saying status. */
void notify_ready(const char *status);
/* RELOADING=1 with the CLOCK_MONOTONIC time, as systemd 253 wants it. */
void notify_reloading(void);
/* STOPPING=1 with a STATUS line saying status. */
void notify_stopping(const char *status);
/*
 * The watchdog interval the manager asked for, in milliseconds, or 0 when
 * it asked for none (or asked another process: WATCHDOG_PID).  Send
 * notify_watchdog at least twice per interval.
 */
int64_t notify_watchdog_ms(void);
void notify_watchdog(void);

#endif
