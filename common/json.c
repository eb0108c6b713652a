/* json.c - small jansson helpers for error messages (see json.h). */
#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

const char *
toa_json_type_name (const json_t *value)
{
    switch (value ? json_typeof (value) : JSON_NULL) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    default: return "null";
    }
}

const char *
toa_json_show (const json_t *value, char *out, size_t size)
{
    if (!size)
        return out;
    if (json_is_string (value)) {
        char *dump = json_dumps (value, JSON_ENCODE_ANY);
        if (!dump)
            snprintf (out, size, "a string");
        else if (strlen (dump) > 50)
            snprintf (out, size, "%.46s...\"", dump);
        else
            snprintf (out, size, "%s", dump);
        free (dump);
    }
    else if (json_is_integer (value))
        snprintf (out, size, "%lld", (long long) json_integer_value (value));
    else if (json_is_real (value))
        snprintf (out, size, "%g", json_real_value (value));
    else
        snprintf (out, size, "%s", toa_json_type_name (value));
    return out;
}

/* --- writer ---------------------------------------------------------------- */

void
toa_json_writer_clear (toa_json_writer_t *w)
{
    free (w->data);
    memset (w, 0, sizeof *w);
}

void
toa_json_writer_reset (toa_json_writer_t *w)
{
    w->length = 0;
    w->nomem = false;
}

char *
toa_json_writer_take (toa_json_writer_t *w)
{
    if (w->nomem || !w->data) {
        toa_json_writer_clear (w);
        return w->nomem ? NULL : calloc (1, 1);
    }
    w->data[w->length] = '\0';
    char *text = w->data;
    memset (w, 0, sizeof *w);
    return text;
}

/* Room for N more bytes and the NUL; false (sticky) when out of memory. */
static bool
s_room (toa_json_writer_t *w, size_t n)
{
    if (w->nomem)
        return false;
    if (w->length + n + 1 <= w->capacity)
        return true;
    size_t capacity = w->capacity ? w->capacity : 256;
    while (capacity < w->length + n + 1)
        capacity *= 2;
    char *data = realloc (w->data, capacity);
    if (!data) {
        w->nomem = true;
        return false;
    }
    w->data = data;
    w->capacity = capacity;
    return true;
}

void
toa_json_writer_reserve (toa_json_writer_t *w, size_t n)
{
    s_room (w, n);
}

void
toa_json_raw_grow (toa_json_writer_t *w, const char *text, size_t n)
{
    if (!s_room (w, n))
        return;
    memcpy (w->data + w->length, text, n);
    w->length += n;
}

/* Length of the valid UTF-8 sequence at TEXT (N bytes left, first byte
 * >= 0x80), or 0 when it is not one (overlong, surrogate, cut short). */
static size_t
s_utf8_length (const unsigned char *text, size_t n)
{
    unsigned char c = text[0];
    size_t length = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (length == 0 || length > n)
        return 0;
    for (size_t i = 1; i < length; i++)
        if ((text[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && text[1] < 0xa0) || (c == 0xed && text[1] > 0x9f)
        || (c == 0xf0 && text[1] < 0x90) || (c == 0xf4 && text[1] > 0x8f))
        return 0;
    return length;
}

void
toa_json_string_n (toa_json_writer_t *w, const char *text, size_t n)
{
    if (!text) {
        toa_json_raw (w, "null", 4);
        return;
    }
    if (!s_room (w, n + 2))      /* the common case: nothing to escape */
        return;
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *in = (const unsigned char *) text;
    toa_json_raw (w, "\"", 1);
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && in[run] >= 0x20 && in[run] < 0x80 && in[run] != '"'
               && in[run] != '\\')
            run++;
        toa_json_raw (w, text + i, run - i);
        i = run;
        if (i == n)
            break;
        unsigned char c = in[i];
        if (c >= 0x80) {
            size_t length = s_utf8_length (in + i, n - i);
            if (length)
                toa_json_raw (w, text + i, length);
            else
                toa_json_raw (w, "\\ufffd", 6);
            i += length ? length : 1;
            continue;
        }
        char escape[6] = {'\\', 0};
        size_t length = 2;
        switch (c) {
        case '"': escape[1] = '"'; break;
        case '\\': escape[1] = '\\'; break;
        case '\b': escape[1] = 'b'; break;
        case '\f': escape[1] = 'f'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        default:
            memcpy (escape + 1, "u00", 3);
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            length = 6;
        }
        toa_json_raw (w, escape, length);
        i++;
    }
    toa_json_raw (w, "\"", 1);
}

void
toa_json_string (toa_json_writer_t *w, const char *text)
{
    toa_json_string_n (w, text, text ? strlen (text) : 0);
}

void
toa_json_int (toa_json_writer_t *w, int64_t value)
{
    char digits[24];
    toa_json_raw (w, digits, toa_format_int64 (digits, value));
}

void
toa_json_real (toa_json_writer_t *w, double value, int precision)
{
    if (!isfinite (value)) {
        toa_json_raw (w, "null", 4);
        return;
    }
    char text[40];
    toa_json_raw (w, text, toa_format_real (text, value, precision > 0 ? precision : 17));
}

void
toa_json_bool (toa_json_writer_t *w, bool value)
{
    if (value)
        toa_json_raw (w, "true", 4);
    else
        toa_json_raw (w, "false", 5);
}

static int
s_dump_callback (const char *buffer, size_t size, void *data)
{
    toa_json_writer_t *w = data;
    toa_json_raw (w, buffer, size);
    return w->nomem ? -1 : 0;
}

void
toa_json_value (toa_json_writer_t *w, const json_t *value, size_t flags)
{
    if (!value) {
        toa_json_raw (w, "null", 4);
        return;
    }
    if (json_dump_callback (value, s_dump_callback, w, JSON_COMPACT | JSON_ENCODE_ANY | flags)
        != 0)
        w->nomem = true;
}
