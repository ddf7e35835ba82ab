/*
 * What the commands share: the table of options, the check of a command's
 * arguments against its row, and opening the configuration, database and
 * engine on demand.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "core/engine.h"
#include "log.h"
#include "store/store.h"
#include "util/util.h"

#define SECRET_STDIN_MAX 4096

const struct cli_option cli_options[OPT__MAX] = {
	{ "--accent-color", CLI_VALUE }, /* OPT_ACCENT_COLOR */
	{ "--after", CLI_VALUE },	 /* OPT_AFTER */
	{ "--all-dead", CLI_FLAG },	 /* OPT_ALL_DEAD */
	{ "--allow-private-targets",
	    CLI_VALUE },			 /* OPT_ALLOW_PRIVATE_TARGETS */
	{ "--allowed-origin", CLI_REPEAT },	 /* OPT_ALLOWED_ORIGIN */
	{ "--callback-url", CLI_REPEAT },	 /* OPT_CALLBACK_URL */
	{ "--delivery", CLI_VALUE },		 /* OPT_DELIVERY */
	{ "--demo", CLI_FLAG },			 /* OPT_DEMO */
	{ "--email", CLI_VALUE },		 /* OPT_EMAIL */
	{ "--email-prefix", CLI_VALUE },	 /* OPT_EMAIL_PREFIX */
	{ "--events", CLI_REPEAT },		 /* OPT_EVENTS */
	{ "--key-stdin", CLI_FLAG },		 /* OPT_KEY_STDIN */
	{ "--limit", CLI_VALUE },		 /* OPT_LIMIT */
	{ "--locale", CLI_VALUE },		 /* OPT_LOCALE */
	{ "--login-token-ttl", CLI_VALUE },	 /* OPT_LOGIN_TOKEN_TTL */
	{ "--logo-url", CLI_VALUE },		 /* OPT_LOGO_URL */
	{ "--mail-budget", CLI_VALUE },		 /* OPT_MAIL_BUDGET */
	{ "--mail-from", CLI_VALUE },		 /* OPT_MAIL_FROM */
	{ "--mail-from-name", CLI_VALUE },	 /* OPT_MAIL_FROM_NAME */
	{ "--must-change-password", CLI_FLAG },	 /* OPT_MUST_CHANGE_PASSWORD */
	{ "--name", CLI_VALUE },		 /* OPT_NAME */
	{ "--notice-limit", CLI_VALUE },	 /* OPT_NOTICE_LIMIT */
	{ "--notice-share", CLI_VALUE },	 /* OPT_NOTICE_SHARE */
	{ "--password-lists", CLI_VALUE },	 /* OPT_PASSWORD_LISTS */
	{ "--password-min-length", CLI_VALUE },	 /* OPT_PASSWORD_MIN_LENGTH */
	{ "--password-min-score", CLI_VALUE },	 /* OPT_PASSWORD_MIN_SCORE */
	{ "--password-policy", CLI_VALUE },	 /* OPT_PASSWORD_POLICY */
	{ "--password-require", CLI_VALUE },	 /* OPT_PASSWORD_REQUIRE */
	{ "--password-score", CLI_VALUE },	 /* OPT_PASSWORD_SCORE */
	{ "--password-stdin", CLI_FLAG },	 /* OPT_PASSWORD_STDIN */
	{ "--project", CLI_VALUE },		 /* OPT_PROJECT */
	{ "--reset-limit", CLI_VALUE },		 /* OPT_RESET_LIMIT */
	{ "--reset-url", CLI_VALUE },		 /* OPT_RESET_URL */
	{ "--reveal-user-existence", CLI_FLAG }, /* OPT_REVEAL_USER_EXISTENCE */
	{ "--rotate", CLI_FLAG },		 /* OPT_ROTATE */
	{ "--seconds", CLI_VALUE },		 /* OPT_SECONDS */
	{ "--secret", CLI_FLAG },		 /* OPT_SECRET */
	{ "--send-reset-emails", CLI_VALUE },	 /* OPT_SEND_RESET_EMAILS */
	{ "--state", CLI_VALUE },		 /* OPT_STATE */
	{ "--storage-lookup-url", CLI_VALUE },	 /* OPT_STORAGE_LOOKUP_URL */
	{ "--storage-new-user-url", CLI_VALUE }, /* OPT_STORAGE_NEW_USER_URL */
	{ "--storage-password-format",
	    CLI_VALUE }, /* OPT_STORAGE_PASSWORD_FORMAT */
	{ "--storage-password-url", CLI_VALUE }, /* OPT_STORAGE_PASSWORD_URL */
	{ "--storage-timeout-ms", CLI_VALUE },	 /* OPT_STORAGE_TIMEOUT_MS */
	{ "--storage-verify-url", CLI_VALUE },	 /* OPT_STORAGE_VERIFY_URL */
	{ "--threads", CLI_VALUE },		 /* OPT_THREADS */
	{ "--to", CLI_VALUE },			 /* OPT_TO */
	{ "--token-ttl", CLI_VALUE },		 /* OPT_TOKEN_TTL */
	{ "--unknown-account-notice",
	    CLI_VALUE },		 /* OPT_UNKNOWN_ACCOUNT_NOTICE */
	{ "--url", CLI_VALUE },		 /* OPT_URL */
	{ "--user-storage", CLI_VALUE }, /* OPT_USER_STORAGE */
	{ "--username", CLI_VALUE },	 /* OPT_USERNAME */
};

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "resetd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(resetd --help lists the commands)\n");
	return 2;
}

