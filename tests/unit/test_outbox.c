/*
 * Unit tests of the outbox (mail/outbox.c): queueing inside the caller's
 * transaction, the JSON payload, dropped decoy rows, and the sender
 * threads delivering to a Maildir, retrying temporary failures with
 * backoff and giving up on permanent ones.
 */
#include "unit.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "mail/outbox.h"
#include "mail/payload.h"

#define T0 1700000000000LL

/* The key the fixture's payloads are sealed with. */
static const uint8_t test_key[PAYLOAD_KEY_BYTES] = { 7, 1, 2, 3 };

struct fixture {
	char dir[UNIT_DIR_MAX];
	char maildir[UNIT_DIR_MAX * 2];
	char mail_url[UNIT_PATH_MAX];
	struct db *db;
	struct db_conn *c;
	struct config cfg;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char url[UNIT_PATH_MAX];
	struct project p = {
		.id = "p-a",
		.name = "Acme",
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
	assert_int_equal(db_open(url, 4, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->c = db_acquire(f->db);
	assert_non_null(f->c);
	assert_int_equal(store_project_insert(f->c, &p), STORE_OK);

	snprintf(f->maildir, sizeof(f->maildir), "%s/mail", f->dir);
	snprintf(f->mail_url, sizeof(f->mail_url), "maildir:%s", f->maildir);
	f->cfg.mail = f->mail_url;
	f->cfg.mail_from = "noreply@acme.test";
	f->cfg.mail_from_name = "Acme";
	f->cfg.mail_workers = 1;
	f->cfg.mail_max_tries = 5;
	f->cfg.mail_lease_seconds = 60;
	f->cfg.mail_poll_ms = 20;
	f->cfg.mail_backoff_ms = 5000;
	f->cfg.mail_max_age = 86400;
	f->cfg.mail_connect_timeout_ms = 1000;
	f->cfg.mail_send_timeout_ms = 5000;
	f->cfg.mail_starttls = "auto";
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

struct queue_arg {
	const struct outbox_item *item;
	int64_t now;
	int ret; /* returned after queueing */
	int rc;	 /* what outbox_queue said */
};

static int
queue_tx(struct db_conn *c, void *arg)
{
	struct queue_arg *q = arg;
	struct outbox_item it = *q->item;

	if (it.key == NULL)
		it.key = test_key;
	q->rc = outbox_queue(c, &it, q->now);
	if (q->rc != STORE_OK)
		return q->rc;
	return q->ret;
}

/* Queue one item in its own transaction. */
static void
queue(struct fixture *f, const struct outbox_item *it, int64_t now)
{
	struct queue_arg q = { it, now, 0, -99 };

	assert_int_equal(db_write(f->db, queue_tx, &q), 0);
	assert_int_equal(q.rc, STORE_OK);
}

/*
 * The payload of m opened: it is sealed, and the sealed text holds none of
 * needle (NULL: nothing to look for).  The caller frees the result.
 */
static char *
opened(const struct outbox_msg *m, const char *needle)
{
	char *text = NULL;

	assert_non_null(m->payload);
	assert_true(strncmp(m->payload, "v1:", 3) == 0);
	if (needle != NULL)
		assert_null(strstr(m->payload, needle));
	assert_int_equal(payload_open(test_key,
			     &(struct payload_ad){ m->id, m->project_id,
				 m->kind, m->to_addr },
			     m->payload, &text),
	    0);
	return text;
}

/* The only message in state, or NULL when there is none. */
static struct outbox_msg *
only_msg(struct fixture *f, const char *state)
{
	struct store_list l;
	struct outbox_msg *m = NULL;

	assert_int_equal(store_outbox_list(f->c, state, 10, &l), STORE_OK);
	assert_true(l.n <= 1);
	if (l.n == 1) {
		m = l.items[0];
		l.items[0] = NULL;
		free(l.items);
	} else
		store_list_free(&l, (void (*)(void *))outbox_msg_free);
	return m;
}

/* Wait up to 10 s for the only message to reach state. */
static struct outbox_msg *
wait_for(struct fixture *f, const char *state)
{
	struct outbox_msg *m;
	int i;

	for (i = 0; i < 1000; i++) {
		if ((m = only_msg(f, state)) != NULL)
			return m;
		unit_sleep_ms(10);
	}
	fail_msg("no message reached state %s", state);
	return NULL;
}

/* Files in the maildir's new/; the first one's text into *text. */
static int
maildir_count(struct fixture *f, char **text)
{
	char path[UNIT_PATH_MAX * 2];
	struct dirent *e;
	DIR *d;
	FILE *fp;
	long len;
	int n = 0;

	snprintf(path, sizeof(path), "%s/new", f->maildir);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0 && text != NULL) {
			snprintf(path, sizeof(path), "%s/new/%s", f->maildir,
			    e->d_name);
			fp = fopen(path, "rb");
			assert_non_null(fp);
			assert_int_equal(fseek(fp, 0, SEEK_END), 0);
			len = ftell(fp);
			rewind(fp);
			*text = calloc(1, (size_t)len + 1);
			assert_non_null(*text);
			assert_int_equal(fread(*text, 1, (size_t)len, fp),
			    (size_t)len);
			fclose(fp);
		}
	}
	closedir(d);
	return n;
}

static void
test_queue_pending(void **state)
{
	struct fixture *f = *state;
	const struct mail_var vars[] = {
		{ "link", "https://reset.test/r?t=a&b=\"c\"" },
		{ "project_name", "Acme \xc3\x89tudes\n<b>" },
		{ "empty", NULL },
		{ NULL, NULL },
	};
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
		.locale = "de",
		.vars = vars,
		.dropped = 0,
	};
	struct outbox_msg *m;
	json_t *root;
	json_error_t jerr;
	char *text;

