/* answer.c - numeric final answers in math responses (see answer.h). */
#include "sim/answer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_is_digit (char c)
{
    return c >= '0' && c <= '9';
}

size_t
toa_sim_answer_parse (const char *text, size_t length, double *value)
{
    size_t at = 0;
    bool negative = false;
    if (at < length && text[at] == '-') {
        negative = true;
        at++;
    }
    if (at < length && text[at] == '$')
        at++;
    if (!negative && at < length && text[at] == '-') {
        negative = true;
        at++;
    }
    if (at >= length || !s_is_digit (text[at]))
        return 0;
    char digits[64];
    size_t used = 0;
    bool seen_point = false;
    while (at < length && used < sizeof digits - 1) {
        char c = text[at];
        if (s_is_digit (c))
            digits[used++] = c;
        else if (c == ',' && !seen_point && at + 1 < length && s_is_digit (text[at + 1]))
            ;   /* thousands separator */
        else if (c == '.' && !seen_point && at + 1 < length && s_is_digit (text[at + 1])) {
            digits[used++] = '.';
            seen_point = true;
        }
        else
            break;
        at++;
    }
    digits[used] = '\0';
    double parsed = strtod (digits, NULL);
    *value = negative ? -parsed : parsed;
    return at;
}

int
toa_sim_answer_parse_all (const char *text, double *value)
{
    if (!text)
        return -1;
    size_t length = strlen (text);
    size_t start = 0;
    while (start < length && (text[start] == ' ' || text[start] == '\t' || text[start] == '\n'))
        start++;
    size_t used = toa_sim_answer_parse (text + start, length - start, value);
    if (used == 0)
        return -1;
    for (size_t at = start + used; at < length; at++)
        if (text[at] != ' ' && text[at] != '\t' && text[at] != '\n' && text[at] != '.')
            return -1;
    return 0;
}

size_t
toa_sim_answer_marked (const char *text, size_t length, double *values, size_t max)
{
    size_t found = 0;
    const char *at = text, *end = text + length;
    while (at + 4 <= end) {
        const char *mark = memchr (at, '#', (size_t) (end - at));
        if (!mark || mark + 4 > end)
            break;
        if (memcmp (mark, "####", 4) != 0) {
            at = mark + 1;
            continue;
        }
        const char *number = mark + 4;
        while (number < end && (*number == ' ' || *number == '\t' || *number == '#'))
            number++;
        double value;
        size_t used = toa_sim_answer_parse (number, (size_t) (end - number), &value);
        if (used > 0) {
            if (found < max)
                values[found] = value;
            found++;
            at = number + used;
        }
        else
            at = mark + 4;
    }
    return found;
}

int
toa_sim_answer_final (const char *text, size_t length, double *value)
{
    double marked[1];
    size_t n_marked = 0;
    /* the last "####" marker wins: find the last one that parses */
    for (size_t at = length; at >= 4; at--) {
        if (memcmp (text + at - 4, "####", 4) != 0)
            continue;
        const char *start = text + at - 4;
        while (start > text && start[-1] == '#')
            start--;
        n_marked = toa_sim_answer_marked (start, length - (size_t) (start - text), marked, 1);
        if (n_marked > 0)
            break;
    }
    if (n_marked > 0) {
        *value = marked[0];
        return 0;
    }
    /* the last number in the text */
    size_t at = length;
    while (at > 0) {
        at--;
        if (!s_is_digit (text[at]))
            continue;
        size_t start = at;
        while (start > 0 && (s_is_digit (text[start - 1]) || text[start - 1] == ','
                             || text[start - 1] == '.'))
            start--;
        while (start < at && !s_is_digit (text[start]))
            start++;
        if (start > 0 && (text[start - 1] == '-' || text[start - 1] == '$'))
            start--;
        if (start > 0 && text[start - 1] == '-')
            start--;
        if (toa_sim_answer_parse (text + start, length - start, value) > 0)
            return 0;
        at = start;
    }
    return -1;
}

bool
toa_sim_answer_equal (double a, double b)
{
    double scale = fmax (1.0, fmax (fabs (a), fabs (b)));
    return fabs (a - b) <= 1e-9 * scale;
}

char *
toa_sim_answer_format (double value, char *buffer, size_t size)
{
    if (value == floor (value) && fabs (value) < 1e15)
        snprintf (buffer, size, "%.0f", value);
    else
        snprintf (buffer, size, "%.6g", value);
    return buffer;
}
