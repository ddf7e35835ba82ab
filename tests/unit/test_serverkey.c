/*
 * Unit tests of the server secret's home (core/serverkey.c) on a real
 * SQLite database in a temporary folder: where the secret is looked for,
 * the key file made on first start (0600, whole, never replaced), and the
 * upgrade of a database that still holds the secret in its settings
 * table, which must leave no copy of it in the database file or its WAL.
 *
 * The PostgreSQL rules depend only on the configured database's kind, so
 * they are tried here with a PostgreSQL URL in the configuration and the
 * SQLite store underneath; tests/e2e/secrets.test.js runs them for real.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <sodium.h>

#include "config.h"
#include "core/serverkey.h"
#include "log.h"
#include "store/store.h"

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

struct fixture {
	char dir[UNIT_DIR_MAX];
	char dbpath[UNIT_DIR_MAX + 16];
	char keypath[UNIT_DIR_MAX + 16];
	char url[UNIT_DIR_MAX + 32];
	struct config cfg;
	struct db *db;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	unit_tmpdir(f->dir);
	snprintf(f->dbpath, sizeof(f->dbpath), "%s/resetd.db", f->dir);
	snprintf(f->keypath, sizeof(f->keypath), "%s/resetd.key", f->dir);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->dbpath);
	f->cfg.database = f->url;
	assert_int_equal(db_open(f->url, 2, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

/* The secret an older version kept in the database. */
static void
store_old_secret(struct fixture *f, const char *hex)
{
	char *v = NULL;

	assert_int_equal(store_setting_get_or_put(f->db, "server_secret", hex,
			     &v),
	    STORE_OK);
	assert_string_equal(v, hex);
	free(v);
}

static int
has_stored_secret(struct fixture *f)
{
	char *v = NULL;
	int rc = store_setting_get(f->db, "server_secret", &v);

	free(v);
	assert_true(rc == STORE_OK || rc == STORE_NOT_FOUND);
	return rc == STORE_OK;
}

static void
assert_key(const uint8_t got[SERVERKEY_BYTES], const char *hex)
{
	char h[2 * SERVERKEY_BYTES + 1];

	hex_encode(got, SERVERKEY_BYTES, h);
	h[2 * SERVERKEY_BYTES] = '\0';
	assert_string_equal(h, hex);
}

/* The whole of a file, NUL-terminated, with its length; NULL if absent. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	long n;

	if (fp == NULL)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	b[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/* 1 when the bytes of needle occur in the file at path. */
static int
file_holds(const char *path, const char *needle)
{
	size_t len = 0;
	char *b = slurp(path, &len);
	int found;

	if (b == NULL)
		return 0;
	found = memmem(b, len, needle, strlen(needle)) != NULL;
	free(b);
	return found;
}

static int
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static void
test_locate(void **state)
{
	static const struct {
		const char *database;
		const char *secret;
		const char *file;
		enum serverkey_source src;
		const char *path;
	} cases[] = {
		{ "sqlite:./var/resetd.db", NULL, NULL, SERVERKEY_FILE,
		    "./var/resetd.key" },
		{ "sqlite:/srv/data", NULL, NULL, SERVERKEY_FILE,
		    "/srv/data.key" },
		{ "sqlite:/srv/x.sqlite", NULL, NULL, SERVERKEY_FILE,
		    "/srv/x.sqlite.key" },
		{ "sqlite:/srv/x.db", NULL, "/etc/k", SERVERKEY_FILE,
		    "/etc/k" },
		{ "sqlite:/srv/x.db", HEX_A, "/etc/k", SERVERKEY_CONFIG, NULL },
		{ "sqlite::memory:", NULL, NULL, SERVERKEY_MEMORY, NULL },
		{ "postgresql:///r", NULL, NULL, SERVERKEY_NONE, NULL },
		{ "postgres://u@h/r", NULL, "/etc/k", SERVERKEY_FILE,
		    "/etc/k" },
		{ "postgres://u@h/r", HEX_A, NULL, SERVERKEY_CONFIG, NULL },
	};
	struct config cfg;
	enum serverkey_source src;
	char path[SERVERKEY_PATH_MAX], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.database = (char *)cases[i].database;
		cfg.server_secret = (char *)cases[i].secret;
		cfg.server_secret_file = (char *)cases[i].file;
		path[0] = '\0';
		assert_int_equal(serverkey_locate(&cfg, &src, path,
				     sizeof(path), err, sizeof(err)),
		    0);
		assert_int_equal(src, cases[i].src);
		if (cases[i].path != NULL)
			assert_string_equal(path, cases[i].path);
	}
}

