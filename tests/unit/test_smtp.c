/*
 * Unit tests of the SMTP transport (mail/transport_smtp.c): the table that
 * says what a reply means for a message, and whole exchanges with a small
 * scripted SMTP server on loopback, which check that the server's own
 * reply text becomes the error or the answer.  Also the log transport
 * (mail/transport_log.c), which must write the text to its file.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "config.h"
#include "mail/transport.h"

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(transport_smtp_classify(CURLE_OK, 250, 1), 0);
	/* 5xx to the message itself: permanent. */
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 550, 1),
	    TRANSPORT_PERMANENT);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 553, 1),
	    TRANSPORT_PERMANENT);
	assert_int_equal(transport_smtp_classify(CURLE_WEIRD_SERVER_REPLY, 554,
			     1),
	    TRANSPORT_PERMANENT);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 501, 1),
	    TRANSPORT_PERMANENT);
	/* 4xx: later. */
	/* 4xx to the message: this one later; to the session: all later. */
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 450, 1),
	    TRANSPORT_DEFERRED);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 451, 1),
	    TRANSPORT_DEFERRED);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 452, 1),
	    TRANSPORT_DEFERRED);
	assert_int_equal(transport_smtp_classify(CURLE_WEIRD_SERVER_REPLY, 421,
			     0),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_WEIRD_SERVER_REPLY, 454,
			     0),
	    TRANSPORT_TEMPORARY);
	/* 5xx before the message: about the session, fixed once for all. */
	assert_int_equal(transport_smtp_classify(CURLE_WEIRD_SERVER_REPLY, 554,
			     0),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_LOGIN_DENIED, 535, 0),
	    TRANSPORT_TEMPORARY);
	/* The AUTH family, wherever it comes. */
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 530, 1),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 534, 1),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 535, 1),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_SEND_ERROR, 538, 1),
	    TRANSPORT_TEMPORARY);
	/* No reply at all: connection, TLS, timeouts. */
	assert_int_equal(transport_smtp_classify(CURLE_COULDNT_CONNECT, 0, 0),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_OPERATION_TIMEDOUT, 0,
			     1),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_USE_SSL_FAILED, 250, 0),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_PEER_FAILED_VERIFICATION,
			     0, 0),
	    TRANSPORT_TEMPORARY);
	assert_int_equal(transport_smtp_classify(CURLE_GOT_NOTHING, 0, 1),
	    TRANSPORT_TEMPORARY);
}

/*
 * A scripted server: one connection, the greeting given, and for each
 * command the reply of its script line; "." after DATA gets data_reply.
 */
struct script {
	const char *greeting;
	const char *mail_reply;
	const char *rcpt_reply;
	const char *data_reply;
	int listen_fd;
	int port;
	char got_from[128];
	char got_data[4096];
};

static void
say(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;
	ssize_t w;

	while (off < n) {
		w = write(fd, s + off, n - off);
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* Read one CRLF line into buf; -1 at the end. */
static int
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (n + 1 < len) {
		if (read(fd, &c, 1) != 1)
			return -1;
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

static void *
serve(void *arg)
{
	struct script *s = arg;
	char line[1024];
	int fd, in_data = 0;

	fd = accept(s->listen_fd, NULL, NULL);
	if (fd == -1)
		return NULL;
	say(fd, s->greeting);
	while (read_line(fd, line, sizeof(line)) == 0) {
		if (in_data) {
			if (strcmp(line, ".\r\n") == 0) {
				in_data = 0;
				say(fd, s->data_reply);
			} else if (strlen(s->got_data) + strlen(line) <
			    sizeof(s->got_data))
				strcat(s->got_data, line);
			continue;
		}
		if (strncasecmp(line, "EHLO", 4) == 0 ||
		    strncasecmp(line, "HELO", 4) == 0)
			say(fd, "250-fake.test\r\n250 8BITMIME\r\n");
		else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			snprintf(s->got_from, sizeof(s->got_from), "%.100s",
			    line);
			say(fd, s->mail_reply);
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0)
			say(fd, s->rcpt_reply);
		else if (strncasecmp(line, "DATA", 4) == 0) {
			say(fd, "354 go on\r\n");
			in_data = 1;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(fd, "221 bye\r\n");
			break;
		} else
			say(fd, "502 not here\r\n");
	}
	close(fd);
	return NULL;
}

static void
script_listen(struct script *s)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	(void)setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)),
	    0);
	assert_int_equal(listen(s->listen_fd, 4), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a,
			     &alen),
	    0);
	s->port = ntohs(a.sin_port);
}

