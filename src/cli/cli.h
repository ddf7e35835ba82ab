/*
 * The command line as a face: what every command shares.  A command is a
 * row of the table in commands.c (a name, a verb, the options it takes, what
 * positional argument it takes and the function that runs it).  The
 * arguments are checked against that row before anything is opened, so a
 * command never sees an option it does not take: an unknown or misplaced
 * option is a usage error that names it.
 *
 * A command prints JSON on standard output; errors go to standard error as
 * one line.  It returns the exit status: 0 on success, 1 on a failure and
 * 2 on a usage error.
 */
#ifndef RESETD_CLI_H
#define RESETD_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/engine.h"

/* How many times one repeatable option may be given. */
#define CLI_REPEAT_MAX 64

/*
 * Every option any command takes, in one table (cli_options in cli.c),
 * indexed by this enum.  A command lists the ones it takes.
 */
enum cli_opt {
	OPT_ACCENT_COLOR, /* 0 */
	OPT_AFTER,
	OPT_ALL_DEAD,
	OPT_ALLOW_PRIVATE_TARGETS,
	OPT_ALLOWED_ORIGIN,
	OPT_CALLBACK_URL, /* 5 */
	OPT_DELIVERY,
	OPT_DEMO,
	OPT_EMAIL,
	OPT_EMAIL_PREFIX,
	OPT_EVENTS, /* 10 */
	OPT_KEY_STDIN,
	OPT_LIMIT,
	OPT_LOCALE,
	OPT_LOGIN_TOKEN_TTL,
	OPT_LOGO_URL, /* 15 */
	OPT_MAIL_BUDGET,
	OPT_MAIL_FROM,
	OPT_MAIL_FROM_NAME,
	OPT_MUST_CHANGE_PASSWORD,
	OPT_NAME, /* 20 */
	OPT_NOTICE_LIMIT,
	OPT_NOTICE_SHARE,
	OPT_PASSWORD_LISTS,
	OPT_PASSWORD_MIN_LENGTH,
	OPT_PASSWORD_MIN_SCORE, /* 25 */
	OPT_PASSWORD_POLICY,
	OPT_PASSWORD_REQUIRE,
	OPT_PASSWORD_SCORE,
	OPT_PASSWORD_STDIN,
	OPT_PROJECT, /* 30 */
	OPT_RESET_LIMIT,
	OPT_RESET_URL,
	OPT_REVEAL_USER_EXISTENCE,
	OPT_ROTATE,
	OPT_SECONDS, /* 35 */
	OPT_SECRET,
	OPT_SEND_RESET_EMAILS,
	OPT_STATE,
	OPT_STORAGE_LOOKUP_URL,
	OPT_STORAGE_NEW_USER_URL,
	OPT_STORAGE_PASSWORD_FORMAT,
	OPT_STORAGE_PASSWORD_URL,
	OPT_STORAGE_TIMEOUT_MS,
	OPT_STORAGE_VERIFY_URL,
	OPT_THREADS,
	OPT_TO,
	OPT_TOKEN_TTL,
	OPT_UNKNOWN_ACCOUNT_NOTICE,
	OPT_URL,
	OPT_USER_STORAGE,
	OPT_USERNAME,
	OPT__MAX
};

/* What an option is: a flag, an option with a value, or a repeatable one. */
enum cli_opt_kind {
	CLI_FLAG,
	CLI_VALUE,
	CLI_REPEAT,
};

struct cli_option {
	const char *name; /* with its leading "--" */
	enum cli_opt_kind kind;
};

/* The table of every option, indexed by enum cli_opt. */
extern const struct cli_option cli_options[OPT__MAX];

/* An option a command takes; CLI_REQUIRED when it must be given. */
#define CLI_REQUIRED 1
struct cli_takes {
	enum cli_opt opt;
	int flags;
};

/*
 * The arguments of one command, as checked against its row: the value of
 * each option given (a flag given reads as ""), NULL when absent; the
 * values of a repeatable option, NULL-terminated; the positional argument.
 */
