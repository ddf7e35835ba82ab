/*
 * Unit tests of the language of mail (core/locale.c): how dialects'
 * locales are normalised, and the chain that picks a template folder,
 * request, user, project, English, with a language's fallbacks, over the
 * built-in templates and over overrides.
 */
#include "unit.h"

#include "core/engine.h"
#include "mail/template.h"

#define PROJECT "01a2b3c4-0000-7000-8000-000000000001"

static void
normalised(const char *in, const char *want)
{
	char out[ENGINE_LOCALE_MAX + 1] = "zz";

	if (want == NULL) {
		assert_int_equal(engine_locale_normalise(in, out), -1);
		assert_string_equal(out, "zz"); /* untouched */
		return;
	}
	assert_int_equal(engine_locale_normalise(in, out), 0);
	assert_string_equal(out, want);
}

static void
test_normalise(void **state)
{
	(void)state;
	normalised("de", "de");
	normalised("de_DE", "de_DE");
	normalised("de-DE", "de_DE");
	normalised("pt_br", "pt_BR");
	normalised("PT-br", "pt_BR");
	normalised("EN", "en");
	normalised(NULL, NULL);
	normalised("", NULL);
	normalised("d", NULL);
	normalised("deu", NULL);
	normalised("de_DEU", NULL);
	normalised("de.DE", NULL);
	normalised("de_D1", NULL);
	normalised("../en", NULL);
	normalised("d\xc3\xa9", NULL);
	normalised("de\n", NULL);
	normalised("zh-Hans", NULL);
}

/* engine_locale_choose over set ts, for PROJECT. */
static void
chosen(const struct template_set *ts, const char *request, const char *user,
    const char *project, const char *want)
{
	char out[ENGINE_LOCALE_MAX + 1] = "";

	engine_locale_choose(ts, PROJECT, request, user, project, out);
	assert_string_equal(out, want);
}

static void
test_chain_builtin(void **state)
{
	(void)state;
	/* The first that has templates wins: request, user, project. */
	chosen(NULL, "de_DE", "fr", "es", "de");
	chosen(NULL, "ja", "fr", "es", "ja");
	chosen(NULL, NULL, "fr", "es", "fr");
	chosen(NULL, NULL, NULL, "es", "es");
	chosen(NULL, NULL, NULL, NULL, "en");
	/* Exact folders. */
	chosen(NULL, "pt_BR", NULL, NULL, "pt_BR");
	chosen(NULL, "zh_CN", NULL, NULL, "zh_CN");
	chosen(NULL, "ru-RU", NULL, NULL, "ru");
	/* pt_PT has no folder, nor has pt: pt's regional folder serves. */
	chosen(NULL, "pt_PT", NULL, NULL, "pt_BR");
	chosen(NULL, "pt", NULL, NULL, "pt_BR");
	chosen(NULL, "zh", NULL, NULL, "zh_CN");
	chosen(NULL, "zh_TW", NULL, NULL, "zh_CN");
	/* A language with no templates goes down the list. */
	chosen(NULL, "xx_YY", "it", "de", "de");
	chosen(NULL, "xx_YY", NULL, "fr_CA", "fr");
	chosen(NULL, "xx_YY", NULL, NULL, "en");
	chosen(NULL, "it", "nl_NL", "sv", "en");
	/* Malformed ones are skipped, never passed on. */
	chosen(NULL, "../de", "de_DE\r\n", "ja", "ja");
	chosen(NULL, "", "english", "x", "en");
}

/* Make dir/sub (and its parents below dir). */
static void
mkdirs(const char *dir, const char *sub)
{
	char path[UNIT_PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	for (p = path + strlen(dir) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0700);
		*p = '/';
	}
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
}

static void
test_chain_overrides(void **state)
{
	struct template_set *ts = NULL;
	char dir[UNIT_DIR_MAX], sub[128], ignored[UNIT_PATH_MAX];
	char err[512] = "";

	(void)state;
	unit_tmpdir(dir);
	/* Italian for every project, Dutch for one project only. */
	mkdirs(dir, "it");
	unit_write_file(dir, "it/reset_link.subject", "Reimposta\n", ignored);
	snprintf(sub, sizeof(sub), "%s/nl", PROJECT);
	mkdirs(dir, sub);
	snprintf(sub, sizeof(sub), "%s/nl/reset_link.subject", PROJECT);
	unit_write_file(dir, sub, "Herstel\n", ignored);
	assert_int_equal(template_set_open(dir, &ts, err, sizeof(err)), 0);
	assert_non_null(ts);

	chosen(ts, "it_IT", NULL, NULL, "it");
	chosen(ts, "xx", "it", NULL, "it");
	chosen(ts, "nl_BE", NULL, NULL, "nl");
	/* Another project has no Dutch. */
	{
		char out[ENGINE_LOCALE_MAX + 1];

		engine_locale_choose(ts, "01a2b3c4-0000-7000-8000-000000000002",
		    "nl", NULL, "de", out);
		assert_string_equal(out, "de");
		engine_locale_choose(ts, NULL, "nl", NULL, NULL, out);
		assert_string_equal(out, "en");
	}
	/* Built-in folders still count. */
	chosen(ts, "ja_JP", NULL, NULL, "ja");
	template_set_free(ts);
	unit_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_chain_builtin),
		cmocka_unit_test(test_chain_overrides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
