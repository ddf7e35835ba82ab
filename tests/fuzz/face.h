/*
 * A whole-route fuzz driver for one face (FACE, the name its struct
 * http_face gives it: "cognito", "velocity", "workos", "xsolla",
 * "pages").  The input is a small HTTP request in text:
 *
 *	METHOD TARGET
 *	Name: value
 *	...
 *	(an empty line)
 *	body
 *
 * Placeholders anywhere in it name what the store holds, so that inputs
 * reach past the credential checks: $P the project's id, $C a public app
 * client's id, $S a client with a secret, $K a WorkOS API key, $E a user's
 * email, $U that user's id, $T the admin token.  A driver that defines
 * FACE_ADMIN_LISTENER routes over the admin listener's faces
 * (resetd_admin_faces) instead of the public one's.  The target is split into path and query and percent-decoded as
 * libmicrohttpd does; the request goes through the real route tables
 * (http_route_find over resetd_faces) and, when its route belongs to
 * FACE, through the real route (http_route_run: the throttle hook, then
 * the handler), on an engine over a SQLite database in a temporary
 * folder.
 *
 * What every answer must be, or the driver aborts: a status from 100 to
 * 599; never the fixed fallback of an answer that could not be encoded
 * (outcome "encode_failed": some client bytes were let through unclean);
 * a JSON body that parses, an HTML body that is UTF-8, header values that
 * are UTF-8 with no line break.  A handler that ends the process (exit,
 * abort, log_fatal) is caught by libFuzzer, and by make test's replay.
 */
#ifndef RESETD_FUZZ_FACE_H
#define RESETD_FUZZ_FACE_H

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <unistd.h>

#include "api/api.h"
#include "config.h"
#include "core/engine.h"
#include "faces.h"
#include "fuzz.h"
#include "http/http.h"
#include "log.h"
#include "store/store.h"

#define FACE_FIELDS_MAX 32
#define FACE_INPUT_MAX (256 * 1024)

struct face_fixture {
	char dir[32];
	struct config *cfg;
	struct db *db;
	struct engine *engine;
	char project[UUID_STRLEN + 1];
	char *client;
	char *secret_client;
	char *api_key;
	char email[64];
	char user_id[UUID_STRLEN + 1];
};

/* The admin listener's token in the fixture ($T). */
#define FACE_ADMIN_TOKEN "fuzz-admin-token-0123456789abcdefghij"

#ifdef FACE_ADMIN_LISTENER
#define FACE_FACES resetd_admin_faces
#else
#define FACE_FACES resetd_faces
#endif

static struct face_fixture face;

static void
face_fatal(const char *what)
{
	fprintf(stderr, "fuzz setup: %s\n", what);
	abort();
}

/* At exit: the database's folder goes (the process keeps nothing). */
static void
face_cleanup(void)
{
	static const char *const files[] = { "fuzz.db", "fuzz.db-wal",
		"fuzz.db-shm", "fuzz.db-journal" };
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", face.dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(face.dir);
}

