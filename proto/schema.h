/* schema.h - private to proto/: the field-by-field description of every
 * message (key, type, limits, where it lives in toa_msg_t), read by the
 * encoder, the decoder and toa_msg_clear, so that the three cannot disagree.
 * Not part of the public API; include proto/proto.h instead. */
#ifndef TOA_PROTO_SCHEMA_H
#define TOA_PROTO_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

typedef enum {
    TOA_SCHEMA_STRING,         /* char * */
    TOA_SCHEMA_INT,            /* int64_t within [min, max] */
    TOA_SCHEMA_UINT,           /* uint64_t */
    TOA_SCHEMA_SEED,           /* bool at offset (has it), uint64_t at aux_offset */
    TOA_SCHEMA_DOUBLE,         /* double, finite, within [dmin, dmax] */
    TOA_SCHEMA_PEER_KIND,      /* toa_peer_kind_t as "worker" / "scorer" */
    TOA_SCHEMA_FAILURE_CLASS,  /* toa_failure_class_t as "transient" / "permanent" */
    TOA_SCHEMA_STRUCT,         /* a nested map described by sub */
    TOA_SCHEMA_STRUCTS,        /* array of sub maps: T * at offset, size_t at aux_offset */
    TOA_SCHEMA_STRINGS         /* array of strings: char ** at offset, size_t at aux_offset */
} toa_schema_kind_t;

/* Field flags. */
#define TOA_SCHEMA_OPTIONAL 0x1u   /* may be absent or nil (NULL / has_seed false) */
#define TOA_SCHEMA_JOB_ID   0x2u   /* string must match [A-Za-z0-9_.-]{1,64} */
#define TOA_SCHEMA_EMPTY_OK 0x4u   /* with JOB_ID: "" is allowed too */
#define TOA_SCHEMA_NONEMPTY 0x8u   /* string (or each array string) must not be "" */

#define TOA_SCHEMA_JOB_ID_MAX 64

typedef struct toa_schema_table_s toa_schema_table_t;

typedef struct {
    const char *key;
    toa_schema_kind_t kind;
    size_t offset;             /* of the value in the struct */
    size_t aux_offset;         /* count of an array; the seed of SEED */
    unsigned flags;
    size_t limit;              /* strings: TOA_PROTO_MAX_TEXT or TOA_PROTO_MAX_NAME */
    size_t max_items;          /* arrays: 0 = TOA_PROTO_MAX_ITEMS */
    int64_t min, max;          /* INT */
    double dmin, dmax;         /* DOUBLE */
    const toa_schema_table_t *sub;  /* STRUCT, STRUCTS */
} toa_schema_field_t;

struct toa_schema_table_s {
    const toa_schema_field_t *fields;
    size_t n_fields;           /* at most 32 */
    size_t size;               /* sizeof the struct described */
};

/* The table of a command's fields (its struct is the union member of
 * toa_msg_t, at offset 0 of msg->u); NULL for an invalid type. */
const toa_schema_table_t *toa_schema_message (toa_msg_type_t type);

/* The type whose name is the LEN bytes at NAME, or TOA_MSG_NONE. */
toa_msg_type_t toa_schema_type_by_name (const char *name, size_t len);

/* Frees what the struct at BASE owns according to TABLE (not BASE itself). */
void toa_schema_free (const toa_schema_table_t *table, void *base);

#endif
