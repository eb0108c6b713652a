/* decode.c - strict, bounded decoding of toa messages. Every byte is hostile.
 *
 * Two steps, both reading the bytes in place (msgpack-c's unpacker is not
 * used: it allocates for a container's declared count before reading it):
 *  1. a scan checks that the buffer is exactly one msgpack object, that no
 *     container declares more items than bytes remain, that nesting stays
 *     within TOA_PROTO_MAX_DEPTH and that every string, bin and ext fits;
 *  2. the message map is then mapped onto toa_msg_t field by field as
 *     proto/schema.c describes, checking types, limits and values.
 * Arrays of the message grow as their items decode, so memory follows the
 * bytes actually decoded, never a declared count. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/schema.h"

/* ---- reading one msgpack header ---- */

typedef enum {
    S_NIL, S_BOOL, S_UINT, S_INT, S_FLOAT, S_STR, S_BIN, S_EXT, S_ARRAY, S_MAP
} s_type_t;

typedef struct {
    s_type_t type;
    size_t header;           /* bytes before the payload (ext: including its type byte) */
    size_t length;           /* STR/BIN/EXT: payload bytes; ARRAY: items; MAP: pairs */
    uint64_t u;              /* UINT */
    int64_t i;               /* INT */
    double d;                /* FLOAT */
} s_item_t;

static uint64_t
s_load_be (const uint8_t *p, size_t bytes)
{
    uint64_t value = 0;
    for (size_t k = 0; k < bytes; k++)
        value = (value << 8) | p[k];
    return value;
}

static int64_t
s_load_signed (const uint8_t *p, size_t bytes)
{
    uint64_t raw = s_load_be (p, bytes);
    if (bytes < 8 && (raw >> (bytes * 8 - 1)) & 1)
        raw |= ~UINT64_C (0) << (bytes * 8);  /* sign-extend */
    int64_t value;
    memcpy (&value, &raw, sizeof value);
    return value;
}

/* Parses the header at P (AVAIL bytes readable). Returns 0, or -1 when the
 * header itself is cut short or the byte is 0xc1 (never used). */
static int
s_item_read (const uint8_t *p, size_t avail, s_item_t *item)
{
    item->length = 0;        /* the value fields are set for their types only */
    item->u = 0;
    if (avail < 1)
        return -1;
    uint8_t byte = p[0];
    size_t extra = 0;        /* bytes of the header after the type byte */
    if (byte <= 0x7f) {
        item->type = S_UINT, item->u = byte;
    } else if (byte >= 0xe0) {
        item->type = S_INT, item->i = (int8_t) byte;
    } else if (byte <= 0x8f) {
        item->type = S_MAP, item->length = byte & 0x0f;
    } else if (byte <= 0x9f) {
        item->type = S_ARRAY, item->length = byte & 0x0f;
    } else if (byte <= 0xbf) {
        item->type = S_STR, item->length = byte & 0x1f;
    } else {
        static const uint8_t sizes[] = {      /* header bytes after 0xc0..0xdf */
            0, 0, 0, 0, 1, 2, 4, 2, 3, 5, 4, 8, 1, 2, 4, 8,
            1, 2, 4, 8, 1, 1, 1, 1, 1, 1, 2, 4, 2, 4, 2, 4 };
        if (byte == 0xc1)
            return -1;
        extra = sizes[byte - 0xc0];
        if (avail < 1 + extra)
            return -1;
        const uint8_t *q = p + 1;
        switch (byte) {
        case 0xc0: item->type = S_NIL; break;
        case 0xc2: case 0xc3: item->type = S_BOOL; item->u = byte & 1; break;
        case 0xc4: case 0xc5: case 0xc6:
            item->type = S_BIN, item->length = s_load_be (q, extra); break;
        case 0xc7: case 0xc8: case 0xc9:
            item->type = S_EXT, item->length = s_load_be (q, extra - 1); break;
        case 0xca: {
            uint32_t bits = (uint32_t) s_load_be (q, 4);
            float value;
            memcpy (&value, &bits, sizeof value);
            item->type = S_FLOAT, item->d = value;
            break;
        }
        case 0xcb: {
            uint64_t bits = s_load_be (q, 8);
            memcpy (&item->d, &bits, sizeof item->d);
            item->type = S_FLOAT;
            break;
        }
        case 0xcc: case 0xcd: case 0xce: case 0xcf:
            item->type = S_UINT, item->u = s_load_be (q, extra); break;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3:
            item->type = S_INT, item->i = s_load_signed (q, extra); break;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            item->type = S_EXT, item->length = (size_t) 1 << (byte - 0xd4); break;
        case 0xd9: case 0xda: case 0xdb:
            item->type = S_STR, item->length = s_load_be (q, extra); break;
        case 0xdc: case 0xdd:
            item->type = S_ARRAY, item->length = s_load_be (q, extra); break;
        default:   /* 0xde, 0xdf */
            item->type = S_MAP, item->length = s_load_be (q, extra); break;
        }
    }
    item->header = 1 + extra;
    return 0;
}

