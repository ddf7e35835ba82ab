/*
 * The faces resetd serves over HTTP, in the order their routes are
 * matched: health, the dialects (Xsolla, WorkOS, Velocity, Cognito) and
 * the hosted pages.  Each face's table lives in the face's own file; this
 * list is the one place that names them all, for the server (main), the
 * fuzz drivers and the tests.  Adding a face is adding its file and a row
 * here.
 */
#ifndef RESETD_FACES_H
#define RESETD_FACES_H

#include "http/http.h"

/* NULL-terminated. */
extern const struct http_face *const resetd_faces[];
/*
 * The admin listener's faces (the admin API and /metrics), never served
 * on the public listener.
 */
extern const struct http_face *const resetd_admin_faces[];

#endif
