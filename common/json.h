/* json.h - small jansson helpers shared by the validators (showing a JSON
 * value in an error message), and a JSON writer for hot paths: text appended
 * to one growing buffer, no tree, no per-value allocation. */
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

#endif
