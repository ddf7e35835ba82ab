/*
 * The engine's private state, shared by the files of core/.
 */
#ifndef RESETD_ENGINE_INTERNAL_H
#define RESETD_ENGINE_INTERNAL_H

#include "engine.h"
#include "password.h"
#include "secret.h"

struct engine {
	const struct config	*cfg;
	struct db		*db;
	uint8_t			 token_key[SECRET_KEY_BYTES];
	uint8_t			 session_key[32];
	uint8_t			 seal_key[32];	/* client secrets at rest */
	struct hasher		*hasher;
	void			(*wake_mail)(void *);
	void			*wake_mail_arg;
};

/* Tell the mail senders something was queued. */
void	engine_mail_queued(struct engine *);
/* 1 when the newline-separated list holds item exactly. */
int	engine_list_has(const char *list, const char *item);

/* idem.c: the engine's half of idempotent calls (see engine.h) */
/*
 * Look the claim's key up before any work: ENGINE_OK when no live record
 * holds it, ENGINE_REPLAYED with claim->answer set, ENGINE_IDEMPOTENCY_
 * MISMATCH, or ENGINE_UNAVAILABLE (logged).
 */
enum engine_result idem_begin(struct engine *, const char *project_id,
	    struct idem_claim *);
/* Have the dialect encode outcome into claim->answer. */
void	idem_encode(struct idem_claim *, const struct idem_outcome *);
/*
 * Record claim->answer on c, inside the transaction that does the work;
 * call it first there.  STORE_OK, ENGINE_REPLAYED (a positive value: the key
 * was taken meanwhile, roll back and call idem_settle) or DB_ERROR.
 */
int	idem_record(struct engine *, struct db_conn *, const char *project_id,
	    const struct idem_claim *, int64_t now);
/*
 * After a use case ended with result other than ENGINE_OK: if a racing
 * call with the same key has committed meanwhile, return ENGINE_REPLAYED
 * (or ENGINE_IDEMPOTENCY_MISMATCH) as idem_begin would; else result.
 */
enum engine_result idem_settle(struct engine *, const char *project_id,
	    struct idem_claim *, enum engine_result result);

#endif