static void
base_config(struct config *cfg, char *url)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mail = url;
	cfg->mail_starttls = "auto"; /* loopback: opportunistic */
	cfg->mail_connect_timeout_ms = 2000;
	cfg->mail_send_timeout_ms = 5000;
}

static const char msg_data[] =
    "Subject: hi\r\n\r\n.starts with a dot\r\nbody\r\n";

static const struct transport_msg msg = {
	.from = "noreply@acme.test",
	.to = "alice@example.com",
	.data = msg_data,
	.len = sizeof(msg_data) - 1,
	.text = "body\n",
};

/* Run one exchange against script s; the result, reply in reply. */
static int
exchange(struct script *s, char *reply, size_t replylen)
{
	struct transport t;
	struct config cfg;
	pthread_t th;
	char url[64];
	int rc;

	script_listen(s);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d/resetd.test", s->port);
	base_config(&cfg, url);
	assert_int_equal(pthread_create(&th, NULL, serve, s), 0);
	assert_int_equal(transport_open(url, &cfg, &t), 0);
	assert_string_equal(t.driver->name, "smtp");
	rc = transport_send(&t, &msg, reply, replylen);
	transport_close(&t);
	close(s->listen_fd);
	pthread_join(th, NULL);
	return rc;
}

static void
test_exchange_accepted(void **state)
{
	struct script s = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "250 2.0.0 Ok: queued as ABC123\r\n",
	};
	char reply[TRANSPORT_REPLY_MAX];

	(void)state;
	assert_int_equal(exchange(&s, reply, sizeof(reply)), 0);
	assert_string_equal(reply, "250 2.0.0 Ok: queued as ABC123");
	assert_non_null(strstr(s.got_from, "<noreply@acme.test>"));
	/* A line starting with a dot was escaped on the wire. */
	assert_non_null(strstr(s.got_data, "\r\n..starts with a dot\r\n"));
}

static void
test_exchange_rcpt_refused(void **state)
{
	struct script s = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "550-5.1.1 <alice@example.com>: no such user\r\n"
			      "550 5.1.1 try another\r\n",
		.data_reply = "250 ok\r\n",
	};
	char reply[TRANSPORT_REPLY_MAX];

	(void)state;
	assert_int_equal(exchange(&s, reply, sizeof(reply)),
	    TRANSPORT_PERMANENT);
	/* The server's text, every line of a multi-line reply. */
	assert_string_equal(reply,
	    "550 5.1.1 <alice@example.com>: no such "
	    "user 5.1.1 try another");
}

static void
test_exchange_temporary(void **state)
{
	struct script greylist = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "451 4.7.1 greylisted, come back later\r\n",
		.data_reply = "250 ok\r\n",
	};
	struct script busy = {
		.greeting = "554 5.3.2 not accepting mail from you\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "250 ok\r\n",
	};
	struct script data = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "452 4.3.1 insufficient storage\r\n",
	};
	struct script rejected = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "554 5.7.1 message refused as spam\r\n",
	};
	char reply[TRANSPORT_REPLY_MAX];

	(void)state;
	assert_int_equal(exchange(&greylist, reply, sizeof(reply)),
	    TRANSPORT_DEFERRED);
	assert_string_equal(reply, "451 4.7.1 greylisted, come back later");
	/* A refusal before any command is about us, not the message. */
	assert_int_equal(exchange(&busy, reply, sizeof(reply)),
	    TRANSPORT_TEMPORARY);
	assert_string_equal(reply, "554 5.3.2 not accepting mail from you");
	assert_int_equal(exchange(&data, reply, sizeof(reply)),
	    TRANSPORT_DEFERRED);
	assert_string_equal(reply, "452 4.3.1 insufficient storage");
	assert_int_equal(exchange(&rejected, reply, sizeof(reply)),
	    TRANSPORT_PERMANENT);
	assert_string_equal(reply, "554 5.7.1 message refused as spam");
}

struct sending {
	struct transport *t;
	char reply[TRANSPORT_REPLY_MAX];
	int rc;
};

static void *
send_main(void *arg)
{
	struct sending *sd = arg;

	sd->rc = transport_send(sd->t, &msg, sd->reply, sizeof(sd->reply));
	return NULL;
}

