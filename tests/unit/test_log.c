/*
 * Unit tests of the log writer's promise that every line is one JSON
 * object, whatever bytes a client sent: a request line whose path holds
 * bytes that are not UTF-8 (GET /%ff%c3%22x), quotes, controls and cut
 * sequences is read back from stderr and parsed.
 */
#include "unit.h"

#include <fcntl.h>
#include <jansson.h>

#include "log.h"

/* Run log_request on path with stderr in a file; the line, parsed. */
static json_t *
logged(const char *path)
{
	char dir[UNIT_DIR_MAX], file[UNIT_PATH_MAX], line[16384];
	struct log_request lr = {
		.request_id = "01J00000000000000000000000",
		.method = "GET",
		.path = path,
		.remote = "127.0.0.1",
		.client = "127.0.0.1",
		.dialect = NULL,
		.outcome = "not_found",
		.status = 404,
		.duration_us = 10,
	};
	json_error_t je;
	json_t *v;
	ssize_t n;
	int fd, saved;

	unit_tmpdir(dir);
	snprintf(file, sizeof(file), "%s/log", dir);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	log_request(&lr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	unit_rmdir(dir);
	assert_true(n > 0);
	line[n] = '\0';
	assert_int_equal(line[n - 1], '\n');
	assert_true(strchr(line, '\n') == line + n - 1); /* one line */
	assert_int_equal(str_is_utf8(line, (size_t)n), 1);
	v = json_loads(line, 0, &je);
	if (v == NULL)
		fail_msg("not JSON (%s): %s", je.text, line);
	return v;
}

static void
test_request_path_bytes(void **state)
{
	static const struct {
		const char *path;
		const char *want;
	} cases[] = {
		{ "/\xff\xc3\"x", "/\xef\xbf\xbd\xef\xbf\xbd\"x" },
		{ "/a\xe2\x82", "/a\xef\xbf\xbd\xef\xbf\xbd" },
		{ "/\xc0\xaf", "/\xef\xbf\xbd\xef\xbf\xbd" },
		{ "/\xed\xa0\x80", "/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "/\x01\n\x7f\\", "/\x01\n\x7f\\" },
		{ "/h\xc3\xa9", "/h\xc3\xa9" },
	};
	size_t i;
	json_t *v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = logged(cases[i].path);
		assert_string_equal(json_string_value(
					json_object_get(v, "path")),
		    cases[i].want);
		json_decref(v);
	}
}

/* A long value is cut, and the cut never leaves a broken line. */
static void
test_request_path_long(void **state)
{
	char *path = unit_repeat("\xe2\x82", 2000);
	json_t *v;

	(void)state;
	v = logged(path);
	assert_non_null(json_string_value(json_object_get(v, "path")));
	json_decref(v);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_path_bytes),
		cmocka_unit_test(test_request_path_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
