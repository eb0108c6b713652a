/* tokens.c - deterministic token count approximation (see tokens.h). */
#include "sim/tokens.h"

#include <stdbool.h>

#define S_WORD_CHUNK 4

static bool
s_is_space (unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool
s_is_word (unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_' || c >= 0x80;
}

/* Scans tokens from the start; stops after MAX_TOKENS tokens. Returns the
 * number of tokens seen; *END gets the byte offset just past the last one. */
static size_t
s_scan (const char *text, size_t length, size_t max_tokens, size_t *end)
{
    const unsigned char *bytes = (const unsigned char *) text;
    size_t count = 0, at = 0, last_end = 0;
    while (at < length && count < max_tokens) {
        while (at < length && s_is_space (bytes[at]))
            at++;
        if (at >= length)
            break;
        if (s_is_word (bytes[at])) {
            size_t run = 0;
            while (at < length && run < S_WORD_CHUNK && s_is_word (bytes[at])) {
                at++;
                run++;
            }
            /* never split a UTF-8 sequence: continuation bytes stay in the chunk */
            while (at < length && (bytes[at] & 0xC0) == 0x80)
                at++;
        }
        else
            at++;
        count++;
        last_end = at;
    }
    if (end)
        *end = last_end;
    return count;
}

size_t
toa_sim_tokens_count (const char *text, size_t length)
{
    return s_scan (text, length, (size_t) -1, NULL);
}

size_t
toa_sim_tokens_prefix (const char *text, size_t length, size_t max_tokens)
{
    size_t end = 0;
    size_t count = s_scan (text, length, max_tokens, &end);
    if (count < max_tokens)
        return length;
    /* more tokens follow? if not, the whole text fits */
    size_t rest_end = 0;
    if (s_scan (text + end, length - end, 1, &rest_end) == 0)
        return length;
    return end;
}
