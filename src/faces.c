/*
 * The list of faces (faces.h).  No two faces share a path, except that a
 * path of one face answered for another method counts as known (405), so
 * the order matters only for that, and is kept as the routes were first
 * written; and workos_unknown_face, which matches any path asked with a
 * WorkOS API key, comes last.
 */
#include "api/api.h"
#include "faces.h"
#include "pages/pages.h"

const struct http_face *const resetd_faces[] = {
	&health_face,
	&xsolla_face,
	&workos_face,
	&velocity_face,
	&cognito_face,
	&pages_face,
	&workos_unknown_face, /* last: only what no face serves */
	NULL,
};

/* The admin listener answers the admin face alone. */
const struct http_face *const resetd_admin_faces[] = {
	&admin_face,
	NULL,
};
