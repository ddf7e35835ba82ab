/*
 * Instance configuration: built-in defaults, then a config file, then
 * RESETD_* environment variables, each overriding the one before.  It is
 * parsed once into an immutable struct; nothing changes it afterwards.  A
 * reload (SIGHUP) loads a new struct, and the parts that may change while
 * requests run copy from it what config_key_reloads names.
 * Per-project settings (URLs, lifetimes, senders) live in the database, not
 * here.
 */
#ifndef RESETD_CONFIG_H
#define RESETD_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

#define CONFIG_PROXIES_MAX 64

struct config {
	char *listen;	    /* host:port */
	char *admin_listen; /* host:port; "": no admin listener */
	char *admin_token;  /* never printed or logged */
	char *admin_token_file;
	int64_t rate_admin_auth;  /* wrong tokens per address a minute */
	char *database;		  /* sqlite:PATH or postgres://... */
	char *mail;		  /* maildir:DIR, smtp(s)://HOST, log: */
	char *public_url;	  /* base of every link, no trailing / */
	char *server_secret;	  /* 64 hex chars, or NULL: a key file */
	char *server_secret_file; /* NULL: beside a SQLite database */
	char *log_level;
	char *mail_from;      /* default sender address */
	char *mail_from_name; /* default sender display name */
	char *mail_starttls;  /* auto, required, opportunistic, off */
	char *mail_username;  /* SMTP AUTH; NULL: none */
	char *mail_password;  /* never printed or logged */
	char *mail_ca_file;   /* PEM; NULL: the system's CAs */
	char *templates_dir;  /* mail template overrides; NULL: none */
	int64_t http_threads;
	int64_t workers; /* threads running request work */
	int64_t max_body_bytes;
	int64_t max_connections;
	int64_t connection_timeout;   /* seconds */
	int64_t request_head_timeout; /* seconds, whole head */
	int64_t request_body_timeout; /* seconds, whole body */
	int64_t argon2_opslimit;
	int64_t argon2_memory_kib;
	int64_t hash_concurrency; /* 0: one per CPU */
	int64_t mail_workers;	  /* 0: this instance sends no mail */
	int64_t mail_max_tries;
	int64_t mail_lease_seconds;
	int64_t mail_poll_ms;
	int64_t mail_test_hold_ms; /* testing: hold claims before sending */
	int64_t mail_backoff_ms;   /* first retry delay; doubles */
	int64_t mail_max_age;	   /* seconds; then a failure is final */
	int64_t mail_connect_timeout_ms;
	int64_t mail_send_timeout_ms; /* one whole SMTP exchange */
	int64_t webhook_timeout_ms;   /* one whole webhook post */
	int64_t webhook_workers;      /* webhook sender threads */
	int64_t event_retention_days; /* the event log's age limit */
	int64_t db_pool_size;
	/* Abuse resistance (docs/abuse.md). */
	char *trusted_proxies;	       /* addresses/ranges, or "" */
	char *breached_passwords_file; /* NULL: none */
	int64_t max_headers;
	int64_t max_url_bytes;
	int64_t max_connections_per_ip; /* 0: no cap */
	int64_t listen_reuse_port;	/* 1: SO_REUSEPORT */
	int64_t rate_ip_table_size;
	int64_t rate_ip_request, rate_ip_request_window;
	int64_t rate_ip_confirm, rate_ip_confirm_window;
	int64_t rate_ip_login, rate_ip_login_window;
	int64_t rate_ip_api, rate_ip_api_window;
	char *rate_limit_store; /* "memory" or "database" */
	char *aws_region;	/* the Cognito face's region */
	/* Per IPv6 /56 and /48, indexed by enum ratelimit_class. */
	int64_t rate_ip6_56[4], rate_ip6_48[4];
	/* The per-login sign-in back-off (core/backoff.c). */
	int64_t login_backoff_after; /* tries before holding; 0: off */
	int64_t login_backoff_base, login_backoff_max; /* seconds */
	int64_t reset_floor_ms;			       /* 0: no time floor */
	int64_t reset_jitter_ms;
	/* trusted_proxies, parsed */
	struct cidr proxies[CONFIG_PROXIES_MAX];
	size_t nproxies;
};

/*
 * Load the configuration.  path is the config file, or NULL to use
 * RESETD_CONFIG when set, or none.  On success, return 0 and a struct the
 * caller frees with config_free; on failure, write a message that says which
 * key or line is wrong into err (errlen bytes) and return -1.
 */
int config_load(const char *path, struct config **out, char *err,
    size_t errlen) WUR;
void config_free(struct config *);
/* 1 when a reload (SIGHUP) applies the key to a running server. */
int config_key_reloads(const char *name);
/*
 * For a reload: log one line per key whose value in next differs from the
 * one in force, and count them.  A key a reload applies is compared with
 * applied (the configuration the last reload, or the start, put in
 * force), logged at info and counted in *changed; any other key with
 * running (the one the process started with), logged as a warning that it
 * takes effect at the next restart and counted in *restart.  Secret values
 * and the database URL are never written, only that they changed.
 */
void
config_log_changes(const struct config *running, const struct config *applied,
    const struct config *next, int *changed, int *restart);
/* Print every key with its environment name, default and meaning. */
void config_usage(FILE *);
/* Print the effective configuration as JSON, the server secret masked. */
void config_print(const struct config *, FILE *);

#endif
