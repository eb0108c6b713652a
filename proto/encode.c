/* encode.c - turns a toa_msg_t into its msgpack bytes with msgpack-c, field
 * by field as proto/schema.c describes it. The encoder checks only what it
 * must to write valid msgpack (no NULL required strings or arrays); the
 * receiving decoder checks the values. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/schema.h"

static int s_pack_map (msgpack_packer *packer, const toa_schema_table_t *table, const void *base);

static int
s_pack_cstring (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    if (msgpack_pack_str (packer, len) != 0)
        return -1;
    return msgpack_pack_str_body (packer, text, len);
}

static int
s_pack_string (msgpack_packer *packer, const toa_schema_field_t *field, const char *text)
{
    if (!text) {
        if (!(field->flags & TOA_SCHEMA_OPTIONAL))
            return -1;
        return msgpack_pack_nil (packer);
    }
    return s_pack_cstring (packer, text);
}

static int
s_pack_structs (msgpack_packer *packer, const toa_schema_field_t *field, const char *items,
                size_t count)
{
    if (count > 0 && !items)
        return -1;
    if (msgpack_pack_array (packer, count) != 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (s_pack_map (packer, field->sub, items + i * field->sub->size) != 0)
            return -1;
    return 0;
}

static int
s_pack_strings (msgpack_packer *packer, char *const *items, size_t count)
{
    if (count > 0 && !items)
        return -1;
    if (msgpack_pack_array (packer, count) != 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (!items[i] || s_pack_cstring (packer, items[i]) != 0)
            return -1;
    return 0;
}

static int
s_pack_value (msgpack_packer *packer, const toa_schema_field_t *field, const void *base)
{
    const void *value = (const char *) base + field->offset;
    const void *aux = (const char *) base + field->aux_offset;
    switch (field->kind) {
    case TOA_SCHEMA_STRING:
        return s_pack_string (packer, field, *(char *const *) value);
    case TOA_SCHEMA_INT:
        return msgpack_pack_int64 (packer, *(const int64_t *) value);
    case TOA_SCHEMA_UINT:
        return msgpack_pack_uint64 (packer, *(const uint64_t *) value);
    case TOA_SCHEMA_SEED:
        if (!*(const bool *) value)
            return msgpack_pack_nil (packer);
        return msgpack_pack_uint64 (packer, *(const uint64_t *) aux);
    case TOA_SCHEMA_DOUBLE:
        return msgpack_pack_double (packer, *(const double *) value);
    case TOA_SCHEMA_PEER_KIND:
        return s_pack_cstring (packer, *(const toa_peer_kind_t *) value == TOA_PEER_SCORER
                                           ? "scorer" : "worker");
    case TOA_SCHEMA_FAILURE_CLASS:
        return s_pack_cstring (packer,
                               *(const toa_failure_class_t *) value == TOA_FAILURE_PERMANENT
                                   ? "permanent" : "transient");
    case TOA_SCHEMA_STRUCT:
        return s_pack_map (packer, field->sub, value);
    case TOA_SCHEMA_STRUCTS:
        return s_pack_structs (packer, field, *(char *const *) value, *(const size_t *) aux);
    case TOA_SCHEMA_STRINGS:
        return s_pack_strings (packer, *(char **const *) value, *(const size_t *) aux);
    }
    return -1;
}

static int
s_pack_fields (msgpack_packer *packer, const toa_schema_table_t *table, const void *base)
{
    for (size_t i = 0; i < table->n_fields; i++) {
        const toa_schema_field_t *field = &table->fields[i];
        if (s_pack_cstring (packer, field->key) != 0 || s_pack_value (packer, field, base) != 0)
            return -1;
    }
    return 0;
}

static int
s_pack_map (msgpack_packer *packer, const toa_schema_table_t *table, const void *base)
{
    if (msgpack_pack_map (packer, table->n_fields) != 0)
        return -1;
    return s_pack_fields (packer, table, base);
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
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&packer, 2 + table->n_fields);
    if (rc == 0)
        rc = s_pack_cstring (&packer, "v");
    if (rc == 0)
        rc = msgpack_pack_int (&packer, TOA_PROTO_VERSION);
    if (rc == 0)
        rc = s_pack_cstring (&packer, "cmd");
    if (rc == 0)
        rc = s_pack_cstring (&packer, toa_msg_type_name (msg->type));
    if (rc == 0)
        rc = s_pack_fields (&packer, table, &msg->u);
    if (rc != 0) {
        msgpack_sbuffer_destroy (&buffer);
        return -1;
    }
    *size = buffer.size;
    *data = msgpack_sbuffer_release (&buffer);
    return 0;
}
