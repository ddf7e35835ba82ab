/*
 * user create, import, list, get, set-password, require-reset, sign-out,
 * disable, enable and delete.  What they read and change is done by the
 * admin operations of core (admin_user_*), the ones Cognito's signed admin
 * calls run too.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		/* A temporary password needs a password. */
		.status = a->opt[OPT_MUST_CHANGE_PASSWORD] != NULL &&
			a->opt[OPT_PASSWORD_STDIN] != NULL ?
		    USER_FORCE_CHANGE_PASSWORD :
		    USER_CONFIRMED,
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
			fprintf(stderr,
			    "resetd: user import: line %zu: longer "
			    "than %d bytes\n",
			    lineno, IMPORT_LINE_MAX);
			goto out;
		}
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (n >= IMPORT_USERS_MAX) {
			fprintf(stderr,
			    "resetd: user import: more than %d "
			    "users\n",
			    IMPORT_USERS_MAX);
			goto out;
		}
		v = json_loads(line, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(v)) {
			fprintf(stderr,
			    "resetd: user import: line %zu: expected "
			    "a JSON object\n",
			    lineno);
			json_decref(v);
			goto out;
		}
		lines = xrealloc(lines, (n + 1) * sizeof(*lines));
		specs = xrealloc(specs, (n + 1) * sizeof(*specs));
		lines[n] = v;
		specs[n] = (struct user_spec){
			.project_id = project,
			.email = json_string_value(json_object_get(v, "email")),
			.username = json_string_value(
			    json_object_get(v, "username")),
			.password = json_string_value(
			    json_object_get(v, "password")),
			.password_hash = json_string_value(
			    json_object_get(v, "password_hash")),
			.first_name = json_string_value(
			    json_object_get(v, "first_name")),
			.last_name = json_string_value(
			    json_object_get(v, "last_name")),
			.email_verified = json_is_true(
			    json_object_get(v, "email_verified")),
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

/*
 * List a project's users, the one listing of core (admin_user_list) that
 * the admin API and Cognito's ListUsers run too: every page in turn, or
 * with --limit one page (after --after, the cursor the page before gave
 * on standard error); filtered by --email or --email-prefix.
 */
int
cli_user_list(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct store_list l = { NULL, 0 };
	struct user_query q;
	enum engine_result r;
	char next[ADMIN_CURSOR_MAX + 1], err[256] = "";
	json_t *out;
	int64_t limit = -1;
	size_t i;

	if (a->opt[OPT_EMAIL] != NULL && a->opt[OPT_EMAIL_PREFIX] != NULL)
		return cli_usage_error("user list: --email or --email-prefix, "
				       "not both");
	if (cli_number("--limit", a->opt[OPT_LIMIT], &limit) != 0)
		return 2;
	if (a->opt[OPT_LIMIT] != NULL && (limit < 1 || limit > ADMIN_PAGE_MAX))
		return cli_usage_error("user list: --limit takes 1 to %d",
		    ADMIN_PAGE_MAX);
	if (a->opt[OPT_AFTER] != NULL && a->opt[OPT_LIMIT] == NULL)
		return cli_usage_error("user list: --after goes with --limit");
	q = (struct user_query){ .project_id = a->opt[OPT_PROJECT],
		.email = a->opt[OPT_EMAIL],
		.cursor = a->opt[OPT_AFTER],
		.limit = limit > 0 ? limit : ADMIN_PAGE_MAX };
	if (a->opt[OPT_EMAIL_PREFIX] != NULL) {
		q.filter = USER_FILTER_EMAIL_PREFIX;
		q.value = a->opt[OPT_EMAIL_PREFIX];
	}
	if (cli_engine(c) == -1)
		return 1;
	out = json_array();
	do {
		r = admin_user_list(c->engine, &q, &l, next, err, sizeof(err));
		for (i = 0; r == ENGINE_OK && i < l.n; i++)
			json_array_append_new(out, api_user_json(l.items[i]));
		store_list_free(&l, (void (*)(void *))user_free);
		l = (struct store_list){ NULL, 0 };
		q.cursor = next;
	} while (r == ENGINE_OK && limit < 0 && next[0] != '\0');
	if (r != ENGINE_OK) {
		json_decref(out);
		fprintf(stderr, "resetd: user list: %s\n",
		    err[0] ? err : cli_result_text(r));
		return 1;
	}
	cli_print_json(out);
	/* One page asked for: where the next one starts, if one follows. */
	if (limit > 0 && next[0] != '\0')
		fprintf(stderr, "resetd: user list: more follow: --after %s\n",
		    next);
	return 0;
}

/* What went wrong with an operation on one user, on standard error. */
static int
user_failed(const char *verb, enum engine_result r,
    const struct password_verdict *v, int64_t retry)
{
	if (v != NULL && v->rule != PW_OK)
		fprintf(stderr, "resetd: user %s: password: %s (%s)\n", verb,
		    v->message, password_rule_name(v->rule));
	else if (r == ENGINE_THROTTLED)
		fprintf(stderr,
		    "resetd: user %s: the account had its resets for "
		    "now; retry in %lld s\n",
		    verb, (long long)retry);
	else
		fprintf(stderr, "resetd: user %s: %s\n", verb,
		    r == ENGINE_USER_UNKNOWN ? "no such user in the project" :
			r == ENGINE_USER_DISABLED ? "the user is disabled" :
						    cli_result_text(r));
	return 1;
}

/* Print the user named on the command line as it is now. */
static int
user_print(struct cli *c, const char *verb)
{
	struct user *u = NULL;
	enum engine_result r;

	r = admin_user_lookup(c->engine, c->args.opt[OPT_PROJECT],
	    c->args.positional, &u);
	if (r != ENGINE_OK)
		return user_failed(verb, r, NULL, 0);
	cli_print_json(api_user_json(u));
	user_free(u);
	return 0;
}

int
cli_user_get(struct cli *c)
{
	if (cli_engine(c) == -1)
		return 1;
	return user_print(c, "get");
}

/*
 * Set a user's password, read from standard input; --must-change-password
 * makes it temporary: the user changes it at its next sign-in
 * (force_change_password).
 */
int
cli_user_set_password(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct password_verdict v;
	struct admin_password in;
	enum engine_result r;
	char *pw;

	pw = cli_read_secret();
	if (pw == NULL)
		return 1;
	if (cli_engine(c) == -1) {
		xfree_secret(pw);
		return 1;
	}
	memset(&v, 0, sizeof(v));
	in = (struct admin_password){ a->opt[OPT_PROJECT], a->positional, pw,
		a->opt[OPT_MUST_CHANGE_PASSWORD] == NULL, NULL, &v };
	r = admin_user_set_password(c->engine, &in, NULL);
	xfree_secret(pw);
	if (r != ENGINE_OK)
		return user_failed("set-password", r, &v, 0);
	return user_print(c, "set-password");
}

/* Mail the user a code and deactivate its password (reset_required). */
int
cli_user_require_reset(struct cli *c)
{
	enum engine_result r;
	int64_t retry = 0;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_user_require_reset(c->engine, NULL, c->args.opt[OPT_PROJECT],
	    c->args.positional, &retry);
	if (r != ENGINE_OK)
		return user_failed("require-reset", r, NULL, retry);
	return user_print(c, "require-reset");
}

int
cli_user_sign_out(struct cli *c)
{
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_user_sign_out(c->engine, NULL, c->args.opt[OPT_PROJECT],
	    c->args.positional);
	if (r != ENGINE_OK)
		return user_failed("sign-out", r, NULL, 0);
	return user_print(c, "sign-out");
}

/*
 * Who runs the CLI, for the audit trail of operators' actions: "cli:" and
 * the login name, as the admin API records "admin_api".
 */
static void
cli_actor(char out[80])
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, 80, "cli:%s", pw != NULL ? pw->pw_name : "unknown");
	if (!admin_actor_valid(out))
		snprintf(out, 80, "cli");
}

/* user reset ID: the admin API's operator reset, a link mailed. */
int
cli_user_reset(struct cli *c)
{
	enum engine_result r;
	char by[80], err[256] = "";

	if (cli_engine(c) == -1)
		return 1;
	cli_actor(by);
	r = admin_user_reset(c->engine, NULL, c->args.positional, by, err,
	    sizeof(err));
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: user reset: %s\n",
		    err[0]			 ? err :
			r == ENGINE_USER_UNKNOWN ? "no such user" :
						   engine_result_name(r));
		return 1;
	}
	cli_print_json(json_pack("{s:s, s:s}", "user_id", c->args.positional,
	    "status", "mailed"));
	return 0;
}

int
cli_user_delete(struct cli *c)
{
	enum engine_result r;
	char by[80];

	if (cli_engine(c) == -1)
		return 1;
	cli_actor(by);
	r = admin_user_delete(c->engine, NULL, c->args.opt[OPT_PROJECT],
	    c->args.positional, by);
	if (r != ENGINE_OK)
		return user_failed("delete", r, NULL, 0);
	cli_print_json(json_pack("{s:s, s:s}", "user_id", c->args.positional,
	    "status", "deleted"));
	return 0;
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
