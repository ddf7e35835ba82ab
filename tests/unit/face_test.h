/*
 * What the unit tests of the dialects (test_xsolla.c, test_cognito.c,
 * test_velocity.c) share: a response to answer into, its headers and its
 * body as JSON.  Static inline, so a test that does not use one is not
 * warned about it.
 */
#ifndef RESETD_FACE_TEST_H
#define RESETD_FACE_TEST_H

#include <strings.h>

#include <jansson.h>

#include "http/http.h"

static inline void
face_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, 1 << 20);
}

static inline void
face_response_clear(struct http_response *resp)
{
	int i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	buf_free(&resp->body);
}

static inline const char *
face_header(const struct http_response *resp, const char *name)
{
	int i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/* The body as JSON (json_decref it). */
static inline json_t *
face_body(const struct http_response *resp)
{
	json_t *v = json_loadb(resp->body.data, resp->body.len, 0, NULL);

	assert_non_null(v);
	return v;
}

/* A request made without a connection, with no headers or query. */
static inline void
face_request(struct http_request *r)
{
	memset(r, 0, sizeof(*r));
	r->method = "POST";
	r->path = "/";
	snprintf(r->request_id, sizeof(r->request_id), "req-1");
}

#endif
