/* test_proto.c - unit tests of proto/: every message round-trips field by
 * field, optional fields may be absent or nil, and every decoding error has
 * its own status and field path on hand-built hostile bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "tests/fuzz/samples.h"

/* ---- comparing messages field by field ---- */

static void
s_assert_str (const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal (a, b);
    else
        assert_string_equal (a, b);
}

static void
s_assert_chat (const toa_chat_message_t *a, size_t na, const toa_chat_message_t *b, size_t nb)
{
    assert_int_equal (na, nb);
    for (size_t i = 0; i < na; i++) {
        s_assert_str (a[i].role, b[i].role);
        s_assert_str (a[i].content, b[i].content);
    }
}

static void
s_assert_strings (char *const *a, size_t na, char *const *b, size_t nb)
{
    assert_int_equal (na, nb);
    for (size_t i = 0; i < na; i++)
        s_assert_str (a[i], b[i]);
}

static void
s_assert_job_status (const toa_job_status_t *a, const toa_job_status_t *b)
{
    s_assert_str (a->job, b->job);
    s_assert_str (a->state, b->state);
    s_assert_str (a->method, b->method);
    assert_int_equal (a->total, b->total);
    assert_int_equal (a->done, b->done);
    assert_int_equal (a->fetched, b->fetched);
    assert_int_equal (a->active, b->active);
    assert_int_equal (a->generations, b->generations);
    assert_int_equal (a->failed, b->failed);
    s_assert_str (a->waiting, b->waiting);
}

static void
s_assert_msg_equal (const toa_msg_t *a, const toa_msg_t *b)
{
    assert_int_equal (a->type, b->type);
    switch (a->type) {
    case TOA_MSG_SUBMIT:
        s_assert_str (a->u.submit.job, b->u.submit.job);
        s_assert_str (a->u.submit.method, b->u.submit.method);
        s_assert_str (a->u.submit.settings, b->u.submit.settings);
        assert_int_equal (a->u.submit.n_prompts, b->u.submit.n_prompts);
        for (size_t i = 0; i < a->u.submit.n_prompts; i++) {
            assert_int_equal (a->u.submit.prompts[i].line, b->u.submit.prompts[i].line);
            s_assert_str (a->u.submit.prompts[i].text, b->u.submit.prompts[i].text);
        }
        break;
    case TOA_MSG_SUBMIT_BEGIN:
        s_assert_str (a->u.submit.job, b->u.submit.job);
        s_assert_str (a->u.submit.method, b->u.submit.method);
        s_assert_str (a->u.submit.settings, b->u.submit.settings);
        assert_int_equal (b->u.submit.n_prompts, 0);
        break;
    case TOA_MSG_SUBMIT_CHUNK:
        s_assert_str (a->u.submit_chunk.job, b->u.submit_chunk.job);
        assert_int_equal (a->u.submit_chunk.seq, b->u.submit_chunk.seq);
        assert_int_equal (a->u.submit_chunk.n_prompts, b->u.submit_chunk.n_prompts);
        for (size_t i = 0; i < a->u.submit_chunk.n_prompts; i++) {
            assert_int_equal (a->u.submit_chunk.prompts[i].line,
                              b->u.submit_chunk.prompts[i].line);
            s_assert_str (a->u.submit_chunk.prompts[i].text, b->u.submit_chunk.prompts[i].text);
        }
        break;
    case TOA_MSG_RESULT_ACK:
    case TOA_MSG_SUBMIT_ACK:
        s_assert_str (a->u.result_ack.job, b->u.result_ack.job);
        assert_int_equal (a->u.result_ack.seq, b->u.result_ack.seq);
        break;
    case TOA_MSG_STATUS_REQUEST:
    case TOA_MSG_CANCEL:
    case TOA_MSG_ATTACH:
        s_assert_str (a->u.job_ref.job, b->u.job_ref.job);
        break;
    case TOA_MSG_ACCEPT:
    case TOA_MSG_SUBMIT_END:
        s_assert_str (a->u.accept.job, b->u.accept.job);
        assert_int_equal (a->u.accept.n_prompts, b->u.accept.n_prompts);
        break;
    case TOA_MSG_REJECT:
        s_assert_str (a->u.reject.job, b->u.reject.job);
        s_assert_str (a->u.reject.message, b->u.reject.message);
        assert_int_equal (a->u.reject.n_errors, b->u.reject.n_errors);
        for (size_t i = 0; i < a->u.reject.n_errors; i++) {
            assert_int_equal (a->u.reject.errors[i].line, b->u.reject.errors[i].line);
            s_assert_str (a->u.reject.errors[i].reason, b->u.reject.errors[i].reason);
        }
        break;
    case TOA_MSG_PROGRESS:
        s_assert_job_status (&a->u.progress.status, &b->u.progress.status);
        break;
    case TOA_MSG_RESULT:
        s_assert_str (a->u.result.job, b->u.result.job);
        assert_int_equal (a->u.result.seq, b->u.result.seq);
        s_assert_str (a->u.result.result, b->u.result.result);
        break;
    case TOA_MSG_STATUS:
        assert_int_equal (a->u.status.n_jobs, b->u.status.n_jobs);
        for (size_t i = 0; i < a->u.status.n_jobs; i++)
            s_assert_job_status (&a->u.status.jobs[i], &b->u.status.jobs[i]);
        break;
    case TOA_MSG_ERROR:
        assert_int_equal (a->u.error.code, b->u.error.code);
        s_assert_str (a->u.error.message, b->u.error.message);
        s_assert_str (a->u.error.job, b->u.error.job);
        break;
    case TOA_MSG_READY:
        assert_int_equal (a->u.ready.kind, b->u.ready.kind);
        s_assert_str (a->u.ready.name, b->u.ready.name);
        s_assert_strings (a->u.ready.serves, a->u.ready.n_serves, b->u.ready.serves,
                          b->u.ready.n_serves);
        assert_int_equal (a->u.ready.credit, b->u.ready.credit);
        assert_int_equal (a->u.ready.heartbeat_ms, b->u.ready.heartbeat_ms);
        break;
    case TOA_MSG_GEN_RESULT:
        assert_true (a->u.gen_result.task == b->u.gen_result.task);
        assert_int_equal (a->u.gen_result.attempt, b->u.gen_result.attempt);
        assert_int_equal (a->u.gen_result.n_outputs, b->u.gen_result.n_outputs);
        for (size_t i = 0; i < a->u.gen_result.n_outputs; i++) {
            const toa_gen_output_t *x = &a->u.gen_result.outputs[i];
            const toa_gen_output_t *y = &b->u.gen_result.outputs[i];
            s_assert_str (x->text, y->text);
            s_assert_str (x->finish_reason, y->finish_reason);
            assert_int_equal (x->prompt_tokens, y->prompt_tokens);
            assert_int_equal (x->completion_tokens, y->completion_tokens);
        }
        assert_int_equal (a->u.gen_result.latency_ms, b->u.gen_result.latency_ms);
        break;
    case TOA_MSG_SCORE_RESULT:
        assert_true (a->u.score_result.task == b->u.score_result.task);
        assert_int_equal (a->u.score_result.attempt, b->u.score_result.attempt);
        assert_true (a->u.score_result.reward == b->u.score_result.reward);
        break;
    case TOA_MSG_TASK_FAILURE:
        assert_true (a->u.task_failure.task == b->u.task_failure.task);
        assert_int_equal (a->u.task_failure.attempt, b->u.task_failure.attempt);
        assert_int_equal (a->u.task_failure.failure_class, b->u.task_failure.failure_class);
        s_assert_str (a->u.task_failure.reason, b->u.task_failure.reason);
        assert_int_equal (a->u.task_failure.http_status, b->u.task_failure.http_status);
        break;
    case TOA_MSG_GEN_TASK: {
        const toa_msg_gen_task_t *x = &a->u.gen_task, *y = &b->u.gen_task;
        assert_true (x->task == y->task);
        assert_int_equal (x->attempt, y->attempt);
        s_assert_str (x->job, y->job);
        s_assert_str (x->model, y->model);
        s_assert_chat (x->messages, x->n_messages, y->messages, y->n_messages);
        assert_true (x->temperature == y->temperature);
        assert_true (x->top_p == y->top_p);
        assert_int_equal (x->max_tokens, y->max_tokens);
        assert_int_equal (x->has_seed, y->has_seed);
        if (x->has_seed)
            assert_true (x->seed == y->seed);
        s_assert_strings (x->stop, x->n_stop, y->stop, y->n_stop);
        assert_int_equal (x->n, y->n);
        break;
    }
    case TOA_MSG_SCORE_TASK: {
        const toa_msg_score_task_t *x = &a->u.score_task, *y = &b->u.score_task;
        assert_true (x->task == y->task);
        assert_int_equal (x->attempt, y->attempt);
        s_assert_str (x->job, y->job);
        s_assert_str (x->backend, y->backend);
        s_assert_chat (x->messages, x->n_messages, y->messages, y->n_messages);
        s_assert_str (x->response, y->response);
        s_assert_str (x->reference, y->reference);
        break;
    }
    case TOA_MSG_DISCONNECT:
        s_assert_str (a->u.disconnect.reason, b->u.disconnect.reason);
        break;
    default:
        break;
    }
}

