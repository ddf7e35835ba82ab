/*
 * The SMTP transport, through libcurl.
 *
 *	smtp://HOST[:PORT][/EHLO-NAME]	port 25 by default; STARTTLS as
 *					mail_starttls says
 *	smtps://HOST[:PORT][/EHLO-NAME]	port 465 by default; TLS at once
 *
 * Each sender thread owns one handle, and so one curl easy handle, which
 * keeps its connection open between messages.  TLS peers are always
 * verified (mail_ca_file names other CAs than the system's).  STARTTLS is
 * required by default for any host but a loopback one; "opportunistic"
 * uses it when the server offers it, "off" never does.  A host is loopback
 * by what it resolves to, not by its name: every address must be in
 * 127.0.0.0/8 or ::1, and a connection made without TLS on that ground is
 * refused if the name later resolves elsewhere.  AUTH uses mail_username
 * and mail_password; they never reach a log.
 *
 * The outcome of a send is read from the server's replies, which libcurl
 * hands to a debug callback line by line: the last complete reply is kept
 * as the answer or the error (but for the reply to a QUIT), and the
 * commands sent tell whether the exchange had reached the message itself
 * (MAIL FROM onwards).  Only a 5xx reply to the message is permanent, and
 * a 4xx to it defers that message alone; see transport_smtp_classify.
 *
 * A relay that accepts the connection and then says nothing would hold a
 * sender for the whole mail_send_timeout_ms.  So that a shutdown need not
 * wait that long, smtp_cancel raises a flag that libcurl's progress
 * callback reads (libcurl calls it at least once a second, waiting or
 * not), and the transfer ends there.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "../log.h"
#include "transport.h"

enum starttls_mode {
	STARTTLS_AUTO,		/* 0 */
	STARTTLS_REQUIRED,	/* 1 */
	STARTTLS_OPPORTUNISTIC, /* 2 */
	STARTTLS_OFF,		/* 3 */
	STARTTLS__MAX
};

static const char *const starttls_names[STARTTLS__MAX] = {
	"auto",		 /* STARTTLS_AUTO */
	"required",	 /* STARTTLS_REQUIRED */
	"opportunistic", /* STARTTLS_OPPORTUNISTIC */
	"off",		 /* STARTTLS_OFF */
};

struct smtp {
	CURL *curl;
	/* The message being sent. */
	const char *data;
	size_t len;
	size_t off;
	/* What the server said. */
	char reply[TRANSPORT_REPLY_MAX];   /* last complete reply */
	char partial[TRANSPORT_REPLY_MAX]; /* a multi-line one */
	int in_envelope;		   /* MAIL FROM was sent */
	int quitting;			   /* QUIT was sent */
	int loopback_only; /* TLS was relaxed for a loopback host */
	char errbuf[CURL_ERROR_SIZE];
	atomic_int cancelled; /* see smtp_cancel */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
transport_smtp_classify(int curl_code, long reply, int in_envelope)
{
	if (curl_code == CURLE_OK)
		return 0;
	switch (reply) {
	case 530: /* authentication required */
	case 534: /* mechanism too weak */
	case 535: /* credentials invalid */
	case 538: /* encryption required for the mechanism */
		return TRANSPORT_TEMPORARY;
	default:
		break;
	}
	if (reply >= 500 && reply <= 599 && in_envelope)
		return TRANSPORT_PERMANENT;
	if (reply >= 400 && reply <= 499 && in_envelope)
		return TRANSPORT_DEFERRED;
	return TRANSPORT_TEMPORARY;
}

/* Copy n bytes of reply text to the end of dst, printable ASCII only. */
static void
append_text(char *dst, const char *src, size_t n)
{
	size_t len = strlen(dst), i;

	for (i = 0; i < n && len + 1 < TRANSPORT_REPLY_MAX; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[len] = '\0';
}

/*
 * One reply line: "250-..." continues a reply, "250 ..." ends it.  A
 * multi-line reply is kept as its first line and the text of the others.
 */
static void
reply_line(struct smtp *s, const char *line, size_t n)
{
	int last;

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n < 3)
		return;
	last = n == 3 || line[3] != '-';
	if (s->partial[0] == '\0')
		append_text(s->partial, line, n);
	else if (n > 4) {
		append_text(s->partial, " ", 1);
		append_text(s->partial, line + 4, n - 4);
	}
	if (last) {
		/* A continuation's dash is not part of the answer. */
		if (s->partial[3] == '-')
			s->partial[3] = ' ';
		/*
		 * libcurl may say QUIT after a refusal; "221 bye" would hide
		 * the reason.
		 */
		if (!s->quitting)
			memcpy(s->reply, s->partial, sizeof(s->reply));
		s->partial[0] = '\0';
	}
}

/*
 * libcurl's trace of the exchange.  Commands sent are only looked at for
 * MAIL FROM; everything else, AUTH lines included, is dropped unread.
 */
static int
smtp_trace(CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp *s = arg;

	(void)curl;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		if (size >= 10 && strncasecmp(data, "MAIL FROM:", 10) == 0)
			s->in_envelope = 1;
		if (size >= 4 && strncasecmp(data, "QUIT", 4) == 0)
			s->quitting = 1;
		break;
	case CURLINFO_HEADER_IN:
		reply_line(s, data, size);
		break;
	default:
		break;
	}
	return 0;
}

