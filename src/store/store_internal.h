/*
 * What the store's own files share: the migration list.
 */
#ifndef RESETD_STORE_INTERNAL_H
#define RESETD_STORE_INTERNAL_H

#include <stdint.h>

struct migration {
	int version; /* 0 ends the list */
	const char *name;
	const char *sql;	  /* for every dialect, or NULL */
	const char *sql_sqlite;	  /* replaces sql on SQLite */
	const char *sql_postgres; /* replaces sql on PostgreSQL */
};

extern const struct migration store_migrations[];

#endif