static bool
s_all_zero (const void *data, size_t size)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++)
        if (bytes[i])
            return false;
    return true;
}

/* DATA (SIZE bytes) is one msgpack object that msgpack-c reads and packs
 * again to the same bytes: every header in its smallest form, as msgpack-c's
 * packer writes it. */
static void
s_assert_canonical (const char *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    assert_int_equal (msgpack_unpack_next (&unpacked, data, size, &offset),
                      MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (offset, size);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_object (&packer, unpacked.data), 0);
    assert_int_equal (buffer.size, size);
    assert_memory_equal (buffer.data, data, size);
    msgpack_sbuffer_destroy (&buffer);
    msgpack_unpacked_destroy (&unpacked);
}

/* Encodes MSG, decodes it into *OUT and checks it decoded OK. */
static void
s_round_trip (const toa_msg_t *msg, toa_msg_t *out)
{
    char *data = NULL;
    size_t size = 0;
    toa_proto_error_t error;
    assert_int_equal (toa_proto_encode (msg, &data, &size), 0);
    assert_non_null (data);
    s_assert_canonical (data, size);
    toa_proto_status_t status = toa_proto_decode (data, size, out, &error);
    if (status != TOA_PROTO_OK)
        fail_msg ("%s: %s at '%s'", toa_msg_type_name (msg->type),
                  toa_proto_status_text (status), error.field);
    assert_int_equal (error.status, TOA_PROTO_OK);
    free (data);
}

/* ---- round trips ---- */

static void
test_round_trip_every_type (void **state)
{
    (void) state;
    for (int type = TOA_MSG_NONE + 1; type < TOA_MSG_TYPE_COUNT; type++) {
        toa_msg_t msg, back;
        sample_build ((toa_msg_type_t) type, &msg);
        s_round_trip (&msg, &back);
        s_assert_msg_equal (&msg, &back);
        /* The same message encodes to the same bytes again. */
        char *first, *second;
        size_t first_size, second_size;
        assert_int_equal (toa_proto_encode (&msg, &first, &first_size), 0);
        assert_int_equal (toa_proto_encode (&back, &second, &second_size), 0);
        assert_int_equal (first_size, second_size);
        assert_memory_equal (first, second, first_size);
        free (first);
        free (second);
        toa_msg_clear (&msg);
        toa_msg_clear (&back);
        assert_true (s_all_zero (&back, sizeof back));
        toa_msg_clear (&back);   /* safe twice */
    }
}

static void
test_round_trip_empty_arrays_and_extremes (void **state)
{
    (void) state;
    toa_msg_t msg, back;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_GEN_TASK;
    msg.u.gen_task.task = 0;
    msg.u.gen_task.attempt = INT64_MAX;
    msg.u.gen_task.job = sample_text ("a");
    msg.u.gen_task.model = sample_text ("m");
    msg.u.gen_task.temperature = 0.0;
    msg.u.gen_task.top_p = 1.0;
    msg.u.gen_task.n = 1;
    s_round_trip (&msg, &back);
    s_assert_msg_equal (&msg, &back);
    assert_int_equal (back.u.gen_task.n_messages, 0);
    assert_null (back.u.gen_task.messages);
    assert_int_equal (back.u.gen_task.n_stop, 0);
    assert_false (back.u.gen_task.has_seed);
    toa_msg_clear (&msg);
    toa_msg_clear (&back);
}

