/* judge.c - the rating in an LLM judge's reply (see judge.h). */
#include "scorer/judge.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* What one pattern found: its first value, whether later ones disagreed,
 * and a scale mismatch if any. */
typedef struct {
    int count;
    double value;
    bool conflict;
    bool wrong_scale;        /* "N/M" or "N out of M" with M not the scale */
    double wrong_max;
} s_found_t;

static void
s_found_add (s_found_t *found, double value)
{
    if (found->count == 0)
        found->value = value;
    else if (value != found->value)
        found->conflict = true;
    found->count++;
}

/* Parses digits with an optional decimal part at TEXT. Returns the number of
 * bytes taken (0: no number) and the value in *VALUE. */
static size_t
s_number (const char *text, double *value)
{
    size_t at = 0;
    while (isdigit ((unsigned char) text[at]))
        at++;
    if (at == 0 || at > 30)
        return 0;
    if (text[at] == '.' && isdigit ((unsigned char) text[at + 1])) {
        at++;
        while (isdigit ((unsigned char) text[at]))
            at++;
    }
    char buffer[64];
    if (at >= sizeof buffer)
        return 0;
    memcpy (buffer, text, at);
    buffer[at] = 0;
    *value = strtod (buffer, NULL);
    return at;
}

static const char *
s_skip (const char *text, const char *what)
{
    while (*text && strchr (what, *text))
        text++;
    return text;
}

/* After a number at TEXT: "/M" or " out of M". Returns the bytes taken (0
 * when neither follows) and M in *MAX. */
static size_t
s_scale_suffix (const char *text, double *max)
{
    const char *at = s_skip (text, " \t");
    if (*at == '/')
        at = s_skip (at + 1, " \t");
    else if (strncasecmp (at, "out of", 6) == 0 && isspace ((unsigned char) at[6]))
        at = s_skip (at + 6, " \t");
    else
        return 0;
    size_t length = s_number (at, max);
    if (length == 0 || isdigit ((unsigned char) at[length]))
        return 0;
    return (size_t) (at + length - text);
}

/* Pattern 1: [[N]]. */
static void
s_find_brackets (const char *reply, s_found_t *found)
{
    for (const char *at = strstr (reply, "[["); at; at = strstr (at + 2, "[[")) {
        double value;
        const char *cursor = s_skip (at + 2, " \t");
        size_t length = s_number (cursor, &value);
        if (length == 0)
            continue;
        cursor = s_skip (cursor + length, " \t");
        if (strncmp (cursor, "]]", 2) == 0)
            s_found_add (found, value);
    }
}

static bool
s_word_char (char c)
{
    return isalnum ((unsigned char) c) || c == '_';
}

/* Pattern 2: keyword, separator, number. */
static void
s_find_keywords (const char *reply, double scale_max, s_found_t *found)
{
    static const char *const keywords[] = {"rating", "score", "grade"};
    for (const char *at = reply; *at; at++) {
        if (at > reply && s_word_char (at[-1]))
            continue;
        size_t k, length = 0;
        for (k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
            length = strlen (keywords[k]);
            if (strncasecmp (at, keywords[k], length) == 0 && !s_word_char (at[length]))
                break;
        }
        if (k == sizeof keywords / sizeof keywords[0])
            continue;
        const char *cursor = s_skip (at + length, " \t*");
        if (*cursor == ':' || *cursor == '=')
            cursor++;
        else if (strncasecmp (cursor, "is", 2) == 0 && isspace ((unsigned char) cursor[2]))
            cursor += 2;
        else
            continue;
        cursor = s_skip (cursor, " \t*");
        bool bracket = *cursor == '[';
        if (bracket)
            cursor = s_skip (cursor + 1, " \t");
        double value, max;
        size_t taken = s_number (cursor, &value);
        if (taken == 0)
            continue;
        cursor += taken;
        if (bracket) {
            cursor = s_skip (cursor, " \t");
            if (*cursor != ']')
                continue;
            cursor++;
        }
        if (s_scale_suffix (cursor, &max) && max != scale_max) {
            found->wrong_scale = true;
            found->wrong_max = max;
        }
        s_found_add (found, value);
    }
}

/* Pattern 3: N/MAX or N out of MAX with MAX the scale. */
static void
s_find_fractions (const char *reply, double scale_max, s_found_t *found)
{
    for (const char *at = reply; *at; at++) {
        if (!isdigit ((unsigned char) *at)
            || (at > reply && (isdigit ((unsigned char) at[-1]) || at[-1] == '.')))
            continue;
        double value, max;
        size_t taken = s_number (at, &value);
        if (taken == 0) {
            /* Too long to be a rating: skip the whole run of digits. */
            while (isdigit ((unsigned char) at[1]))
                at++;
            continue;
        }
        size_t suffix = s_scale_suffix (at + taken, &max);
        if (suffix && max == scale_max)
            s_found_add (found, value);
        at += taken - 1;
    }
}

/* Pattern 4: the reply is one number. */
static void
s_find_bare (const char *reply, s_found_t *found)
{
    const char *start = s_skip (reply, " \t\r\n*");
    const char *end = start + strlen (start);
    while (end > start && strchr (" \t\r\n*", end[-1]))
        end--;
    if (end > start && end[-1] == '.')
        end--;
    double value;
    size_t taken = s_number (start, &value);
    if (taken > 0 && start + taken == end)
        s_found_add (found, value);
}

int
toa_judge_parse_score (const char *reply, double scale_max, double *score, char *why,
                       size_t why_size)
{
    if (!reply || !score || !(scale_max >= 1)) {
        toa_format_reason (why, why_size, "no reply");
        return -1;
    }
    s_found_t found;
    memset (&found, 0, sizeof found);
    s_find_brackets (reply, &found);
    if (found.count == 0)
        s_find_keywords (reply, scale_max, &found);
    if (found.count == 0)
        s_find_fractions (reply, scale_max, &found);
    if (found.count == 0)
        s_find_bare (reply, &found);
    if (found.count == 0) {
        toa_format_reason (why, why_size, "no rating found in the judge's reply");
        return -1;
    }
    if (found.wrong_scale) {
        toa_format_reason (why, why_size, "rating given out of %g, not out of %g", found.wrong_max,
               scale_max);
        return -1;
    }
    if (found.conflict) {
        toa_format_reason (why, why_size, "ambiguous reply: rating %g and others that differ", found.value);
        return -1;
    }
    if (found.value < 1 || found.value > scale_max) {
        toa_format_reason (why, why_size, "rating %g is outside 1..%g", found.value, scale_max);
        return -1;
    }
    *score = found.value;
    return 0;
}
