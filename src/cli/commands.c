/*
 * The table of commands: each row names a command, the options it takes
 * and the function that runs it (see struct cli_command).  Adding a
 * command is adding its function and a row here; --help, the check of its
 * arguments and the tests that walk the table follow from the row.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "config.h"
#include "version.h"

/* Options of the commands, each list ended by OPT__MAX. */
static const struct cli_takes takes_none[] = { { OPT__MAX, 0 } };
static const struct cli_takes takes_serve[] = {
	{ OPT_DEMO, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_project_create[] = {
	{ OPT_NAME, CLI_REQUIRED },
	{ OPT_CALLBACK_URL, 0 },
	{ OPT_ALLOWED_ORIGIN, 0 },
	{ OPT_RESET_URL, 0 },
	{ OPT_TOKEN_TTL, 0 },
	{ OPT_SEND_RESET_EMAILS, 0 },
	{ OPT_DELIVERY, 0 },
	{ OPT_MAIL_FROM, 0 },
	{ OPT_MAIL_FROM_NAME, 0 },
	{ OPT_LOCALE, 0 },
	{ OPT_UNKNOWN_ACCOUNT_NOTICE, 0 },
	{ OPT_LOGO_URL, 0 },
	{ OPT_ACCENT_COLOR, 0 },
	{ OPT_RESET_LIMIT, 0 },
	{ OPT_MAIL_BUDGET, 0 },
	{ OPT_NOTICE_LIMIT, 0 },
	{ OPT_NOTICE_SHARE, 0 },
	{ OPT_PASSWORD_POLICY, 0 },
	{ OPT_PASSWORD_MIN_LENGTH, 0 },
	{ OPT_PASSWORD_MIN_SCORE, 0 },
	{ OPT_PASSWORD_LISTS, 0 },
	{ OPT_PASSWORD_SCORE, 0 },
	{ OPT_PASSWORD_REQUIRE, 0 },
	{ OPT_LOGIN_TOKEN_TTL, 0 },
	{ OPT_ALLOW_PRIVATE_TARGETS, 0 },
	{ OPT_USER_STORAGE, 0 },
	{ OPT_STORAGE_LOOKUP_URL, 0 },
	{ OPT_STORAGE_VERIFY_URL, 0 },
	{ OPT_STORAGE_PASSWORD_URL, 0 },
	{ OPT_STORAGE_NEW_USER_URL, 0 },
	{ OPT_STORAGE_PASSWORD_FORMAT, 0 },
	{ OPT_STORAGE_TIMEOUT_MS, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_webhook_create[] = {
	{ OPT_PROJECT, CLI_REQUIRED },
	{ OPT_URL, CLI_REQUIRED },
	{ OPT_EVENTS, CLI_REQUIRED },
	{ OPT__MAX, 0 },
};
/* The options of create, none required: what is not given is kept. */
static const struct cli_takes takes_project_update[] = {
	{ OPT_NAME, 0 },
	{ OPT_CALLBACK_URL, 0 },
	{ OPT_ALLOWED_ORIGIN, 0 },
	{ OPT_RESET_URL, 0 },
	{ OPT_TOKEN_TTL, 0 },
	{ OPT_SEND_RESET_EMAILS, 0 },
	{ OPT_DELIVERY, 0 },
	{ OPT_MAIL_FROM, 0 },
	{ OPT_MAIL_FROM_NAME, 0 },
	{ OPT_LOCALE, 0 },
	{ OPT_UNKNOWN_ACCOUNT_NOTICE, 0 },
	{ OPT_LOGO_URL, 0 },
	{ OPT_ACCENT_COLOR, 0 },
	{ OPT_RESET_LIMIT, 0 },
	{ OPT_MAIL_BUDGET, 0 },
	{ OPT_NOTICE_LIMIT, 0 },
	{ OPT_NOTICE_SHARE, 0 },
	{ OPT_PASSWORD_POLICY, 0 },
	{ OPT_PASSWORD_MIN_LENGTH, 0 },
	{ OPT_PASSWORD_MIN_SCORE, 0 },
	{ OPT_PASSWORD_LISTS, 0 },
	{ OPT_PASSWORD_SCORE, 0 },
	{ OPT_PASSWORD_REQUIRE, 0 },
	{ OPT_LOGIN_TOKEN_TTL, 0 },
	{ OPT_ALLOW_PRIVATE_TARGETS, 0 },
	{ OPT_USER_STORAGE, 0 },
	{ OPT_STORAGE_LOOKUP_URL, 0 },
	{ OPT_STORAGE_VERIFY_URL, 0 },
	{ OPT_STORAGE_PASSWORD_URL, 0 },
	{ OPT_STORAGE_NEW_USER_URL, 0 },
	{ OPT_STORAGE_PASSWORD_FORMAT, 0 },
	{ OPT_STORAGE_TIMEOUT_MS, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_project[] = {
	{ OPT_PROJECT, CLI_REQUIRED },
	{ OPT__MAX, 0 },
};
/* user delete: --project when the user is named by email or username. */
static const struct cli_takes takes_user_delete[] = {
	{ OPT_PROJECT, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_user_create[] = {
	{ OPT_PROJECT, CLI_REQUIRED },
	{ OPT_EMAIL, CLI_REQUIRED },
	{ OPT_USERNAME, 0 },
	{ OPT_LOCALE, 0 },
	{ OPT_PASSWORD_STDIN, 0 },
	{ OPT_MUST_CHANGE_PASSWORD, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_user_list[] = {
	{ OPT_PROJECT, CLI_REQUIRED },
	{ OPT_EMAIL, 0 },
	{ OPT_EMAIL_PREFIX, 0 },
	{ OPT_LIMIT, 0 },
	{ OPT_AFTER, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_user_set_password[] = {
	{ OPT_PROJECT, CLI_REQUIRED },
	{ OPT_PASSWORD_STDIN, CLI_REQUIRED },
	{ OPT_MUST_CHANGE_PASSWORD, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_project_secret_key[] = {
	{ OPT_ROTATE, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_apikey_revoke[] = {
	{ OPT_KEY_STDIN, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_client_create[] = {
	{ OPT_PROJECT, CLI_REQUIRED },
	{ OPT_SECRET, 0 },
	{ OPT_REVEAL_USER_EXISTENCE, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_bench_hash[] = {
	{ OPT_THREADS, 0 },
	{ OPT_SECONDS, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_outbox_list[] = {
	{ OPT_STATE, 0 },
	{ OPT_LIMIT, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_outbox_retry[] = {
	{ OPT_ALL_DEAD, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_mail_test[] = {
	{ OPT_TO, CLI_REQUIRED },
	{ OPT_PROJECT, 0 },
	{ OPT__MAX, 0 },
};
static const struct cli_takes takes_audit_list[] = {
	{ OPT_PROJECT, 0 },
	{ OPT_LIMIT, 0 },
	{ OPT__MAX, 0 },
};

/*
 * The commands, in the order --help lists them.  Rows of one name are
 * together.  A synopsis names every option its row takes, and no other
 * (tests/unit/test_cli.c and tests/e2e/cli.test.js check it).
 */
const struct cli_command cli_commands[] = {
	{ "serve", NULL, cli_serve, takes_serve, NULL, 0, "[--demo]" },
	{ "migrate", NULL, cli_migrate, takes_none, NULL, 0, "" },
	{ "check-config", NULL, cli_check_config, takes_none, NULL, 0, "" },
	{ "project", "create", cli_project_create, takes_project_create, NULL,
	    0,
	    "--name NAME [--callback-url URL]... [--allowed-origin ORIGIN]...\n"
	    "        [--reset-url URL] [--token-ttl SECONDS]\n"
	    "        [--send-reset-emails on|off] [--delivery link|code]\n"
	    "        [--mail-from ADDRESS] [--mail-from-name NAME]\n"
	    "        [--locale xx[_YY]] [--unknown-account-notice on|off]\n"
	    "        [--logo-url URL] [--accent-color #RRGGBB]\n"
	    "        [--reset-limit N] [--mail-budget N]\n"
	    "        [--notice-limit N] [--notice-share PERCENT]\n"
	    "        [--password-policy nist|cognito|xsolla]\n"
	    "        [--password-min-length N] [--password-min-score 0-4]\n"
	    "        [--password-lists on|off] [--password-score on|off]\n"
	    "        [--password-require uppercase,lowercase,numbers,symbols|none]\n"
	    "        [--login-token-ttl SECONDS] [--allow-private-targets on|off]\n"
	    "        [--user-storage builtin|webhook] [--storage-lookup-url URL]\n"
	    "        [--storage-verify-url URL] [--storage-password-url URL]\n"
	    "        [--storage-new-user-url URL]\n"
	    "        [--storage-password-format plain|argon2id]\n"
	    "        [--storage-timeout-ms 100-30000]" },
	{ "project", "list", cli_project_list, takes_none, NULL, 0, "" },
	{ "project", "show", cli_project_show, takes_none, "ID", 1, "ID" },
	{ "project", "update", cli_project_update, takes_project_update, "ID",
	    1,
	    "ID [--name NAME] [--callback-url URL]... [--allowed-origin ORIGIN]...\n"
	    "        [--reset-url URL] [--token-ttl SECONDS]\n"
	    "        [--send-reset-emails on|off] [--delivery link|code]\n"
	    "        [--mail-from ADDRESS] [--mail-from-name NAME]\n"
	    "        [--locale xx[_YY]] [--unknown-account-notice on|off]\n"
	    "        [--logo-url URL] [--accent-color #RRGGBB]\n"
	    "        [--reset-limit N] [--mail-budget N]\n"
	    "        [--notice-limit N] [--notice-share PERCENT]\n"
	    "        [--password-policy nist|cognito|xsolla]\n"
	    "        [--password-min-length N] [--password-min-score 0-4]\n"
	    "        [--password-lists on|off] [--password-score on|off]\n"
	    "        [--password-require uppercase,lowercase,numbers,symbols|none]\n"
	    "        [--login-token-ttl SECONDS] [--allow-private-targets on|off]\n"
	    "        [--user-storage builtin|webhook] [--storage-lookup-url URL]\n"
	    "        [--storage-verify-url URL] [--storage-password-url URL]\n"
	    "        [--storage-new-user-url URL]\n"
	    "        [--storage-password-format plain|argon2id]\n"
	    "        [--storage-timeout-ms 100-30000]" },
	{ "project", "rotate-keys", cli_project_rotate_keys, takes_none, "ID",
	    1, "ID" },
	{ "project", "secret-key", cli_project_secret_key,
	    takes_project_secret_key, "ID", 1, "ID [--rotate]" },
	{ "user", "create", cli_user_create, takes_user_create, NULL, 0,
	    "--project ID --email EMAIL [--username NAME] [--locale xx[_YY]]\n"
	    "        [--password-stdin] [--must-change-password]" },
	{ "user", "import", cli_user_import, takes_project, NULL, 0,
	    "--project ID < users.jsonl" },
	{ "user", "list", cli_user_list, takes_user_list, NULL, 0,
	    "--project ID [--email EMAIL] [--email-prefix PREFIX]\n"
	    "        [--limit N [--after CURSOR]]" },
	{ "user", "get", cli_user_get, takes_project, "USER", 1,
	    "--project ID USER" },
	{ "user", "set-password", cli_user_set_password,
	    takes_user_set_password, "USER", 1,
	    "--project ID USER --password-stdin\n"
	    "        [--must-change-password]" },
	{ "user", "require-reset", cli_user_require_reset, takes_project,
	    "USER", 1, "--project ID USER" },
	{ "user", "sign-out", cli_user_sign_out, takes_project, "USER", 1,
	    "--project ID USER" },
	{ "user", "delete", cli_user_delete, takes_user_delete, "USER", 1,
	    "[--project ID] USER" },
	{ "user", "reset", cli_user_reset, takes_none, "USER_ID", 1,
	    "USER_ID" },
	{ "user", "disable", cli_user_disable, takes_project, "USER", 1,
	    "--project ID USER" },
	{ "user", "enable", cli_user_enable, takes_project, "USER", 1,
	    "--project ID USER" },
	{ "apikey", "create", cli_apikey_create, takes_project, NULL, 0,
	    "--project ID" },
	{ "apikey", "list", cli_apikey_list, takes_project, NULL, 0,
	    "--project ID" },
	{ "apikey", "revoke", cli_apikey_revoke, takes_apikey_revoke, "ID", 0,
	    "ID|--key-stdin" },
	{ "client", "create", cli_client_create, takes_client_create, NULL, 0,
	    "--project ID [--secret] [--reveal-user-existence]" },
	{ "client", "rotate-secret", cli_client_rotate_secret, takes_none,
	    "CLIENT_ID", 1, "CLIENT_ID" },
	{ "bench-hash", NULL, cli_bench_hash, takes_bench_hash, NULL, 0,
	    "[--threads N] [--seconds S]" },
	{ "outbox", "list", cli_outbox_list, takes_outbox_list, NULL, 0,
	    "[--state pending|sent|dead|dropped] [--limit N]" },
	{ "outbox", "retry", cli_outbox_retry, takes_outbox_retry, "ID", 0,
	    "ID|--all-dead" },
	{ "mail", "test", cli_mail_test, takes_mail_test, NULL, 0,
	    "--to ADDRESS [--project ID]" },
	{ "audit", "list", cli_audit_list, takes_audit_list, NULL, 0,
	    "[--project ID] [--limit N]" },
	{ "webhook", "create", cli_webhook_create, takes_webhook_create, NULL,
	    0, "--project ID --url URL --events NAME[,NAME]...|*..." },
	{ "webhook", "list", cli_webhook_list, takes_project, NULL, 0,
	    "--project ID" },
	{ "webhook", "delete", cli_webhook_delete, takes_project, "ENDPOINT", 1,
	    "--project ID ENDPOINT" },
	{ "webhook", "test", cli_webhook_test, takes_none, "ENDPOINT", 1,
	    "ENDPOINT" },
	{ "version", NULL, cli_version, takes_none, NULL, 0, "" },
	{ "help", NULL, cli_help, takes_none, NULL, 0, "" },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL },
};

int
cli_help(struct cli *c)
{
	const struct cli_command *cmd;

	(void)c;
	printf("resetd %s: a self-hosted password-reset service\n\n"
	       "usage: resetd [--config FILE] COMMAND [ARGS]\n\n",
	    RESETD_VERSION);
	for (cmd = cli_commands; cmd->name != NULL; cmd++)
		printf("  resetd %s%s%s%s%s\n", cmd->name, cmd->verb ? " " : "",
		    cmd->verb ? cmd->verb : "", cmd->synopsis[0] ? " " : "",
		    cmd->synopsis);
	printf(
	    "\nConfiguration, lowest to highest precedence: built-in defaults,\n"
	    "the config file (--config FILE or RESETD_CONFIG), environment:\n\n");
	config_usage(stdout);
	printf(
	    "\nEvery command prints JSON; see resetd(8) and resetd.conf(5).\n");
	return 0;
}
