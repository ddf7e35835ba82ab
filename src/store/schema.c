/*
 * The schema, as an ordered list of migrations.  Each migration's SQL is
 * written once for both SQLite and PostgreSQL; a migration that cannot be
 * shared gives a text per dialect.  Applied versions are recorded in
 * schema_migrations, and store_migrate applies the rest in one transaction,
 * in order of version.  "The rest" is every version not recorded, not only
 * those above the highest: numbers are handed out to branches in advance,
 * so a database may have met 7 before 5 and 6 exist.  A migration must
 * therefore not depend on a higher-numbered one.
 *
 * Conventions: ids are text (UUID v7), times are integer milliseconds since
 * the epoch (BIGINT), flags are integers 0/1.
 */
#include <stddef.h>

#include "store_internal.h"

static const char m1_base[] =
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"

    "CREATE TABLE projects ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  callback_urls TEXT NOT NULL DEFAULT '',"	  /* one URL per line */
    "  allowed_origins TEXT NOT NULL DEFAULT ''," /* one origin per line */
    "  reset_url TEXT,"
    "  token_ttl BIGINT NOT NULL,"
    "  delivery TEXT NOT NULL DEFAULT 'link',"
    "  created_at BIGINT NOT NULL);"

    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  email TEXT NOT NULL,"
    "  email_key TEXT NOT NULL," /* lower-cased, for lookups */
    "  username TEXT,"
    "  username_key TEXT,"
    "  password_hash TEXT,"
    "  email_verified INTEGER NOT NULL DEFAULT 0,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  locale TEXT,"
    "  first_name TEXT,"
    "  last_name TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  last_sign_in_at BIGINT);"
    "CREATE UNIQUE INDEX users_email ON users(project_id, email_key);"
    "CREATE UNIQUE INDEX users_username ON users(project_id, username_key);"

    /*
     * Reset secrets, stored only as keyed hashes.  A request for an unknown
     * account writes a dead "decoy" row with no user, so both answers cost
     * the same work.
     */
    "CREATE TABLE secrets ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  user_id TEXT REFERENCES users(id),"
    "  purpose TEXT NOT NULL,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  email TEXT NOT NULL," /* the address it was sent to */
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  used_at BIGINT,"
    "  revoked_at BIGINT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  login_url TEXT,"
    "  locale TEXT);"
    "CREATE INDEX secrets_user ON secrets(user_id);"
    "CREATE INDEX secrets_expiry ON secrets(expires_at);"

    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  user_id TEXT NOT NULL REFERENCES users(id),"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  revoked_at BIGINT);"
    "CREATE INDEX sessions_user ON sessions(user_id);"

    /*
     * Queued mail.  payload holds what the template needs, the secret
     * included, and is cleared once the message is sent.
     */
    "CREATE TABLE outbox ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  kind TEXT NOT NULL,"
    "  to_addr TEXT NOT NULL,"
    "  locale TEXT,"
    "  payload TEXT,"
    "  state TEXT NOT NULL," /* pending, sent, dead, dropped */
    "  tries INTEGER NOT NULL DEFAULT 0,"
    "  next_try_at BIGINT NOT NULL," /* due time; a claim moves it to the lease end */
    "  last_error TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  sent_at BIGINT);"
    "CREATE INDEX outbox_due ON outbox(state, next_try_at);";

/*
 * Credentials dialects name a project with.  API keys are secrets and kept
 * only as keyed hashes.  A client secret must be read back to check
 * Cognito's SecretHash, so it is kept encrypted under a key derived from
 * the server secret instead.
 */
static const char m2_credentials[] =
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  key_hash TEXT NOT NULL UNIQUE,"
    "  created_at BIGINT NOT NULL,"
    "  revoked_at BIGINT);"
    "CREATE INDEX api_keys_project ON api_keys(project_id);"

    "CREATE TABLE clients ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  secret_sealed TEXT," /* NULL: a public client */
    "  prevent_user_existence_errors INTEGER NOT NULL DEFAULT 1,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX clients_project ON clients(project_id);";

