/*
 * The event log and webhook endpoints, over the db interface: rows of
 * events (core/event.c writes them in the transaction of the change they
 * record) and of the endpoints they are posted to (mail/webhook.c), plus
 * the small read and write they need of projects.
 *
 * An event list filters by name with EVENT_FILTER_MAX parameter slots
 * that are NULL when unused, so that one statement text serves every
 * filter and is prepared once per connection.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define EVENT_FILTER_MAX 16 /* names one list may filter by */

static int
read_rows(struct db_conn *c, const char *sql, const struct db_value *v, int n,
    void *(*fn)(struct db_rows *), struct store_list *out)
{
	struct db_rows *r;
	struct store_list l = { NULL, 0 };
	size_t cap = 0;
	int rc;

	rc = db_query(c, sql, v, n, &r);
	if (rc < 0)
		return rc;
	while ((rc = db_next(r)) == 1) {
		if (l.n == cap) {
			cap = cap ? cap * 2 : 8;
			l.items = xrealloc(l.items, cap * sizeof(*l.items));
		}
		l.items[l.n++] = fn(r);
	}
	db_done(r);
	if (rc < 0) {
		free(l.items);
		return rc;
	}
	*out = l;
	return STORE_OK;
}

/* events */

#define EVENT_COLS "id, project_id, event, data, created_at"

static void *
event_read(struct db_rows *r)
{
	struct event_row *e = xcalloc(1, sizeof(*e));

	e->id = db_strdup(r, 0);
	e->project_id = db_strdup(r, 1);
	e->event = db_strdup(r, 2);
	e->data = db_strdup(r, 3);
	e->created_at = db_int(r, 4);
	return e;
}

void
event_row_free(struct event_row *e)
{
	if (e == NULL)
		return;
	free(e->id);
	free(e->project_id);
	free(e->event);
	free(e->data);
	free(e);
}

int
store_event_insert(struct db_conn *c, const struct event_row *e)
{
	int rc;

	rc = db_exec(c,
	    "INSERT INTO events (" EVENT_COLS ") VALUES ($1, $2, "
	    "$3, $4, $5)",
	    DB_ARGS(DB_TEXT(e->id), DB_TEXT(e->project_id), DB_TEXT(e->event),
		DB_TEXT(e->data), DB_INT(e->created_at)));
	return rc < 0 ? rc : STORE_OK;
}

int
store_event_list(struct db_conn *c, const struct event_filter *f,
    struct store_list *out)
{
	struct db_value v[5 + EVENT_FILTER_MAX];
	int i, named = 0;

	v[0] = DB_TEXT(f->project_id);
	v[1] = DB_TEXT(f->after != NULL ? f->after : "");
	v[2] = DB_INT(f->range_start);
	v[3] = DB_INT(f->range_end > 0 ? f->range_end : INT64_MAX);
	for (i = 0; i < EVENT_FILTER_MAX; i++) {
		const char *name = NULL;

		if (f->names != NULL && f->names[named] != NULL)
			name = f->names[named++];
		v[5 + i] = DB_TEXT(name);
	}
	if (f->names != NULL && f->names[named] != NULL)
		return DB_ERROR; /* the caller caps the names */
	v[4] = DB_INT(f->names != NULL && f->names[0] != NULL);
	return read_rows(c,
	    "SELECT " EVENT_COLS " FROM events WHERE "
	    "project_id = $1 AND id > $2 AND created_at >= $3 AND "
	    "created_at < $4 AND ($5 = 0 OR event IN ($6, $7, $8, $9, $10, "
	    "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)) "
	    "ORDER BY id LIMIT $22",
	    (const struct db_value[]){ v[0], v[1], v[2], v[3], v[4], v[5], v[6],
		v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15],
		v[16], v[17], v[18], v[19], v[20], DB_INT(f->limit) },
	    22, event_read, out);
}

struct purge_events {
	int64_t before;
	int64_t limit;
	int deleted;
};

static int
purge_events_tx(struct db_conn *c, void *arg)
{
	struct purge_events *p = arg;

	p->deleted = db_exec(c,
	    "DELETE FROM events WHERE id IN (SELECT id "
	    "FROM events WHERE created_at < $1 LIMIT $2)",
	    DB_ARGS(DB_INT(p->before), DB_INT(p->limit)));
	return p->deleted < 0 ? p->deleted : 0;
}

int
store_event_purge(struct db *db, int64_t before, int64_t limit)
{
	struct purge_events p = { before, limit, 0 };
	int rc;

	rc = db_write(db, purge_events_tx, &p);
	return rc != 0 ? DB_ERROR : p.deleted;
}

/* webhook endpoints */

#define WEBHOOK_COLS "id, project_id, url, events, secret_sealed, created_at"

static void *
webhook_read(struct db_rows *r)
{
	struct webhook_endpoint *w = xcalloc(1, sizeof(*w));

	w->id = db_strdup(r, 0);
	w->project_id = db_strdup(r, 1);
	w->url = db_strdup(r, 2);
	w->events = db_strdup(r, 3);
	w->secret_sealed = db_strdup(r, 4);
	w->created_at = db_int(r, 5);
	return w;
}

void
webhook_endpoint_free(struct webhook_endpoint *w)
{
	if (w == NULL)
		return;
	free(w->id);
	free(w->project_id);
	free(w->url);
	free(w->events);
	free(w->secret_sealed);
	free(w);
}

int
store_webhook_insert(struct db_conn *c, const struct webhook_endpoint *w)
{
	int rc;

	rc = db_exec(c,
	    "INSERT INTO webhook_endpoints (" WEBHOOK_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6)",
	    DB_ARGS(DB_TEXT(w->id), DB_TEXT(w->project_id), DB_TEXT(w->url),
		DB_TEXT(w->events), DB_TEXT(w->secret_sealed),
		DB_INT(w->created_at)));
	return rc < 0 ? rc : STORE_OK;
}

int
store_webhook_get(struct db_conn *c, const char *id,
    struct webhook_endpoint **out)
{
	struct store_list l;
	int rc;

	rc = read_rows(c,
	    "SELECT " WEBHOOK_COLS " FROM webhook_endpoints "
	    "WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), webhook_read, &l);
	if (rc != STORE_OK)
		return rc;
	if (l.n == 0) {
		free(l.items);
		return STORE_NOT_FOUND;
	}
	*out = l.items[0];
	free(l.items);
	return STORE_OK;
}

int
store_webhook_list(struct db_conn *c, const char *project_id,
    struct store_list *out)
{
	return read_rows(c,
	    "SELECT " WEBHOOK_COLS " FROM webhook_endpoints "
	    "WHERE project_id = $1 ORDER BY created_at, id",
	    DB_ARGS(DB_TEXT(project_id)), webhook_read, out);
}

int
store_webhook_delete(struct db_conn *c, const char *project_id, const char *id)
{
	return db_exec(c,
	    "DELETE FROM webhook_endpoints WHERE project_id = $1 "
	    "AND id = $2",
	    DB_ARGS(DB_TEXT(project_id), DB_TEXT(id)));
}

/* projects */

int
store_project_private_targets(struct db_conn *c, const char *id, int *on)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c,
	    "SELECT allow_private_targets FROM projects WHERE "
	    "id = $1",
	    DB_ARGS(DB_TEXT(id)), &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*on = db_int(r, 0) != 0;
		rc = STORE_OK;
	} else if (rc == 0)
		rc = STORE_NOT_FOUND;
	db_done(r);
	return rc;
}