static bool
s_item_has_payload (const s_item_t *item)
{
    return item->type == S_STR || item->type == S_BIN || item->type == S_EXT;
}

/* ---- the path of the field being read, for error->field ---- */

typedef struct {
    const uint8_t *key;      /* NULL: an array index (or a non-string key) */
    size_t key_len;
    size_t index;
    bool is_index;
} s_part_t;

typedef struct {
    const uint8_t *start, *end;
    const uint8_t *pos;
    s_part_t parts[TOA_PROTO_MAX_DEPTH + 2];
    int depth;               /* parts in use */
    int overflow;            /* pushes beyond parts[], not recorded */
    toa_proto_error_t *error;
    /* The message map's keys, gathered by the scan (so that checking them
     * needs no second walk over the message): up to S_TOP_KEYS of them, or
     * top_many (then s_check_keys walks the map). */
    struct { const uint8_t *text; size_t len; } top[16];
    size_t n_top;
    bool top_many, top_bad_key;  /* more than fit; a key that is not a string */
    const uint8_t *version_at, *command_at;  /* values of "v" and "cmd", or NULL */
} s_ctx_t;

#define S_TOP_KEYS (sizeof ((s_ctx_t *) 0)->top / sizeof ((s_ctx_t *) 0)->top[0])

static void
s_push_key (s_ctx_t *ctx, const uint8_t *key, size_t key_len)
{
    if (ctx->depth >= (int) (sizeof ctx->parts / sizeof ctx->parts[0])) {
        ctx->overflow++;
        return;
    }
    ctx->parts[ctx->depth++] = (s_part_t) { key, key_len, 0, false };
}

static void
s_push_index (s_ctx_t *ctx, size_t index)
{
    if (ctx->depth >= (int) (sizeof ctx->parts / sizeof ctx->parts[0])) {
        ctx->overflow++;
        return;
    }
    ctx->parts[ctx->depth++] = (s_part_t) { NULL, 0, index, true };
}

static void
s_pop (s_ctx_t *ctx)
{
    if (ctx->overflow > 0)
        ctx->overflow--;
    else if (ctx->depth > 0)
        ctx->depth--;
}

static void
s_render_path (const s_ctx_t *ctx, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < ctx->depth && used + 1 < size; k++) {
        const s_part_t *part = &ctx->parts[k];
        if (k > 0)
            out[used++] = '.';
        if (part->is_index) {
            int written = snprintf (out + used, size - used, "%zu", part->index);
            used += written > 0 ? (size_t) written : 0;
            if (used >= size)
                used = size - 1;
        } else if (!part->key) {
            out[used++] = '?';
        } else {
            for (size_t c = 0; c < part->key_len && used + 1 < size; c++)
                out[used++] = isprint (part->key[c]) ? (char) part->key[c] : '?';
        }
        out[used < size ? used : size - 1] = '\0';
    }
}

/* Records STATUS at the current path and returns it. */
static toa_proto_status_t
s_fail (s_ctx_t *ctx, toa_proto_status_t status)
{
    if (ctx->error) {
        ctx->error->status = status;
        s_render_path (ctx, ctx->error->field, sizeof ctx->error->field);
    }
    return status;
}

/* Like s_fail, with KEY appended to the path (a missing or repeated key). */
static toa_proto_status_t
s_fail_key (s_ctx_t *ctx, toa_proto_status_t status, const uint8_t *key, size_t key_len)
{
    s_push_key (ctx, key, key_len);
    s_fail (ctx, status);
    s_pop (ctx);
    return status;
}

