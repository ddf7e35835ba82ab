/*
 * The commands about the instance rather than its records: migrate,
 * check-config, bench-hash and version (serve is serve.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "core/password.h"
#include "core/serverkey.h"
#include "mail/template.h"
#include "version.h"

#define BENCH_SECONDS_DEFAULT 5

int
cli_migrate(struct cli *c)
{
	if (cli_db(c) == -1)
		return 1;
	cli_print_json(json_pack("{s:s}", "status", "migrated"));
	return 0;
}

int
cli_check_config(struct cli *c)
{
	struct template_set *ts = NULL;
	char err[512];

	if (cli_config(c) == -1)
		return 1;
	if (template_set_open(c->cfg->templates_dir, &ts, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "resetd: configuration: %s\n", err);
		return 1;
	}
	template_set_free(ts);
	if (serverkey_describe(c->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "resetd: configuration: %s\n", err);
		return 1;
	}
	config_print(c->cfg, stdout);
	fprintf(stderr, "%s\n", err);
	fprintf(stderr, "configuration OK\n");
	return 0;
}

/*
 * Measure Argon2id hashes per second at the configured parameters, with
 * hash_concurrency threads (or --threads N), for --seconds S (default 5).
 */
int
cli_bench_hash(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct hasher *h;
	long threads = 0, seconds = BENCH_SECONDS_DEFAULT;
	int64_t n;

	if (a->opt[OPT_THREADS] != NULL)
		threads = strtol(a->opt[OPT_THREADS], NULL, 10);
	if (a->opt[OPT_SECONDS] != NULL)
		seconds = strtol(a->opt[OPT_SECONDS], NULL, 10);
	if (cli_config(c) == -1)
		return 1;
	if (threads <= 0)
		threads = c->cfg->hash_concurrency > 0 ?
		    c->cfg->hash_concurrency :
		    sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1 || threads > 1024 || seconds < 1 || seconds > 600)
		return cli_usage_error("bench-hash: %s",
		    "threads 1-1024, seconds 1-600");
	h = hasher_new((uint64_t)c->cfg->argon2_opslimit,
	    (size_t)c->cfg->argon2_memory_kib, (int)threads);
	if (h == NULL)
		return 1;
	n = hasher_bench(h, (int)threads, seconds * 1000);
	hasher_free(h);
	if (n < 0)
		return 1;
	cli_print_json(json_pack("{s:I, s:I, s:i, s:i, s:I, s:f}",
	    "argon2_memory_kib", (json_int_t)c->cfg->argon2_memory_kib,
	    "argon2_opslimit", (json_int_t)c->cfg->argon2_opslimit, "threads",
	    (int)threads, "seconds", (int)seconds, "hashes", (json_int_t)n,
	    "per_second", (double)n / (double)seconds));
	return 0;
}

int
cli_version(struct cli *c)
{
	(void)c;
	version_print(stdout);
	return 0;
}