/*
 * A relay that greets and then never answers MAIL FROM holds a send for
 * the whole send timeout; transport_cancel, from another thread, ends it
 * within about a second, as a temporary failure, and every later send too.
 */
static void
test_cancel_hung_send(void **state)
{
	struct script s = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "", /* silence */
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "250 ok\r\n",
	};
	struct sending sd;
	struct transport t;
	struct config cfg;
	pthread_t sender, server;
	char url[64];
	int64_t t0, took;

	(void)state;
	script_listen(&s);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s.port);
	base_config(&cfg, url);
	cfg.mail_send_timeout_ms = 30000;
	assert_int_equal(pthread_create(&server, NULL, serve, &s), 0);
	assert_int_equal(transport_open(url, &cfg, &t), 0);
	sd.t = &t;
	sd.rc = 1;
	assert_int_equal(pthread_create(&sender, NULL, send_main, &sd), 0);
	/* Until the server has MAIL FROM, and a little more. */
	while (s.got_from[0] == '\0')
		usleep(10 * 1000);
	usleep(300 * 1000);
	t0 = time_mono_ms();
	transport_cancel(&t);
	pthread_join(sender, NULL);
	took = time_mono_ms() - t0;
	assert_int_equal(sd.rc, TRANSPORT_TEMPORARY);
	assert_true(took < 3000);
	assert_true(str_has_prefix(sd.reply, "smtp: "));
	/* Cancelled for good: the next send gives up at once too. */
	assert_int_equal(transport_send(&t, &msg, sd.reply, sizeof(sd.reply)),
	    TRANSPORT_TEMPORARY);
	transport_close(&t);
	close(s.listen_fd);
	pthread_join(server, NULL);
}

static void
test_connection_refused(void **state)
{
	struct script s = { .greeting = "" };
	struct transport t;
	struct config cfg;
	char url[64], reply[TRANSPORT_REPLY_MAX];

	(void)state;
	/* A port that was just free, and is closed again. */
	script_listen(&s);
	close(s.listen_fd);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s.port);
	base_config(&cfg, url);
	assert_int_equal(transport_open(url, &cfg, &t), 0);
	assert_int_equal(transport_send(&t, &msg, reply, sizeof(reply)),
	    TRANSPORT_TEMPORARY);
	assert_true(str_has_prefix(reply, "smtp: "));
	assert_non_null(strstr(reply, "onnect"));
	transport_close(&t);
}

static void
test_required_starttls(void **state)
{
	struct script s = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "250 ok\r\n",
	};
	struct transport t;
	struct config cfg;
	pthread_t th;
	char url[64], reply[TRANSPORT_REPLY_MAX];

	(void)state;
	/* The server offers no STARTTLS: nothing may be sent in clear. */
	script_listen(&s);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s.port);
	base_config(&cfg, url);
	cfg.mail_starttls = "required";
	assert_int_equal(pthread_create(&th, NULL, serve, &s), 0);
	assert_int_equal(transport_open(url, &cfg, &t), 0);
	assert_int_equal(transport_send(&t, &msg, reply, sizeof(reply)),
	    TRANSPORT_TEMPORARY);
	transport_close(&t);
	close(s.listen_fd);
	pthread_join(th, NULL);
	assert_string_equal(s.got_from, "");
	assert_string_equal(s.got_data, "");
}

/*
 * Loopback is decided by what the host resolves to.  Only literal
 * addresses, names from the hosts file and names under "invalid" are
 * tried, so the test asks no DNS server.
 */
