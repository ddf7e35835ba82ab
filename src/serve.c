/*
 * serve: the daemon.  It puts together what the other layers offer (the
 * engine, the mail senders, the HTTP server and its faces), sweeps what
 * nothing needs between stop signals, reloads what is safe at SIGHUP, and
 * stops within DRAIN_MS of the first stop signal (docs/architecture.md,
 * "Stopping" and "Reload").  It is wiring, like
 * main.c and faces.c, and may include any layer.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "config.h"
#include "core/engine.h"
#include "faces.h"
#include "http/http.h"
#include "log.h"
#include "mail/outbox.h"
#include "mail/template.h"
#include "notify.h"
#include "pages/pages.h"
#include "store/store.h"
#include "util/util.h"
#include "version.h"

/*
 * A stop signal gives the server DRAIN_MS to exit: requests in flight
 * finish and idle connections close, then the last STOP_MS are kept for
 * the forced part (see http_server_stop), of which EXIT_MS for the mail
 * senders to stop and the process to exit.
 */
#define DRAIN_MS 10000
#define STOP_MS 3000
#define EXIT_MS 500
#define DRAIN_TICK_MS 50
/* The admin listener: a few operators' tools and a scraper. */
#define ADMIN_WORKERS 4
#define ADMIN_CONNECTIONS 64
#define SWEEP_BATCH 5000
#define SWEEP_MAX_MS 2000
#define SWEEP_EVERY_MS 10000
#define DEMO_PASSWORD "demo-password-1"

/*
 * On a first start with no project, make a demo project and user, and say
 * how to walk through the flow.  Return 0, or -1 after saying why.
 */
static int
demo_setup(const struct config *cfg, struct db *db, struct engine *e)
{
	struct project_spec ps = { PROJECT_SPEC_DEFAULTS };
	struct user_spec us;
	struct project *p = NULL;
	struct user *u = NULL;
	struct db_conn *conn;
	const char *cbs[2];
	int64_t count = 0;
	char *cb, err[256];
	int rc = -1;

	conn = db_acquire(db);
	if (conn == NULL)
		return -1;
	rc = store_project_count(conn, &count);
	db_release(db, conn);
	if (rc != STORE_OK)
		return -1;
	if (count > 0)
		return 0;
	rc = -1;
	cb = xasprintf("%s/demo/signed-in", cfg->public_url);
	cbs[0] = cb;
	cbs[1] = NULL;
	ps.name = "Demo";
	ps.callback_urls = cbs;
	if (admin_project_create(e, &ps, &p, err, sizeof(err)) != ENGINE_OK) {
		fprintf(stderr, "resetd: project create: %s\n", err);
		goto out;
	}
	us = (struct user_spec){
		.project_id = p->id,
		.email = "demo@example.com",
		.username = "demo",
		.password = DEMO_PASSWORD,
	};
	if (admin_user_create(e, &us, &u, err, sizeof(err)) != ENGINE_OK) {
		fprintf(stderr, "resetd: user create: %s\n", err);
		goto out;
	}
	printf("\nresetd: created a demo project and user.\n\n"
	       "  project id: %s\n"
	       "  user:       demo@example.com, password " DEMO_PASSWORD "\n\n"
	       "Walk through the flow:\n\n"
	       "  curl -i -X POST '%s/password/reset/request?projectId=%s' \\\n"
	       "       -H 'Content-Type: application/json' \\\n"
	       "       -d '{\"username\": \"demo@example.com\"}'\n\n"
	       "  The email lands in %s/new/; copy reset_code and user_id "
	       "from its link, then:\n\n"
	       "  curl -i -X POST '%s/password/reset/confirm?projectId=%s' \\\n"
	       "       -H 'Content-Type: application/json' \\\n"
	       "       -d '{\"reset_code\": \"CODE\", \"user_id\": \"%s\", "
	       "\"new_password\": \"a new long passphrase\"}'\n\n"
	       "  curl -s -X POST '%s/login?projectId=%s' \\\n"
	       "       -H 'Content-Type: application/json' \\\n"
	       "       -d '{\"username\": \"demo@example.com\", "
	       "\"password\": \"a new long passphrase\"}'\n\n"
	       "The README walks through every step.\n\n",
	    p->id, cfg->public_url, p->id,
	    str_has_prefix(cfg->mail, "maildir:") ? cfg->mail + 8 : cfg->mail,
	    cfg->public_url, p->id, u->id, cfg->public_url, p->id);
	fflush(stdout);
	rc = 0;
out:
	free(cb);
	project_free(p);
	user_free(u);
	return rc;
}

/*
 * Delete rows nothing needs any more (store_purge), in batches, for at
 * most SWEEP_MAX_MS at a time so the writer is never held long.
 */
