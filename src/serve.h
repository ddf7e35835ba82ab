/*
 * serve: the daemon.  It puts together what the other layers offer (the
 * engine, the mail senders, the HTTP server and its faces), runs until a
 * stop signal, and stops within the deadline docs/architecture.md gives.
 */
#ifndef RESETD_SERVE_H
#define RESETD_SERVE_H

struct config;
struct db;
struct engine;

/*
 * Block the stop signals (SIGTERM, SIGINT) in the calling thread, so that
 * every thread started after it inherits the mask and the main thread alone
 * waits for them, and ignore SIGPIPE.  Call it before anything else starts
 * a thread or takes time, so an early stop signal is held until serve_run
 * waits for it.
 */
void	 serve_block_signals(void);

/*
 * Serve cfg from db through e until SIGTERM or SIGINT.  With demo, first
 * make a demo project and user when the database has no project.   Call
 * serve_block_signals first.  Return
 * the exit status: 0 after a stop, 1 when serving could not start (said
 * in the log).  Exits the process itself when a handler outlives the stop.
 */
int	 serve_run(const struct config *cfg, struct db *db, struct engine *e,
	    int demo);

#endif
