/*
 * resetd: the command line.  One binary, a table of subcommands; each acts
 * on the configured database and prints JSON on standard output.  Errors go
 * to standard error as one line, and the exit status is 0 on success, 1 on
 * a failure and 2 on a usage error.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "api/api.h"
#include "config.h"
#include "core/engine.h"
#include "core/password.h"
#include "core/serverkey.h"
#include "faces.h"
#include "http/http.h"
#include "log.h"
#include "mail/outbox.h"
#include "mail/template.h"
#include "mail/transport.h"
#include "notify.h"
#include "pages/pages.h"
#include "store/store.h"
#include "version.h"

#define MAX_REPEATED 64
#define PASSWORD_STDIN_MAX 4096
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
#define IMPORT_LINE_MAX (64 * 1024)
#define IMPORT_USERS_MAX 1000000
#define OUTBOX_LIST_DEFAULT 100
#define OUTBOX_LIST_MAX 10000

/* Everything a command needs, opened on demand. */
struct cli {
	const char	*config_path;
	struct config	*cfg;
	struct db	*db;
	struct engine	*engine;
	int		 argc;
	char		**argv;
};

/* command-line options of subcommands */

struct opts {
	const char	*name;
	const char	*callback_urls[MAX_REPEATED + 1];
	int		 ncallback_urls;
	const char	*allowed_origins[MAX_REPEATED + 1];
	int		 nallowed_origins;
	const char	*reset_url;
	const char	*token_ttl;
	const char	*send_reset_emails;
	const char	*delivery;
	const char	*logo_url;
	const char	*accent_color;
	const char	*reset_limit;
	const char	*mail_budget;
	const char	*notice_limit;
	const char	*notice_share;
	const char	*password_min_length;
	const char	*password_min_score;
	const char	*project;
	const char	*email;
	const char	*username;
	const char	*mail_from;
	const char	*mail_from_name;
	const char	*locale;
	const char	*unknown_account_notice;
	const char	*state;
	const char	*limit;
	const char	*to;
	const char	*email_prefix;
	const char	*after;
	int		 temporary;
	int		 all_dead;
	int		 key_stdin;
	int		 password_stdin;
	int		 secret;
	int		 reveal_user_existence;
	int		 demo;
	const char	*positional;
};

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "resetd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(resetd --help lists the commands)\n");
	return 2;
}

/* Parse "--key value" options and at most one positional argument. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int i;
	const char *key, *val;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		key = argv[i];
		if (strncmp(key, "--", 2) != 0) {
			if (o->positional != NULL)
				return usage_error("unexpected argument '%s'", key);
			o->positional = key;
			continue;
		}
		if (strcmp(key, "--password-stdin") == 0) {
			o->password_stdin = 1;
			continue;
		}
		if (strcmp(key, "--demo") == 0) {
			o->demo = 1;
			continue;
		}
		if (strcmp(key, "--secret") == 0) {
			o->secret = 1;
			continue;
		}
		if (strcmp(key, "--reveal-user-existence") == 0) {
			o->reveal_user_existence = 1;
			continue;
		}
		if (strcmp(key, "--all-dead") == 0) {
			o->all_dead = 1;
			continue;
		}
		if (strcmp(key, "--temporary") == 0) {
			o->temporary = 1;
			continue;
		}
		if (strcmp(key, "--key-stdin") == 0) {
			o->key_stdin = 1;
			continue;
		}
		if (i + 1 >= argc)
			return usage_error("%s needs a value", key);
		val = argv[++i];
		if (strcmp(key, "--name") == 0)
			o->name = val;
		else if (strcmp(key, "--callback-url") == 0 &&
		    o->ncallback_urls < MAX_REPEATED)
			o->callback_urls[o->ncallback_urls++] = val;
		else if (strcmp(key, "--allowed-origin") == 0 &&
		    o->nallowed_origins < MAX_REPEATED)
			o->allowed_origins[o->nallowed_origins++] = val;
		else if (strcmp(key, "--reset-url") == 0)
			o->reset_url = val;
		else if (strcmp(key, "--token-ttl") == 0)
			o->token_ttl = val;
		else if (strcmp(key, "--send-reset-emails") == 0)
			o->send_reset_emails = val;
		else if (strcmp(key, "--delivery") == 0)
			o->delivery = val;
		else if (strcmp(key, "--logo-url") == 0)
			o->logo_url = val;
		else if (strcmp(key, "--accent-color") == 0)
			o->accent_color = val;
		else if (strcmp(key, "--reset-limit") == 0)
			o->reset_limit = val;
		else if (strcmp(key, "--mail-budget") == 0)
			o->mail_budget = val;
		else if (strcmp(key, "--notice-limit") == 0)
			o->notice_limit = val;
		else if (strcmp(key, "--notice-share") == 0)
			o->notice_share = val;
		else if (strcmp(key, "--password-min-length") == 0)
			o->password_min_length = val;
		else if (strcmp(key, "--password-min-score") == 0)
			o->password_min_score = val;
		else if (strcmp(key, "--project") == 0)
			o->project = val;
		else if (strcmp(key, "--email") == 0)
			o->email = val;
		else if (strcmp(key, "--username") == 0)
			o->username = val;
		else if (strcmp(key, "--mail-from") == 0)
			o->mail_from = val;
		else if (strcmp(key, "--mail-from-name") == 0)
			o->mail_from_name = val;
		else if (strcmp(key, "--locale") == 0)
			o->locale = val;
		else if (strcmp(key, "--unknown-account-notice") == 0)
			o->unknown_account_notice = val;
		else if (strcmp(key, "--state") == 0)
			o->state = val;
		else if (strcmp(key, "--limit") == 0)
			o->limit = val;
		else if (strcmp(key, "--to") == 0)
			o->to = val;
		else if (strcmp(key, "--email-prefix") == 0)
			o->email_prefix = val;
		else if (strcmp(key, "--after") == 0)
			o->after = val;
		else
			return usage_error("unknown option '%s'", key);
	}
	return 0;
}

/* opening what commands need */