/* libcurl's progress callback: non-zero ends the transfer. */
static int
smtp_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct smtp *s = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&s->cancelled) ? 1 : 0;
}

static size_t
smtp_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp *s = arg;
	size_t n = size * nitems;

	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	return n;
}

/* 1 when sa is a loopback address: 127.0.0.0/8, ::1, or 127/8 mapped. */
static int
addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *in4;
	const struct sockaddr_in6 *in6;

	switch (sa->sa_family) {
	case AF_INET:
		in4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127;
	default:
		return 0;
	}
}

/* The host of url, without IPv6 brackets, newly allocated; NULL if none. */
static char *
url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *out = NULL;
	size_t n;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
		CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		n = strlen(host);
		if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
			out = xstrndup(host + 1, n - 2);
		else if (n > 0)
			out = xstrdup(host);
	}
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

/*
 * 1 when name is under the special-use domain "invalid" (RFC 6761 6.4),
 * which never resolves: it is answered without asking DNS.
 */
static int
name_is_invalid(const char *name)
{
	size_t n = strlen(name);

	while (n > 0 && name[n - 1] == '.')
		n--;
	return (n == 7 && strncasecmp(name, "invalid", 7) == 0) ||
	    (n > 7 && strncasecmp(name + n - 8, ".invalid", 8) == 0);
}

int
transport_smtp_loopback(const char *url)
{
	struct addrinfo hints, *res = NULL, *ai;
	char *host = url_host(url);
	int rc, loopback = 0;

	if (host == NULL || name_is_invalid(host))
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		log_warn("mail: cannot resolve %s (%s); STARTTLS is required",
		    host, gai_strerror(rc));
		goto out;
	}
	loopback = res != NULL;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (ai->ai_addr == NULL || !addr_is_loopback(ai->ai_addr))
			loopback = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	return loopback;
}

/*
 * libcurl's socket opener.  When TLS was relaxed because the host resolved
 * to loopback alone, an address elsewhere (the name changed since) is
 * refused: the send fails as a connection failure and is retried.
 */
