/* math_verify.h - the math reward of the built-in verifier: finds the final
 * answer in a model's response and checks it against a gold answer, 1.0 or
 * 0.0. Pure functions of their strings: no I/O, no state, no allocation.
 * Every function takes any NUL-terminated text (huge, binary, unbalanced
 * braces) in time linear in its length, and never reads past its end.
 *
 * Where the answer is taken from, first rule that finds one wins, wherever
 * it stands in the text:
 *   1. "#### 42" (GSM8K): the last "####" that a number follows. A "####"
 *      followed by words (a Markdown heading) is not an answer.
 *   2. "\boxed{...}" (also "\fbox{...}", "\boxed 5"): the last one whose
 *      braces balance, nested braces kept (\boxed{\frac{1}{2}}). Only the
 *      last 8 occurrences are tried.
 *   3. A phrase, case-insensitive: "the answer is 42", "the final answer is:
 *      $42$", "Answer: 42", "**Answer:** 42", "answer = 42"; the last one.
 *      The answer is the number right after it, or, when no number follows,
 *      the text up to the end of its sentence or line ("Answer: B.").
 *      So "The answer is 7. Check: 3 + 4 = 7, times 2 is 14." gives 7: an
 *      explicit phrase beats numbers that come later.
 *   4. Otherwise the last number in the text.
 *
 * What counts as a number (toa_math_parse_number):
 *   an optional sign (+, -, U+2212) and currency ($, \$, £, €, ¥) in either
 *   order; digits with optional thousands separators (",", "{,}" or "\,"
 *   between groups of exactly three digits: 1,000 and 1{,}000 are 1000) and
 *   an optional decimal part (42.00 is 42); or a fraction: 3/4, \frac{3}{4},
 *   \dfrac{3}{4}, \tfrac34, \frac{-3}{4}, a mixed 1\frac{1}{2}; then an
 *   optional percent sign (% or \%, ignored: "12.5%" is 12.5) and any units
 *   that hold no digit ("5 dollars", "7\text{ cm}", "$42$", "42.").
 *   Wrappers around the whole text are removed first ($...$, \(...\),
 *   \[...\], **...**, \boxed{}, \text{}, \textbf{}, \mathrm{}, {...}), and
 *   an equation keeps what follows its last "=" ("x = 5" is 5).
 *   Words for numbers ("seven") are not numbers. */
#ifndef TOA_MATH_VERIFY_H
#define TOA_MATH_VERIFY_H

#include <stddef.h>

/* Relative tolerance of the numeric comparison. */
#define TOA_MATH_TOLERANCE 1e-6

/* Writes the final answer of RESPONSE (rules above) into OUT as a
 * NUL-terminated string, as it is written in the response (e.g. "$1,234.00",
 * "\frac{1}{2}", "B").
 * Returns 0, or -1 if RESPONSE holds no answer, an argument is NULL or
 * OUT_SIZE is 0, or the answer does not fit in OUT_SIZE bytes; on -1 OUT is
 * the empty string whenever OUT_SIZE allows. */
int toa_math_extract_answer (const char *response, char *out, size_t out_size);

/* Parses TEXT as one number (rules above) into *VALUE.
 * Returns 0, or -1 if TEXT is not one finite number (no number, a second
 * number after it, a zero denominator, more than 60 digits) or an argument
 * is NULL; *VALUE is untouched then. */
int toa_math_parse_number (const char *text, double *value);

/* The reward of RESPONSE against GOLD: 1.0 if the answer extracted from
 * RESPONSE equals GOLD, else 0.0.
 * When GOLD is a number, the answer must be a number equal to it: exactly
 * when both are integers (1000000 is not 1000001), else within
 * TOA_MATH_TOLERANCE relative to the larger magnitude (0.3333333 is 1/3).
 * Otherwise both are compared as text after removing the wrappers above and
 * trailing periods, ignoring all whitespace ("x + 1" equals "x+1") and ASCII
 * case ("Yes." equals "yes").
 * NULL arguments give 0.0. */
double toa_math_verify (const char *response, const char *gold);

#endif