static int
cli_config(struct cli *c)
{
	char err[512];

	if (c->cfg != NULL)
		return 0;
	if (config_load(c->config_path, &c->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "resetd: configuration: %s\n", err);
		return -1;
	}
	if (log_set_level(c->cfg->log_level) == -1)
		return -1;
	return 0;
}

static int
cli_db(struct cli *c)
{
	int64_t pool;

	if (c->db != NULL)
		return 0;
	if (cli_config(c) == -1)
		return -1;
	pool = c->cfg->db_pool_size ? c->cfg->db_pool_size :
	    c->cfg->workers + c->cfg->mail_workers + 1;
	if (db_open(c->cfg->database, (int)pool, &c->db) == -1)
		return -1;
	if (store_migrate(c->db) != 0) {
		fprintf(stderr, "resetd: cannot bring the schema up to date\n");
		return -1;
	}
	return 0;
}

static int
cli_engine(struct cli *c)
{
	if (c->engine != NULL)
		return 0;
	if (cli_db(c) == -1)
		return -1;
	c->engine = engine_new(c->cfg, c->db);
	return c->engine != NULL ? 0 : -1;
}

static void
print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(v);
}

/* project commands */

/*
 * A whole number option into *out; -1 (the default) when absent.  Return
 * 0, or a usage error's status.
 */
static int
number_opt(const char *name, const char *val, int64_t *out)
{
	char *end;
	long long v;

	*out = -1;
	if (val == NULL)
		return 0;
	errno = 0;
	v = strtoll(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < 0) {
		fprintf(stderr, "resetd: %s: expected a whole number, got '%s'\n",
		    name, val);
		return 2;
	}
	*out = v;
	return 0;
}

static int
project_create(struct cli *c, const struct opts *o, struct project **out)
{
	struct project_spec spec;
	char err[256], *end;
	long long ttl = 0;
	int64_t reset_limit, budget, min_length, min_score;
	int64_t notice_limit, notice_share;
	int rc;

	if (o->token_ttl != NULL) {
		errno = 0;
		ttl = strtoll(o->token_ttl, &end, 10);
		if (errno != 0 || *end != '\0' || ttl <= 0)
			return usage_error("--token-ttl: expected seconds, got '%s'",
			    o->token_ttl);
	}
	if (o->send_reset_emails != NULL &&
	    strcmp(o->send_reset_emails, "on") != 0 &&
	    strcmp(o->send_reset_emails, "off") != 0)
		return usage_error("--send-reset-emails: expected on or off, "
		    "got '%s'", o->send_reset_emails);
	if (o->unknown_account_notice != NULL &&
	    strcmp(o->unknown_account_notice, "on") != 0 &&
	    strcmp(o->unknown_account_notice, "off") != 0)
		return usage_error("--unknown-account-notice: expected on or "
		    "off, got '%s'", o->unknown_account_notice);
	rc = number_opt("--reset-limit", o->reset_limit, &reset_limit);
	if (rc == 0)
		rc = number_opt("--mail-budget", o->mail_budget, &budget);
	if (rc == 0)
		rc = number_opt("--notice-limit", o->notice_limit,
		    &notice_limit);
	if (rc == 0)
		rc = number_opt("--notice-share", o->notice_share,
		    &notice_share);
	if (rc == 0)
		rc = number_opt("--password-min-length", o->password_min_length,
		    &min_length);
	if (rc == 0)
		rc = number_opt("--password-min-score", o->password_min_score,
		    &min_score);
	if (rc != 0)
		return rc;
	spec = (struct project_spec){
		.name = o->name,
		.reset_limit_per_hour = reset_limit,
		.mail_budget_per_hour = budget,
		.notice_limit_per_hour = notice_limit,
		.notice_share_percent = notice_share,
		.password_min_length = min_length,
		.password_min_score = min_score,
		.callback_urls = (const char **)o->callback_urls,
		.allowed_origins = (const char **)o->allowed_origins,
		.reset_url = o->reset_url,
		.token_ttl = ttl,
		.reset_emails_off = o->send_reset_emails != NULL &&
		    strcmp(o->send_reset_emails, "off") == 0,
		.delivery = o->delivery,
		.mail_from = o->mail_from,
		.mail_from_name = o->mail_from_name,
		.locale = o->locale,
		.unknown_account_notice = o->unknown_account_notice != NULL &&
		    strcmp(o->unknown_account_notice, "on") == 0,
		.logo_url = o->logo_url,
		.accent_color = o->accent_color,
	};
	if (o->name == NULL)
		return usage_error("project create: %s is required", "--name");
	if (cli_engine(c) == -1)
		return 1;
	if (admin_project_create(c->engine, &spec, out, err, sizeof(err)) !=
	    ENGINE_OK) {
		fprintf(stderr, "resetd: project create: %s\n", err);
		return 1;
	}
	return 0;
}

/* A project as the CLI shows it, with its Cognito user pool id. */
static json_t *
project_json(const struct cli *c, const struct project *p)
{
	json_t *j = api_project_json(p);
	char pool[ENGINE_POOL_ID_MAX + 1];

	if (j != NULL && id_is_uuid(p->id)) {
		engine_user_pool_id(c->cfg->aws_region, p->id, pool);
		json_object_set_new(j, "cognito_user_pool_id",
		    json_string(pool));
	}
	return j;
}