/* First start: a key file of its own, 0600 whatever the umask; then kept. */
static void
test_first_start(void **state)
{
	struct fixture *f = *state;
	uint8_t a[SERVERKEY_BYTES], b[SERVERKEY_BYTES];
	char hex[2 * SERVERKEY_BYTES + 1], *text;
	mode_t old = umask(022);
	size_t len;

	assert_int_equal(serverkey_load(&f->cfg, f->db, a), 0);
	umask(old);
	assert_int_equal(mode_of(f->keypath), 0600);
	text = slurp(f->keypath, &len);
	assert_non_null(text);
	assert_int_equal(len, 65);
	assert_int_equal(text[64], '\n');
	hex_encode(a, sizeof(a), hex);
	hex[64] = '\0';
	assert_memory_equal(text, hex, 64);
	free(text);
	assert_int_equal(has_stored_secret(f), 0);
	/* No temporary file left beside it. */
	assert_int_equal(access(f->keypath, F_OK), 0);
	/* The next start reads the same secret back. */
	assert_int_equal(serverkey_load(&f->cfg, f->db, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(file_holds(f->dbpath, hex), 0);
	assert_int_equal(db_open(f->url, 2, &f->db), 0);
}

/* Creating never replaces a key file another process made first. */
static void
test_file_create(void **state)
{
	struct fixture *f = *state;
	uint8_t a[SERVERKEY_BYTES], b[SERVERKEY_BYTES], got[SERVERKEY_BYTES];
	char err[256], path[UNIT_PATH_MAX], text[80];

	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	assert_int_equal(serverkey_file_read(f->keypath, got, err, sizeof(err)),
	    1);
	assert_int_equal(serverkey_file_create(f->keypath, a), 0);
	assert_int_equal(serverkey_file_create(f->keypath, b), 1);
	assert_int_equal(serverkey_file_read(f->keypath, got, err, sizeof(err)),
	    0);
	assert_memory_equal(got, a, sizeof(a));
	/* No folder to create it in. */
	snprintf(path, sizeof(path), "%s/none/k", f->dir);
	assert_int_equal(serverkey_file_create(path, a), -1);
	/* Malformed key files are refused, not used. */
	unit_write_file(f->dir, "short", "abcd\n", path);
	assert_int_equal(serverkey_file_read(path, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected 64 hex characters"));
	snprintf(text, sizeof(text), "zz%s\n", HEX_A + 2);
	unit_write_file(f->dir, "nothex", text, path);
	assert_int_equal(serverkey_file_read(path, got, err, sizeof(err)), -1);
	unit_write_file(f->dir, "long", HEX_A "00\n", path);
	assert_int_equal(serverkey_file_read(path, got, err, sizeof(err)), -1);
	/* White space around the end is allowed (an editor's newline). */
	unit_write_file(f->dir, "ok", HEX_B " \r\n", path);
	assert_int_equal(serverkey_file_read(path, got, err, sizeof(err)), 0);
	assert_key(got, HEX_B);
	assert_int_equal(serverkey_file_read(f->dir, got, err, sizeof(err)),
	    -1);
}

/*
 * An older database's secret moves to the key file; the row goes, and no
 * copy is left in the database file or its WAL.
 */
static void
test_upgrade_moves(void **state)
{
	struct fixture *f = *state;
	uint8_t got[SERVERKEY_BYTES];
	char wal[UNIT_DIR_MAX + 32], err[256];

	store_old_secret(f, HEX_A);
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_key(got, HEX_A);
	assert_int_equal(has_stored_secret(f), 0);
	assert_int_equal(mode_of(f->keypath), 0600);
	assert_int_equal(serverkey_file_read(f->keypath, got, err, sizeof(err)),
	    0);
	assert_key(got, HEX_A);
	snprintf(wal, sizeof(wal), "%s-wal", f->dbpath);
	assert_int_equal(file_holds(f->dbpath, HEX_A), 0);
	assert_int_equal(file_holds(wal, HEX_A), 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(file_holds(f->dbpath, HEX_A), 0);
	assert_int_equal(file_holds(wal, HEX_A), 0);
	assert_int_equal(db_open(f->url, 2, &f->db), 0);
	/* The next start finds it in the file alone. */
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_key(got, HEX_A);
}

/* The database's secret and an existing key file: equal or refused. */
static void
test_upgrade_file_exists(void **state)
{
	struct fixture *f = *state;
	uint8_t got[SERVERKEY_BYTES], key[SERVERKEY_BYTES];
	char err[256];

	assert_int_equal(hex_decode(HEX_B, 64, key), 32);
	assert_int_equal(serverkey_file_create(f->keypath, key), 0);
	store_old_secret(f, HEX_A);
	/* Everything in the database is keyed by its secret: refuse. */
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), -1);
	assert_int_equal(has_stored_secret(f), 1);
	assert_int_equal(serverkey_file_read(f->keypath, got, err, sizeof(err)),
	    0);
	assert_key(got, HEX_B);
	/* The same secret in both: the row goes. */
	assert_int_equal(unlink(f->keypath), 0);
	assert_int_equal(hex_decode(HEX_A, 64, key), 32);
	assert_int_equal(serverkey_file_create(f->keypath, key), 0);
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_key(got, HEX_A);
	assert_int_equal(has_stored_secret(f), 0);
}

/* A configured secret wins, as it did before; the unused row goes. */
static void
test_upgrade_configured(void **state)
{
	struct fixture *f = *state;
	uint8_t got[SERVERKEY_BYTES];

	store_old_secret(f, HEX_A);
	f->cfg.server_secret = HEX_B;
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_key(got, HEX_B);
	assert_int_equal(has_stored_secret(f), 0);
	assert_int_equal(access(f->keypath, F_OK), -1);
	f->cfg.server_secret = NULL;
}

/* PostgreSQL: nothing is ever generated; a stored secret moves if told. */
static void
test_postgres_rules(void **state)
{
	struct fixture *f = *state;
	uint8_t got[SERVERKEY_BYTES];
	char desc[512];

	f->cfg.database = "postgresql:///resetd";
	/* Nothing configured: refused, with or without a stored secret. */
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), -1);
	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), -1);
	assert_non_null(strstr(desc, "server_secret_file"));
	store_old_secret(f, HEX_A);
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), -1);
	assert_int_equal(has_stored_secret(f), 1);
	/* A key file named but absent: the stored secret moves there. */
	f->cfg.server_secret_file = f->keypath;
	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), 0);
	assert_non_null(strstr(desc, "does not exist"));
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_key(got, HEX_A);
	assert_int_equal(has_stored_secret(f), 0);
	assert_int_equal(mode_of(f->keypath), 0600);
	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), 0);
	assert_null(strstr(desc, HEX_A));
	/* Then it is read from there. */
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_key(got, HEX_A);
	/* Absent, and nothing to move: refused, and no file made. */
	assert_int_equal(unlink(f->keypath), 0);
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), -1);
	assert_int_equal(access(f->keypath, F_OK), -1);
	f->cfg.server_secret_file = NULL;
	f->cfg.database = f->url;
}

static void
test_describe(void **state)
{
	struct fixture *f = *state;
	uint8_t got[SERVERKEY_BYTES];
	char desc[512], path[UNIT_PATH_MAX];

	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), 0);
	assert_non_null(strstr(desc, "created at the first start"));
	assert_non_null(strstr(desc, f->keypath));
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), 0);
	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), 0);
	assert_non_null(strstr(desc, "key file "));
	assert_null(strstr(desc, "created"));
	f->cfg.server_secret = HEX_A;
	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), 0);
	assert_null(strstr(desc, HEX_A));
	f->cfg.server_secret = NULL;
	unit_write_file(f->dir, "bad.key", "nope\n", path);
	f->cfg.server_secret_file = path;
	assert_int_equal(serverkey_describe(&f->cfg, desc, sizeof(desc)), -1);
	assert_int_equal(serverkey_load(&f->cfg, f->db, got), -1);
	f->cfg.server_secret_file = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locate),
		cmocka_unit_test_setup_teardown(test_first_start, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_create, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_moves, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_file_exists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_configured, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_postgres_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	if (log_set_level("error") == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
