/*
 * project create, update, list, show, rotate-keys and secret-key.  What
 * create and update change is done by admin_project_create and
 * admin_project_update, which check every field (as the admin API's calls
 * do); the keys are the keyring's (core/keyring.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "store/store.h"

/* An "on" or "off" option: 1, 0, or -1 when absent; 2 (usage) when neither. */
static int
on_off(const char *name, const char *val, int *out)
{
	*out = -1;
	if (val == NULL)
		return 0;
	if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0)
		return cli_usage_error("%s: expected on or off, got '%s'", name,
		    val);
	*out = strcmp(val, "on") == 0;
	return 0;
}

/* A project as the CLI shows it, with its Cognito user pool id. */
static json_t *
project_json(const struct cli *c, const struct project *p)
{
	return api_project_json(p, c->cfg->aws_region);
}

/*
 * The password options of a into *s (PASSWORD_SETTINGS_NONE for those
 * absent).  Return 0, or a usage error's status.
 */
static int
password_opts(const struct cli_args *a, struct password_settings *s)
{
	int rc;

	*s = (struct password_settings)PASSWORD_SETTINGS_NONE;
	s->profile = a->opt[OPT_PASSWORD_POLICY];
	s->require = a->opt[OPT_PASSWORD_REQUIRE];
	rc = cli_number("--password-min-length",
	    a->opt[OPT_PASSWORD_MIN_LENGTH], &s->min_length);
	if (rc == 0)
		rc = cli_number("--password-min-score",
		    a->opt[OPT_PASSWORD_MIN_SCORE], &s->min_score);
	if (rc == 0)
		rc = on_off("--password-lists", a->opt[OPT_PASSWORD_LISTS],
		    &s->lists);
	if (rc == 0)
		rc = on_off("--password-score", a->opt[OPT_PASSWORD_SCORE],
		    &s->score);
	return rc;
}

int
cli_project_create(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct project_spec spec;
	struct project *p = NULL;
	char err[256], *end;
	long long ttl = 0;
	struct password_settings pw;
	int64_t reset_limit, budget;
	int64_t notice_limit, notice_share, login_ttl, storage_timeout;
	int emails, notice, private_ok, rc;
	json_t *v;

	if (a->opt[OPT_TOKEN_TTL] != NULL) {
		errno = 0;
		ttl = strtoll(a->opt[OPT_TOKEN_TTL], &end, 10);
		if (errno != 0 || *end != '\0' || ttl <= 0)
			return cli_usage_error("--token-ttl: expected seconds, "
					       "got '%s'",
			    a->opt[OPT_TOKEN_TTL]);
	}
	rc = on_off("--send-reset-emails", a->opt[OPT_SEND_RESET_EMAILS],
	    &emails);
	if (rc == 0)
		rc = on_off("--allow-private-targets",
		    a->opt[OPT_ALLOW_PRIVATE_TARGETS], &private_ok);
	if (rc == 0)
		rc = on_off("--unknown-account-notice",
		    a->opt[OPT_UNKNOWN_ACCOUNT_NOTICE], &notice);
	if (rc == 0)
		rc = cli_number("--reset-limit", a->opt[OPT_RESET_LIMIT],
		    &reset_limit);
	if (rc == 0)
		rc = cli_number("--mail-budget", a->opt[OPT_MAIL_BUDGET],
		    &budget);
	if (rc == 0)
		rc = cli_number("--notice-limit", a->opt[OPT_NOTICE_LIMIT],
		    &notice_limit);
	if (rc == 0)
		rc = cli_number("--notice-share", a->opt[OPT_NOTICE_SHARE],
		    &notice_share);
	if (rc == 0)
		rc = password_opts(a, &pw);
	if (rc == 0)
		rc = cli_number("--login-token-ttl",
		    a->opt[OPT_LOGIN_TOKEN_TTL], &login_ttl);
	if (rc == 0)
		rc = cli_number("--storage-timeout-ms",
		    a->opt[OPT_STORAGE_TIMEOUT_MS], &storage_timeout);
	if (rc != 0)
		return rc;
	spec = (struct project_spec){
		.name = a->opt[OPT_NAME],
		.reset_limit_per_hour = reset_limit,
		.mail_budget_per_hour = budget,
		.notice_limit_per_hour = notice_limit,
		.notice_share_percent = notice_share,
		.password_min_length = pw.min_length,
		.password_min_score = pw.min_score,
		.password_profile = pw.profile,
		.password_lists = pw.lists,
		.password_score = pw.score,
		.password_require = pw.require,
		.login_token_ttl = login_ttl,
		.callback_urls = (const char **)a->list[OPT_CALLBACK_URL],
		.allowed_origins = (const char **)a->list[OPT_ALLOWED_ORIGIN],
		.reset_url = a->opt[OPT_RESET_URL],
		.token_ttl = ttl,
		.reset_emails_off = emails == 0,
		.delivery = a->opt[OPT_DELIVERY],
		.mail_from = a->opt[OPT_MAIL_FROM],
		.mail_from_name = a->opt[OPT_MAIL_FROM_NAME],
		.locale = a->opt[OPT_LOCALE],
		.unknown_account_notice = notice == 1,
		.logo_url = a->opt[OPT_LOGO_URL],
		.accent_color = a->opt[OPT_ACCENT_COLOR],
		.user_storage = a->opt[OPT_USER_STORAGE],
		.storage_lookup_url = a->opt[OPT_STORAGE_LOOKUP_URL],
		.storage_verify_url = a->opt[OPT_STORAGE_VERIFY_URL],
		.storage_password_url = a->opt[OPT_STORAGE_PASSWORD_URL],
		.storage_new_user_url = a->opt[OPT_STORAGE_NEW_USER_URL],
		.storage_password_format = a->opt[OPT_STORAGE_PASSWORD_FORMAT],
		.storage_timeout_ms = storage_timeout,
		/* In the spec: the storage URLs are checked against it. */
		.allow_private_targets = private_ok == 1,
	};
	if (cli_engine(c) == -1)
		return 1;
	if (admin_project_create(c->engine, &spec, &p, err, sizeof(err)) !=
	    ENGINE_OK) {
		fprintf(stderr, "resetd: project create: %s\n", err);
		return 1;
	}
	v = project_json(c, p);
	cli_print_json(v);
	project_free(p);
	return 0;
}