static int
cmd_project(struct cli *c)
{
	struct opts o;
	struct project *p = NULL;
	struct store_list l = { NULL, 0 };
	struct db_conn *conn;
	const char *verb = c->argc > 0 ? c->argv[0] : "";
	json_t *a;
	size_t i;
	int rc;

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (strcmp(verb, "create") == 0) {
		rc = project_create(c, &o, &p);
		if (rc == 0)
			print_json(project_json(c, p));
		project_free(p);
		return rc;
	}
	if (strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0)
		return usage_error("project: expected create, list or show%s", "");
	if (strcmp(verb, "show") == 0 && o.positional == NULL)
		return usage_error("project show: %s is required", "ID");
	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	if (strcmp(verb, "list") == 0) {
		rc = store_project_list(conn, &l);
		a = json_array();
		for (i = 0; i < l.n; i++)
			json_array_append_new(a, project_json(c, l.items[i]));
		store_list_free(&l, (void (*)(void *))project_free);
		if (rc == STORE_OK)
			print_json(a);
		else
			json_decref(a);
	} else {
		rc = store_project_get(conn, o.positional, &p);
		if (rc == STORE_OK)
			print_json(project_json(c, p));
		else if (rc == STORE_NOT_FOUND)
			fprintf(stderr, "resetd: project show: no project %s\n",
			    o.positional);
		project_free(p);
	}
	db_release(c->db, conn);
	return rc == STORE_OK ? 0 : 1;
}

/* What an engine result says to an operator. */
static const char *
result_text(enum engine_result r)
{
	if (r == ENGINE_PROJECT_UNKNOWN)
		return "no such project";
	return engine_result_name(r);
}

/* user commands */

/* Read a password from standard input; a final newline is not part of it. */
static char *
read_password_stdin(void)
{
	char *pw = xmalloc(PASSWORD_STDIN_MAX + 2);
	size_t n;

	n = fread(pw, 1, PASSWORD_STDIN_MAX + 1, stdin);
	if (n > PASSWORD_STDIN_MAX) {
		xfree_secret(pw);
		fprintf(stderr, "resetd: password longer than %d bytes\n",
		    PASSWORD_STDIN_MAX);
		return NULL;
	}
	pw[n] = '\0';
	if (n > 0 && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	return pw;
}

static int
user_create(struct cli *c, const struct opts *o, const char *password,
    struct user **out)
{
	struct user_spec spec = {
		.project_id = o->project,
		.email = o->email,
		.username = o->username,
		.password = password,
		.locale = o->locale,
	};
	char err[256];

	if (o->project == NULL || o->email == NULL)
		return usage_error("user create: %s are required",
		    "--project and --email");
	if (cli_engine(c) == -1)
		return 1;
	if (admin_user_create(c->engine, &spec, out, err, sizeof(err)) !=
	    ENGINE_OK) {
		fprintf(stderr, "resetd: user create: %s\n", err);
		return 1;
	}
	return 0;
}

/*
 * Import users from JSON lines on standard input, one object per line:
 * {"email", "username"?, "password"?, "first_name"?, "last_name"?,
 * "email_verified"?}.  All are stored in one transaction, or none.
 */
static int
user_import(struct cli *c, const struct opts *o)
{
	struct user_spec *specs = NULL;
	json_t **lines = NULL;
	char *line = xmalloc(IMPORT_LINE_MAX + 2);
	char err[512];
	json_error_t je;
	size_t n = 0, i, lineno = 0;
	int rc = 1;

	if (o->project == NULL)
		return usage_error("user import: %s is required", "--project");
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
			.project_id = o->project,
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
	print_json(json_pack("{s:s, s:I}", "project_id", o->project, "imported",
	    (json_int_t)n));
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
 * Disable or enable a user, named by id, email or username.  Disabling
 * revokes its sessions and live reset links or codes; see
 * admin_user_set_disabled.
 */
static int
user_set_disabled(struct cli *c, const struct opts *o, int disabled)
{
	const char *verb = disabled ? "disable" : "enable";
	struct user *u = NULL;
	enum engine_result r;

	if (o->project == NULL || o->positional == NULL)
		return usage_error("user %s: --project and USER (an id, email "
		    "or username) are required", verb);
	if (cli_engine(c) == -1)
		return 1;
	r = admin_user_set_disabled(c->engine, NULL, o->project, o->positional,
	    disabled, &u);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: user %s: %s\n", verb,
		    r == ENGINE_USER_UNKNOWN ? "no such user in the project" :
		    result_text(r));
		return 1;
	}
	print_json(api_user_json(u));
	user_free(u);
	return 0;
}

/* The text of a result of an operation on one user. */
static const char *
user_result_text(enum engine_result r)
{
	if (r == ENGINE_USER_UNKNOWN)
		return "no such user in the project";
	if (r == ENGINE_PROJECT_UNKNOWN)
		return "no such project";
	return result_text(r);
}

/*
 * List a project's users, the operation the Cognito face's ListUsers
 * runs: every page in turn, or with --limit one page after --after.
 */
