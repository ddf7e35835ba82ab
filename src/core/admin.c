/*
 * Administration: creating projects and users, and the operations on a
 * user that an operator or a server holding an API key may do (get, list,
 * set a password, require a reset, sign out, disable, delete), for the CLI
 * and the dialects that manage users (WorkOS, Cognito's admin calls).
 * Every field is validated here, once, whichever face calls, by the checks
 * of valid.c, and each operation is one implementation every face shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"
#include "userstore.h"

#define LIST_MAX_ITEMS 64
#define TOKEN_TTL_DEFAULT 3600
#define TOKEN_TTL_MAX (7 * 24 * 3600)

/* Join a NULL-terminated list into lines, checking each item with fn. */
static int
join_list(const char **items, int (*fn)(const char *), char **out)
{
	struct buf b;
	size_t i;

	buf_init(&b, LIST_MAX_ITEMS * (VALID_URL_MAX + 1));
	for (i = 0; items != NULL && items[i] != NULL; i++) {
		if (i >= LIST_MAX_ITEMS || !fn(items[i]) ||
		    buf_printf(&b, "%s%s", i ? "\n" : "", items[i]) == -1) {
			buf_free(&b);
			return -1;
		}
	}
	*out = buf_take(&b);
	return 0;
}

/* 1 when a and b are both NULL or the same text. */
static int
same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
insert_project_tx(struct db_conn *c, void *arg)
{
	return store_project_insert(c, arg);
}

/*
 * Apply password settings s to p, whose current policy (if any) they
 * change: 0, or -1 with err naming the setting and p unchanged.
 */
static int
password_apply(const struct password_settings *s, struct project *p, char *err,
    size_t errlen)
{
	const struct password_profile_info *info;
	enum password_profile prof;
	int64_t min_length, min_score;
	unsigned checks, require;

	if (s->profile != NULL) {
		if (password_profile_parse(s->profile, &prof) == -1) {
			snprintf(err, errlen,
			    "password-policy: expected nist, "
			    "cognito or xsolla");
			return -1;
		}
		info = password_profile(prof);
		min_length = info->min_length;
		min_score = PASSWORD_SCORE_DEFAULT;
		checks = info->checks;
	} else {
		if (p->password_profile == NULL ||
		    password_profile_parse(p->password_profile, &prof) == -1)
			prof = PW_PROFILE_NIST;
		info = password_profile(prof);
		min_length = p->password_min_length;
		min_score = p->password_min_score;
		checks = (unsigned)p->password_checks & PW_CHECKS_ALL;
	}
	if (s->min_length >= 0) {
		if (s->min_length < PASSWORD_MIN_CHARS_FLOOR ||
		    s->min_length > info->min_length_max) {
			snprintf(err, errlen,
			    "password-min-length: expected %d "
			    "to %lld characters under the %s policy",
			    PASSWORD_MIN_CHARS_FLOOR,
			    (long long)info->min_length_max, info->name);
			return -1;
		}
		min_length = s->min_length;
	}
	if (min_length > info->min_length_max)
		min_length = info->min_length_max;
	if (s->min_score >= 0) {
		if (s->min_score > 4) {
			snprintf(err, errlen,
			    "password-min-score: expected 0 "
			    "to 4");
			return -1;
		}
		min_score = s->min_score;
	}
	if (s->lists >= 0)
		checks = s->lists ? checks | PW_CHECK_LISTS :
				    checks & ~PW_CHECK_LISTS;
	if (s->score >= 0)
		checks = s->score ? checks | PW_CHECK_SCORE :
				    checks & ~PW_CHECK_SCORE;
	if (s->require != NULL) {
		if (password_require_parse(s->require, &require) == -1) {
			snprintf(err, errlen,
			    "password-require: expected none "
			    "or a comma-separated list of uppercase, lowercase, "
			    "numbers and symbols");
			return -1;
		}
		checks = (checks & ~(unsigned)PW_REQUIRE_ALL) | require;
	}
	free(p->password_profile);
	p->password_profile = xstrdup(info->name);
	p->password_min_length = min_length;
	p->password_min_score = min_score;
	p->password_checks = checks;
	return 0;
}

/*
 * Check a project spec and fill p from it (all but its id and creation
 * time): ENGINE_OK, or ENGINE_BAD_INPUT with err naming the field.  The
 * password policy starts from base's (an update) or from the nist
 * profile's (base NULL: a new project), and the spec's password members
 * that are set change it (password_apply).
 */
static enum engine_result
project_build(const struct project_spec *spec, const struct project *base,
    struct project *p, char *err, size_t errlen)
{
	struct password_settings settings;
	struct storage_settings storage;
	char locale[ENGINE_LOCALE_MAX + 1];
	enum engine_result result = ENGINE_BAD_INPUT;