/* Strings, arrays and integers at every header size boundary encode as
 * msgpack-c writes them, and decode back. */
static void
test_encoding_header_sizes (void **state)
{
    (void) state;
    size_t lengths[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 70000};
    size_t counts[] = {0, 1, 15, 16, 17, 300};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        toa_msg_t msg, back;
        memset (&msg, 0, sizeof msg);
        msg.type = TOA_MSG_GEN_RESULT;
        toa_msg_gen_result_t *m = &msg.u.gen_result;
        m->task = (uint64_t) 1 << (8 * c);
        m->attempt = (int64_t) 1 << (7 * c + 1);
        m->latency_ms = (int64_t) counts[c] * 1000;
        m->n_outputs = counts[c];
        m->outputs = calloc (counts[c] + 1, sizeof *m->outputs);
        for (size_t i = 0; i < counts[c]; i++) {
            size_t length = lengths[(i + c) % (sizeof lengths / sizeof *lengths)];
            m->outputs[i].text = malloc (length + 1);
            memset (m->outputs[i].text, 'a' + (int) (i % 26), length);
            m->outputs[i].text[length] = '\0';
            m->outputs[i].finish_reason = sample_text ("stop");
            m->outputs[i].prompt_tokens = (int64_t) 1 << (i % 40);
            m->outputs[i].completion_tokens = (int64_t) (i * 977);
        }
        s_round_trip (&msg, &back);
        s_assert_msg_equal (&msg, &back);
        toa_msg_clear (&msg);
        toa_msg_clear (&back);
    }
    /* Negative integers (the decoder refuses this status; the bytes are
     * still msgpack-c's). */
    int64_t negatives[] = {-1, -32, -33, -128, -129, -32768, -32769, INT64_C (-2147483648),
                           INT64_C (-2147483649), INT64_MIN};
    for (size_t i = 0; i < sizeof negatives / sizeof *negatives; i++) {
        toa_msg_t msg;
        memset (&msg, 0, sizeof msg);
        msg.type = TOA_MSG_TASK_FAILURE;
        msg.u.task_failure.attempt = 1;
        msg.u.task_failure.reason = sample_text ("x");
        msg.u.task_failure.http_status = negatives[i];
        char *data = NULL;
        size_t size = 0;
        assert_int_equal (toa_proto_encode (&msg, &data, &size), 0);
        s_assert_canonical (data, size);
        free (data);
        toa_msg_clear (&msg);
    }
}

static void
test_optional_nil (void **state)
{
    (void) state;
    toa_msg_t msg, back;
    sample_build (TOA_MSG_GEN_TASK, &msg);
    msg.u.gen_task.has_seed = false;
    msg.u.gen_task.seed = 77;
    s_round_trip (&msg, &back);
    assert_false (back.u.gen_task.has_seed);
    assert_true (back.u.gen_task.seed == 0);
    toa_msg_clear (&msg);
    toa_msg_clear (&back);

    sample_build (TOA_MSG_SCORE_TASK, &msg);
    free (msg.u.score_task.reference);
    msg.u.score_task.reference = NULL;
    s_round_trip (&msg, &back);
    s_assert_msg_equal (&msg, &back);
    assert_null (back.u.score_task.reference);
    toa_msg_clear (&msg);
    toa_msg_clear (&back);

    sample_build (TOA_MSG_ERROR, &msg);
    free (msg.u.error.job);
    msg.u.error.job = NULL;
    s_round_trip (&msg, &back);
    assert_null (back.u.error.job);
    toa_msg_clear (&msg);
    toa_msg_clear (&back);
}

/* ---- building bytes by hand ---- */

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
} s_builder_t;

static void
s_begin_raw (s_builder_t *b)
{
    msgpack_sbuffer_init (&b->buffer);
    msgpack_packer_init (&b->packer, &b->buffer, msgpack_sbuffer_write);
}

static void
s_str (s_builder_t *b, const char *text)
{
    msgpack_pack_str (&b->packer, strlen (text));
    msgpack_pack_str_body (&b->packer, text, strlen (text));
}

static void
s_raw (s_builder_t *b, const void *bytes, size_t size)
{
    msgpack_sbuffer_write (&b->buffer, bytes, size);
}

/* A message map of FIELDS fields after "v" and "cmd". */
static void
s_begin (s_builder_t *b, const char *cmd, uint32_t fields)
{
    s_begin_raw (b);
    msgpack_pack_map (&b->packer, fields + 2);
    s_str (b, "v");
    msgpack_pack_int (&b->packer, TOA_PROTO_VERSION);
    s_str (b, "cmd");
    s_str (b, cmd);
}

static void
s_kv_str (s_builder_t *b, const char *key, const char *value)
{
    s_str (b, key);
    s_str (b, value);
}

static void
s_kv_int (s_builder_t *b, const char *key, int64_t value)
{
    s_str (b, key);
    msgpack_pack_int64 (&b->packer, value);
}

/* Decodes DATA and checks STATUS and (when not NULL) the error's FIELD and
 * that the message came back empty. */
static void
s_expect_bytes (const void *data, size_t size, toa_proto_status_t status, const char *field)
{
    toa_msg_t msg;
    toa_proto_error_t error;
    memset (&msg, 0xab, sizeof msg);
    toa_proto_status_t got = toa_proto_decode (data, size, &msg, &error);
    if (got != status)
        fail_msg ("expected '%s', got '%s' at '%s'", toa_proto_status_text (status),
                  toa_proto_status_text (got), error.field);
    assert_int_equal (error.status, status);
    if (field)
        assert_string_equal (error.field, field);
    if (status != TOA_PROTO_OK)
        assert_true (s_all_zero (&msg, sizeof msg));
    toa_msg_clear (&msg);
}

static void
s_expect (s_builder_t *b, toa_proto_status_t status, const char *field)
{
    s_expect_bytes (b->buffer.data, b->buffer.size, status, field);
    msgpack_sbuffer_destroy (&b->buffer);
}

/* A heartbeat may carry a peer's figures (optional: an old peer's bare
 * heartbeat still decodes). */
