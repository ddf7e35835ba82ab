/*
 * AWS Signature Version 4 checks for signed calls (the Cognito face's
 * admin calls), as AWS makes them: the Authorization header's scope must
 * name this instance's region (aws_region), the face's service and
 * today's date as the request's X-Amz-Date has it; the access key id must
 * be a live API key's; the signature, recomputed with that key's secret
 * (unsealed for the check, zeroed after), must match in constant time;
 * and X-Amz-Date must lie within 5 minutes of the database's clock, the
 * one every instance shares.  A refusal says which of AWS's exceptions
 * applies, with AWS's wording in check->message; it changes nothing.
 *
 * The caller (a face) builds the sigv4_request from the HTTP request;
 * this file never sees HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define SKEW_S (5 * 60)

/* X-Amz-Date text of epoch seconds t. */
static void
amz_date_of(long long t, char out[SIGV4_AMZ_DATE_LEN + 1])
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

/* The live key with access key id akid, and its project; or a refusal. */
static enum aws_auth
key_of(struct engine *e, const char *akid, struct api_key **key,
    struct project **p)
{
	struct db_conn *c;
	int rc;

	c = db_acquire(e->db);
	if (c == NULL)
		return AWS_AUTH_UNAVAILABLE;
	rc = store_api_key_by_access_key(c, akid, key);
	if (rc == STORE_OK && (*key)->revoked_at != 0)
		rc = STORE_NOT_FOUND;
	if (rc == STORE_OK)
		rc = store_project_get(c, (*key)->project_id, p);
	db_release(e->db, c);
	if (rc < 0)
		return AWS_AUTH_UNAVAILABLE;
	if (rc != STORE_OK)
		return AWS_AUTH_UNRECOGNIZED;
	return AWS_AUTH_OK;
}

enum aws_auth
engine_aws_auth(struct engine *e, struct aws_auth_check *in,
    struct project **out)
{
	struct sigv4_auth a;
	struct api_key *k = NULL;
	struct project *p = NULL;
	const char *why;
	char want[SIGV4_HEX_LEN + 1], edge[SIGV4_AMZ_DATE_LEN + 1];
	char now_text[SIGV4_AMZ_DATE_LEN + 1];
	char *secret = NULL;
	long long t, now;
	enum aws_auth res;

	in->message[0] = '\0';
	if (in->authorization == NULL) {
		snprintf(in->message, sizeof(in->message),
		    "Request is missing "
		    "Authentication Token");
		return AWS_AUTH_MISSING;
	}
	if (sigv4_parse_authorization(in->authorization, &a, &why) == -1) {
		snprintf(in->message, sizeof(in->message), "%s", why);
		return AWS_AUTH_INCOMPLETE;
	}
	if (in->amz_date == NULL || !sigv4_parse_amz_date(in->amz_date, &t)) {
		snprintf(in->message, sizeof(in->message),
		    "Authorization header "
		    "requires existence of either a 'X-Amz-Date' or a 'Date' "
		    "header.");
		return AWS_AUTH_INCOMPLETE;
	}
	res = AWS_AUTH_INVALID_SIGNATURE;
	if (strcmp(a.terminator, "aws4_request") != 0) {
		snprintf(in->message, sizeof(in->message),
		    "Credential should be "
		    "scoped with a valid terminator: 'aws4_request', not "
		    "'%.16s'.",
		    a.terminator);
		return res;
	}
	if (strcmp(a.service, in->service) != 0) {
		snprintf(in->message, sizeof(in->message),
		    "Credential should be "
		    "scoped to correct service: '%s'. ",
		    in->service);
		return res;
	}
	if (strcmp(a.region, e->cfg->aws_region) != 0) {
		snprintf(in->message, sizeof(in->message),
		    "Credential should be "
		    "scoped to a valid region. ");
		return res;
	}
	if (strncmp(a.date, in->amz_date, 8) != 0) {
		snprintf(in->message, sizeof(in->message),
		    "Date in Credential "
		    "scope does not match YYYYMMDD from ISO-8601 version of date "
		    "from HTTP: '%s' != '%.8s', from 'X-Amz-Date'.",
		    a.date, in->amz_date);
		return res;
	}
	res = key_of(e, a.key_id, &k, &p);
	if (res == AWS_AUTH_UNRECOGNIZED)
		snprintf(in->message, sizeof(in->message),
		    "The security token "
		    "included in the request is invalid.");
	if (res != AWS_AUTH_OK)
		goto out;
	secret = engine_aws_unseal(e, k);
	if (secret == NULL) {
		res = AWS_AUTH_UNAVAILABLE;
		goto out;
	}
	res = AWS_AUTH_INVALID_SIGNATURE;
	if (sigv4_signature(in->request, &a, in->amz_date, secret, want) != 0 ||
	    strlen(a.signature) != SIGV4_HEX_LEN ||
	    sodium_memcmp(want, a.signature, SIGV4_HEX_LEN) != 0) {
		snprintf(in->message, sizeof(in->message),
		    "The request "
		    "signature we calculated does not match the signature you "
		    "provided. Check your AWS Secret Access Key and signing "
		    "method. Consult the service documentation for details.");
		goto out;
	}
	now = engine_now(e) / 1000;
	amz_date_of(now, now_text);
	if (t < now - SKEW_S) {
		amz_date_of(now - SKEW_S, edge);
		snprintf(in->message, sizeof(in->message),
		    "Signature expired: "
		    "%s is now earlier than %s (%s - 5 min.)",
		    in->amz_date, edge, now_text);
		goto out;
	}
	if (t > now + SKEW_S) {
		amz_date_of(now + SKEW_S, edge);
		snprintf(in->message, sizeof(in->message),
		    "Signature not yet "
		    "current: %s is still later than %s (%s + 5 min.)",
		    in->amz_date, edge, now_text);
		goto out;
	}
	*out = p;
	p = NULL;
	res = AWS_AUTH_OK;
out:
	sodium_memzero(want, sizeof(want));
	xfree_secret(secret);
	api_key_free(k);
	project_free(p);
	return res;
}

void
engine_user_pool_id(const char *region, const char *project_id,
    char out[ENGINE_POOL_ID_MAX + 1])
{
	char ulid[ULID_STRLEN + 1];

	if (id_uuid_to_ulid(project_id, ulid) == -1)
		abort(); /* project ids are UUIDs */
	snprintf(out, ENGINE_POOL_ID_MAX + 1, "%s_%s", region, ulid);
}

int
engine_user_pool_project(const char *region, const char *pool_id,
    char out[UUID_STRLEN + 1])
{
	const char *us = strrchr(pool_id, '_');
	size_t rlen = strlen(region);

	if (us == NULL || (size_t)(us - pool_id) != rlen ||
	    strncmp(pool_id, region, rlen) != 0 ||
	    strlen(us + 1) != ULID_STRLEN)
		return -1;
	return id_ulid_to_uuid(us + 1, out);
}