	queue(f, &it, T0 + 7);
	m = only_msg(f, "pending");
	assert_non_null(m);
	assert_int_equal(id_is_uuid(m->id), 1);
	assert_string_equal(m->project_id, "p-a");
	assert_string_equal(m->kind, "reset_link");
	assert_string_equal(m->to_addr, "alice@example.com");
	assert_string_equal(m->locale, "de");
	assert_string_equal(m->state, "pending");
	assert_int_equal(m->tries, 0);
	assert_int_equal(m->next_try_at, T0 + 7);
	assert_int_equal(m->created_at, T0 + 7);
	assert_null(m->last_error);
	assert_int_equal(m->sent_at, 0);

	/* The payload is a sealed JSON object of exactly the vars. */
	text = opened(m, "reset.test");
	root = json_loads(text, 0, &jerr);
	free(text);
	assert_non_null(root);
	assert_true(json_is_object(root));
	assert_int_equal(json_object_size(root), 3);
	assert_string_equal(json_string_value(json_object_get(root, "link")),
	    "https://reset.test/r?t=a&b=\"c\"");
	assert_string_equal(json_string_value(
				json_object_get(root, "project_name")),
	    "Acme \xc3\x89tudes\n<b>");
	assert_string_equal(json_string_value(json_object_get(root, "empty")),
	    "");
	json_decref(root);
	outbox_msg_free(m);
	assert_null(only_msg(f, "dropped"));
}

static void
test_queue_no_vars(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "password_changed",
		.to = "bob@example.com",
		.locale = NULL,
		.vars = NULL,
	};
	struct outbox_msg *m;
	char *text;

	queue(f, &it, T0);
	m = only_msg(f, "pending");
	assert_non_null(m);
	assert_null(m->locale);
	text = opened(m, NULL);
	assert_string_equal(text, "{}");
	free(text);
	assert_string_equal(m->kind, "password_changed");
	outbox_msg_free(m);
}