static int
user_list(struct cli *c, const struct opts *o)
{
	struct store_list l = { NULL, 0 };
	struct user_query q = { USER_FILTER_NONE, NULL, o->after, 0 };
	enum engine_result r = ENGINE_OK;
	json_t *a;
	char *end, last[UUID_STRLEN + 1];
	size_t i;

	if (o->project == NULL)
		return usage_error("user list: %s is required", "--project");
	if (o->email != NULL && o->email_prefix != NULL)
		return usage_error("user list: %s", "--email or --email-prefix, "
		    "not both");
	if (o->email != NULL)
		q = (struct user_query){ USER_FILTER_EMAIL, o->email, o->after,
		    0 };
	else if (o->email_prefix != NULL)
		q = (struct user_query){ USER_FILTER_EMAIL_PREFIX,
		    o->email_prefix, o->after, 0 };
	if (o->after != NULL && !id_is_uuid(o->after))
		return usage_error("user list: --after %s", "takes a user id");
	q.limit = ADMIN_LIST_MAX;
	if (o->limit != NULL) {
		q.limit = strtoll(o->limit, &end, 10);
		if (*o->limit == '\0' || *end != '\0' || q.limit < 1 ||
		    q.limit > ADMIN_LIST_MAX)
			return usage_error("user list: --limit %s",
			    "takes 1 to 1000");
	}
	if (cli_engine(c) == -1)
		return 1;
	a = json_array();
	for (;;) {
		r = admin_user_list(c->engine, o->project, &q, &l);
		if (r != ENGINE_OK)
			break;
		for (i = 0; i < l.n; i++)
			json_array_append_new(a, api_user_json(l.items[i]));
		if (l.n > 0)
			snprintf(last, sizeof(last), "%s",
			    ((struct user *)l.items[l.n - 1])->id);
		i = l.n;
		store_list_free(&l, (void (*)(void *))user_free);
		if (o->limit != NULL || i < (size_t)q.limit)
			break;
		q.after_id = last;
	}
	if (r != ENGINE_OK) {
		json_decref(a);
		fprintf(stderr, "resetd: user list: %s\n", result_text(r));
		return 1;
	}
	print_json(a);
	return 0;
}

/*
 * The operations on one user named by --project and USER: get, delete,
 * sign-out, require-reset and set-password (the password from standard
 * input; --temporary makes the user change it at its next sign-in).
 */
static int
user_op(struct cli *c, const struct opts *o, const char *verb)
{
	struct user *u = NULL;
	struct password_verdict v;
	struct admin_password in;
	enum engine_result r;
	int64_t retry = 0;
	char *pw = NULL;

	if (o->project == NULL || o->positional == NULL)
		return usage_error("user %s: --project and USER (an id, email "
		    "or username) are required", verb);
	if (strcmp(verb, "set-password") == 0 && !o->password_stdin)
		return usage_error("user set-password: %s is required",
		    "--password-stdin");
	if (o->password_stdin && (pw = read_password_stdin()) == NULL)
		return 1;
	if (cli_engine(c) == -1) {
		xfree_secret(pw);
		return 1;
	}
	memset(&v, 0, sizeof(v));
	if (strcmp(verb, "get") == 0)
		r = admin_user_lookup(c->engine, o->project, o->positional, &u);
	else if (strcmp(verb, "delete") == 0)
		r = admin_user_delete(c->engine, NULL, o->project,
		    o->positional);
	else if (strcmp(verb, "sign-out") == 0)
		r = admin_user_sign_out(c->engine, NULL, o->project,
		    o->positional);
	else if (strcmp(verb, "require-reset") == 0)
		r = admin_user_require_reset(c->engine, NULL, o->project,
		    o->positional, &retry);
	else {
		in = (struct admin_password){ o->project, o->positional, pw,
		    !o->temporary, NULL, &v };
		r = admin_user_set_password(c->engine, &in, &u);
	}
	xfree_secret(pw);
	if (r != ENGINE_OK) {
		if (v.rule != PW_OK)
			fprintf(stderr, "resetd: user %s: password: %s (%s)\n",
			    verb, v.message, password_rule_name(v.rule));
		else if (r == ENGINE_THROTTLED)
			fprintf(stderr, "resetd: user %s: the account had its "
			    "resets for now; retry in %lld s\n", verb,
			    (long long)retry);
		else
			fprintf(stderr, "resetd: user %s: %s\n", verb,
			    r == ENGINE_USER_DISABLED ? "the user is disabled" :
			    user_result_text(r));
		return 1;
	}
	if (u == NULL)
		r = admin_user_lookup(c->engine, o->project, o->positional, &u);
	if (r == ENGINE_OK)
		print_json(api_user_json(u));
	else
		print_json(json_pack("{s:s, s:b}", "user", o->positional,
		    "deleted", 1));
	user_free(u);
	return 0;
}

static int
cmd_user(struct cli *c)
{
	struct opts o;
	struct user *u = NULL;
	const char *verb = c->argc > 0 ? c->argv[0] : "";
	char *pw = NULL;
	int rc;

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (strcmp(verb, "create") == 0) {
		if (o.password_stdin && (pw = read_password_stdin()) == NULL)
			return 1;
		rc = user_create(c, &o, pw, &u);
		xfree_secret(pw);
		if (rc == 0)
			print_json(api_user_json(u));
		user_free(u);
		return rc;
	}
	if (strcmp(verb, "import") == 0)
		return user_import(c, &o);
	if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0)
		return user_set_disabled(c, &o, strcmp(verb, "disable") == 0);
	if (strcmp(verb, "list") == 0)
		return user_list(c, &o);
	if (strcmp(verb, "get") == 0 || strcmp(verb, "delete") == 0 ||
	    strcmp(verb, "sign-out") == 0 || strcmp(verb, "require-reset") == 0 ||
	    strcmp(verb, "set-password") == 0)
		return user_op(c, &o, verb);
	return usage_error("user: expected create, import, list, get, "
	    "set-password, require-reset, sign-out, disable, enable or "
	    "delete%s", "");
}

/* credentials */

/* An API key as the CLI shows it: never its hash. */
static json_t *
api_key_json(const struct api_key *k)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o}",
	    "id", k->id,
	    "project_id", k->project_id,
	    "aws_access_key_id", api_string_or_null(k->access_key_id),
	    "created_at", api_time(k->created_at),
	    "revoked_at", k->revoked_at ? api_time(k->revoked_at) : json_null());
}