static void
test_heartbeat_stats (void **state)
{
    (void) state;
    toa_peer_stat_t stats[] = {
        {"upstream_attempts", "sim-alpha", "ok", 12},
        {"upstream_in_flight", "sim-alpha", "", 3},
    };
    toa_msg_t msg = {.type = TOA_MSG_HEARTBEAT};
    msg.u.heartbeat.stats = stats;
    msg.u.heartbeat.n_stats = 2;
    toa_msg_t out;
    s_round_trip (&msg, &out);
    assert_int_equal (out.type, TOA_MSG_HEARTBEAT);
    assert_int_equal (out.u.heartbeat.n_stats, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal (out.u.heartbeat.stats[i].name, stats[i].name);
        assert_string_equal (out.u.heartbeat.stats[i].target, stats[i].target);
        assert_string_equal (out.u.heartbeat.stats[i].outcome, stats[i].outcome);
        assert_int_equal (out.u.heartbeat.stats[i].value, stats[i].value);
    }
    toa_msg_clear (&out);

    s_builder_t b;
    s_begin (&b, "heartbeat", 0);
    s_expect (&b, TOA_PROTO_OK, NULL);

    s_begin (&b, "heartbeat", 1);
    s_str (&b, "stats");
    msgpack_pack_array (&b.packer, 1);
    msgpack_pack_map (&b.packer, 4);
    s_kv_str (&b, "name", "upstream_attempts");
    s_kv_str (&b, "target", "m");
    s_kv_str (&b, "outcome", "ok");
    s_kv_int (&b, "value", -1);
    s_expect (&b, TOA_PROTO_ERR_BAD_VALUE, "stats.0.value");
}

/* ---- one test per decoding error ---- */

static void
test_error_too_large (void **state)
{
    (void) state;
    unsigned char byte = 0x80;
    /* The size alone decides; the decoder must not touch the bytes. */
    s_expect_bytes (&byte, (size_t) TOA_PROTO_MAX_MESSAGE + 1, TOA_PROTO_ERR_TOO_LARGE, "");
}

static void
test_error_malformed (void **state)
{
    (void) state;
    static const unsigned char never_used[] = { 0xc1 };
    static const unsigned char cut_header[] = { 0x81, 0xa1, 'v', 0xcd, 0x00 };
    static const unsigned char cut_string[] = { 0x81, 0xa3, 'c', 'm', 'd', 0xa6, 'a', 'b' };
    static const unsigned char cut_map[] = { 0x82, 0xa1, 'v', 0x01, 0xa1 };
    s_expect_bytes (never_used, sizeof never_used, TOA_PROTO_ERR_MALFORMED, "");
    s_expect_bytes (cut_header, sizeof cut_header, TOA_PROTO_ERR_MALFORMED, "v");
    s_expect_bytes (cut_string, sizeof cut_string, TOA_PROTO_ERR_MALFORMED, "cmd");
    s_expect_bytes (cut_map, sizeof cut_map, TOA_PROTO_ERR_MALFORMED, "");
    s_expect_bytes (cut_map, 0, TOA_PROTO_ERR_MALFORMED, "");
    s_expect_bytes (NULL, 3, TOA_PROTO_ERR_MALFORMED, "");
}

