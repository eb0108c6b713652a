/* judge.h - reading the rating out of an LLM judge's reply. Pure: a function
 * of the reply text and the scale, no I/O, no allocation.
 *
 * The rating is looked for with these patterns, the first pattern that
 * occurs anywhere in the reply wins:
 *   1. "[[7]]" (MT-Bench's format, which the default judge template asks
 *      for); spaces inside the brackets are allowed.
 *   2. a keyword "rating", "score" or "grade" (any case, a whole word),
 *      then ":" or "=" or " is " (Markdown ** around either side allowed),
 *      then the number, optionally in [brackets] and optionally followed by
 *      "/MAX" or " out of MAX": "Rating: 7", "**Score:** 7.5", "Grade = [8]",
 *      "score is 7/10".
 *   3. "N/MAX" or "N out of MAX" where MAX is the judge's scale maximum:
 *      "7/10" on a 1..10 scale ("3/4 of the steps" is not a rating).
 *   4. the whole reply (spaces, a trailing "." and Markdown ** trimmed) is
 *      one number: "7", "7.5".
 * A number is digits with an optional decimal part (no sign, no exponent).
 * When "/MAX" or "out of MAX" follows a number, MAX must be the scale's.
 * Every occurrence of the winning pattern must give the same value (a judge
 * that writes "[[3]]" and later "[[8]]" is ambiguous), and the value must lie
 * in 1..SCALE_MAX. Anything else is unparsable: the scorer reports a failure,
 * never a made-up score. */
#ifndef TOA_SCORER_JUDGE_H
#define TOA_SCORER_JUDGE_H

#include <stddef.h>

/* Finds the rating in REPLY (NUL-terminated) on the scale 1..SCALE_MAX.
 * Returns 0 with *SCORE set, or -1 with a short reason in WHY (WHY_SIZE
 * bytes, may be 0) such as "no rating found" or "rating 11 is outside
 * 1..10". */
int toa_judge_parse_score (const char *reply, double scale_max, double *score, char *why,
                           size_t why_size);

#endif
