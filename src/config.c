/*
 * Configuration keys are one const table: name, type, default, bounds and
 * meaning.  The file parser, the environment reader, check-config and
 * --help all walk the same table, so a key cannot be documented in one place
 * and missing in another.
 *
 * The file format is "key = value" lines; '#' starts a comment.  The
 * environment variable of a key is RESETD_ and its name in upper case.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "log.h"

#define CONFIG_FILE_MAX (64 * 1024)
#define CONFIG_VALUE_MAX 4096

enum key_type {
	KEY_STRING,
	KEY_INT,
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;  /* default, as text; NULL: unset */
	int64_t min, max; /* for KEY_INT */
	const char *help;
};

#define S(f) KEY_STRING, offsetof(struct config, f)
#define I(f) KEY_INT, offsetof(struct config, f)

static const struct key keys[] = {
	{ "listen", S(listen), "127.0.0.1:8080", 0, 0,
	    "address and port to serve HTTP on (host:port)" },
	{ "admin_listen", S(admin_listen), "127.0.0.1:8081", 0, 0,
	    "address and port of the admin API and /metrics (host:port); "
	    "empty: off.  Needs admin_token or admin_token_file, and is off "
	    "without one" },
	{ "admin_token", S(admin_token), NULL, 0, 0,
	    "bearer token of the admin API, at least 32 characters; never "
	    "printed or logged (prefer admin_token_file)" },
	{ "admin_token_file", S(admin_token_file), NULL, 0, 0,
	    "file whose first line is the admin bearer token" },
	{ "rate_admin_auth", I(rate_admin_auth), "10", 1, 1000000,
	    "wrong admin tokens per client address per minute; past it, "
	    "every admin request from it is answered 429" },
	{ "database", S(database), "sqlite:./var/resetd.db", 0, 0,
	    "database: sqlite:PATH, or postgres://USER@HOST/NAME, "
	    "postgresql:///NAME?host=/SOCKET/DIR (any libpq URL)" },
	{ "mail", S(mail), "maildir:./var/mail", 0, 0,
	    "mail transport: maildir:DIR, smtp://HOST[:PORT], "
	    "smtps://HOST[:PORT] or log:[FILE]" },
	{ "public_url", S(public_url), NULL, 0, 0,
	    "base URL of every link resetd writes (default http://LISTEN); "
	    "never taken from the Host header" },
	{ "server_secret", S(server_secret), NULL, 0, 0,
	    "64 hex characters keying token hashes and signing JWTs; never "
	    "kept in the database: when unset, read from server_secret_file" },
	{ "server_secret_file", S(server_secret_file), NULL, 0, 0,
	    "file holding the server secret (64 hex characters), mode 0600; "
	    "default beside a SQLite database (var/resetd.db: var/resetd.key), "
	    "generated there when absent; on PostgreSQL set this or "
	    "server_secret, the same on every instance" },
	{ "log_level", S(log_level), "info", 0, 0,
	    "debug, info, warn or error" },
	{ "mail_from", S(mail_from), "noreply@localhost", 0, 0,
	    "sender address of projects that set none" },
	{ "mail_from_name", S(mail_from_name), "resetd", 0, 0,
	    "sender display name of projects that set none" },
	{ "mail_starttls", S(mail_starttls), "auto", 0, 0,
	    "smtp://: required, opportunistic, off, or auto (required "
	    "unless the host resolves to loopback addresses alone)" },
	{ "mail_username", S(mail_username), NULL, 0, 0,
	    "SMTP AUTH user name (unset: no AUTH)" },
	{ "mail_password", S(mail_password), NULL, 0, 0,
	    "SMTP AUTH password; never printed or logged" },
	{ "mail_ca_file", S(mail_ca_file), NULL, 0, 0,
	    "PEM file of CAs that verify the SMTP server (default: the "
	    "system's)" },
	{ "templates_dir", S(templates_dir), NULL, 0, 0,
	    "folder of mail template overrides, LOCALE/KIND.{subject,txt,html} "
	    "and PROJECT_ID/LOCALE/..." },
	{ "http_threads", I(http_threads), "2", 1, 64,
	    "threads polling HTTP connections" },
	{ "workers", I(workers), "32", 1, 1024,
	    "threads running request work (database, password hashing)" },
	{ "max_body_bytes", I(max_body_bytes), "65536", 1024, 16777216,
	    "largest request body accepted" },
	{ "max_connections", I(max_connections), "1024", 1, 65536,
	    "most open HTTP connections" },
	{ "connection_timeout", I(connection_timeout), "30", 1, 3600,
	    "seconds an idle connection is kept" },
	{ "request_head_timeout", I(request_head_timeout), "10", 1, 3600,
	    "seconds a connection has to send a whole request head, from its "
	    "opening or its last answer" },
	{ "request_body_timeout", I(request_body_timeout), "30", 1, 3600,
	    "seconds a request has to send its whole body, from its head" },
	{ "argon2_opslimit", I(argon2_opslimit), "2", 1, 64,
	    "Argon2id passes (t)" },
	{ "argon2_memory_kib", I(argon2_memory_kib), "19456", 8, 4194304,
	    "Argon2id memory in KiB (m); 19456 is OWASP's minimum" },
	{ "hash_concurrency", I(hash_concurrency), "0", 0, 1024,
	    "most password hashes computed at once (0: one per CPU)" },
	{ "mail_workers", I(mail_workers), "1", 0, 64,
	    "mail delivery threads (0: this instance only queues mail)" },
	{ "mail_max_tries", I(mail_max_tries), "10", 1, 1000,
	    "delivery attempts before a message is given up as dead" },
	{ "mail_lease_seconds", I(mail_lease_seconds), "60", 1, 86400,
	    "how long a claimed message is reserved for one sender" },
	{ "mail_poll_ms", I(mail_poll_ms), "1000", 10, 600000,
	    "how often the mail worker looks for due messages unwoken" },
	{ "mail_test_hold_ms", I(mail_test_hold_ms), "0", 0, 3600000,
	    "testing only: a sender waits this long after each claim before "
	    "delivering, so a test can stop an instance holding claimed "
	    "messages; keep 0" },
	{ "mail_backoff_ms", I(mail_backoff_ms), "5000", 10, 3600000,
	    "delay before the first retry; doubles per try up to an hour" },
	{ "mail_max_age", I(mail_max_age), "86400", 60, 2592000,
	    "seconds after which a failed message is given up as dead" },
	{ "mail_connect_timeout_ms", I(mail_connect_timeout_ms), "10000", 100,
	    600000, "SMTP connect timeout, TLS handshake included" },
	{ "mail_send_timeout_ms", I(mail_send_timeout_ms), "30000", 1000,
	    3600000,
	    "most time one SMTP delivery may take (keep it below "
	    "mail_lease_seconds)" },
	{ "webhook_workers", I(webhook_workers), "1", 0, 64,
	    "webhook delivery threads beside the mail senders, when there are "
	    "mail senders (0: the mail senders post webhooks too)" },
	{ "webhook_timeout_ms", I(webhook_timeout_ms), "10000", 100, 60000,
	    "most time one webhook post may take, connect included (keep it "
	    "below mail_lease_seconds)" },
	{ "event_retention_days", I(event_retention_days), "30", 1, 3650,
	    "days the event log keeps an event (GET /events); the janitor "
	    "deletes older ones" },
	{ "db_pool_size", I(db_pool_size), "0", 0, 1024,
	    "database connections kept open (0: one per worker and mail "
	    "worker, plus one)" },
	{ "trusted_proxies", S(trusted_proxies), "", 0, 0,
	    "proxies whose X-Forwarded-For is believed: addresses or "
	    "CIDR ranges, comma-separated (none by default)" },
	{ "breached_passwords_file", S(breached_passwords_file), NULL, 0, 0,
	    "sorted HEX40:COUNT SHA-1 lines of breached passwords to refuse "
	    "(none by default)" },
	{ "max_headers", I(max_headers), "64", 8, 1024,
	    "most request header fields; more is answered 431" },
	{ "max_url_bytes", I(max_url_bytes), "8192", 256, 65536,
	    "longest request target, path and query; longer is answered 414" },
	{ "listen_reuse_port", I(listen_reuse_port), "0", 0, 1,
	    "1: share the listening port with other processes (SO_REUSEPORT); "
	    "0: a port in use is an error" },
	{ "max_connections_per_ip", I(max_connections_per_ip), "64", 0, 65536,
	    "most open connections from one address, IPv6 by its /64 "
	    "(0: no cap)" },
	{ "rate_limit_store", S(rate_limit_store), "memory", 0, 0,
	    "where per-address limits are counted: memory (each instance "
	    "on its own) or database (shared by every instance on it)" },
	{ "rate_ip_table_size", I(rate_ip_table_size), "65536", 1024, 16777216,
	    "client addresses the in-memory rate limiter keeps" },
	{ "rate_ip_request", I(rate_ip_request), "10", 0, 1000000,
	    "reset requests per client address per window (0: no limit)" },
	{ "rate_ip_request_window", I(rate_ip_request_window), "600", 1, 86400,
	    "seconds of that window" },
	{ "rate_ip_confirm", I(rate_ip_confirm), "20", 0, 1000000,
	    "reset confirms per client address per window (0: no limit)" },
	{ "rate_ip_confirm_window", I(rate_ip_confirm_window), "600", 1, 86400,
	    "seconds of that window" },
	{ "rate_ip_login", I(rate_ip_login), "30", 0, 1000000,
	    "logins per client address per window (0: no limit)" },
	{ "rate_ip_login_window", I(rate_ip_login_window), "300", 1, 86400,
	    "seconds of that window" },
	{ "rate_ip_api", I(rate_ip_api), "6000", 0, 1000000,
	    "server calls (WorkOS; Xsolla /users/me) per address per window "
	    "(0: none)" },
	{ "rate_ip_api_window", I(rate_ip_api_window), "60", 1, 86400,
	    "seconds of that window" },
	{ "rate_ip6_56_request", I(rate_ip6_56[0]), "30", 0, 1000000,
	    "reset requests per IPv6 /56 per rate_ip_request_window (0: none)" },
	{ "rate_ip6_56_confirm", I(rate_ip6_56[1]), "60", 0, 1000000,
	    "reset confirms per IPv6 /56 per rate_ip_confirm_window (0: none)" },
	{ "rate_ip6_56_login", I(rate_ip6_56[2]), "90", 0, 1000000,
	    "logins per IPv6 /56 per rate_ip_login_window (0: none)" },
	{ "rate_ip6_56_api", I(rate_ip6_56[3]), "18000", 0, 1000000,
	    "WorkOS calls per IPv6 /56 per rate_ip_api_window (0: none)" },
	{ "rate_ip6_48_request", I(rate_ip6_48[0]), "100", 0, 1000000,
	    "reset requests per IPv6 /48 per rate_ip_request_window (0: none)" },
	{ "rate_ip6_48_confirm", I(rate_ip6_48[1]), "200", 0, 1000000,
	    "reset confirms per IPv6 /48 per rate_ip_confirm_window (0: none)" },
	{ "rate_ip6_48_login", I(rate_ip6_48[2]), "300", 0, 1000000,
	    "logins per IPv6 /48 per rate_ip_login_window (0: none)" },
	{ "rate_ip6_48_api", I(rate_ip6_48[3]), "60000", 0, 1000000,
	    "WorkOS calls per IPv6 /48 per rate_ip_api_window (0: none)" },
	{ "login_backoff_after", I(login_backoff_after), "5", 0, 1000,
	    "sign-in tries of one login, since its last success, before each "
	    "further try holds it back (0: no back-off)" },
	{ "login_backoff_base", I(login_backoff_base), "1", 1, 3600,
	    "seconds of the first hold; each further try doubles it" },
	{ "login_backoff_max", I(login_backoff_max), "900", 1, 86400,
	    "longest hold, in seconds" },
	{ "aws_region", S(aws_region), "us-east-1", 0, 0,
	    "the AWS region the Cognito face answers as: signed admin calls "
	    "must be scoped to it, and user pool ids begin with it" },
	{ "reset_floor_ms", I(reset_floor_ms), "10", 0, 10000,
	    "least time a public reset request takes, in ms, raised to the "
	    "moving average of recent ones (0: no floor)" },
	{ "reset_jitter_ms", I(reset_jitter_ms), "2", 0, 10000,
	    "random time added on top of that floor, in ms" },
};