static void
test_error_count_map32 (void **state)
{
    (void) state;
    /* map32 claiming 4294967295 pairs in 5 bytes: msgpack-c would ask for
     * ~128 GiB here; the scan refuses it before anything is allocated. */
    static const unsigned char bytes[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    s_expect_bytes (bytes, sizeof bytes, TOA_PROTO_ERR_COUNT, "");
}

static void
test_error_count_array32 (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin (&b, "submit", 1);
    s_str (&b, "prompts");
    static const unsigned char header[] = { 0xdd, 0x00, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03 };
    s_raw (&b, header, sizeof header);
    s_expect (&b, TOA_PROTO_ERR_COUNT, "prompts");

    /* A map whose pairs need twice the bytes that remain. */
    s_begin (&b, "heartbeat", 1);
    s_str (&b, "extra");
    static const unsigned char map[] = { 0x83, 0x01, 0x02, 0x03, 0x04 };
    s_raw (&b, map, sizeof map);
    s_expect (&b, TOA_PROTO_ERR_COUNT, "extra");
}

static void
test_error_trailing (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin (&b, "heartbeat", 0);
    s_raw (&b, "\x00", 1);
    s_expect (&b, TOA_PROTO_ERR_TRAILING, "");
}

static void
s_nested_arrays (s_builder_t *b, int arrays)
{
    s_begin (b, "heartbeat", 1);
    s_str (b, "deep");
    for (int i = 0; i < arrays; i++)
        msgpack_pack_array (&b->packer, i + 1 < arrays ? 1 : 0);
}

static void
test_error_depth (void **state)
{
    (void) state;
    s_builder_t b;
    s_nested_arrays (&b, TOA_PROTO_MAX_DEPTH - 1);   /* map + 7 arrays = 8 levels */
    s_expect (&b, TOA_PROTO_OK, "");
    s_nested_arrays (&b, TOA_PROTO_MAX_DEPTH);       /* 9 levels */
    s_expect (&b, TOA_PROTO_ERR_DEPTH, "deep.0.0.0.0.0.0.0");
}

static void
test_error_not_map (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin_raw (&b);
    msgpack_pack_array (&b.packer, 2);
    s_str (&b, "v");
    msgpack_pack_int (&b.packer, 1);
    s_expect (&b, TOA_PROTO_ERR_NOT_MAP, "");
    s_begin_raw (&b);
    msgpack_pack_int (&b.packer, 1);
    s_expect (&b, TOA_PROTO_ERR_NOT_MAP, "");
}

static void
test_error_version (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin_raw (&b);
    msgpack_pack_map (&b.packer, 2);
    s_kv_int (&b, "v", 2);
    s_kv_str (&b, "cmd", "heartbeat");
    s_expect (&b, TOA_PROTO_ERR_VERSION, "v");

    s_begin_raw (&b);
    msgpack_pack_map (&b.packer, 1);
    s_kv_str (&b, "cmd", "heartbeat");
    s_expect (&b, TOA_PROTO_ERR_VERSION, "v");

    s_begin_raw (&b);
    msgpack_pack_map (&b.packer, 2);
    s_kv_str (&b, "v", "1");
    s_kv_str (&b, "cmd", "heartbeat");
    s_expect (&b, TOA_PROTO_ERR_VERSION, "v");

    /* Any integer encoding of 1 is version 1; key order does not matter. */
    static const unsigned char wide[] = { 0x82, 0xa3, 'c', 'm', 'd', 0xa9, 'h', 'e', 'a', 'r',
                                          't', 'b', 'e', 'a', 't', 0xa1, 'v', 0xd3, 0, 0, 0,
                                          0, 0, 0, 0, 1 };
    s_expect_bytes (wide, sizeof wide, TOA_PROTO_OK, "");
}

static void
test_error_command (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin (&b, "launch-missiles", 0);
    s_expect (&b, TOA_PROTO_ERR_COMMAND, "cmd");

    s_begin_raw (&b);
    msgpack_pack_map (&b.packer, 1);
    s_kv_int (&b, "v", 1);
    s_expect (&b, TOA_PROTO_ERR_COMMAND, "cmd");

    s_begin_raw (&b);
    msgpack_pack_map (&b.packer, 2);
    s_kv_int (&b, "v", 1);
    s_kv_int (&b, "cmd", 1);
    s_expect (&b, TOA_PROTO_ERR_COMMAND, "cmd");
}

static void
test_error_missing_field (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin (&b, "submit", 3);
    s_kv_str (&b, "job", "j");
    s_kv_str (&b, "method", "toa");
    s_kv_str (&b, "settings", "{}");
    s_expect (&b, TOA_PROTO_ERR_MISSING_FIELD, "prompts");

    s_begin (&b, "submit", 4);
    s_kv_str (&b, "job", "j");
    s_kv_str (&b, "method", "toa");
    s_kv_str (&b, "settings", "{}");
    s_str (&b, "prompts");
    msgpack_pack_array (&b.packer, 2);
    msgpack_pack_map (&b.packer, 2);
    s_kv_int (&b, "line", 1);
    s_kv_str (&b, "text", "{}");
    msgpack_pack_map (&b.packer, 1);
    s_kv_int (&b, "line", 2);
    s_expect (&b, TOA_PROTO_ERR_MISSING_FIELD, "prompts.1.text");

    s_begin (&b, "gen-task", 1);
    s_kv_int (&b, "task", 1);
    s_expect (&b, TOA_PROTO_ERR_MISSING_FIELD, "attempt");

    s_begin (&b, "progress", 1);
    s_str (&b, "status");
    msgpack_pack_map (&b.packer, 0);
    s_expect (&b, TOA_PROTO_ERR_MISSING_FIELD, "status.job");

    s_begin (&b, "disconnect", 0);
    s_expect (&b, TOA_PROTO_ERR_MISSING_FIELD, "reason");
}

static void
test_optional_absent (void **state)
{
    (void) state;
    s_builder_t b;
    toa_msg_t msg;
    s_begin (&b, "score-task", 6);
    s_kv_int (&b, "task", 5);
    s_kv_int (&b, "attempt", 1);
    s_kv_str (&b, "job", "j");
    s_kv_str (&b, "backend", "chrf");
    s_str (&b, "messages");
    msgpack_pack_array (&b.packer, 0);
    s_kv_str (&b, "response", "r");
    assert_int_equal (toa_proto_decode (b.buffer.data, b.buffer.size, &msg, NULL), TOA_PROTO_OK);
    assert_null (msg.u.score_task.reference);
    toa_msg_clear (&msg);
    msgpack_sbuffer_destroy (&b.buffer);

    s_begin (&b, "error", 2);
    s_kv_int (&b, "code", 3);
    s_kv_str (&b, "message", "m");
    assert_int_equal (toa_proto_decode (b.buffer.data, b.buffer.size, &msg, NULL), TOA_PROTO_OK);
    assert_null (msg.u.error.job);
    toa_msg_clear (&msg);
    msgpack_sbuffer_destroy (&b.buffer);
}

/* A gen-task with every field valid except the one named BAD, packed by PACK. */
typedef void (*s_packer_fn) (s_builder_t *b);

static void
s_gen_task (s_builder_t *b, const char *bad, s_packer_fn pack)
{
    static const char *const keys[] = { "task", "attempt", "job", "model", "messages",
                                        "temperature", "top_p", "max_tokens", "seed",
                                        "stop", "n" };
    s_begin (b, "gen-task", 11);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *key = keys[i];
        s_str (b, key);
        if (bad && strcmp (key, bad) == 0)
            pack (b);
        else if (!strcmp (key, "job") || !strcmp (key, "model"))
            s_str (b, "x");
        else if (!strcmp (key, "messages") || !strcmp (key, "stop"))
            msgpack_pack_array (&b->packer, 0);
        else if (!strcmp (key, "temperature") || !strcmp (key, "top_p"))
            msgpack_pack_float (&b->packer, 0.5f);
        else if (!strcmp (key, "seed"))
            msgpack_pack_nil (&b->packer);
        else
            msgpack_pack_int (&b->packer, 1);
    }
}

static void s_pack_string_1 (s_builder_t *b) { s_str (b, "1"); }
static void s_pack_bin (s_builder_t *b) { msgpack_pack_bin (&b->packer, 1); msgpack_pack_bin_body (&b->packer, "x", 1); }
static void s_pack_map_0 (s_builder_t *b) { msgpack_pack_map (&b->packer, 0); }
static void s_pack_nil (s_builder_t *b) { msgpack_pack_nil (&b->packer); }
static void s_pack_true (s_builder_t *b) { msgpack_pack_true (&b->packer); }
static void s_pack_zero (s_builder_t *b) { msgpack_pack_int (&b->packer, 0); }
static void s_pack_minus_1 (s_builder_t *b) { msgpack_pack_int (&b->packer, -1); }
static void s_pack_big_uint (s_builder_t *b) { msgpack_pack_uint64 (&b->packer, UINT64_MAX); }
static void s_pack_nan (s_builder_t *b) { msgpack_pack_double (&b->packer, NAN); }
static void s_pack_1_5 (s_builder_t *b) { msgpack_pack_double (&b->packer, 1.5); }
static void s_pack_empty (s_builder_t *b) { s_str (b, ""); }
static void s_pack_bad_id (s_builder_t *b) { s_str (b, "a b"); }
static void s_pack_long_id (s_builder_t *b)
{
    char id[66];
    memset (id, 'a', 65);
    id[65] = '\0';
    s_str (b, id);
}
static void s_pack_nul (s_builder_t *b) { msgpack_pack_str (&b->packer, 3); msgpack_pack_str_body (&b->packer, "a\0b", 3); }
static void s_pack_bad_utf8 (s_builder_t *b) { s_str (b, "\xc3\x28"); }
static void s_pack_overlong_utf8 (s_builder_t *b) { s_str (b, "\xc0\xaf"); }
static void s_pack_bad_chat (s_builder_t *b)
{
    msgpack_pack_array (&b->packer, 2);
    msgpack_pack_map (&b->packer, 2);
    s_kv_str (b, "role", "user");
    s_kv_str (b, "content", "hi");
    msgpack_pack_map (&b->packer, 2);
    s_kv_str (b, "role", "user");
    s_kv_int (b, "content", 5);
}
static void s_pack_stop_int (s_builder_t *b)
{
    msgpack_pack_array (&b->packer, 1);
    msgpack_pack_int (&b->packer, 5);
}