	if (spec->name == NULL || !valid_text(spec->name, VALID_NAME_MAX)) {
		snprintf(err, errlen, "name: expected 1 to %d bytes of text",
		    VALID_NAME_MAX);
		goto out;
	}
	if (join_list(spec->callback_urls, valid_url, &p->callback_urls) ==
	    -1) {
		snprintf(err, errlen,
		    "callback-url: expected at most %d "
		    "absolute http(s) URLs",
		    LIST_MAX_ITEMS);
		goto out;
	}
	if (join_list(spec->allowed_origins, valid_origin,
		&p->allowed_origins) == -1) {
		snprintf(err, errlen,
		    "allowed-origin: expected at most %d "
		    "origins like https://app.example.com",
		    LIST_MAX_ITEMS);
		goto out;
	}
	if (spec->reset_url != NULL && !valid_url(spec->reset_url)) {
		snprintf(err, errlen,
		    "reset-url: expected an absolute http(s) URL");
		goto out;
	}
	if (spec->delivery != NULL && strcmp(spec->delivery, "link") != 0 &&
	    strcmp(spec->delivery, "code") != 0) {
		snprintf(err, errlen, "delivery: expected link or code");
		goto out;
	}
	if (spec->logo_url != NULL && !valid_logo_url(spec->logo_url)) {
		snprintf(err, errlen,
		    "logo-url: expected an https URL (or http "
		    "on 127.0.0.1, localhost or [::1]) with a plain host name");
		goto out;
	}
	if (spec->accent_color != NULL && !valid_color(spec->accent_color)) {
		snprintf(err, errlen, "accent-color: expected #RRGGBB");
		goto out;
	}
	if (spec->reset_limit_per_hour == 0 ||
	    spec->reset_limit_per_hour > PROJECT_RESET_LIMIT_MAX) {
		snprintf(err, errlen,
		    "reset-limit: expected 1 to %d resets per "
		    "account per hour",
		    PROJECT_RESET_LIMIT_MAX);
		goto out;
	}
	if (spec->mail_budget_per_hour > PROJECT_MAIL_BUDGET_MAX) {
		snprintf(err, errlen,
		    "mail-budget: expected 0 (none) to %d "
		    "messages per hour",
		    PROJECT_MAIL_BUDGET_MAX);
		goto out;
	}
	if (spec->notice_limit_per_hour == 0 ||
	    spec->notice_limit_per_hour > PROJECT_RESET_LIMIT_MAX) {
		snprintf(err, errlen,
		    "notice-limit: expected 1 to %d notices "
		    "per address per hour",
		    PROJECT_RESET_LIMIT_MAX);
		goto out;
	}
	if (spec->login_token_ttl > 0 &&
	    (spec->login_token_ttl < PROJECT_LOGIN_TTL_MIN ||
		spec->login_token_ttl > PROJECT_LOGIN_TTL_MAX)) {
		snprintf(err, errlen,
		    "login-token-ttl: expected %d to %d "
		    "seconds",
		    PROJECT_LOGIN_TTL_MIN, PROJECT_LOGIN_TTL_MAX);
		goto out;
	}
	if (spec->notice_share_percent > 100) {
		snprintf(err, errlen,
		    "notice-share: expected 0 to 100 percent "
		    "of the mail budget");
		goto out;
	}
	p->allow_private_targets = spec->allow_private_targets >= 0 ?
	    spec->allow_private_targets != 0 :
	    base != NULL && base->allow_private_targets;
	storage = (struct storage_settings){
		.kind = spec->user_storage ? spec->user_storage :
					     STORAGE_BUILTIN,
		.lookup_url = spec->storage_lookup_url,
		.verify_url = spec->storage_verify_url,
		.password_url = spec->storage_password_url,
		.new_user_url = spec->storage_new_user_url,
		.format = spec->storage_password_format,
		.timeout_ms = spec->storage_timeout_ms > 0 ?
		    spec->storage_timeout_ms :
		    STORAGE_TIMEOUT_DEFAULT_MS,
		.allow_private = p->allow_private_targets,
	};
	/*
	 * A URL kept as it was is not resolved again on an unrelated change;
	 * turning private targets off checks every URL, so that no project
	 * holds a URL it may not call.
	 */
	if (base != NULL &&
	    base->allow_private_targets == p->allow_private_targets) {
		const struct {
			const char *now, *was;
			unsigned bit;
		} urls[] = {
			{ spec->storage_lookup_url, base->storage_lookup_url,
			    STORAGE_KEPT_LOOKUP },
			{ spec->storage_verify_url, base->storage_verify_url,
			    STORAGE_KEPT_VERIFY },
			{ spec->storage_password_url,
			    base->storage_password_url, STORAGE_KEPT_PASSWORD },
			{ spec->storage_new_user_url,
			    base->storage_new_user_url, STORAGE_KEPT_NEW_USER },
		};
		size_t i;

		for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
			if (same_text(urls[i].now, urls[i].was))
				storage.kept |= urls[i].bit;
	}
	if (storage_settings_check(&storage, err, errlen) != 0)
		goto out;
	p->user_storage = xstrdup(
	    spec->user_storage ? spec->user_storage : STORAGE_BUILTIN);
	p->storage_lookup_url = spec->storage_lookup_url ?
	    xstrdup(spec->storage_lookup_url) :
	    NULL;
	p->storage_verify_url = spec->storage_verify_url ?
	    xstrdup(spec->storage_verify_url) :
	    NULL;
	p->storage_password_url = spec->storage_password_url ?
	    xstrdup(spec->storage_password_url) :
	    NULL;
	p->storage_new_user_url = spec->storage_new_user_url ?
	    xstrdup(spec->storage_new_user_url) :
	    NULL;
	p->storage_password_format = xstrdup(spec->storage_password_format ?
		spec->storage_password_format :
		"plain");
	p->storage_timeout_ms = spec->storage_timeout_ms > 0 ?
	    spec->storage_timeout_ms :
	    STORAGE_TIMEOUT_DEFAULT_MS;
	if (base != NULL) {
		p->password_profile = base->password_profile != NULL ?
		    xstrdup(base->password_profile) :
		    NULL;
		p->password_min_length = base->password_min_length;
		p->password_min_score = base->password_min_score;
		p->password_checks = base->password_checks;
	}
	settings = (struct password_settings){
		.profile = spec->password_profile != NULL || base != NULL ?
		    spec->password_profile :
		    "nist",
		.min_length = spec->password_min_length,
		.min_score = spec->password_min_score,
		.lists = spec->password_lists,
		.score = spec->password_score,
		.require = spec->password_require,
	};
	if (password_apply(&settings, p, err, errlen) != 0)
		goto out;
	if (spec->token_ttl < 0 || spec->token_ttl > TOKEN_TTL_MAX) {
		snprintf(err, errlen, "token-ttl: expected 1 to %d seconds",
		    TOKEN_TTL_MAX);
		goto out;
	}
	/* Sender settings reach mail headers: refused here, early, too. */
	if (spec->mail_from != NULL && !valid_sender(spec->mail_from)) {
		snprintf(err, errlen,
		    "mail-from: expected a plain email address "
		    "without line breaks or special characters");
		goto out;
	}
	if (spec->mail_from_name != NULL &&
	    !valid_sender_name(spec->mail_from_name)) {
		snprintf(err, errlen,
		    "mail-from-name: expected 1 to %d bytes "
		    "of text without line breaks or control characters",
		    VALID_NAME_MAX);
		goto out;
	}
	if (spec->locale != NULL &&
	    engine_locale_normalise(spec->locale, locale) == -1) {
		snprintf(err, errlen, "locale: expected xx or xx_YY");
		goto out;
	}
	p->name = xstrdup(spec->name);
	p->reset_url = spec->reset_url ? xstrdup(spec->reset_url) : NULL;
	p->token_ttl = spec->token_ttl ? spec->token_ttl : TOKEN_TTL_DEFAULT;
	p->delivery = xstrdup(spec->delivery ? spec->delivery : "link");
	p->send_reset_emails = !spec->reset_emails_off;
	p->mail_from = spec->mail_from ? xstrdup(spec->mail_from) : NULL;
	p->mail_from_name = spec->mail_from_name ?
	    xstrdup(spec->mail_from_name) :
	    NULL;
	p->locale = spec->locale ? xstrdup(locale) : NULL;
	p->unknown_account_notice = spec->unknown_account_notice != 0;
	p->logo_url = spec->logo_url ? xstrdup(spec->logo_url) : NULL;
	p->accent_color = spec->accent_color ? xstrdup(spec->accent_color) :
					       NULL;
	p->reset_limit_per_hour = spec->reset_limit_per_hour < 0 ?
	    PROJECT_RESET_LIMIT_DEFAULT :
	    spec->reset_limit_per_hour;
	p->mail_budget_per_hour = spec->mail_budget_per_hour < 0 ?
	    PROJECT_MAIL_BUDGET_DEFAULT :
	    spec->mail_budget_per_hour;
	p->notice_limit_per_hour = spec->notice_limit_per_hour < 0 ?
	    PROJECT_NOTICE_LIMIT_DEFAULT :
	    spec->notice_limit_per_hour;
	p->notice_share_percent = spec->notice_share_percent < 0 ?
	    PROJECT_NOTICE_SHARE_DEFAULT :
	    spec->notice_share_percent;
	p->login_token_ttl = spec->login_token_ttl <= 0 ?
	    PROJECT_LOGIN_TTL_DEFAULT :
	    spec->login_token_ttl;
	result = ENGINE_OK;
out:
	return result;
}

enum engine_result
admin_project_create(struct engine *e, const struct project_spec *spec,
    struct project **out, char *err, size_t errlen)
{
	struct project *p = xcalloc(1, sizeof(*p));
	enum engine_result result;
	int rc;