/*
 * The WorkOS dialect's needs, written so any dialect can use them.
 *
 * Idempotency records: the answer to a POST that carried an Idempotency-Key,
 * keyed by (project, key), with the fingerprint of the request it answered.
 * The record is inserted in the same transaction as the work it answers, so
 * the primary key lets exactly one of several racing retries commit.  The
 * answer may hold a reset token, so it is sealed like a client secret.
 *
 * send_reset_emails: whether a reset asked for by a caller that receives the
 * token itself (WorkOS's create call) also emails the link.
 */
static const char m3_workos[] =
    "CREATE TABLE idempotency_keys ("
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  idem_key TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL," /* hex hash of method, path, body */
    "  status INTEGER NOT NULL,"
    "  answer_sealed TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  PRIMARY KEY (project_id, idem_key));"
    "CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);"

    "ALTER TABLE projects ADD COLUMN send_reset_emails INTEGER NOT NULL "
    "  DEFAULT 1;";

/*
 * Typed reset codes.  A code is checked by looking up the latest code of
 * its subject, then comparing hashes: the subject is the user's id, or,
 * for a request naming no account, a keyed hash of the typed login, so
 * that decoy codes keep attempt counts exactly like real ones.  The index
 * serves that lookup and the per-account sum of wrong attempts.
 */
static const char m4_reset_codes[] =
    "ALTER TABLE secrets ADD COLUMN subject TEXT;"
    "CREATE INDEX secrets_subject ON secrets(subject, created_at);";

/*
 * Mail settings of a project: its sender (NULL: the instance's mail_from
 * and mail_from_name), its default locale (NULL: English), and whether a
 * reset asked for an address with no account mails that address a notice
 * saying so (unknown_account_notice) instead of recording a dropped row.
 */
static const char m5_mail_settings[] =
    "ALTER TABLE projects ADD COLUMN mail_from TEXT;"
    "ALTER TABLE projects ADD COLUMN mail_from_name TEXT;"
    "ALTER TABLE projects ADD COLUMN locale TEXT;"
    "ALTER TABLE projects ADD COLUMN unknown_account_notice INTEGER NOT NULL "
    "  DEFAULT 0;";

/*
 * Branding of the hosted pages: a logo (an https URL, or http on
 * loopback) and an accent colour (#RRGGBB), both optional and validated
 * by the engine before they are stored.
 */
static const char m6_page_branding[] =
    "ALTER TABLE projects ADD COLUMN logo_url TEXT;"
    "ALTER TABLE projects ADD COLUMN accent_color TEXT;";

/*
 * Abuse limits and the audit trail.
 *
 * Per project: how many reset emails one account may get in an hour, how
 * much mail the project may queue in an hour (0: no budget), and the
 * password policy's minimum length and strength score.  The limits are
 * counted from the rows themselves (secrets, outbox), so they hold across
 * instances sharing a database.
 *
 * audit_events records what happened, never a secret: the login appears
 * only as a keyed hash (subject), the user agent is capped, and the
 * client address is what the HTTP layer decided to trust.  An outbox row
 * keeps the subject of the reset it carries, so that "sent" and "failed"
 * can be recorded against it after the payload is gone.
 */
static const char m7_abuse[] =
    "ALTER TABLE projects ADD COLUMN reset_limit_per_hour INTEGER NOT NULL "
    "  DEFAULT 3;"
    "ALTER TABLE projects ADD COLUMN mail_budget_per_hour INTEGER NOT NULL "
    "  DEFAULT 1000;"
    "ALTER TABLE projects ADD COLUMN password_min_length INTEGER NOT NULL "
    "  DEFAULT 8;"
    "ALTER TABLE projects ADD COLUMN password_min_score INTEGER NOT NULL "
    "  DEFAULT 2;"
    "ALTER TABLE outbox ADD COLUMN subject TEXT;"
    "CREATE INDEX outbox_project ON outbox(project_id, created_at);"
    "CREATE INDEX secrets_user_created ON secrets(user_id, created_at);"

    "CREATE TABLE audit_events ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT," /* NULL: before a project was known */
    "  created_at BIGINT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  client_ip TEXT,"
    "  user_agent TEXT,"
    "  subject TEXT," /* keyed hash of the login */
    "  detail TEXT);"
    "CREATE INDEX audit_events_project ON audit_events(project_id, "
    "  created_at);"
    "CREATE INDEX audit_events_created ON audit_events(created_at);";