/* Keep *field when text is NULL (the option was not given). */
static void
keep_text(const char *text, const char **field)
{
	if (text != NULL)
		*field = text;
}

static void
keep_number(int64_t v, int64_t *field)
{
	if (v >= 0)
		*field = v;
}

/*
 * project update ID [the options of create]: change what the options name,
 * keep the rest; admin_project_update checks the result as create does,
 * as the admin API's PATCH does.
 */
int
cli_project_update(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct project_spec spec;
	struct project *old = NULL, *p = NULL;
	enum engine_result r;
	const char **cb = NULL, **orig = NULL;
	char err[256] = "", *end;
	int64_t n;
	struct password_settings pw;
	int emails, notice, private_ok, rc = 1;
	long long ttl;
	json_t *v;

	if (on_off("--send-reset-emails", a->opt[OPT_SEND_RESET_EMAILS],
		&emails) != 0 ||
	    on_off("--unknown-account-notice",
		a->opt[OPT_UNKNOWN_ACCOUNT_NOTICE], &notice) != 0 ||
	    on_off("--allow-private-targets", a->opt[OPT_ALLOW_PRIVATE_TARGETS],
		&private_ok) != 0)
		return 2;
	if (cli_engine(c) == -1)
		return 1;
	r = admin_project_show(c->engine, a->positional, &old);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: project update: %s\n",
		    r == ENGINE_PROJECT_UNKNOWN ? "no such project" :
						  engine_result_name(r));
		return 1;
	}
	admin_project_spec(old, &spec);
	if (a->nlist[OPT_CALLBACK_URL] > 0)
		spec.callback_urls = (const char **)a->list[OPT_CALLBACK_URL];
	else
		spec.callback_urls = cb = engine_list_split(old->callback_urls);
	if (a->nlist[OPT_ALLOWED_ORIGIN] > 0)
		spec.allowed_origins = (const char **)
					   a->list[OPT_ALLOWED_ORIGIN];
	else
		spec.allowed_origins = orig = engine_list_split(
		    old->allowed_origins);
	keep_text(a->opt[OPT_NAME], &spec.name);
	keep_text(a->opt[OPT_RESET_URL], &spec.reset_url);
	keep_text(a->opt[OPT_DELIVERY], &spec.delivery);
	keep_text(a->opt[OPT_MAIL_FROM], &spec.mail_from);
	keep_text(a->opt[OPT_MAIL_FROM_NAME], &spec.mail_from_name);
	keep_text(a->opt[OPT_LOCALE], &spec.locale);
	keep_text(a->opt[OPT_LOGO_URL], &spec.logo_url);
	keep_text(a->opt[OPT_ACCENT_COLOR], &spec.accent_color);
	keep_text(a->opt[OPT_USER_STORAGE], &spec.user_storage);
	keep_text(a->opt[OPT_STORAGE_LOOKUP_URL], &spec.storage_lookup_url);
	keep_text(a->opt[OPT_STORAGE_VERIFY_URL], &spec.storage_verify_url);
	keep_text(a->opt[OPT_STORAGE_PASSWORD_URL], &spec.storage_password_url);
	keep_text(a->opt[OPT_STORAGE_NEW_USER_URL], &spec.storage_new_user_url);
	keep_text(a->opt[OPT_STORAGE_PASSWORD_FORMAT],
	    &spec.storage_password_format);
	if (private_ok != -1)
		spec.allow_private_targets = private_ok;
	if (a->opt[OPT_TOKEN_TTL] != NULL) {
		errno = 0;
		ttl = strtoll(a->opt[OPT_TOKEN_TTL], &end, 10);
		if (errno != 0 || *end != '\0' || ttl <= 0) {
			rc = cli_usage_error("--token-ttl: expected seconds, "
					     "got '%s'",
			    a->opt[OPT_TOKEN_TTL]);
			goto out;
		}
		spec.token_ttl = ttl;
	}
	if (emails != -1)
		spec.reset_emails_off = emails == 0;
	if (notice != -1)
		spec.unknown_account_notice = notice;
	if (cli_number("--reset-limit", a->opt[OPT_RESET_LIMIT], &n) != 0)
		goto usage;
	keep_number(n, &spec.reset_limit_per_hour);
	if (cli_number("--mail-budget", a->opt[OPT_MAIL_BUDGET], &n) != 0)
		goto usage;
	keep_number(n, &spec.mail_budget_per_hour);
	if (cli_number("--notice-limit", a->opt[OPT_NOTICE_LIMIT], &n) != 0)
		goto usage;
	keep_number(n, &spec.notice_limit_per_hour);
	if (cli_number("--notice-share", a->opt[OPT_NOTICE_SHARE], &n) != 0)
		goto usage;
	keep_number(n, &spec.notice_share_percent);
	if (password_opts(a, &pw) != 0)
		goto usage;
	spec.password_profile = pw.profile;
	spec.password_min_length = pw.min_length;
	spec.password_min_score = pw.min_score;
	spec.password_lists = pw.lists;
	spec.password_score = pw.score;
	spec.password_require = pw.require;
	if (cli_number("--login-token-ttl", a->opt[OPT_LOGIN_TOKEN_TTL], &n) !=
	    0)
		goto usage;
	keep_number(n, &spec.login_token_ttl);
	if (cli_number("--storage-timeout-ms", a->opt[OPT_STORAGE_TIMEOUT_MS],
		&n) != 0)
		goto usage;
	keep_number(n, &spec.storage_timeout_ms);
	r = admin_project_update(c->engine, a->positional, &spec, &p, err,
	    sizeof(err));
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: project update: %s\n",
		    err[0] ? err : engine_result_name(r));
		goto out;
	}
	v = project_json(c, p);
	cli_print_json(v);
	rc = 0;
	goto out;
