/*
 * Unit tests of the event log's store (store/store_event.c) and of
 * recording events (mail/webhook.c's webhook_emit) on a temporary SQLite
 * file: the list's filters and cursor, the janitor's purge by age, the
 * webhook deliveries an event queues (only to endpoints that take it),
 * and endpoint secrets sealed to their own row.
 */
#include "unit.h"

#include <sodium.h>

#include "mail/webhook.h"
#include "store/store.h"

#define T0 1700000000000LL
#define DAY 86400000LL

static const uint8_t key[32] = { 7, 7, 7 };

struct fixture {
	char dir[UNIT_DIR_MAX];
	struct db *db;
	struct db_conn *c;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char url[UNIT_PATH_MAX];
	struct project p = {
		.id = "p1",
		.name = "One",
		.callback_urls = "",
		.allowed_origins = "",
		.token_ttl = 3600,
		.delivery = "link",
		.created_at = T0,
	};

	if (f == NULL)
		return -1;
	unit_tmpdir(f->dir);
	snprintf(url, sizeof(url), "sqlite:%s/x.db", f->dir);
	assert_int_equal(db_open(url, 2, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->c = db_acquire(f->db);
	assert_int_equal(store_project_insert(f->c, &p), STORE_OK);
	p.id = "p2";
	assert_int_equal(store_project_insert(f->c, &p), STORE_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	db_release(f->db, f->c);
	db_close(f->db);
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

static void
add_event(struct db_conn *c, const char *id, const char *project,
    const char *name, int64_t at)
{
	struct event_row e = { (char *)id, (char *)project, (char *)name,
		"{\"object\":\"user\"}", at };

	assert_int_equal(store_event_insert(c, &e), STORE_OK);
}

/* The ids listed for f, joined by spaces, into out. */
static void
ids(struct db_conn *c, const struct event_filter *f, char *out, size_t n)
{
	struct store_list l;
	size_t i;

	out[0] = '\0';
	assert_int_equal(store_event_list(c, f, &l), STORE_OK);
	for (i = 0; i < l.n; i++) {
		const struct event_row *e = l.items[i];

		snprintf(out + strlen(out), n - strlen(out), "%s%s",
		    i ? " " : "", e->id);
	}
	store_list_free(&l, (void (*)(void *))event_row_free);
}

static void
test_list_filters(void **state)
{
	struct fixture *f = *state;
	const char *created[] = { "user.created", NULL };
	const char *two[] = { "session.created", "user.deleted", NULL };
	struct event_filter q = { .project_id = "p1", .limit = 100 };
	char got[256];

	add_event(f->c, "a", "p1", "user.created", T0);
	add_event(f->c, "b", "p1", "session.created", T0 + 10);
	add_event(f->c, "c", "p2", "user.created", T0 + 20);
	add_event(f->c, "d", "p1", "user.created", T0 + 30);
	add_event(f->c, "e", "p1", "user.deleted", T0 + 40);

	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "a b d e");
	q.names = created;
	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "a d");
	q.names = two;
	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "b e");
	q.names = NULL;
	q.after = "b";
	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "d e");
	q.after = NULL;
	q.range_start = T0 + 10;
	q.range_end = T0 + 40; /* excluded */
	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "b d");
	q.range_start = 0;
	q.range_end = 0;
	q.limit = 2;
	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "a b");
}

static void
test_purge(void **state)
{
	struct fixture *f = *state;
	struct event_filter q = { .project_id = "p1", .limit = 100 };
	char got[256];

	add_event(f->c, "old1", "p1", "user.created", T0 - 40 * DAY);
	add_event(f->c, "old2", "p1", "user.created", T0 - 31 * DAY);
	add_event(f->c, "new1", "p1", "user.created", T0 - 29 * DAY);
	/* In batches: at most limit a call, until nothing is left. */
	assert_int_equal(store_event_purge(f->db, T0 - 30 * DAY, 1), 1);
	assert_int_equal(store_event_purge(f->db, T0 - 30 * DAY, 10), 1);
	assert_int_equal(store_event_purge(f->db, T0 - 30 * DAY, 10), 0);
	ids(f->c, &q, got, sizeof(got));
	assert_string_equal(got, "new1");
}