static void
s_expect_gen_task (const char *bad, s_packer_fn pack, toa_proto_status_t status,
                   const char *field)
{
    s_builder_t b;
    s_gen_task (&b, bad, pack);
    s_expect (&b, status, field);
}

static void
test_valid_gen_task_variants (void **state)
{
    (void) state;
    /* The builder's baseline is valid; floats accept integers; uint fields
     * accept non-negative signed encodings; the seed may be an integer. */
    s_expect_gen_task (NULL, NULL, TOA_PROTO_OK, "");
    s_expect_gen_task ("temperature", s_pack_zero, TOA_PROTO_OK, "");
    s_expect_gen_task ("seed", s_pack_big_uint, TOA_PROTO_OK, "");
    s_builder_t b;
    s_gen_task (&b, NULL, NULL);
    toa_msg_t msg;
    assert_int_equal (toa_proto_decode (b.buffer.data, b.buffer.size, &msg, NULL), TOA_PROTO_OK);
    assert_true (msg.u.gen_task.temperature == 0.5);
    assert_false (msg.u.gen_task.has_seed);
    toa_msg_clear (&msg);
    msgpack_sbuffer_destroy (&b.buffer);
}

static void
test_error_wrong_type (void **state)
{
    (void) state;
    s_expect_gen_task ("task", s_pack_string_1, TOA_PROTO_ERR_WRONG_TYPE, "task");
    s_expect_gen_task ("attempt", s_pack_nil, TOA_PROTO_ERR_WRONG_TYPE, "attempt");
    s_expect_gen_task ("job", s_pack_bin, TOA_PROTO_ERR_WRONG_TYPE, "job");
    s_expect_gen_task ("messages", s_pack_map_0, TOA_PROTO_ERR_WRONG_TYPE, "messages");
    s_expect_gen_task ("messages", s_pack_bad_chat, TOA_PROTO_ERR_WRONG_TYPE, "messages.1.content");
    s_expect_gen_task ("temperature", s_pack_string_1, TOA_PROTO_ERR_WRONG_TYPE, "temperature");
    s_expect_gen_task ("seed", s_pack_true, TOA_PROTO_ERR_WRONG_TYPE, "seed");
    s_expect_gen_task ("stop", s_pack_stop_int, TOA_PROTO_ERR_WRONG_TYPE, "stop.0");

    /* The path names the item: prompts.3.text. */
    s_builder_t b;
    s_begin (&b, "submit", 4);
    s_kv_str (&b, "job", "j");
    s_kv_str (&b, "method", "toa");
    s_kv_str (&b, "settings", "{}");
    s_str (&b, "prompts");
    msgpack_pack_array (&b.packer, 5);
    for (int i = 0; i < 5; i++) {
        msgpack_pack_map (&b.packer, 2);
        s_kv_int (&b, "line", i + 1);
        if (i == 3)
            s_kv_int (&b, "text", 7);
        else
            s_kv_str (&b, "text", "{}");
    }
    s_expect (&b, TOA_PROTO_ERR_WRONG_TYPE, "prompts.3.text");

    /* Keys are strings. */
    s_begin (&b, "heartbeat", 1);
    msgpack_pack_int (&b.packer, 5);
    msgpack_pack_int (&b.packer, 6);
    s_expect (&b, TOA_PROTO_ERR_WRONG_TYPE, "");
}

static void
s_expect_long_string (const char *cmd, const char *key, size_t len, toa_proto_status_t status)
{
    s_builder_t b;
    char *text = malloc (len + 1);
    assert_non_null (text);
    memset (text, 'a', len);
    text[len] = '\0';
    if (!strcmp (cmd, "submit")) {
        s_begin (&b, "submit", 4);
        s_kv_str (&b, "job", "j");
        s_kv_str (&b, "method", !strcmp (key, "method") ? text : "toa");
        s_kv_str (&b, "settings", !strcmp (key, "settings") ? text : "{}");
        s_str (&b, "prompts");
        msgpack_pack_array (&b.packer, 0);
    } else {
        s_begin (&b, cmd, 1);
        s_kv_str (&b, key, text);
    }
    free (text);
    s_expect (&b, status, status == TOA_PROTO_OK ? "" : key);
}

static void
test_error_string_too_long (void **state)
{
    (void) state;
    s_expect_long_string ("submit", "settings", TOA_PROTO_MAX_TEXT, TOA_PROTO_OK);
    s_expect_long_string ("submit", "settings", TOA_PROTO_MAX_TEXT + 1,
                          TOA_PROTO_ERR_STRING_TOO_LONG);
    s_expect_long_string ("submit", "method", TOA_PROTO_MAX_NAME, TOA_PROTO_OK);
    s_expect_long_string ("submit", "method", TOA_PROTO_MAX_NAME + 1,
                          TOA_PROTO_ERR_STRING_TOO_LONG);
    s_expect_long_string ("disconnect", "reason", TOA_PROTO_MAX_NAME + 1,
                          TOA_PROTO_ERR_STRING_TOO_LONG);
}

