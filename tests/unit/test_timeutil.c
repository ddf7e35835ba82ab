/*
 * Unit tests of the clocks and time formats (util/timeutil.c): ISO-8601
 * with milliseconds and the RFC 5322 date of mail headers, which is English
 * whatever the process's locale says.
 */
#include "unit.h"

#include <locale.h>

#include "util/util.h"

static void
test_iso8601(void **state)
{
	char out[ISO8601_LEN + 1];

	(void)state;
	time_iso8601(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	time_iso8601(1689646039911LL, out);
	assert_string_equal(out, "2023-07-18T02:07:19.911Z");
	time_iso8601(951782400007LL, out); /* a leap day */
	assert_string_equal(out, "2000-02-29T00:00:00.007Z");
	time_iso8601(4102444799999LL, out);
	assert_string_equal(out, "2099-12-31T23:59:59.999Z");
}

/* One date in each month, so that every day and month name is written. */
static const struct {
	int64_t ms;
	const char *want;
} dates[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
	{ 1801180800000LL, "Fri, 29 Jan 2027 00:00:00 +0000" },
	{ 1803859200000LL, "Mon, 01 Mar 2027 00:00:00 +0000" },
	{ 1709164800000LL, "Thu, 29 Feb 2024 00:00:00 +0000" },
	{ 1712102400000LL, "Wed, 03 Apr 2024 00:00:00 +0000" },
	{ 1715990400000LL, "Sat, 18 May 2024 00:00:00 +0000" },
	{ 1717891199999LL, "Sat, 08 Jun 2024 23:59:59 +0000" },
	{ 1720915200000LL, "Sun, 14 Jul 2024 00:00:00 +0000" },
	{ 1724025600000LL, "Mon, 19 Aug 2024 00:00:00 +0000" },
	{ 1727740800000LL, "Tue, 01 Oct 2024 00:00:00 +0000" },
	{ 1726790400000LL, "Fri, 20 Sep 2024 00:00:00 +0000" },
	{ 1732752000000LL, "Thu, 28 Nov 2024 00:00:00 +0000" },
	{ 1735603200000LL, "Tue, 31 Dec 2024 00:00:00 +0000" },
};

static void
check_dates(void)
{
	char out[40];
	size_t i;

	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		time_rfc5322(dates[i].ms, out);
		assert_string_equal(out, dates[i].want);
	}
}

static void
test_rfc5322(void **state)
{
	(void)state;
	check_dates();
}

/*
 * Under a locale whose day and month names are not English, the date is
 * still English.  The German locale is compiled from the locales package's
 * sources into a temporary folder named by LOCPATH, so the test needs no
 * locale installed on the machine.
 */
static void
test_rfc5322_locale(void **state)
{
	char dir[UNIT_DIR_MAX], cmd[512], probe[16];
	struct tm tm = { .tm_year = 124,
		.tm_mon = 4,
		.tm_mday = 18,
		.tm_wday = 2 };

	(void)state;
	unit_tmpdir(dir);
	snprintf(cmd, sizeof(cmd),
	    "localedef -i de_DE -f UTF-8 "
	    "%s/de_DE.UTF-8 >/dev/null 2>&1",
	    dir);
	if (system(cmd) != 0)
		fail_msg("localedef could not build de_DE.UTF-8");
	setenv("LOCPATH", dir, 1);
	assert_non_null(setlocale(LC_ALL, "de_DE.UTF-8"));
	/* The locale is in force: strftime names Tuesday and May in German. */
	strftime(probe, sizeof(probe), "%a %b", &tm);
	assert_string_equal(probe, "Di Mai");
	check_dates();
	setlocale(LC_ALL, "C");
	unsetenv("LOCPATH");
	unit_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_rfc5322),
		cmocka_unit_test(test_rfc5322_locale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
