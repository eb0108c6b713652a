/* tokens.h - toa-simllm's deterministic token count approximation.
 *
 * A token is a run of up to 4 word bytes (letters, digits, any byte >= 0x80)
 * or one punctuation byte; whitespace belongs to the token that follows it.
 * Counting and truncation use the same rule, so a text cut to N tokens
 * counts N tokens. */
#ifndef TOA_SIM_TOKENS_H
#define TOA_SIM_TOKENS_H

#include <stddef.h>

/* Number of tokens in the LENGTH bytes of TEXT. */
size_t toa_sim_tokens_count (const char *text, size_t length);

/* Length in bytes of the prefix of TEXT holding its first MAX_TOKENS tokens
 * (trailing whitespace excluded); LENGTH if the text has no more tokens. */
size_t toa_sim_tokens_prefix (const char *text, size_t length, size_t max_tokens);

#endif
