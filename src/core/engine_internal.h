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

#endif
