/*
 * The SQLite driver on a disk that refuses to grow files, and then lets
 * them grow again.  RLIMIT_FSIZE stands in for a full disk: every write
 * past 4 KiB of any file fails (EFBIG, as ENOSPC would), so no commit can
 * reach the WAL and no checkpoint the database file.  What must hold:
 *  - every write fails with DB_ERROR, none crashes, the database stays
 *    intact;
 *  - the driver logs one line for the episode, never the "cannot rollback"
 *    of a ROLLBACK after SQLite already rolled back, and one line when
 *    writes work again;
 *  - store_write_check says DB_ERROR while writes fail, STORE_OK after;
 *  - the first write once files may grow again succeeds.
 * The limit is process-wide, so this file runs this one test alone, and
 * the test's own log goes through a pipe, which no limit touches.
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include "log.h"
#include "store/db.h"
#include "store/store.h"

#define VALUE_LEN (8 * 1024)
#define FAILED_WRITES 40

static int
put_tx(struct db_conn *c, void *arg)
{
	static int n;
	char key[32];
	int rc;

	snprintf(key, sizeof(key), "full-%d", n++);
	rc = db_exec(c, "INSERT INTO settings (key, value) VALUES ($1, $2)",
	    DB_ARGS(DB_TEXT(key), DB_TEXT(arg)));
	return rc < 0 ? rc : 0;
}

/* The number of lines in text that contain needle. */
static int
lines_with(const char *text, const char *needle)
{
	const char *p = text, *nl;
	int n = 0;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (memmem(p, (size_t)(nl - p), needle, strlen(needle)) != NULL)
			n++;
		p = *nl == '\n' ? nl + 1 : nl;
	}
	return n;
}

static void
test_disk_full(void **state)
{
	char dir[UNIT_DIR_MAX], path[UNIT_PATH_MAX], url[UNIT_PATH_MAX + 8];
	static char logged[256 * 1024];
	char *value = xmalloc(VALUE_LEN + 1);
	struct rlimit old, tight;
	struct db *db;
	sqlite3 *check = NULL;
	sqlite3_stmt *st = NULL;
	int pipefd[2], saved_err, i;
	ssize_t got;
	size_t len = 0;

	(void)state;
	memset(value, 'v', VALUE_LEN);
	value[VALUE_LEN] = '\0';
	unit_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/full.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(db_open(url, 2, &db), 0);
	assert_int_equal(store_migrate(db), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(db_write(db, put_tx, value), 0);
	/* The first check of a process probes once; it works. */
	assert_int_equal(store_write_check(db), STORE_OK);

	/* The log into a pipe that never blocks the writer. */
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(fcntl(pipefd[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(pipefd[0], F_SETFL, O_NONBLOCK), 0);
	saved_err = dup(STDERR_FILENO);
	assert_true(saved_err >= 0);
	assert_int_equal(dup2(pipefd[1], STDERR_FILENO), STDERR_FILENO);

	/* The disk is full. */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	tight = old;
	tight.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &tight), 0);
	for (i = 0; i < FAILED_WRITES; i++)
		assert_int_equal(db_write(db, put_tx, value), DB_ERROR);
	sleep(1); /* past the probe spacing since the check above */
	assert_int_equal(store_write_check(db), DB_ERROR);
	/* Within the spacing, the last probe's answer, no new write. */
	assert_int_equal(store_write_check(db), DB_ERROR);

	/* Space again: the next write works, and readiness follows. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(db_write(db, put_tx, value), 0);
	sleep(1);
	assert_int_equal(store_write_check(db), STORE_OK);

	assert_int_equal(dup2(saved_err, STDERR_FILENO), STDERR_FILENO);
	close(saved_err);
	close(pipefd[1]);
	while (len + 1 < sizeof(logged)) {
		got = read(pipefd[0], logged + len, sizeof(logged) - 1 - len);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	logged[len] = '\0';
	close(pipefd[0]);
	if (lines_with(logged, "cannot rollback") != 0 ||
	    lines_with(logged, "\"level\":\"error\"") != 1 ||
	    lines_with(logged, "writes fail") != 1 ||
	    lines_with(logged, "writes work again") != 1)
		fail_msg("%d failed writes logged:\n%s", FAILED_WRITES + 1,
		    logged);
	db_close(db);

	/* Everything answered is there, and the file is sound. */
	assert_int_equal(sqlite3_open_v2(path, &check, SQLITE_OPEN_READONLY,
			     NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(check, "PRAGMA integrity_check", -1,
			     &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(check,
			     "SELECT COUNT(*) FROM "
			     "settings WHERE key LIKE 'full-%'",
			     -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 6);
	sqlite3_finalize(st);
	sqlite3_close(check);
	free(value);
	unit_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
