/* encode.c - turns a toa_msg_t into its msgpack bytes, field by field as
 * proto/schema.c describes it. Written straight into one growing buffer (the
 * smallest form of each header, as msgpack-c's packer writes it): this runs
 * for every task the broker sends. The encoder checks only what it must to
 * write valid msgpack (no NULL required strings or arrays); the receiving
 * decoder checks the values. */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/schema.h"

typedef struct {
    unsigned char *data;
    size_t length, capacity;
    bool nomem;              /* sticky: the message is then refused */
} s_out_t;

/* Makes room for N more bytes; false (and nomem) when out of memory. */
static bool
s_room (s_out_t *out, size_t n)
{
    if (out->length + n <= out->capacity)
        return true;
    if (out->nomem)
        return false;
    size_t capacity = out->capacity ? out->capacity : 1024;
    while (capacity < out->length + n)
        capacity *= 2;
    unsigned char *bigger = realloc (out->data, capacity);
    if (!bigger) {
        out->nomem = true;
        return false;
    }
    out->data = bigger;
    out->capacity = capacity;
    return true;
}

/* Type byte TAG followed by the BYTES low bytes of VALUE, big-endian. */
static void
s_put_tagged (s_out_t *out, unsigned char tag, uint64_t value, size_t bytes)
{
    if (!s_room (out, 1 + bytes))
        return;
    unsigned char *p = out->data + out->length;
    p[0] = tag;
    for (size_t k = 0; k < bytes; k++)
        p[1 + k] = (unsigned char) (value >> (8 * (bytes - 1 - k)));
    out->length += 1 + bytes;
}

static void
s_put_byte (s_out_t *out, unsigned char byte)
{
    if (s_room (out, 1))
        out->data[out->length++] = byte;
}

static void
s_put_uint (s_out_t *out, uint64_t value)
{
    if (value < 128)
        s_put_byte (out, (unsigned char) value);
    else if (value < 256)
        s_put_tagged (out, 0xcc, value, 1);
    else if (value < 65536)
        s_put_tagged (out, 0xcd, value, 2);
    else if (value < UINT64_C (4294967296))
        s_put_tagged (out, 0xce, value, 4);
    else
        s_put_tagged (out, 0xcf, value, 8);
}

static void
s_put_int (s_out_t *out, int64_t value)
{
    if (value >= 0) {
        s_put_uint (out, (uint64_t) value);
        return;
    }
    uint64_t bits = (uint64_t) value;
    if (value >= -32)
        s_put_byte (out, (unsigned char) bits);
    else if (value >= -128)
        s_put_tagged (out, 0xd0, bits, 1);
    else if (value >= -32768)
        s_put_tagged (out, 0xd1, bits, 2);
    else if (value >= INT64_C (-2147483648))
        s_put_tagged (out, 0xd2, bits, 4);
    else
        s_put_tagged (out, 0xd3, bits, 8);
}

static void
s_put_double (s_out_t *out, double value)
{
    uint64_t bits;
    memcpy (&bits, &value, sizeof bits);
    s_put_tagged (out, 0xcb, bits, 8);
}

/* An array (0x90) or map (0x80) header of COUNT items / pairs. */
static void
s_put_container (s_out_t *out, bool map, size_t count)
{
    if (count < 16)
        s_put_byte (out, (unsigned char) ((map ? 0x80 : 0x90) | count));
    else if (count < 65536)
        s_put_tagged (out, map ? 0xde : 0xdc, count, 2);
    else
        s_put_tagged (out, map ? 0xdf : 0xdd, count, 4);
}

static void
s_put_string (s_out_t *out, const char *text, size_t length)
{
    if (length < 32)
        s_put_byte (out, (unsigned char) (0xa0 | length));
    else if (length < 256)
        s_put_tagged (out, 0xd9, length, 1);
    else if (length < 65536)
        s_put_tagged (out, 0xda, length, 2);
    else
        s_put_tagged (out, 0xdb, length, 4);
    if (length > 0 && s_room (out, length)) {
        memcpy (out->data + out->length, text, length);
        out->length += length;
    }
}

static void
s_put_cstring (s_out_t *out, const char *text)
{
    s_put_string (out, text, strlen (text));
}

