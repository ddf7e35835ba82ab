/*
 * apikey create, list and revoke; client create and rotate-secret.  Keys
 * and client secrets are printed once, when made; lists never show them
 * or their hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "store/store.h"
#include "util/util.h"

/* An API key as the CLI shows it: never its hash. */
static json_t *
api_key_json(const struct api_key *k)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", k->id, "project_id",
	    k->project_id, "aws_access_key_id",
	    api_string_or_null(k->access_key_id), "created_at",
	    api_time(k->created_at), "revoked_at",
	    k->revoked_at ? api_time(k->revoked_at) : json_null());
}

int
cli_apikey_create(struct cli *c)
{
	const char *project = c->args.opt[OPT_PROJECT];
	struct aws_credentials aws;
	enum engine_result r;
	char id[UUID_STRLEN + 1], pool[ENGINE_POOL_ID_MAX + 1];
	char *key = NULL;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_api_key_create(c->engine, project, &key, id, &aws);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: apikey create: %s\n",
		    cli_result_text(r));
		return 1;
	}
	/* The project exists (the key was made): its id is a UUID. */
	engine_user_pool_id(c->cfg->aws_region, project, pool);
	cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
	    id, "project_id", project, "key", key, "aws_access_key_id",
	    aws.access_key_id, "aws_secret_access_key", aws.secret_access_key,
	    "aws_region", c->cfg->aws_region, "cognito_user_pool_id", pool));
	xfree_secret(key);
	aws_credentials_clear(&aws);
	return 0;
}

int
cli_apikey_list(struct cli *c)
{
	struct store_list l = { NULL, 0 };
	enum engine_result r;
	json_t *a;
	size_t i;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_api_key_list(c->engine, c->args.opt[OPT_PROJECT], &l);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, api_key_json(l.items[i]));
	store_list_free(&l, (void (*)(void *))api_key_free);
	if (r == ENGINE_OK)
		cli_print_json(a);
	else {
		fprintf(stderr, "resetd: apikey list: %s\n",
		    r == ENGINE_PROJECT_UNKNOWN ? "no such project" :
						  engine_result_name(r));
		json_decref(a);
	}
	return r == ENGINE_OK ? 0 : 1;
}

/*
 * Revoke a key named by its id, or by the key itself read from standard
 * input (--key-stdin), so that it never shows in a process list.
 */
int
cli_apikey_revoke(struct cli *c)
{
	const struct cli_args *a = &c->args;
	int key_stdin = a->opt[OPT_KEY_STDIN] != NULL;
	struct api_key *k = NULL;
	enum engine_result r;
	char *key = NULL;

	if ((a->positional == NULL) == !key_stdin)
		return cli_usage_error("apikey revoke: %s",
		    "expected ID or "
		    "--key-stdin");
	if (key_stdin && (key = cli_read_secret()) == NULL)
		return 1;
	if (cli_engine(c) == -1) {
		xfree_secret(key);
		return 1;
	}
	r = admin_api_key_revoke(c->engine, NULL, key ? key : a->positional,
	    &k);
	xfree_secret(key);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: apikey revoke: %s\n",
		    r == ENGINE_CREDENTIALS_INVALID ? "no such API key" :
						      cli_result_text(r));
		return 1;
	}
	cli_print_json(api_key_json(k));
	api_key_free(k);
	return 0;
}

int
cli_client_create(struct cli *c)
{
	const struct cli_args *a = &c->args;
	struct app_client cl;
	enum engine_result r;
	json_t *v;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_client_create(c->engine, a->opt[OPT_PROJECT],
	    a->opt[OPT_SECRET] != NULL,
	    a->opt[OPT_REVEAL_USER_EXISTENCE] != NULL, &cl);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: client create: %s\n",
		    cli_result_text(r));
		return 1;
	}
	v = json_pack("{s:s, s:s, s:b}", "project_id", cl.project_id,
	    "client_id", cl.id, "prevent_user_existence_errors",
	    cl.prevent_user_existence_errors);
	if (cl.secret != NULL)
		json_object_set_new(v, "client_secret", json_string(cl.secret));
	cli_print_json(v);
	app_client_clear(&cl);
	return 0;
}

/* Give a client a new secret, printed once; the old one stops working. */
int
cli_client_rotate_secret(struct cli *c)
{
	struct app_client cl;
	enum engine_result r;

	if (cli_engine(c) == -1)
		return 1;
	r = admin_client_rotate_secret(c->engine, NULL, c->args.positional,
	    &cl);
	if (r != ENGINE_OK) {
		fprintf(stderr, "resetd: client rotate-secret: %s\n",
		    r == ENGINE_CREDENTIALS_INVALID ?
			"no such client" :
			r == ENGINE_CONFLICT ?
			"the client has no secret (make a "
			"client with --secret instead)" :
			cli_result_text(r));
		return 1;
	}
	cli_print_json(json_pack("{s:s, s:s, s:s}", "project_id", cl.project_id,
	    "client_id", cl.id, "client_secret", cl.secret));
	app_client_clear(&cl);
	return 0;
}
