/*
 * Unit tests of the command table (cli/commands.c) and the check of a
 * command's arguments (cli_parse): every row's synopsis names exactly the
 * options it takes, every command refuses every option it does not take,
 * by name, and required options, values, repeats and positional arguments
 * are checked before a command runs.
 */
#include "unit.h"

#include "cli/cli.h"

/* Does the synopsis name option (as a whole word)? */
static int
synopsis_names(const char *synopsis, const char *option)
{
	const char *p = synopsis;
	size_t n = strlen(option);

	while ((p = strstr(p, option)) != NULL) {
		if (p[n] == '\0' || strchr(" ]|.\n", p[n]) != NULL)
			return 1;
		p += n;
	}
	return 0;
}

static int
takes(const struct cli_command *cmd, enum cli_opt opt)
{
	const struct cli_takes *t;

	for (t = cmd->takes; t->opt != OPT__MAX; t++)
		if (t->opt == opt)
			return 1;
	return 0;
}

/* The rows: well formed, names unique, synopsis true both ways. */
static void
test_table(void **state)
{
	const struct cli_command *cmd, *other;
	const char *p;
	char word[64];
	size_t n;
	int i, used[OPT__MAX] = { 0 };

	(void)state;
	for (cmd = cli_commands; cmd->name != NULL; cmd++) {
		assert_non_null(cmd->fn);
		assert_non_null(cmd->takes);
		assert_non_null(cmd->synopsis);
		for (other = cli_commands; other != cmd; other++)
			assert_false(strcmp(other->name, cmd->name) == 0 &&
			    (other->verb == NULL || cmd->verb == NULL ||
				strcmp(other->verb, cmd->verb) == 0));
		for (i = 0; i < OPT__MAX; i++) {
			if (takes(cmd, (enum cli_opt)i)) {
				used[i] = 1;
				if (!synopsis_names(cmd->synopsis,
					cli_options[i].name))
					fail_msg("%s %s takes %s; its synopsis "
						 "does not say so",
					    cmd->name,
					    cmd->verb ? cmd->verb : "",
					    cli_options[i].name);
			}
		}
		/* Every --word of the synopsis is an option the row takes. */
		for (p = strstr(cmd->synopsis, "--"); p != NULL;
		     p = strstr(p + n, "--")) {
			n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-") + 2;
			assert_true(n < sizeof(word));
			memcpy(word, p, n);
			word[n] = '\0';
			for (i = 0; i < OPT__MAX; i++)
				if (strcmp(cli_options[i].name, word) == 0)
					break;
			if (i == OPT__MAX || !takes(cmd, (enum cli_opt)i))
				fail_msg("%s %s: the synopsis names %s, which "
					 "it does not take",
				    cmd->name, cmd->verb ? cmd->verb : "",
				    word);
		}
		if (cmd->positional != NULL)
			assert_true(
			    synopsis_names(cmd->synopsis, cmd->positional));
	}
	/* No option is left that no command takes. */
	for (i = 0; i < OPT__MAX; i++)
		if (!used[i])
			fail_msg("no command takes %s", cli_options[i].name);
}

/* Every command refuses every option it does not take. */
static void
test_refuses(void **state)
{
	const struct cli_command *cmd;
	struct cli_args *a = malloc(sizeof(*a));
	char *argv[3];
	int i, ncmd = 0;

	(void)state;
	assert_non_null(a);
	for (cmd = cli_commands; cmd->name != NULL; cmd++, ncmd++) {
		for (i = 0; i < OPT__MAX; i++) {
			if (takes(cmd, (enum cli_opt)i))
				continue;
			argv[0] = (char *)cli_options[i].name;
			argv[1] = "x";
			argv[2] = NULL;
			assert_int_equal(cli_parse(cmd, 2, argv, a), 2);
		}
		argv[0] = "--no-such-option";
		assert_int_equal(cli_parse(cmd, 1, argv, a), 2);
		argv[0] = "one";
		argv[1] = "two";
		assert_int_equal(cli_parse(cmd, cmd->positional ? 2 : 1, argv,
				     a),
		    2);
	}
	assert_true(ncmd >= 20);
	free(a);
}

static const struct cli_command *
find(const char *name, const char *verb)
{
	const struct cli_command *cmd;

	for (cmd = cli_commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0 &&
		    (verb == NULL || strcmp(cmd->verb, verb) == 0))
			return cmd;
	fail_msg("no command %s %s", name, verb ? verb : "");
	return NULL;
}

/* What a command that parses gets: values, flags, lists, the positional. */
static void
test_parse(void **state)
{
	const struct cli_command *create = find("project", "create");
	const struct cli_command *revoke = find("apikey", "revoke");
	const struct cli_command *disable = find("user", "disable");
	struct cli_args *a = malloc(sizeof(*a));
	char *argv[2 * CLI_REPEAT_MAX + 8];
	int i;

	(void)state;
	assert_non_null(a);
	argv[0] = "--name";
	argv[1] = "Acme";
	argv[2] = "--callback-url";
	argv[3] = "https://a.example/cb";
	argv[4] = "--callback-url";
	argv[5] = "https://b.example/cb";
	assert_int_equal(cli_parse(create, 6, argv, a), 0);
	assert_string_equal(a->opt[OPT_NAME], "Acme");
	assert_int_equal(a->nlist[OPT_CALLBACK_URL], 2);
	assert_string_equal(a->list[OPT_CALLBACK_URL][1],
	    "https://b.example/cb");
	assert_null(a->list[OPT_CALLBACK_URL][2]);
	assert_null(a->list[OPT_ALLOWED_ORIGIN][0]);
	assert_null(a->opt[OPT_RESET_URL]);
	assert_null(a->positional);

	/* Required, a value missing, a repeat over the cap. */
	assert_int_equal(cli_parse(create, 2, argv + 2, a), 2);
	assert_int_equal(cli_parse(create, 1, argv, a), 2);
	argv[0] = "--name";
	argv[1] = "Acme";
	for (i = 0; i <= CLI_REPEAT_MAX; i++) {
		argv[2 + 2 * i] = "--allowed-origin";
		argv[3 + 2 * i] = "https://a.example";
	}
	assert_int_equal(cli_parse(create, 2 + 2 * CLI_REPEAT_MAX, argv, a), 0);
	assert_int_equal(a->nlist[OPT_ALLOWED_ORIGIN], CLI_REPEAT_MAX);
	assert_int_equal(cli_parse(create, 4 + 2 * CLI_REPEAT_MAX, argv, a), 2);

	/* A flag reads as "", and takes no value. */
	argv[0] = "--key-stdin";
	assert_int_equal(cli_parse(revoke, 1, argv, a), 0);
	assert_string_equal(a->opt[OPT_KEY_STDIN], "");
	argv[1] = "ID";
	assert_int_equal(cli_parse(revoke, 2, argv, a), 0);
	assert_string_equal(a->positional, "ID");

	/* A required positional argument, anywhere among the options. */
	argv[0] = "someone";
	argv[1] = "--project";
	argv[2] = "P";
	assert_int_equal(cli_parse(disable, 3, argv, a), 0);
	assert_string_equal(a->positional, "someone");
	assert_string_equal(a->opt[OPT_PROJECT], "P");
	assert_int_equal(cli_parse(disable, 2, argv + 1, a), 2);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