static int
apikey_list(struct cli *c, const struct opts *o)
{
	struct store_list l = { NULL, 0 };
	struct db_conn *conn;
	json_t *a;
	size_t i;
	int rc;

	if (o->project == NULL)
		return usage_error("apikey list: %s is required", "--project");
	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	rc = store_api_key_list(conn, o->project, &l);
	db_release(c->db, conn);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, api_key_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))api_key_free);
	if (rc == STORE_OK)
		print_json(a);
	else
		json_decref(a);
	return rc == STORE_OK ? 0 : 1;
}

/*
 * Revoke a key named by its id, or by the key itself read from standard
 * input (--key-stdin), so that it never shows in a process list.
 */
static int
apikey_revoke(struct cli *c, const struct opts *o)
{
	struct api_key *k = NULL;
	enum engine_result r;
	char *key = NULL;

	if ((o->positional == NULL) == !o->key_stdin)
		return usage_error("apikey revoke: %s", "expected ID or "
		    "--key-stdin");
	if (o->key_stdin && (key = read_password_stdin()) == NULL)
		return 1;
	if (cli_engine(c) == -1) {
		xfree_secret(key);
		return 1;
	}
	r = admin_api_key_revoke(c->engine, NULL, key ? key : o->positional,
	    &k);
	xfree_secret(key);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: apikey revoke: %s\n",
		    r == ENGINE_CREDENTIALS_INVALID ? "no such API key" :
		    result_text(r));
		return 1;
	}
	print_json(api_key_json(k));
	api_key_free(k);
	return 0;
}

static int
cmd_apikey(struct cli *c)
{
	struct opts o;
	enum engine_result r;
	const char *verb = c->argc > 0 ? c->argv[0] : "";
	struct aws_credentials aws;
	char id[UUID_STRLEN + 1], pool[ENGINE_POOL_ID_MAX + 1];
	char *key = NULL;

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (strcmp(verb, "list") == 0)
		return apikey_list(c, &o);
	if (strcmp(verb, "revoke") == 0)
		return apikey_revoke(c, &o);
	if (strcmp(verb, "create") != 0)
		return usage_error("apikey: expected create, list or revoke%s",
		    "");
	if (o.project == NULL)
		return usage_error("apikey create: %s is required", "--project");
	if (cli_engine(c) == -1)
		return 1;
	r = admin_api_key_create(c->engine, o.project, &key, id, &aws);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: apikey create: %s\n", result_text(r));
		return 1;
	}
	/* The project exists (the key was made): its id is a UUID. */
	engine_user_pool_id(c->cfg->aws_region, o.project, pool);
	print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id,
	    "project_id", o.project, "key", key,
	    "aws_access_key_id", aws.access_key_id,
	    "aws_secret_access_key", aws.secret_access_key,
	    "aws_region", c->cfg->aws_region,
	    "cognito_user_pool_id", pool));
	xfree_secret(key);
	aws_credentials_clear(&aws);
	return 0;
}

/* Give a client a new secret, printed once; the old one stops working. */
static int
client_rotate_secret(struct cli *c, const struct opts *o)
{
	struct app_client cl;
	enum engine_result r;

	if (o->positional == NULL)
		return usage_error("client rotate-secret: %s is required",
		    "CLIENT_ID");
	if (cli_engine(c) == -1)
		return 1;
	r = admin_client_rotate_secret(c->engine, NULL, o->positional, &cl);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: client rotate-secret: %s\n",
		    r == ENGINE_CREDENTIALS_INVALID ? "no such client" :
		    r == ENGINE_CONFLICT ? "the client has no secret (make a "
		    "client with --secret instead)" : result_text(r));
		return 1;
	}
	print_json(json_pack("{s:s, s:s, s:s}", "project_id", cl.project_id,
	    "client_id", cl.id, "client_secret", cl.secret));
	app_client_clear(&cl);
	return 0;
}

static int
cmd_client(struct cli *c)
{
	struct opts o;
	struct app_client cl;
	enum engine_result r;
	json_t *v;

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (c->argc > 0 && strcmp(c->argv[0], "rotate-secret") == 0)
		return client_rotate_secret(c, &o);
	if (c->argc < 1 || strcmp(c->argv[0], "create") != 0)
		return usage_error("client: expected create or rotate-secret%s",
		    "");
	if (o.project == NULL)
		return usage_error("client create: %s is required", "--project");
	if (cli_engine(c) == -1)
		return 1;
	r = admin_client_create(c->engine, o.project, o.secret,
	    o.reveal_user_existence, &cl);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: client create: %s\n", result_text(r));
		return 1;
	}
	v = json_pack("{s:s, s:s, s:b}", "project_id", cl.project_id,
	    "client_id", cl.id, "prevent_user_existence_errors",
	    cl.prevent_user_existence_errors);
	if (cl.secret != NULL)
		json_object_set_new(v, "client_secret", json_string(cl.secret));
	print_json(v);
	app_client_clear(&cl);
	return 0;
}

/* outbox and mail */

static const char *const outbox_states[] = {
	"pending", "sent", "dead", "dropped", NULL,
};

static int
outbox_list(struct cli *c, const struct opts *o)
{
	struct store_list l = { NULL, 0 };
	struct db_conn *conn;
	const char *const *st;
	long long limit = OUTBOX_LIST_DEFAULT;
	char *end;
	json_t *a;
	size_t i;
	int rc;

	if (o->state != NULL) {
		for (st = outbox_states; *st != NULL; st++)
			if (strcmp(*st, o->state) == 0)
				break;
		if (*st == NULL)
			return usage_error("outbox list --state: expected "
			    "pending, sent, dead or dropped, got '%s'", o->state);
	}
	if (o->limit != NULL) {
		errno = 0;
		limit = strtoll(o->limit, &end, 10);
		if (errno != 0 || *end != '\0' || limit < 1 ||
		    limit > OUTBOX_LIST_MAX)
			return usage_error("outbox list --limit: expected 1 to "
			    "10000, got '%s'", o->limit);
	}
	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	rc = store_outbox_list(conn, o->state, (int)limit, &l);
	db_release(c->db, conn);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, api_outbox_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
	if (rc == STORE_OK)
		print_json(a);
	else
		json_decref(a);
	return rc == STORE_OK ? 0 : 1;
}

