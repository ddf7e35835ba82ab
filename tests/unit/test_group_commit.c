/*
 * Group commit on SQLite: many threads call db_write at once and their
 * functions share commits.  What must still hold for each caller:
 *  - a function that fails is rolled back alone; the others of its batch
 *    commit;
 *  - db_write returns only once the caller's rows are committed (another
 *    connection sees them at that moment);
 *  - everything answered is there after the database is reopened.
 * And the WAL is copied back into the database file as writes go on, so it
 * stays short.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "unit.h"

#include "store/db.h"
#include "store/store.h"

#define THREADS 16
#define ROUNDS 40

struct shared {
	struct db *db;
	char path[UNIT_PATH_MAX];
};

struct put {
	const char *key;
	int fail; /* 0, or what the function returns after writing */
};

static int
put_tx(struct db_conn *c, void *arg)
{
	struct put *p = arg;
	int rc;

	rc = db_exec(c, "INSERT INTO settings (key, value) VALUES ($1, 'v')",
	    DB_ARGS(DB_TEXT(p->key)));
	if (rc < 0)
		return rc;
	return p->fail;
}

/* 1 when a separate connection, opened now, sees the key committed. */
static int
visible_elsewhere(const char *path, const char *key)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM settings WHERE key = ?", -1,
		&st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return found;
}

struct worker {
	struct shared *sh;
	int id;
	int errors; /* wrong answers seen */
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char key[64];
	struct put p;
	int i, rc;

	for (i = 0; i < ROUNDS; i++) {
		snprintf(key, sizeof(key), "k-%d-%d", w->id, i);
		p.key = key;
		/* Every fifth write of odd threads fails after writing. */
		p.fail = (w->id % 2 == 1 && i % 5 == 0) ? 7 : 0;
		rc = db_write(w->sh->db, put_tx, &p);
		if (rc != p.fail)
			w->errors++;
		/* Answered means committed: visible at once, or never. */
		if (visible_elsewhere(w->sh->path, key) != (p.fail == 0))
			w->errors++;
		/* A duplicate key fails with a constraint, alone. */
		if (i % 10 == 9) {
			p.fail = 0;
			snprintf(key, sizeof(key), "k-%d-%d", w->id, i - 1);
			if ((i - 1) % 5 != 0 || w->id % 2 == 0) {
				rc = db_write(w->sh->db, put_tx, &p);
				if (rc != DB_CONSTRAINT)
					w->errors++;
			}
		}
	}
	return NULL;
}

static int
count_keys(struct db *db)
{
	struct db_conn *c = db_acquire(db);
	struct db_rows *r;
	int n = -1;

	assert_non_null(c);
	assert_int_equal(db_query(c,
			     "SELECT COUNT(*) FROM settings WHERE key "
			     "LIKE 'k-%'",
			     DB_NOARGS, &r),
	    0);
	if (db_next(r) == 1)
		n = (int)db_int(r, 0);
	db_done(r);
	db_release(db, c);
	return n;
}

static void
test_concurrent_batches(void **state)
{
	char dir[UNIT_DIR_MAX], url[UNIT_PATH_MAX + 8];
	struct shared sh;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int i, expected = 0;

	(void)state;
	unit_tmpdir(dir);
	snprintf(sh.path, sizeof(sh.path), "%s/gc.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", sh.path);
	assert_int_equal(db_open(url, 4, &sh.db), 0);
	assert_int_equal(store_migrate(sh.db), 0);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ &sh, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
				     &w[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
		expected += i % 2 == 1 ? ROUNDS - ROUNDS / 5 : ROUNDS;
	}
	assert_int_equal(count_keys(sh.db), expected);
	db_close(sh.db);

	/* Reopened: every answered write is still there. */
	assert_int_equal(db_open(url, 4, &sh.db), 0);
	assert_int_equal(count_keys(sh.db), expected);
	db_close(sh.db);
	unit_rmdir(dir);
}

#define BIG_VALUE (64 * 1024)
#define BIG_WRITES 200

static int
put_big_tx(struct db_conn *c, void *arg)
{
	const char *value = arg;
	char key[64];
	static int n;
	int rc;

	snprintf(key, sizeof(key), "big-%d", n++);
	rc = db_exec(c, "INSERT INTO settings (key, value) VALUES ($1, $2)",
	    DB_ARGS(DB_TEXT(key), DB_TEXT(value)));
	return rc < 0 ? rc : 0;
}

/*
 * 200 commits of 64 KiB each would leave about 13 MiB of WAL if nothing
 * were checkpointed; the writer checkpoints every few MiB, so the WAL
 * starts over and never holds more than a few MiB.
 */
static void
test_wal_checkpointed(void **state)
{
	char dir[UNIT_DIR_MAX], path[UNIT_PATH_MAX], url[UNIT_PATH_MAX + 8];
	char wal[UNIT_PATH_MAX + 8];
	char *value = xmalloc(BIG_VALUE + 1);
	struct db *db;
	struct stat st;
	int i;

	(void)state;
	memset(value, 'x', BIG_VALUE);
	value[BIG_VALUE] = '\0';
	unit_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/wal.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(db_open(url, 2, &db), 0);
	assert_int_equal(store_migrate(db), 0);
	for (i = 0; i < BIG_WRITES; i++)
		assert_int_equal(db_write(db, put_big_tx, value), 0);
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size < 8 * 1024 * 1024);
	db_close(db);
	free(value);
	unit_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_batches),
		cmocka_unit_test(test_wal_checkpointed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