	result = project_build(spec, NULL, p, err, errlen);
	if (result != ENGINE_OK)
		goto out;
	p->id = xmalloc(UUID_STRLEN + 1);
	id_new(p->id);
	p->created_at = db_now(e->db);
	rc = db_write(e->db, insert_project_tx, p);
	if (rc != 0) {
		snprintf(err, errlen, "cannot store the project");
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	*out = p;
	p = NULL;
	result = ENGINE_OK;
out:
	project_free(p);
	return result;
}

struct update_tx {
	const struct project *project;
	enum engine_result outcome;
};

static int
update_project_tx(struct db_conn *c, void *arg)
{
	struct update_tx *t = arg;
	int rc = store_project_update(c, t->project);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		t->outcome = ENGINE_PROJECT_UNKNOWN;
		return TX_REFUSED;
	}
	return 0;
}

enum engine_result
admin_project_update(struct engine *e, const char *id,
    const struct project_spec *spec, struct project **out, char *err,
    size_t errlen)
{
	struct project *old = NULL, *p = xcalloc(1, sizeof(*p));
	struct update_tx t;
	enum engine_result result;
	int rc;

	result = admin_project_show(e, id, &old);
	if (result != ENGINE_OK)
		goto out;
	result = project_build(spec, old, p, err, errlen);
	if (result != ENGINE_OK)
		goto out;
	p->id = xstrdup(old->id);
	p->created_at = old->created_at;
	t = (struct update_tx){ p, ENGINE_OK };
	rc = db_write(e->db, update_project_tx, &t);
	result = tx_result(rc, t.outcome);
	if (result != ENGINE_OK) {
		if (result == ENGINE_UNAVAILABLE)
			snprintf(err, errlen, "cannot store the project");
		goto out;
	}
	/* This instance sees the change at once; others within the cache's life. */
	engine_project_forget(e, p->id);
	*out = p;
	p = NULL;
	result = ENGINE_OK;
out:
	project_free(old);
	project_free(p);
	return result;
}

void
admin_project_spec(const struct project *p, struct project_spec *out)
{
	*out = (struct project_spec){
		.name = p->name,
		.reset_url = p->reset_url,
		.token_ttl = p->token_ttl,
		.reset_emails_off = !p->send_reset_emails,
		.delivery = p->delivery,
		.mail_from = p->mail_from,
		.mail_from_name = p->mail_from_name,
		.locale = p->locale,
		.unknown_account_notice = p->unknown_account_notice,
		.logo_url = p->logo_url,
		.accent_color = p->accent_color,
		.reset_limit_per_hour = p->reset_limit_per_hour,
		.mail_budget_per_hour = p->mail_budget_per_hour,
		.notice_limit_per_hour = p->notice_limit_per_hour,
		.notice_share_percent = p->notice_share_percent,
		/* The password policy is kept by project_build unless set. */
		.password_min_length = -1,
		.password_min_score = -1,
		.password_lists = -1,
		.password_score = -1,
		.login_token_ttl = p->login_token_ttl,
		.user_storage = p->user_storage,
		.storage_lookup_url = p->storage_lookup_url,
		.storage_verify_url = p->storage_verify_url,
		.storage_password_url = p->storage_password_url,
		.storage_new_user_url = p->storage_new_user_url,
		.storage_password_format = p->storage_password_format,
		.storage_timeout_ms = p->storage_timeout_ms,
		.allow_private_targets = p->allow_private_targets,
	};
}

struct user_tx {
	struct engine *e;
	struct idem_claim *idem;
	const struct user *user;
	enum engine_result outcome; /* with TX_REFUSED */
	int shadow_kept; /* a shadow row written already: nothing to insert */
};

static int
insert_user_tx(struct db_conn *c, void *arg)
{
	struct user_tx *t = arg;
	int rc;

	if (t->idem != NULL) {
		rc = idem_record(t->e, c, t->user->project_id, t->idem,
		    t->user->created_at, &t->outcome);
		if (rc != STORE_OK)
			return rc;
	}
	if (t->shadow_kept)
		return STORE_OK;
	rc = store_user_insert(c, t->user);
	if (rc == STORE_OK)
		rc = event_user(t->e, c, "user.created", t->user,
		    t->user->created_at);
	return rc;
}

/* Check a user spec's fields; ENGINE_OK, or a result with err filled. */
static enum engine_result
user_check(struct engine *e, const struct project *p,
    const struct user_spec *spec, char *err, size_t errlen)
{
	char locale[ENGINE_LOCALE_MAX + 1];
	struct password_verdict v;
	struct project bounds;
	enum engine_result result;

	if (spec->email == NULL || !valid_email(spec->email)) {
		snprintf(err, errlen, "email: expected an email address");
		return ENGINE_BAD_INPUT;
	}
	if (spec->username != NULL &&
	    (!valid_text(spec->username, 64) ||
		strchr(spec->username, '@') != NULL)) {
		snprintf(err, errlen,
		    "username: expected 1 to 64 bytes of "
		    "text without '@'");
		return ENGINE_BAD_INPUT;
	}
	/* Users are named by id, email or username: no name may be an id. */
	if (spec->username != NULL && id_is_uuid(spec->username)) {
		snprintf(err, errlen,
		    "username: must not have the form of a "
		    "user id (a UUID)");
		return ENGINE_BAD_INPUT;
	}
	if ((spec->first_name &&
		!valid_text(spec->first_name, VALID_NAME_MAX)) ||
	    (spec->last_name && !valid_text(spec->last_name, VALID_NAME_MAX))) {
		snprintf(err, errlen, "name: expected 1 to %d bytes of text",
		    VALID_NAME_MAX);
		return ENGINE_BAD_INPUT;
	}
	if (spec->locale != NULL &&
	    engine_locale_normalise(spec->locale, locale) == -1) {
		snprintf(err, errlen, "locale: expected xx or xx_YY");
		return ENGINE_BAD_INPUT;
	}
	if (spec->password_hash != NULL &&
	    (spec->password != NULL ||
		!hasher_importable(spec->password_hash))) {
		snprintf(err, errlen,
		    "password_hash: expected an Argon2id "
		    "($argon2id$v=19$...) or bcrypt ($2b$...) hash, and no "
		    "password beside it");
		return ENGINE_BAD_INPUT;
	}
	if (spec->password != NULL) {
		bounds = *p;
		if (spec->bounds_only)
			bounds.password_min_score = PASSWORD_BOUNDS_ONLY;
		result = reset_password_policy(e, &bounds, spec->password,
		    spec->email, spec->username, &v);
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "password: %s (%s)", v.message,
			    password_rule_name(v.rule));
			if (spec->verdict != NULL)
				*spec->verdict = v;
			return result;
		}
	}
	return ENGINE_OK;
}

/*
 * Build the record of a checked spec for project p, hashing the password
 * when one is given.  On ENGINE_OK, *out is the new record.
 */