/* ---- step 1: the bounded scan ---- */

static toa_proto_status_t s_scan (s_ctx_t *ctx, int depth);

static bool s_key_is (const uint8_t *key, size_t len, const char *name);

/* Notes key K of the message map (DEPTH 1) at KEY_AT (its value at
 * ctx->pos) for s_decode_message. */
static void
s_note_top_key (s_ctx_t *ctx, const s_item_t *key, const uint8_t *key_at)
{
    if (key->type != S_STR) {
        ctx->top_bad_key = true;
        return;
    }
    const uint8_t *text = key_at + key->header;
    if (ctx->n_top == S_TOP_KEYS) {
        ctx->top_many = true;
        return;
    }
    ctx->top[ctx->n_top].text = text;
    ctx->top[ctx->n_top++].len = key->length;
    if (s_key_is (text, key->length, "v"))
        ctx->version_at = ctx->pos;
    else if (s_key_is (text, key->length, "cmd"))
        ctx->command_at = ctx->pos;
}

static toa_proto_status_t
s_scan_map (s_ctx_t *ctx, size_t pairs, int depth)
{
    for (size_t k = 0; k < pairs; k++) {
        s_item_t key;
        const uint8_t *key_at = ctx->pos;
        toa_proto_status_t status = s_scan (ctx, depth);
        if (status != TOA_PROTO_OK)
            return status;
        s_item_read (key_at, (size_t) (ctx->end - key_at), &key);
        if (depth == 1)
            s_note_top_key (ctx, &key, key_at);
        if (key.type == S_STR)
            s_push_key (ctx, key_at + key.header, key.length);
        else
            s_push_key (ctx, NULL, 0);
        status = s_scan (ctx, depth);
        s_pop (ctx);
        if (status != TOA_PROTO_OK)
            return status;
    }
    return TOA_PROTO_OK;
}

/* Checks the object at ctx->pos, which sits inside DEPTH containers, and
 * moves past it. */
static toa_proto_status_t
s_scan (s_ctx_t *ctx, int depth)
{
    s_item_t item;
    size_t avail = (size_t) (ctx->end - ctx->pos);
    if (s_item_read (ctx->pos, avail, &item) != 0)
        return s_fail (ctx, TOA_PROTO_ERR_MALFORMED);
    avail -= item.header;
    if (s_item_has_payload (&item)) {
        if (item.length > avail)
            return s_fail (ctx, TOA_PROTO_ERR_MALFORMED);
        ctx->pos += item.header + item.length;
        return TOA_PROTO_OK;
    }
    ctx->pos += item.header;
    if (item.type != S_ARRAY && item.type != S_MAP)
        return TOA_PROTO_OK;
    if (depth + 1 > TOA_PROTO_MAX_DEPTH)
        return s_fail (ctx, TOA_PROTO_ERR_DEPTH);
    /* Each item takes at least one byte, so a count beyond the bytes left is
     * a lie; refuse it before anything is done for it. */
    if (item.type == S_MAP ? item.length > avail / 2 : item.length > avail)
        return s_fail (ctx, TOA_PROTO_ERR_COUNT);
    if (item.type == S_MAP)
        return s_scan_map (ctx, item.length, depth + 1);
    for (size_t k = 0; k < item.length; k++) {
        s_push_index (ctx, k);
        toa_proto_status_t status = s_scan (ctx, depth + 1);
        s_pop (ctx);
        if (status != TOA_PROTO_OK)
            return status;
    }
    return TOA_PROTO_OK;
}

/* ---- step 2 helpers: reading scanned bytes ---- */

/* Reads the header at ctx->pos and moves past it (not past a payload). */
static toa_proto_status_t
s_next (s_ctx_t *ctx, s_item_t *item)
{
    if (s_item_read (ctx->pos, (size_t) (ctx->end - ctx->pos), item) != 0)
        return s_fail (ctx, TOA_PROTO_ERR_MALFORMED);
    ctx->pos += item->header;
    if (s_item_has_payload (item) && item->length > (size_t) (ctx->end - ctx->pos))
        return s_fail (ctx, TOA_PROTO_ERR_MALFORMED);
    return TOA_PROTO_OK;
}

