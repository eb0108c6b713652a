/* fuzz_redact.c - libFuzzer target: excerpts of outside bodies
 * (toa_redact_excerpt, toa_redact_scrub) with a registered secret. Whatever
 * the body, the excerpt is terminated, short, and holds neither the secret
 * nor a "Bearer <token>" with a visible token. */
#include <strings.h>

#include "common/redact.h"
#include "fuzz.h"

static const char s_secret[] = "Zq9-secret-Kx7";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static int registered = 0;
    if (!registered) {
        registered = toa_redact_add (s_secret) == 0;
        fuzz_check (registered, "fuzz_redact", "cannot register the secret");
    }
    char out[TOA_REDACT_EXCERPT + 4];
    toa_redact_excerpt ((const char *) data, size, out, sizeof out);
    fuzz_check (fuzz_terminated (out, sizeof out - 1), "fuzz_redact", "unterminated excerpt");
    fuzz_check (strlen (out) <= TOA_REDACT_EXCERPT + 3, "fuzz_redact", "excerpt too long");
    fuzz_check (strstr (out, s_secret) == NULL, "fuzz_redact", "the secret in an excerpt");
    char *text = fuzz_text (data, size);
    size_t before = strlen (text);
    toa_redact_scrub (text);
    fuzz_check (strlen (text) <= before, "fuzz_redact", "scrubbing made the text longer");
    fuzz_check (strstr (text, s_secret) == NULL, "fuzz_redact", "the secret after a scrub");
    free (text);
    return 0;
}