static void
test_queue_dropped(void **state)
{
	struct fixture *f = *state;
	const struct mail_var vars[] = {
		{ "link", "https://reset.test/r?t=decoy" },
		{ NULL, NULL },
	};
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "",
		.locale = NULL,
		.vars = vars,
		.dropped = 1,
	};
	struct outbox_msg *m;
	struct store_list l;
	char *text;

	queue(f, &it, T0);
	assert_null(only_msg(f, "pending"));
	assert_null(only_msg(f, NULL));
	m = only_msg(f, "dropped");
	assert_non_null(m);
	assert_string_equal(m->state, "dropped");
	assert_string_equal(m->to_addr, "");
	/* A decoy is sealed like the rest: the same work. */
	text = opened(m, "decoy");
	assert_string_equal(text,
	    "{\"link\":\"https://reset.test/r?t=decoy\"}");
	free(text);
	assert_int_equal(m->next_try_at, T0);
	outbox_msg_free(m);
	/* Never claimed for sending. */
	assert_int_equal(store_outbox_claim(f->db, T0 + 3600000, T0 + 3660000,
			     10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 0);
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
}

static void
test_queue_rollback(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
	};
	struct queue_arg q = { &it, T0, 1, -99 };
	const struct outbox_item bad = {
		.project_id = "p-none",
		.kind = "reset_link",
		.to = "alice@example.com",
	};

	/* The mail goes when the change that caused it goes. */
	assert_int_equal(db_write(f->db, queue_tx, &q), 1);
	assert_int_equal(q.rc, STORE_OK);
	assert_null(only_msg(f, "pending"));
	/* A row for a project that does not exist is refused. */
	q.item = &bad;
	q.ret = 0;
	assert_int_equal(db_write(f->db, queue_tx, &q), DB_CONSTRAINT);
	assert_null(only_msg(f, "pending"));
}

static void
test_mailer_delivers(void **state)
{
	struct fixture *f = *state;
	const struct mail_var vars[] = {
		{ "link", "https://reset.test/r?t=abc" },
		{ "project_name", "Acme" },
		{ "email", "alice@example.com" },
		{ "ttl_minutes", "60" },
		{ NULL, NULL },
	};
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
		.locale = "pt_PT", /* no folder: English */
		.vars = vars,
	};
	const struct outbox_item decoy = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "",
		.vars = vars,
		.dropped = 1,
	};
	struct mailer *ml;
	struct outbox_msg *m;
	char *text = NULL;

	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	queue(f, &decoy, db_now(f->db));
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "sent");
	mailer_stop(ml);

	assert_string_equal(m->to_addr, "alice@example.com");
	assert_null(m->payload);
	assert_null(m->last_error);
	assert_int_equal(m->tries, 1);
	assert_true(m->sent_at > T0);
	outbox_msg_free(m);
	assert_null(only_msg(f, "pending"));

	/* One message, the decoy never written. */
	assert_int_equal(maildir_count(f, &text), 1);
	assert_non_null(text);
	assert_non_null(strstr(text, "\r\nTo: alice@example.com\r\n"));
	assert_non_null(
	    strstr(text, "\r\nFrom: \"Acme\" <noreply@acme.test>\r\n"));
	assert_non_null(
	    strstr(text, "\r\nSubject: Reset your Acme password\r\n"));
	assert_non_null(strstr(text, "@acme.test>\r\n"));
	/* The link, quoted-printable: '=' is written =3D. */
	assert_non_null(strstr(text, "https://reset.test/r?t=3Dabc"));
	assert_null(strstr(text, "{{"));
	free(text);
	m = only_msg(f, "dropped");
	assert_non_null(m);
	outbox_msg_free(m);
}

static void
test_mailer_permanent_failures(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item bad_to = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "not an address",
	};
	const struct outbox_item bad_kind = {
		.project_id = "p-a",
		.kind = "no_such_kind",
		.to = "alice@example.com",
	};
	struct mailer *ml;
	struct outbox_msg *m;

	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);

	queue(f, &bad_to, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "dead");
	assert_string_equal(m->last_error,
	    "malformed sender or recipient address");
	/* A dead message keeps its payload, for outbox retry. */
	assert_non_null(m->payload);
	assert_int_equal(m->tries, 1);
	outbox_msg_free(m);
	/* Move it out of the way: only_msg wants one per state. */
	assert_int_equal(db_exec(f->c, "DELETE FROM outbox", DB_NOARGS), 1);

	queue(f, &bad_kind, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "dead");
	assert_string_equal(m->last_error, "no template for no_such_kind");
	assert_int_equal(m->tries, 1);
	outbox_msg_free(m);
	mailer_stop(ml);
	assert_int_equal(maildir_count(f, NULL), 0);
}