/*
 * Make dead messages pending again.  The running senders pick them up at
 * their next poll (mail_poll_ms).
 */
static int
outbox_retry(struct cli *c, const struct opts *o)
{
	struct db_conn *conn;
	struct outbox_msg *m = NULL;
	int n;

	if ((o->positional == NULL) == !o->all_dead)
		return usage_error("outbox retry: %s", "expected ID or "
		    "--all-dead");
	if (o->positional != NULL && !id_is_uuid(o->positional))
		return usage_error("outbox retry: '%s' is not a message id",
		    o->positional);
	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	n = store_outbox_retry(conn, o->positional, db_now(c->db));
	if (n >= 0 && o->positional != NULL && n == 0 &&
	    store_outbox_get(conn, o->positional, &m) == STORE_NOT_FOUND)
		fprintf(stderr, "resetd: outbox retry: no message %s\n",
		    o->positional);
	else if (n == 0 && o->positional != NULL && m != NULL)
		fprintf(stderr, "resetd: outbox retry: message %s is %s, not "
		    "dead\n", o->positional, m->state);
	db_release(c->db, conn);
	outbox_msg_free(m);
	if (n < 0 || (n == 0 && o->positional != NULL))
		return 1;
	if (o->positional != NULL)
		print_json(json_pack("{s:s, s:s}", "id", o->positional, "state",
		    "pending"));
	else
		print_json(json_pack("{s:I}", "retried", (json_int_t)n));
	return 0;
}

static int
cmd_outbox(struct cli *c)
{
	struct opts o;
	const char *verb = c->argc > 0 ? c->argv[0] : "";

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (strcmp(verb, "list") == 0)
		return outbox_list(c, &o);
	if (strcmp(verb, "retry") == 0)
		return outbox_retry(c, &o);
	return usage_error("outbox: expected list or retry%s", "");
}

/*
 * Send a test message through the configured transport now, from the
 * project's sender when --project is given, and print what the server said.
 */
static int
cmd_mail(struct cli *c)
{
	struct opts o;
	struct project *p = NULL;
	struct db_conn *conn;
	const char *from, *name;
	char reply[TRANSPORT_REPLY_MAX];
	int rc;

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (c->argc < 1 || strcmp(c->argv[0], "test") != 0)
		return usage_error("mail: expected test%s", "");
	if (o.to == NULL)
		return usage_error("mail test: %s is required", "--to");
	if (cli_config(c) == -1)
		return 1;
	from = c->cfg->mail_from;
	name = c->cfg->mail_from_name;
	if (o.project != NULL) {
		if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
			return 1;
		rc = store_project_get(conn, o.project, &p);
		db_release(c->db, conn);
		if (rc != STORE_OK) {
			fprintf(stderr, "resetd: mail test: no project %s\n",
			    o.project);
			return 1;
		}
		if (p->mail_from != NULL)
			from = p->mail_from;
		if (p->mail_from_name != NULL)
			name = p->mail_from_name;
	}
	rc = mailer_send_test(c->cfg, o.to, from, name, reply, sizeof(reply));
	print_json(json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "sent", rc == 0,
	    "transport", transport_name(c->cfg->mail), "from", from, "to", o.to,
	    rc == 0 ? "reply" : "error", reply, "failure", rc == 0 ? "none" :
	    rc == TRANSPORT_PERMANENT ? "permanent" : "temporary"));
	project_free(p);
	return rc == 0 ? 0 : 1;
}

/* audit */

static json_t *
audit_json(const struct audit_event *a)
{
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o}",
	    "id", a->id,
	    "project_id", api_string_or_null(a->project_id),
	    "created_at", api_time(a->created_at),
	    "event", a->event,
	    "client_ip", api_string_or_null(a->client_ip),
	    "user_agent", api_string_or_null(a->user_agent),
	    "subject", api_string_or_null(a->subject),
	    "detail", api_string_or_null(a->detail));
}

static int
cmd_audit(struct cli *c)
{
	struct opts o;
	struct store_list l = { NULL, 0 };
	struct db_conn *conn;
	int64_t limit;
	json_t *a;
	size_t i;
	int rc;

	if (parse_opts(c->argc - 1, c->argv + 1, &o) != 0)
		return 2;
	if (c->argc < 1 || strcmp(c->argv[0], "list") != 0)
		return usage_error("audit: expected list%s", "");
	if (number_opt("--limit", o.limit, &limit) != 0)
		return 2;
	if (limit < 0)
		limit = 100;
	if (limit > 100000)
		limit = 100000;
	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	rc = store_audit_list(conn, o.project, (int)limit, &l);
	db_release(c->db, conn);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, audit_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))audit_event_free);
	if (rc == STORE_OK)
		print_json(a);
	else
		json_decref(a);
	return rc == STORE_OK ? 0 : 1;
}

/* serve */

/*
 * On a first start with no project, make a demo project and user, and say
 * how to walk through the flow.
 */
