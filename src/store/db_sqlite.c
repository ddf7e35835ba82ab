/*
 * The SQLite driver: the embedded default.
 *
 * The database runs in WAL mode with synchronous=FULL, so a committed
 * transaction is on disk before db_write returns.  Readers take connections
 * from a pool and never block the writer; all writes go through one writer
 * connection, which is cheaper than letting several connections fight over
 * SQLite's write lock with sleeps and retries.  (Opening a connection may
 * retry: see set_wal.)
 *
 * Writes are group-committed.  A durable commit costs an fsync, and the
 * fsync, not the SQL, is what limits a disk to a few thousand commits a
 * second.  So db_write queues its function, and a caller that finds no
 * batch in progress becomes the leader: it takes the queued functions,
 * runs each inside its own SAVEPOINT in one transaction, and commits once.
 * A function that fails is rolled back to its savepoint alone, so one
 * request's failure neither fails nor commits the others'.  Each caller is
 * answered only after the COMMIT of its batch has returned.
 *
 * Every waiting caller sleeps on a semaphore of its own.  After a commit
 * the leader wakes each caller of its batch, then hands the lead to the
 * first caller still queued: one wake-up per caller, and none of them has
 * to fight the others for a lock on the way out.
 *
 * Once a commit leaves the WAL CHECKPOINT_FRAMES pages long, the leader
 * copies it back into the database file (a checkpoint) between waking its
 * batch and handing the lead on: the batch's answers do not wait for that
 * copy; the leader's own and the next batch do.  A WAL that readers kept
 * from starting over grows past WAL_LARGE_FRAMES; then the checkpoint also
 * truncates it, when it can do so without waiting.
 *
 * A full disk (or a failing or read-only one) makes commits fail.  SQLite
 * then has rolled the transaction back by itself, so the leader does not
 * ask for a ROLLBACK that would only fail again.  The first failure of an
 * episode is logged, the others are counted, and the first commit that
 * works again logs one line with the count.  After a batch that did not
 * commit (at most every FAILED_CHECKPOINT_MS, as failures come fast and a
 * try may copy the whole WAL), the leader tries a checkpoint that
 * truncates the WAL, without waiting for readers: the frames already committed then move into the
 * database file as soon as there is room for them, and the WAL's space is
 * given back, so a little freed space is enough for writes to work again
 * (otherwise the WAL only grows, and would need megabytes before its next
 * checkpoint).  While the disk is nearly full, every commit is copied back
 * at once, so the WAL starts over in the space it has instead of growing
 * into the last free bytes.  The statement journal,
 * what a SAVEPOINT rolls back to, is kept in memory: on disk it cost a
 * write for every page a request changed.
 *
 * Each connection keeps its prepared statements, keyed by the address of
 * the SQL text: the store's SQL is static, so the address names it.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <sqlite3.h>

#include "../util/metrics.h"
#include "../log.h"
#include "db.h"

#define STMT_CACHE_SIZE 128
#define BUSY_TIMEOUT_MS 10000
#define WAL_RETRY_MS 5	       /* between tries to switch a new file to WAL */
#define GROUP_MAX 256	       /* most write functions in one commit */
#define CHECKPOINT_FRAMES 1000 /* WAL pages that call for a checkpoint */
#define WAL_LARGE_FRAMES 8000  /* WAL pages that call for truncating it */
#define LOW_SPACE_BYTES (1024 * 1024) /* less free makes writes doubtful */
#define FAILED_CHECKPOINT_MS 100 /* between checkpoints after failed batches */

/* What wal_committed found due; the leader's alone. */
enum checkpoint_due {
	CHECKPOINT_NONE,
	CHECKPOINT_COPY,     /* copy the WAL into the database file */
	CHECKPOINT_TRUNCATE, /* that, and truncate the WAL if possible */
};

struct sqlite_rows {
	struct db_rows base;
	struct sqlite_conn *conn;
	sqlite3_stmt *stmt;
	int cached; /* stmt belongs to the cache */
	int busy;   /* handed out and not done yet */
	int64_t changes;
};