/* Insert a row as it is, payload included, the way an older version did. */
static void
insert_raw(struct fixture *f, const char *id, const char *to,
    const char *payload)
{
	struct outbox_msg m;

	memset(&m, 0, sizeof(m));
	m.id = (char *)id;
	m.project_id = "p-a";
	m.kind = "reset_link";
	m.to_addr = (char *)to;
	m.payload = (char *)payload;
	m.state = "pending";
	m.next_try_at = db_now(f->db);
	m.created_at = db_now(f->db);
	assert_int_equal(store_outbox_insert(f->c, &m), STORE_OK);
}

/*
 * Mail queued in clear before an upgrade still goes out; a sealed payload
 * moved to another row, sealed under another key or tampered with does
 * not, and never reaches the transport.
 */
static void
test_mailer_payload_formats(void **state)
{
	struct fixture *f = *state;
	static const uint8_t other_key[PAYLOAD_KEY_BYTES] = { 9 };
	const char *id = "018f0000-0000-7000-8000-000000000001";
	const char *legacy =
	    "{\"link\":\"https://reset.test/r?t=legacy\","
	    "\"project_name\":\"Acme\",\"ttl_minutes\":\"60\"}";
	struct payload_ad ad = { id, "p-a", "reset_link", "alice@example.com" };
	struct outbox_msg *m;
	struct mailer *ml;
	char *sealed, *text = NULL;
	size_t n;
	int i;

	insert_raw(f, id, "alice@example.com", legacy);
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	mailer_wake(ml);
	m = wait_for(f, "sent");
	outbox_msg_free(m);
	assert_int_equal(maildir_count(f, &text), 1);
	assert_non_null(strstr(text, "https://reset.test/r?t=3Dlegacy"));
	free(text);
	assert_int_equal(db_exec(f->c, "DELETE FROM outbox", DB_NOARGS), 1);

	for (i = 0; i < 4; i++) {
		switch (i) {
		case 0: /* sealed for alice, moved to mallory's row */
			sealed = payload_seal(test_key, &ad, legacy);
			insert_raw(f, id, "mallory@example.com", sealed);
			break;
		case 1: /* sealed under another server secret */
			sealed = payload_seal(other_key, &ad, legacy);
			insert_raw(f, id, "alice@example.com", sealed);
			break;
		case 2: /* one character of the ciphertext changed */
			sealed = payload_seal(test_key, &ad, legacy);
			n = strlen(sealed);
			sealed[n / 2] = sealed[n / 2] == 'A' ? 'B' : 'A';
			insert_raw(f, id, "alice@example.com", sealed);
			break;
		default: /* neither sealed nor JSON */
			sealed = xstrdup("v2:AAAA");
			insert_raw(f, id, "alice@example.com", sealed);
			break;
		}
		free(sealed);
		mailer_wake(ml);
		m = wait_for(f, "dead");
		assert_string_equal(m->last_error, "malformed payload");
		outbox_msg_free(m);
		assert_int_equal(db_exec(f->c, "DELETE FROM outbox", DB_NOARGS),
		    1);
	}
	mailer_stop(ml);
	assert_int_equal(maildir_count(f, NULL), 1);
}

/* Replace the maildir's tmp/ with a file so every send fails for now. */
static void
break_maildir(struct fixture *f)
{
	char path[UNIT_PATH_MAX * 2], ignored[UNIT_PATH_MAX];

	snprintf(path, sizeof(path), "%s/tmp", f->maildir);
	assert_int_equal(rmdir(path), 0);
	unit_write_file(f->maildir, "tmp", "not a folder\n", ignored);
}

