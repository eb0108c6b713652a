/* fuzz_verify.c - libFuzzer target: the built-in verifiers' inputs, a
 * response and its reference (split at the first NUL byte): math-verify
 * (toa_math_extract_answer, toa_math_parse_number, toa_math_verify) and chrF
 * (toa_chrf). math-verify scores lie in [0, 1], chrF in [0, 100]; an extracted
 * answer is terminated. */
#include <math.h>

#include "fuzz.h"
#include "scorer/chrf.h"
#include "scorer/math_verify.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *response = fuzz_text (data, size);
    size_t first = strlen (response);
    const char *reference = first < size ? response + first + 1 : "";
    char answer[256];
    if (toa_math_extract_answer (response, answer, sizeof answer) == 0)
        fuzz_check (fuzz_terminated (answer, sizeof answer - 1), "fuzz_verify",
                    "unterminated answer");
    double value;
    (void) toa_math_parse_number (response, &value);
    (void) toa_math_parse_number (reference, &value);
    double verdict = toa_math_verify (response, reference);
    fuzz_check (verdict >= 0 && verdict <= 1, "fuzz_verify", "math-verify outside [0, 1]");
    double chrf = toa_chrf (response, reference);
    fuzz_check (chrf == -1.0 || (isfinite (chrf) && chrf >= 0 && chrf <= 100), "fuzz_verify",
                "chrF outside [0, 100]");
    free (response);
    return 0;
}
