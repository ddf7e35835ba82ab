/*
 * The pages' stylesheets, served by resetd itself so that no page needs
 * anything from another site:
 *
 *	GET /assets/resetd.css		the stylesheet (templates/pages/
 *					resetd.css), linked with ?v=<hash of
 *					its text>, cacheable for a day, with
 *					an ETag
 *	GET /assets/project/<id>.css	a project's accent colour as CSS
 *					variables; cacheable for five minutes
 *
 * The accent colour lives in a stylesheet rather than in a style
 * attribute because the pages' Content-Security-Policy allows styles from
 * this site only (style-src 'self'), and no inline style.  The colour was
 * checked to be #RRGGBB when it was stored, and is checked again here, so
 * nothing else can reach the CSS.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "../util/embedded.h"
#include "pages.h"

#define CSS_PATH "pages/resetd.css"
#define CSS_CONTENT_TYPE "text/css; charset=utf-8"
#define VERSION_BYTES 8

static const struct embedded_file *css;
static char css_version[VERSION_BYTES * 2 + 1];
static char css_etag[VERSION_BYTES * 2 + 3];
static char css_href[64];
static pthread_once_t css_once = PTHREAD_ONCE_INIT;

static void
css_load(void)
{
	uint8_t h[VERSION_BYTES];

	css = embedded_find(CSS_PATH);
	if (css == NULL)
		log_fatal("pages: %s is not built in", CSS_PATH);
	crypto_generichash(h, sizeof(h), (const uint8_t *)css->data, css->len,
	    NULL, 0);
	hex_encode(h, sizeof(h), css_version);
	snprintf(css_etag, sizeof(css_etag), "\"%s\"", css_version);
	snprintf(css_href, sizeof(css_href), "/assets/resetd.css?v=%s",
	    css_version);
}

const char *
page_css_href(void)
{
	pthread_once(&css_once, css_load);
	return css_href;
}

void
pages_load(void)
{
	pthread_once(&css_once, css_load);
	page_text_load();
}

void
page_asset_css(const struct http_request *r, struct http_response *resp)
{
	const char *inm = http_header(r, "If-None-Match");

	pthread_once(&css_once, css_load);
	http_set_header(resp, "Cache-Control", "public, max-age=86400");
	http_set_header(resp, "ETag", css_etag);
	resp->outcome = "asset";
	if (inm != NULL && strstr(inm, css_etag) != NULL) {
		http_set_body(resp, 304, NULL, "", 0);
		return;
	}
	http_set_body(resp, 200, CSS_CONTENT_TYPE, css->data, css->len);
}

/* x to the power 0.4 for 0 <= x <= 1: the fifth root of x squared. */
static double
pow04(double x)
{
	double y = 1.0, a = x * x;
	int i;

	if (x <= 0.0)
		return 0.0;
	/* Newton's method for y^5 = a; from 1 it falls monotonically. */
	for (i = 0; i < 60; i++)
		y -= (y * y * y * y * y - a) / (5.0 * y * y * y * y);
	return y;
}

/* The linear value of an sRGB channel (0-255), as WCAG 2 defines it. */
static double
linear(unsigned v)
{
	double c = v / 255.0, x;

	if (c <= 0.04045)
		return c / 12.92;
	x = (c + 0.055) / 1.055;
	return x * x * pow04(x); /* x^2.4 */
}

/* The relative luminance of "#RRGGBB" (already checked). */
static double
luminance(const char *color)
{
	uint8_t rgb[3];

	if (hex_decode(color + 1, 6, rgb) != 3)
		abort();
	return 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) +
	    0.0722 * linear(rgb[2]);
}

/* 1 when s is "#RRGGBB". */
static int
color_shaped(const char *s)
{
	return s != NULL && strlen(s) == 7 && s[0] == '#' &&
	    strspn(s + 1, "0123456789abcdefABCDEF") == 6;
}

void
page_asset_project_css(const struct http_request *r, struct http_response *resp)
{
	const char *param = r->path_param, *text;
	struct project *p = NULL;
	char id[UUID_STRLEN + 1], *body = NULL;
	double l;
	int status = 404, link;

	resp->outcome = "asset";
	if (param == NULL || strlen(param) != UUID_STRLEN + 4 ||
	    strcmp(param + UUID_STRLEN, ".css") != 0)
		goto out;
	memcpy(id, param, UUID_STRLEN);
	id[UUID_STRLEN] = '\0';
	switch (engine_project(r->app, id, &p)) {
	case ENGINE_OK:
		break;
	case ENGINE_PROJECT_UNKNOWN:
		goto out;
	default:
		status = 503;
		goto out;
	}
	if (!color_shaped(p->accent_color))
		goto out;
	l = luminance(p->accent_color);
	/*
	 * Text on the accent: white or black, whichever contrasts more.  Links
	 * take the accent only where it reads on white (4.5:1, WCAG AA).
	 */
	text = 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#000000";
	link = 1.05 / (l + 0.05) >= 4.5;
	body = xasprintf(":root {\n\t--accent: %s;\n\t--accent-text: %s;\n"
			 "%s%s%s}\n",
	    p->accent_color, text, link ? "\t--link: " : "",
	    link ? p->accent_color : "", link ? ";\n" : "");
	status = 200;
out:
	if (status == 200) {
		http_set_header(resp, "Cache-Control", "public, max-age=300");
		http_set_body(resp, 200, CSS_CONTENT_TYPE, body, strlen(body));
	} else {
		http_set_header(resp, "Cache-Control", "no-store");
		http_set_body(resp, status, "text/plain; charset=utf-8",
		    status == 404 ? "not found\n" : "unavailable\n",
		    status == 404 ? 10 : 12);
	}
	free(body);
	project_free(p);
}