/*
 * The per-project mail budget counts queued mail of the last hour; dropped
 * rows (equal work for requests that send nothing) can be far more
 * numerous, so the count gets an index of its own rows only.
 */
static const char m8_budget_index[] =
    "CREATE INDEX outbox_project_mail ON outbox(project_id, created_at) "
    "WHERE state <> 'dropped';";

/*
 * Every index is one more b-tree each reset request writes.  These two
 * are covered by others: secrets(user_id, created_at) serves lookups by
 * user, and the mail budget counts on outbox_project_mail.
 */
static const char m9_drop_covered_indexes[] = "DROP INDEX secrets_user;"
					      "DROP INDEX outbox_project;";

/*
 * The per-login reset limit counts every reset secret by its subject
 * (secrets_subject), for links as for codes and for the decoys of logins
 * that name no account.  Links made before carried no subject; giving
 * them their user's id keeps the last hour counted across the upgrade.
 * Self-contained: it reads and writes secrets alone.
 */
static const char m10_login_subjects[] =
    "UPDATE secrets SET subject = user_id WHERE subject IS NULL AND "
    "  user_id IS NOT NULL AND purpose = 'reset_link';";

/*
 * Unknown-account notices mail any address typed, so they have limits of
 * their own: how many one address may get in an hour, and the share of
 * the project's mail budget they may use (the rest is kept for mail to
 * accounts).  Self-contained: it adds two columns to projects.
 */
static const char m11_notice_limits[] =
    "ALTER TABLE projects ADD COLUMN notice_limit_per_hour INTEGER NOT NULL "
    "  DEFAULT 1;"
    "ALTER TABLE projects ADD COLUMN notice_share_percent INTEGER NOT NULL "
    "  DEFAULT 20;";

/*
 * The sign-in back-off, per login.  subject is a keyed hash of the project
 * and the login as typed (normalised), made the same way whether or not an
 * account has that login, so a row names nobody and tells nothing of
 * which logins exist.  failures counts tries since the last success;
 * until_ms is when the next try is allowed; last_ms is the last try, and
 * rows quiet for long are forgotten.
 */
static const char m12_login_backoff[] =
    "CREATE TABLE login_backoff ("
    "  subject TEXT PRIMARY KEY,"
    "  failures BIGINT NOT NULL,"
    "  until_ms BIGINT NOT NULL,"
    "  last_ms BIGINT NOT NULL);"
    "CREATE INDEX login_backoff_last ON login_backoff(last_ms);";

/*
 * Per-address token buckets shared by instances (rate_limit_store =
 * database; core/ratelimit_shared.c).  key is a keyed hash of the scope,
 * the class and the address range, so the table holds no address.  A
 * bucket left alone for its window is full, the same as no row, so old
 * rows are simply deleted.  On PostgreSQL the table is UNLOGGED: its
 * writes skip the WAL, and a transaction that wrote nothing else commits
 * without waiting for a flush.  A crash empties it, which is a limiter
 * failing open, never closed.
 */
#define M13_RATE_BUCKETS(unlogged) \
	"CREATE " unlogged "TABLE rate_buckets (" \
	"  key TEXT PRIMARY KEY," \
	"  tokens BIGINT NOT NULL," \
	"  at_ms BIGINT NOT NULL," \
	"  refusing INTEGER NOT NULL DEFAULT 0);" \
	"CREATE INDEX rate_buckets_at ON rate_buckets(at_ms);"
static const char m13_rate_buckets[] = M13_RATE_BUCKETS("");
static const char m13_rate_buckets_postgres[] = M13_RATE_BUCKETS("UNLOGGED ");

/*
 * Sessions that apps can verify (core/session.c, core/keyring.c).
 *
 * signing_keys: each project's token keys, one row per key, its id the
 * token's "kid".  The private key (or HS256 secret) is sealed under a key
 * derived from the server secret; a copy of the database signs nothing.
 * A rotated key stops signing (retired_at) and still verifies until the
 * last token it signed has expired (verify_until).
 *
 * refresh_tokens: opaque, stored as keyed hashes, each of one session (its
 * family); a rotation spends one (used_at) and makes the next.  A session
 * revoked (reset, sign-out, disable, reuse of a spent token) takes all of
 * them with it.
 *
 * login_token_ttl: the lifetime of a project's Xsolla login tokens.
 * password_change_required: the user has a temporary password, and its
 * first sign-in must choose another (Cognito's FORCE_CHANGE_PASSWORD).
 */