static void
test_error_array_too_long (void **state)
{
    (void) state;
    /* One-byte items: the count is honest (the bytes are there) but over
     * the limit, and the limit is checked before any item. */
    s_builder_t b;
    s_begin (&b, "submit", 1);
    s_str (&b, "prompts");
    msgpack_pack_array (&b.packer, TOA_PROTO_MAX_ITEMS + 1);
    char *items = malloc (TOA_PROTO_MAX_ITEMS + 1);
    assert_non_null (items);
    memset (items, 0xc0, TOA_PROTO_MAX_ITEMS + 1);   /* nil */
    s_raw (&b, items, TOA_PROTO_MAX_ITEMS + 1);
    free (items);
    s_expect (&b, TOA_PROTO_ERR_ARRAY_TOO_LONG, "prompts");
}

/* A ready with N serves names "m0", "m1", ... */
static void
s_ready_serving (s_builder_t *b, size_t n)
{
    s_begin (b, "ready", 5);
    s_kv_str (b, "kind", "worker");
    s_kv_str (b, "name", "w");
    s_str (b, "serves");
    msgpack_pack_array (&b->packer, (uint32_t) n);
    for (size_t k = 0; k < n; k++) {
        char name[32];
        snprintf (name, sizeof name, "m%zu", k);
        s_str (b, name);
    }
    s_kv_int (b, "credit", 1);
    s_kv_int (b, "heartbeat_ms", 1);
}

/* "serves" is capped at decode (TOA_PROTO_MAX_SERVES), far below the
 * general array limit: a peer cannot make the broker decode a million names
 * that it would trim to broker.max_serves anyway. */
static void
test_error_serves_cap (void **state)
{
    (void) state;
    s_builder_t b;
    s_ready_serving (&b, TOA_PROTO_MAX_SERVES);
    s_expect (&b, TOA_PROTO_OK, NULL);
    s_ready_serving (&b, TOA_PROTO_MAX_SERVES + 1);
    s_expect (&b, TOA_PROTO_ERR_ARRAY_TOO_LONG, "serves");
}

static void
test_error_bad_value (void **state)
{
    (void) state;
    s_expect_gen_task ("attempt", s_pack_zero, TOA_PROTO_ERR_BAD_VALUE, "attempt");
    s_expect_gen_task ("n", s_pack_zero, TOA_PROTO_ERR_BAD_VALUE, "n");
    s_expect_gen_task ("max_tokens", s_pack_minus_1, TOA_PROTO_ERR_BAD_VALUE, "max_tokens");
    s_expect_gen_task ("task", s_pack_minus_1, TOA_PROTO_ERR_BAD_VALUE, "task");
    s_expect_gen_task ("n", s_pack_big_uint, TOA_PROTO_ERR_BAD_VALUE, "n");
    s_expect_gen_task ("temperature", s_pack_nan, TOA_PROTO_ERR_BAD_VALUE, "temperature");
    s_expect_gen_task ("top_p", s_pack_1_5, TOA_PROTO_ERR_BAD_VALUE, "top_p");
    s_expect_gen_task ("job", s_pack_empty, TOA_PROTO_ERR_BAD_VALUE, "job");
    s_expect_gen_task ("job", s_pack_bad_id, TOA_PROTO_ERR_BAD_VALUE, "job");
    s_expect_gen_task ("job", s_pack_long_id, TOA_PROTO_ERR_BAD_VALUE, "job");
    s_expect_gen_task ("model", s_pack_nul, TOA_PROTO_ERR_BAD_VALUE, "model");
    s_expect_gen_task ("model", s_pack_bad_utf8, TOA_PROTO_ERR_BAD_VALUE, "model");
    s_expect_gen_task ("model", s_pack_overlong_utf8, TOA_PROTO_ERR_BAD_VALUE, "model");

    s_builder_t b;
    s_begin (&b, "ready", 5);
    s_kv_str (&b, "kind", "robot");
    s_kv_str (&b, "name", "n");
    s_str (&b, "serves");
    msgpack_pack_array (&b.packer, 0);
    s_kv_int (&b, "credit", 1);
    s_kv_int (&b, "heartbeat_ms", 1);
    s_expect (&b, TOA_PROTO_ERR_BAD_VALUE, "kind");

    s_begin (&b, "ready", 5);
    s_kv_str (&b, "kind", "worker");
    s_kv_str (&b, "name", "n");
    s_str (&b, "serves");
    msgpack_pack_array (&b.packer, 0);
    s_kv_int (&b, "credit", 0);
    s_kv_int (&b, "heartbeat_ms", 1);
    s_expect (&b, TOA_PROTO_ERR_BAD_VALUE, "credit");

    s_begin (&b, "task-failure", 5);
    s_kv_int (&b, "task", 1);
    s_kv_int (&b, "attempt", 1);
    s_kv_str (&b, "class", "sometimes");
    s_kv_str (&b, "reason", "r");
    s_kv_int (&b, "http_status", 0);
    s_expect (&b, TOA_PROTO_ERR_BAD_VALUE, "class");

    s_begin (&b, "accept", 2);
    s_kv_str (&b, "job", "j");
    s_kv_int (&b, "n_prompts", -1);
    s_expect (&b, TOA_PROTO_ERR_BAD_VALUE, "n_prompts");

    s_begin (&b, "cancel", 1);
    s_kv_str (&b, "job", "");
    s_expect (&b, TOA_PROTO_ERR_BAD_VALUE, "job");

    s_begin (&b, "status-request", 1);   /* "" means every job here */
    s_kv_str (&b, "job", "");
    s_expect (&b, TOA_PROTO_OK, "");
}

static void
test_error_duplicate_key (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin (&b, "heartbeat", 1);
    s_kv_str (&b, "cmd", "heartbeat");
    s_expect (&b, TOA_PROTO_ERR_DUPLICATE_KEY, "cmd");

    s_begin (&b, "cancel", 2);
    s_kv_str (&b, "job", "a");
    s_kv_str (&b, "job", "b");
    s_expect (&b, TOA_PROTO_ERR_DUPLICATE_KEY, "job");

    s_begin (&b, "heartbeat", 2);        /* unknown keys too */
    s_kv_int (&b, "extra", 1);
    s_kv_int (&b, "extra", 1);
    s_expect (&b, TOA_PROTO_ERR_DUPLICATE_KEY, "extra");

    s_begin (&b, "reject", 3);
    s_kv_str (&b, "job", "j");
    s_kv_str (&b, "message", "m");
    s_str (&b, "errors");
    msgpack_pack_array (&b.packer, 1);
    msgpack_pack_map (&b.packer, 3);
    s_kv_int (&b, "line", 1);
    s_kv_str (&b, "reason", "r");
    s_kv_int (&b, "line", 2);
    s_expect (&b, TOA_PROTO_ERR_DUPLICATE_KEY, "errors.0.line");

    /* A map of many keys (sorted check) with one repeat. */
    s_begin (&b, "heartbeat", 40);
    char key[16];
    for (int i = 0; i < 40; i++) {
        snprintf (key, sizeof key, "k%d", i == 39 ? 7 : i);
        s_kv_int (&b, key, i);
    }
    s_expect (&b, TOA_PROTO_ERR_DUPLICATE_KEY, "k7");
}