usage:
	rc = 2;
out:
	engine_list_free(cb);
	engine_list_free(orig);
	project_free(old);
	project_free(p);
	return rc;
}

/* The admin API's listing and showing (core/admin.c), printed. */
int
cli_project_list(struct cli *c)
{
	struct store_list l = { NULL, 0 };
	enum engine_result r;
	json_t *a;
	size_t i;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_project_list(c->engine, &l);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, project_json(c, l.items[i]));
	store_list_free(&l, (void (*)(void *))project_free);
	if (r == ENGINE_OK)
		cli_print_json(a);
	else {
		fprintf(stderr, "resetd: project list: %s\n",
		    engine_result_name(r));
		json_decref(a);
	}
	return r == ENGINE_OK ? 0 : 1;
}

int
cli_project_show(struct cli *c)
{
	const char *id = c->args.positional;
	struct project *p = NULL;
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_project_show(c->engine, id, &p);
	if (r == ENGINE_OK)
		cli_print_json(project_json(c, p));
	else if (r == ENGINE_PROJECT_UNKNOWN)
		fprintf(stderr, "resetd: project show: no project %s\n", id);
	else
		fprintf(stderr, "resetd: project show: %s\n",
		    engine_result_name(r));
	project_free(p);
	return r == ENGINE_OK ? 0 : 1;
}

/*
 * project rotate-keys ID: a new RS256 key signs the project's WorkOS and
 * Cognito tokens; the old one stays in the key set until its tokens have
 * expired.
 */
int
cli_project_rotate_keys(struct cli *c)
{
	const char *id = c->args.positional;
	char kid[UUID_STRLEN + 1];
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = keyring_rotate(c->engine, id, JWT_RS256, kid);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: project rotate-keys: %s\n",
		    cli_result_text(r));
		return 1;
	}
	cli_print_json(json_pack("{s:s, s:s, s:s}", "project_id", id, "kid",
	    kid, "alg", "RS256"));
	return 0;
}

/*
 * project secret-key ID [--rotate]: print the HS256 secret key a backend
 * checks the project's Xsolla login tokens with (a new one first with
 * --rotate).
 */
int
cli_project_secret_key(struct cli *c)
{
	const char *id = c->args.positional;
	char kid[UUID_STRLEN + 1], *secret = NULL;
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = keyring_secret(c->engine, id, c->args.opt[OPT_ROTATE] != NULL,
	    &secret, kid);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: project secret-key: %s\n",
		    cli_result_text(r));
		return 1;
	}
	cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "project_id", id,
	    "kid", kid, "alg", "HS256", "secret_key", secret));
	xfree_secret(secret);
	return 0;
}