static curl_socket_t
smtp_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct smtp *s = arg;

	(void)purpose;
	if (s->loopback_only && !addr_is_loopback(&a->addr)) {
		log_warn("mail: the SMTP host no longer resolves to loopback "
			 "alone; not connecting without STARTTLS");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static enum starttls_mode
starttls_mode(const char *s)
{
	int i;

	for (i = 0; i < STARTTLS__MAX; i++)
		if (s != NULL && strcmp(s, starttls_names[i]) == 0)
			return (enum starttls_mode)i;
	return STARTTLS_AUTO; /* config.c admits nothing else */
}

static int
smtp_open(const char *url, const struct config *cfg, void **handle)
{
	struct smtp *s;
	enum starttls_mode mode = starttls_mode(cfg->mail_starttls);
	long use_ssl;
	int implicit = str_has_prefix(url, "smtps://");
	int loopback_only = 0;
	CURLcode rc = CURLE_OK;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return log_fail("mail: cannot initialise libcurl: %s",
		    curl_easy_strerror(curl_init_rc));
	if (mode == STARTTLS_AUTO && !implicit) {
		loopback_only = transport_smtp_loopback(url);
		mode = loopback_only ? STARTTLS_OPPORTUNISTIC :
				       STARTTLS_REQUIRED;
	}
	if (implicit || mode == STARTTLS_REQUIRED)
		use_ssl = CURLUSESSL_ALL;
	else if (mode == STARTTLS_OPPORTUNISTIC)
		use_ssl = CURLUSESSL_TRY;
	else
		use_ssl = CURLUSESSL_NONE;
	if (cfg->mail_username != NULL && use_ssl != CURLUSESSL_ALL)
		log_warn("mail: with mail_starttls=%s, the SMTP password may "
			 "travel without TLS",
		    starttls_names[mode]);

	s = xcalloc(1, sizeof(*s));
	s->loopback_only = loopback_only;
	atomic_init(&s->cancelled, 0);
	s->curl = curl_easy_init();
	if (s->curl == NULL) {
		free(s);
		return log_fail("mail: cannot make a libcurl handle");
	}
	rc |= curl_easy_setopt(s->curl, CURLOPT_URL, url);
	rc |= curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	rc |= curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)cfg->mail_connect_timeout_ms);
	rc |= curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS,
	    (long)cfg->mail_send_timeout_ms);
	rc |= curl_easy_setopt(s->curl, CURLOPT_USE_SSL, use_ssl);
	rc |= curl_easy_setopt(s->curl, CURLOPT_OPENSOCKETFUNCTION,
	    smtp_opensocket);
	rc |= curl_easy_setopt(s->curl, CURLOPT_OPENSOCKETDATA, s);
	rc |= curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->mail_ca_file != NULL)
		rc |= curl_easy_setopt(s->curl, CURLOPT_CAINFO,
		    cfg->mail_ca_file);
	if (cfg->mail_username != NULL) {
		rc |= curl_easy_setopt(s->curl, CURLOPT_USERNAME,
		    cfg->mail_username);
		rc |= curl_easy_setopt(s->curl, CURLOPT_PASSWORD,
		    cfg->mail_password);
	}
	rc |= curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	rc |= curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, smtp_read);
	rc |= curl_easy_setopt(s->curl, CURLOPT_READDATA, s);
	/* The trace is how replies are read; it writes nothing anywhere. */
	rc |= curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);
	rc |= curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, smtp_trace);
	rc |= curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s);
	rc |= curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	rc |= curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION,
	    smtp_progress);
	rc |= curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, s);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(s->curl);
		free(s);
		return log_fail("mail: this libcurl cannot send SMTP as "
				"configured");
	}
	*handle = s;
	return 0;
}

static void
smtp_close(void *handle)
{
	struct smtp *s = handle;

	curl_easy_cleanup(s->curl);
	free(s);
}

static int
smtp_send(void *handle, const struct transport_msg *m, char *reply,
    size_t replylen)
{
	struct smtp *s = handle;
	struct curl_slist *rcpt;
	char *from, *to;
	long code = 0;
	CURLcode cc;
	int rc;

	s->data = m->data;
	s->len = m->len;
	s->off = 0;
	s->reply[0] = '\0';
	s->partial[0] = '\0';
	s->quitting = 0;
	s->errbuf[0] = '\0';
	s->in_envelope = 0;
	from = xasprintf("<%s>", m->from);
	to = xasprintf("<%s>", m->to);
	rcpt = curl_slist_append(NULL, to);
	if (rcpt == NULL)
		log_fatal("mail: out of memory");
	cc = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)m->len);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(s->curl);
	if (curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code) !=
	    CURLE_OK)
		code = 0;
	rc = transport_smtp_classify(cc, code, s->in_envelope);
	if (rc == 0 || (code >= 400 && s->reply[0] != '\0'))
		snprintf(reply, replylen, "%s", s->reply);
	else
		snprintf(reply, replylen, "smtp: %s%s%s",
		    curl_easy_strerror(cc), s->errbuf[0] ? ": " : "",
		    s->errbuf);
	/* The list and the addresses are freed; libcurl must not keep them. */
	(void)curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	free(from);
	free(to);
	s->data = NULL;
	return rc;
}

static void
smtp_cancel(void *handle)
{
	struct smtp *s = handle;

	atomic_store(&s->cancelled, 1);
}

const struct transport_driver transport_smtp = {
	.name = "smtp",
	.prefix = "smtp://",
	.open = smtp_open,
	.close = smtp_close,
	.send = smtp_send,
	.cancel = smtp_cancel,
};

const struct transport_driver transport_smtps = {
	.name = "smtps",
	.prefix = "smtps://",
	.open = smtp_open,
	.close = smtp_close,
	.send = smtp_send,
	.cancel = smtp_cancel,
};
