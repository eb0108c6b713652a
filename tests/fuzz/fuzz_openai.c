/* fuzz_openai.c - libFuzzer target: an OpenAI-compatible server's 200 reply
 * (toa_openai_parse_reply) and error body (toa_openai_parse_error and its
 * description, quota and n checks), as common/openai.c reads them. A parsed
 * reply has a text or an error; reasons are terminated. */
#include <stdbool.h>

#include "common/openai.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *body = (const char *) data;
    toa_openai_reply_t reply;
    char why[256];
    why[0] = 0;
    if (toa_openai_parse_reply (body, size, &reply, why, sizeof why) != 0)
        fuzz_check (why[0] != 0 && fuzz_terminated (why, sizeof why - 1), "fuzz_openai",
                    "a failed parse without a terminated reason");
    toa_openai_reply_clear (&reply);
    toa_openai_reply_clear (&reply);

    toa_openai_error_t error;
    int rc = toa_openai_parse_error (body, size, &error);
    if (rc != -2) {
        fuzz_check (error.message != NULL, "fuzz_openai", "an error without a message");
        char text[512];
        long status = size ? 400 + data[0] % 200 : 500;
        toa_openai_error_describe (status, &error, text, sizeof text);
        fuzz_check (fuzz_terminated (text, sizeof text - 1), "fuzz_openai",
                    "an unterminated description");
        (void) toa_openai_error_is_quota (&error);
        (void) toa_openai_error_rejects_n (status, &error);
    }
    toa_openai_error_clear (&error);
    toa_openai_error_clear (&error);
    return 0;
}
