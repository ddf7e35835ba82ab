/*
 * Library versions for --version.  Each library is asked at run time,
 * since a shared library may have been upgraded under the binary; the
 * version of the headers resetd was built with is shown beside it only
 * when the two differ.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <sodium.h>
#include <sqlite3.h>
#include <utf8proc.h>

#include "version.h"

/* One line: the name, the run-time version, and the build's when unlike. */
static void
line(FILE *f, const char *name, const char *run, const char *built)
{
	fprintf(f, "%s %s", name, run);
	if (built != NULL && strcmp(run, built) != 0)
		fprintf(f, " (built with %s)", built);
	fputc('\n', f);
}

void
version_print(FILE *f)
{
	const curl_version_info_data *curl;
	char pq[32], mhd[32], u8[32];
	int v;

	fprintf(f, "resetd %s\n", RESETD_VERSION);
	/* 0x00097500 is 0.9.75: one byte per part, written in hex. */
	snprintf(mhd, sizeof(mhd), "%x.%x.%x", (MHD_VERSION >> 24) & 0xff,
	    (MHD_VERSION >> 16) & 0xff, (MHD_VERSION >> 8) & 0xff);
	line(f, "libmicrohttpd", MHD_get_version(), mhd);
	line(f, "jansson", jansson_version_str(), JANSSON_VERSION);
	line(f, "libsodium", sodium_version_string(), SODIUM_VERSION_STRING);
	line(f, "sqlite", sqlite3_libversion(), SQLITE_VERSION);
	/* libpq says 150004 for 15.4, and 90624 for 9.6.24; no header tells. */
	v = PQlibVersion();
	if (v >= 100000)
		snprintf(pq, sizeof(pq), "%d.%d", v / 10000, v % 10000);
	else
		snprintf(pq, sizeof(pq), "%d.%d.%d", v / 10000, v / 100 % 100,
		    v % 100);
	line(f, "libpq", pq, NULL);
	curl = curl_version_info(CURLVERSION_NOW);
	line(f, "libcurl", curl->version, LIBCURL_VERSION);
	line(f, "openssl", OpenSSL_version(OPENSSL_VERSION_STRING),
	    OPENSSL_VERSION_STR);
	snprintf(u8, sizeof(u8), "%d.%d.%d", UTF8PROC_VERSION_MAJOR,
	    UTF8PROC_VERSION_MINOR, UTF8PROC_VERSION_PATCH);
	line(f, "utf8proc", utf8proc_version(), u8);
}
