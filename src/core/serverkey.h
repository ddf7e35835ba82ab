/*
 * Where the server secret lives.  It keys every token hash, signs every
 * session and seals every stored secret, so it never lives in the
 * database: a copy of the database alone must be worth nothing.  It comes
 * from the server_secret setting, or from a key file (server_secret_file,
 * by default beside a SQLite database: var/resetd.key next to
 * var/resetd.db), which is generated on first start when absent.  Several
 * instances on PostgreSQL must share one secret, so there nothing is ever
 * generated: the secret must be configured.
 *
 * A database written by an older resetd may hold the secret in its
 * settings table.  Loading moves it to the key file (or drops it when the
 * configured secret makes it unused) and deletes the row, so that nothing
 * keyed by it is lost.
 */
#ifndef RESETD_SERVERKEY_H
#define RESETD_SERVERKEY_H

#include <stddef.h>
#include <stdint.h>

#include "../config.h"

#define SERVERKEY_BYTES 32
#define SERVERKEY_PATH_MAX 4096

enum serverkey_source {
	SERVERKEY_CONFIG, /* the server_secret setting */
	SERVERKEY_FILE,	  /* a key file */
	SERVERKEY_MEMORY, /* generated per start, for an in-memory db */
	SERVERKEY_NONE,	  /* none: PostgreSQL without a setting */
};

struct db;

/*
 * Decide where cfg's secret comes from, without reading anything: write
 * the source to *src and, for SERVERKEY_FILE, the key file's path to path.
 * Return 0, or -1 with the reason in err when the path is too long.
 */
int serverkey_locate(const struct config *, enum serverkey_source *src,
    char *path, size_t pathlen, char *err, size_t errlen);

/*
 * Describe for check-config where the secret comes from (never its value)
 * in desc.  Return 0, or -1 with the reason in desc when a start would be
 * refused for want of a secret (PostgreSQL with none configured, a key
 * file that cannot be read or is malformed).
 */
int serverkey_describe(const struct config *, char *desc, size_t desclen);

/*
 * Load the server secret into out, as described above: from the setting
 * or the key file, creating the key file (mode 0600, atomically) when it
 * is absent and the database is SQLite, and moving a secret the database
 * still holds into it with one log line.  Return 0, or -1 (logged) when
 * there is no secret to use: then nothing may start.
 */
int serverkey_load(const struct config *, struct db *,
    uint8_t out[SERVERKEY_BYTES]) WUR;

/*
 * Read a key file into out: 64 hex characters, then optional white space.
 * Return 0, 1 when the file does not exist, or -1 with the reason in err.
 */
int serverkey_file_read(const char *path, uint8_t out[SERVERKEY_BYTES],
    char *err, size_t errlen) WUR;

/*
 * Create the key file path holding key, mode 0600, all at once: written
 * and flushed under a temporary name, then linked into place, which fails
 * rather than replace a file another process created meanwhile.  Return
 * 0, 1 when path exists already (nothing written), or -1 (logged).
 */
int
serverkey_file_create(const char *path, const uint8_t key[SERVERKEY_BYTES]) WUR;

#endif
