/*
 * user create, import, list, disable and enable.  What they change is done
 * by the admin operations of core (admin_user_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "store/store.h"
#include "util/util.h"

#define IMPORT_LINE_MAX (64 * 1024)
#define IMPORT_USERS_MAX 1000000

int
cli_user_create(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct user_spec spec = {
		.project_id = a->opt[OPT_PROJECT],
		.email = a->opt[OPT_EMAIL],
		.username = a->opt[OPT_USERNAME],
		.locale = a->opt[OPT_LOCALE],
		.password_change_required =
		    a->opt[OPT_MUST_CHANGE_PASSWORD] != NULL,
	};
	struct user *u = NULL;
	char err[256], *pw = NULL;
	enum engine_result r;

	if (a->opt[OPT_PASSWORD_STDIN] != NULL &&
	    (pw = cli_read_secret()) == NULL)
		return 1;
	spec.password = pw;
	if (cli_engine(c) == -1) {
		xfree_secret(pw);
		return 1;
	}
	r = admin_user_create(c->engine, &spec, &u, err, sizeof(err));
	xfree_secret(pw);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: user create: %s\n", err);
		return 1;
	}
	cli_print_json(api_user_json(u));
	user_free(u);
	return 0;
}

/*
 * Import users from JSON lines on standard input, one object per line:
 * {"email", "username"?, "password"?, "first_name"?, "last_name"?,
 * "email_verified"?}.  All are stored in one transaction, or none.
 */
int
cli_user_import(struct cli *c)
{
	const char *project = c->args.opt[OPT_PROJECT];
	struct user_spec *specs = NULL;
	json_t **lines = NULL;
	char *line = xmalloc(IMPORT_LINE_MAX + 2);
	char err[512];
	json_error_t je;
	size_t n = 0, i, lineno = 0;
	int rc = 1;

	while (fgets(line, IMPORT_LINE_MAX + 2, stdin) != NULL) {
		json_t *v;

		lineno++;
		if (strlen(line) > IMPORT_LINE_MAX) {
			fprintf(stderr, "resetd: user import: line %zu: longer "
			    "than %d bytes\n", lineno, IMPORT_LINE_MAX);
			goto out;
		}
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (n >= IMPORT_USERS_MAX) {
			fprintf(stderr, "resetd: user import: more than %d "
			    "users\n", IMPORT_USERS_MAX);
			goto out;
		}
		v = json_loads(line, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(v)) {
			fprintf(stderr, "resetd: user import: line %zu: expected "
			    "a JSON object\n", lineno);
			json_decref(v);
			goto out;
		}
		lines = xrealloc(lines, (n + 1) * sizeof(*lines));
		specs = xrealloc(specs, (n + 1) * sizeof(*specs));
		lines[n] = v;
		specs[n] = (struct user_spec){
			.project_id = project,
			.email = json_string_value(json_object_get(v, "email")),
			.username = json_string_value(json_object_get(v,
			    "username")),
			.password = json_string_value(json_object_get(v,
			    "password")),
			.first_name = json_string_value(json_object_get(v,
			    "first_name")),
			.last_name = json_string_value(json_object_get(v,
			    "last_name")),
			.email_verified = json_is_true(json_object_get(v,
			    "email_verified")),
			/* Operators bring their users' passwords as they are. */
			.bounds_only = 1,
		};
		n++;
	}
	if (cli_engine(c) == -1)
		goto out;
	if (admin_user_import(c->engine, specs, n, err, sizeof(err)) !=
	    ENGINE_OK) {
		fprintf(stderr, "resetd: user import: %s\n", err);
		goto out;
	}
	cli_print_json(json_pack("{s:s, s:I}", "project_id", project,
	    "imported", (json_int_t)n));
	rc = 0;
out:
	for (i = 0; i < n; i++)
		json_decref(lines[i]);
	free(lines);
	free(specs);
	xfree_secret(line);
	return rc;
}

int
cli_user_list(struct cli *c)
{
	struct store_list l = { NULL, 0 };
	struct db_conn *conn;
	json_t *a;
	size_t i;
	int rc;

	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	rc = store_user_list(conn, c->args.opt[OPT_PROJECT], &l);
	db_release(c->db, conn);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, api_user_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))user_free);
	if (rc == STORE_OK)
		cli_print_json(a);
	else
		json_decref(a);
	return rc == STORE_OK ? 0 : 1;
}

/*
 * Disable or enable a user, named by id, email or username.  Disabling
 * revokes its sessions and live reset links or codes; see
 * admin_user_set_disabled.
 */
static int
user_set_disabled(struct cli *c, int disabled)
{
	const char *verb = disabled ? "disable" : "enable";
	struct user *u = NULL;
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_user_set_disabled(c->engine, NULL, c->args.opt[OPT_PROJECT],
	    c->args.positional, disabled, &u);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: user %s: %s\n", verb,
		    r == ENGINE_USER_UNKNOWN ? "no such user in the project" :
		    cli_result_text(r));
		return 1;
	}
	cli_print_json(api_user_json(u));
	user_free(u);
	return 0;
}

int
cli_user_disable(struct cli *c)
{
	return user_set_disabled(c, 1);
}

int
cli_user_enable(struct cli *c)
{
	return user_set_disabled(c, 0);
}
