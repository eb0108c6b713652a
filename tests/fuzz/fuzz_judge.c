/* fuzz_judge.c - libFuzzer target: an LLM judge's reply as the llm-judge
 * backend reads it (toa_judge_parse_score). The first byte picks the scale
 * (1..20). A parsed rating lies in 1..scale; a failure says why. A reply
 * that loops the parser is a timeout finding (issue 12 attack 4). */
#include "fuzz.h"
#include "scorer/judge.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    double scale = (double) (data[0] % 20) + 1;
    char *reply = fuzz_text (data + 1, size - 1);
    double score = -1;
    char why[256];
    why[0] = 0;
    if (toa_judge_parse_score (reply, scale, &score, why, sizeof why) == 0)
        fuzz_check (score >= 1 && score <= scale, "fuzz_judge", "a rating outside the scale");
    else
        fuzz_check (why[0] != 0, "fuzz_judge", "a failure without a reason");
    free (reply);
    return 0;
}
