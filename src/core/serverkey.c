/*
 * The server secret's home: the setting, a key file, or (for a database
 * that lives in memory and dies with the process) memory alone.  See
 * serverkey.h for the rules; this file also carries an older database's
 * secret out of its settings table.
 *
 * The key file holds the secret as 64 hex characters and a newline.  It is
 * created under a temporary name with mkstemp (O_EXCL, mode 0600), written,
 * flushed, and then linked to its name: link(2) never replaces a file, so
 * two first starts at once agree on whichever file landed first, and a
 * crash leaves either no key file or a whole one, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../log.h"
#include "../store/store.h"
#include "serverkey.h"

#define SETTING_KEY "server_secret" /* where older versions kept it */
#define KEYFILE_MAX 256		    /* more is not a key file */
#define HEX_LEN (2 * SERVERKEY_BYTES)

static int
is_postgres(const struct config *cfg)
{
	return !str_has_prefix(cfg->database, "sqlite:");
}

/* 1 when the SQLite path names a database that lives in memory alone. */
static int
in_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0 || *path == '\0' ||
	    strstr(path, "mode=memory") != NULL;
}

int
serverkey_locate(const struct config *cfg, enum serverkey_source *src,
    char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *db = cfg->database + strlen("sqlite:");
	size_t n;
	int len;

	if (cfg->server_secret != NULL) {
		*src = SERVERKEY_CONFIG;
		return 0;
	}
	if (cfg->server_secret_file != NULL) {
		len = snprintf(path, pathlen, "%s", cfg->server_secret_file);
	} else if (is_postgres(cfg)) {
		*src = SERVERKEY_NONE;
		return 0;
	} else if (in_memory(db)) {
		*src = SERVERKEY_MEMORY;
		return 0;
	} else {
		/* var/resetd.db: var/resetd.key; any other name: NAME.key */
		n = strlen(db);
		if (n > 3 && strcmp(db + n - 3, ".db") == 0)
			n -= 3;
		len = snprintf(path, pathlen, "%.*s.key", (int)n, db);
	}
	if (len < 0 || (size_t)len >= pathlen) {
		snprintf(err, errlen, "server_secret_file: path too long");
		return -1;
	}
	*src = SERVERKEY_FILE;
	return 0;
}

