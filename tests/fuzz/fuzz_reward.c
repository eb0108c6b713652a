/* fuzz_reward.c - libFuzzer target: reward servers' replies as the scorer
 * reads them: http-reward (toa_rm_parse_http_reward), vllm-classify and
 * vllm-pooling (toa_rm_parse_vllm). The first byte picks how many queries the
 * batch had (1..16); the rest is the body. A count is -1 or 0..N, and every
 * reward reported as present is a finite number. */
#include <math.h>
#include <stdbool.h>

#include "fuzz.h"
#include "scorer/rm.h"

static void
s_check_rewards (int got, size_t n, const double *rewards, const bool *have, const char *why)
{
    fuzz_check (got >= -1 && got <= (int) n, "fuzz_reward", "count out of range");
    fuzz_check (fuzz_terminated (why, 255), "fuzz_reward", "unterminated reason");
    int present = 0;
    for (size_t i = 0; got > 0 && i < n; i++)
        if (have[i]) {
            present++;
            fuzz_check (isfinite (rewards[i]), "fuzz_reward", "a reward that is not finite");
        }
    fuzz_check (got <= 0 || present == got, "fuzz_reward", "count differs from the flags");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = (size_t) (data[0] % 16) + 1;
    const char *body = (const char *) data + 1;
    size--;
    double rewards[16];
    bool have[16];
    char why[256];
    for (int mode = 0; mode < 3; mode++) {
        memset (have, 0, sizeof have);
        why[0] = 0;
        int got = mode == 0 ? toa_rm_parse_http_reward (body, size, n, rewards, have, why,
                                                        sizeof why)
                            : toa_rm_parse_vllm (body, size, mode == 2, n, rewards, have, why,
                                                 sizeof why);
        s_check_rewards (got, n, rewards, have, why);
    }
    return 0;
}