struct cli_args {
	const char *opt[OPT__MAX];
	const char *list[OPT__MAX][CLI_REPEAT_MAX + 1];
	int nlist[OPT__MAX];
	const char *positional;
};

/* Everything a command needs, opened on demand. */
struct cli {
	const char *config_path;
	struct config *cfg;
	struct db *db;
	struct engine *engine;
	struct cli_args args;
};

/*
 * A command.  name and verb ("project", "create"; verb NULL for a command
 * without verbs) name it; takes lists its options, ended by { OPT__MAX };
 * positional, when not NULL, names the one positional argument it takes
 * (required when positional_required).  synopsis is what --help prints
 * after "resetd name verb"; it lists exactly the options in takes.
 */
struct cli_command {
	const char *name;
	const char *verb;
	int (*fn)(struct cli *);
	const struct cli_takes *takes;
	const char *positional;
	int positional_required;
	const char *synopsis;
};

/* commands.c */

/* Every command, in the order --help lists them; ended by a NULL name. */
extern const struct cli_command cli_commands[];

/* Print the usage: every command, then every configuration key. */
int cli_help(struct cli *);

/* cli.c */

/*
 * Check argv (the words after the command and its verb) against cmd and
 * fill c->args.  Return 0, or 2 after printing a usage error that names
 * the argument at fault.
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
    struct cli_args *args);

/* Print "resetd: " and the message, then a pointer to --help; return 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Open the configuration, the database (migrated) or the engine, once;
 * each opens what it needs before it.  Return 0, or -1 after saying why on
 * standard error.
 */
int cli_config(struct cli *);
int cli_db(struct cli *);
int cli_engine(struct cli *);

/* Close what the cli_* openers opened. */
void cli_close(struct cli *);

/* Print v on standard output, indented, and release it. */
void cli_print_json(json_t *v);

/*
 * A whole number option into *out; -1 when absent.  Return 0, or 2 after
 * printing why the value is not one.
 */
int cli_number(const char *name, const char *val, int64_t *out);

/*
 * Read a secret (a password, a key) from standard input; one final newline
 * is not part of it.  Return it (free it with xfree_secret), or NULL after
 * saying it is too long.
 */
char *cli_read_secret(void);

/* What an engine result says to an operator. */
const char *cli_result_text(enum engine_result);

/* project.c */
int cli_project_create(struct cli *);
int cli_project_list(struct cli *);
int cli_project_show(struct cli *);
int cli_project_update(struct cli *);
int cli_project_rotate_keys(struct cli *);
int cli_project_secret_key(struct cli *);

/* user.c */
int cli_user_create(struct cli *);
int cli_user_import(struct cli *);
int cli_user_list(struct cli *);
int cli_user_disable(struct cli *);
int cli_user_enable(struct cli *);
int cli_user_get(struct cli *);
int cli_user_set_password(struct cli *);
int cli_user_require_reset(struct cli *);
int cli_user_sign_out(struct cli *);
int cli_user_delete(struct cli *);
int cli_user_delete(struct cli *);
int cli_user_reset(struct cli *);

/* credentials.c */
int cli_apikey_create(struct cli *);
int cli_apikey_list(struct cli *);
int cli_apikey_revoke(struct cli *);
int cli_client_create(struct cli *);
int cli_client_rotate_secret(struct cli *);

/* outbox.c */
int cli_outbox_list(struct cli *);
int cli_outbox_retry(struct cli *);
int cli_mail_test(struct cli *);

/* audit.c */
int cli_audit_list(struct cli *);

/* webhook.c */
int cli_webhook_create(struct cli *);
int cli_webhook_list(struct cli *);
int cli_webhook_delete(struct cli *);
int cli_webhook_test(struct cli *);

/* system.c */
int cli_migrate(struct cli *);
int cli_check_config(struct cli *);
int cli_bench_hash(struct cli *);
int cli_version(struct cli *);

/* serve.c (the daemon, at the top of src/) */
int cli_serve(struct cli *);

#endif