static void
test_mailer_temporary_failure(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
	};
	struct mailer *ml;
	struct outbox_msg *m;
	int64_t before, after;
	int i;

	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	break_maildir(f);
	before = db_now(f->db);
	queue(f, &it, before);
	mailer_wake(ml);
	/* Wait for the failure to be recorded. */
	m = NULL;
	for (i = 0; i < 1000; i++) {
		m = only_msg(f, "pending");
		if (m != NULL && m->last_error != NULL)
			break;
		outbox_msg_free(m);
		m = NULL;
		unit_sleep_ms(10);
	}
	after = db_now(f->db);
	mailer_stop(ml);
	assert_non_null(m);
	assert_string_equal(m->state, "pending");
	assert_string_equal(m->last_error, "maildir: Not a directory");
	assert_int_equal(m->tries, 1);
	assert_non_null(m->payload);
	/* Retried after 5 s, give or take a quarter. */
	assert_true(m->next_try_at >= before + 3750);
	assert_true(m->next_try_at <= after + 6250);
	outbox_msg_free(m);
	assert_int_equal(maildir_count(f, NULL), 0);
}

/* Messages pending with an error: failed once, waiting on backoff. */
static int
count_waiting(struct fixture *f)
{
	struct store_list l;
	size_t i;
	int n = 0;

	assert_int_equal(store_outbox_list(f->c, "pending", 100, &l), STORE_OK);
	for (i = 0; i < l.n; i++)
		if (((struct outbox_msg *)l.items[i])->last_error != NULL)
			n++;
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
	return n;
}

/*
 * The transport fails, three messages wait a minute of backoff each; the
 * transport comes back and a new message goes out: the three waiting ones
 * follow at once, not a minute later.
 */
static void
test_mailer_transport_back(void **state)
{
	struct fixture *f = *state;
	const char *to[] = { "a@example.com", "b@example.com",
		"c@example.com" };
	struct outbox_item it = { .project_id = "p-a", .kind = "reset_link" };
	char path[UNIT_PATH_MAX * 2];
	struct mailer *ml;
	int i;

	f->cfg.mail_backoff_ms = 60000;
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	break_maildir(f);
	for (i = 0; i < 3; i++) {
		it.to = to[i];
		queue(f, &it, db_now(f->db));
	}
	mailer_wake(ml);
	for (i = 0; i < 1000 && count_waiting(f) < 3; i++)
		unit_sleep_ms(10);
	assert_int_equal(count_waiting(f), 3);

	/* The transport is back. */
	snprintf(path, sizeof(path), "%s/tmp", f->maildir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	it.to = "d@example.com";
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	for (i = 0; i < 500 && maildir_count(f, NULL) < 4; i++)
		unit_sleep_ms(10);
	mailer_stop(ml);
	assert_int_equal(maildir_count(f, NULL), 4);
	assert_int_equal(count_waiting(f), 0);
}

static void
test_mailer_max_tries(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
	};
	struct mailer *ml;
	struct outbox_msg *m;

	f->cfg.mail_max_tries = 1;
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	break_maildir(f);
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "dead");
	mailer_stop(ml);
	assert_string_equal(m->last_error, "maildir: Not a directory");
	assert_int_equal(m->tries, 1);
	/* A dead message keeps its payload, for outbox retry. */
	assert_non_null(m->payload);
	outbox_msg_free(m);
}

static void
test_mailer_no_workers(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
	};
	struct mailer *ml;
	struct outbox_msg *m;

	f->cfg.mail_workers = 0;
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	unit_sleep_ms(200);
	m = only_msg(f, "pending");
	assert_non_null(m);
	assert_int_equal(m->tries, 0);
	outbox_msg_free(m);
	mailer_stop(ml);
	mailer_stop(NULL);
	assert_int_equal(maildir_count(f, NULL), 0);
}

static void
test_mailer_max_age(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
	};
	struct mailer *ml;
	struct outbox_msg *m;

	/* Tries are left, but the message is older than mail_max_age. */
	f->cfg.mail_max_age = 60;
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	break_maildir(f);
	queue(f, &it, db_now(f->db) - 61 * 1000);
	mailer_wake(ml);
	m = wait_for(f, "dead");
	mailer_stop(ml);
	assert_string_equal(m->last_error, "maildir: Not a directory");
	assert_int_equal(m->tries, 1);
	outbox_msg_free(m);
}

