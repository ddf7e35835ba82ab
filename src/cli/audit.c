/* audit list: the newest events of the audit trail, as JSON. */
#include <stdio.h>

#include "api/api.h"
#include "cli/cli.h"
#include "store/store.h"

#define AUDIT_LIST_DEFAULT 100
#define AUDIT_LIST_MAX 100000

int
cli_audit_list(struct cli *c)
{
	struct store_list l = { NULL, 0 };
	struct audit_query q;
	enum engine_result r;
	char err[256] = "";
	int64_t limit;
	json_t *a;
	size_t i;

	if (cli_number("--limit", c->args.opt[OPT_LIMIT], &limit) != 0)
		return 2;
	if (limit < 0)
		limit = AUDIT_LIST_DEFAULT;
	if (limit > AUDIT_LIST_MAX)
		limit = AUDIT_LIST_MAX;
	if (cli_engine(c) == -1)
		return 1;
	/* The admin API's query (core/admin.c). */
	q = (struct audit_query){ .project_id = c->args.opt[OPT_PROJECT],
		.since = 0,
		.until = INT64_MAX,
		.limit = limit };
	r = admin_audit_list(c->engine, &q, &l, err, sizeof(err));
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, api_audit_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))audit_event_free);
	if (r == ENGINE_OK)
		cli_print_json(a);
	else {
		fprintf(stderr, "resetd: audit list: %s\n",
		    err[0] ? err : engine_result_name(r));
		json_decref(a);
	}
	return r == ENGINE_OK ? 0 : 1;
}
