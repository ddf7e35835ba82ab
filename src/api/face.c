/*
 * What every face shares (face.h).
 */
#include "face.h"

void
face_context(const struct http_request *r, struct request_context *out)
{
	*out = (struct request_context){
		.client_ip = http_client(r),
		.user_agent = http_header(r, "User-Agent"),
	};
}
