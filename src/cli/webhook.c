/*
 * webhook create, list, delete and test: a project's webhook endpoints.
 * What they change is done by core (admin_webhook_*), which checks the
 * URL and the event names; the secret is printed once, by create.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "mail/webhook.h"
#include "store/store.h"

#define EVENT_NAMES_MAX CLI_REPEAT_MAX

static json_t *
endpoint_json(const struct webhook_endpoint *w)
{
	json_t *ev = json_array();
	const char *p = w->events, *end;

	while (*p != '\0') {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		json_array_append_new(ev, json_stringn(p, (size_t)(end - p)));
		p = *end == '\n' ? end + 1 : end;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", w->id, "project_id",
	    w->project_id, "url", w->url, "events", ev, "created_at",
	    api_time(w->created_at));
}

/*
 * The names of every --events, each a comma-separated list, into names
 * (copies in store; NULL-terminated).  0, or 2 after a usage error.
 */
static int
event_names(const struct cli_args *a, char *store, size_t storelen,
    const char *names[EVENT_NAMES_MAX + 1])
{
	const char *const *v;
	char *p, *save = NULL;
	size_t used = 0, len, n = 0;

	for (v = a->list[OPT_EVENTS]; *v != NULL; v++) {
		len = strlen(*v);
		if (used + len + 1 > storelen)
			return cli_usage_error("--events: %s", "too long");
		memcpy(store + used, *v, len + 1);
		for (p = strtok_r(store + used, ",", &save); p != NULL;
		     p = strtok_r(NULL, ",", &save)) {
			if (n >= EVENT_NAMES_MAX)
				return cli_usage_error("--events: at most %d "
						       "names",
				    EVENT_NAMES_MAX);
			names[n++] = p;
		}
		used += len + 1;
	}
	names[n] = NULL;
	if (n == 0)
		return cli_usage_error("--events: %s", "name one event or *");
	return 0;
}

int
cli_webhook_create(struct cli *c)
{
	const struct cli_args *a = &c->args;
	const char *names[EVENT_NAMES_MAX + 1];
	char store[4096], id[UUID_STRLEN + 1], err[256];
	char *secret = NULL;
	int rc;

	rc = event_names(a, store, sizeof(store), names);
	if (rc != 0)
		return rc;
	if (cli_engine(c) == -1)
		return 1;
	if (admin_webhook_create(c->engine, a->opt[OPT_PROJECT],
		a->opt[OPT_URL], names, &secret, id, err,
		sizeof(err)) != ENGINE_OK) {
		fprintf(stderr, "resetd: webhook create: %s\n", err);
		return 1;
	}
	/* The secret is shown here once; only its sealed form is kept. */
	cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", id, "project_id",
	    a->opt[OPT_PROJECT], "url", a->opt[OPT_URL], "secret", secret));
	xfree_secret(secret);
	return 0;
}

int
cli_webhook_list(struct cli *c)
{
	struct store_list l = { NULL, 0 };
	json_t *arr;
	size_t i;

	if (cli_engine(c) == -1)
		return 1;
	if (admin_webhook_list(c->engine, c->args.opt[OPT_PROJECT], &l) !=
	    ENGINE_OK) {
		fprintf(stderr,
		    "resetd: webhook list: the database is "
		    "unavailable\n");
		return 1;
	}
	arr = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(arr, endpoint_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))webhook_endpoint_free);
	cli_print_json(arr);
	return 0;
}

int
cli_webhook_delete(struct cli *c)
{
	const char *id = c->args.positional;
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_webhook_delete(c->engine, c->args.opt[OPT_PROJECT], id);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: webhook delete: %s\n",
		    r == ENGINE_USER_UNKNOWN ? "no such endpoint" :
					       cli_result_text(r));
		return 1;
	}
	cli_print_json(json_pack("{s:s, s:b}", "id", id, "deleted", 1));
	return 0;
}

int
cli_webhook_test(struct cli *c)
{
	const char *id = c->args.positional;
	enum engine_result r;
	char err[WEBHOOK_ERROR_MAX] = "";
	long status = 0;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_webhook_test(c->engine, id, &status, err, sizeof(err));
	if (r != ENGINE_OK && r != ENGINE_BAD_INPUT) {
		fprintf(stderr, "resetd: webhook test: %s\n",
		    err[0] ? err : cli_result_text(r));
		return 1;
	}
	cli_print_json(json_pack("{s:s, s:b, s:I, s:s}", "id", id, "delivered",
	    r == ENGINE_OK, "status", (json_int_t)status, "answer", err));
	return r == ENGINE_OK ? 0 : 1;
}