static void
face_setup(void)
{
	const char *callbacks[] = { "https://app.example.com/cb", NULL };
	struct project_spec spec = {
		.name = "fuzz",
		.callback_urls = callbacks,
		PROJECT_SPEC_DEFAULTS,
	};
	struct user_spec us;
	struct app_client cl;
	struct project *p = NULL;
	struct user *u = NULL;
	char url[128], err[256];
	char *key = NULL;
	char key_id[UUID_STRLEN + 1];

	snprintf(face.dir, sizeof(face.dir), "/tmp/resetd-fuzz-XXXXXX");
	if (sodium_init() < 0 || mkdtemp(face.dir) == NULL)
		face_fatal("cannot make a folder");
	atexit(face_cleanup);
	snprintf(url, sizeof(url), "sqlite:%s/fuzz.db", face.dir);
	unsetenv("RESETD_CONFIG");
	setenv("RESETD_DATABASE", url, 1);
	setenv("RESETD_PUBLIC_URL", "https://reset.example.com", 1);
	setenv("RESETD_ARGON2_MEMORY_KIB", "8192", 1);
	setenv("RESETD_ARGON2_OPSLIMIT", "1", 1);
	/*
	 * No per-address limit: every input passes its route's throttle
	 * (the real hook, run as the server runs it) and reaches its handler.
	 */
	setenv("RESETD_RATE_IP_REQUEST", "0", 1);
	setenv("RESETD_RATE_IP_CONFIRM", "0", 1);
	setenv("RESETD_RATE_IP_LOGIN", "0", 1);
	setenv("RESETD_RATE_IP_API", "0", 1);
	setenv("RESETD_ADMIN_TOKEN", FACE_ADMIN_TOKEN, 1);
	setenv("RESETD_RATE_ADMIN_AUTH", "1000000", 1);
	if (config_load(NULL, &face.cfg, err, sizeof(err)) != 0)
		face_fatal(err);
	if (log_set_level("error") != 0)
		face_fatal("cannot set the log level");
	if (db_open(face.cfg->database, 1, &face.db) != 0 ||
	    store_migrate(face.db) != 0)
		face_fatal("cannot open the database");
	face.engine = engine_new(face.cfg, face.db);
	if (face.engine == NULL ||
	    admin_project_create(face.engine, &spec, &p, err, sizeof(err)) !=
		ENGINE_OK)
		face_fatal("cannot make the project");
	snprintf(face.project, sizeof(face.project), "%s", p->id);
	snprintf(face.email, sizeof(face.email), "fuzz@example.com");
	us = (struct user_spec){
		.project_id = p->id,
		.email = face.email,
		.password = "an old password",
	};
	if (admin_user_create(face.engine, &us, &u, err, sizeof(err)) !=
	    ENGINE_OK)
		face_fatal(err);
	snprintf(face.user_id, sizeof(face.user_id), "%s", u->id);
	user_free(u);
	admin_init(face.cfg);
	memset(&cl, 0, sizeof(cl));
	if (admin_client_create(face.engine, p->id, 0, 0, &cl) != ENGINE_OK)
		face_fatal("cannot make a client");
	face.client = xstrdup(cl.id);
	app_client_clear(&cl);
	if (admin_client_create(face.engine, p->id, 1, 0, &cl) != ENGINE_OK)
		face_fatal("cannot make a client");
	face.secret_client = xstrdup(cl.id);
	app_client_clear(&cl);
	if (admin_api_key_create(face.engine, p->id, &key, key_id, NULL) !=
	    ENGINE_OK)
		face_fatal("cannot make an API key");
	face.api_key = key;
	project_free(p);
}

/* What placeholder $c stands for; NULL when it is none. */
static const char *
face_placeholder(char c)
{
	switch (c) {
	case 'P':
		return face.project;
	case 'C':
		return face.client;
	case 'S':
		return face.secret_client;
	case 'K':
		return face.api_key;
	case 'E':
		return face.email;
	case 'U':
		return face.user_id;
	case 'T':
		return FACE_ADMIN_TOKEN;
	default:
		return NULL;
	}
}

/* The input with its placeholders filled in, NUL-terminated; *n its size. */
static char *
face_expand(const uint8_t *data, size_t len, size_t *n)
{
	struct buf b;
	const char *v;
	size_t i;
	int rc = 0;

	buf_init(&b, FACE_INPUT_MAX);
	for (i = 0; i < len && rc == 0; i++) {
		v = data[i] == '$' && i + 1 < len ?
		    face_placeholder((char)data[i + 1]) :
		    NULL;
		if (v != NULL) {
			rc = buf_puts(&b, v);
			i++;
		} else
			rc = buf_append(&b, data + i, 1);
	}
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	*n = b.len;
	(void)buf_cstr(&b);
	return b.data != NULL ? buf_take(&b) : xstrdup("");
}

static int
face_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s in place (and '+' as a space when plus is set). */
static void
face_unescape(char *s, int plus)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (*s == '%' && face_hex(s[1]) >= 0 && face_hex(s[2]) >= 0) {
			*o++ = (char)(face_hex(s[1]) * 16 + face_hex(s[2]));
			s += 2;
		} else if (*s == '+' && plus)
			*o++ = ' ';
		else
			*o++ = *s;
	}
	*o = '\0';
}

/* 1 when the n bytes of s are UTF-8 and hold no line break. */
static int
face_text_ok(const char *s, size_t n)
{
	return str_is_utf8(s, n) && memchr(s, '\n', n) == NULL &&
	    memchr(s, '\r', n) == NULL;
}

