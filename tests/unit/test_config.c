/*
 * Unit tests of the instance configuration (config.c): defaults, then a
 * config file, then RESETD_* environment variables; every kind of error and
 * the message that names it; public_url derivation and trimming; the file
 * named by RESETD_CONFIG.
 */
#include "unit.h"

#include <ctype.h>
#include <fcntl.h>

#include <jansson.h>

#include "config.h"

/* Every variable config_load reads; cleared before and after each test. */
static const char *const env_names[] = {
	"RESETD_CONFIG",
	"RESETD_LISTEN",
	"RESETD_DATABASE",
	"RESETD_MAIL",
	"RESETD_PUBLIC_URL",
	"RESETD_SERVER_SECRET",
	"RESETD_LOG_LEVEL",
	"RESETD_MAIL_FROM",
	"RESETD_MAIL_FROM_NAME",
	"RESETD_HTTP_THREADS",
	"RESETD_WORKERS",
	"RESETD_MAX_BODY_BYTES",
	"RESETD_MAX_CONNECTIONS",
	"RESETD_CONNECTION_TIMEOUT",
	"RESETD_ARGON2_OPSLIMIT",
	"RESETD_ARGON2_MEMORY_KIB",
	"RESETD_HASH_CONCURRENCY",
	"RESETD_MAIL_WORKERS",
	"RESETD_MAIL_MAX_TRIES",
	"RESETD_MAIL_LEASE_SECONDS",
	"RESETD_MAIL_POLL_MS",
	"RESETD_DB_POOL_SIZE",
	NULL,
};

#define SECRET64 \
	"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

struct fixture {
	char dir[UNIT_DIR_MAX];
	char path[UNIT_PATH_MAX];
	char err[512];
};