static enum engine_result
user_build(struct engine *e, const struct project *p,
    const struct user_spec *spec, struct user **out, char *err, size_t errlen)
{
	struct user *u = xcalloc(1, sizeof(*u));

	if (spec->password != NULL) {
		u->password_hash = hasher_hash(e->hasher, spec->password);
		if (u->password_hash == NULL) {
			snprintf(err, errlen, "cannot hash the password");
			user_free(u);
			return ENGINE_UNAVAILABLE;
		}
	} else if (spec->password_hash != NULL)
		u->password_hash = xstrdup(spec->password_hash);
	u->id = xmalloc(UUID_STRLEN + 1);
	id_new(u->id);
	u->project_id = xstrdup(p->id);
	u->email = xstrdup(spec->email);
	u->username = spec->username ? xstrdup(spec->username) : NULL;
	u->first_name = spec->first_name ? xstrdup(spec->first_name) : NULL;
	u->last_name = spec->last_name ? xstrdup(spec->last_name) : NULL;
	u->email_verified = spec->email_verified;
	u->status = spec->status;
	if (spec->locale != NULL) {
		u->locale = xmalloc(ENGINE_LOCALE_MAX + 1);
		if (engine_locale_normalise(spec->locale, u->locale) == -1)
			abort(); /* user_check let it through */
	}
	u->created_at = u->updated_at = db_now(e->db);
	*out = u;
	return ENGINE_OK;
}

/*
 * A user of a webhook project (user storage): made by the app's create
 * call, then kept as a shadow row, *out to insert (*made 1) or already
 * written (*made 0: the app answered a user resetd had a row of).
 */
static enum engine_result
storage_user_build(struct engine *e, const struct project *p,
    const struct user_spec *spec, struct user **out, int *made, char *err,
    size_t errlen)
{
	const struct user_storage_ops *ops = user_storage_of(p);
	struct storage_user su;
	struct user *u = NULL;
	char why[STORAGE_ERR_MAX] = "";
	enum storage_result sr;
	enum engine_result result;
	int is_new = 0;

	*made = 0;
	if (spec->password_hash != NULL) {
		snprintf(err, errlen,
		    "password_hash: the project's app keeps the passwords "
		    "(user storage webhook)");
		return ENGINE_BAD_INPUT;
	}
	if (ops->create == NULL || p->storage_new_user_url == NULL) {
		snprintf(err, errlen,
		    "the project's users live in its app (user storage "
		    "webhook), which has no create URL "
		    "(storage_new_user_url): it cannot take new users");
		return ENGINE_STORAGE_REFUSED;
	}
	memset(&su, 0, sizeof(su));
	sr = ops->create(e, p, spec->email, spec->username, spec->password, &su,
	    why, sizeof(why));
	switch (sr) {
	case STORAGE_OK:
		break;
	case STORAGE_EXISTS:
		snprintf(err, errlen,
		    "a user with this email or username exists in the "
		    "project's app");
		return ENGINE_CONFLICT;
	case STORAGE_REFUSED:
	case STORAGE_NOT_FOUND:
		snprintf(err, errlen, "the project's app refused the user: %s",
		    why);
		return ENGINE_STORAGE_REFUSED;
	case STORAGE_FAILED:
	default:
		log_warn("admin: project %s: user storage failed: %s", p->id,
		    why);
		snprintf(err, errlen, "the project's app is unavailable");
		return ENGINE_UNAVAILABLE;
	}
	result = storage_shadow_of(e, p, &su, &u, &is_new);
	storage_user_clear(&su);
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "cannot store the user");
		return result;
	}
	if (!is_new) {
		result = storage_shadow_save(e, u, 0);
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "cannot store the user");
			user_free(u);
			return result;
		}
	}
	u->first_name = spec->first_name ? xstrdup(spec->first_name) : NULL;
	u->last_name = spec->last_name ? xstrdup(spec->last_name) : NULL;
	u->email_verified = spec->email_verified;
	*made = is_new;
	*out = u;
	return ENGINE_OK;
}

enum engine_result
admin_user_create(struct engine *e, const struct user_spec *spec,
    struct user **out, char *err, size_t errlen)
{
	struct user *u = NULL;
	struct project *p = NULL;
	struct user_tx t;
	struct idem_outcome o;
	enum engine_result result;
	int rc, begun = 0, made = 1;

	result = engine_project(e, spec->project_id ? spec->project_id : "",
	    &p);
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "project: %s",
		    result == ENGINE_PROJECT_UNKNOWN ? "no such project" :
						       "unavailable");
		goto out;
	}
	result = user_check(e, p, spec, err, errlen);
	if (result != ENGINE_OK)
		goto out;
	/* A retry is answered before the costly hash. */
	if (spec->idem != NULL) {
		result = idem_begin(e, p->id, spec->idem);
		if (result != ENGINE_OK)
			goto out;
		begun = 1;
	}
	if (storage_is_webhook(p))
		result = storage_user_build(e, p, spec, &u, &made, err, errlen);
	else
		result = user_build(e, p, spec, &u, err, errlen);
	if (result != ENGINE_OK)
		goto out;
	if (spec->idem != NULL) {
		o = (struct idem_outcome){ .user = u };
		idem_encode(spec->idem, &o);
	}
	t = (struct user_tx){ e, spec->idem, u, ENGINE_OK, !made };
	rc = db_write(e->db, insert_user_tx, &t);
	event_wake(e);
	if (rc == DB_CONSTRAINT) {
		snprintf(err, errlen,
		    "a user with this email or username "
		    "exists in the project");
		result = ENGINE_CONFLICT;
		goto out;
	}
	result = tx_result(rc, t.outcome);
	if (result == ENGINE_REPLAYED) {
		snprintf(err, errlen,
		    "the idempotency key was taken meanwhile");
		goto out;
	}
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "cannot store the user");
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	*out = u;
	u = NULL;
	result = ENGINE_OK;
out:
	if (begun && result != ENGINE_OK)
		result = idem_settle(e, p->id, spec->idem, result);
	project_free(p);
	user_free(u);
	return result;
}

struct import_tx {
	struct engine *e;
	struct user **users;
	size_t n;
	size_t failed_at; /* the user a constraint refused */
};

static int
import_tx(struct db_conn *c, void *arg)
{
	struct import_tx *t = arg;
	size_t i;
	int rc;

	for (i = 0; i < t->n; i++) {
		rc = store_user_insert(c, t->users[i]);
		if (rc == STORE_OK)
			rc = event_user(t->e, c, "user.created", t->users[i],
			    t->users[i]->created_at);
		if (rc != STORE_OK) {
			t->failed_at = i;
			return rc;
		}
	}
	return 0;
}

enum engine_result
admin_user_import(struct engine *e, const struct user_spec *specs, size_t n,
    char *err, size_t errlen)
{
	struct project *p = NULL;
	struct import_tx t = { e, xcalloc(n ? n : 1, sizeof(struct user *)), n,
		0 };
	enum engine_result result = ENGINE_OK;
	char why[256];
	size_t i, built = 0;
	int rc;

	if (n == 0)
		goto out;
	result = engine_project(e,
	    specs[0].project_id ? specs[0].project_id : "", &p);
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "project: %s",
		    result == ENGINE_PROJECT_UNKNOWN ? "no such project" :
						       "unavailable");
		goto out;
	}
	if (storage_is_webhook(p)) {
		snprintf(err, errlen,
		    "the project's users live in its app (user storage "
		    "webhook): there is nothing to import");
		result = ENGINE_BAD_INPUT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		result = user_check(e, p, &specs[i], why, sizeof(why));
		if (result == ENGINE_OK)
			result = user_build(e, p, &specs[i], &t.users[i], why,
			    sizeof(why));
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "user %zu: %s", i + 1, why);
			goto out;
		}
		built++;
	}
	rc = db_write(e->db, import_tx, &t);
	event_wake(e);
	if (rc == DB_CONSTRAINT) {
		snprintf(err, errlen,
		    "%s: a user with this email or username "
		    "exists in the project",
		    t.users[t.failed_at]->email);
		result = ENGINE_CONFLICT;
	} else if (rc != 0) {
		snprintf(err, errlen, "cannot store users");
		result = ENGINE_UNAVAILABLE;
	}
