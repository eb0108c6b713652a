/* fuzz_retry_after.c - libFuzzer target: the Retry-After and retry-after-ms
 * header values a server sends (toa_http_parse_retry_after), split at the
 * first NUL byte; either may be absent (a leading byte picks which). The
 * wait is -1 (no usable value) or a duration: never below -1. */
#include "common/http.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 4;
    char *text = fuzz_text (data + 1, size - 1);
    size_t first = strlen (text);
    const char *second = first < size - 1 ? text + first + 1 : "";
    const char *ms = which & 1 ? text : NULL;
    const char *header = which & 2 ? second : (which ? NULL : text);
    int64_t now = 1764720000000LL;   /* 2025-12-03, epoch ms */
    int64_t wait = toa_http_parse_retry_after (ms, header, now);
    fuzz_check (wait >= -1, "fuzz_retry_after", "a wait below -1");
    free (text);
    return 0;
}