static void
face_check(const struct http_response *resp)
{
	json_t *v;
	int i;

	if (resp->status < 100 || resp->status > 599)
		abort();
	if (resp->outcome != NULL &&
	    strcmp(resp->outcome, "encode_failed") == 0)
		abort();
	for (i = 0; i < resp->nheaders; i++)
		if (!face_text_ok(resp->headers[i].value,
			strlen(resp->headers[i].value)))
			abort();
	if (resp->body.len == 0 || resp->content_type == NULL)
		return;
	if (strstr(resp->content_type, "json") != NULL) {
		v = json_loadb(resp->body.data, resp->body.len, 0, NULL);
		if (v == NULL)
			abort();
		json_decref(v);
	} else if (!str_is_utf8(resp->body.data, resp->body.len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct http_field fields[FACE_FIELDS_MAX];
	struct http_request r;
	struct http_response resp;
	const struct route *route;
	const struct http_face *rface = NULL;
	struct http_app app;
	const char *param = NULL;
	char *text, *line, *next, *sp, *q, *colon, *amp, *eq,
	    *path_param = NULL;
	char *body = NULL;
	size_t n = 0, param_len = 0, nfields = 0;
	int mismatch = 0, i;

	if (face.engine == NULL)
		face_setup();
	text = face_expand(data, len, &n);
	if (text == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	/* The request line. */
	line = text;
	next = memchr(line, '\n', n);
	if (next == NULL)
		goto out;
	*next++ = '\0';
	sp = strchr(line, ' ');
	if (sp == NULL)
		goto out;
	*sp++ = '\0';
	r.method = line;
	q = strchr(sp, '?');
	if (q != NULL)
		*q++ = '\0';
	face_unescape(sp, 0);
	r.path = sp;
	/* Header lines up to an empty one. */
	for (line = next; line < text + n; line = next) {
		next = memchr(line, '\n', (size_t)(text + n - line));
		if (next == NULL)
			goto out;
		*next++ = '\0';
		if (*line == '\0') {
			body = next;
			break;
		}
		colon = strchr(line, ':');
		if (colon == NULL || nfields == FACE_FIELDS_MAX)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		fields[nfields++] = (struct http_field){ HTTP_FIELD_HEADER,
			line, colon };
	}
	/* Query arguments, checked as the server checks them. */
	for (; q != NULL && *q != '\0'; q = amp) {
		amp = strchr(q, '&');
		if (amp != NULL)
			*amp++ = '\0';
		eq = strchr(q, '=');
		if (eq != NULL)
			*eq++ = '\0';
		if (nfields == FACE_FIELDS_MAX)
			break;
		face_unescape(q, 1);
		if (eq != NULL)
			face_unescape(eq, 1);
		if (!str_is_clean_utf8(q, strlen(q)) ||
		    (eq != NULL && !str_is_clean_utf8(eq, strlen(eq))))
			r.query_invalid = 1;
		fields[nfields++] = (struct http_field){ HTTP_FIELD_QUERY, q,
			eq != NULL ? eq : "" };
	}
	r.fields = fields;
	r.nfields = nfields;
	route = http_route_find(FACE_FACES, &r, &rface, &param, &param_len,
	    &mismatch);
	if (route == NULL || rface->name == NULL ||
	    strcmp(rface->name, FACE) != 0)
		goto out;
	if (param != NULL) {
		path_param = xstrndup(param, param_len);
		r.path_param = path_param;
	}
	r.app = face.engine;
	app = (struct http_app){
		.app = face.engine,
		.throttle = engine_throttle_hook,
		.wake = engine_wake_hook,
	};
	r.body = body != NULL && body < text + n ? body : NULL;
	r.body_len = r.body != NULL ? (size_t)(text + n - body) : 0;
	r.body_too_large = r.body_len > (size_t)face.cfg->max_body_bytes;
	snprintf(r.request_id, sizeof(r.request_id),
	    "01J00000000000000000000000");
	snprintf(r.remote, sizeof(r.remote), "127.0.0.1");
	snprintf(r.client_ip, sizeof(r.client_ip), "127.0.0.1");

	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, SIZE_MAX / 2);
	http_route_run(&app, rface, route, &r, &resp);
	/* FUZZ_FACE_VERBOSE=1: one line per request, to see what a seed reaches. */
	if (getenv("FUZZ_FACE_VERBOSE") != NULL)
		fprintf(stderr, "%s %s -> %d %s %.*s\n", r.method, r.path,
		    resp.status, resp.outcome ? resp.outcome : "-",
		    (int)(resp.body.len < 160 ? resp.body.len : 160),
		    resp.body.data ? resp.body.data : "");
	face_check(&resp);
	for (i = 0; i < resp.nheaders; i++) {
		free(resp.headers[i].name);
		free(resp.headers[i].value);
	}
	buf_free(&resp.body);
out:
	free(path_param);
	free(text);
	return 0;
}

#endif