static int
demo_setup(struct cli *c)
{
	struct opts o;
	struct project *p = NULL;
	struct user *u = NULL;
	struct db_conn *conn;
	int64_t count = 0;
	char *cb;
	int rc;

	conn = db_acquire(c->db);
	if (conn == NULL)
		return -1;
	rc = store_project_count(conn, &count);
	db_release(c->db, conn);
	if (rc != STORE_OK)
		return -1;
	if (count > 0)
		return 0;
	memset(&o, 0, sizeof(o));
	cb = xasprintf("%s/demo/signed-in", c->cfg->public_url);
	o.name = "Demo";
	o.callback_urls[0] = cb;
	if (project_create(c, &o, &p) != 0) {
		free(cb);
		return -1;
	}
	free(cb);
	o.project = p->id;
	o.email = "demo@example.com";
	o.username = "demo";
	rc = user_create(c, &o, "demo-password-1", &u) == 0 ? 0 : -1;
	if (rc == 0)
		printf("\nresetd: created a demo project and user.\n\n"
		    "  project id: %s\n"
		    "  user:       demo@example.com, password demo-password-1\n\n"
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
		    p->id, c->cfg->public_url, p->id,
		    str_has_prefix(c->cfg->mail, "maildir:") ?
		    c->cfg->mail + 8 : c->cfg->mail,
		    c->cfg->public_url, p->id, u->id, c->cfg->public_url, p->id);
	fflush(stdout);
	project_free(p);
	user_free(u);
	return rc;
}

#define SWEEP_BATCH 5000
#define SWEEP_MAX_MS 2000
#define SWEEP_EVERY_MS 10000

/*
 * Delete rows nothing needs any more (store_purge), in batches, for at
 * most SWEEP_MAX_MS at a time so the writer is never held long.
 */
static void
janitor_sweep(struct db *db)
{
	int64_t until = time_mono_ms() + SWEEP_MAX_MS, total = 0, n;

	do {
		n = 0;
		if (store_purge(db, db_now(db) - 60000, SWEEP_BATCH, &n) != 0)
			break;
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
			    "stopping them", open, (long long)(graceful - start));
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

/*
 * Between signals, the main thread sweeps what nothing needs every
 * SWEEP_EVERY_MS and, when the service manager asked for a watchdog, tells
 * it twice per interval that the process lives.  Return the stop signal.
 */
static int
serve_wait(struct cli *c, const sigset_t *sigs)
{
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
			janitor_sweep(c->db);
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
			return sig;
	}
}