static void
test_unknown_keys_ignored (void **state)
{
    (void) state;
    s_builder_t b;
    s_begin (&b, "cancel", 3);
    s_str (&b, "future");
    msgpack_pack_map (&b.packer, 1);
    s_str (&b, "x");
    msgpack_pack_array (&b.packer, 2);
    msgpack_pack_bin (&b.packer, 2);
    msgpack_pack_bin_body (&b.packer, "\x00\x01", 2);
    msgpack_pack_ext (&b.packer, 1, 5);
    msgpack_pack_ext_body (&b.packer, "e", 1);
    s_kv_str (&b, "job", "j-1");
    s_str (&b, "when");
    msgpack_pack_float (&b.packer, 1.5f);
    toa_msg_t msg;
    toa_proto_error_t error;
    assert_int_equal (toa_proto_decode (b.buffer.data, b.buffer.size, &msg, &error), TOA_PROTO_OK);
    assert_int_equal (msg.type, TOA_MSG_CANCEL);
    assert_string_equal (msg.u.job_ref.job, "j-1");
    toa_msg_clear (&msg);
    msgpack_sbuffer_destroy (&b.buffer);
}

static void
test_every_prefix_fails (void **state)
{
    (void) state;
    for (int type = TOA_MSG_NONE + 1; type < TOA_MSG_TYPE_COUNT; type++) {
        toa_msg_t msg;
        char *data;
        size_t size;
        sample_build ((toa_msg_type_t) type, &msg);
        assert_int_equal (toa_proto_encode (&msg, &data, &size), 0);
        toa_msg_clear (&msg);
        for (size_t len = 0; len < size; len++) {
            /* A copy of exactly LEN bytes, so that ASan sees any over-read. */
            char *prefix = malloc (len ? len : 1);
            memcpy (prefix, data, len);
            toa_proto_error_t error;
            toa_proto_status_t status = toa_proto_decode (prefix, len, &msg, &error);
            assert_int_not_equal (status, TOA_PROTO_OK);
            assert_int_equal (error.status, status);
            assert_true (s_all_zero (&msg, sizeof msg));
            free (prefix);
        }
        free (data);
    }
}

static void
test_encode_refuses (void **state)
{
    (void) state;
    toa_msg_t msg;
    char *data = (char *) &msg;
    size_t size = 1;
    memset (&msg, 0, sizeof msg);
    assert_int_equal (toa_proto_encode (&msg, &data, &size), -1);   /* TOA_MSG_NONE */
    assert_null (data);
    msg.type = TOA_MSG_CANCEL;                                      /* job NULL */
    assert_int_equal (toa_proto_encode (&msg, &data, &size), -1);
    sample_build (TOA_MSG_SUBMIT, &msg);
    toa_prompt_line_t *prompts = msg.u.submit.prompts;
    msg.u.submit.prompts = NULL;                                    /* 3 items, no array */
    assert_int_equal (toa_proto_encode (&msg, &data, &size), -1);
    msg.u.submit.prompts = prompts;
    toa_msg_clear (&msg);
}

static void
test_names_and_texts (void **state)
{
    (void) state;
    assert_null (toa_msg_type_name (TOA_MSG_NONE));
    assert_null (toa_msg_type_name (TOA_MSG_TYPE_COUNT));
    assert_string_equal (toa_msg_type_name (TOA_MSG_GEN_TASK), "gen-task");
    assert_string_equal (toa_msg_type_name (TOA_MSG_RESULT_ACK), "result-ack");
    for (int type = TOA_MSG_NONE + 1; type < TOA_MSG_TYPE_COUNT; type++)
        assert_non_null (toa_msg_type_name ((toa_msg_type_t) type));
    for (int a = 0; a < TOA_PROTO_STATUS_COUNT; a++) {
        const char *text = toa_proto_status_text ((toa_proto_status_t) a);
        assert_non_null (text);
        assert_true (strlen (text) > 0);
        for (int b = 0; b < a; b++)
            assert_string_not_equal (text, toa_proto_status_text ((toa_proto_status_t) b));
    }
    assert_string_equal (toa_proto_status_text (TOA_PROTO_ERR_TRAILING),
                         "trailing bytes after message");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip_every_type),
        cmocka_unit_test (test_round_trip_empty_arrays_and_extremes),
        cmocka_unit_test (test_encoding_header_sizes),
        cmocka_unit_test (test_optional_nil),
        cmocka_unit_test (test_optional_absent),
        cmocka_unit_test (test_valid_gen_task_variants),
        cmocka_unit_test (test_unknown_keys_ignored),
        cmocka_unit_test (test_heartbeat_stats),
        cmocka_unit_test (test_error_too_large),
        cmocka_unit_test (test_error_malformed),
        cmocka_unit_test (test_error_count_map32),
        cmocka_unit_test (test_error_count_array32),
        cmocka_unit_test (test_error_trailing),
        cmocka_unit_test (test_error_depth),
        cmocka_unit_test (test_error_not_map),
        cmocka_unit_test (test_error_version),
        cmocka_unit_test (test_error_command),
        cmocka_unit_test (test_error_missing_field),
        cmocka_unit_test (test_error_wrong_type),
        cmocka_unit_test (test_error_string_too_long),
        cmocka_unit_test (test_error_array_too_long),
        cmocka_unit_test (test_error_serves_cap),
        cmocka_unit_test (test_error_bad_value),
        cmocka_unit_test (test_error_duplicate_key),
        cmocka_unit_test (test_every_prefix_fails),
        cmocka_unit_test (test_encode_refuses),
        cmocka_unit_test (test_names_and_texts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
