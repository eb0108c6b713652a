/* math_verify.c - final-answer extraction and numeric verification for math
 * responses (rules in math_verify.h). Everything works on spans of the
 * caller's text, without copies; each scan moves forward only, so a 1 MB
 * response costs a few linear passes. */
#include "scorer/math_verify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DIGITS  60        /* longer numbers are not numbers */
#define S_BOXED_TRIES 8         /* \boxed occurrences tried, newest first */
#define S_UNWRAP_MAX  8         /* wrapper layers removed */

typedef struct {
    const char *start;
    const char *end;            /* one past the last byte */
} s_span_t;

static int
s_is_digit (char c)
{
    return c >= '0' && c <= '9';
}

static int
s_is_alpha (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char
s_lower (char c)
{
    return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

/* Length of WORD if the text at P (before END) starts with it, else 0. */
static size_t
s_starts (const char *p, const char *end, const char *word)
{
    size_t length = strlen (word);
    if ((size_t) (end - p) < length || memcmp (p, word, length) != 0)
        return 0;
    return length;
}

/* The same, ignoring ASCII case; WORD is lower case. */
static size_t
s_starts_nocase (const char *p, const char *end, const char *word)
{
    size_t length = strlen (word);
    if ((size_t) (end - p) < length)
        return 0;
    for (size_t i = 0; i < length; i++)
        if (s_lower (p [i]) != word [i])
            return 0;
    return length;
}

static s_span_t
s_trim (s_span_t s)
{
    while (s.start < s.end && s_is_space (*s.start))
        s.start++;
    while (s.end > s.start && s_is_space (s.end [-1]))
        s.end--;
    return s;
}

/* The '}' that closes the '{' at OPEN, or NULL if none does before END. */
static const char *
s_closing_brace (const char *open, const char *end)
{
    size_t depth = 0;
    for (const char *p = open; p < end; p++) {
        if (*p == '{')
            depth++;
        else
        if (*p == '}' && --depth == 0)
            return p;
    }
    return NULL;
}

/* Removes layers of $...$, \(...\), \[...\], **...**, and \boxed{...},
 * \text{...}, \textbf{...}, \mathrm{...}, \mathbf{...}, {...} around all of
 * S, and surrounding whitespace. */
static s_span_t
s_unwrap (s_span_t s)
{
    static const char *pairs [][2] = {
        { "$$", "$$" }, { "$", "$" }, { "\\(", "\\)" }, { "\\[", "\\]" }, { "**", "**" }
    };
    static const char *commands [] = {
        "\\boxed{", "\\fbox{", "\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "{"
    };
    s = s_trim (s);
    for (int layer = 0; layer < S_UNWRAP_MAX; layer++) {
        size_t length = (size_t) (s.end - s.start);
        int changed = 0;
        for (size_t i = 0; i < sizeof pairs / sizeof pairs [0] && !changed; i++) {
            size_t open = strlen (pairs [i][0]), close = strlen (pairs [i][1]);
            if (length >= open + close
            &&  s_starts (s.start, s.end, pairs [i][0])
            &&  s_starts (s.end - close, s.end, pairs [i][1])) {
                s.start += open;
                s.end -= close;
                changed = 1;
            }
        }
        for (size_t i = 0; i < sizeof commands / sizeof commands [0] && !changed; i++) {
            size_t open = s_starts (s.start, s.end, commands [i]);
            if (open && s_closing_brace (s.start + open - 1, s.end) == s.end - 1) {
                s.start += open;
                s.end--;
                changed = 1;
            }
        }
        if (!changed)
            break;
        s = s_trim (s);
    }
    return s;
}

/* Length of a thousands separator at P: ",", "{,}" or "\,"; else 0. */
static size_t
s_separator (const char *p, const char *end)
{
    if (p < end && *p == ',')
        return 1;
    size_t length = s_starts (p, end, "{,}");
    return length ? length : s_starts (p, end, "\\,");
}

/* Exactly three digits at P, not followed by a fourth. */
static int
s_is_group (const char *p, const char *end)
{
    return end - p >= 3 && s_is_digit (p [0]) && s_is_digit (p [1])
        && s_is_digit (p [2]) && (end - p == 3 || !s_is_digit (p [3]));
}

/* Scans an unsigned decimal at P: digits with thousands separators, an
 * optional decimal part, or ".5". Returns its end (P if none) with its value
 * in *VALUE and whether it is usable (not too long) in *VALID. */
static const char *
s_scan_decimal (const char *p, const char *end, double *value, int *valid)
{
    char digits [S_MAX_DIGITS + 3];
    size_t used = 0, count = 0;
    const char *q = p;
#define S_PUT(c) do { char c_ = (c); if (used < S_MAX_DIGITS + 1) digits [used++] = c_; count++; } while (0)
    while (q < end && s_is_digit (*q))
        S_PUT (*q++);
    size_t first_group = count;
    if (first_group > 0 && first_group <= 3) {
        size_t separator;
        while ((separator = s_separator (q, end)) != 0 && s_is_group (q + separator, end)) {
            q += separator;
            S_PUT (q [0]);
            S_PUT (q [1]);
            S_PUT (q [2]);
            q += 3;
        }
    }
    if (end - q >= 2 && q [0] == '.' && s_is_digit (q [1])) {
        if (q == p)
            S_PUT ('0');
        S_PUT ('.');
        q++;
        while (q < end && s_is_digit (*q))
            S_PUT (*q++);
    }
#undef S_PUT
    if (q == p)
        return p;
    digits [used] = 0;
    *value = strtod (digits, NULL);
    *valid = count <= S_MAX_DIGITS;
    return q;
}

/* Scans one \frac group at P: "{[sign] decimal}" or a single digit. */
static const char *
s_scan_group (const char *p, const char *end, double *value, int *valid)
{
    if (p < end && s_is_digit (*p)) {
        *value = *p - '0';
        *valid = 1;
        return p + 1;
    }
    if (p >= end || *p != '{')
        return p;
    const char *q = p + 1;
    while (q < end && s_is_space (*q))
        q++;
    int negative = 0;
    if (q < end && (*q == '-' || *q == '+'))
        negative = *q++ == '-';
    const char *number_end = s_scan_decimal (q, end, value, valid);
    if (number_end == q)
        return p;
    q = number_end;
    while (q < end && s_is_space (*q))
        q++;
    if (q >= end || *q != '}')
        return p;
    if (negative)
        *value = -*value;
    return q + 1;
}

/* Scans \frac{a}{b}, \dfrac{a}{b}, \tfrac{a}{b} (or \frac34) at P. */
static const char *
s_scan_frac (const char *p, const char *end, double *value, int *valid)
{
    size_t length = s_starts (p, end, "\\frac");
    if (!length)
        length = s_starts (p, end, "\\dfrac");
    if (!length)
        length = s_starts (p, end, "\\tfrac");
    if (!length)
        return p;
    double numerator, denominator;
    int numerator_valid, denominator_valid;
    const char *q = s_scan_group (p + length, end, &numerator, &numerator_valid);
    if (q == p + length)
        return p;
    const char *r = s_scan_group (q, end, &denominator, &denominator_valid);
    if (r == q)
        return p;
    *valid = numerator_valid && denominator_valid && denominator != 0;
    *value = *valid ? numerator / denominator : 0;
    return r;
}

/* Length of a sign at P (+, -, U+2212), setting *NEGATIVE; else 0. */
static size_t
s_sign (const char *p, const char *end, int *negative)
{
    if (p < end && (*p == '-' || *p == '+')) {
        *negative = *p == '-';
        return 1;
    }
    if (s_starts (p, end, "\xe2\x88\x92")) {
        *negative = 1;
        return 3;
    }
    return 0;
}

/* Length of a currency sign at P ($, \$, £, €, ¥); else 0. */
static size_t
s_currency (const char *p, const char *end)
{
    static const char *signs [] = { "$", "\\$", "\xc2\xa3", "\xe2\x82\xac", "\xc2\xa5" };
    for (size_t i = 0; i < sizeof signs / sizeof signs [0]; i++) {
        size_t length = s_starts (p, end, signs [i]);
        if (length)
            return length;
    }
    return 0;
}

/* Scans the unsigned part of a number at P: \frac{a}{b}, or a decimal
 * optionally followed by \frac{a}{b} (mixed number) or "/b". DOT_OK allows a
 * leading '.'. Returns the end (P if none) with *VALUE and *VALID. */
static const char *
s_scan_magnitude (const char *p, const char *end, int dot_ok,
                  double *value, int *valid)
{
    const char *q = s_scan_frac (p, end, value, valid);
    if (q != p)
        return q;
    if (p >= end || !(s_is_digit (*p) || (*p == '.' && dot_ok)))
        return p;
    q = s_scan_decimal (p, end, value, valid);
    if (q == p)
        return p;
    int integer = memchr (p, '.', (size_t) (q - p)) == NULL;
    double part;
    int part_ok;
    const char *r;
    if (integer && (r = s_scan_frac (q, end, &part, &part_ok)) != q) {
        *value += part;                         /* mixed: 1\frac{1}{2} */
        *valid = *valid && part_ok && part >= 0;
        return r;
    }
    if (end - q >= 2 && q [0] == '/' && s_is_digit (q [1])) {
        r = s_scan_decimal (q + 1, end, &part, &part_ok);
        *valid = *valid && part_ok && part != 0;
        *value = *valid ? *value / part : 0;
        return r;
    }
    return q;
}

/* Scans one number at P (grammar in math_verify.h), PREVIOUS being the byte
 * before P (0 at the start): a sign is taken only after a byte that cannot
 * end an operand ("3-4" holds 3 and 4), a leading '.' only after a byte that
 * is no digit or '.'. Returns the end (P if no number starts at P), with
 * *VALUE and *VALID (finite, not too long, no zero denominator). The end
 * passes everything looked at, valid or not, so a scan resumes after it. */
static const char *
s_scan_number (const char *p, const char *end, char previous,
               double *value, int *valid)
{
    int sign_ok = !(s_is_digit (previous) || s_is_alpha (previous) || previous == '.'
                    || previous == ')' || previous == ']' || previous == '}');
    int negative = 0;
    const char *q = p;
    size_t sign = sign_ok ? s_sign (q, end, &negative) : 0;
    q += sign;
    size_t currency = s_currency (q, end);
    if (currency) {
        q += currency;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (!sign)
            q += s_sign (q, end, &negative);
    }
    int dot_ok = q != p || !(s_is_digit (previous) || previous == '.');
    double number = 0;
    int ok = 0;
    const char *r = s_scan_magnitude (q, end, dot_ok, &number, &ok);
    if (r == q)
        return p;
    q = r;
    while (r < end && (*r == ' ' || *r == '\t'))
        r++;
    if (r < end && *r == '%')
        q = r + 1;
    else
    if (s_starts (r, end, "\\%"))
        q = r + 2;
    *value = negative ? -number : number;
    *valid = ok && isfinite (number);
    return q;
}

/* Parses all of S as one number (toa_math_parse_number's contract). */
static int
s_parse_span (s_span_t s, double *value)
{
    s = s_unwrap (s);
    for (const char *p = s.end; p > s.start; p--)
        if (p [-1] == '=') {
            s.start = p;
            s = s_unwrap (s);
            break;
        }
    if (s.start == s.end)
        return -1;
    double number;
    int valid;
    const char *r = s_scan_number (s.start, s.end, 0, &number, &valid);
    if (r == s.start || !valid)
        return -1;
    for (; r < s.end; r++)
        if (s_is_digit (*r))
            return -1;
    *value = number;
    return 0;
}

/* Skips what may stand between an answer marker and the answer: spaces
 * (newlines too when NEWLINES), '*', ':', \( \[ \text{ \textbf{ \mathbf{. */
static const char *
s_skip_decorations (const char *p, const char *end, int newlines)
{
    static const char *marks [] = { "\\(", "\\[", "\\text{", "\\textbf{", "\\mathbf{" };
    for (;;) {
        if (p < end && (*p == ' ' || *p == '\t' || *p == '*' || *p == ':'
                        || (newlines && s_is_space (*p)))) {
            p++;
            continue;
        }
        size_t length = 0;
        for (size_t i = 0; i < sizeof marks / sizeof marks [0] && !length; i++)
            length = s_starts (p, end, marks [i]);
        if (!length)
            return p;
        p += length;
    }
}

/* A valid number right at P, as a span. */
static int
s_number_at (const char *p, const char *end, s_span_t *answer)
{
    double number;
    int valid;
    const char *r = s_scan_number (p, end, ' ', &number, &valid);
    if (r == p || !valid)
        return 0;
    answer->start = p;
    answer->end = r;
    return 1;
}

/* Rule 1: the last "####" followed by a number on its line. */
static int
s_find_hashes (const char *text, const char *end, s_span_t *answer)
{
    int found = 0;
    const char *p = text;
    while (p < end) {
        if (*p != '#' || !s_starts (p, end, "####")) {
            p++;
            continue;
        }
        while (p < end && *p == '#')
            p++;
        const char *q = s_skip_decorations (p, end, 0);
        if (s_number_at (q, end, answer))
            found = 1;
    }
    return found;
}

/* Rule 2: the last balanced \boxed{...} (or \boxed X) among the last few. */
static int
s_find_boxed (const char *text, const char *end, s_span_t *answer)
{
    const char *recent [S_BOXED_TRIES];         /* ends of the keyword */
    size_t seen = 0;
    for (const char *p = text; p < end; p++) {
        if (*p != '\\')
            continue;
        size_t length = s_starts (p, end, "\\boxed");
        if (!length)
            length = s_starts (p, end, "\\fbox");
        if (length)
            recent [seen++ % S_BOXED_TRIES] = p + length;
    }
    size_t tries = seen < S_BOXED_TRIES ? seen : S_BOXED_TRIES;
    for (size_t i = 0; i < tries; i++) {
        const char *q = recent [(seen - 1 - i) % S_BOXED_TRIES];
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        s_span_t content = { q, q };
        if (q < end && *q == '{') {
            const char *close = s_closing_brace (q, end);
            if (!close)
                continue;
            content.start = q + 1;
            content.end = close;
        }
        else {
            if (q == recent [(seen - 1 - i) % S_BOXED_TRIES])
                continue;                       /* "\boxedfoo" */
            while (content.end < end && !s_is_space (*content.end) && *content.end != '$')
                content.end++;
        }
        content = s_trim (content);
        s_span_t inner = s_unwrap (content);     /* \boxed{\boxed{}} is empty */
        if (inner.start < inner.end) {
            *answer = content;
            return 1;
        }
    }
    return 0;
}

/* End of the answer marker if an "answer" at P (ASCII case ignored) is one:
 * "answer:", "answer =", "answer is", "answer is:", "**Answer:**"; else NULL. */
static const char *
s_after_answer_word (const char *text, const char *p, const char *end)
{
    if (!s_starts_nocase (p, end, "answer") || (p > text && s_is_alpha (p [-1])))
        return NULL;
    const char *q = p + 6;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '*'))
        q++;
    if (q < end && (*q == ':' || *q == '='))
        return q + 1;
    if (s_starts_nocase (q, end, "is") && (end - q == 2 || !(s_is_alpha (q [2]) || s_is_digit (q [2])))) {
        q += 2;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        return (q < end && *q == ':') ? q + 1 : q;
    }
    return NULL;
}

/* Rule 3: the last answer phrase; the number after it, else its sentence. */
static int
s_find_phrase (const char *text, const char *end, s_span_t *answer)
{
    const char *tail = NULL;
    for (const char *p = text; p < end; p++) {
        if (s_lower (*p) != 'a')
            continue;
        const char *after = s_after_answer_word (text, p, end);
        if (after)
            tail = after;
    }
    if (!tail)
        return 0;
    const char *q = s_skip_decorations (tail, end, 1);
    if (s_number_at (q, end, answer))
        return 1;
    const char *r = q;
    while (r < end && *r != '\n' && !(*r == '.' && (r + 1 == end || s_is_space (r [1]))))
        r++;
    s_span_t sentence = s_trim ((s_span_t) { q, r });
    if (sentence.start == sentence.end)
        return 0;
    *answer = sentence;
    return 1;
}

/* Every byte a number can start with (signs, currencies, \frac, digits). */
#define S_NUMBER_STARTS "0123456789.+-$\\\xc2\xe2"

/* Rule 4: the last valid number anywhere. */
static int
s_find_last_number (const char *text, const char *end, s_span_t *answer)
{
    int found = 0;
    char previous = 0;
    const char *p = text;
    while (p < end) {
        double number;
        int valid;
        const char *r = p;
        if (strchr (S_NUMBER_STARTS, *p))     /* fast path for plain text */
            r = s_scan_number (p, end, previous, &number, &valid);
        if (r == p) {
            previous = *p++;
            continue;
        }
        if (valid) {
            answer->start = p;
            answer->end = r;
            found = 1;
        }
        previous = r [-1];
        p = r;
    }
    return found;
}

static int
s_extract (const char *response, s_span_t *answer)
{
    const char *end = response + strlen (response);
    return s_find_hashes (response, end, answer)
        || s_find_boxed (response, end, answer)
        || s_find_phrase (response, end, answer)
        || s_find_last_number (response, end, answer);
}

/* S without wrappers, whitespace and trailing periods. */
static s_span_t
s_normalize_text (s_span_t s)
{
    s = s_unwrap (s);
    while (s.end > s.start && (s.end [-1] == '.' || s_is_space (s.end [-1])))
        s.end--;
    return s_unwrap (s);
}

/* A and B equal after normalizing, whitespace ignored ("x + 1" is "x+1"),
 * ASCII case folded. */
static int
s_text_equal (s_span_t a, s_span_t b)
{
    a = s_normalize_text (a);
    b = s_normalize_text (b);
    if (a.start == a.end || b.start == b.end)
        return 0;
    const char *p = a.start, *q = b.start;
    for (;;) {
        while (p < a.end && s_is_space (*p))
            p++;
        while (q < b.end && s_is_space (*q))
            q++;
        if (p == a.end || q == b.end)
            return p == a.end && q == b.end;
        if (s_lower (*p++) != s_lower (*q++))
            return 0;
    }
}

/* Integers compare exactly (1000000 is not 1000001); others within the
 * relative tolerance. */
static int
s_numbers_equal (double a, double b)
{
    if (a == b)
        return 1;
    if (a == floor (a) && b == floor (b))
        return 0;
    return fabs (a - b) <= TOA_MATH_TOLERANCE * fmax (fabs (a), fabs (b));
}

int
toa_math_extract_answer (const char *response, char *out, size_t out_size)
{
    if (!out || out_size == 0)
        return -1;
    out [0] = 0;
    s_span_t answer;
    if (!response || !s_extract (response, &answer))
        return -1;
    size_t length = (size_t) (answer.end - answer.start);
    if (length + 1 > out_size)
        return -1;
    memcpy (out, answer.start, length);
    out [length] = 0;
    return 0;
}

int
toa_math_parse_number (const char *text, double *value)
{
    if (!text || !value)
        return -1;
    return s_parse_span ((s_span_t) { text, text + strlen (text) }, value);
}

double
toa_math_verify (const char *response, const char *gold)
{
    if (!response || !gold)
        return 0.0;
    s_span_t answer;
    if (!s_extract (response, &answer))
        return 0.0;
    s_span_t expected = { gold, gold + strlen (gold) };
    double gold_number, answer_number;
    if (s_parse_span (expected, &gold_number) == 0)
        return s_parse_span (answer, &answer_number) == 0
            && s_numbers_equal (answer_number, gold_number) ? 1.0 : 0.0;
    return s_text_equal (answer, expected) ? 1.0 : 0.0;
}