static int
cmd_serve(struct cli *c)
{
	struct opts o;
	struct mailer *ml = NULL;
	struct http_server *srv = NULL;
	struct http_app app;
	struct template_set *ts = NULL;
	char err[512];
	sigset_t sigs;
	int64_t deadline = 0;
	int sig = 0, rc = 1;

	if (parse_opts(c->argc, c->argv, &o) != 0)
		return 2;
	if (notify_open() == -1)
		log_warn("the service manager will not hear from resetd");
	/* Block the stop signals before any thread starts; main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
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
	if (o.demo && demo_setup(c) == -1)
		goto out;
	ml = mailer_start(c->cfg, c->db, ts, engine_outbox_key(c->engine));
	if (ml == NULL)
		goto out;
	engine_set_mail_waker(c->engine, mailer_wake, ml);
	pages_load();
	/* The server knows the engine only as its application and hooks. */
	app = (struct http_app){
		.app = c->engine,
		.throttle = engine_throttle_hook,
		.wake = engine_wake_hook,
	};
	srv = http_server_start(c->cfg, resetd_faces, &app);
	if (srv == NULL)
		goto out;
	log_info("resetd %s serving on %s (database %s)", RESETD_VERSION,
	    c->cfg->listen, db_dialect(c->db));
	snprintf(err, sizeof(err), "serving on %s", c->cfg->listen);
	notify_ready(err);
	sig = serve_wait(c, &sigs);
	log_info("received %s, finishing requests in flight",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping("finishing requests in flight");
	serve_drain(srv, &sigs, &deadline);
	rc = 0;
out:
	if (http_server_stop(srv, deadline) == -1) {
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

/* the other commands */

/*
 * Measure Argon2id hashes per second at the configured parameters, with
 * hash_concurrency threads (or --threads N), for --seconds S (default 5).
 */
static int
cmd_bench_hash(struct cli *c)
{
	struct hasher *h;
	long threads = 0, seconds = 5;
	int64_t n;
	int i;

	for (i = 0; i < c->argc; i++) {
		if (i + 1 < c->argc && strcmp(c->argv[i], "--threads") == 0)
			threads = strtol(c->argv[++i], NULL, 10);
		else if (i + 1 < c->argc && strcmp(c->argv[i], "--seconds") == 0)
			seconds = strtol(c->argv[++i], NULL, 10);
		else
			return usage_error("bench-hash: unexpected '%s'",
			    c->argv[i]);
	}
	if (cli_config(c) == -1)
		return 1;
	if (threads <= 0)
		threads = c->cfg->hash_concurrency > 0 ?
		    c->cfg->hash_concurrency : sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1 || threads > 1024 || seconds < 1 || seconds > 600)
		return usage_error("bench-hash: %s", "threads 1-1024, seconds 1-600");
	h = hasher_new((uint64_t)c->cfg->argon2_opslimit,
	    (size_t)c->cfg->argon2_memory_kib, (int)threads);
	if (h == NULL)
		return 1;
	n = hasher_bench(h, (int)threads, seconds * 1000);
	hasher_free(h);
	if (n < 0)
		return 1;
	print_json(json_pack("{s:I, s:I, s:i, s:i, s:I, s:f}",
	    "argon2_memory_kib", (json_int_t)c->cfg->argon2_memory_kib,
	    "argon2_opslimit", (json_int_t)c->cfg->argon2_opslimit,
	    "threads", (int)threads, "seconds", (int)seconds,
	    "hashes", (json_int_t)n, "per_second", (double)n / (double)seconds));
	return 0;
}

static int
cmd_migrate(struct cli *c)
{
	if (cli_db(c) == -1)
		return 1;
	print_json(json_pack("{s:s}", "status", "migrated"));
	return 0;
}

static int
cmd_check_config(struct cli *c)
{
	struct template_set *ts = NULL;
	char err[512];

	if (cli_config(c) == -1)
		return 1;
	if (template_set_open(c->cfg->templates_dir, &ts, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "resetd: configuration: %s\n", err);
		return 1;
	}
	template_set_free(ts);
	if (serverkey_describe(c->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "resetd: configuration: %s\n", err);
		return 1;
	}
	config_print(c->cfg, stdout);
	fprintf(stderr, "%s\n", err);
	fprintf(stderr, "configuration OK\n");
	return 0;
}

static int cmd_help(struct cli *);

static int
cmd_version(struct cli *c)
{
	(void)c;
	version_print(stdout);
	return 0;
}

static const struct command {
	const char	*name;
	int		(*fn)(struct cli *);
	const char	*usage;
} commands[] = {
	{ "serve", cmd_serve, "serve [--demo]" },
	{ "migrate", cmd_migrate, "migrate" },
	{ "check-config", cmd_check_config, "check-config" },
	{ "project", cmd_project,
	    "project create --name NAME [--callback-url URL]... "
	    "[--allowed-origin ORIGIN]...\n"
	    "                        [--reset-url URL] [--token-ttl SECONDS]\n"
	    "                        [--send-reset-emails on|off] [--delivery link|code]\n"
	    "                        [--mail-from ADDRESS] [--mail-from-name NAME]\n"
	    "                        [--locale xx[_YY]] [--unknown-account-notice on|off]\n"
	    "                        [--logo-url URL] [--accent-color #RRGGBB]\n"
	    "                        [--reset-limit N] [--mail-budget N]\n"
	    "                        [--notice-limit N] [--notice-share PERCENT]\n"
	    "                        [--password-min-length N] [--password-min-score 0-4]\n"
	    "  resetd project list\n"
	    "  resetd project show ID" },
	{ "user", cmd_user,
	    "user create --project ID --email EMAIL [--username NAME] "
	    "[--locale xx[_YY]]\n"
	    "                     [--password-stdin]\n"
	    "  resetd user import --project ID < users.jsonl\n"
	    "  resetd user list --project ID [--email EMAIL | --email-prefix P]"
	    "\n                     [--limit N [--after USER_ID]]\n"
	    "  resetd user get|delete|sign-out|require-reset --project ID USER\n"
	    "  resetd user set-password --project ID USER --password-stdin "
	    "[--temporary]\n"
	    "  resetd user disable|enable --project ID USER" },
	{ "apikey", cmd_apikey, "apikey create --project ID\n"
	    "  resetd apikey list --project ID\n"
	    "  resetd apikey revoke ID|--key-stdin" },
	{ "client", cmd_client, "client create --project ID [--secret] "
	    "[--reveal-user-existence]\n"
	    "  resetd client rotate-secret CLIENT_ID" },
	{ "bench-hash", cmd_bench_hash, "bench-hash [--threads N] [--seconds S]" },
	{ "outbox", cmd_outbox,
	    "outbox list [--state pending|sent|dead|dropped] [--limit N]\n"
	    "  resetd outbox retry ID|--all-dead" },
	{ "mail", cmd_mail, "mail test --to ADDRESS [--project ID]" },
	{ "audit", cmd_audit, "audit list [--project ID] [--limit N]" },
	{ "version", cmd_version, "version" },
	{ "help", cmd_help, "help" },
	{ NULL, NULL, NULL },
};

static int
cmd_help(struct cli *c)
{
	const struct command *cmd;

	(void)c;
	printf("resetd %s: a self-hosted password-reset service\n\n"
	    "usage: resetd [--config FILE] COMMAND [ARGS]\n\n", RESETD_VERSION);
	for (cmd = commands; cmd->name != NULL; cmd++)
		printf("  resetd %s\n", cmd->usage);
	printf("\nConfiguration, lowest to highest precedence: built-in defaults,\n"
	    "the config file (--config FILE or RESETD_CONFIG), environment:\n\n");
	config_usage(stdout);
	printf("\nEvery command prints JSON; see resetd(8) and resetd.conf(5).\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct cli c;
	const struct command *cmd;
	int i = 1, rc;

	memset(&c, 0, sizeof(c));
	/*
	 * Each Argon2id hash allocates its whole memory cost at once.  glibc
	 * would raise its mmap threshold after the first free and keep later
	 * regions in per-thread arenas, so memory would grow with the number
	 * of threads that ever hashed.  A fixed threshold maps every large
	 * region and gives it back on free: memory stays bounded by
	 * hash_concurrency times the memory cost.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, 4);
	/*
	 * Everything resetd creates (the database and its WAL, the key file,
	 * mail in a Maildir, folders above them) is for its own user alone.
	 */
	umask(077);
	if (sodium_init() < 0) {
		fprintf(stderr, "resetd: cannot initialise libsodium\n");
		return 1;
	}
	if (i < argc && strcmp(argv[i], "--config") == 0) {
		if (i + 1 >= argc)
			return usage_error("%s needs a value", "--config");
		c.config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage_error("%s", "a command is required");
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		return cmd_help(&c);
	if (strcmp(argv[i], "--version") == 0)
		return cmd_version(&c);
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[i]) == 0)
			break;
	if (cmd->name == NULL)
		return usage_error("unknown command '%s'", argv[i]);
	c.argc = argc - i - 1;
	c.argv = argv + i + 1;
	rc = cmd->fn(&c);
	engine_free(c.engine);
	db_close(c.db);
	config_free(c.cfg);
	return rc;
}
