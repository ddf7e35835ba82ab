/*
 * Unit tests of what the hosted pages ask of the engine: looking a link
 * secret up without spending it (reset_link_lookup), the "this wasn't me"
 * cancel link (cancel.c), the page MAC, and the checks on a project's
 * branding.  They run the engine on a real SQLite database in a
 * temporary folder and read links out of the queued mail.
 */
#include "unit.h"

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "core/engine.h"
#include "core/engine_internal.h"
#include "log.h"
#include "mail/payload.h"
#include "store/store.h"

#define CALLBACK "https://app.example.com/cb"

struct fixture {
	char dir[UNIT_DIR_MAX];
	struct config *cfg;
	struct db *db;
	struct engine *e;
	struct project *p;
	int nusers;
};

/* A link or code request's mail, as queued: its variables. */
struct mail {
	char token[SECRET_TOKEN_LEN + 1];
	char cancel_id[UUID_STRLEN + 1];
	char cancel_sig[SECRET_MAC_LEN + 1];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *callbacks[] = { CALLBACK, NULL };
	struct project_spec spec = {
		.name = "unit",
		.callback_urls = callbacks,
		PROJECT_SPEC_DEFAULTS,
	};
	char url[UNIT_PATH_MAX], err[256];

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	unit_tmpdir(f->dir);
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	unsetenv("RESETD_CONFIG");
	setenv("RESETD_DATABASE", url, 1);
	setenv("RESETD_PUBLIC_URL", "https://reset.example.com", 1);
	setenv("RESETD_ARGON2_MEMORY_KIB", "8192", 1);
	setenv("RESETD_ARGON2_OPSLIMIT", "1", 1);
	assert_int_equal(config_load(NULL, &f->cfg, err, sizeof(err)), 0);
	assert_int_equal(log_set_level("error"), 0);
	assert_int_equal(db_open(f->cfg->database, 4, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->e = engine_new(f->cfg, f->db);
	assert_non_null(f->e);
	assert_int_equal(admin_project_create(f->e, &spec, &f->p, err,
			     sizeof(err)),
	    ENGINE_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	project_free(f->p);
	engine_free(f->e);
	db_close(f->db);
	config_free(f->cfg);
	unsetenv("RESETD_PUBLIC_URL");
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

static void
new_user(struct fixture *f, char *out, size_t outlen)
{
	struct user_spec spec;
	struct user *u = NULL;
	char err[256];

	snprintf(out, outlen, "u%d-%u@example.com", ++f->nusers,
	    randombytes_random());
	spec = (struct user_spec){
		.project_id = f->p->id,
		.email = out,
		.password = "an old password",
	};
	assert_int_equal(admin_user_create(f->e, &spec, &u, err, sizeof(err)),
	    ENGINE_OK);
	user_free(u);
}

/* Copy the query value name of url into out. */
static void
query_value(const char *url, const char *name, char *out, size_t outlen)
{
	char key[32];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), "%s=", name);
	p = strstr(url, key);
	assert_non_null(p);
	p += strlen(key);
	n = strcspn(p, "&");
	assert_true(n < outlen);
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Request a reset for email and read the newest pending mail to it. */
static void
request(struct fixture *f, const char *email, enum reset_delivery delivery,
    const char *login_url, struct mail *m)
{
	struct reset_request in = {
		.project = f->p,
		.login = email,
		.login_url = login_url,
		.locale = "de",
		.link_style = LINK_RESET_CODE,
		.delivery = delivery,
	};
	struct reset_ticket t;
	struct store_list l = { NULL, 0 };
	struct db_conn *c;
	struct outbox_msg *msg;
	json_t *vars;
	const char *cancel;
	char *text = NULL;

	assert_int_equal(reset_request(f->e, &in, &t), ENGINE_OK);
	snprintf(m->token, sizeof(m->token), "%s", t.token);
	reset_ticket_clear(&t);
	c = db_acquire(f->db);
	assert_non_null(c);
	assert_int_equal(store_outbox_list(c, "pending", 1, &l), STORE_OK);
	db_release(f->db, c);
	assert_int_equal(l.n, 1);
	msg = l.items[0];
	assert_string_equal(msg->to_addr, email);
	/* The payload is sealed: nothing of the token shows in the row. */
	assert_null(strstr(msg->payload, m->token));
	assert_int_equal(payload_open(engine_outbox_key(f->e),
			     &(struct payload_ad){ msg->id, msg->project_id,
				 msg->kind, msg->to_addr },
			     msg->payload, &text),
	    0);
	vars = json_loads(text, 0, NULL);
	xfree_secret(text);
	assert_non_null(vars);
	cancel = json_string_value(json_object_get(vars, "cancel_link"));
	assert_non_null(cancel);
	assert_true(str_has_prefix(cancel,
	    "https://reset.example.com/reset/cancel?id="));
	/* The cancel link never holds the reset secret. */
	assert_null(strstr(cancel, m->token));
	query_value(cancel, "id", m->cancel_id, sizeof(m->cancel_id));
	query_value(cancel, "sig", m->cancel_sig, sizeof(m->cancel_sig));
	json_decref(vars);
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
}

static enum engine_result
confirm(struct fixture *f, const char *token, const char *password)
{
	struct reset_confirm in = {
		.project = f->p,
		.token = token,
		.new_password = password,
	};

	return reset_confirm(f->e, &in, NULL);
}

/*
 * engine_project keeps what it reads: two reads of one project share one
 * copy, each let go once; the copy outlives them in the engine (ASan, at
 * teardown, sees it freed exactly once).  An unknown id is not found.
 */
static void
test_project_shared(void **state)
{
	struct fixture *f = *state;
	struct project *a = NULL, *b = NULL, *c = NULL;
	char unknown[UUID_STRLEN + 1];

	assert_int_equal(engine_project(f->e, f->p->id, &a), ENGINE_OK);
	assert_int_equal(engine_project(f->e, f->p->id, &b), ENGINE_OK);
	assert_ptr_equal(a, b);
	assert_string_equal(a->name, "unit");
	project_free(a);
	assert_string_equal(b->name, "unit");
	project_free(b);
	assert_int_equal(engine_project(f->e, f->p->id, &c), ENGINE_OK);
	assert_ptr_equal(c, a);
	project_free(c);
	id_new(unknown);
	assert_int_equal(engine_project(f->e, unknown, &c),
	    ENGINE_PROJECT_UNKNOWN);
}

static void
test_lookup_states(void **state)
{
	struct fixture *f = *state;
	struct reset_link_info info;
	struct mail m1, m2;
	char email[64];
	int i;

	new_user(f, email, sizeof(email));
	request(f, email, DELIVER_LINK, CALLBACK, &m1);

	/* Looking up, however often, spends nothing. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(reset_link_lookup(f->e, m1.token, NULL, &info),
		    ENGINE_OK);
		assert_int_equal(info.state, RESET_LINK_LIVE);
		assert_string_equal(info.project->id, f->p->id);
		assert_string_equal(info.email, email);
		assert_string_equal(info.login_url, CALLBACK);
		assert_string_equal(info.locale, "de");
		assert_true(info.expires_at > 0);
		reset_link_info_clear(&info);
	}

	/* Bad shapes, unknown secrets, another user's id. */
	assert_int_equal(reset_link_lookup(f->e, "short", NULL, &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_link_lookup(f->e, NULL, NULL, &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_link_lookup(f->e,
			     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			     NULL, &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_link_lookup(f->e, m1.token,
			     "01a2069c-bb40-70d4-9d22-597cc86ec977", &info),
	    ENGINE_SECRET_INVALID);

	/* A newer request kills the older link: dead, not spendable. */
	request(f, email, DELIVER_LINK, NULL, &m2);
	assert_int_equal(reset_link_lookup(f->e, m1.token, NULL, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_DEAD);
	assert_null(info.email);
	reset_link_info_clear(&info);
	assert_int_equal(reset_link_lookup(f->e, m2.token, NULL, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_LIVE);
	assert_null(info.login_url);
	reset_link_info_clear(&info);

	/* Spent: "used", also to a second look. */
	assert_int_equal(confirm(f, m2.token, "a new password"), ENGINE_OK);
	for (i = 0; i < 2; i++) {
		assert_int_equal(reset_link_lookup(f->e, m2.token, NULL, &info),
		    ENGINE_OK);
		assert_int_equal(info.state, RESET_LINK_USED);
		assert_null(info.email);
		reset_link_info_clear(&info);
	}
}

static void
test_lookup_expired_and_login_url(void **state)
{
	struct fixture *f = *state;
	struct reset_link_info info;
	struct db_conn *c;
	struct mail m;
	char email[64];

	new_user(f, email, sizeof(email));
	request(f, email, DELIVER_LINK, CALLBACK, &m);
	c = db_acquire(f->db);
	assert_non_null(c);
	/* The callback URL is removed from the project after the request. */
	assert_int_equal(db_exec(c,
			     "UPDATE projects SET callback_urls = "
			     "'https://other.example.com/cb' WHERE id = $1",
			     DB_ARGS(DB_TEXT(f->p->id))),
	    1);
	/* And the secret runs out. */
	assert_int_equal(db_exec(c,
			     "UPDATE secrets SET expires_at = 1 WHERE "
			     "purpose = 'reset_link'",
			     DB_NOARGS),
	    1);
	db_release(f->db, c);
	assert_int_equal(reset_link_lookup(f->e, m.token, NULL, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_EXPIRED);
	assert_null(info.login_url);
	reset_link_info_clear(&info);
	assert_int_equal(confirm(f, m.token, "a new password"),
	    ENGINE_SECRET_EXPIRED);
}

static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct reset_link_info info;
	struct mail m;
	char email[64], sig[SECRET_MAC_LEN + 1];
	int i;

	new_user(f, email, sizeof(email));
	request(f, email, DELIVER_LINK, NULL, &m);

	/* A forged or altered link is nobody's. */
	snprintf(sig, sizeof(sig), "%s", m.cancel_sig);
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	assert_int_equal(reset_cancel_lookup(f->e, m.cancel_id, sig, &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_cancel(f->e, m.cancel_id, sig, &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_cancel(f->e, m.cancel_id, "short", &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_cancel(f->e, "not-an-id", m.cancel_sig, &info),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(reset_cancel(f->e, NULL, NULL, &info),
	    ENGINE_SECRET_INVALID);

	/* Looking changes nothing, however often. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(reset_cancel_lookup(f->e, m.cancel_id,
				     m.cancel_sig, &info),
		    ENGINE_OK);
		assert_int_equal(info.state, RESET_LINK_LIVE);
		assert_string_equal(info.project->id, f->p->id);
		assert_null(info.email);
		reset_link_info_clear(&info);
	}
	assert_int_equal(reset_link_lookup(f->e, m.token, NULL, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_LIVE);
	reset_link_info_clear(&info);

	/* Cancelling kills the reset link, once. */
	assert_int_equal(reset_cancel(f->e, m.cancel_id, m.cancel_sig, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_CANCELLED);
	reset_link_info_clear(&info);
	assert_int_equal(reset_cancel(f->e, m.cancel_id, m.cancel_sig, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_DEAD);
	reset_link_info_clear(&info);
	assert_int_equal(reset_link_lookup(f->e, m.token, NULL, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_DEAD);
	reset_link_info_clear(&info);
	assert_int_equal(confirm(f, m.token, "a new password"),
	    ENGINE_SECRET_INVALID);

	/* A spent link has nothing left to cancel. */
	request(f, email, DELIVER_LINK, NULL, &m);
	assert_int_equal(confirm(f, m.token, "a new password"), ENGINE_OK);
	assert_int_equal(reset_cancel(f->e, m.cancel_id, m.cancel_sig, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_USED);
	reset_link_info_clear(&info);
}

static void
test_cancel_code(void **state)
{
	struct fixture *f = *state;
	struct reset_link_info info;
	struct reset_code_confirm in;
	struct mail m;
	char email[64];

	new_user(f, email, sizeof(email));
	request(f, email, DELIVER_CODE, NULL, &m);
	assert_int_equal(reset_cancel(f->e, m.cancel_id, m.cancel_sig, &info),
	    ENGINE_OK);
	assert_int_equal(info.state, RESET_LINK_CANCELLED);
	reset_link_info_clear(&info);
	in = (struct reset_code_confirm){
		.project = f->p,
		.login = email,
		.code = m.token,
		.new_password = "a new password",
	};
	/* The right code of a cancelled request answers like a wrong one. */
	assert_int_equal(reset_confirm_code(f->e, &in, NULL),
	    ENGINE_CODE_MISMATCH);
	/* And a code is no link. */
	assert_int_equal(reset_link_lookup(f->e, m.token, NULL, &info),
	    ENGINE_SECRET_INVALID);
}

static void
test_page_mac(void **state)
{
	struct fixture *f = *state;
	char a[ENGINE_MAC_LEN + 1], b[ENGINE_MAC_LEN + 1];

	engine_page_mac(f->e, "csrf-reset", "cookie-1", a);
	assert_int_equal(strlen(a), ENGINE_MAC_LEN);
	engine_page_mac(f->e, "csrf-reset", "cookie-1", b);
	assert_true(engine_mac_equal(a, b));
	engine_page_mac(f->e, "csrf-reset", "cookie-2", b);
	assert_false(engine_mac_equal(a, b));
	engine_page_mac(f->e, "csrf-form", "cookie-1", b);
	assert_false(engine_mac_equal(a, b));
	assert_false(engine_mac_equal(a, ""));
}

static void
test_branding_checks(void **state)
{
	static const char *const logos_ok[] = {
		"https://cdn.example.com/logo.svg",
		"https://cdn.example.com:8443/a/b.png?v=2",
		"https://[2001:db8::1]/logo.png",
		"http://127.0.0.1:8080/logo.png",
		"http://localhost/logo.png",
		"http://[::1]:9000/l.png",
		NULL,
	};
	static const char *const logos_bad[] = {
		"http://cdn.example.com/logo.svg", /* plain http */
		"http://127.0.0.2/logo.png",
		"http://localhost.example.com/logo.png",
		"https://user@cdn.example.com/logo.svg",
		"https://cdn.example.com;script-src/x",
		"https://cdn.example.com:/x",
		"https://cdn.example.com:123456/x",
		"https://cdn.exa mple.com/x",
		"https://cdn.example.com/\"x",
		"javascript:alert(1)",
		"data:image/png;base64,AAAA",
		"//cdn.example.com/logo.svg",
		"",
		NULL,
	};
	static const char *const colors_ok[] = { "#000000", "#1f6FEB",
		"#ffffff", NULL };
	static const char *const colors_bad[] = { "#fff", "1f6feb", "#1f6feb;",
		"#1g6feb", "#1f6feb0", "red", "", NULL };
	int i;

	(void)state;
	for (i = 0; logos_ok[i] != NULL; i++)
		if (!valid_logo_url(logos_ok[i]))
			fail_msg("refused logo %s", logos_ok[i]);
	for (i = 0; logos_bad[i] != NULL; i++)
		if (valid_logo_url(logos_bad[i]))
			fail_msg("took logo %s", logos_bad[i]);
	for (i = 0; colors_ok[i] != NULL; i++)
		assert_true(valid_color(colors_ok[i]));
	for (i = 0; colors_bad[i] != NULL; i++)
		assert_false(valid_color(colors_bad[i]));
}

static void
test_branding_stored(void **state)
{
	struct fixture *f = *state;
	struct project_spec spec = {
		.name = "branded",
		.logo_url = "https://cdn.example.com/logo.svg",
		.accent_color = "#0A7C4E",
		PROJECT_SPEC_DEFAULTS,
	};
	struct project *p = NULL, *q = NULL;
	char err[256];

	assert_int_equal(admin_project_create(f->e, &spec, &p, err,
			     sizeof(err)),
	    ENGINE_OK);
	assert_int_equal(engine_project(f->e, p->id, &q), ENGINE_OK);
	assert_string_equal(q->logo_url, "https://cdn.example.com/logo.svg");
	assert_string_equal(q->accent_color, "#0A7C4E");
	project_free(p);
	project_free(q);
	p = NULL;
	spec.accent_color = "blue";
	assert_int_equal(admin_project_create(f->e, &spec, &p, err,
			     sizeof(err)),
	    ENGINE_BAD_INPUT);
	assert_non_null(strstr(err, "accent-color"));
	spec.accent_color = NULL;
	spec.logo_url = "http://cdn.example.com/logo.svg";
	assert_int_equal(admin_project_create(f->e, &spec, &p, err,
			     sizeof(err)),
	    ENGINE_BAD_INPUT);
	assert_non_null(strstr(err, "logo-url"));
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_project_shared, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lookup_states, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_lookup_expired_and_login_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_code, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_page_mac, setup, teardown),
		cmocka_unit_test(test_branding_checks),
		cmocka_unit_test_setup_teardown(test_branding_stored, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