#undef S
#undef I

/* Keys whose values check-config shows only as "(set)". */
static const char *const secret_keys[] = {
	"server_secret",
	"mail_password",
	"admin_token",
	NULL,
};

/*
 * Keys whose values a reload's log lines never show, only that they
 * changed: the secrets, and the database URL, which may hold a password.
 */
static const char *const unlogged_keys[] = {
	"server_secret",
	"mail_password",
	"database",
	NULL,
};

/*
 * Keys a reload (SIGHUP) applies to a running server: those read while
 * requests run, through a path that can replace them safely (see
 * engine_reload, mailer_reload, log_set_level).  Every other key takes
 * effect at the next start.
 */
static const char *const reload_keys[] = {
	"log_level",
	/* the mail settings and templates (mailer_reload) */
	"mail",
	"mail_from",
	"mail_from_name",
	"mail_starttls",
	"mail_username",
	"mail_password",
	"mail_ca_file",
	"templates_dir",
	"mail_max_tries",
	"mail_lease_seconds",
	"mail_poll_ms",
	"mail_test_hold_ms",
	"mail_backoff_ms",
	"mail_max_age",
	"mail_connect_timeout_ms",
	"mail_send_timeout_ms",
	/* the limits (engine_reload) */
	"rate_ip_request",
	"rate_ip_request_window",
	"rate_ip_confirm",
	"rate_ip_confirm_window",
	"rate_ip_login",
	"rate_ip_login_window",
	"rate_ip_api",
	"rate_ip_api_window",
	"rate_ip6_56_request",
	"rate_ip6_56_confirm",
	"rate_ip6_56_login",
	"rate_ip6_56_api",
	"rate_ip6_48_request",
	"rate_ip6_48_confirm",
	"rate_ip6_48_login",
	"rate_ip6_48_api",
	"login_backoff_after",
	"login_backoff_base",
	"login_backoff_max",
	"reset_floor_ms",
	"reset_jitter_ms",
	/* the HTTP limits (http_server_reload) */
	"max_headers",
	"max_url_bytes",
	"max_body_bytes",
	"max_connections_per_ip",
	"request_head_timeout",
	"request_body_timeout",
	NULL,
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char **
str_field(struct config *c, const struct key *k)
{
	return (char **)((char *)c + k->offset);
}

static int64_t *
int_field(struct config *c, const struct key *k)
{
	return (int64_t *)((char *)c + k->offset);
}

static const struct key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
key_set(struct config *c, const struct key *k, const char *value,
    const char *where, char *err, size_t errlen)
{
	char *end;
	long long v;

	if (strlen(value) > CONFIG_VALUE_MAX) {
		snprintf(err, errlen, "%s: %s: value too long", where, k->name);
		return -1;
	}
	if (k->type == KEY_STRING) {
		free(*str_field(c, k));
		*str_field(c, k) = xstrdup(value);
		return 0;
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < k->min ||
	    v > k->max) {
		snprintf(err, errlen,
		    "%s: %s: expected a whole number from %lld to %lld", where,
		    k->name, (long long)k->min, (long long)k->max);
		return -1;
	}
	*int_field(c, k) = v;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Parse the text of a config file into c. */
static int
parse_file_text(struct config *c, char *text, const char *path, char *err,
    size_t errlen)
{
	char where[512];
	char *line, *next, *eq, *name, *value;
	const struct key *k;
	int lineno = 0;

	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		eq = strchr(line, '#');
		if (eq != NULL)
			*eq = '\0';
		line = trim(line);
		if (*line == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s: expected key = value",
			    where);
			return -1;
		}
		*eq = '\0';
		name = trim(line);
		value = trim(eq + 1);
		k = key_find(name);
		if (k == NULL) {
			snprintf(err, errlen, "%s: unknown key '%.64s'", where,
			    name);
			return -1;
		}
		if (key_set(c, k, value, where, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
parse_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	size_t n;
	int rc;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	text = xmalloc(CONFIG_FILE_MAX + 1);
	n = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONFIG_FILE_MAX);
		free(text);
		return -1;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(text);
		return -1;
	}
	rc = parse_file_text(c, text, path, err, errlen);
	free(text);
	return rc;
}

static int
parse_env(struct config *c, char *err, size_t errlen)
{
	char env[64];
	const char *v;
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		snprintf(env, sizeof(env), "RESETD_%s", keys[i].name);
		for (j = 7; env[j] != '\0'; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		v = getenv(env);
		if (v == NULL)
			continue;
		if (key_set(c, &keys[i], v, env, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static const char *const mail_schemes[] = {
	"maildir:",
	"smtp://",
	"smtps://",
	"log:",
	NULL,
};

static const char *const rate_limit_stores[] = {
	"memory",
	"database",
	NULL,
};

static const char *const starttls_modes[] = {
	"auto",
	"required",
	"opportunistic",
	"off",
	NULL,
};

static int
one_of(const char *s, const char *const *list, int prefix)
{
	for (; *list != NULL; list++)
		if (prefix ? str_has_prefix(s, *list) : strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* 1 when s holds a C0 control character or DEL. */
static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

/*
 * The mail settings.  Credentials are never taken from the URL, so that
 * they cannot end up where URLs are shown (check-config, logs).
 */
static int
validate_mail(struct config *c, char *err, size_t errlen)
{
	const char *host;

	if (!one_of(c->mail, mail_schemes, 1)) {
		snprintf(err, errlen,
		    "mail: expected maildir:DIR, "
		    "smtp://HOST[:PORT], smtps://HOST[:PORT] or log:[FILE]");
		return -1;
	}
	if (has_control(c->mail)) {
		snprintf(err, errlen, "mail: control characters in the URL");
		return -1;
	}
	if (str_has_prefix(c->mail, "smtp")) {
		host = strstr(c->mail, "://") + 3;
		if (*host == '\0' || *host == '/' ||
		    memchr(host, '@', strcspn(host, "/?#")) != NULL) {
			snprintf(err, errlen,
			    "mail: expected smtp(s)://HOST"
			    "[:PORT][/EHLO-NAME]; set mail_username and "
			    "mail_password instead of credentials in the URL");
			return -1;
		}
	}
	if (!one_of(c->mail_starttls, starttls_modes, 0)) {
		snprintf(err, errlen,
		    "mail_starttls: expected auto, required, "
		    "opportunistic or off");
		return -1;
	}
	if (c->mail_ca_file != NULL && access(c->mail_ca_file, R_OK) == -1) {
		snprintf(err, errlen, "mail_ca_file: cannot read %s: %s",
		    c->mail_ca_file, strerror(errno));
		return -1;
	}
	if ((c->mail_username == NULL) != (c->mail_password == NULL)) {
		snprintf(err, errlen,
		    "mail_username and mail_password: set "
		    "both or neither");
		return -1;
	}
	if (c->mail_username != NULL &&
	    (has_control(c->mail_username) || has_control(c->mail_password))) {
		snprintf(err, errlen,
		    "mail_username, mail_password: control "
		    "characters");
		return -1;
	}
	return 0;
}

#define ADMIN_TOKEN_MIN 32
#define ADMIN_TOKEN_MAX 512

/*
 * The admin listener's settings: an address or "", and a token from
 * admin_token or the first line of admin_token_file (read here, once, into
 * admin_token), of printable ASCII.
 */
static int
validate_admin(struct config *c, char *err, size_t errlen)
{
	char line[ADMIN_TOKEN_MAX + 2];
	FILE *f;
	size_t n, i;

	if (*c->admin_listen != '\0' && strchr(c->admin_listen, ':') == NULL) {
		snprintf(err, errlen,
		    "admin_listen: expected host:port, or "
		    "nothing to turn the admin API off");
		return -1;
	}
	if (*c->admin_listen != '\0' &&
	    strcmp(c->admin_listen, c->listen) == 0) {
		snprintf(err, errlen, "admin_listen: must differ from listen");
		return -1;
	}
	if (c->admin_token != NULL && c->admin_token_file != NULL) {
		snprintf(err, errlen,
		    "admin_token and admin_token_file: set "
		    "one, not both");
		return -1;
	}
	if (c->admin_token_file != NULL) {
		f = fopen(c->admin_token_file, "r");
		if (f == NULL) {
			snprintf(err, errlen,
			    "admin_token_file: cannot read "
			    "%s: %s",
			    c->admin_token_file, strerror(errno));
			return -1;
		}
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		c->admin_token = xstrdup(line);
		sodium_memzero(line, sizeof(line));
	}
	if (c->admin_token == NULL)
		return 0;
	n = strlen(c->admin_token);
	for (i = 0; i < n; i++)
		if (c->admin_token[i] <= 0x20 || c->admin_token[i] >= 0x7f)
			break;
	if (n < ADMIN_TOKEN_MIN || n > ADMIN_TOKEN_MAX || i < n) {
		snprintf(err, errlen,
		    "admin_token: expected %d to %d printable "
		    "ASCII characters without spaces",
		    ADMIN_TOKEN_MIN, ADMIN_TOKEN_MAX);
		return -1;
	}
	return 0;
}

/* Checks across keys, once everything is read. */
static int
validate(struct config *c, char *err, size_t errlen)
{
	size_t n;
	uint8_t key[32];

	if (strchr(c->listen, ':') == NULL) {
		snprintf(err, errlen, "listen: expected host:port");
		return -1;
	}
	if (c->public_url == NULL)
		c->public_url = xasprintf("http://%s", c->listen);
	n = strlen(c->public_url);
	while (n > 0 && c->public_url[n - 1] == '/')
		c->public_url[--n] = '\0';
	if (!str_has_prefix(c->public_url, "http://") &&
	    !str_has_prefix(c->public_url, "https://")) {
		snprintf(err, errlen, "public_url: expected an http(s) URL");
		return -1;
	}
	if (c->server_secret != NULL &&
	    (strlen(c->server_secret) != 64 ||
		hex_decode(c->server_secret, 64, key) != 32)) {
		snprintf(err, errlen,
		    "server_secret: expected 64 hex characters");
		return -1;
	}
	if (log_level_valid(c->log_level) == 0) {
		snprintf(err, errlen,
		    "log_level: expected debug, info, warn or error");
		return -1;
	}
	if (cidr_parse_list(c->trusted_proxies, c->proxies, CONFIG_PROXIES_MAX,
		&c->nproxies) == -1) {
		snprintf(err, errlen,
		    "trusted_proxies: expected at most %d "
		    "addresses or CIDR ranges, comma-separated",
		    CONFIG_PROXIES_MAX);
		return -1;
	}
	if (c->breached_passwords_file != NULL &&
	    access(c->breached_passwords_file, R_OK) != 0) {
		snprintf(err, errlen, "breached_passwords_file: cannot read %s",
		    c->breached_passwords_file);
		return -1;
	}
	if (!one_of(c->rate_limit_store, rate_limit_stores, 0)) {
		snprintf(err, errlen,
		    "rate_limit_store: expected memory or "
		    "database");
		return -1;
	}
	if (c->aws_region[0] == '\0' || strlen(c->aws_region) > 32 ||
	    strspn(c->aws_region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		strlen(c->aws_region)) {
		snprintf(err, errlen,
		    "aws_region: expected a region name like "
		    "us-east-1");
		return -1;
	}
	if (strpbrk(c->mail_from, "\r\n<>\" ") != NULL ||
	    strchr(c->mail_from, '@') == NULL) {
		snprintf(err, errlen, "mail_from: expected a plain address");
		return -1;
	}
	if (has_control(c->mail_from_name)) {
		snprintf(err, errlen,
		    "mail_from_name: control characters and "
		    "line breaks cannot go into a header");
		return -1;
	}
	if (validate_admin(c, err, errlen) == -1)
		return -1;
	return validate_mail(c, err, errlen);
}

int
config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	struct config *c = xcalloc(1, sizeof(*c));
	size_t i;
	int rc = -1;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL)
			continue;
		if (key_set(c, &keys[i], keys[i].def, "default", err, errlen) ==
		    -1)
			goto out;
	}
	if (path == NULL)
		path = getenv("RESETD_CONFIG");
	if (path != NULL && *path != '\0' &&
	    parse_file(c, path, err, errlen) == -1)
		goto out;
	if (parse_env(c, err, errlen) == -1)
		goto out;
	if (validate(c, err, errlen) == -1)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	config_free(c);
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == KEY_STRING)
			xfree_secret(*str_field(c, &keys[i]));
	free(c);
}

static int one_of(const char *, const char *const *, int);

int
config_key_reloads(const char *name)
{
	return one_of(name, reload_keys, 0);
}

/* The value of k in c, as text for a log line, into buf. */
static const char *
value_text(const struct config *c, const struct key *k, char *buf, size_t len)
{
	const char *v;

	if (k->type == KEY_INT) {
		snprintf(buf, len, "%lld",
		    (long long)*int_field((struct config *)c, k));
		return buf;
	}
	v = *str_field((struct config *)c, k);
	return v == NULL ? "(unset)" : v;
}

static int
key_differs(const struct config *a, const struct config *b, const struct key *k)
{
	const char *x, *y;

	if (k->type == KEY_INT)
		return *int_field((struct config *)a, k) !=
		    *int_field((struct config *)b, k);
	x = *str_field((struct config *)a, k);
	y = *str_field((struct config *)b, k);
	if (x == NULL || y == NULL)
		return x != y;
	return strcmp(x, y) != 0;
}

void
config_log_changes(const struct config *running, const struct config *applied,
    const struct config *next, int *changed, int *restart)
{
	char was[32], now[32];
	const struct config *base;
	const struct key *k;
	size_t i;
	int reloads;

	*changed = *restart = 0;
	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		reloads = config_key_reloads(k->name);
		base = reloads ? applied : running;
		if (!key_differs(base, next, k))
			continue;
		if (one_of(k->name, unlogged_keys, 0)) {
			if (reloads)
				log_info("reload: %s changed", k->name);
			else
				log_warn("reload: %s changed; it takes effect "
					 "at the next restart",
				    k->name);
		} else if (reloads)
			log_info("reload: %s: %s -> %s", k->name,
			    value_text(base, k, was, sizeof(was)),
			    value_text(next, k, now, sizeof(now)));
		else
			log_warn("reload: %s: %s -> %s takes effect at the "
				 "next restart",
			    k->name, value_text(base, k, was, sizeof(was)),
			    value_text(next, k, now, sizeof(now)));
		if (reloads)
			(*changed)++;
		else
			(*restart)++;
	}
}

void
config_usage(FILE *f)
{
	char env[64];
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		snprintf(env, sizeof(env), "RESETD_%s", keys[i].name);
		for (j = 7; env[j] != '\0'; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		fprintf(f, "  %-20s %-27s %s", keys[i].name, env, keys[i].help);
		if (keys[i].def != NULL)
			fprintf(f, " [%s]", keys[i].def);
		fputc('\n', f);
	}
}

void
config_print(const struct config *c, FILE *f)
{
	struct buf b;
	size_t i;
	const char *v;
	int rc = 0;

	buf_init(&b, 1 << 20);
	for (i = 0; i < NKEYS && rc == 0; i++) {
		rc = buf_printf(&b, "%s\n  \"%s\": ", i ? "," : "{",
		    keys[i].name);
		if (keys[i].type == KEY_INT) {
			rc |= buf_printf(&b, "%lld",
			    (long long)*int_field((struct config *)c,
				&keys[i]));
			continue;
		}
		v = *str_field((struct config *)c, &keys[i]);
		if (v == NULL)
			rc |= buf_puts(&b, "null");
		else if (one_of(keys[i].name, secret_keys, 0))
			rc |= buf_puts(&b, "\"(set)\"");
		else
			rc |= buf_puts(&b, "\"") | log_escape(&b, v) |
			    buf_puts(&b, "\"");
	}
	if (rc == 0 && buf_puts(&b, "\n}\n") == 0)
		fputs(buf_cstr(&b), f);
	buf_free(&b);
}
