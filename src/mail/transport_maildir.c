/*
 * The Maildir transport: each message becomes a file in DIR/new, written
 * to DIR/tmp first, synced, then renamed, so a reader never sees half a
 * message and an accepted message survives a crash.  For development and
 * tests; mail clients and test harnesses read the folder directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../log.h"
#include "transport.h"

struct maildir {
	char *dir;
};

static int
make_dir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return log_fail("mail: cannot create %s: %s", path,
		    strerror(errno));
	return 0;
}

static int
md_open(const char *url, const struct config *cfg, void **handle)
{
	struct maildir *m;
	const char *dir = url + strlen("maildir:");
	char *p, *s;
	int rc = 0;

	(void)cfg;
	if (*dir == '\0')
		return log_fail("mail: maildir: needs a folder");
	/* mkdir -p DIR, then its three subfolders. */
	p = xstrdup(dir);
	for (s = p + 1; *s != '\0' && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rc = make_dir(p);
		*s = '/';
	}
	free(p);
	if (rc == -1 || make_dir(dir) == -1)
		return -1;
	m = xcalloc(1, sizeof(*m));
	m->dir = xstrdup(dir);
	p = xasprintf("%s/tmp", dir);
	rc |= make_dir(p);
	free(p);
	p = xasprintf("%s/new", dir);
	rc |= make_dir(p);
	free(p);
	p = xasprintf("%s/cur", dir);
	rc |= make_dir(p);
	free(p);
	if (rc != 0) {
		free(m->dir);
		free(m);
		return -1;
	}
	*handle = m;
	return 0;
}

static void
md_close(void *handle)
{
	struct maildir *m = handle;

	free(m->dir);
	free(m);
}

static int
sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
md_send(void *handle, const struct transport_msg *msg, char *err, size_t errlen)
{
	struct maildir *m = handle;
	char name[96], rnd_hex[17];
	uint8_t rnd[8];
	char *tmp = NULL, *dst = NULL, *newdir = NULL;
	size_t off = 0;
	ssize_t n;
	int fd = -1, rc = TRANSPORT_TEMPORARY;

	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), rnd_hex);
	snprintf(name, sizeof(name), "%lld.%ld_%s.resetd",
	    (long long)(time_now_ms() / 1000), (long)getpid(), rnd_hex);
	tmp = xasprintf("%s/tmp/%s", m->dir, name);
	dst = xasprintf("%s/new/%s", m->dir, name);
	newdir = xasprintf("%s/new", m->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1)
		goto fail;
	while (off < msg->len) {
		n = write(fd, msg->data + off, msg->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) == -1 || sync_dir(newdir) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "maildir: %s", strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dst);
	free(newdir);
	return rc;
}

const struct transport_driver transport_maildir = {
	.name = "maildir",
	.prefix = "maildir:",
	.open = md_open,
	.close = md_close,
	.send = md_send,
};
