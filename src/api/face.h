/*
 * What every face shares (the dialects in api/ and the hosted pages in
 * pages/): a face's handlers get the engine as the request's application
 * pointer (r->app, set by main when it starts the server), and tell the
 * engine who asked through a request_context.
 */
#ifndef RESETD_FACE_H
#define RESETD_FACE_H

#include "../core/engine.h"
#include "../http/http.h"

/*
 * The context the engine gets of a request, for its limits and its audit
 * trail: the client address the HTTP layer decided (NULL when there is
 * none) and the User-Agent (NULL when absent or not clean text).  Every
 * face builds it here, so each engine call is recorded the same way.  Its
 * strings live as long as r.
 */
void face_context(const struct http_request *, struct request_context *out);

#endif
