/*
 * resetd: the command line.  One binary, a table of commands
 * (cli/commands.c); main finds the row the arguments name, checks the
 * arguments against the options that row takes (cli_parse), and runs it.
 * Each command acts on the configured database and prints JSON on standard
 * output.  Errors go to standard error as one line, and the exit status is
 * 0 on success, 1 on a failure and 2 on a usage error.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli/cli.h"
#include "config.h"

/*
 * The row argv names (a name, then a verb when the name has verbs), and in
 * *used how many words named it; NULL after a usage error.
 */
static const struct cli_command *
command_find(int argc, char **argv, int *used)
{
	const struct cli_command *cmd, *first = NULL;
	char verbs[256];
	size_t len = 0;

	for (cmd = cli_commands; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, argv[0]) != 0)
			continue;
		if (cmd->verb == NULL) {
			*used = 1;
			return cmd;
		}
		if (first == NULL)
			first = cmd;
		if (argc > 1 && strcmp(cmd->verb, argv[1]) == 0) {
			*used = 2;
			return cmd;
		}
	}
	if (first == NULL) {
		cli_usage_error("unknown command '%s'", argv[0]);
		return NULL;
	}
	verbs[0] = '\0';
	for (cmd = first; cmd->name != NULL &&
	     strcmp(cmd->name, first->name) == 0 && len < sizeof(verbs);
	     cmd++)
		len += (size_t)snprintf(verbs + len, sizeof(verbs) - len,
		    "%s%s", cmd == first ? "" : ", ", cmd->verb);
	if (argc > 1)
		cli_usage_error("%s: unknown verb '%s' (expected %s)",
		    first->name, argv[1], verbs);
	else
		cli_usage_error("%s: expected %s", first->name, verbs);
	return NULL;
}

int
main(int argc, char *argv[])
{
	static struct cli c;
	const struct cli_command *cmd;
	int i = 1, used = 0, rc;

	/*
	 * Each Argon2id hash allocates its whole memory cost at once.  glibc
	 * would raise its mmap threshold after the first free and keep later
	 * regions in per-thread arenas, so memory would grow with the number
	 * of threads that ever hashed.  A fixed threshold maps every large
	 * region and gives it back on free: memory stays bounded by
	 * hash_concurrency times the memory cost.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, 4);
	/*
	 * Everything resetd creates (the database and its WAL, the key file,
	 * mail in a Maildir, folders above them) is for its own user alone.
	 */
	umask(077);
	if (sodium_init() < 0) {
		fprintf(stderr, "resetd: cannot initialise libsodium\n");
		return 1;
	}
	if (i < argc && strcmp(argv[i], "--config") == 0) {
		if (i + 1 >= argc)
			return cli_usage_error("%s needs a value", "--config");
		c.config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return cli_usage_error("%s", "a command is required");
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		return cli_help(&c);
	if (strcmp(argv[i], "--version") == 0)
		return cli_version(&c);
	cmd = command_find(argc - i, argv + i, &used);
	if (cmd == NULL)
		return 2;
	i += used;
	if (cli_parse(cmd, argc - i, argv + i, &c.args) != 0)
		return 2;
	rc = cmd->fn(&c);
	cli_close(&c);
	return rc;
}
