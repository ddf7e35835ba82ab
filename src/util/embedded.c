/*
 * Lookups in the table of files built into the binary.
 */
#include <string.h>

#include "embedded.h"

const struct embedded_file *
embedded_find(const char *path)
{
	const struct embedded_file *f;

	for (f = embedded_files; f->path != NULL; f++)
		if (strcmp(f->path, path) == 0)
			return f;
	return NULL;
}
