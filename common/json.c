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
    const uint64_t ones = UINT64_C (0x0101010101010101), highs = UINT64_C (0x8080808080808080);
    while (i < n) {
        size_t run = i;
        /* Eight bytes at a time while none needs a thought: no control
         * byte, no byte >= 0x80, no '"', no '\\'. */
        while (n - run >= 8) {
            uint64_t word;
            memcpy (&word, in + run, sizeof word);
            uint64_t quote = word ^ (ones * '"'), slash = word ^ (ones * '\\');
            uint64_t special = ((word - ones * 0x20) & ~word) | word
                               | ((quote - ones) & ~quote) | ((slash - ones) & ~slash);
            if (special & highs)
                break;
            run += 8;
        }
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

/* --- reader ---------------------------------------------------------------- */

#define S_ONES UINT64_C (0x0101010101010101)
#define S_HIGHS UINT64_C (0x8080808080808080)
#define S_TEXT(x) #x
#define S_NUMBER(x) S_TEXT (x)

/* The high bit of each of the 8 bytes at P that is a quote, a backslash,
 * a control byte or >= 0x80: what stops the scan of a string. Nonzero
 * exactly when there is one, and its lowest flagged byte is the first
 * such byte (a subtraction borrows only from a byte that is one). */
static inline uint64_t
s_word_special (const char *p)
{
    uint64_t v;
    memcpy (&v, p, 8);
    uint64_t quote = v ^ (S_ONES * '"'), backslash = v ^ (S_ONES * '\\');
    return (v | (v - S_ONES * 0x20) | (quote - S_ONES) | (backslash - S_ONES)) & S_HIGHS;
}

/* The first byte from P on (before END) that is a quote, a backslash, a
 * control byte or >= 0x80, or END: plain string text is passed 8 bytes at
 * a time. */
static inline const char *
s_plain_run (const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t special = s_word_special (p);
        if (special) {
#if defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll (special) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && (unsigned char) *p >= 0x20 && (unsigned char) *p < 0x80 && *p != '"'
           && *p != '\\')
        p++;
    return p;
}

static const char *
s_space (const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static bool
s_digit (const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* The value of the 4 hex digits at P (4 bytes before END), or -1. */
static long
s_hex4 (const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    long value = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

typedef struct {
    const char *start, *end;
    const char *what;                /* the first error, NULL while none */
    const char *where;
    toa_json_doc_t *doc;
} s_check_t;

#define S_REMEMBER_DEPTH 4           /* levels whose values' ends are kept */
#define S_REMEMBER_BYTES 24          /* strings shorter are scanned again */

static size_t
s_end_slot (const toa_json_doc_t *doc, const char *start)
{
    return (size_t) (((uint64_t) (start - doc->text) * UINT64_C (0x9e3779b97f4a7c15)) >> 58)
           % TOA_JSON_READ_ENDS;
}

/* Keeps where the value at START ends (a later one may take its slot). */
static void
s_remember (toa_json_doc_t *doc, const char *start, const char *end)
{
    size_t slot = s_end_slot (doc, start);
    doc->starts[slot] = start;
    doc->ends[slot] = end;
}

static const char *
s_fail (s_check_t *c, const char *p, const char *what)
{
    if (!c->what) {
        c->what = what;
        c->where = p;
    }
    return NULL;
}

/* Checks the escape at P (its backslash); returns what follows it. */
static const char *
s_check_escape (s_check_t *c, const char *p)
{
    if (p + 1 >= c->end)
        return s_fail (c, p, "a string not closed");
    if (p[1] && strchr ("\"\\/bfnrt", p[1]))
        return p + 2;
    if (p[1] != 'u')
        return s_fail (c, p, "an invalid escape in a string");
    long code = s_hex4 (p + 2, c->end);
    if (code < 0)
        return s_fail (c, p, "an invalid \\u escape in a string");
    if (code == 0)
        return s_fail (c, p, "\\u0000 in a string");
    if (code >= 0xdc00 && code <= 0xdfff)
        return s_fail (c, p, "a lone low surrogate \\u escape in a string");
    if (code < 0xd800 || code > 0xdbff)
        return p + 6;
    long low = c->end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? s_hex4 (p + 8, c->end) : -1;
    if (low < 0xdc00 || low > 0xdfff)
        return s_fail (c, p, "a lone high surrogate \\u escape in a string");
    return p + 12;
}

/* Checks a string whose opening quote is before P; returns what follows it. */
static const char *
s_check_string (s_check_t *c, const char *p)
{
    const char *end = c->end;
    for (;;) {
        p = s_plain_run (p, end);
        if (p >= end)
            return s_fail (c, p, "a string not closed");
        unsigned char ch = (unsigned char) *p;
        if (ch == '"')
            return p + 1;
        if (ch == '\\') {
            if (!(p = s_check_escape (c, p)))
                return NULL;
        }
        else if (ch < 0x20)
            return s_fail (c, p, "a control character in a string");
        else if (ch >= 0x80) {
            size_t length = s_utf8_length ((const unsigned char *) p, (size_t) (end - p));
            if (!length)
                return s_fail (c, p, "invalid UTF-8 in a string");
            p += length;
        }
        else
            p++;
    }
}

static const char *
s_check_number (s_check_t *c, const char *p)
{
    const char *end = c->end, *start = p;
    if (p < end && *p == '-')
        p++;
    if (!s_digit (p, end))
        return s_fail (c, start, "an invalid number");
    if (*p == '0')
        p++;
    else
        while (s_digit (p, end))
            p++;
    if (p < end && *p == '.') {
        if (!s_digit (++p, end))
            return s_fail (c, start, "an invalid number");
        while (s_digit (p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!s_digit (p, end))
            return s_fail (c, start, "an invalid number");
        while (s_digit (p, end))
            p++;
    }
    return p;
}

static const char *s_check_value (s_check_t *c, const char *p, int depth);

/* Checks the object or array at P; returns what follows it. */
static const char *
s_check_container (s_check_t *c, const char *p, int depth)
{
    if (depth >= TOA_JSON_READ_MAX_DEPTH)
        return s_fail (c, p, "arrays or objects nested deeper than "
                             S_NUMBER (TOA_JSON_READ_MAX_DEPTH) " levels");
    const char *end = c->end;
    bool object = *p == '{';
    char close = object ? '}' : ']';
    p = s_space (p + 1, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (object) {
            if (p >= end || *p != '"')
                return s_fail (c, p, "a member name (a string) expected");
            if (!(p = s_check_string (c, p + 1)))
                return NULL;
            p = s_space (p, end);
            if (p >= end || *p != ':')
                return s_fail (c, p, "':' expected");
            p = s_space (p + 1, end);
        }
        if (!(p = s_check_value (c, p, depth + 1)))
            return NULL;
        p = s_space (p, end);
        if (p < end && *p == ',')
            p = s_space (p + 1, end);
        else if (p < end && *p == close)
            return p + 1;
        else
            return s_fail (c, p, object ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static const char *
s_check_value (s_check_t *c, const char *p, int depth)
{
    const char *end = c->end, *after;
    if (p >= end)
        return s_fail (c, p, "a value expected");
    switch (*p) {
    case '{':
    case '[':
        after = s_check_container (c, p, depth);
        if (after && depth <= S_REMEMBER_DEPTH)
            s_remember (c->doc, p, after);
        return after;
    case '"':
        after = s_check_string (c, p + 1);
        if (after && depth <= S_REMEMBER_DEPTH && after - p >= S_REMEMBER_BYTES)
            s_remember (c->doc, p, after);
        return after;
    case 't':
        return end - p >= 4 && memcmp (p, "true", 4) == 0 ? p + 4
                                                            : s_fail (c, p, "a value expected");
    case 'f':
        return end - p >= 5 && memcmp (p, "false", 5) == 0 ? p + 5
                                                             : s_fail (c, p, "a value expected");
    case 'n':
        return end - p >= 4 && memcmp (p, "null", 4) == 0 ? p + 4
                                                            : s_fail (c, p, "a value expected");
    default:
        return *p == '-' || (*p >= '0' && *p <= '9') ? s_check_number (c, p)
                                                    : s_fail (c, p, "a value expected");
    }
}

int
toa_json_read_check (toa_json_doc_t *doc, const char *text, size_t size, char *why,
                     size_t why_size)
{
    memset (doc, 0, sizeof *doc);
    if (!text || size == 0) {
        toa_format_reason (why, why_size, "empty text");
        return -1;
    }
    doc->text = text;
    doc->size = size;
    s_check_t c = {text, text + size, NULL, NULL, doc};
    const char *p = s_check_value (&c, s_space (text, c.end), 0);
    if (p && s_space (p, c.end) != c.end)
        s_fail (&c, s_space (p, c.end), "text after the value");
    if (!c.what)
        return 0;
    if (c.where >= c.end)
        toa_format_reason (why, why_size, "%s, but the text ends (byte %zu)", c.what, size);
    else
        toa_format_reason (why, why_size, "%s at byte %zu", c.what, (size_t) (c.where - text));
    return -1;
}

/* What follows the string whose opening quote is before P (text checked). */
static const char *
s_skip_string (const char *p, const char *end)
{
    while (p < end) {
        p = s_plain_run (p, end);
        if (p >= end)
            break;
        if (*p == '"')
            return p + 1;
        p += *p == '\\' && end - p >= 2 ? 2 : 1;
    }
    return end;
}

/* What follows the value at P of DOC (text checked). */
static const char *
s_skip (const toa_json_doc_t *doc, const char *p, const char *end)
{
    if (p >= end)
        return end;
    size_t slot = s_end_slot (doc, p);
    if (doc->starts[slot] == p)
        return doc->ends[slot];
    if (*p == '"')
        return s_skip_string (p + 1, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' && *p != '\n'
               && *p != '\r' && *p != '\t')
            p++;
        return p;
    }
    size_t depth = 0;
    while (p < end) {
        char ch = *p;
        if (ch == '"') {
            p = s_skip_string (p + 1, end);
            continue;
        }
        if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return end;
}

toa_json_read_t
toa_json_read_root (const toa_json_doc_t *doc)
{
    toa_json_read_t value = {NULL, doc->text ? doc->text + doc->size : NULL, doc};
    if (doc->text && doc->size) {
        const char *p = s_space (doc->text, value.end);
        value.at = p < value.end ? p : NULL;
    }
    return value;
}

char
toa_json_read_kind (toa_json_read_t value)
{
    if (!value.at || value.at >= value.end)
        return 0;
    char c = *value.at;
    return c == '-' || (c >= '0' && c <= '9') ? '0' : c;
}

/* Decodes the string text [P, STOP) (escapes checked) into OUT, which has
 * room for STOP - P bytes; returns the decoded length. */
static size_t
s_decode (const char *p, const char *stop, char *out)
{
    char *o = out;
    while (p < stop) {
        const char *run = p;
        p = memchr (p, '\\', (size_t) (stop - p));
        if (!p)
            p = stop;
        memcpy (o, run, (size_t) (p - run));
        o += p - run;
        if (p >= stop)
            break;
        char escape = p + 1 < stop ? p[1] : 0, plain = 0;
        switch (escape) {
        case '"': case '\\': case '/': plain = escape; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        default: break;
        }
        if (plain) {
            *o++ = plain;
            p += 2;
            continue;
        }
        long code = escape == 'u' ? s_hex4 (p + 2, stop) : -1;
        if (code < 0)
            break;                           /* not checked text: stop */
        p += 6;
        if (code >= 0xd800 && code <= 0xdbff && stop - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            long low = s_hex4 (p + 2, stop);
            if (low >= 0xdc00 && low <= 0xdfff) {
                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                p += 6;
            }
        }
        if (code < 0x80)
            *o++ = (char) code;
        else if (code < 0x800) {
            *o++ = (char) (0xc0 | (code >> 6));
            *o++ = (char) (0x80 | (code & 0x3f));
        }
        else if (code < 0x10000) {
            *o++ = (char) (0xe0 | (code >> 12));
            *o++ = (char) (0x80 | ((code >> 6) & 0x3f));
            *o++ = (char) (0x80 | (code & 0x3f));
        }
        else {
            *o++ = (char) (0xf0 | (code >> 18));
            *o++ = (char) (0x80 | ((code >> 12) & 0x3f));
            *o++ = (char) (0x80 | ((code >> 6) & 0x3f));
            *o++ = (char) (0x80 | (code & 0x3f));
        }
    }
    return (size_t) (o - out);
}

/* Whether the member name [P, STOP) (raw, between its quotes) is KEY. */
static bool
s_name_is (const char *p, const char *stop, const char *key, size_t key_length)
{
    size_t raw = (size_t) (stop - p);
    /* An escape makes the name shorter than its text: a name as long as
     * KEY is KEY only byte for byte (KEY has no backslash), a shorter one
     * never, a longer one only through escapes. */
    if (raw <= key_length)
        return raw == key_length && memcmp (p, key, raw) == 0 && !memchr (key, '\\', raw);
    if (raw > 6 * key_length || !memchr (p, '\\', raw))   /* an escape: at most 6 bytes */
        return false;
    char small[256];
    char *buffer = raw <= sizeof small ? small : malloc (raw);
    if (!buffer)
        return false;
    size_t length = s_decode (p, stop, buffer);
    bool same = length == key_length && memcmp (buffer, key, length) == 0;
    if (buffer != small)
        free (buffer);
    return same;
}

#define S_KEYS_MEASURED 8            /* keys whose lengths are taken once */

void
toa_json_read_members (toa_json_read_t object, const char *const *keys, size_t n,
                       toa_json_read_t *values)
{
    for (size_t k = 0; k < n; k++)
        values[k] = (toa_json_read_t) {NULL, object.end, object.doc};
    if (toa_json_read_kind (object) != '{')
        return;
    size_t lengths[S_KEYS_MEASURED];
    for (size_t k = 0; k < n && k < S_KEYS_MEASURED; k++)
        lengths[k] = keys[k] ? strlen (keys[k]) : 0;
    const char *end = object.end;
    const char *p = s_space (object.at + 1, end);
    while (p < end && *p == '"') {
        const char *name = p + 1;
        p = s_skip_string (name, end);
        const char *name_end = p > name ? p - 1 : name;
        p = s_space (p, end);
        if (p >= end || *p != ':')
            break;
        p = s_space (p + 1, end);
        if (p >= end)
            break;
        for (size_t k = 0; k < n; k++)
            if (keys[k] && s_name_is (name, name_end, keys[k],
                                      k < S_KEYS_MEASURED ? lengths[k] : strlen (keys[k])))
                values[k].at = p;            /* the last one counts */
        p = s_space (s_skip (object.doc, p, end), end);
        if (p >= end || *p != ',')
            break;
        p = s_space (p + 1, end);
    }
}

toa_json_read_t
toa_json_read_member (toa_json_read_t object, const char *key)
{
    toa_json_read_t value;
    toa_json_read_members (object, &key, 1, &value);
    return value;
}

bool
toa_json_read_item (toa_json_read_t array, const char **cursor, toa_json_read_t *item)
{
    if (toa_json_read_kind (array) != '[' || !cursor)
        return false;
    const char *end = array.end;
    const char *p = *cursor ? *cursor : s_space (array.at + 1, end);
    if (p >= end || *p == ']')
        return false;
    item->at = p;
    item->end = end;
    item->doc = array.doc;
    p = s_space (s_skip (array.doc, p, end), end);
    if (p < end && *p == ',')
        p = s_space (p + 1, end);
    else
        p = end;                             /* after the last item */
    *cursor = p;
    return true;
}

char *
toa_json_read_string_dup (toa_json_read_t value, size_t *length)
{
    if (toa_json_read_kind (value) != '"')
        return NULL;
    const char *start = value.at + 1;
    const char *stop = s_skip (value.doc, value.at, value.end);
    if (stop > start && stop[-1] == '"' && stop <= value.end)
        stop--;
    char *text = malloc ((size_t) (stop - start) + 1);
    if (!text)
        return NULL;
    size_t n = s_decode (start, stop, text);
    text[n] = 0;
    if (length)
        *length = n;
    return text;
}

bool
toa_json_read_int (toa_json_read_t value, int64_t *out)
{
    if (toa_json_read_kind (value) != '0')
        return false;
    const char *p = value.at, *end = value.end;
    bool negative = *p == '-';
    if (negative)
        p++;
    uint64_t magnitude = 0, limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    if (!s_digit (p, end))
        return false;
    while (s_digit (p, end)) {
        unsigned digit = (unsigned) (*p++ - '0');
        if (magnitude > (limit - digit) / 10)
            return false;
        magnitude = magnitude * 10 + digit;
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
        return false;
    *out = negative ? (int64_t) (0 - magnitude) : (int64_t) magnitude;
    return true;
}