static const char m14_sessions[] =
    "CREATE TABLE signing_keys ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  alg TEXT NOT NULL,"
    "  secret_sealed TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  retired_at BIGINT,"
    "  verify_until BIGINT);"
    "CREATE INDEX signing_keys_project ON signing_keys(project_id);"

    "CREATE TABLE refresh_tokens ("
    "  id TEXT PRIMARY KEY,"
    "  session_id TEXT NOT NULL REFERENCES sessions(id),"
    "  client_id TEXT,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  used_at BIGINT);"
    "CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);"

    "ALTER TABLE sessions ADD COLUMN client_id TEXT;"
    "ALTER TABLE users ADD COLUMN password_change_required INTEGER NOT NULL "
    "  DEFAULT 0;"
    "ALTER TABLE projects ADD COLUMN login_token_ttl BIGINT NOT NULL "
    "  DEFAULT 86400;";

/*
 * The sender of each message, chosen when it is queued, so that a sender
 * never reads the project again.  Messages queued before get their
 * project's sender, as they would have had when sent; NULL is the
 * configured one.
 */
static const char m16_outbox_sender[] =
    "ALTER TABLE outbox ADD COLUMN from_addr TEXT;"
    "ALTER TABLE outbox ADD COLUMN from_name TEXT;"
    "UPDATE outbox SET"
    "  from_addr = (SELECT mail_from FROM projects"
    "    WHERE projects.id = outbox.project_id),"
    "  from_name = (SELECT mail_from_name FROM projects"
    "    WHERE projects.id = outbox.project_id)"
    "  WHERE state IN ('pending', 'dead');";

/*
 * Password profiles: the vendor whose rules a project's new passwords
 * follow ("nist", resetd's own, "cognito" or "xsolla"), and a bit per
 * rule a project may switch (core/password.h: 1 the common and breached
 * lists and the account's details, 2 the strength score, 4 to 32 an
 * uppercase letter, a lowercase letter, a digit, a symbol).  Existing
 * projects keep what they had: nist, lists and score on.  Self-contained:
 * it adds two columns to projects.
 */
static const char m15_password_profiles[] =
    "ALTER TABLE projects ADD COLUMN password_profile TEXT NOT NULL "
    "  DEFAULT 'nist';"
    "ALTER TABLE projects ADD COLUMN password_checks INTEGER NOT NULL "
    "  DEFAULT 3;";

/*
 * The event log and webhook endpoints (core/event.c, mail/webhook.c).
 *
 * events: what happened to a project's users, sessions and mail, one row
 * per event, written in the transaction that made the change.  data is
 * the event's object as JSON text in WorkOS's shapes, with no secret, code
 * or password in it; the janitor deletes rows older than
 * event_retention_days.  Ids are UUID v7, so the primary key orders a
 * project's events by time for the "after" cursor.
 *
 * webhook_endpoints: where a project's events are posted.  events is the
 * newline-separated list of event names it takes ("*": all).  The signing
 * secret must be read back to sign, so it is sealed under a key derived
 * from the server secret.  A delivery is an outbox row of kind "webhook"
 * whose recipient is the endpoint's id.
 *
 * projects.allow_private_targets: whether the project's webhooks (and
 * user storage) may reach loopback, private and link-local addresses.
 * Self-contained: it adds two tables and one column.
 */
static const char m17_events[] =
    "CREATE TABLE events ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX events_project ON events(project_id, id);"
    "CREATE INDEX events_created ON events(created_at);"

    "CREATE TABLE webhook_endpoints ("
    "  id TEXT PRIMARY KEY,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  url TEXT NOT NULL,"
    "  events TEXT NOT NULL,"
    "  secret_sealed TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX webhook_endpoints_project ON webhook_endpoints(project_id);"

    "ALTER TABLE projects ADD COLUMN allow_private_targets INTEGER NOT NULL "
    "  DEFAULT 0;";

