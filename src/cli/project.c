/*
 * project create, list, show, rotate-keys and secret-key.  What create
 * changes is done by admin_project_create, which checks every field; the
 * keys are the keyring's (core/keyring.c).
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
	json_t *j = api_project_json(p);
	char pool[ENGINE_POOL_ID_MAX + 1];

	if (j != NULL && id_is_uuid(p->id)) {
		engine_user_pool_id(c->cfg->aws_region, p->id, pool);
		json_object_set_new(j, "cognito_user_pool_id",
		    json_string(pool));
	}
	return j;
}

int
cli_project_create(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct project_spec spec;
	struct project *p = NULL;
	char err[256], *end;
	long long ttl = 0;
	int64_t reset_limit, budget, min_length, min_score;
	int64_t notice_limit, notice_share, login_ttl;
	int emails, notice, rc;

	if (a->opt[OPT_TOKEN_TTL] != NULL) {
		errno = 0;
		ttl = strtoll(a->opt[OPT_TOKEN_TTL], &end, 10);
		if (errno != 0 || *end != '\0' || ttl <= 0)
			return cli_usage_error("--token-ttl: expected seconds, "
			    "got '%s'", a->opt[OPT_TOKEN_TTL]);
	}
	rc = on_off("--send-reset-emails", a->opt[OPT_SEND_RESET_EMAILS],
	    &emails);
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
		rc = cli_number("--password-min-length",
		    a->opt[OPT_PASSWORD_MIN_LENGTH], &min_length);
	if (rc == 0)
		rc = cli_number("--password-min-score",
		    a->opt[OPT_PASSWORD_MIN_SCORE], &min_score);
	if (rc == 0)
		rc = cli_number("--login-token-ttl",
		    a->opt[OPT_LOGIN_TOKEN_TTL], &login_ttl);
	if (rc != 0)
		return rc;
	spec = (struct project_spec){
		.name = a->opt[OPT_NAME],
		.reset_limit_per_hour = reset_limit,
		.mail_budget_per_hour = budget,
		.notice_limit_per_hour = notice_limit,
		.notice_share_percent = notice_share,
		.password_min_length = min_length,
		.password_min_score = min_score,
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
	};
	if (cli_engine(c) == -1)
		return 1;
	if (admin_project_create(c->engine, &spec, &p, err, sizeof(err)) !=
	    ENGINE_OK) {
		fprintf(stderr, "resetd: project create: %s\n", err);
		return 1;
	}
	cli_print_json(project_json(c, p));
	project_free(p);
	return 0;
}

int
cli_project_list(struct cli *c)
{
	struct store_list l = { NULL, 0 };
	struct db_conn *conn;
	json_t *a;
	size_t i;
	int rc;

	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	rc = store_project_list(conn, &l);
	db_release(c->db, conn);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, project_json(c, l.items[i]));
	store_list_free(&l, (void (*)(void *))project_free);
	if (rc == STORE_OK)
		cli_print_json(a);
	else
		json_decref(a);
	return rc == STORE_OK ? 0 : 1;
}

int
cli_project_show(struct cli *c)
{
	const char *id = c->args.positional;
	struct project *p = NULL;
	struct db_conn *conn;
	int rc;

	if (cli_db(c) == -1 || (conn = db_acquire(c->db)) == NULL)
		return 1;
	rc = store_project_get(conn, id, &p);
	db_release(c->db, conn);
	if (rc == STORE_OK)
		cli_print_json(project_json(c, p));
	else if (rc == STORE_NOT_FOUND)
		fprintf(stderr, "resetd: project show: no project %s\n", id);
	project_free(p);
	return rc == STORE_OK ? 0 : 1;
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