struct stmt_slot {
	const char *sql;
	struct sqlite_rows rows;
};

struct sqlite_conn {
	struct db_conn base;
	sqlite3 *db;
	struct stmt_slot cache[STMT_CACHE_SIZE];
	int ncache;
	struct sqlite_conn *next_free;
	struct sqlite_db *writer_of; /* the writer's database, or NULL */
};

/* What a queued db_write call is woken for. */
enum job_wake {
	JOB_DONE, /* its batch committed (or failed): rc is set */
	JOB_LEAD, /* it leads the next batch */
};

/* A db_write call waiting for its batch, on its caller's stack. */
struct write_job {
	int (*fn)(struct db_conn *, void *);
	void *arg;
	int rc;
	enum job_wake wake; /* set before posting woken */
	sem_t woken;
	struct write_job *next;
};

struct sqlite_db {
	char *path;
	pthread_mutex_t lock; /* guards the pool */
	pthread_cond_t freed;
	struct sqlite_conn *free_list;
	int open, max;
	pthread_mutex_t queue_lock; /* guards what follows */
	struct write_job *queue_head, *queue_tail;
	int leading;			    /* a leader is at work */
	struct sqlite_conn *writer;	    /* the leader's alone */
	enum checkpoint_due checkpoint_due; /* the leader's alone */
	int wal_written;		    /* the leader's: by this commit */
	int failing;			    /* the leader's: an episode */
	int64_t failed_batches;		    /* the leader's: in it */
	int64_t failed_checkpoint_at;	    /* the leader's */
};

extern const struct db_driver db_driver_sqlite;

static int
exec_simple(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sqlite: %s: %s", sql, msg != NULL ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * Put a connection's database in WAL mode (a no-op once the file is).
 * Switching a new file needs its exclusive lock, and two connections
 * switching at once (instances starting together on a new database) can
 * each hold the shared lock the other must wait out: SQLite then fails
 * one with SQLITE_BUSY at once, without its busy handler, which would
 * deadlock.  So a busy switch is tried again, for as long as the busy
 * timeout would have waited.
 */
static int
set_wal(sqlite3 *db)
{
	char *msg = NULL;
	int rc, waited = 0;

	for (;;) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
		    &msg);
		if (rc != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		sqlite3_free(msg);
		msg = NULL;
		sqlite3_sleep(WAL_RETRY_MS);
		waited += WAL_RETRY_MS;
	}
	if (rc != SQLITE_OK) {
		log_error("sqlite: PRAGMA journal_mode=WAL: %s",
		    msg != NULL ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
conn_free(struct sqlite_conn *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].rows.stmt);
	sqlite3_close(c->db);
	free(c);
}

static struct sqlite_conn *
conn_open(const char *path)
{
	struct sqlite_conn *c = xcalloc(1, sizeof(*c));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;

	c->base.driver = &db_driver_sqlite;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
		log_error("sqlite: cannot open %s: %s", path,
		    c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
		conn_free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	if (set_wal(c->db) == -1 ||
	    exec_simple(c->db, "PRAGMA synchronous=FULL") == -1 ||
	    exec_simple(c->db, "PRAGMA foreign_keys=ON") == -1 ||
	    exec_simple(c->db, "PRAGMA temp_store=MEMORY") == -1 ||
	    exec_simple(c->db, "PRAGMA secure_delete=ON") == -1) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* Create the folders above path, as mkdir -p would. */
static int
make_parents(const char *path)
{
	char *p = xstrdup(path);
	char *s;
	int rc = 0;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			rc = log_fail("sqlite: cannot create %s: %s", p,
			    strerror(errno));
			break;
		}
		*s = '/';
	}
	free(p);
	return rc;
}

/*
 * After each commit of the writer: note when the WAL has grown long enough
 * to be copied back into the database file.  Waiting for CHECKPOINT_FRAMES
 * pages lets a page written by many commits be copied once.
 */
static int
wal_committed(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqlite_db *s = arg;

	(void)db;
	(void)name;
	s->wal_written = 1;
	if (frames >= WAL_LARGE_FRAMES)
		s->checkpoint_due = CHECKPOINT_TRUNCATE;
	else if (frames >= CHECKPOINT_FRAMES)
		s->checkpoint_due = CHECKPOINT_COPY;
	return SQLITE_OK;
}

/*
 * 1 when an error code is about the storage rather than the statement: a
 * full disk, an I/O error, a read-only or vanished file.  These fail every
 * write alike, so they are logged once per episode (writer_fault).
 */
static int
storage_error(int code)
{
	switch (code & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return 1;
	default:
		return 0;
	}
}

/*
 * A statement of the writer failed for want of storage: log the first
 * failure of an episode, count the others.  The leader's alone.
 */
static void
writer_fault(struct sqlite_db *s, const char *what)
{
	if (s->failing)
		return;
	s->failing = 1;
	s->failed_batches = 0;
	log_error("sqlite: writes fail: %s: %s (further failures are counted, "
		  "not logged, until a write works again)",
	    what, sqlite3_errmsg(s->writer->db));
}

/*
 * Checkpoint without waiting: readers or another process in the way make
 * it do what it can and return.  TRUNCATE also empties the WAL file when
 * every frame was copied.  Quiet when writes are failing anyway.
 */
static void
checkpoint_now(struct sqlite_db *s, int mode)
{
	sqlite3 *db = s->writer->db;
	int rc;

	sqlite3_busy_timeout(db, 0);
	rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, NULL, NULL);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY && !s->failing)
		log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(db));
}