static void
test_loopback(void **state)
{
	static const char *const yes[] = {
		"smtp://127.0.0.1",
		"smtp://127.0.0.1:2525",
		"smtp://127.8.9.10:25/ehlo.example",
		"smtp://127.255.255.254",
		"smtp://127.1",
		"smtp://[::1]",
		"smtp://[::1]:587",
		"smtp://[::ffff:127.0.0.1]:25",
		"smtp://localhost",
		"smtp://LocalHost:25",
		"smtps://localhost:465",
		NULL,
	};
	static const char *const no[] = {
		/* Spelled like loopback, resolving to nothing. */
		"smtp://127.example.invalid",
		"smtp://127.0.0.1.invalid",
		"smtp://127.mail.example.invalid:25",
		"smtp://127.0.0.1.INVALID.",
		"smtp://localhost.invalid",
		"smtp://invalid",
		/* Addresses elsewhere. */
		"smtp://10.0.0.1",
		"smtp://128.0.0.1",
		"smtp://126.255.255.255",
		"smtp://0.0.0.0",
		"smtp://192.168.1.127",
		"smtp://1.2.7.127",
		"smtp://[::2]",
		"smtp://[::]",
		"smtp://[::ffff:10.0.0.1]",
		"smtp://[fe80::1]",
		"smtp://[2001:db8::127]",
		/* No host at all. */
		"smtp://",
		"smtp://:25",
		"not a url",
		"",
		NULL,
	};
	size_t i;

	(void)state;
	for (i = 0; yes[i] != NULL; i++) {
		if (transport_smtp_loopback(yes[i]) != 1)
			fail_msg("%s: expected loopback", yes[i]);
	}
	for (i = 0; no[i] != NULL; i++) {
		if (transport_smtp_loopback(no[i]) != 0)
			fail_msg("%s: expected not loopback", no[i]);
	}
}

/*
 * With mail_starttls=auto, a name that resolves to loopback alone sends
 * in clear to a server that offers no STARTTLS (the socket opener lets
 * its addresses through).  Names that only look like loopback are
 * test_loopback's; sending to one would ask DNS.
 */
static void
test_auto_starttls_by_address(void **state)
{
	struct script s = {
		.greeting = "220 fake.test ESMTP\r\n",
		.mail_reply = "250 ok\r\n",
		.rcpt_reply = "250 ok\r\n",
		.data_reply = "250 ok\r\n",
	};
	struct transport t;
	struct config cfg;
	pthread_t th;
	char url[96], reply[TRANSPORT_REPLY_MAX];

	(void)state;
	script_listen(&s);
	snprintf(url, sizeof(url), "smtp://localhost:%d", s.port);
	base_config(&cfg, url);
	assert_int_equal(pthread_create(&th, NULL, serve, &s), 0);
	assert_int_equal(transport_open(url, &cfg, &t), 0);
	assert_int_equal(transport_send(&t, &msg, reply, sizeof(reply)), 0);
	transport_close(&t);
	close(s.listen_fd);
	pthread_join(th, NULL);
	assert_non_null(strstr(s.got_from, "<noreply@acme.test>"));
}

static void
test_log_transport(void **state)
{
	char dir[UNIT_DIR_MAX], path[UNIT_PATH_MAX], url[UNIT_PATH_MAX + 8];
	char reply[TRANSPORT_REPLY_MAX], text[4096];
	struct transport t;
	struct config cfg;
	ssize_t n;
	int fd;

	(void)state;
	unit_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(url, sizeof(url), "log:%s", path);
	base_config(&cfg, url);
	assert_int_equal(transport_open(url, &cfg, &t), 0);
	assert_string_equal(t.driver->name, "log");
	assert_int_equal(transport_send(&t, &msg, reply, sizeof(reply)), 0);
	assert_int_equal(transport_send(&t, &msg, reply, sizeof(reply)), 0);
	transport_close(&t);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	/* Headers with LF line ends, then the text part; twice, appended. */
	assert_non_null(strstr(text,
	    "mail from <noreply@acme.test> to "
	    "<alice@example.com>"));
	assert_non_null(strstr(text, "\nSubject: hi\n\nbody\n"));
	assert_null(strstr(text, "\r"));
	assert_non_null(strstr(strstr(text, "end of mail") + 1, "end of mail"));
	unit_rmdir(dir);

	/* An unknown scheme, and a log file that cannot be opened. */
	assert_int_equal(transport_open("ftp://x", &cfg, &t), -1);
	assert_null(t.driver);
	assert_int_equal(transport_open("log:/nonexistent/dir/x.log", &cfg, &t),
	    -1);
	assert_null(transport_name("ftp://x"));
	assert_string_equal(transport_name("smtps://x"), "smtps");
	assert_string_equal(transport_name("maildir:x"), "maildir");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_exchange_accepted),
		cmocka_unit_test(test_exchange_rcpt_refused),
		cmocka_unit_test(test_exchange_temporary),
		cmocka_unit_test(test_cancel_hung_send),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_required_starttls),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_auto_starttls_by_address),
		cmocka_unit_test(test_log_transport),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
