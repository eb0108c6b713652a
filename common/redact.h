/* redact.h - what an outside party sent (an LLM or reward server's error
 * body, a reason a peer reports) made safe to become text: cut to a short
 * excerpt and scrubbed of secrets before it reaches a log line, a failure
 * reason or a result.
 *
 * Scrubbed: every secret registered with toa_redact_add (the programs
 * register the API keys and the Redis password their config names), and
 * anything that looks like a credential: "Bearer <token>" (any case) and
 * "sk-<token>" (OpenAI-style keys), whose token becomes "(hidden)". Secrets
 * shorter than 4 bytes are not registered (they would hide common words).
 * The secret list is process-wide: fill it before starting threads. */
#ifndef TOA_REDACT_H
#define TOA_REDACT_H

#include <stddef.h>

#include "common/config.h"

#define TOA_REDACT_EXCERPT 200   /* bytes of an outside body kept in a reason */
#define TOA_REDACT_MIN_SECRET 4  /* shorter secrets are not registered */

/* Registers SECRET (copied) to be scrubbed. Returns 0 (also when SECRET is
 * NULL, too short or known already), or -1 when out of memory. */
int toa_redact_add (const char *secret);

/* Registers the secrets CONFIG names that can be read: every model's
 * api_key_env, reward.api_key_env, the Redis password (password_env or
 * password_file). Returns 0, or -1 when out of memory. */
int toa_redact_add_config (const toa_config_t *config);

/* Forgets every registered secret (tests). */
void toa_redact_reset (void);

/* Writes an excerpt of TEXT (LENGTH bytes, need not be NUL-terminated; NULL
 * is empty) into OUT (SIZE bytes, always terminated when SIZE > 0):
 * scrubbed first, then control bytes turned into spaces, then cut to
 * TOA_REDACT_EXCERPT bytes (and SIZE - 1) at a UTF-8 boundary with "..."
 * appended when cut. Returns OUT. */
char *toa_redact_excerpt (const char *text, size_t length, char *out, size_t size);

/* toa_redact_excerpt into a new string (free()), or NULL when out of memory. */
char *toa_redact_excerpt_dup (const char *text, size_t length);

/* Scrubs TEXT (NUL-terminated) in place; it never grows. NULL is fine. */
void toa_redact_scrub (char *text);

#endif
