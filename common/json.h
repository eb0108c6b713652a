/* json.h - small jansson helpers shared by the validators (showing a JSON
 * value in an error message), and for hot paths a JSON writer (text appended
 * to one growing buffer, no tree, no per-value allocation) and a JSON reader
 * (a document checked in one pass, then read in place: no tree). */
#ifndef TOA_JSON_H
#define TOA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a number", "true",
 * "false" or "null": for messages that must not repeat the value. */
const char *toa_json_type_name (const json_t *value);

/* VALUE as an error message shows it, in OUT (SIZE bytes): a string as JSON
 * (quoted and escaped, cut after about 46 characters with "..."), a number as
 * written, true/false/null, and "an object" / "an array" for containers.
 * Returns OUT. */
const char *toa_json_show (const json_t *value, char *out, size_t size);

/* --- writer ----------------------------------------------------------------
 * The caller writes the punctuation ("{\"k\":", ",", "]") with
 * toa_json_raw; values come from the typed appenders. Output matches
 * json_dumps (JSON_COMPACT): strings escape '"', '\\' and control bytes only,
 * so UTF-8 passes through (an invalid byte becomes \ufffd: the text stays
 * valid JSON); reals print like jansson (%.*g, ".0" added when integral).
 * Out of memory is sticky: toa_json_writer_take then returns NULL. */
typedef struct {
    char *data;
    size_t length, capacity;
    bool nomem;
} toa_json_writer_t;

#define TOA_JSON_WRITER_INIT {NULL, 0, 0, false}

/* Frees the buffer and resets W; safe twice. */
void toa_json_writer_clear (toa_json_writer_t *w);

/* Empties W, keeping its buffer for the next text. */
void toa_json_writer_reset (toa_json_writer_t *w);

/* The text written (NUL-terminated, the caller frees it) and W emptied; NULL
 * when any append ran out of memory. */
char *toa_json_writer_take (toa_json_writer_t *w);

/* Makes room for N more bytes (to avoid regrowing on a known size). */
void toa_json_writer_reserve (toa_json_writer_t *w, size_t n);

/* Appends N bytes of TEXT as they are (inline when they fit). */
void toa_json_raw_grow (toa_json_writer_t *w, const char *text, size_t n);

static inline void
toa_json_raw (toa_json_writer_t *w, const char *text, size_t n)
{
    if (w->length + n < w->capacity) {
        memcpy (w->data + w->length, text, n);
        w->length += n;
    }
    else
        toa_json_raw_grow (w, text, n);
}

/* Appends a NUL-terminated piece of punctuation or a key as it is (inline:
 * the length of a literal is known at compile time). */
static inline void
toa_json_lit (toa_json_writer_t *w, const char *text)
{
    toa_json_raw (w, text, __builtin_strlen (text));
}

/* Appends TEXT (N bytes) as a JSON string, or null when TEXT is NULL. */
void toa_json_string_n (toa_json_writer_t *w, const char *text, size_t n);

/* Appends NUL-terminated TEXT as a JSON string, or null when TEXT is NULL. */
void toa_json_string (toa_json_writer_t *w, const char *text);

void toa_json_int (toa_json_writer_t *w, int64_t value);

/* A real with PRECISION significant digits, as jansson's
 * JSON_REAL_PRECISION (PRECISION); null when VALUE is not finite. */
void toa_json_real (toa_json_writer_t *w, double value, int precision);

void toa_json_bool (toa_json_writer_t *w, bool value);

/* Appends VALUE as json_dumps (JSON_COMPACT | JSON_ENCODE_ANY | FLAGS)
 * writes it (for the rare parts that are trees). */
void toa_json_value (toa_json_writer_t *w, const json_t *value, size_t flags);

/* --- reader ----------------------------------------------------------------
 * toa_json_read_check validates a whole document; the other functions then
 * read it in place, trusting that check (they stay inside the text whatever
 * it holds, but give meaningless answers on text that failed it). A value
 * is where it starts in its document; an absent one has at == NULL. Strict like jansson's json_loadb: RFC 8259 grammar, strings
 * in valid UTF-8 with no raw control character, no \u0000 and no lone
 * surrogate, nothing but white space after the value. Numbers are checked
 * for their grammar only (an integer too big for int64 is not an error;
 * toa_json_read_int says it is not an int64). */
#define TOA_JSON_READ_MAX_DEPTH 128  /* arrays and objects nested */
#define TOA_JSON_READ_ENDS 64        /* ends of values remembered */

/* A checked document: its text, and where some of its larger values (the
 * containers and long strings of its first levels) end, found by the check
 * so that reading does not scan them again (a fixed table: no allocation;
 * a value not found in it is scanned). */
typedef struct {
    const char *text;
    size_t size;
    const char *starts[TOA_JSON_READ_ENDS];
    const char *ends[TOA_JSON_READ_ENDS];
} toa_json_doc_t;

typedef struct {
    const char *at;                  /* first byte of the value, or NULL */
    const char *end;                 /* end of the document */
    const toa_json_doc_t *doc;
} toa_json_read_t;

/* Checks that TEXT (SIZE bytes) is one JSON value, and fills DOC with it.
 * Returns 0, or -1 with why in WHY (WHY_SIZE bytes): what was wrong and the
 * byte offset, such as "invalid UTF-8 in a string at byte 31"; never a
 * quote of the text. DOC refers to TEXT, which must outlive it. */
int toa_json_read_check (toa_json_doc_t *doc, const char *text, size_t size, char *why,
                         size_t why_size);

/* The document's value (DOC checked first). */
toa_json_read_t toa_json_read_root (const toa_json_doc_t *doc);

/* Its kind: '{', '[', '"', 't', 'f', 'n', '0' (any number), or 0 when absent. */
char toa_json_read_kind (toa_json_read_t value);

/* The last member named KEY of OBJECT (jansson keeps the last of repeated
 * keys too); absent when OBJECT is not an object or has no such member. */
toa_json_read_t toa_json_read_member (toa_json_read_t object, const char *key);

/* The last members of OBJECT named KEYS[0..N) into VALUES[0..N) (absent
 * when it has none), in one pass over OBJECT. */
void toa_json_read_members (toa_json_read_t object, const char *const *keys, size_t n,
                            toa_json_read_t *values);

/* Items of an array: *ITEM gets the first (CURSOR at 0 on the first call)
 * and each next; returns false after the last, or when ARRAY is not an
 * array. CURSOR (start it at NULL) keeps the place. */
bool toa_json_read_item (toa_json_read_t array, const char **cursor, toa_json_read_t *item);

/* The string's text, decoded (escapes resolved), as a new NUL-terminated
 * buffer (free() it); *LENGTH gets its length when LENGTH is not NULL.
 * NULL when VALUE is not a string or out of memory. */
char *toa_json_read_string_dup (toa_json_read_t value, size_t *length);

/* True, with *OUT, when VALUE is an integer (no fraction, no exponent) that
 * fits in int64. */
bool toa_json_read_int (toa_json_read_t value, int64_t *out);

#endif
