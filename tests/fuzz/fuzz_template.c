/*
 * Fuzz template expansion and MIME building: the first line is a template
 * text, the second a value for every variable, the third a subject and the
 * rest a body; all go through expansion (plain and HTML) and into a
 * message.
 */
#include "fuzz.h"
#include "mail/message.h"
#include "mail/template.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);
	char *parts[4] = { s, "", "", "" };
	struct mail_var vars[4];
	struct message_spec spec;
	struct buf b;
	char *msg = NULL, err[256], *nl;
	int i;

	for (i = 1; i < 4; i++) {
		nl = strchr(parts[i - 1], '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		parts[i] = nl + 1;
	}
	vars[0] = (struct mail_var){ "link", parts[1] };
	vars[1] = (struct mail_var){ "project_name", parts[1] };
	vars[2] = (struct mail_var){ "code", parts[2] };
	vars[3] = (struct mail_var){ NULL, NULL };
	buf_init(&b, 64 * 1024);
	/* Past the cap is an answer too; only a crash is a finding. */
	if (template_expand(&b, parts[0], strlen(parts[0]), vars, 0) == -1)
		buf_reset(&b);
	buf_reset(&b);
	if (template_expand(&b, parts[0], strlen(parts[0]), vars, 1) == -1)
		buf_reset(&b);
	buf_free(&b);
	spec = (struct message_spec){
		.from_name = parts[1],
		.from_addr = "noreply@example.com",
		.to_addr = parts[2],
		.subject = parts[2],
		.text = parts[3],
		.html = parts[0],
		.date_ms = 1700000000000LL,
	};
	if (message_build(&spec, &msg, err, sizeof(err)) == 0)
		free(msg);
	free(s);
	return 0;
}