static int
sq_open(const char *url, int pool_size, void **handle)
{
	struct sqlite_db *s;
	const char *path = url + strlen("sqlite:");

	if (*path == '\0')
		return log_fail("database: sqlite: needs a path");
	if (sqlite3_threadsafe() == 0)
		return log_fail("sqlite: library built without thread safety");
	if (make_parents(path) == -1)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->max = pool_size > 0 ? pool_size : 8;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	pthread_mutex_init(&s->queue_lock, NULL);
	s->writer = conn_open(s->path);
	if (s->writer == NULL) {
		free(s->path);
		free(s);
		return -1;
	}
	s->writer->writer_of = s;
	/* In place of SQLite's checkpoint inside COMMIT: see batch_finish. */
	sqlite3_wal_hook(s->writer->db, wal_committed, s);
	*handle = s;
	return 0;
}

static void
sq_close(void *handle)
{
	struct sqlite_db *s = handle;
	struct sqlite_conn *c, *next;

	for (c = s->free_list; c != NULL; c = next) {
		next = c->next_free;
		conn_free(c);
	}
	/* The last connection to close checkpoints what is left. */
	conn_free(s->writer);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->queue_lock);
	free(s->path);
	free(s);
}

static struct db_conn *
sq_acquire(void *handle)
{
	struct sqlite_db *s = handle;
	struct sqlite_conn *c = NULL;
	int make = 0;

	pthread_mutex_lock(&s->lock);
	while (s->free_list == NULL && s->open >= s->max)
		pthread_cond_wait(&s->freed, &s->lock);
	if (s->free_list != NULL) {
		c = s->free_list;
		s->free_list = c->next_free;
	} else {
		s->open++;
		make = 1;
	}
	pthread_mutex_unlock(&s->lock);
	if (make) {
		c = conn_open(s->path);
		if (c == NULL) {
			pthread_mutex_lock(&s->lock);
			s->open--;
			pthread_cond_signal(&s->freed);
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
	}
	return &c->base;
}

static void
sq_release(void *handle, struct db_conn *base)
{
	struct sqlite_db *s = handle;
	struct sqlite_conn *c = (struct sqlite_conn *)base;

	pthread_mutex_lock(&s->lock);
	c->next_free = s->free_list;
	s->free_list = c;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

static int sq_query(struct db_conn *, const char *, const struct db_value *,
    int, struct db_rows **);
static int sq_write_doubt(void *);
static void sq_done(struct db_rows *);

/*
 * Run one of the writer's fixed statements (BEGIN, SAVEPOINT and the like);
 * 0 or -1, logged.  They are prepared once and kept, like the store's.
 */
static int
writer_exec(struct sqlite_db *s, const char *sql)
{
	struct db_rows *r;
	int rc;

	if (sq_query(&s->writer->base, sql, NULL, 0, &r) != 0)
		return -1;
	rc = sqlite3_step(((struct sqlite_rows *)r)->stmt);
	if (rc != SQLITE_DONE && storage_error(rc))
		writer_fault(s, sql);
	else if (rc != SQLITE_DONE)
		log_error("sqlite: %s: %s", sql, sqlite3_errmsg(s->writer->db));
	sq_done(r);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Run a batch of write functions in one transaction, each inside its own
 * savepoint, and commit once.  Sets every job's rc; 0 when the batch
 * committed, -1 when nothing of it did.
 */
static int
run_batch(struct sqlite_db *s, struct write_job *batch)
{
	sqlite3 *db = s->writer->db;
	struct write_job *j, *k;
	int64_t t0;
	int rc, n = 0;

	s->wal_written = 0;
	if (writer_exec(s, "BEGIN IMMEDIATE") == -1) {
		for (j = batch; j != NULL; j = j->next)
			j->rc = DB_ERROR;
		return -1;
	}
	for (j = batch; j != NULL; j = j->next) {
		if (writer_exec(s, "SAVEPOINT job") == -1) {
			rc = DB_ERROR;
		} else {
			rc = j->fn(&s->writer->base, j->arg);
			if (rc != 0 && !sqlite3_get_autocommit(db) &&
			    (writer_exec(s, "ROLLBACK TO job") == -1 ||
				writer_exec(s, "RELEASE job") == -1))
				rc = DB_ERROR;
			if (rc == 0 && writer_exec(s, "RELEASE job") == -1)
				rc = DB_ERROR;
		}
		j->rc = rc;
		/*
		 * An I/O error or a full disk can make SQLite roll the whole
		 * transaction back: then nothing of this batch will commit.
		 */
		if (sqlite3_get_autocommit(db)) {
			for (k = batch; k != NULL; k = k->next)
				k->rc = DB_ERROR;
			if (!s->failing)
				log_error(
				    "sqlite: a write batch was rolled back");
			return -1;
		}
	}
	for (j = batch; j != NULL; j = j->next)
		n++;
	metrics_observe(H_DB_BATCH, n);
	t0 = time_mono_us();
	rc = writer_exec(s, "COMMIT");
	metrics_observe(H_DB_COMMIT, time_mono_us() - t0);
	if (rc == -1) {
		/*
		 * A full disk or an I/O error rolls the transaction back by
		 * itself; a ROLLBACK then would only fail and log again.
		 */
		if (!sqlite3_get_autocommit(db))
			(void)writer_exec(s, "ROLLBACK");
		for (j = batch; j != NULL; j = j->next)
			if (j->rc == 0)
				j->rc = DB_ERROR;
		return -1;
	}
	return 0;
}

/*
 * Take the next batch off the queue: up to GROUP_MAX jobs, the leader's
 * own first among them.  Under queue_lock.
 */
static struct write_job *
batch_take(struct sqlite_db *s)
{
	struct write_job *batch = s->queue_head, *last = batch;
	int n;

	for (n = 1; n < GROUP_MAX && last->next != NULL; n++)
		last = last->next;
	s->queue_head = last->next;
	if (s->queue_head == NULL)
		s->queue_tail = NULL;
	last->next = NULL;
	return batch;
}

/*
 * After a batch: wake every job of it but the leader's own, note the end
 * of a failing episode or count one more failed batch, checkpoint if that
 * is due, then hand the lead to the first job still queued or give it up.
 * A job's memory is its caller's again once it is posted.
 */
static void
batch_finish(struct sqlite_db *s, struct write_job *batch,
    struct write_job *self, int committed)
{
	struct write_job *heir, *j, *next;
	sqlite3 *db = s->writer->db;

	for (j = batch; j != NULL; j = next) {
		next = j->next;
		if (j == self)
			continue;
		j->wake = JOB_DONE;
		sem_post(&j->woken);
	}
	if (!committed) {
		if (s->failing)
			s->failed_batches++;
		/* Failed batches come fast; each try may copy the whole WAL. */
		if (time_mono_ms() - s->failed_checkpoint_at >=
		    FAILED_CHECKPOINT_MS) {
			checkpoint_now(s, SQLITE_CHECKPOINT_TRUNCATE);
			s->failed_checkpoint_at = time_mono_ms();
		}
	} else if (s->failing && s->wal_written) {
		/* A commit that wrote nothing (no rows changed) proves little. */
		s->failing = 0;
		log_info("sqlite: writes work again, after %lld failed batches",
		    (long long)s->failed_batches);
	}
	/*
	 * On a nearly full disk the WAL must not grow: copied back after
	 * every commit, it starts over at the next one in the space it has.
	 */
	if (committed && s->wal_written &&
	    s->checkpoint_due == CHECKPOINT_NONE && sq_write_doubt(s))
		s->checkpoint_due = CHECKPOINT_COPY;
	if (s->checkpoint_due == CHECKPOINT_TRUNCATE) {
		s->checkpoint_due = CHECKPOINT_NONE;
		checkpoint_now(s, SQLITE_CHECKPOINT_TRUNCATE);
	} else if (s->checkpoint_due == CHECKPOINT_COPY) {
		s->checkpoint_due = CHECKPOINT_NONE;
		if (sqlite3_wal_checkpoint_v2(db, NULL,
			SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) != SQLITE_OK)
			log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(db));
	}
	pthread_mutex_lock(&s->queue_lock);
	heir = s->queue_head;
	if (heir == NULL)
		s->leading = 0;
	pthread_mutex_unlock(&s->queue_lock);
	if (heir != NULL) {
		heir->wake = JOB_LEAD;
		sem_post(&heir->woken);
	}
}

static int
sq_write(void *handle, int (*fn)(struct db_conn *, void *), void *arg)
{
	struct sqlite_db *s = handle;
	struct write_job job = { fn, arg, 0, JOB_DONE, { { 0 } }, NULL };
	struct write_job *batch;
	int lead, committed;

	sem_init(&job.woken, 0, 0);
	pthread_mutex_lock(&s->queue_lock);
	if (s->queue_tail != NULL)
		s->queue_tail->next = &job;
	else
		s->queue_head = &job;
	s->queue_tail = &job;
	/* No leader means an empty queue: this job is its head. */
	lead = !s->leading;
	s->leading = 1;
	pthread_mutex_unlock(&s->queue_lock);
	if (!lead) {
		while (sem_wait(&job.woken) == -1)
			continue; /* EINTR */
		lead = job.wake == JOB_LEAD;
	}
	if (lead) {
		/* The lead passes down the queue, so this job heads it. */
		pthread_mutex_lock(&s->queue_lock);
		batch = batch_take(s);
		pthread_mutex_unlock(&s->queue_lock);
		committed = run_batch(s, batch) == 0;
		batch_finish(s, batch, &job, committed);
	}
	sem_destroy(&job.woken);
	return job.rc;
}

static int
sq_script(struct db_conn *base, const char *sql)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;

	return exec_simple(c->db, sql) == 0 ? 0 : DB_ERROR;
}

/*
 * Bind values by name: SQLite numbers "$1"-style parameters in the order
 * they first appear, so "$3 ... $2" would bind the wrong way round by
 * position.  Looking each name up keeps the shared SQL's meaning.
 */
static int
bind_all(sqlite3_stmt *st, const struct db_value *v, int n)
{
	char name[16];
	int i, idx, rc = SQLITE_OK;

	if (sqlite3_bind_parameter_count(st) != n)
		return -1;
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		snprintf(name, sizeof(name), "$%d", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (idx == 0)
			return -1;
		switch (v[i].type) {
		case DB_NULL:
			rc = sqlite3_bind_null(st, idx);
			break;
		case DB_INT:
			rc = sqlite3_bind_int64(st, idx, v[i].i);
			break;
		case DB_TEXT:
			rc = sqlite3_bind_text(st, idx, v[i].s, -1,
			    SQLITE_STATIC);
			break;
		default:
			abort();
		}
	}
	return rc == SQLITE_OK ? 0 : -1;
}

static int
sq_query(struct db_conn *base, const char *sql, const struct db_value *v, int n,
    struct db_rows **out)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	struct sqlite_rows *r = NULL;
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql && !c->cache[i].rows.busy) {
			r = &c->cache[i].rows;
			break;
		}
	}
	if (r == NULL) {
		if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
			return log_fail("sqlite: prepare: %s",
			    sqlite3_errmsg(c->db));
		if (c->ncache < STMT_CACHE_SIZE) {
			c->cache[c->ncache].sql = sql;
			r = &c->cache[c->ncache++].rows;
			r->cached = 1;
		} else {
			r = xcalloc(1, sizeof(*r));
			r->cached = 0;
		}
		r->base.driver = &db_driver_sqlite;
		r->conn = c;
		r->stmt = st;
	}
	if (bind_all(r->stmt, v, n) == -1) {
		log_error("sqlite: cannot bind %d parameters", n);
		sqlite3_reset(r->stmt);
		sqlite3_clear_bindings(r->stmt);
		if (!r->cached) {
			sqlite3_finalize(r->stmt);
			free(r);
		}
		return DB_ERROR;
	}
	r->busy = 1;
	r->changes = 0;
	*out = &r->base;
	return 0;
}