/*
 * Cognito's admin calls.
 *
 * An API key doubles as AWS credentials: access_key_id (public, like
 * AWS's, and unique) names it in a SigV4 Authorization header, and the
 * secret access key it signs with must be read back to check a signature,
 * so it is sealed (aws_secret_sealed) under a subkey of the server secret
 * of its own, bound to the row.  Keys made before have neither and are
 * no AWS credentials.
 *
 * users.status is where a user stands in Cognito's terms: 'confirmed'
 * (may sign in with its password), 'force_change_password' (an admin set a
 * temporary password: sign-in asks for a new one) or 'reset_required' (an
 * admin reset the password: sign-in is refused until a code confirms a
 * new one).  Every user made before is confirmed.
 */
static const char m19_cognito_admin[] =
    "ALTER TABLE api_keys ADD COLUMN access_key_id TEXT;"
    "ALTER TABLE api_keys ADD COLUMN aws_secret_sealed TEXT;"
    "CREATE UNIQUE INDEX api_keys_access_key ON api_keys(access_key_id);"
    "ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'confirmed';";

/*
 * User storage (issue 17).  projects.user_storage is 'builtin' (users and
 * their password hashes live here) or 'webhook' (the app keeps its users;
 * resetd calls the storage_*_url URLs, each call a POST authenticated with
 * a short-lived JWT under the project's secret key).  storage_password_format
 * is what a password set carries ('plain' or 'argon2id');
 * storage_timeout_ms bounds each call.
 *
 * users.external_id: the app's own id of a user of a webhook project, for
 * the shadow row resetd keeps of it (never a password hash), unique per
 * project; NULL for builtin users.  resetd's own id stays the user's id in
 * links, sessions and events.
 */
static const char m20_user_storage[] =
    "ALTER TABLE projects ADD COLUMN user_storage TEXT NOT NULL "
    "  DEFAULT 'builtin';"
    "ALTER TABLE projects ADD COLUMN storage_lookup_url TEXT;"
    "ALTER TABLE projects ADD COLUMN storage_verify_url TEXT;"
    "ALTER TABLE projects ADD COLUMN storage_password_url TEXT;"
    "ALTER TABLE projects ADD COLUMN storage_new_user_url TEXT;"
    "ALTER TABLE projects ADD COLUMN storage_password_format TEXT NOT NULL "
    "  DEFAULT 'plain';"
    "ALTER TABLE projects ADD COLUMN storage_timeout_ms BIGINT NOT NULL "
    "  DEFAULT 3000;"
    "ALTER TABLE users ADD COLUMN external_id TEXT;"
    "CREATE UNIQUE INDEX users_external ON users(project_id, external_id);";

const struct migration store_migrations[] = {
	{ 1, "base schema", m1_base, NULL, NULL },
	{ 2, "api keys and app clients", m2_credentials, NULL, NULL },
	{ 3, "workos idempotency keys and the reset-email switch", m3_workos,
	    NULL, NULL },
	{ 4, "reset codes", m4_reset_codes, NULL, NULL },
	{ 5, "mail settings", m5_mail_settings, NULL, NULL },
	{ 6, "page branding", m6_page_branding, NULL, NULL },
	{ 7, "abuse limits", m7_abuse, NULL, NULL },
	{ 8, "mail budget index", m8_budget_index, NULL, NULL },
	{ 9, "drop covered indexes", m9_drop_covered_indexes, NULL, NULL },
	{ 10, "per-login limits by subject", m10_login_subjects, NULL, NULL },
	{ 11, "notice limits", m11_notice_limits, NULL, NULL },
	{ 12, "login back-off", m12_login_backoff, NULL, NULL },
	{ 13, "shared rate limits", m13_rate_buckets, NULL,
	    m13_rate_buckets_postgres },
	{ 14, "sessions apps can verify", m14_sessions, NULL, NULL },
	{ 15, "password profiles", m15_password_profiles, NULL, NULL },
	{ 16, "outbox senders", m16_outbox_sender, NULL, NULL },
	{ 17, "event log and webhooks", m17_events, NULL, NULL },
	{ 19, "cognito admin: aws credentials and user status",
	    m19_cognito_admin, NULL, NULL },
	{ 20, "user storage", m20_user_storage, NULL, NULL },
	{ 0, NULL, NULL, NULL, NULL },
};