static void
test_mailer_backoff_setting(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "reset_link",
		.to = "alice@example.com",
	};
	struct mailer *ml;
	struct outbox_msg *m = NULL;
	int64_t before;
	int i;

	/* 100 ms, doubling: the second try comes soon and is counted. */
	f->cfg.mail_backoff_ms = 100;
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	break_maildir(f);
	before = db_now(f->db);
	queue(f, &it, before);
	mailer_wake(ml);
	/*
	 * Wait for the third failure to be recorded.  A claim sets next_try_at
	 * to the end of the lease, a recorded failure to the backoff: read
	 * between the two, the message is claimed, not failed.  With the
	 * default backoff (seconds), the next try would be far later.
	 */
	for (i = 0; i < 1000; i++) {
		m = only_msg(f, "pending");
		if (m != NULL && m->tries >= 3 && m->last_error != NULL &&
		    m->next_try_at - before < 5000)
			break;
		outbox_msg_free(m);
		m = NULL;
		unit_sleep_ms(10);
	}
	mailer_stop(ml);
	assert_non_null(m);
	/* 100 + 200 ms of backoff at least 75% each: 225 ms or more. */
	assert_true(db_now(f->db) - before >= 225);
	outbox_msg_free(m);
}

static void
test_mailer_queued_sender(void **state)
{
	struct fixture *f = *state;
	/* What the project says now is not what it said when queued. */
	struct project p = {
		.id = "p-b",
		.name = "Beta",
		.callback_urls = "",
		.allowed_origins = "",
		.token_ttl = 3600,
		.delivery = "link",
		.created_at = T0,
		.mail_from = "changed@beta.test",
		.mail_from_name = "Changed",
		.locale = "de",
	};
	const struct mail_var vars[] = {
		{ "link", "https://beta.test/r" },
		{ "project_name", "Beta" },
		{ NULL, NULL },
	};
	const struct outbox_item it = {
		.project_id = "p-b",
		.kind = "reset_link",
		.to = "bob@example.com",
		.locale = "de",
		.vars = vars,
		.from_addr = "hello@beta.test",
		.from_name = "B\xc3\xa9ta Support",
	};
	struct mailer *ml;
	struct outbox_msg *m;
	char *text = NULL;

	assert_int_equal(store_project_insert(f->c, &p), STORE_OK);
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL);
	assert_non_null(ml);
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "sent");
	mailer_stop(ml);
	outbox_msg_free(m);
	assert_int_equal(maildir_count(f, &text), 1);
	/* The queued sender, its name encoded; the Message-ID its domain. */
	assert_non_null(strstr(text,
	    "\r\nFrom: =?UTF-8?B?QsOpdGEgU3VwcG9ydA==?="
	    "\r\n <hello@beta.test>\r\n"));
	assert_non_null(strstr(text, "@beta.test>\r\nFrom"));
	assert_non_null(strstr(text, "Subject: =?UTF-8?B?"));
	assert_null(strstr(text, "noreply@acme.test"));
	assert_null(strstr(text, "changed@beta.test"));
	free(text);
}

/* A recorder that writes an audit row, then answers rc. */
struct recorder {
	int rc;
	int calls; /* guarded by lock */
	enum mail_fate fate;
	pthread_mutex_t lock;
};

static int
record(struct db_conn *c, const struct outbox_msg *m, enum mail_fate fate,
    int64_t now, void *arg)
{
	struct recorder *r = arg;
	char id[UUID_STRLEN + 1];
	struct audit_event a = {
		.id = id,
		.project_id = m->project_id,
		.created_at = now,
		.event = fate == MAIL_SENT ? "reset_mail_sent" :
					     "reset_mail_failed",
		.subject = m->subject,
	};
	int rc;

	id_new(id);
	rc = store_audit_insert(c, &a);
	pthread_mutex_lock(&r->lock);
	r->calls++;
	r->fate = fate;
	pthread_mutex_unlock(&r->lock);
	return rc != STORE_OK ? rc : r->rc;
}

