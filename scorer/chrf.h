/* chrf.h - sentence-level chrF (Popović 2015), the translation reward of the
 * built-in verifier. A pure function of its two strings: no I/O, no state.
 *
 * It reproduces sacreBLEU 2.x `CHRF().sentence_score (hyp, [ref]).score`
 * with sacreBLEU's defaults: character n-grams of orders 1..6, no word
 * n-grams (plain chrF, not chrF++), beta = 2, case kept, whitespace removed
 * before n-grams are taken (whitespace=False), and "effective order"
 * averaging (eps_smoothing=False): precision and recall are averaged over the
 * orders for which both strings have at least one n-gram, and the F-beta of
 * those averages is the score. */
#ifndef TOA_CHRF_H
#define TOA_CHRF_H

#define TOA_CHRF_CHAR_ORDER 6    /* n = 1..6 character n-grams */
#define TOA_CHRF_BETA       2    /* recall weighs beta^2 = 4 times precision */

/* chrF of HYPOTHESIS against REFERENCE, both NUL-terminated UTF-8, on a
 * 0..100 scale.
 * N-grams are of Unicode code points. Whitespace is every code point that
 * Python's str.split() splits on (ASCII \t\n\v\f\r and space, U+001C..U+001F,
 * U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000) and is dropped. A byte that does not start a well-formed UTF-8
 * sequence counts as one code point of its own (U+DC80 + byte - 0x80, as
 * Python's "surrogateescape" decoding does), so any byte string is scored.
 * An empty (or all-whitespace) hypothesis or reference scores 0.0 (sacreBLEU
 * raises an error for an empty reference string instead).
 * Time and memory are linear in the input lengths.
 * Returns the score, or -1.0 if an argument is NULL or memory runs out. */
double toa_chrf (const char *hypothesis, const char *reference);

#endif