int
serverkey_file_read(const char *path, uint8_t out[SERVERKEY_BYTES], char *err,
    size_t errlen)
{
	char text[KEYFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	n = read(fd, text, sizeof(text));
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	len = (size_t)n;
	while (len > 0 &&
	    (text[len - 1] == '\n' || text[len - 1] == '\r' ||
		text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len != HEX_LEN ||
	    hex_decode(text, HEX_LEN, out) != SERVERKEY_BYTES) {
		snprintf(err, errlen, "%s: expected 64 hex characters", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		log_warn("engine: the key file %s can be read by other users "
			 "(mode %04o); it should be 0600",
		    path, (unsigned)(st.st_mode & 07777));
	rc = 0;
out:
	sodium_memzero(text, sizeof(text));
	close(fd);
	return rc;
}

/* Flush the folder that holds path, so that a new name in it is durable. */
static int
sync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) == -1)
		rc = log_fail("engine: cannot flush the folder of %s: %s", path,
		    strerror(errno));
	if (fd != -1)
		close(fd);
	free(copy);
	return rc;
}

int
serverkey_file_create(const char *path, const uint8_t key[SERVERKEY_BYTES])
{
	char hex[HEX_LEN + 2];
	char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	int fd, rc = -1;

	fd = mkstemp(tmp);
	if (fd == -1) {
		log_error("engine: cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	hex_encode(key, SERVERKEY_BYTES, hex);
	hex[HEX_LEN] = '\n';
	hex[HEX_LEN + 1] = '\0';
	if (fchmod(fd, 0600) == -1 ||
	    write(fd, hex, HEX_LEN + 1) != HEX_LEN + 1 || fsync(fd) == -1) {
		log_error("engine: cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		log_error("engine: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, path) == -1) {
		if (errno == EEXIST)
			rc = 1;
		else
			log_error("engine: cannot create %s: %s", path,
			    strerror(errno));
		goto out;
	}
	rc = sync_parent(path);
out:
	unlink(tmp);
	sodium_memzero(hex, sizeof(hex));
	free(tmp);
	return rc;
}

/*
 * Create the key file holding key, or, when another process created it
 * first, read that one into key.  0 or -1 (logged).
 */
static int
file_settle(const char *path, uint8_t key[SERVERKEY_BYTES])
{
	char err[512];
	int rc;

	rc = serverkey_file_create(path, key);
	if (rc != 1)
		return rc;
	rc = serverkey_file_read(path, key, err, sizeof(err));
	if (rc != 0)
		return log_fail("engine: %s",
		    rc == 1 ? "the key file vanished" : err);
	return 0;
}

/*
 * What an older version left in the settings table: 1 with the secret in
 * key, 0 when there is none, -1 (logged) when it cannot be read.
 */
static int
stored_secret(struct db *db, uint8_t key[SERVERKEY_BYTES])
{
	char *v = NULL;
	int rc;

	rc = store_setting_get(db, SETTING_KEY, &v);
	if (rc == STORE_NOT_FOUND)
		return 0;
	if (rc != STORE_OK)
		return -1;
	rc = 1;
	if (strlen(v) != HEX_LEN ||
	    hex_decode(v, HEX_LEN, key) != SERVERKEY_BYTES)
		rc = log_fail("engine: the server secret kept in the database "
			      "is malformed");
	xfree_secret(v);
	return rc;
}

/* Delete the settings row once the secret is safe elsewhere. */
static int
forget_stored(struct db *db)
{
	if (store_setting_delete(db, SETTING_KEY) != STORE_OK)
		return log_fail("engine: cannot delete the server secret kept "
				"in the database");
	return 0;
}

/* The secret from the key file at path, or made for it; see serverkey.h. */
static int
from_file(const struct config *cfg, struct db *db, const char *path, int stored,
    const uint8_t old[SERVERKEY_BYTES], uint8_t out[SERVERKEY_BYTES])
{
	char err[512];
	int rc;

	rc = serverkey_file_read(path, out, err, sizeof(err));
	if (rc == -1)
		return log_fail("engine: %s", err);
	if (rc == 0 && stored && sodium_memcmp(out, old, SERVERKEY_BYTES) != 0)
		return log_fail(
		    "engine: the server secret kept in the "
		    "database differs from the key file %s, and everything "
		    "in the database is keyed by it: move or remove %s, and "
		    "start again to move the database's secret there",
		    path, path);
	if (rc == 0 && stored) {
		if (forget_stored(db) == -1)
			return -1;
		log_info("engine: deleted the copy of the server secret kept "
			 "in the database; it is in %s",
		    path);
		return 0;
	}
	if (rc == 0)
		return 0;
	if (stored) {
		memcpy(out, old, SERVERKEY_BYTES);
		if (file_settle(path, out) == -1)
			return -1;
		if (sodium_memcmp(out, old, SERVERKEY_BYTES) != 0)
			return log_fail(
			    "engine: another process created %s "
			    "with a secret other than the database's",
			    path);
		if (forget_stored(db) == -1)
			return -1;
		log_info("engine: moved the server secret from the database "
			 "to %s; back that file up with the database",
		    path);
		return 0;
	}
	if (is_postgres(cfg))
		return log_fail(
		    "engine: the key file %s does not exist: every "
		    "instance on PostgreSQL must be given the same secret, so "
		    "none is generated (create it once with 'openssl rand -hex "
		    "32', mode 0600, and copy it to each instance)",
		    path);
	randombytes_buf(out, SERVERKEY_BYTES);
	if (file_settle(path, out) == -1)
		return -1;
	log_info("engine: server secret kept in %s; back that file up with "
		 "the database",
	    path);
	return 0;
}

int
serverkey_load(const struct config *cfg, struct db *db,
    uint8_t out[SERVERKEY_BYTES])
{
	char path[SERVERKEY_PATH_MAX], err[512];
	enum serverkey_source src;
	uint8_t old[SERVERKEY_BYTES];
	int stored, rc = -1;

	if (serverkey_locate(cfg, &src, path, sizeof(path), err, sizeof(err)) ==
	    -1)
		return log_fail("engine: %s", err);
	stored = stored_secret(db, old);
	if (stored == -1)
		goto out;
	switch (src) {
	case SERVERKEY_CONFIG:
		if (hex_decode(cfg->server_secret, HEX_LEN, out) !=
		    SERVERKEY_BYTES)
			goto out;
		/* Older versions never read the row when one was set. */
		if (stored && forget_stored(db) == -1)
			goto out;
		if (stored)
			log_info(
			    "engine: deleted the server secret kept in the "
			    "database; server_secret is set");
		rc = 0;
		break;
	case SERVERKEY_FILE:
		rc = from_file(cfg, db, path, stored, old, out);
		break;
	case SERVERKEY_MEMORY:
		randombytes_buf(out, SERVERKEY_BYTES);
		rc = 0;
		break;
	case SERVERKEY_NONE:
		if (stored)
			log_error(
			    "engine: the database holds the server "
			    "secret, which resetd no longer keeps there: set "
			    "server_secret_file to a path on this host and start "
			    "once to move it there, then copy that file to every "
			    "instance (docs/postgresql.md)");
		else
			log_error(
			    "engine: on PostgreSQL, set server_secret or "
			    "server_secret_file, the same secret on every "
			    "instance (docs/postgresql.md)");
		break;
	default:
		abort();
	}
out:
	sodium_memzero(old, sizeof(old));
	if (rc == -1)
		sodium_memzero(out, SERVERKEY_BYTES);
	return rc;
}

int
serverkey_describe(const struct config *cfg, char *desc, size_t desclen)
{
	char path[SERVERKEY_PATH_MAX], err[512];
	enum serverkey_source src;
	uint8_t key[SERVERKEY_BYTES];
	int rc;

	if (serverkey_locate(cfg, &src, path, sizeof(path), err, sizeof(err)) ==
	    -1) {
		snprintf(desc, desclen, "%s", err);
		return -1;
	}
	switch (src) {
	case SERVERKEY_CONFIG:
		snprintf(desc, desclen, "server secret: from server_secret");
		return 0;
	case SERVERKEY_MEMORY:
		snprintf(desc, desclen,
		    "server secret: made anew at each "
		    "start (the database is in memory)");
		return 0;
	case SERVERKEY_NONE:
		snprintf(desc, desclen,
		    "server_secret: on PostgreSQL, set "
		    "server_secret or server_secret_file, the same secret on "
		    "every instance");
		return -1;
	case SERVERKEY_FILE:
		break;
	default:
		abort();
	}
	rc = serverkey_file_read(path, key, err, sizeof(err));
	sodium_memzero(key, sizeof(key));
	if (rc == -1) {
		snprintf(desc, desclen, "server_secret_file: %s", err);
		return -1;
	}
	if (rc == 0)
		snprintf(desc, desclen, "server secret: key file %s", path);
	else if (is_postgres(cfg))
		snprintf(desc, desclen,
		    "server secret: key file %s does not "
		    "exist; a start will move the database's secret there if "
		    "it holds one, and refuse otherwise",
		    path);
	else
		snprintf(desc, desclen,
		    "server secret: key file %s, created "
		    "at the first start",
		    path);
	return 0;
}