static int
sq_next(struct db_rows *base)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;
	int rc;

	rc = sqlite3_step(r->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		r->changes = sqlite3_changes(r->conn->db);
		return 0;
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return DB_CONSTRAINT;
	if (r->conn->writer_of != NULL && storage_error(rc))
		writer_fault(r->conn->writer_of, "step");
	else
		log_error("sqlite: step: %s", sqlite3_errmsg(r->conn->db));
	return DB_ERROR;
}

static int
sq_is_null(struct db_rows *base, int col)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;

	return sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

static int64_t
sq_col_int(struct db_rows *base, int col)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;

	return sqlite3_column_int64(r->stmt, col);
}

static const char *
sq_col_text(struct db_rows *base, int col)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;

	return (const char *)sqlite3_column_text(r->stmt, col);
}

static int64_t
sq_changes(struct db_rows *base)
{
	return ((struct sqlite_rows *)base)->changes;
}

static void
sq_done(struct db_rows *base)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;

	sqlite3_reset(r->stmt);
	sqlite3_clear_bindings(r->stmt);
	r->busy = 0;
	if (!r->cached) {
		sqlite3_finalize(r->stmt);
		free(r);
	}
}

static int64_t
sq_now(void *handle)
{
	(void)handle;
	return time_now_ms();
}

/*
 * Writes are in doubt when the database's file system is read-only or has
 * less than LOW_SPACE_BYTES free: one statvfs, no I/O.  A probe write then
 * tells whether they still work (a checkpointed WAL can take writes on a
 * full disk).
 */
static int
sq_write_doubt(void *handle)
{
	struct sqlite_db *s = handle;
	struct statvfs sv;

	if (statvfs(s->path, &sv) == -1)
		return 1;
	if (sv.f_flag & ST_RDONLY)
		return 1;
	return (unsigned long long)sv.f_bavail * sv.f_frsize < LOW_SPACE_BYTES;
}

static const char *const sqlite_prefixes[] = { "sqlite:", NULL };

const struct db_driver db_driver_sqlite = {
	.name = "sqlite",
	.prefixes = sqlite_prefixes,
	.open = sq_open,
	.close = sq_close,
	.acquire = sq_acquire,
	.release = sq_release,
	.write = sq_write,
	.script = sq_script,
	.query = sq_query,
	.next = sq_next,
	.is_null = sq_is_null,
	.col_int = sq_col_int,
	.col_text = sq_col_text,
	.changes = sq_changes,
	.done = sq_done,
	.now = sq_now,
	.write_doubt = sq_write_doubt,
};