static int s_pack_map (s_out_t *out, const toa_schema_table_t *table, const void *base);

static int
s_pack_string (s_out_t *out, const toa_schema_field_t *field, const char *text)
{
    if (!text) {
        if (!(field->flags & TOA_SCHEMA_OPTIONAL))
            return -1;
        s_put_byte (out, 0xc0);
        return 0;
    }
    s_put_cstring (out, text);
    return 0;
}

static int
s_pack_structs (s_out_t *out, const toa_schema_field_t *field, const char *items,
                size_t count)
{
    if (count > 0 && !items)
        return -1;
    s_put_container (out, false, count);
    for (size_t i = 0; i < count; i++)
        if (s_pack_map (out, field->sub, items + i * field->sub->size) != 0)
            return -1;
    return 0;
}

static int
s_pack_strings (s_out_t *out, char *const *items, size_t count)
{
    if (count > 0 && !items)
        return -1;
    s_put_container (out, false, count);
    for (size_t i = 0; i < count; i++) {
        if (!items[i])
            return -1;
        s_put_cstring (out, items[i]);
    }
    return 0;
}

static int
s_pack_value (s_out_t *out, const toa_schema_field_t *field, const void *base)
{
    const void *value = (const char *) base + field->offset;
    const void *aux = (const char *) base + field->aux_offset;
    switch (field->kind) {
    case TOA_SCHEMA_STRING:
        return s_pack_string (out, field, *(char *const *) value);
    case TOA_SCHEMA_INT:
        s_put_int (out, *(const int64_t *) value);
        return 0;
    case TOA_SCHEMA_UINT:
        s_put_uint (out, *(const uint64_t *) value);
        return 0;
    case TOA_SCHEMA_SEED:
        if (!*(const bool *) value)
            s_put_byte (out, 0xc0);
        else
            s_put_uint (out, *(const uint64_t *) aux);
        return 0;
    case TOA_SCHEMA_DOUBLE:
        s_put_double (out, *(const double *) value);
        return 0;
    case TOA_SCHEMA_PEER_KIND:
        s_put_cstring (out, *(const toa_peer_kind_t *) value == TOA_PEER_SCORER ? "scorer"
                                                                                 : "worker");
        return 0;
    case TOA_SCHEMA_FAILURE_CLASS:
        s_put_cstring (out, *(const toa_failure_class_t *) value == TOA_FAILURE_PERMANENT
                                ? "permanent" : "transient");
        return 0;
    case TOA_SCHEMA_STRUCT:
        return s_pack_map (out, field->sub, value);
    case TOA_SCHEMA_STRUCTS:
        return s_pack_structs (out, field, *(char *const *) value, *(const size_t *) aux);
    case TOA_SCHEMA_STRINGS:
        return s_pack_strings (out, *(char **const *) value, *(const size_t *) aux);
    }
    return -1;
}

static int
s_pack_fields (s_out_t *out, const toa_schema_table_t *table, const void *base)
{
    for (size_t i = 0; i < table->n_fields; i++) {
        const toa_schema_field_t *field = &table->fields[i];
        s_put_cstring (out, field->key);
        if (s_pack_value (out, field, base) != 0)
            return -1;
    }
    return 0;
}

static int
s_pack_map (s_out_t *out, const toa_schema_table_t *table, const void *base)
{
    s_put_container (out, true, table->n_fields);
    return s_pack_fields (out, table, base);
}

int
toa_proto_encode (const toa_msg_t *msg, char **data, size_t *size)
{
    if (!msg || !data || !size)
        return -1;
    *data = NULL;
    *size = 0;
    const toa_schema_table_t *table = toa_schema_message (msg->type);
    if (!table)
        return -1;
    s_out_t out = {NULL, 0, 0, false};
    s_put_container (&out, true, 2 + table->n_fields);
    s_put_string (&out, "v", 1);
    s_put_int (&out, TOA_PROTO_VERSION);
    s_put_string (&out, "cmd", 3);
    s_put_cstring (&out, toa_msg_type_name (msg->type));
    if (s_pack_fields (&out, table, &msg->u) != 0 || out.nomem) {
        free (out.data);
        return -1;
    }
    *size = out.length;
    *data = (char *) out.data;
    return 0;
}