/* The command's name as an operator typed it: "project create". */
static void
command_name(const struct cli_command *cmd, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s%s", cmd->name, cmd->verb ? " " : "",
	    cmd->verb ? cmd->verb : "");
}

/* The option named s (with its "--"), or OPT__MAX. */
static enum cli_opt
option_find(const char *s)
{
	int i;

	for (i = 0; i < OPT__MAX; i++)
		if (strcmp(cli_options[i].name, s) == 0)
			return (enum cli_opt)i;
	return OPT__MAX;
}

/* The row of takes for opt, or NULL when cmd does not take it. */
static const struct cli_takes *
command_takes(const struct cli_command *cmd, enum cli_opt opt)
{
	const struct cli_takes *t;

	for (t = cmd->takes; t != NULL && t->opt != OPT__MAX; t++)
		if (t->opt == opt)
			return t;
	return NULL;
}

int
cli_parse(const struct cli_command *cmd, int argc, char **argv,
    struct cli_args *a)
{
	const struct cli_takes *t;
	enum cli_opt opt;
	char name[64];
	int i;

	memset(a, 0, sizeof(*a));
	command_name(cmd, name, sizeof(name));
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			if (cmd->positional == NULL)
				return cli_usage_error(
				    "%s: unexpected argument "
				    "'%s'",
				    name, argv[i]);
			if (a->positional != NULL)
				return cli_usage_error(
				    "%s: unexpected argument "
				    "'%s' (%s is '%s')",
				    name, argv[i], cmd->positional,
				    a->positional);
			a->positional = argv[i];
			continue;
		}
		opt = option_find(argv[i]);
		if (opt == OPT__MAX)
			return cli_usage_error("%s: unknown option '%s'", name,
			    argv[i]);
		if (command_takes(cmd, opt) == NULL)
			return cli_usage_error("%s does not take '%s'", name,
			    argv[i]);
		switch (cli_options[opt].kind) {
		case CLI_FLAG:
			a->opt[opt] = "";
			continue;
		case CLI_VALUE:
		case CLI_REPEAT:
			break;
		default:
			abort();
		}
		if (i + 1 >= argc)
			return cli_usage_error("%s needs a value", argv[i]);
		a->opt[opt] = argv[++i];
		if (cli_options[opt].kind != CLI_REPEAT)
			continue;
		if (a->nlist[opt] >= CLI_REPEAT_MAX)
			return cli_usage_error("%s: at most %d times",
			    cli_options[opt].name, CLI_REPEAT_MAX);
		a->list[opt][a->nlist[opt]++] = argv[i];
	}
	for (t = cmd->takes; t != NULL && t->opt != OPT__MAX; t++)
		if ((t->flags & CLI_REQUIRED) && a->opt[t->opt] == NULL)
			return cli_usage_error("%s: %s is required", name,
			    cli_options[t->opt].name);
	if (cmd->positional_required && a->positional == NULL)
		return cli_usage_error("%s: %s is required", name,
		    cmd->positional);
	return 0;
}

/* opening what commands need */

int
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

int
cli_db(struct cli *c)
{
	int64_t pool;

	if (c->db != NULL)
		return 0;
	if (cli_config(c) == -1)
		return -1;
	pool = c->cfg->db_pool_size ?
	    c->cfg->db_pool_size :
	    c->cfg->workers + c->cfg->mail_workers + 1;
	if (db_open(c->cfg->database, (int)pool, &c->db) == -1)
		return -1;
	if (store_migrate(c->db) != 0) {
		fprintf(stderr, "resetd: cannot bring the schema up to date\n");
		return -1;
	}
	return 0;
}

int
cli_engine(struct cli *c)
{
	if (c->engine != NULL)
		return 0;
	if (cli_db(c) == -1)
		return -1;
	c->engine = engine_new(c->cfg, c->db);
	return c->engine != NULL ? 0 : -1;
}

void
cli_close(struct cli *c)
{
	engine_free(c->engine);
	db_close(c->db);
	config_free(c->cfg);
	c->engine = NULL;
	c->db = NULL;
	c->cfg = NULL;
}

void
cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(v);
}

int
cli_number(const char *name, const char *val, int64_t *out)
{
	char *end;
	long long v;

	*out = -1;
	if (val == NULL)
		return 0;
	errno = 0;
	v = strtoll(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < 0) {
		fprintf(stderr,
		    "resetd: %s: expected a whole number, got '%s'\n", name,
		    val);
		return 2;
	}
	*out = v;
	return 0;
}

char *
cli_read_secret(void)
{
	char *pw = xmalloc(SECRET_STDIN_MAX + 2);
	size_t n;

	n = fread(pw, 1, SECRET_STDIN_MAX + 1, stdin);
	if (n > SECRET_STDIN_MAX) {
		xfree_secret(pw);
		fprintf(stderr, "resetd: password longer than %d bytes\n",
		    SECRET_STDIN_MAX);
		return NULL;
	}
	pw[n] = '\0';
	if (n > 0 && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	return pw;
}

const char *
cli_result_text(enum engine_result r)
{
	if (r == ENGINE_PROJECT_UNKNOWN)
		return "no such project";
	return engine_result_name(r);
}