out:
	for (i = 0; i < built; i++)
		user_free(t.users[i]);
	free(t.users);
	project_free(p);
	return result;
}

enum engine_result
admin_user_get(struct engine *e, const struct project *p, const char *id,
    struct user **out)
{
	struct db_conn *c;
	struct user *u = NULL;
	int rc;

	if (id == NULL || !id_is_uuid(id))
		return ENGINE_USER_UNKNOWN;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_get(c, p->id, id, &u);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc == STORE_NOT_FOUND)
		return ENGINE_USER_UNKNOWN;
	xfree_secret(u->password_hash);
	u->password_hash = NULL;
	*out = u;
	return ENGINE_OK;
}

struct user_update_tx {
	struct engine *e;
	struct user *user;
};

static int
user_update_tx(struct db_conn *c, void *arg)
{
	struct user_update_tx *t = arg;
	int rc;

	rc = store_user_update(c, t->user);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return TX_REFUSED;
	return event_user(t->e, c, "user.updated", t->user,
	    t->user->updated_at);
}

/* A name as an update gives it: NULL keeps old, "" clears; else a copy. */
static int
name_update(const char *v, char **field)
{
	if (v == NULL)
		return 0;
	if (*v != '\0' && !valid_text(v, VALID_NAME_MAX))
		return -1;
	free(*field);
	*field = *v != '\0' ? xstrdup(v) : NULL;
	return 0;
}

enum engine_result
admin_user_update(struct engine *e, const struct project *p, const char *id,
    const struct user_update *up, struct user **out, char *err, size_t errlen)
{
	struct password_verdict v;
	struct user *u = NULL;
	struct user_update_tx t;
	enum engine_result result;
	int rc;

	result = admin_user_get(e, p, id, &u);
	if (result != ENGINE_OK)
		return result;
	if (name_update(up->first_name, &u->first_name) == -1 ||
	    name_update(up->last_name, &u->last_name) == -1) {
		snprintf(err, errlen, "name: expected at most %d bytes of text",
		    VALID_NAME_MAX);
		result = ENGINE_BAD_INPUT;
		goto out;
	}
	if (up->email_verified != -1)
		u->email_verified = up->email_verified != 0;
	if (up->password != NULL) {
		result = reset_password_policy(e, p, up->password, u->email,
		    u->username, &v);
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "password: %s (%s)", v.message,
			    password_rule_name(v.rule));
			if (up->verdict != NULL)
				*up->verdict = v;
			goto out;
		}
		/* The project's storage takes it: hashed, or sent to the app. */
		result = storage_set_password(e, p, u, up->password, NULL,
		    &u->password_hash);
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "password: %s",
			    result == ENGINE_STORAGE_REFUSED ?
				"the project's app refused it" :
				"cannot be set now");
			goto out;
		}
	}
	u->updated_at = db_now(e->db);
	t = (struct user_update_tx){ e, u };
	rc = db_write(e->db, user_update_tx, &t);
	result = tx_result(rc, ENGINE_USER_UNKNOWN);
	if (result != ENGINE_OK)
		goto out;
	event_wake(e);
	xfree_secret(u->password_hash);
	u->password_hash = NULL;
	if (out != NULL) {
		*out = u;
		u = NULL;
	}
out:
	user_free(u);
	return result;
}

struct disable_tx {
	struct engine *e;
	const struct request_context *ctx;
	const struct user *user;
	const char *subject;
	int disabled;
	int64_t now;
};

static int
disable_tx(struct db_conn *c, void *arg)
{
	struct disable_tx *t = arg;
	int rc;

	rc = store_user_set_disabled(c, t->user->project_id, t->user->id,
	    t->disabled, t->now);
	if (rc <= 0)
		return rc; /* already so: nothing changes, nothing recorded */
	/* What the user held before dies with the account's access. */
	if (t->disabled) {
		rc = event_sessions_revoke(t->e, c, t->user->id, t->now);
		if (rc >= 0)
			rc = store_secret_revoke_user(c, t->user->id, t->now);
		if (rc < 0)
			return rc;
	}
	rc = event_user(t->e, c, "user.updated", t->user, t->now);
	if (rc < 0)
		return rc;
	return audit_write(c, t->ctx, t->user->project_id,
	    t->disabled ? AUDIT_USER_DISABLED : AUDIT_USER_ENABLED, t->subject,
	    NULL, t->now);
}

enum engine_result
admin_user_set_disabled(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user, int disabled, struct user **out)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct db_conn *c;
	struct disable_tx t;
	char subject[AUDIT_SUBJECT_LEN + 1];
	enum engine_result result;
	int rc;

	result = engine_project(e, project_id ? project_id : "", &p);
	if (result != ENGINE_OK)
		return result;
	result = ENGINE_USER_UNKNOWN;
	if (user == NULL || *user == '\0' || strlen(user) > 320)
		goto out;
	c = db_acquire(e->db);
	if (c == NULL) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (id_is_uuid(user))
		rc = store_user_get(c, p->id, user, &u);
	else
		rc = store_user_find(c, p->id, user, &u);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (rc != STORE_OK)
		goto out;
	audit_subject(e, p->id, u->email, subject);
	t = (struct disable_tx){ e, ctx, u, subject, disabled != 0,
		db_now(e->db) };
	rc = db_write(e->db, disable_tx, &t);
	event_wake(e);
	if (rc != 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (u->disabled != (disabled != 0))
		u->updated_at = t.now;
	u->disabled = disabled != 0;
	xfree_secret(u->password_hash);
	u->password_hash = NULL;
	if (out != NULL) {
		*out = u;
		u = NULL;
	}
	result = ENGINE_OK;
out:
	user_free(u);
	project_free(p);
	return result;
}