static int
record_calls(struct recorder *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->calls;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static size_t
audit_rows(struct fixture *f)
{
	struct store_list l;
	size_t n;

	assert_int_equal(store_audit_list(f->c, NULL, 100, &l), STORE_OK);
	n = l.n;
	store_list_free(&l, (void (*)(void *))audit_event_free);
	return n;
}

/*
 * A message is marked sent, or dead, in the transaction that records it:
 * when the record fails, the marking is rolled back with it.
 */
static void
test_mailer_mark_and_record(void **state)
{
	struct fixture *f = *state;
	const struct outbox_item it = {
		.project_id = "p-a",
		.kind = "password_changed",
		.to = "alice@example.com",
		.subject = "s-alice",
	};
	const struct outbox_item bad = {
		.project_id = "p-a",
		.kind = "password_changed",
		.to = "not an address",
		.subject = "s-bad",
	};
	struct recorder r = { .rc = STORE_OK };
	struct mailer *ml;
	struct outbox_msg *m;
	int i;

	pthread_mutex_init(&r.lock, NULL);
	ml = mailer_start(&f->cfg, f->db, NULL, test_key, NULL, record, &r);
	assert_non_null(ml);
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "sent");
	outbox_msg_free(m);
	assert_int_equal(record_calls(&r), 1);
	assert_int_equal(r.fate, MAIL_SENT);
	assert_int_equal(audit_rows(f), 1);
	assert_int_equal(db_exec(f->c, "DELETE FROM outbox", DB_NOARGS), 1);

	/* Dead: recorded once, as dead. */
	queue(f, &bad, db_now(f->db));
	mailer_wake(ml);
	m = wait_for(f, "dead");
	outbox_msg_free(m);
	assert_int_equal(record_calls(&r), 2);
	assert_int_equal(r.fate, MAIL_DEAD);
	assert_int_equal(audit_rows(f), 2);
	assert_int_equal(db_exec(f->c, "DELETE FROM outbox", DB_NOARGS), 1);

	/* The record fails: the message is not marked, nor the row kept. */
	r.rc = DB_ERROR;
	queue(f, &it, db_now(f->db));
	mailer_wake(ml);
	for (i = 0; i < 1000 && record_calls(&r) < 3; i++)
		unit_sleep_ms(10);
	mailer_stop(ml);
	assert_int_equal(record_calls(&r), 3);
	assert_null(only_msg(f, "sent"));
	m = only_msg(f, "pending");
	assert_non_null(m);
	assert_int_equal(m->tries, 1);
	outbox_msg_free(m);
	assert_int_equal(audit_rows(f), 2);
	pthread_mutex_destroy(&r.lock);
}

/*
 * Run mailer_start in a child process, so that a crash is one failed test
 * rather than the end of the run; 1 when the child saw NULL come back.
 */
static int
start_fails_cleanly(struct fixture *f)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL,
			  NULL) == NULL ?
			0 :
			3);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_mailer_bad_transport(void **state)
{
	struct fixture *f = *state;

	f->cfg.mail = "ftp://localhost:25";
	assert_null(
	    mailer_start(&f->cfg, f->db, NULL, test_key, NULL, NULL, NULL));
}

/* A maildir transport that cannot be opened: NULL, not a crash. */
static void
test_mailer_maildir_open_fails(void **state)
{
	struct fixture *f = *state;
	char file[UNIT_PATH_MAX], url[UNIT_PATH_MAX * 2];

	f->cfg.mail = "maildir:";
	assert_int_equal(start_fails_cleanly(f), 1);
	/* A folder below a plain file cannot be made. */
	unit_write_file(f->dir, "plain", "x\n", file);
	snprintf(url, sizeof(url), "maildir:%s/mail", file);
	f->cfg.mail = url;
	assert_int_equal(start_fails_cleanly(f), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_no_vars, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_rollback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mailer_delivers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mailer_payload_formats,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_permanent_failures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_temporary_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_transport_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_max_tries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mailer_no_workers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mailer_max_age, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mailer_backoff_setting,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_queued_sender,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_mark_and_record,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_bad_transport,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailer_maildir_open_fails,
		    setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