/* Moves past one whole (scanned) object. */
static toa_proto_status_t
s_skip (s_ctx_t *ctx)
{
    uint64_t pending = 1;
    while (pending > 0) {
        s_item_t item;
        toa_proto_status_t status = s_next (ctx, &item);
        if (status != TOA_PROTO_OK)
            return status;
        pending--;
        if (s_item_has_payload (&item))
            ctx->pos += item.length;
        else if (item.type == S_ARRAY)
            pending += item.length;
        else if (item.type == S_MAP)
            pending += 2 * (uint64_t) item.length;
    }
    return TOA_PROTO_OK;
}

/* Reads a string without copying it. */
static toa_proto_status_t
s_read_str (s_ctx_t *ctx, const uint8_t **text, size_t *len)
{
    s_item_t item;
    toa_proto_status_t status = s_next (ctx, &item);
    if (status != TOA_PROTO_OK)
        return status;
    if (item.type != S_STR)
        return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    *text = ctx->pos;
    *len = item.length;
    ctx->pos += item.length;
    return TOA_PROTO_OK;
}

/* True when LEN bytes at TEXT are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without a NUL byte. ASCII goes eight
 * bytes at a time. */
static bool
s_text_valid (const uint8_t *text, size_t len)
{
    const uint64_t ones = UINT64_C (0x0101010101010101), highs = UINT64_C (0x8080808080808080);
    size_t k = 0;
    while (k < len) {
        if (len - k >= 8) {
            uint64_t word;
            memcpy (&word, text + k, sizeof word);
            /* No byte >= 0x80 and no zero byte: eight ASCII characters. */
            if (!(word & highs) && !((word - ones) & ~word & highs)) {
                k += 8;
                continue;
            }
        }
        uint8_t c = text[k];
        size_t more;
        uint32_t min, code;
        if (c == 0)
            return false;
        if (c < 0x80) {
            k++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, min = 0x80, code = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, min = 0x800, code = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, min = 0x10000, code = c & 0x07;
        } else {
            return false;
        }
        if (len - k - 1 < more)
            return false;
        for (size_t m = 1; m <= more; m++) {
            if ((text[k + m] & 0xc0) != 0x80)
                return false;
            code = (code << 6) | (text[k + m] & 0x3f);
        }
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return false;
        k += more + 1;
    }
    return true;
}

