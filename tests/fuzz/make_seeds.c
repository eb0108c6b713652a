/* make_seeds.c - writes the fuzzer's seed corpus and dictionary, and prints
 * sample messages in hex (for proto/README.md).
 *   make_seeds corpus DIR    one file per message type, DIR/<cmd>.msgpack,
 *                            and a few variants (optional fields nil, many
 *                            unknown keys of every msgpack type)
 *   make_seeds dict FILE     libFuzzer dictionary: every key and command
 *   make_seeds hex CMD       the sample CMD message as hex on stdout */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/schema.h"
#include "tests/fuzz/samples.h"

static int
s_write (const char *path, const void *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, size, file) != size) {
        fprintf (stderr, "make_seeds: %s: %s\n", path, strerror (errno));
        if (file)
            fclose (file);
        return -1;
    }
    return fclose (file) == 0 ? 0 : -1;
}

/* SAMPLE's bytes in *DATA (free()). */
static int
s_encode_sample (toa_msg_type_t type, char **data, size_t *size)
{
    toa_msg_t msg;
    sample_build (type, &msg);
    int rc = toa_proto_encode (&msg, data, size);
    toa_msg_clear (&msg);
    return rc;
}

static int
s_write_msg (const char *dir, const char *name, toa_msg_t *msg)
{
    char *data, path[4096];
    size_t size;
    int rc = toa_proto_encode (msg, &data, &size);
    toa_msg_clear (msg);
    if (rc != 0)
        return -1;
    snprintf (path, sizeof path, "%s/%s.msgpack", dir, name);
    rc = s_write (path, data, size);
    free (data);
    return rc;
}

static void
s_pack_str (msgpack_packer *packer, const char *text)
{
    msgpack_pack_str (packer, strlen (text));
    msgpack_pack_str_body (packer, text, strlen (text));
}

/* A heartbeat with 20 unknown keys holding every msgpack type. */
static int
s_write_unknown_keys (const char *dir)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    char path[4096], key[8];
    msgpack_sbuffer_init (&buffer);
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 22);
    s_pack_str (&packer, "v");
    msgpack_pack_uint8 (&packer, 1);
    s_pack_str (&packer, "cmd");
    s_pack_str (&packer, "heartbeat");
    for (int i = 0; i < 20; i++) {
        snprintf (key, sizeof key, "x%d", i);
        s_pack_str (&packer, key);
        switch (i % 10) {
        case 0: msgpack_pack_nil (&packer); break;
        case 1: msgpack_pack_true (&packer); break;
        case 2: msgpack_pack_int16 (&packer, -300); break;
        case 3: msgpack_pack_uint32 (&packer, 70000); break;
        case 4: msgpack_pack_float (&packer, 0.25f); break;
        case 5: msgpack_pack_double (&packer, -1e300); break;
        case 6: msgpack_pack_bin (&packer, 2); msgpack_pack_bin_body (&packer, "\0\1", 2); break;
        case 7: msgpack_pack_ext (&packer, 3, 7); msgpack_pack_ext_body (&packer, "abc", 3); break;
        case 8: msgpack_pack_array (&packer, 1); msgpack_pack_map (&packer, 0); break;
        default: s_pack_str (&packer, "text"); break;
        }
    }
    snprintf (path, sizeof path, "%s/unknown-keys.msgpack", dir);
    int rc = s_write (path, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

/* Optional fields nil, empty job (all jobs), empty arrays. */
static int
s_variants (const char *dir)
{
    toa_msg_t msg;
    int rc = 0;
    sample_build (TOA_MSG_GEN_TASK, &msg);
    msg.u.gen_task.has_seed = false;
    rc |= s_write_msg (dir, "gen-task-no-seed", &msg);
    sample_build (TOA_MSG_SCORE_TASK, &msg);
    free (msg.u.score_task.reference);
    msg.u.score_task.reference = NULL;
    rc |= s_write_msg (dir, "score-task-no-reference", &msg);
    sample_build (TOA_MSG_ERROR, &msg);
    free (msg.u.error.job);
    msg.u.error.job = NULL;
    rc |= s_write_msg (dir, "error-no-job", &msg);
    sample_build (TOA_MSG_STATUS_REQUEST, &msg);
    msg.u.job_ref.job[0] = '\0';
    rc |= s_write_msg (dir, "status-request-all", &msg);
    sample_build (TOA_MSG_STATUS, &msg);
    toa_msg_clear (&msg);
    msg.type = TOA_MSG_STATUS;
    rc |= s_write_msg (dir, "status-empty", &msg);
    rc |= s_write_unknown_keys (dir);
    return rc == 0 ? 0 : -1;
}

static int
s_corpus (const char *dir)
{
    if (s_variants (dir) != 0)
        return -1;
    for (int type = TOA_MSG_NONE + 1; type < TOA_MSG_TYPE_COUNT; type++) {
        char *data, path[4096];
        size_t size;
        if (s_encode_sample ((toa_msg_type_t) type, &data, &size) != 0)
            return -1;
        snprintf (path, sizeof path, "%s/%s.msgpack", dir, toa_msg_type_name ((toa_msg_type_t) type));
        int rc = s_write (path, data, size);
        free (data);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* A dictionary entry: the msgpack fixstr of TEXT. */
static void
s_dict_word (FILE *file, const char *text)
{
    fprintf (file, "\"\\x%02x", 0xa0 | (unsigned) strlen (text));
    for (const char *c = text; *c; c++)
        fputc (*c, file);
    fputs ("\"\n", file);
}

static void
s_dict_table (FILE *file, const toa_schema_table_t *table)
{
    for (size_t i = 0; i < table->n_fields; i++) {
        s_dict_word (file, table->fields[i].key);
        if (table->fields[i].sub)
            s_dict_table (file, table->fields[i].sub);
    }
}

static int
s_dict (const char *path)
{
    static const char *const words[] = { "v", "cmd", "worker", "scorer", "transient",
                                         "permanent", "user", "system", "assistant" };
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        s_dict_word (file, words[i]);
    for (int type = TOA_MSG_NONE + 1; type < TOA_MSG_TYPE_COUNT; type++) {
        s_dict_word (file, toa_msg_type_name ((toa_msg_type_t) type));
        s_dict_table (file, toa_schema_message ((toa_msg_type_t) type));
    }
    return fclose (file) == 0 ? 0 : -1;
}

static int
s_hex (const char *name)
{
    toa_msg_type_t type = toa_schema_type_by_name (name, strlen (name));
    char *data;
    size_t size;
    if (type == TOA_MSG_NONE || s_encode_sample (type, &data, &size) != 0) {
        fprintf (stderr, "make_seeds: unknown command %s\n", name);
        return -1;
    }
    for (size_t i = 0; i < size; i++)
        printf ("%02x%s", (unsigned char) data[i], (i + 1) % 16 == 0 || i + 1 == size ? "\n" : " ");
    free (data);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: make_seeds corpus DIR | dict FILE | hex CMD\n");
        return 2;
    }
    int rc = -1;
    if (strcmp (argv[1], "corpus") == 0)
        rc = s_corpus (argv[2]);
    else if (strcmp (argv[1], "dict") == 0)
        rc = s_dict (argv[2]);
    else if (strcmp (argv[1], "hex") == 0)
        rc = s_hex (argv[2]);
    return rc == 0 ? 0 : 1;
}