enum engine_result
engine_outbox_depth(struct engine *e, int64_t *pending, int64_t *dead)
{
	struct db_conn *c = db_acquire(e->db);
	int rc;

	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_outbox_depth(c, pending, dead);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

/*
 * What the admin API and the CLI both read and change beyond creating:
 * listing, paging, deleting, operator resets, the outbox and the audit
 * trail.  Each is one operation here, so both faces validate alike and
 * write the same audit events.
 */

/* Run a read of the store on a pooled connection: STORE_* or DB_ERROR. */
static enum engine_result
read_result(int rc)
{
	if (rc == STORE_OK)
		return ENGINE_OK;
	return rc == STORE_NOT_FOUND ? ENGINE_USER_UNKNOWN : ENGINE_UNAVAILABLE;
}

enum engine_result
admin_project_list(struct engine *e, struct store_list *out)
{
	struct db_conn *c = db_acquire(e->db);
	int rc;

	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_project_list(c, out);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

enum engine_result
admin_project_show(struct engine *e, const char *id, struct project **out)
{
	struct db_conn *c;
	int rc;

	if (id == NULL || !id_is_uuid(id))
		return ENGINE_PROJECT_UNKNOWN;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_project_get(c, id, out);
	db_release(e->db, c);
	if (rc == STORE_NOT_FOUND)
		return ENGINE_PROJECT_UNKNOWN;
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

enum engine_result
admin_api_key_list(struct engine *e, const char *project_id,
    struct store_list *out)
{
	struct project *p = NULL;
	struct db_conn *c;
	enum engine_result r;
	int rc;

	r = admin_project_show(e, project_id, &p);
	if (r != ENGINE_OK)
		return r;
	project_free(p);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_api_key_list(c, project_id, out);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

/*
 * A paging cursor: the last id of a page and a MAC binding it to its
 * list (project, filter and its value, order), base64url.  A client
 * cannot make one up, nor carry one from a list to another.
 */
#define CURSOR_MAC_BYTES 16
#define CURSOR_RAW (UUID_STRLEN + CURSOR_MAC_BYTES)

static void
cursor_mac(const struct engine *e, const char *project_id,
    enum user_filter filter, const char *email, int desc, const char *id,
    uint8_t mac[CURSOR_MAC_BYTES])
{
	crypto_generichash_state st;
	uint8_t f = (uint8_t)filter;
	uint8_t order = desc ? 1 : 0;

	crypto_generichash_init(&st, e->cursor_key, sizeof(e->cursor_key),
	    CURSOR_MAC_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)project_id,
	    strlen(project_id) + 1);
	/*
	 * The filters the admin API had first (none, an email) keep the
	 * cursors they had; the others bind their kind.
	 */
	if (filter != USER_FILTER_NONE && filter != USER_FILTER_EMAIL)
		crypto_generichash_update(&st, &f, 1);
	crypto_generichash_update(&st, (const uint8_t *)(email ? email : ""),
	    strlen(email ? email : "") + 1);
	/* Ascending lists keep the cursors they had before "desc" existed. */
	if (order)
		crypto_generichash_update(&st, &order, 1);
	crypto_generichash_update(&st, (const uint8_t *)id, strlen(id));
	crypto_generichash_final(&st, mac, CURSOR_MAC_BYTES);
}

static void
cursor_make(const struct engine *e, const char *project_id,
    enum user_filter filter, const char *email, int desc, const char *id,
    char out[ADMIN_CURSOR_MAX + 1])
{
	uint8_t raw[CURSOR_RAW];

	memcpy(raw, id, UUID_STRLEN);
	cursor_mac(e, project_id, filter, email, desc, id, raw + UUID_STRLEN);
	base64url_encode(raw, sizeof(raw), out);
	out[B64URL_LEN(CURSOR_RAW)] = '\0';
}

/* The id a cursor of this list carries, into id; -1 when it is not one. */
static int
cursor_open(const struct engine *e, const char *project_id,
    enum user_filter filter, const char *email, int desc, const char *cursor,
    char id[UUID_STRLEN + 1])
{
	uint8_t raw[CURSOR_RAW + 3], mac[CURSOR_MAC_BYTES];
	size_t n = strnlen(cursor, ADMIN_CURSOR_MAX + 1);

	if (n != B64URL_LEN(CURSOR_RAW) ||
	    base64url_decode(cursor, n, raw) != CURSOR_RAW)
		return -1;
	memcpy(id, raw, UUID_STRLEN);
	id[UUID_STRLEN] = '\0';
	if (!id_is_uuid(id))
		return -1;
	cursor_mac(e, project_id, filter, email, desc, id, mac);
	return sodium_memcmp(mac, raw + UUID_STRLEN, CURSOR_MAC_BYTES) == 0 ?
	    0 :
	    -1;
}

enum engine_result
admin_user_list(struct engine *e, const struct user_query *q,
    struct store_list *out, char next[ADMIN_CURSOR_MAX + 1], char *err,
    size_t errlen)
{
	struct project *p = NULL;
	struct db_conn *c;
	struct user *u;
	struct user_page_query pq;
	char after[UUID_STRLEN + 1];
	enum engine_result r;
	enum user_filter filter = q->filter;
	const char *value = q->value;
	size_t i;
	int rc;

	next[0] = '\0';
	if (q->email != NULL) {
		if (filter != USER_FILTER_NONE) {
			snprintf(err, errlen, "email: one filter at a time");
			return ENGINE_BAD_INPUT;
		}
		filter = USER_FILTER_EMAIL;
		value = q->email;
	}
	if (filter == USER_FILTER_ENABLED || filter == USER_FILTER_DISABLED ||
	    filter == USER_FILTER_NONE)
		value = NULL;
	else if (value == NULL) {
		snprintf(err, errlen, "filter: no value");
		return ENGINE_BAD_INPUT;
	}
	if (q->limit < 1 || q->limit > ADMIN_PAGE_MAX) {
		snprintf(err, errlen, "limit: expected 1 to %d",
		    ADMIN_PAGE_MAX);
		return ENGINE_BAD_INPUT;
	}
	if (value != NULL && !valid_text(value, 320)) {
		snprintf(err, errlen, "%s: expected 1 to 320 bytes of text",
		    q->email != NULL ? "email" : "filter");
		return ENGINE_BAD_INPUT;
	}
	r = admin_project_show(e, q->project_id, &p);
	if (r != ENGINE_OK) {
		snprintf(err, errlen, "project: no such project");
		return r;
	}
	project_free(p);
	if (q->cursor != NULL &&
	    cursor_open(e, q->project_id, filter, value, q->desc, q->cursor,
		after) == -1) {
		snprintf(err, errlen, "cursor: not a cursor of this list");
		return ENGINE_BAD_INPUT;
	}
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	/* One more than asked tells whether a next page exists. */
	pq = (struct user_page_query){ filter, value,
		q->cursor != NULL ? after : NULL, q->limit + 1, q->desc };
	rc = store_user_page(c, q->project_id, &pq, out);
	db_release(e->db, c);
	if (rc != STORE_OK)
		return ENGINE_UNAVAILABLE;
	if (out->n > (size_t)q->limit) {
		user_free(out->items[--out->n]);
		u = out->items[out->n - 1];
		cursor_make(e, q->project_id, filter, value, q->desc, u->id,
		    next);
	}
	for (i = 0; i < out->n; i++) {
		u = out->items[i];
		xfree_secret(u->password_hash);
		u->password_hash = NULL;
	}
	return ENGINE_OK;
}


/*
 * The user of project p named by user: its id, email or username.
 * STORE_OK with *out, STORE_NOT_FOUND or DB_ERROR.
 */
static int
user_resolve(struct engine *e, const char *project_id, const char *user,
    struct user **out)
{
	struct db_conn *c;
	int rc;

	if (user == NULL || *user == '\0' || strlen(user) > 320)
		return STORE_NOT_FOUND;
	c = db_acquire(e->db);
	if (c == NULL)
		return DB_ERROR;
	if (id_is_uuid(user))
		rc = store_user_get(c, project_id, user, out);
	else
		rc = store_user_find(c, project_id, user, out);
	db_release(e->db, c);
	return rc;
}

/* user_resolve as an engine result, the password hash dropped. */
static enum engine_result
user_load(struct engine *e, const char *project_id, const char *user,
    struct user **out)
{
	int rc = user_resolve(e, project_id, user, out);

	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc != STORE_OK)
		return ENGINE_USER_UNKNOWN;
	xfree_secret((*out)->password_hash);
	(*out)->password_hash = NULL;
	return ENGINE_OK;
}

enum engine_result
admin_user_lookup(struct engine *e, const char *project_id, const char *user,
    struct user **out)
{
	return user_load(e, project_id, user, out);
}


/* What an operation on one user writes, and records. */
struct user_op_tx {
	const struct request_context *ctx;
	const struct user *user;
	const char *subject;
	int64_t now;
	enum audit_kind kind;
	/* ADMIN_SET_PASSWORD */
	const char *hash;
	enum user_status status;
	int op;
};

enum {
	OP_SET_PASSWORD,  /* hash and status; sessions and secrets die */
	OP_REQUIRE_RESET, /* no password, reset_required; sessions die */
	OP_SIGN_OUT,	  /* sessions die */
};

static int
user_op_tx(struct db_conn *c, void *arg)
{
	struct user_op_tx *t = arg;
	const struct user *u = t->user;
	int rc = 0;

	switch (t->op) {
	case OP_SET_PASSWORD:
		rc = store_user_admin_password(c, u->project_id, u->id, t->hash,
		    t->status, t->now);
		if (rc == 0)
			return 0; /* deleted meanwhile: nothing to record */
		if (rc > 0)
			rc = store_secret_revoke_user(c, u->id, t->now);
		if (rc >= 0)
			rc = store_session_revoke_user(c, u->id, t->now);
		break;
	case OP_REQUIRE_RESET:
		/*
		 * The password is deactivated: sign-in refuses a
		 * reset_required user (session_login), and Cognito tells the
		 * holder of the right password to reset it.
		 */
		rc = store_user_set_status(c, u->project_id, u->id,
		    USER_RESET_REQUIRED, t->now);
		if (rc == 0)
			return 0;
		if (rc > 0)
			rc = store_session_revoke_user(c, u->id, t->now);
		break;
	case OP_SIGN_OUT:
		rc = store_session_revoke_user(c, u->id, t->now);
		break;
	default:
		abort();
	}
	if (rc < 0)
		return rc;
	return audit_write(c, t->ctx, u->project_id, t->kind, t->subject,
	    "admin", t->now);
}

/* Run op on u, audited as kind; ENGINE_OK or ENGINE_UNAVAILABLE. */
static enum engine_result
user_op(struct engine *e, const struct request_context *ctx,
    const struct user *u, int op, enum audit_kind kind, const char *hash,
    enum user_status status, int64_t *now_out)
{
	char subject[AUDIT_SUBJECT_LEN + 1];
	struct user_op_tx t;

	audit_subject(e, u->project_id, u->email, subject);
	t = (struct user_op_tx){ ctx, u, subject, db_now(e->db), kind, hash,
		status, op };
	if (db_write(e->db, user_op_tx, &t) != 0)
		return ENGINE_UNAVAILABLE;
	if (now_out != NULL)
		*now_out = t.now;
	return ENGINE_OK;
}

enum engine_result
admin_user_set_password(struct engine *e, const struct admin_password *in,
    struct user **out)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct password_verdict v;
	enum engine_result result;
	enum user_status st = in->permanent ? USER_CONFIRMED :
					      USER_FORCE_CHANGE_PASSWORD;
	char *hash = NULL;
	int64_t now;

	result = engine_project(e, in->project_id ? in->project_id : "", &p);
	if (result != ENGINE_OK)
		return result;
	result = user_load(e, p->id, in->user, &u);
	if (result != ENGINE_OK)
		goto out;
	result = reset_password_policy(e, p, in->password, u->email,
	    u->username, &v);
	if (result != ENGINE_OK) {
		if (in->verdict != NULL)
			*in->verdict = v;
		goto out;
	}
	/* An app that keeps the passwords has no temporary ones. */
	if (storage_is_webhook(p) && !in->permanent) {
		result = ENGINE_STORAGE_REFUSED;
		goto out;
	}
	result = storage_set_password(e, p, u, in->password, NULL, &hash);
	if (result != ENGINE_OK)
		goto out;
	result = user_op(e, in->ctx, u, OP_SET_PASSWORD, AUDIT_PASSWORD_SET,
	    hash, st, &now);
	if (result != ENGINE_OK)
		goto out;
	u->status = st;
	u->updated_at = now;
	if (out != NULL) {
		*out = u;
		u = NULL;
	}
out:
	xfree_secret(hash);
	user_free(u);
	project_free(p);
	return result;
}

/* Load project and user for an operation on one user. */
static enum engine_result
op_target(struct engine *e, const char *project_id, const char *user,
    struct project **p, struct user **u)
{
	enum engine_result result;

	result = engine_project(e, project_id ? project_id : "", p);
	if (result != ENGINE_OK)
		return result;
	return user_load(e, (*p)->id, user, u);
}

enum engine_result
admin_user_sign_out(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user)
{
	struct project *p = NULL;
	struct user *u = NULL;
	enum engine_result result;

	result = op_target(e, project_id, user, &p, &u);
	if (result == ENGINE_OK)
		result = user_op(e, ctx, u, OP_SIGN_OUT, AUDIT_USER_SIGNED_OUT,
		    NULL, u->status, NULL);
	user_free(u);
	project_free(p);
	return result;
}

enum engine_result
admin_user_show(struct engine *e, const char *id, struct user **out)
{
	struct db_conn *c;
	int rc;

	if (id == NULL || !id_is_uuid(id))
		return ENGINE_USER_UNKNOWN;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_by_id(c, id, out);
	db_release(e->db, c);
	if (rc == STORE_OK) {
		xfree_secret((*out)->password_hash);
		(*out)->password_hash = NULL;
	}
	return read_result(rc);
}

struct delete_tx {
	struct engine *e;
	const struct request_context *ctx;
	const struct user *user;
	const char *subject;
	const char *by;
	int64_t now;
	enum engine_result outcome;
};

static int
delete_tx(struct db_conn *c, void *arg)
{
	struct delete_tx *t = arg;
	int rc;

	rc = store_user_delete(c, t->user->project_id, t->user->id);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		t->outcome = ENGINE_USER_UNKNOWN;
		return TX_REFUSED;
	}
	rc = event_user(t->e, c, "user.deleted", t->user, t->now);
	if (rc != 0)
		return rc;
	return audit_write(c, t->ctx, t->user->project_id, AUDIT_USER_DELETED,
	    t->subject, t->by, t->now);
}