static bool
s_job_id_valid (const uint8_t *text, size_t len)
{
    if (len < 1 || len > TOA_SCHEMA_JOB_ID_MAX)
        return false;
    for (size_t k = 0; k < len; k++) {
        uint8_t c = text[k];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Checks a string against LIMIT and FLAGS and copies it into *OUT. */
static toa_proto_status_t
s_take_string (s_ctx_t *ctx, size_t limit, unsigned flags, char **out)
{
    const uint8_t *text = NULL;
    size_t len = 0;
    toa_proto_status_t status = s_read_str (ctx, &text, &len);
    if (status != TOA_PROTO_OK)
        return status;
    if (len > limit)
        return s_fail (ctx, TOA_PROTO_ERR_STRING_TOO_LONG);
    if (!s_text_valid (text, len))
        return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
    if ((flags & TOA_SCHEMA_NONEMPTY) && len == 0)
        return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
    if ((flags & TOA_SCHEMA_JOB_ID) && !s_job_id_valid (text, len)
        && !(len == 0 && (flags & TOA_SCHEMA_EMPTY_OK)))
        return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
    char *copy = malloc (len + 1);
    if (!copy)
        return s_fail (ctx, TOA_PROTO_ERR_NOMEM);
    memcpy (copy, text, len);
    copy[len] = '\0';
    *out = copy;
    return TOA_PROTO_OK;
}

static toa_proto_status_t
s_read_int (s_ctx_t *ctx, int64_t *value)
{
    s_item_t item;
    toa_proto_status_t status = s_next (ctx, &item);
    if (status != TOA_PROTO_OK)
        return status;
    if (item.type == S_INT)
        *value = item.i;
    else if (item.type != S_UINT)
        return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    else if (item.u > (uint64_t) INT64_MAX)
        return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
    else
        *value = (int64_t) item.u;
    return TOA_PROTO_OK;
}

static toa_proto_status_t
s_read_uint (s_ctx_t *ctx, uint64_t *value)
{
    s_item_t item;
    toa_proto_status_t status = s_next (ctx, &item);
    if (status != TOA_PROTO_OK)
        return status;
    if (item.type == S_UINT)
        *value = item.u;
    else if (item.type != S_INT)
        return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    else if (item.i < 0)
        return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
    else
        *value = (uint64_t) item.i;
    return TOA_PROTO_OK;
}

static toa_proto_status_t
s_read_double (s_ctx_t *ctx, double *value)
{
    s_item_t item;
    toa_proto_status_t status = s_next (ctx, &item);
    if (status != TOA_PROTO_OK)
        return status;
    if (item.type == S_FLOAT)
        *value = item.d;
    else if (item.type == S_UINT)
        *value = (double) item.u;
    else if (item.type == S_INT)
        *value = (double) item.i;
    else
        return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    if (!isfinite (*value))
        return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
    return TOA_PROTO_OK;
}

/* Reads one of NAMES; *INDEX gets its position. */
static toa_proto_status_t
s_read_enum (s_ctx_t *ctx, const char *const *names, size_t n_names, int *index)
{
    const uint8_t *text = NULL;
    size_t len = 0;
    toa_proto_status_t status = s_read_str (ctx, &text, &len);
    if (status != TOA_PROTO_OK)
        return status;
    for (size_t k = 0; k < n_names; k++) {
        if (strlen (names[k]) == len && memcmp (names[k], text, len) == 0) {
            *index = (int) k;
            return TOA_PROTO_OK;
        }
    }
    return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
}

/* True when the next object is nil; moves past it then. */
static bool
s_take_nil (s_ctx_t *ctx)
{
    if (ctx->pos < ctx->end && *ctx->pos == 0xc0) {
        ctx->pos++;
        return true;
    }
    return false;
}

/* Reads an array header of at most MAX items (0: TOA_PROTO_MAX_ITEMS). */
static toa_proto_status_t
s_read_array (s_ctx_t *ctx, size_t max, size_t *count)
{
    s_item_t item;
    toa_proto_status_t status = s_next (ctx, &item);
    if (status != TOA_PROTO_OK)
        return status;
    if (item.type != S_ARRAY)
        return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    if (item.length > (max ? max : TOA_PROTO_MAX_ITEMS))
        return s_fail (ctx, TOA_PROTO_ERR_ARRAY_TOO_LONG);
    *count = item.length;
    return TOA_PROTO_OK;
}

/* Makes room for item *USED of an array of ITEM_SIZE-byte items that will
 * hold TOTAL, growing geometrically; new room is zeroed. */
static int
s_grow (void **items, size_t *capacity, size_t used, size_t total, size_t item_size)
{
    if (used < *capacity)
        return 0;
    size_t wanted = *capacity ? *capacity * 2 : 16;
    if (wanted > total)
        wanted = total;
    void *bigger = realloc (*items, wanted * item_size);
    if (!bigger)
        return -1;
    memset ((char *) bigger + *capacity * item_size, 0, (wanted - *capacity) * item_size);
    *items = bigger;
    *capacity = wanted;
    return 0;
}

/* ---- step 2: mapping the message onto the structs ---- */

typedef struct {
    const uint8_t *text;
    size_t len;
} s_key_t;

static int
s_key_compare (const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    size_t common = x->len < y->len ? x->len : y->len;
    int order = common ? memcmp (x->text, y->text, common) : 0;
    if (order != 0)
        return order;
    return (x->len > y->len) - (x->len < y->len);
}

/* Fails with DUPLICATE_KEY when a key of KEYS (N) repeats. FEW: pairwise
 * (every message of the protocol: cheaper than sorting), else KEYS are
 * sorted. */
static toa_proto_status_t
s_check_duplicates (s_ctx_t *ctx, s_key_t *keys, size_t n, bool few)
{
    if (n > 1 && few) {
        for (size_t k = 1; k < n; k++)
            for (size_t j = 0; j < k; j++)
                if (s_key_compare (&keys[j], &keys[k]) == 0)
                    return s_fail_key (ctx, TOA_PROTO_ERR_DUPLICATE_KEY, keys[k].text,
                                       keys[k].len);
    }
    else if (n > 1) {
        qsort (keys, n, sizeof *keys, s_key_compare);
        for (size_t k = 1; k < n; k++)
            if (s_key_compare (&keys[k - 1], &keys[k]) == 0)
                return s_fail_key (ctx, TOA_PROTO_ERR_DUPLICATE_KEY, keys[k].text, keys[k].len);
    }
    return TOA_PROTO_OK;
}

/* Checks the PAIRS keys of the map whose pairs start at ctx->pos: every key
 * a string, none twice. With VERSION_AT and COMMAND_AT (the message map):
 * where the values of "v" and "cmd" are, NULL when absent. Leaves ctx->pos
 * where it was. */
static toa_proto_status_t
s_check_keys (s_ctx_t *ctx, size_t pairs, const uint8_t **version_at,
              const uint8_t **command_at)
{
    const uint8_t *first = ctx->pos;
    s_key_t local[16];
    s_key_t *keys = local;
    if (pairs > sizeof local / sizeof local[0]) {
        keys = malloc (pairs * sizeof *keys);
        if (!keys)
            return s_fail (ctx, TOA_PROTO_ERR_NOMEM);
    }
    toa_proto_status_t status = TOA_PROTO_OK;
    for (size_t k = 0; k < pairs && status == TOA_PROTO_OK; k++) {
        status = s_read_str (ctx, &keys[k].text, &keys[k].len);
        if (status == TOA_PROTO_OK && version_at) {
            if (s_key_is (keys[k].text, keys[k].len, "v"))
                *version_at = ctx->pos;
            else if (s_key_is (keys[k].text, keys[k].len, "cmd"))
                *command_at = ctx->pos;
        }
        if (status == TOA_PROTO_OK)
            status = s_skip (ctx);
    }
    if (status == TOA_PROTO_OK)
        status = s_check_duplicates (ctx, keys, pairs, keys == local);
    if (keys != local)
        free (keys);
    ctx->pos = first;
    return status;
}

static toa_proto_status_t s_decode_map (s_ctx_t *ctx, const toa_schema_table_t *table,
                                        void *base, bool top);

static toa_proto_status_t
s_decode_structs (s_ctx_t *ctx, const toa_schema_field_t *field, void **items, size_t *count)
{
    size_t total, capacity = 0;
    toa_proto_status_t status = s_read_array (ctx, field->max_items, &total);
    for (size_t k = 0; k < total && status == TOA_PROTO_OK; k++) {
        if (s_grow (items, &capacity, k, total, field->sub->size) != 0)
            return s_fail (ctx, TOA_PROTO_ERR_NOMEM);
        *count = k + 1;      /* so that a half-decoded item is freed too */
        s_push_index (ctx, k);
        status = s_decode_map (ctx, field->sub, (char *) *items + k * field->sub->size, false);
        s_pop (ctx);
    }
    return status;
}

static toa_proto_status_t
s_decode_strings (s_ctx_t *ctx, const toa_schema_field_t *field, char ***items, size_t *count)
{
    size_t total, capacity = 0;
    toa_proto_status_t status = s_read_array (ctx, field->max_items, &total);
    for (size_t k = 0; k < total && status == TOA_PROTO_OK; k++) {
        if (s_grow ((void **) items, &capacity, k, total, sizeof (char *)) != 0)
            return s_fail (ctx, TOA_PROTO_ERR_NOMEM);
        *count = k + 1;
        s_push_index (ctx, k);
        status = s_take_string (ctx, field->limit, field->flags, &(*items)[k]);
        s_pop (ctx);
    }
    return status;
}

static toa_proto_status_t
s_decode_field (s_ctx_t *ctx, const toa_schema_field_t *field, void *base)
{
    static const char *const kinds[] = { "worker", "scorer" };
    static const char *const classes[] = { "transient", "permanent" };
    void *value = (char *) base + field->offset;
    void *aux = (char *) base + field->aux_offset;
    toa_proto_status_t status;
    int index = 0;
    if ((field->flags & TOA_SCHEMA_OPTIONAL) && s_take_nil (ctx))
        return TOA_PROTO_OK;   /* NULL / has_seed false, as zeroed */
    switch (field->kind) {
    case TOA_SCHEMA_STRING:
        return s_take_string (ctx, field->limit, field->flags, (char **) value);
    case TOA_SCHEMA_INT:
        status = s_read_int (ctx, (int64_t *) value);
        if (status == TOA_PROTO_OK
            && (*(int64_t *) value < field->min || *(int64_t *) value > field->max))
            return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
        return status;
    case TOA_SCHEMA_UINT:
        return s_read_uint (ctx, (uint64_t *) value);
    case TOA_SCHEMA_SEED:
        status = s_read_uint (ctx, (uint64_t *) aux);
        *(bool *) value = status == TOA_PROTO_OK;
        return status;
    case TOA_SCHEMA_DOUBLE:
        status = s_read_double (ctx, (double *) value);
        if (status == TOA_PROTO_OK
            && (*(double *) value < field->dmin || *(double *) value > field->dmax))
            return s_fail (ctx, TOA_PROTO_ERR_BAD_VALUE);
        return status;
    case TOA_SCHEMA_PEER_KIND:
        status = s_read_enum (ctx, kinds, 2, &index);
        *(toa_peer_kind_t *) value = index == 1 ? TOA_PEER_SCORER : TOA_PEER_WORKER;
        return status;
    case TOA_SCHEMA_FAILURE_CLASS:
        status = s_read_enum (ctx, classes, 2, &index);
        *(toa_failure_class_t *) value =
            index == 1 ? TOA_FAILURE_PERMANENT : TOA_FAILURE_TRANSIENT;
        return status;
    case TOA_SCHEMA_STRUCT:
        return s_decode_map (ctx, field->sub, value, false);
    case TOA_SCHEMA_STRUCTS:
        return s_decode_structs (ctx, field, (void **) value, (size_t *) aux);
    case TOA_SCHEMA_STRINGS:
        return s_decode_strings (ctx, field, (char ***) value, (size_t *) aux);
    }
    return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
}

static bool
s_key_is (const uint8_t *key, size_t len, const char *name)
{
    return strlen (name) == len && memcmp (key, name, len) == 0;
}

/* Decodes the map at ctx->pos into BASE as TABLE says. TOP: the message map,
 * whose keys are already checked and whose "v" and "cmd" are skipped. */
static toa_proto_status_t
s_decode_map (s_ctx_t *ctx, const toa_schema_table_t *table, void *base, bool top)
{
    s_item_t item;
    toa_proto_status_t status = s_next (ctx, &item);
    if (status != TOA_PROTO_OK)
        return status;
    if (item.type != S_MAP)
        return s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    if (!top && (status = s_check_keys (ctx, item.length, NULL, NULL)) != TOA_PROTO_OK)
        return status;
    uint32_t seen = 0;
    for (size_t k = 0; k < item.length; k++) {
        const uint8_t *key = NULL;
        size_t key_len = 0, f = 0;
        if ((status = s_read_str (ctx, &key, &key_len)) != TOA_PROTO_OK)
            return status;
        while (f < table->n_fields && !s_key_is (key, key_len, table->fields[f].key))
            f++;
        if (f == table->n_fields) {          /* unknown, or "v"/"cmd" at the top */
            if ((status = s_skip (ctx)) != TOA_PROTO_OK)
                return status;
            continue;
        }
        seen |= UINT32_C (1) << f;
        s_push_key (ctx, key, key_len);
        status = s_decode_field (ctx, &table->fields[f], base);
        s_pop (ctx);
        if (status != TOA_PROTO_OK)
            return status;
    }
    for (size_t f = 0; f < table->n_fields; f++) {
        const toa_schema_field_t *field = &table->fields[f];
        if (!(seen & (UINT32_C (1) << f)) && !(field->flags & TOA_SCHEMA_OPTIONAL))
            return s_fail_key (ctx, TOA_PROTO_ERR_MISSING_FIELD,
                               (const uint8_t *) field->key, strlen (field->key));
    }
    return TOA_PROTO_OK;
}

/* Checks "v" (the version) at VERSION_AT and "cmd" at COMMAND_AT (NULL:
 * absent; the one first in the map is checked first) and sets *TYPE. */
static toa_proto_status_t
s_check_header (s_ctx_t *ctx, const uint8_t *version_at, const uint8_t *command_at,
                toa_msg_type_t *type)
{
    *type = TOA_MSG_NONE;
    for (int turn = 0; turn < 2; turn++) {
        bool version_first = !command_at || (version_at && version_at < command_at);
        bool version = turn == 0 ? version_first : !version_first;
        const uint8_t *at = version ? version_at : command_at;
        if (!at)
            continue;
        ctx->pos = at;
        if (version) {
            s_item_t value;
            toa_proto_status_t status = s_next (ctx, &value);
            if (status != TOA_PROTO_OK)
                return status;
            if (!((value.type == S_UINT && value.u == TOA_PROTO_VERSION)
                  || (value.type == S_INT && value.i == TOA_PROTO_VERSION)))
                return s_fail_key (ctx, TOA_PROTO_ERR_VERSION, (const uint8_t *) "v", 1);
        }
        else {
            const uint8_t *text = NULL;
            size_t len = 0;
            if (s_read_str (ctx, &text, &len) != TOA_PROTO_OK
                || (*type = toa_schema_type_by_name ((const char *) text, len)) == TOA_MSG_NONE)
                return s_fail_key (ctx, TOA_PROTO_ERR_COMMAND, (const uint8_t *) "cmd", 3);
        }
    }
    if (!version_at)
        return s_fail_key (ctx, TOA_PROTO_ERR_VERSION, (const uint8_t *) "v", 1);
    if (*type == TOA_MSG_NONE)
        return s_fail_key (ctx, TOA_PROTO_ERR_COMMAND, (const uint8_t *) "cmd", 3);
    return TOA_PROTO_OK;
}

static toa_proto_status_t
s_decode_message (s_ctx_t *ctx, toa_msg_t *msg)
{
    s_item_t item;
    if (s_item_read (ctx->start, (size_t) (ctx->end - ctx->start), &item) != 0
        || item.type != S_MAP)
        return s_fail (ctx, TOA_PROTO_ERR_NOT_MAP);
    ctx->pos = ctx->start + item.header;
    /* The message map's keys and where "v" and "cmd" are: gathered by the
     * scan, or (many keys) by one more walk. */
    toa_proto_status_t status;
    if (ctx->top_many) {
        ctx->version_at = ctx->command_at = NULL;
        status = s_check_keys (ctx, item.length, &ctx->version_at, &ctx->command_at);
    }
    else if (ctx->top_bad_key)
        status = s_fail (ctx, TOA_PROTO_ERR_WRONG_TYPE);
    else {
        s_key_t keys[S_TOP_KEYS];
        for (size_t k = 0; k < ctx->n_top; k++)
            keys[k] = (s_key_t) {ctx->top[k].text, ctx->top[k].len};
        status = s_check_duplicates (ctx, keys, ctx->n_top, true);
    }
    toa_msg_type_t type = TOA_MSG_NONE;
    if (status == TOA_PROTO_OK)
        status = s_check_header (ctx, ctx->version_at, ctx->command_at, &type);
    if (status != TOA_PROTO_OK)
        return status;
    ctx->pos = ctx->start;
    msg->type = type;
    return s_decode_map (ctx, toa_schema_message (type), &msg->u, true);
}

toa_proto_status_t
toa_proto_decode (const void *data, size_t size, toa_msg_t *msg, toa_proto_error_t *error)
{
    s_ctx_t ctx;
    memset (&ctx, 0, sizeof ctx);
    ctx.error = error;
    if (error) {
        error->status = TOA_PROTO_OK;
        error->field[0] = '\0';
    }
    if (!msg)
        return s_fail (&ctx, TOA_PROTO_ERR_MALFORMED);
    memset (msg, 0, sizeof *msg);
    if (size > TOA_PROTO_MAX_MESSAGE)
        return s_fail (&ctx, TOA_PROTO_ERR_TOO_LARGE);
    if (!data || size == 0)
        return s_fail (&ctx, TOA_PROTO_ERR_MALFORMED);
    ctx.start = ctx.pos = data;
    ctx.end = ctx.start + size;
    toa_proto_status_t status = s_scan (&ctx, 0);
    if (status == TOA_PROTO_OK && ctx.pos != ctx.end)
        status = s_fail (&ctx, TOA_PROTO_ERR_TRAILING);
    if (status == TOA_PROTO_OK)
        status = s_decode_message (&ctx, msg);
    if (status != TOA_PROTO_OK)
        toa_msg_clear (msg);
    return status;
}
