/*
 * outbox list and retry, and mail test: what an operator needs to see and
 * mend the mail that resetd sends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "config.h"
#include "mail/outbox.h"
#include "mail/transport.h"
#include "store/store.h"
#include "util/util.h"

#define OUTBOX_LIST_DEFAULT 100
#define OUTBOX_LIST_MAX 10000

static const char *const outbox_states[] = {
	"pending",
	"sent",
	"dead",
	"dropped",
	NULL,
};

int
cli_outbox_list(struct cli *c)
{
	const char *state = c->args.opt[OPT_STATE];
	const char *limit_arg = c->args.opt[OPT_LIMIT];
	struct store_list l = { NULL, 0 };
	const char *const *st;
	enum engine_result r;
	long long limit = OUTBOX_LIST_DEFAULT;
	char *end, err[256] = "";
	json_t *a;
	size_t i;

	if (state != NULL) {
		for (st = outbox_states; *st != NULL; st++)
			if (strcmp(*st, state) == 0)
				break;
		if (*st == NULL)
			return cli_usage_error(
			    "outbox list --state: expected "
			    "pending, sent, dead or dropped, got '%s'",
			    state);
	}
	if (limit_arg != NULL) {
		errno = 0;
		limit = strtoll(limit_arg, &end, 10);
		if (errno != 0 || *end != '\0' || limit < 1 ||
		    limit > OUTBOX_LIST_MAX)
			return cli_usage_error(
			    "outbox list --limit: expected 1 "
			    "to %d, got '%s'",
			    OUTBOX_LIST_MAX, limit_arg);
	}
	if (cli_engine(c) == -1)
		return 1;
	r = admin_outbox_list(c->engine, state, limit, &l, err, sizeof(err));
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, api_outbox_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
	if (r == ENGINE_OK)
		cli_print_json(a);
	else {
		fprintf(stderr, "resetd: outbox list: %s\n",
		    err[0] ? err : engine_result_name(r));
		json_decref(a);
	}
	return r == ENGINE_OK ? 0 : 1;
}

/*
 * Make dead messages pending again.  The running senders pick them up at
 * their next poll (mail_poll_ms).
 */
int
cli_outbox_retry(struct cli *c)
{
	const char *id = c->args.positional;
	int all_dead = c->args.opt[OPT_ALL_DEAD] != NULL;
	enum engine_result r;
	char err[256] = "";
	int64_t n = 0;

	if ((id == NULL) == !all_dead)
		return cli_usage_error("outbox retry: %s",
		    "expected ID or "
		    "--all-dead");
	if (id != NULL && !id_is_uuid(id))
		return cli_usage_error("outbox retry: '%s' is not a message id",
		    id);
	if (cli_engine(c) == -1)
		return 1;
	/* The admin API's operation: it also wakes the senders. */
	r = admin_outbox_retry(c->engine, id, &n, err, sizeof(err));
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: outbox retry: %s\n",
		    err[0] ? err : engine_result_name(r));
		return 1;
	}
	if (id != NULL)
		cli_print_json(
		    json_pack("{s:s, s:s}", "id", id, "state", "pending"));
	else
		cli_print_json(json_pack("{s:I}", "retried", (json_int_t)n));
	return 0;
}

/*
 * Send a test message through the configured transport now, from the
 * project's sender when --project is given, and print what the server said.
 */
int
cli_mail_test(struct cli *c)
{
	const char *to = c->args.opt[OPT_TO];
	const char *project = c->args.opt[OPT_PROJECT];
	struct project *p = NULL;
	const char *from, *name;
	char reply[TRANSPORT_REPLY_MAX];
	enum engine_result r;
	int rc;

	if (cli_config(c) == -1)
		return 1;
	if (project != NULL) {
		if (cli_engine(c) == -1)
			return 1;
		r = engine_project(c->engine, project, &p);
		if (r != ENGINE_OK) {
			if (r == ENGINE_PROJECT_UNKNOWN)
				fprintf(stderr,
				    "resetd: mail test: no project %s\n",
				    project);
			else
				fprintf(stderr, "resetd: mail test: %s\n",
				    engine_result_name(r));
			return 1;
		}
	}
	engine_mail_sender(c->cfg, p, &from, &name);
	rc = mailer_send_test(c->cfg, to, from, name, reply, sizeof(reply));
	cli_print_json(json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "sent",
	    rc == 0, "transport", transport_name(c->cfg->mail), "from", from,
	    "to", to, rc == 0 ? "reply" : "error", reply, "failure",
	    rc == 0			  ? "none" :
		rc == TRANSPORT_PERMANENT ? "permanent" :
					    "temporary"));
	project_free(p);
	return rc == 0 ? 0 : 1;
}