struct emit_tx {
	const char *project;
	const char *name;
	int queued;
};

static int
emit_tx(struct db_conn *c, void *arg)
{
	struct emit_tx *t = arg;

	return webhook_emit(c, key, t->project, t->name,
	    "{\"object\":\"user\",\"id\":\"user_x\"}", T0, 0, &t->queued);
}

static void
add_endpoint(struct fixture *f, const char *id, const char *project,
    const char *events)
{
	char *sealed = webhook_secret_seal(key, id, project, "whsec_AAAA");
	struct webhook_endpoint w = { (char *)id, (char *)project,
		"https://hooks.example.com/x", (char *)events, sealed, T0 };

	assert_int_equal(store_webhook_insert(f->c, &w), STORE_OK);
	free(sealed);
}

static void
test_emit_queues_for_takers(void **state)
{
	struct fixture *f = *state;
	struct emit_tx t = { "p1", "user.created", 0 };
	struct store_list l;
	size_t i, webhooks = 0;
	int to_all = 0, to_created = 0;

	add_endpoint(f, "w-all", "p1", "*");
	add_endpoint(f, "w-created", "p1", "session.created\nuser.created");
	add_endpoint(f, "w-session", "p1", "session.created");
	add_endpoint(f, "w-other", "p2", "*");
	assert_int_equal(db_write(f->db, emit_tx, &t), 0);
	assert_int_equal(t.queued, 2);
	assert_int_equal(store_outbox_list(f->c, NULL, 100, &l), STORE_OK);
	for (i = 0; i < l.n; i++) {
		const struct outbox_msg *m = l.items[i];

		if (strcmp(m->kind, WEBHOOK_KIND) != 0)
			continue;
		webhooks++;
		assert_string_equal(m->project_id, "p1");
		assert_true(str_has_prefix(m->payload, "v1:"));
		to_all += strcmp(m->to_addr, "w-all") == 0;
		to_created += strcmp(m->to_addr, "w-created") == 0;
	}
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
	assert_int_equal(webhooks, 2);
	assert_int_equal(to_all, 1);
	assert_int_equal(to_created, 1);

	/* An event nobody takes is recorded and queues nothing. */
	t = (struct emit_tx){ "p1", "user.deleted", 0 };
	add_endpoint(f, "w-none", "p2", "user.deleted");
	assert_int_equal(db_write(f->db, emit_tx, &t), 0);
	assert_int_equal(t.queued, 1); /* w-all only */
	t = (struct emit_tx){ "p2", "session.revoked", 0 };
	assert_int_equal(db_write(f->db, emit_tx, &t), 0);
	assert_int_equal(t.queued, 1); /* w-other */
}

static void
test_secret_bound_to_row(void **state)
{
	char *sealed, *open;
	uint8_t other[32] = { 8 };

	(void)state;
	sealed = webhook_secret_seal(key, "w1", "p1", "whsec_c2VjcmV0");
	assert_non_null(sealed);
	assert_null(strstr(sealed, "c2VjcmV0"));
	open = webhook_secret_open(key, "w1", "p1", sealed);
	assert_string_equal(open, "whsec_c2VjcmV0");
	xfree_secret(open);
	assert_null(webhook_secret_open(key, "w2", "p1", sealed));
	assert_null(webhook_secret_open(key, "w1", "p2", sealed));
	assert_null(webhook_secret_open(other, "w1", "p1", sealed));
	/* A bare text is no sealed secret, whatever it holds. */
	assert_null(webhook_secret_open(key, "w1", "p1", "{\"x\":1}"));
	assert_null(webhook_secret_open(key, "w1", "p1", NULL));
	free(sealed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_queues_for_takers,
		    setup, teardown),
		cmocka_unit_test(test_secret_bound_to_row),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
