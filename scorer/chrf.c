/* chrf.c - sentence-level chrF, as sacreBLEU 2.x computes it with its
 * defaults (see chrf.h). The strings are decoded to code points with
 * whitespace dropped; for each order n the reference's n-grams are counted
 * in an open-addressing hash table and the hypothesis's n-grams are matched
 * against those counts (clipped: an n-gram matches at most as often as the
 * reference has it). Per order that is O(length). */
#include "scorer/chrf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_EMPTY UINT32_MAX

typedef struct {
    uint32_t pos;               /* start of the n-gram in the code points, or S_EMPTY */
    uint32_t hash;              /* low bits of its hash, to skip most compares */
    uint32_t ref_count;         /* times the reference has it */
    uint32_t hyp_seen;          /* hypothesis occurrences met so far */
} s_slot_t;

/* Whether code point CP is one that Python's str.split() splits on. */
static int
s_is_space (uint32_t cp)
{
    if (cp == 0x20 || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f))
        return 1;
    if (cp < 0x85)
        return 0;
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029
        || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* Length of the well-formed UTF-8 sequence at S (Unicode table 3-7) with its
 * code point in *CP, or 0 if S does not start one. */
static size_t
s_utf8_sequence (const unsigned char *s, uint32_t *cp)
{
    unsigned char b = s [0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t length;
    unsigned char low = 0x80, high = 0xbf;      /* range of the 2nd byte */
    if (b >= 0xc2 && b <= 0xdf)
        length = 2;
    else
    if (b >= 0xe0 && b <= 0xef) {
        length = 3;
        if (b == 0xe0) low = 0xa0;
        if (b == 0xed) high = 0x9f;
    }
    else
    if (b >= 0xf0 && b <= 0xf4) {
        length = 4;
        if (b == 0xf0) low = 0x90;
        if (b == 0xf4) high = 0x8f;
    }
    else
        return 0;
    if (s [1] < low || s [1] > high)
        return 0;               /* also stops at the terminating NUL */
    for (size_t i = 2; i < length; i++)
        if (s [i] < 0x80 || s [i] > 0xbf)
            return 0;
    uint32_t value = b & (0x7f >> length);
    for (size_t i = 1; i < length; i++)
        value = (value << 6) | (s [i] & 0x3f);
    *cp = value;
    return length;
}

/* Decodes TEXT into OUT (room for strlen(TEXT) code points), dropping
 * whitespace; a byte that starts no well-formed sequence becomes
 * U+DC00 + byte. Returns the number of code points written. */
static size_t
s_decode (const char *text, uint32_t *out)
{
    const unsigned char *s = (const unsigned char *) text;
    size_t count = 0;
    while (*s) {
        uint32_t cp;
        size_t length = s_utf8_sequence (s, &cp);
        if (length == 0) {
            cp = 0xdc00 + *s;
            length = 1;
        }
        s += length;
        if (!s_is_space (cp))
            out [count++] = cp;
    }
    return count;
}

static uint32_t
s_hash (const uint32_t *gram, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h ^= gram [i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (uint32_t) h;
}

/* The slot holding the N-gram at CPS + POS, or the empty slot where it
 * belongs. The table (MASK + 1 slots) always has empty slots. */
static s_slot_t *
s_find (s_slot_t *table, size_t mask, const uint32_t *cps, uint32_t pos,
        size_t n, uint32_t hash)
{
    size_t i = hash & mask;
    while (table [i].pos != S_EMPTY) {
        if (table [i].hash == hash
        &&  memcmp (cps + table [i].pos, cps + pos, n * sizeof (uint32_t)) == 0)
            break;
        i = (i + 1) & mask;
    }
    return &table [i];
}

/* Clipped matches of order N between the hypothesis (code points 0 ..
 * HYP_LENGTH - 1 of CPS) and the reference (the REF_LENGTH that follow);
 * both have at least N code points. */
static uint64_t
s_matches (const uint32_t *cps, size_t hyp_length, size_t ref_length,
           size_t n, s_slot_t *table, size_t mask)
{
    for (size_t i = 0; i <= mask; i++)
        table [i].pos = S_EMPTY;
    for (size_t i = hyp_length; i + n <= hyp_length + ref_length; i++) {
        uint32_t hash = s_hash (cps + i, n);
        s_slot_t *slot = s_find (table, mask, cps, (uint32_t) i, n, hash);
        if (slot->pos == S_EMPTY) {
            slot->pos = (uint32_t) i;
            slot->hash = hash;
            slot->ref_count = 0;
            slot->hyp_seen = 0;
        }
        slot->ref_count++;
    }
    uint64_t matches = 0;
    for (size_t i = 0; i + n <= hyp_length; i++) {
        uint32_t hash = s_hash (cps + i, n);
        s_slot_t *slot = s_find (table, mask, cps, (uint32_t) i, n, hash);
        if (slot->pos != S_EMPTY && slot->hyp_seen < slot->ref_count) {
            slot->hyp_seen++;
            matches++;
        }
    }
    return matches;
}

/* F-beta of precision and recall averaged over the effective orders, in
 * sacreBLEU's order of floating-point operations so that results agree to
 * the last bit. */
static double
s_f_score (const uint64_t *hyp_grams, const uint64_t *ref_grams,
           const uint64_t *matches)
{
    double factor = (double) TOA_CHRF_BETA * TOA_CHRF_BETA;
    double precision = 0.0, recall = 0.0;
    int effective_order = 0;
    for (int i = 0; i < TOA_CHRF_CHAR_ORDER; i++) {
        if (hyp_grams [i] > 0 && ref_grams [i] > 0) {
            precision += (double) matches [i] / (double) hyp_grams [i];
            recall += (double) matches [i] / (double) ref_grams [i];
            effective_order++;
        }
    }
    if (effective_order == 0)
        return 0.0;
    precision /= effective_order;
    recall /= effective_order;
    if (precision + recall == 0.0)
        return 0.0;
    double score = (1 + factor) * precision * recall;
    score /= factor * precision + recall;
    return 100 * score;
}

double
toa_chrf (const char *hypothesis, const char *reference)
{
    if (!hypothesis || !reference)
        return -1.0;
    size_t hyp_bytes = strlen (hypothesis);
    size_t ref_bytes = strlen (reference);
    if (hyp_bytes + ref_bytes >= UINT32_MAX / 4)
        return -1.0;            /* positions are kept in 32 bits */
    uint32_t *cps = malloc ((hyp_bytes + ref_bytes + 1) * sizeof (uint32_t));
    if (!cps)
        return -1.0;
    size_t hyp_length = s_decode (hypothesis, cps);
    size_t ref_length = s_decode (reference, cps + hyp_length);
    if (hyp_length == 0 || ref_length == 0) {
        free (cps);
        return 0.0;
    }
    size_t capacity = 16;
    while (capacity < 2 * ref_length)
        capacity *= 2;
    s_slot_t *table = malloc (capacity * sizeof (s_slot_t));
    if (!table) {
        free (cps);
        return -1.0;
    }
    uint64_t hyp_grams [TOA_CHRF_CHAR_ORDER] = { 0 };
    uint64_t ref_grams [TOA_CHRF_CHAR_ORDER] = { 0 };
    uint64_t matches [TOA_CHRF_CHAR_ORDER] = { 0 };
    for (size_t n = 1; n <= TOA_CHRF_CHAR_ORDER; n++) {
        if (hyp_length < n || ref_length < n)
            break;
        hyp_grams [n - 1] = hyp_length - n + 1;
        ref_grams [n - 1] = ref_length - n + 1;
        matches [n - 1] = s_matches (cps, hyp_length, ref_length, n,
                                     table, capacity - 1);
    }
    free (table);
    free (cps);
    return s_f_score (hyp_grams, ref_grams, matches);
}