enum engine_result
admin_user_delete(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user, const char *by)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct delete_tx t;
	char subject[AUDIT_SUBJECT_LEN + 1];
	enum engine_result r;
	int rc;

	if (project_id != NULL)
		r = op_target(e, project_id, user, &p, &u);
	else
		r = admin_user_show(e, user, &u);
	project_free(p);
	if (r != ENGINE_OK)
		return r;
	audit_subject(e, u->project_id, u->email, subject);
	t = (struct delete_tx){ e, ctx, u, subject, by != NULL ? by : "admin",
		db_now(e->db), ENGINE_OK };
	rc = db_write(e->db, delete_tx, &t);
	user_free(u);
	r = tx_result(rc, t.outcome);
	if (r == ENGINE_OK)
		event_wake(e);
	return r;
}

enum engine_result
admin_user_require_reset(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user, int64_t *retry_after_s)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct reset_request in;
	struct reset_ticket t;
	enum engine_result result;

	memset(&t, 0, sizeof(t));
	result = op_target(e, project_id, user, &p, &u);
	if (result != ENGINE_OK)
		goto out;
	if (u->disabled) {
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	/*
	 * The code first: a request over the account's limits changes
	 * nothing.  The caller holds the API key, so it is told.
	 */
	in = (struct reset_request){
		.project = p,
		.login = u->email,
		.delivery = DELIVER_CODE,
		.trusted = 1,
		.ctx = ctx,
		.retry_after_s = retry_after_s,
	};
	result = reset_request(e, &in, &t);
	if (result != ENGINE_OK)
		goto out;
	result = user_op(e, ctx, u, OP_REQUIRE_RESET, AUDIT_RESET_REQUIRED,
	    NULL, USER_RESET_REQUIRED, NULL);
out:
	reset_ticket_clear(&t);
	user_free(u);
	project_free(p);
	return result;
}

