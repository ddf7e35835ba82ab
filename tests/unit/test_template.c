/*
 * Unit tests of template overrides (mail/template.c): a folder of files
 * laid out like templates/mail, read and checked once, each file falling
 * back on its own to the built-in one; project overrides over instance
 * ones; and the checks that refuse a folder at start.
 */
#include "unit.h"

#include "mail/template.h"

#define PROJECT "01a2b3c4-0000-7000-8000-00000000000a"
#define OTHER "01a2b3c4-0000-7000-8000-00000000000b"

static const struct mail_var vars[] = {
	{ "project_name", "Acme" },
	{ "email", "alice@example.com" },
	{ "link", "https://acme.test/r?t=abc" },
	{ "ttl_minutes", "60" },
	{ NULL, NULL },
};

struct fixture {
	char dir[UNIT_DIR_MAX];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	unit_tmpdir(f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unit_rmdir(f->dir);
	free(f);
	return 0;
}

/* Write dir/name, making the folders on the way. */
static void
put(struct fixture *f, const char *name, const char *text)
{
	char path[UNIT_PATH_MAX], ignored[UNIT_PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	for (p = path + strlen(f->dir) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		*p = '/';
	}
	unit_write_file(f->dir, name, text, ignored);
}

static struct template_set *
open_ok(struct fixture *f)
{
	struct template_set *ts = NULL;
	char err[512] = "";

	if (template_set_open(f->dir, &ts, err, sizeof(err)) != 0)
		fail_msg("template_set_open: %s", err);
	return ts;
}

/* Opening fails with an error that contains want. */
static void
open_fails(struct fixture *f, const char *want)
{
	struct template_set *ts = (struct template_set *)f;
	char err[512] = "";

	assert_int_equal(template_set_open(f->dir, &ts, err, sizeof(err)), -1);
	assert_null(ts);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not say '%s'", err, want);
}

static void
test_no_overrides(void **state)
{
	struct template_set *ts = (struct template_set *)state;
	char err[64];

	assert_int_equal(template_set_open(NULL, &ts, err, sizeof(err)), 0);
	assert_null(ts);
	assert_int_equal(template_set_open("", &ts, err, sizeof(err)), 0);
	assert_null(ts);
	assert_int_equal(template_set_count(NULL), 0);
	template_set_free(NULL);
}

static void
test_fallback_per_file(void **state)
{
	struct fixture *f = *state;
	struct template_set *ts;
	struct rendered_mail builtin, r;

	put(f, "en/reset_link.subject", "Acme: {{project_name}} reset\n");
	put(f, "de/reset_link.html", "<p>Eigenes HTML {{link}}</p>\n");
	ts = open_ok(f);
	assert_int_equal(template_set_count(ts), 2);

	assert_int_equal(template_render(NULL, NULL, "reset_link", "en", vars,
			     &builtin),
	    0);
	/* The overridden subject; text and HTML built in. */
	assert_int_equal(template_render(ts, NULL, "reset_link", "en", vars,
			     &r),
	    0);
	assert_string_equal(r.subject, "Acme: Acme reset");
	assert_string_equal(r.text, builtin.text);
	assert_string_equal(r.html, builtin.html);
	rendered_mail_clear(&r);
	/* German: the built-in subject, not the English override. */
	assert_int_equal(template_render(ts, NULL, "reset_link", "de_CH", vars,
			     &r),
	    0);
	assert_string_equal(r.subject,
	    "Passwort f\xc3\xbcr Acme zur\xc3\xbc"
	    "cksetzen");
	assert_string_equal(r.html,
	    "<p>Eigenes HTML https://acme.test/r?t=abc"
	    "</p>\n");
	assert_non_null(strstr(r.text, "Passwort"));
	rendered_mail_clear(&r);
	/* Other kinds are untouched. */
	assert_int_equal(template_render(ts, NULL, "password_changed", "en",
			     vars, &r),
	    0);
	assert_string_equal(r.subject, "Your Acme password was changed");
	rendered_mail_clear(&r);
	rendered_mail_clear(&builtin);
	template_set_free(ts);
}

static void
test_project_overrides(void **state)
{
	struct fixture *f = *state;
	struct template_set *ts;
	struct rendered_mail r;
	char loc[TEMPLATE_LOCALE_MAX + 1];

	put(f, "en/reset_link.subject", "Instance subject\n");
	put(f, PROJECT "/en/reset_link.subject", "Project subject\n");
	put(f, PROJECT "/it/reset_link.subject", "Reimposta la password\n");
	put(f, PROJECT "/it/reset_link.txt", "Apri {{link}}\n");
	ts = open_ok(f);

	assert_int_equal(template_render(ts, PROJECT, "reset_link", "en", vars,
			     &r),
	    0);
	assert_string_equal(r.subject, "Project subject");
	rendered_mail_clear(&r);
	assert_int_equal(template_render(ts, OTHER, "reset_link", "en", vars,
			     &r),
	    0);
	assert_string_equal(r.subject, "Instance subject");
	rendered_mail_clear(&r);
	assert_int_equal(template_render(ts, NULL, "reset_link", "en", vars,
			     &r),
	    0);
	assert_string_equal(r.subject, "Instance subject");
	rendered_mail_clear(&r);

	/* Italian exists for the project; its missing HTML is English. */
	assert_int_equal(template_locale_resolve(ts, PROJECT, "it_IT", loc), 0);
	assert_string_equal(loc, "it");
	assert_int_equal(template_locale_resolve(ts, OTHER, "it_IT", loc), -1);
	assert_int_equal(template_render(ts, PROJECT, "reset_link", "it", vars,
			     &r),
	    0);
	assert_string_equal(r.subject, "Reimposta la password");
	assert_string_equal(r.text, "Apri https://acme.test/r?t=abc\n");
	assert_non_null(strstr(r.html, "lang=\"en\""));
	rendered_mail_clear(&r);
	template_set_free(ts);
}

static void
test_resolve(void **state)
{
	char loc[TEMPLATE_LOCALE_MAX + 1];

	(void)state;
	assert_int_equal(template_locale_resolve(NULL, NULL, "de", loc), 0);
	assert_string_equal(loc, "de");
	assert_int_equal(template_locale_resolve(NULL, NULL, "de_AT", loc), 0);
	assert_string_equal(loc, "de");
	assert_int_equal(template_locale_resolve(NULL, NULL, "pt", loc), 0);
	assert_string_equal(loc, "pt_BR");
	assert_int_equal(template_locale_resolve(NULL, NULL, "pt_PT", loc), 0);
	assert_string_equal(loc, "pt_BR");
	assert_int_equal(template_locale_resolve(NULL, NULL, "zh_CN", loc), 0);
	assert_string_equal(loc, "zh_CN");
	assert_int_equal(template_locale_resolve(NULL, NULL, "xx", loc), -1);
	assert_int_equal(template_locale_resolve(NULL, NULL, "e", loc), -1);
	assert_int_equal(template_locale_resolve(NULL, NULL, "en_", loc), -1);
	assert_int_equal(template_locale_resolve(NULL, NULL, NULL, loc), -1);
	assert_true(template_locale_valid("en"));
	assert_true(template_locale_valid("pt_BR"));
	assert_false(template_locale_valid("pt-BR"));
	assert_false(template_locale_valid("PT"));
	assert_false(template_locale_valid(".."));
}

static void
test_refused(void **state)
{
	struct fixture *f = *state;
	char *big;

	/* A file resetd would never use: a typo must not pass silently. */
	put(f, "en/reset_link.text", "x\n");
	open_fails(f, "en/reset_link.text: expected KIND.PART");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	put(f, "en/welcome.txt", "x\n");
	open_fails(f, "expected KIND.PART");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	put(f, "english/reset_link.txt", "x\n");
	open_fails(f, "english: expected a folder named LOCALE");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	put(f, "README", "x\n");
	open_fails(f, "README: expected a folder");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	/* Projects hold locales, not projects. */
	put(f, PROJECT "/" OTHER "/en/reset_link.txt", "x\n");
	open_fails(f, "expected a folder named LOCALE (xx or xx_YY)");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);

	/* A subject on two lines would inject a header. */
	put(f, "en/reset_link.subject", "Reset\nBcc: evil@x.test\n");
	open_fails(f, "on one line");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	put(f, "en/reset_link.subject", "Reset\rBcc: evil@x.test");
	open_fails(f, "on one line");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	/* Not UTF-8, or control characters. */
	put(f, "en/reset_link.txt", "caf\xe9\n");
	open_fails(f, "expected UTF-8 text");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	put(f, "en/reset_link.html", "<p>\x1b[31m</p>\n");
	open_fails(f, "expected UTF-8 text");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	/* Too large. */
	big = unit_repeat("a", TEMPLATE_FILE_MAX + 1);
	put(f, "en/reset_link.txt", big);
	free(big);
	open_fails(f, "at most 65536 bytes");
	unit_rmdir(f->dir);
	unit_tmpdir(f->dir);
	/* Exactly the cap, tabs and CRLF are fine; dot files are skipped. */
	big = unit_repeat("a", TEMPLATE_FILE_MAX - 3);
	put(f, "en/reset_link.txt", big);
	free(big);
	put(f, "en/reset_link.html", "<p>\tok</p>\r\n");
	put(f, "en/.reset_link.txt.swp", "\x01\x02");
	put(f, ".git/config", "x");
	template_set_free(open_ok(f));
	/* A folder that does not exist. */
	unit_rmdir(f->dir);
	open_fails(f, "No such file or directory");
	unit_tmpdir(f->dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_overrides),
		cmocka_unit_test_setup_teardown(test_fallback_per_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_project_overrides, setup,
		    teardown),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
