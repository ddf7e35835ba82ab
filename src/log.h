/*
 * Logging: one JSON object per line on standard error.  Messages are plain
 * text; the writer escapes them, so text from outside can never forge a
 * line or a field.  Tokens, codes, passwords, hashes and API keys are never
 * passed to these functions.
 */
#ifndef RESETD_LOG_H
#define RESETD_LOG_H

#include "util/util.h"

enum log_level {
	LOG_DEBUG, /* 0 */
	LOG_INFO,  /* 1 */
	LOG_WARN,  /* 2 */
	LOG_ERROR, /* 3 */
	LOG__MAX
};

/*
 * Set the lowest level written; "debug", "info", "warn", "error".  Safe
 * while other threads log: each line is written or not as a whole.
 */
int log_set_level(const char *) WUR;
/* Return 1 when name is a level log_set_level accepts. */
int log_level_valid(const char *);
/* The level's place, debug 0 to error 3, or -1 for no level. */
int log_level_rank(const char *);
void log_msg(enum log_level, const char *fmt, ...) PRINTF(2, 3);
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* Log at error level and return -1, for "return log_fail(...)". */
int log_fail(const char *fmt, ...) PRINTF(1, 2);
/* Log and exit(1). */
void log_fatal(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

/*
 * A finished line for an HTTP request.  Every text field is escaped; the
 * path is written without its query string, which may carry secrets.
 */
struct log_request {
	const char *request_id;
	const char *method;
	const char *path;
	const char *remote;
	const char *client; /* the trusted client address */
	const char *dialect;
	const char *outcome; /* engine outcome name, or NULL */
	int status;
	int64_t duration_us;
};
void log_request(const struct log_request *);

/* Append s to b as the inside of a JSON string; -1 past the buffer cap. */
int log_escape(struct buf *b, const char *s) WUR;

#endif