/* 1 when s may name who asked: 1 to 64 of [A-Za-z0-9._@:-]. */
int
admin_actor_valid(const char *s)
{
	size_t n = strnlen(s, 65);

	return n > 0 && n <= 64 &&
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@:-") == n;
}

enum engine_result
admin_user_reset(struct engine *e, const struct request_context *ctx,
    const char *id, const char *by, char *err, size_t errlen)
{
	struct user *u = NULL;
	struct project *p = NULL;
	struct reset_request in;
	struct reset_ticket tk;
	enum engine_result r;
	int64_t retry = 0;

	memset(&tk, 0, sizeof(tk));
	if (by == NULL || !admin_actor_valid(by)) {
		snprintf(err, errlen,
		    "requested_by: expected 1 to 64 letters, "
		    "digits or ._@:-");
		return ENGINE_BAD_INPUT;
	}
	r = admin_user_show(e, id, &u);
	if (r != ENGINE_OK) {
		snprintf(err, errlen, "user: no such user");
		goto out;
	}
	if (u->disabled) {
		snprintf(err, errlen, "user: disabled; enable it first");
		r = ENGINE_USER_DISABLED;
		goto out;
	}
	r = engine_project(e, u->project_id, &p);
	if (r != ENGINE_OK) {
		snprintf(err, errlen, "project: unavailable");
		goto out;
	}
	/*
	 * A trusted request for the account's own address: the link goes to
	 * the user by mail, always, and the operator never sees it.
	 */
	in = (struct reset_request){
		.project = p,
		.login = u->email,
		.trusted = 1,
		.delivery = DELIVER_LINK,
		.ctx = ctx,
		.requested_by = by,
		.retry_after_s = &retry,
	};
	r = reset_request(e, &in, &tk);
	if (r == ENGINE_THROTTLED)
		snprintf(err, errlen,
		    "user: the account had its resets for "
		    "this hour; retry in %lld s",
		    (long long)retry);
	else if (r != ENGINE_OK)
		snprintf(err, errlen, "user: %s", engine_result_name(r));
	else
		engine_mail_queued(e);
out:
	reset_ticket_clear(&tk);
	project_free(p);
	user_free(u);
	return r;
}

static const char *const outbox_states[] = {
	"pending",
	"sent",
	"dead",
	"dropped",
	NULL,
};

enum engine_result
admin_outbox_list(struct engine *e, const char *state, int64_t limit,
    struct store_list *out, char *err, size_t errlen)
{
	struct db_conn *c;
	size_t i;
	int rc;

	for (i = 0; state != NULL && outbox_states[i] != NULL; i++)
		if (strcmp(outbox_states[i], state) == 0)
			break;
	if (state != NULL && outbox_states[i] == NULL) {
		snprintf(err, errlen,
		    "state: expected pending, sent, dead or "
		    "dropped");
		return ENGINE_BAD_INPUT;
	}
	if (limit < 1 || limit > ADMIN_LIST_MAX) {
		snprintf(err, errlen, "limit: expected 1 to %d",
		    ADMIN_LIST_MAX);
		return ENGINE_BAD_INPUT;
	}
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_outbox_list(c, state, (int)limit, out);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

enum engine_result
admin_outbox_retry(struct engine *e, const char *id, int64_t *retried,
    char *err, size_t errlen)
{
	struct outbox_msg *m = NULL;
	struct db_conn *c;
	enum engine_result r = ENGINE_OK;
	int n;

	if (id != NULL && !id_is_uuid(id)) {
		snprintf(err, errlen, "id: not a message id");
		return ENGINE_BAD_INPUT;
	}
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	n = store_outbox_retry(c, id, db_now(e->db));
	if (n < 0)
		r = ENGINE_UNAVAILABLE;
	else if (n == 0 && id != NULL) {
		if (store_outbox_get(c, id, &m) == STORE_OK) {
			snprintf(err, errlen, "message %s is %s, not dead", id,
			    m->state);
			r = ENGINE_CONFLICT;
		} else {
			snprintf(err, errlen, "no message %s", id);
			r = ENGINE_USER_UNKNOWN;
		}
	}
	db_release(e->db, c);
	outbox_msg_free(m);
	if (r == ENGINE_OK) {
		*retried = n;
		engine_mail_queued(e);
	}
	return r;
}

enum engine_result
admin_audit_list(struct engine *e, const struct audit_query *q,
    struct store_list *out, char *err, size_t errlen)
{
	struct user *u = NULL;
	struct db_conn *c;
	char subject[AUDIT_SUBJECT_LEN + 1];
	const char *project_id = q->project_id;
	int rc;

	if (q->limit < 1 || q->limit > ADMIN_LIST_MAX) {
		snprintf(err, errlen, "limit: expected 1 to %d",
		    ADMIN_LIST_MAX);
		return ENGINE_BAD_INPUT;
	}
	if (q->since < 0 || q->until <= q->since) {
		snprintf(err, errlen, "until: must be after since");
		return ENGINE_BAD_INPUT;
	}
	if (project_id != NULL && !id_is_uuid(project_id)) {
		snprintf(err, errlen, "project_id: not a project id");
		return ENGINE_BAD_INPUT;
	}
	/* A user's events are those of its login's keyed hash. */
	if (q->user_id != NULL) {
		if (admin_user_show(e, q->user_id, &u) != ENGINE_OK) {
			snprintf(err, errlen, "user_id: no such user");
			return ENGINE_BAD_INPUT;
		}
		if (project_id != NULL && strcmp(project_id, u->project_id)) {
			user_free(u);
			snprintf(err, errlen,
			    "user_id: not a user of the "
			    "project");
			return ENGINE_BAD_INPUT;
		}
		project_id = u->project_id;
		audit_subject(e, u->project_id, u->email, subject);
	}
	c = db_acquire(e->db);
	if (c == NULL) {
		user_free(u);
		return ENGINE_UNAVAILABLE;
	}
	rc = store_audit_query(c, project_id, u != NULL ? subject : NULL,
	    q->since, q->until, (int)q->limit, out);
	db_release(e->db, c);
	user_free(u);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}