static void
janitor_sweep(struct db *db, const struct config *cfg)
{
	int64_t until = time_mono_ms() + SWEEP_MAX_MS, total = 0, n;
	int64_t keep_ms = cfg->event_retention_days * 86400000LL;

	do {
		n = 0;
		if (store_purge(db, db_now(db) - 60000, SWEEP_BATCH, &n) != 0)
			break;
		total += n;
	} while (n > 0 && time_mono_ms() < until);
	/* Events past event_retention_days. */
	do {
		n = store_event_purge(db, db_now(db) - keep_ms, SWEEP_BATCH);
		if (n > 0)
			total += n;
	} while (n > 0 && time_mono_ms() < until);
	if (total > 0)
		log_debug("janitor: deleted %lld rows nothing needed",
		    (long long)total);
}

/*
 * The graceful part of a stop: stop accepting, close idle connections, and
 * wait for the open ones to finish, until DRAIN_MS - STOP_MS after now or a
 * second stop signal.  *deadline receives the time (time_mono_ms) by which
 * the forced part must be over.
 */
static void
serve_drain(struct http_server *srv, const sigset_t *sigs, int64_t *deadline)
{
	const struct timespec tick = { 0, DRAIN_TICK_MS * 1000000L };
	int64_t start = time_mono_ms(), graceful;
	int sig, open;

	*deadline = start + DRAIN_MS - EXIT_MS;
	graceful = start + DRAIN_MS - STOP_MS;
	http_server_quiesce(srv);
	for (;;) {
		open = http_server_drain(srv);
		if (open == 0)
			break;
		if (time_mono_ms() >= graceful) {
			log_warn("%d connections still open after %lld ms, "
				 "stopping them",
			    open, (long long)(graceful - start));
			break;
		}
		sig = sigtimedwait(sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("received %s again, stopping now",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
	}
}

static void
reload_level(const char *level)
{
	if (log_set_level(level) == -1)
		log_warn("reload: log_level %s refused", level);
}

/*
 * SIGHUP: read the configuration again and apply what can change while
 * requests run (config_key_reloads): the log level, the limits, the mail
 * settings and the templates, which are read again even when templates_dir
 * is the same.  Nothing changes unless the whole new configuration is
 * valid, its templates read and its mail transports open.  Log what
 * changed and what waits for a restart.  *applied is the configuration the
 * last reload put in force (NULL: the one started with); connections and
 * requests in flight are not touched.
 */
static void
serve_reload(struct cli *c, struct mailer *ml, struct http_server *srv,
    struct config **applied)
{
	const struct config *base = *applied != NULL ? *applied : c->cfg;
	struct config *next = NULL;
	struct template_set *ts = NULL;
	char err[512];
	int changed, restart, was, now;

	notify_reloading();
	if (config_load(c->config_path, &next, err, sizeof(err)) == -1) {
		log_error("reload: %s; the configuration in force is kept",
		    err);
		goto out;
	}
	if (template_set_open(next->templates_dir, &ts, err, sizeof(err)) ==
	    -1) {
		log_error("reload: %s; the configuration in force is kept",
		    err);
		goto out;
	}
	if (mailer_reload(ml, next, ts) == -1) {
		log_error("reload: cannot open the mail transport; the "
			  "configuration in force is kept");
		goto out;
	}
	engine_reload(c->engine, next);
	engine_set_templates(c->engine, ts);
	http_server_reload(srv, next);
	/*
	 * The level last, but a more verbose one first: either way the lines
	 * saying what changed are written.
	 */
	was = log_level_rank(base->log_level);
	now = log_level_rank(next->log_level);
	if (now < was)
		reload_level(next->log_level);
	config_log_changes(c->cfg, base, next, &changed, &restart);
	log_info("reload: done, %d settings changed, %d wait for a restart; "
		 "%zu mail template overrides",
	    changed, restart, template_set_count(ts));
	if (now > was)
		reload_level(next->log_level);
	config_free(*applied);
	*applied = next;
	next = NULL;
out:
	template_set_free(ts);
	config_free(next);
	snprintf(err, sizeof(err), "serving on %s", c->cfg->listen);
	notify_ready(err);
}

/*
 * Between signals, the main thread sweeps what nothing needs every
 * SWEEP_EVERY_MS and, when the service manager asked for a watchdog, tells
 * it twice per interval that the process lives; SIGHUP reloads.  Return
 * the stop signal.
 */
static int
serve_wait(struct cli *c, struct mailer *ml, struct http_server *srv,
    const sigset_t *sigs)
{
	struct config *applied = NULL;
	struct timespec ts;
	int64_t now, wd = notify_watchdog_ms(), wait;
	int64_t next_sweep = time_mono_ms() + SWEEP_EVERY_MS;
	int64_t next_ping = time_mono_ms();
	int sig;

	for (;;) {
		now = time_mono_ms();
		if (wd > 0 && now >= next_ping) {
			notify_watchdog();
			next_ping = now + wd / 2;
		}
		if (now >= next_sweep) {
			janitor_sweep(c->db, c->cfg);
			next_sweep = time_mono_ms() + SWEEP_EVERY_MS;
		}
		now = time_mono_ms();
		wait = next_sweep - now;
		if (wd > 0 && next_ping - now < wait)
			wait = next_ping - now;
		if (wait < 1)
			wait = 1;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000L;
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			log_info("received SIGHUP, reading the configuration "
				 "again");
			serve_reload(c, ml, srv, &applied);
		}
	}
	/* Nothing but this thread reads it: the others copied what they use. */
	config_free(applied);
	return sig;
}

int
cli_serve(struct cli *c)
{
	struct mailer *ml = NULL;
	struct http_server *srv = NULL, *admin_srv = NULL;
	struct http_site site, admin_site;
	struct http_app app;
	struct template_set *ts = NULL;
	char err[512];
	sigset_t sigs;
	int64_t deadline = 0;
	int sig = 0, rc = 1;

	if (notify_open() == -1)
		log_warn("the service manager will not hear from resetd");
	/*
	 * Block the stop and reload signals before any thread starts; main
	 * waits for them.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cli_engine(c) == -1)
		return 1;
	if (template_set_open(c->cfg->templates_dir, &ts, err, sizeof(err)) ==
	    -1) {
		log_error("%s", err);
		return 1;
	}
	if (ts != NULL)
		log_info("mail: %zu template overrides from %s",
		    template_set_count(ts), c->cfg->templates_dir);
	engine_set_templates(c->engine, ts);
	if (c->args.opt[OPT_DEMO] != NULL &&
	    demo_setup(c->cfg, c->db, c->engine) == -1)
		goto out;
	ml = mailer_start(c->cfg, c->db, ts, engine_outbox_key(c->engine),
	    engine_webhook_key(c->engine), engine_mail_record, c->engine);
	if (ml == NULL)
		goto out;
	engine_set_mail_waker(c->engine, mailer_wake, ml);
	mailer_set_task(ml, engine_storage_task, c->engine);
	pages_load();
	/* The server knows the engine only as its application and hooks. */
	app = (struct http_app){
		.app = c->engine,
		.throttle = engine_throttle_hook,
		.wake = engine_wake_hook,
	};
	site = (struct http_site){
		.name = "public",
		.listen = c->cfg->listen,
		.faces = resetd_faces,
		.reuse_port = c->cfg->listen_reuse_port != 0,
		.threads = (int)c->cfg->http_threads,
		.workers = (int)c->cfg->workers,
	};
	srv = http_server_start(c->cfg, &site, &app);
	if (srv == NULL)
		goto out;
	/* The admin listener: its own socket and threads, the admin face alone. */
	if (*c->cfg->admin_listen != '\0' && c->cfg->admin_token == NULL)
		log_warn("admin: no admin_token or admin_token_file, so no "
			 "admin listener on %s",
		    c->cfg->admin_listen);
	else if (*c->cfg->admin_listen != '\0') {
		admin_init(c->cfg);
		admin_site = (struct http_site){
			.name = "admin",
			.listen = c->cfg->admin_listen,
			.faces = resetd_admin_faces,
			.threads = 1,
			.workers = ADMIN_WORKERS,
			.max_connections = ADMIN_CONNECTIONS,
		};
		admin_srv = http_server_start(c->cfg, &admin_site, &app);
		if (admin_srv == NULL)
			goto out;
	}
	log_info("resetd %s serving on %s (database %s)", RESETD_VERSION,
	    c->cfg->listen, db_dialect(c->db));
	snprintf(err, sizeof(err), "serving on %s", c->cfg->listen);
	notify_ready(err);
	sig = serve_wait(c, ml, srv, &sigs);
	log_info("received %s, finishing requests in flight",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping("finishing requests in flight");
	http_server_quiesce(admin_srv);
	serve_drain(srv, &sigs, &deadline);
	rc = 0;
out:
	if (http_server_stop(admin_srv, deadline) == -1 ||
	    http_server_stop(srv, deadline) == -1) {
		/*
		 * A handler still runs and may hold the database or wake the
		 * mailer: nothing it uses is freed, and the mail senders are
		 * left too (a message sent but not marked goes out again, never
		 * zero times).  Every answer sent had committed first.
		 */
		log_error("stopping without the requests still running");
		_exit(rc);
	}
	engine_set_mail_waker(c->engine, NULL, NULL);
	mailer_stop(ml);
	engine_set_templates(c->engine, NULL);
	template_set_free(ts);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