static void
env_clear(void)
{
	const char *const *e;

	for (e = env_names; *e != NULL; e++)
		unsetenv(*e);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	env_clear();
	unit_tmpdir(f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	env_clear();
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

/* Write a config file in the fixture's folder; its path goes to f->path. */
static void
write_conf(struct fixture *f, const char *text)
{
	unit_write_file(f->dir, "resetd.conf", text, f->path);
}

/* Load from f->path (or NULL) expecting success. */
static struct config *
load_ok(struct fixture *f, const char *path)
{
	struct config *c = NULL;

	f->err[0] = '\0';
	if (config_load(path, &c, f->err, sizeof(f->err)) != 0)
		fail_msg("config_load failed: %s", f->err);
	assert_non_null(c);
	return c;
}

/* Load expecting failure with exactly the message want. */
static void
load_fails(struct fixture *f, const char *path, const char *want)
{
	struct config *c = NULL;

	f->err[0] = '\0';
	assert_int_equal(config_load(path, &c, f->err, sizeof(f->err)), -1);
	assert_null(c);
	assert_string_equal(f->err, want);
}

static void
test_defaults(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_ok(f, NULL);

	assert_string_equal(c->listen, "127.0.0.1:8080");
	assert_string_equal(c->database, "sqlite:./var/resetd.db");
	assert_string_equal(c->mail, "maildir:./var/mail");
	assert_string_equal(c->public_url, "http://127.0.0.1:8080");
	assert_null(c->server_secret);
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->mail_from, "noreply@localhost");
	assert_string_equal(c->mail_from_name, "resetd");
	assert_int_equal(c->http_threads, 2);
	assert_int_equal(c->workers, 32);
	assert_int_equal(c->max_body_bytes, 65536);
	assert_int_equal(c->max_connections, 1024);
	assert_int_equal(c->connection_timeout, 30);
	assert_int_equal(c->argon2_opslimit, 2);
	assert_int_equal(c->argon2_memory_kib, 19456);
	assert_int_equal(c->hash_concurrency, 0);
	assert_int_equal(c->mail_workers, 1);
	assert_int_equal(c->mail_max_tries, 10);
	assert_int_equal(c->mail_lease_seconds, 60);
	assert_int_equal(c->mail_poll_ms, 1000);
	assert_int_equal(c->db_pool_size, 0);
	config_free(c);
	config_free(NULL);
}

static void
test_file_overrides_defaults(void **state)
{
	struct fixture *f = *state;
	struct config *c;

	write_conf(f,
	    "# resetd test configuration\n"
	    "\n"
	    "listen = 0.0.0.0:9000\n"
	    "  workers=4   # four of them\n"
	    "\tmail_from_name =   Acme Support  \n"
	    "database = sqlite:/srv/x.db\r\n"
	    "server_secret = " SECRET64 "\n"
	    "log_level = debug\n"
	    "argon2_memory_kib = 8\n"
	    "mail_workers = 0\n"
	    "   # an indented comment\n"
	    "db_pool_size = 1024"); /* no newline at the end */
	c = load_ok(f, f->path);
	assert_string_equal(c->listen, "0.0.0.0:9000");
	assert_int_equal(c->workers, 4);
	assert_string_equal(c->mail_from_name, "Acme Support");
	assert_string_equal(c->database, "sqlite:/srv/x.db");
	assert_string_equal(c->server_secret, SECRET64);
	assert_string_equal(c->log_level, "debug");
	assert_int_equal(c->argon2_memory_kib, 8);
	assert_int_equal(c->mail_workers, 0);
	assert_int_equal(c->db_pool_size, 1024);
	/* public_url follows the listen address of the file. */
	assert_string_equal(c->public_url, "http://0.0.0.0:9000");
	/* Keys the file leaves alone keep their defaults. */
	assert_string_equal(c->mail, "maildir:./var/mail");
	assert_int_equal(c->http_threads, 2);
	assert_int_equal(c->mail_poll_ms, 1000);
	config_free(c);
}

static void
test_env_overrides_file(void **state)
{
	struct fixture *f = *state;
	struct config *c;

	write_conf(f,
	    "workers = 4\n"
	    "listen = 0.0.0.0:9000\n"
	    "mail_from = files@example.com\n"
	    "http_threads = 3\n");
	setenv("RESETD_WORKERS", "8", 1);
	setenv("RESETD_MAIL_FROM", "env@example.com", 1);
	setenv("RESETD_PUBLIC_URL", "https://reset.example.com", 1);
	setenv("RESETD_MAIL_POLL_MS", "10", 1);
	c = load_ok(f, f->path);
	assert_int_equal(c->workers, 8);
	assert_string_equal(c->mail_from, "env@example.com");
	assert_string_equal(c->public_url, "https://reset.example.com");
	assert_int_equal(c->mail_poll_ms, 10);
	/* What the environment does not set comes from the file. */
	assert_string_equal(c->listen, "0.0.0.0:9000");
	assert_int_equal(c->http_threads, 3);
	config_free(c);

	/* The environment alone, without a file, overrides the defaults. */
	c = load_ok(f, NULL);
	assert_int_equal(c->workers, 8);
	assert_string_equal(c->listen, "127.0.0.1:8080");
	assert_int_equal(c->http_threads, 2);
	config_free(c);
}

static void
test_file_from_env(void **state)
{
	struct fixture *f = *state;
	char other[UNIT_PATH_MAX], want[600];
	struct config *c;

	write_conf(f, "workers = 5\n");
	setenv("RESETD_CONFIG", f->path, 1);
	c = load_ok(f, NULL);
	assert_int_equal(c->workers, 5);
	config_free(c);

	/* An explicit path wins over RESETD_CONFIG. */
	unit_write_file(f->dir, "other.conf", "workers = 6\n", other);
	c = load_ok(f, other);
	assert_int_equal(c->workers, 6);
	config_free(c);

	/* An empty RESETD_CONFIG means no file. */
	setenv("RESETD_CONFIG", "", 1);
	c = load_ok(f, NULL);
	assert_int_equal(c->workers, 32);
	config_free(c);

	/* A RESETD_CONFIG naming a missing file is an error. */
	snprintf(other, sizeof(other), "%s/missing.conf", f->dir);
	setenv("RESETD_CONFIG", other, 1);
	snprintf(want, sizeof(want),
	    "cannot open %s: No such file or directory", other);
	load_fails(f, NULL, want);
}

static void
test_unknown_key(void **state)
{
	struct fixture *f = *state;
	char want[600];

	write_conf(f,
	    "# comment\n"
	    "workers = 4\n"
	    "bogus_key = 1\n");
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus_key'", f->path);
	load_fails(f, f->path, want);

	/* Keys are case-sensitive. */
	write_conf(f, "Workers = 4\n");
	snprintf(want, sizeof(want), "%s:1: unknown key 'Workers'", f->path);
	load_fails(f, f->path, want);

	/* An environment name is not a file key. */
	write_conf(f, "\n\nRESETD_WORKERS = 4\n");
	snprintf(want, sizeof(want), "%s:3: unknown key 'RESETD_WORKERS'",
	    f->path);
	load_fails(f, f->path, want);
}

static void
test_missing_equals(void **state)
{
	struct fixture *f = *state;
	char want[600];

	write_conf(f,
	    "workers = 4\n"
	    "listen 127.0.0.1:9000\n");
	snprintf(want, sizeof(want), "%s:2: expected key = value", f->path);
	load_fails(f, f->path, want);

	/* A '=' only inside a comment does not count. */
	write_conf(f, "listen # = 127.0.0.1:9000\n");
	snprintf(want, sizeof(want), "%s:1: expected key = value", f->path);
	load_fails(f, f->path, want);
}

static void
test_bad_integers(void **state)
{
	static const char *const bad[] = {
		"workers = 12abc\n",
		"workers = abc\n",
		"workers =\n",
		"workers = 0x10\n",
		"workers = 4.5\n",
		"workers = 4 5\n",
		"workers = 99999999999999999999999\n",
		"workers = -99999999999999999999999\n",
		/* Out of range: 1 to 1024. */
		"workers = 0\n",
		"workers = -1\n",
		"workers = 1025\n",
		NULL,
	};
	struct fixture *f = *state;
	const char *const *b;
	struct config *c;
	char want[600];

	write_conf(f, "");
	snprintf(want, sizeof(want),
	    "%s:1: workers: expected a whole number from 1 to 1024", f->path);
	for (b = bad; *b != NULL; b++) {
		write_conf(f, *b);
		load_fails(f, f->path, want);
	}
	/* The bounds themselves are fine. */
	write_conf(f, "workers = 1\n");
	c = load_ok(f, f->path);
	assert_int_equal(c->workers, 1);
	config_free(c);
	write_conf(f, "workers = 1024\n");
	c = load_ok(f, f->path);
	assert_int_equal(c->workers, 1024);
	config_free(c);

	/* Another key names its own range. */
	write_conf(f, "\nmail_poll_ms = 9\n");
	snprintf(want, sizeof(want),
	    "%s:2: mail_poll_ms: expected a whole number from 10 to 600000",
	    f->path);
	load_fails(f, f->path, want);

	/* From the environment, the message names the variable. */
	setenv("RESETD_WORKERS", "lots", 1);
	load_fails(f, NULL,
	    "RESETD_WORKERS: workers: expected a whole number from 1 to 1024");
	setenv("RESETD_WORKERS", "2000", 1);
	load_fails(f, NULL,
	    "RESETD_WORKERS: workers: expected a whole number from 1 to 1024");
	setenv("RESETD_WORKERS", "", 1);
	load_fails(f, NULL,
	    "RESETD_WORKERS: workers: expected a whole number from 1 to 1024");
}

static void
test_server_secret(void **state)
{
	struct fixture *f = *state;
	struct config *c;
	char *s;

	/* 63 and 65 characters, a non-hex character, empty. */
	setenv("RESETD_SERVER_SECRET",
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
	    1);
	load_fails(f, NULL, "server_secret: expected 64 hex characters");
	setenv("RESETD_SERVER_SECRET", SECRET64 "0", 1);
	load_fails(f, NULL, "server_secret: expected 64 hex characters");
	s = strdup(SECRET64);
	assert_non_null(s);
	s[10] = 'g';
	setenv("RESETD_SERVER_SECRET", s, 1);
	free(s);
	load_fails(f, NULL, "server_secret: expected 64 hex characters");
	setenv("RESETD_SERVER_SECRET", "", 1);
	load_fails(f, NULL, "server_secret: expected 64 hex characters");

	setenv("RESETD_SERVER_SECRET", SECRET64, 1);
	c = load_ok(f, NULL);
	assert_string_equal(c->server_secret, SECRET64);
	config_free(c);

	write_conf(f, "server_secret = abc\n");
	unsetenv("RESETD_SERVER_SECRET");
	load_fails(f, f->path, "server_secret: expected 64 hex characters");
}

static void
test_public_url(void **state)
{
	struct fixture *f = *state;
	struct config *c;

	/* Derived from listen when unset. */
	setenv("RESETD_LISTEN", "localhost:7070", 1);
	c = load_ok(f, NULL);
	assert_string_equal(c->public_url, "http://localhost:7070");
	config_free(c);

	/* Trailing slashes trimmed, one or many. */
	setenv("RESETD_PUBLIC_URL", "https://reset.example.com/", 1);
	c = load_ok(f, NULL);
	assert_string_equal(c->public_url, "https://reset.example.com");
	config_free(c);
	setenv("RESETD_PUBLIC_URL", "https://example.com/reset///", 1);
	c = load_ok(f, NULL);
	assert_string_equal(c->public_url, "https://example.com/reset");
	config_free(c);
	setenv("RESETD_PUBLIC_URL", "http://example.com:8080", 1);
	c = load_ok(f, NULL);
	assert_string_equal(c->public_url, "http://example.com:8080");
	config_free(c);

	/* Anything but http(s) is refused. */
	setenv("RESETD_PUBLIC_URL", "ftp://example.com", 1);
	load_fails(f, NULL, "public_url: expected an http(s) URL");
	setenv("RESETD_PUBLIC_URL", "example.com", 1);
	load_fails(f, NULL, "public_url: expected an http(s) URL");
	setenv("RESETD_PUBLIC_URL", "///", 1);
	load_fails(f, NULL, "public_url: expected an http(s) URL");
}

static void
test_other_checks(void **state)
{
	struct fixture *f = *state;
	char want[600];

	setenv("RESETD_LISTEN", "8080", 1);
	load_fails(f, NULL, "listen: expected host:port");
	unsetenv("RESETD_LISTEN");

	setenv("RESETD_LOG_LEVEL", "verbose", 1);
	load_fails(f, NULL, "log_level: expected debug, info, warn or error");
	unsetenv("RESETD_LOG_LEVEL");

	setenv("RESETD_MAIL_FROM", "no-at-sign", 1);
	load_fails(f, NULL, "mail_from: expected a plain address");
	setenv("RESETD_MAIL_FROM", "Name <a@b.c>", 1);
	load_fails(f, NULL, "mail_from: expected a plain address");
	setenv("RESETD_MAIL_FROM", "a@b.c\r\nBcc: x@y.z", 1);
	load_fails(f, NULL, "mail_from: expected a plain address");
	unsetenv("RESETD_MAIL_FROM");
	setenv("RESETD_MAIL_FROM_NAME", "Acme\r\nBcc: x@y.z", 1);
	load_fails(f, NULL,
	    "mail_from_name: control characters and line "
	    "breaks cannot go into a header");
	setenv("RESETD_MAIL_FROM_NAME", "Acme\tSupport", 1);
	load_fails(f, NULL,
	    "mail_from_name: control characters and line "
	    "breaks cannot go into a header");
	unsetenv("RESETD_MAIL_FROM_NAME");

	/* A NUL byte in the file. */
	snprintf(f->path, sizeof(f->path), "%s/nul.conf", f->dir);
	{
		FILE *fp = fopen(f->path, "w");

		assert_non_null(fp);
		assert_int_equal(fwrite("workers = 4\0\n", 1, 13, fp), 13);
		assert_int_equal(fclose(fp), 0);
	}
	snprintf(want, sizeof(want), "%s: contains a NUL byte", f->path);
	load_fails(f, f->path, want);

	/* A value longer than 4096 bytes, in the file or the environment. */
	{
		char *v = unit_repeat("x", 4097), *text;

		setenv("RESETD_MAIL_FROM_NAME", v, 1);
		load_fails(f, NULL,
		    "RESETD_MAIL_FROM_NAME: mail_from_name: value too long");
		unsetenv("RESETD_MAIL_FROM_NAME");
		text = malloc(strlen(v) + 64);
		assert_non_null(text);
		sprintf(text, "\nmail_from_name = %s\n", v);
		write_conf(f, text);
		snprintf(want, sizeof(want),
		    "%s:2: mail_from_name: value too long", f->path);
		load_fails(f, f->path, want);
		free(text);
		free(v);
	}
}

/* config_print as a string the caller frees. */
static char *
print_to_string(const struct config *c,
    void (*fn)(const struct config *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	fn(c, fp);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(text);
	return text;
}

static void
usage_adapter(const struct config *c, FILE *fp)
{
	(void)c;
	config_usage(fp);
}

static void
test_print_and_usage(void **state)
{
	struct fixture *f = *state;
	const char *const *e;
	struct config *c;
	json_error_t jerr;
	json_t *root;
	char *text;

	setenv("RESETD_SERVER_SECRET", SECRET64, 1);
	setenv("RESETD_MAIL_FROM_NAME", "Acme \"Q\" \\ Co", 1);
	c = load_ok(f, NULL);
	text = print_to_string(c, config_print);
	config_free(c);
	/* Valid JSON with every key, the secret masked. */
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_null(strstr(text, SECRET64));
	assert_null(strstr(text, "00112233"));
	free(text);
	/* Every key the environment can set is printed under its name. */
	for (e = env_names + 1; *e != NULL; e++) {
		char key[64];
		size_t i;

		for (i = 0; (*e)[7 + i] != '\0' && i + 1 < sizeof(key); i++)
			key[i] = (char)tolower((unsigned char)(*e)[7 + i]);
		key[i] = '\0';
		if (json_object_get(root, key) == NULL) {
			json_decref(root);
			fail_msg("config_print has no %s", key);
		}
	}
	assert_string_equal(json_string_value(
				json_object_get(root, "server_secret")),
	    "(set)");
	assert_string_equal(json_string_value(
				json_object_get(root, "mail_from_name")),
	    "Acme \"Q\" \\ Co");
	assert_string_equal(json_string_value(
				json_object_get(root, "public_url")),
	    "http://127.0.0.1:8080");
	assert_int_equal(json_integer_value(json_object_get(root, "workers")),
	    32);
	json_decref(root);

	/* Unset, the secret prints as null. */
	unsetenv("RESETD_SERVER_SECRET");
	c = load_ok(f, NULL);
	text = print_to_string(c, config_print);
	config_free(c);
	root = json_loads(text, 0, &jerr);
	free(text);
	assert_non_null(root);
	assert_true(json_is_null(json_object_get(root, "server_secret")));
	json_decref(root);

	/* Usage names every environment variable. */
	text = print_to_string(NULL, usage_adapter);
	for (e = env_names + 1; *e != NULL; e++)
		if (strstr(text, *e) == NULL) {
			free(text);
			fail_msg("usage does not mention %s", *e);
		}
	free(text);
}

/* Load the text as a config file. */
static struct config *
load_text(struct fixture *f, const char *text)
{
	write_conf(f, text);
	return load_ok(f, f->path);
}

/*
 * What a reload logs: a key it applies against the configuration last
 * applied, any other against the one started with, as a warning; secret
 * values never.
 */
static void
test_log_changes(void **state)
{
	struct fixture *f = *state;
	struct config *running, *applied, *next;
	char file[UNIT_PATH_MAX], *text, *line, *save;
	int fd, saved, changed, restart, n = 0;
	json_t *v;
	struct stat st;

	running = load_text(f,
	    "listen = 127.0.0.1:8080\n"
	    "rate_ip_login = 30\nlog_level = info\n");
	applied = load_text(f,
	    "listen = 127.0.0.1:9090\n"
	    "rate_ip_login = 40\nlog_level = info\n");
	next = load_text(f,
	    "listen = 127.0.0.1:9090\n"
	    "rate_ip_login = 3\nlog_level = warn\nmail_username = u\n"
	    "mail_password = hunter2-secret\n"
	    "database = postgres://resetd:pg-hunter3@db/resetd\n"
	    "server_secret = " SECRET64 "\n");
	assert_int_equal(config_key_reloads("rate_ip_login"), 1);
	assert_int_equal(config_key_reloads("log_level"), 1);
	assert_int_equal(config_key_reloads("listen"), 0);
	assert_int_equal(config_key_reloads("database"), 0);
	assert_int_equal(config_key_reloads("no_such_key"), 0);

	snprintf(file, sizeof(file), "%s/log", f->dir);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	config_log_changes(running, applied, next, &changed, &restart);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_int_equal(pread(fd, text, (size_t)st.st_size, 0), st.st_size);
	close(fd);

	/* log_level, rate_ip_login, mail_username, mail_password changed. */
	assert_int_equal(changed, 4);
	/*
	 * listen and the public_url made from it, the database and the
	 * server secret wait for a restart.
	 */
	assert_int_equal(restart, 4);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "hunter3"));
	assert_null(strstr(text, "00112233"));
	assert_non_null(strstr(text,
	    "\"reload: database changed; it takes "
	    "effect at the next restart\""));
	assert_non_null(strstr(text, "\"reload: rate_ip_login: 40 -> 3\""));
	assert_non_null(strstr(text, "\"reload: mail_password changed\""));
	assert_non_null(strstr(text,
	    "reload: listen: 127.0.0.1:8080 -> "
	    "127.0.0.1:9090 takes effect at the next restart"));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		v = json_loads(line, 0, NULL);
		assert_non_null(v);
		assert_string_equal(json_string_value(
					json_object_get(v, "level")),
		    strstr(line, "restart") ? "warn" : "info");
		json_decref(v);
		n++;
	}
	assert_int_equal(n, 8);
	free(text);
	config_free(running);
	config_free(applied);
	config_free(next);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_overrides_defaults,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_overrides_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_from_env, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_equals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_integers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_secret, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_public_url, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_log_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_print_and_usage, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
