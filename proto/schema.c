/* schema.c - the fields of every toa message (see schema.h), the command
 * names, the status texts, and toa_msg_clear. Change a message here and the
 * encoder, the decoder and proto/README.md follow (the README by hand). */
#include "proto/schema.h"

#include <float.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define NAME TOA_PROTO_MAX_NAME
#define TEXT TOA_PROTO_MAX_TEXT
#define JOB_ID (TOA_SCHEMA_JOB_ID)
#define OPTIONAL TOA_SCHEMA_OPTIONAL
#define NONEMPTY TOA_SCHEMA_NONEMPTY

#define F_STRING(key_, type_, member_, limit_, flags_) \
    { .key = key_, .kind = TOA_SCHEMA_STRING, .offset = offsetof (type_, member_), \
      .limit = limit_, .flags = flags_ }
#define F_INT(key_, type_, member_, min_, max_) \
    { .key = key_, .kind = TOA_SCHEMA_INT, .offset = offsetof (type_, member_), \
      .min = min_, .max = max_ }
#define F_COUNT(key_, type_, member_) F_INT (key_, type_, member_, 0, INT64_MAX)
#define F_UINT(key_, type_, member_) \
    { .key = key_, .kind = TOA_SCHEMA_UINT, .offset = offsetof (type_, member_) }
#define F_DOUBLE(key_, type_, member_, min_, max_) \
    { .key = key_, .kind = TOA_SCHEMA_DOUBLE, .offset = offsetof (type_, member_), \
      .dmin = min_, .dmax = max_ }
#define F_STRUCT(key_, type_, member_, sub_) \
    { .key = key_, .kind = TOA_SCHEMA_STRUCT, .offset = offsetof (type_, member_), .sub = &sub_ }
#define F_STRUCTS(key_, type_, member_, count_, sub_) \
    { .key = key_, .kind = TOA_SCHEMA_STRUCTS, .offset = offsetof (type_, member_), \
      .aux_offset = offsetof (type_, count_), .sub = &sub_ }
#define F_STRINGS(key_, type_, member_, count_, limit_, flags_) \
    { .key = key_, .kind = TOA_SCHEMA_STRINGS, .offset = offsetof (type_, member_), \
      .aux_offset = offsetof (type_, count_), .limit = limit_, .flags = flags_ }
#define TABLE(name_, type_) \
    static const toa_schema_table_t name_ = { \
        name_##_fields, sizeof name_##_fields / sizeof name_##_fields[0], sizeof (type_) }

/* Task id and lease: the first two fields of every task message and reply. */
#define F_TASK(type_) \
    F_UINT ("task", type_, task), \
    F_INT ("attempt", type_, attempt, 1, INT64_MAX)

/* ---- nested maps ---- */

static const toa_schema_field_t s_chat_message_fields[] = {
    F_STRING ("role", toa_chat_message_t, role, NAME, NONEMPTY),
    F_STRING ("content", toa_chat_message_t, content, TEXT, 0),
};
TABLE (s_chat_message, toa_chat_message_t);

static const toa_schema_field_t s_prompt_line_fields[] = {
    F_INT ("line", toa_prompt_line_t, line, 1, INT64_MAX),
    F_STRING ("text", toa_prompt_line_t, text, TEXT, 0),
};
TABLE (s_prompt_line, toa_prompt_line_t);

static const toa_schema_field_t s_line_error_fields[] = {
    F_COUNT ("line", toa_line_error_t, line),
    F_STRING ("reason", toa_line_error_t, reason, NAME, 0),
};
TABLE (s_line_error, toa_line_error_t);

static const toa_schema_field_t s_gen_output_fields[] = {
    F_STRING ("text", toa_gen_output_t, text, TEXT, 0),
    F_STRING ("finish_reason", toa_gen_output_t, finish_reason, NAME, 0),
    F_COUNT ("prompt_tokens", toa_gen_output_t, prompt_tokens),
    F_COUNT ("completion_tokens", toa_gen_output_t, completion_tokens),
};
TABLE (s_gen_output, toa_gen_output_t);

static const toa_schema_field_t s_job_status_fields[] = {
    F_STRING ("job", toa_job_status_t, job, NAME, JOB_ID),
    F_STRING ("state", toa_job_status_t, state, NAME, NONEMPTY),
    F_STRING ("method", toa_job_status_t, method, NAME, 0),
    F_COUNT ("total", toa_job_status_t, total),
    F_COUNT ("done", toa_job_status_t, done),
    F_COUNT ("fetched", toa_job_status_t, fetched),
    F_COUNT ("active", toa_job_status_t, active),
    F_COUNT ("generations", toa_job_status_t, generations),
    F_COUNT ("failed", toa_job_status_t, failed),
    { .key = "budget", .kind = TOA_SCHEMA_INT, .offset = offsetof (toa_job_status_t, budget),
      .min = 0, .max = INT64_MAX, .flags = OPTIONAL },
    { .key = "spare", .kind = TOA_SCHEMA_INT, .offset = offsetof (toa_job_status_t, spare),
      .min = 0, .max = INT64_MAX, .flags = OPTIONAL },
    F_STRING ("waiting", toa_job_status_t, waiting, NAME, 0),
};
TABLE (s_job_status, toa_job_status_t);

/* ---- client -> broker ---- */

static const toa_schema_field_t s_submit_fields[] = {
    F_STRING ("job", toa_msg_submit_t, job, NAME, JOB_ID),
    F_STRING ("method", toa_msg_submit_t, method, NAME, NONEMPTY),
    F_STRING ("settings", toa_msg_submit_t, settings, TEXT, 0),
    F_STRUCTS ("prompts", toa_msg_submit_t, prompts, n_prompts, s_prompt_line),
    F_STRING ("token", toa_msg_submit_t, token, NAME, OPTIONAL),
};
TABLE (s_submit, toa_msg_submit_t);

static const toa_schema_field_t s_submit_begin_fields[] = {
    F_STRING ("job", toa_msg_submit_t, job, NAME, JOB_ID),
    F_STRING ("method", toa_msg_submit_t, method, NAME, NONEMPTY),
    F_STRING ("settings", toa_msg_submit_t, settings, TEXT, 0),
    F_STRING ("token", toa_msg_submit_t, token, NAME, OPTIONAL),
};
TABLE (s_submit_begin, toa_msg_submit_t);

static const toa_schema_field_t s_submit_chunk_fields[] = {
    F_STRING ("job", toa_msg_submit_chunk_t, job, NAME, JOB_ID),
    F_INT ("seq", toa_msg_submit_chunk_t, seq, 1, INT64_MAX),
    F_STRUCTS ("prompts", toa_msg_submit_chunk_t, prompts, n_prompts, s_prompt_line),
};
TABLE (s_submit_chunk, toa_msg_submit_chunk_t);

static const toa_schema_field_t s_result_ack_fields[] = {
    F_STRING ("job", toa_msg_result_ack_t, job, NAME, JOB_ID),
    F_COUNT ("seq", toa_msg_result_ack_t, seq),
    F_STRING ("token", toa_msg_result_ack_t, token, NAME, OPTIONAL),
};
TABLE (s_result_ack, toa_msg_result_ack_t);

static const toa_schema_field_t s_status_request_fields[] = {
    F_STRING ("job", toa_msg_job_ref_t, job, NAME, JOB_ID | TOA_SCHEMA_EMPTY_OK),
    F_STRING ("token", toa_msg_job_ref_t, token, NAME, OPTIONAL),
};
TABLE (s_status_request, toa_msg_job_ref_t);

static const toa_schema_field_t s_job_ref_fields[] = {
    F_STRING ("job", toa_msg_job_ref_t, job, NAME, JOB_ID),
    F_STRING ("token", toa_msg_job_ref_t, token, NAME, OPTIONAL),
};
TABLE (s_job_ref, toa_msg_job_ref_t);

/* ---- broker -> client ---- */

static const toa_schema_field_t s_accept_fields[] = {
    F_STRING ("job", toa_msg_accept_t, job, NAME, JOB_ID),
    F_COUNT ("n_prompts", toa_msg_accept_t, n_prompts),
};
TABLE (s_accept, toa_msg_accept_t);

static const toa_schema_field_t s_reject_fields[] = {
    F_STRING ("job", toa_msg_reject_t, job, NAME, JOB_ID),
    F_STRING ("message", toa_msg_reject_t, message, NAME, 0),
    F_STRUCTS ("errors", toa_msg_reject_t, errors, n_errors, s_line_error),
};
TABLE (s_reject, toa_msg_reject_t);

static const toa_schema_field_t s_progress_fields[] = {
    F_STRUCT ("status", toa_msg_progress_t, status, s_job_status),
};
TABLE (s_progress, toa_msg_progress_t);

static const toa_schema_field_t s_result_fields[] = {
    F_STRING ("job", toa_msg_result_t, job, NAME, JOB_ID),
    F_COUNT ("seq", toa_msg_result_t, seq),
    F_STRING ("result", toa_msg_result_t, result, TEXT, 0),
};
TABLE (s_result, toa_msg_result_t);

static const toa_schema_field_t s_status_fields[] = {
    F_STRUCTS ("jobs", toa_msg_status_t, jobs, n_jobs, s_job_status),
};
TABLE (s_status, toa_msg_status_t);

static const toa_schema_field_t s_error_fields[] = {
    F_INT ("code", toa_msg_error_t, code, INT64_MIN, INT64_MAX),
    F_STRING ("message", toa_msg_error_t, message, NAME, 0),
    F_STRING ("job", toa_msg_error_t, job, NAME, JOB_ID | TOA_SCHEMA_EMPTY_OK | OPTIONAL),
};
TABLE (s_error, toa_msg_error_t);

/* ---- worker/scorer -> broker ---- */

static const toa_schema_field_t s_ready_fields[] = {
    { .key = "kind", .kind = TOA_SCHEMA_PEER_KIND, .offset = offsetof (toa_msg_ready_t, kind) },
    F_STRING ("name", toa_msg_ready_t, name, NAME, 0),
    { .key = "serves", .kind = TOA_SCHEMA_STRINGS, .offset = offsetof (toa_msg_ready_t, serves),
      .aux_offset = offsetof (toa_msg_ready_t, n_serves), .limit = NAME, .flags = NONEMPTY,
      .max_items = TOA_PROTO_MAX_SERVES },
    F_INT ("credit", toa_msg_ready_t, credit, 1, INT64_MAX),
    F_INT ("heartbeat_ms", toa_msg_ready_t, heartbeat_ms, 1, INT64_MAX),
};
TABLE (s_ready, toa_msg_ready_t);

static const toa_schema_field_t s_gen_result_fields[] = {
    F_TASK (toa_msg_gen_result_t),
    F_STRUCTS ("outputs", toa_msg_gen_result_t, outputs, n_outputs, s_gen_output),
    F_COUNT ("latency_ms", toa_msg_gen_result_t, latency_ms),
};
TABLE (s_gen_result, toa_msg_gen_result_t);

static const toa_schema_field_t s_score_result_fields[] = {
    F_TASK (toa_msg_score_result_t),
    F_DOUBLE ("reward", toa_msg_score_result_t, reward, -DBL_MAX, DBL_MAX),
};
TABLE (s_score_result, toa_msg_score_result_t);

static const toa_schema_field_t s_task_failure_fields[] = {
    F_TASK (toa_msg_task_failure_t),
    { .key = "class", .kind = TOA_SCHEMA_FAILURE_CLASS,
      .offset = offsetof (toa_msg_task_failure_t, failure_class) },
    F_STRING ("reason", toa_msg_task_failure_t, reason, NAME, 0),
    F_INT ("http_status", toa_msg_task_failure_t, http_status, 0, 999),
};
TABLE (s_task_failure, toa_msg_task_failure_t);

/* ---- broker -> worker/scorer ---- */

static const toa_schema_field_t s_gen_task_fields[] = {
    F_TASK (toa_msg_gen_task_t),
    F_STRING ("job", toa_msg_gen_task_t, job, NAME, JOB_ID),
    F_STRING ("model", toa_msg_gen_task_t, model, NAME, NONEMPTY),
    F_STRUCTS ("messages", toa_msg_gen_task_t, messages, n_messages, s_chat_message),
    F_DOUBLE ("temperature", toa_msg_gen_task_t, temperature, 0.0, DBL_MAX),
    F_DOUBLE ("top_p", toa_msg_gen_task_t, top_p, 0.0, 1.0),
    F_COUNT ("max_tokens", toa_msg_gen_task_t, max_tokens),
    { .key = "seed", .kind = TOA_SCHEMA_SEED, .offset = offsetof (toa_msg_gen_task_t, has_seed),
      .aux_offset = offsetof (toa_msg_gen_task_t, seed), .flags = OPTIONAL },
    F_STRINGS ("stop", toa_msg_gen_task_t, stop, n_stop, NAME, NONEMPTY),
    F_INT ("n", toa_msg_gen_task_t, n, 1, INT64_MAX),
    { .key = "affinity", .kind = TOA_SCHEMA_UINT,
      .offset = offsetof (toa_msg_gen_task_t, affinity), .flags = OPTIONAL },
};
TABLE (s_gen_task, toa_msg_gen_task_t);

static const toa_schema_field_t s_score_task_fields[] = {
    F_TASK (toa_msg_score_task_t),
    F_STRING ("job", toa_msg_score_task_t, job, NAME, JOB_ID),
    F_STRING ("backend", toa_msg_score_task_t, backend, NAME, NONEMPTY),
    F_STRUCTS ("messages", toa_msg_score_task_t, messages, n_messages, s_chat_message),
    F_STRING ("response", toa_msg_score_task_t, response, TEXT, 0),
    F_STRING ("reference", toa_msg_score_task_t, reference, TEXT, OPTIONAL),
};
TABLE (s_score_task, toa_msg_score_task_t);

/* ---- both ways ---- */

static const toa_schema_field_t s_peer_stat_fields[] = {
    F_STRING ("name", toa_peer_stat_t, name, NAME, NONEMPTY),
    F_STRING ("target", toa_peer_stat_t, target, NAME, 0),
    F_STRING ("outcome", toa_peer_stat_t, outcome, NAME, 0),
    F_COUNT ("value", toa_peer_stat_t, value),
};
TABLE (s_peer_stat, toa_peer_stat_t);

static const toa_schema_field_t s_heartbeat_fields[] = {
    { .key = "stats", .kind = TOA_SCHEMA_STRUCTS, .offset = offsetof (toa_msg_heartbeat_t, stats),
      .aux_offset = offsetof (toa_msg_heartbeat_t, n_stats), .sub = &s_peer_stat,
      .flags = OPTIONAL },
};
TABLE (s_heartbeat, toa_msg_heartbeat_t);

static const toa_schema_field_t s_disconnect_fields[] = {
    F_STRING ("reason", toa_msg_disconnect_t, reason, NAME, 0),
};
TABLE (s_disconnect, toa_msg_disconnect_t);

/* Indexed by toa_msg_type_t. */
static const struct {
    const char *name;
    const toa_schema_table_t *table;
} s_messages[TOA_MSG_TYPE_COUNT] = {
    [TOA_MSG_NONE] = { NULL, NULL },
    [TOA_MSG_SUBMIT] = { "submit", &s_submit },
    [TOA_MSG_RESULT_ACK] = { "result-ack", &s_result_ack },
    [TOA_MSG_STATUS_REQUEST] = { "status-request", &s_status_request },
    [TOA_MSG_CANCEL] = { "cancel", &s_job_ref },
    [TOA_MSG_ATTACH] = { "attach", &s_job_ref },
    [TOA_MSG_SUBMIT_BEGIN] = { "submit-begin", &s_submit_begin },
    [TOA_MSG_SUBMIT_CHUNK] = { "submit-chunk", &s_submit_chunk },
    [TOA_MSG_SUBMIT_END] = { "submit-end", &s_accept },
    [TOA_MSG_ACCEPT] = { "accept", &s_accept },
    [TOA_MSG_REJECT] = { "reject", &s_reject },
    [TOA_MSG_PROGRESS] = { "progress", &s_progress },
    [TOA_MSG_RESULT] = { "result", &s_result },
    [TOA_MSG_STATUS] = { "status", &s_status },
    [TOA_MSG_ERROR] = { "error", &s_error },
    [TOA_MSG_SUBMIT_ACK] = { "submit-ack", &s_result_ack },
    [TOA_MSG_READY] = { "ready", &s_ready },
    [TOA_MSG_GEN_RESULT] = { "gen-result", &s_gen_result },
    [TOA_MSG_SCORE_RESULT] = { "score-result", &s_score_result },
    [TOA_MSG_TASK_FAILURE] = { "task-failure", &s_task_failure },
    [TOA_MSG_GEN_TASK] = { "gen-task", &s_gen_task },
    [TOA_MSG_SCORE_TASK] = { "score-task", &s_score_task },
    [TOA_MSG_HEARTBEAT] = { "heartbeat", &s_heartbeat },
    [TOA_MSG_DISCONNECT] = { "disconnect", &s_disconnect },
};

static const char *const s_status_texts[TOA_PROTO_STATUS_COUNT] = {
    [TOA_PROTO_OK] = "ok",
    [TOA_PROTO_ERR_TOO_LARGE] = "message larger than the limit",
    [TOA_PROTO_ERR_MALFORMED] = "not msgpack, or truncated",
    [TOA_PROTO_ERR_COUNT] = "container declares more items than bytes remain",
    [TOA_PROTO_ERR_DEPTH] = "containers nested too deep",
    [TOA_PROTO_ERR_TRAILING] = "trailing bytes after message",
    [TOA_PROTO_ERR_NOT_MAP] = "message is not a map",
    [TOA_PROTO_ERR_VERSION] = "protocol version missing or unsupported",
    [TOA_PROTO_ERR_COMMAND] = "command missing or unknown",
    [TOA_PROTO_ERR_MISSING_FIELD] = "required field missing",
    [TOA_PROTO_ERR_WRONG_TYPE] = "field has the wrong type",
    [TOA_PROTO_ERR_STRING_TOO_LONG] = "string too long",
    [TOA_PROTO_ERR_ARRAY_TOO_LONG] = "array too long",
    [TOA_PROTO_ERR_BAD_VALUE] = "value out of range or invalid",
    [TOA_PROTO_ERR_DUPLICATE_KEY] = "key appears twice in one map",
    [TOA_PROTO_ERR_NOMEM] = "out of memory",
};

const toa_schema_table_t *
toa_schema_message (toa_msg_type_t type)
{
    if ((int) type <= TOA_MSG_NONE || type >= TOA_MSG_TYPE_COUNT)
        return NULL;
    return s_messages[type].table;
}

toa_msg_type_t
toa_schema_type_by_name (const char *name, size_t len)
{
    for (int type = TOA_MSG_NONE + 1; type < TOA_MSG_TYPE_COUNT; type++) {
        const char *candidate = s_messages[type].name;
        if (len > 0 && candidate[0] == name[0] && strlen (candidate) == len
            && memcmp (candidate, name, len) == 0)
            return (toa_msg_type_t) type;
    }
    return TOA_MSG_NONE;
}

const char *
toa_msg_type_name (toa_msg_type_t type)
{
    if ((int) type <= TOA_MSG_NONE || type >= TOA_MSG_TYPE_COUNT)
        return NULL;
    return s_messages[type].name;
}

const char *
toa_proto_status_text (toa_proto_status_t status)
{
    if ((int) status < 0 || status >= TOA_PROTO_STATUS_COUNT)
        return "unknown status";
    return s_status_texts[status];
}

void
toa_schema_free (const toa_schema_table_t *table, void *base)
{
    char *bytes = base;
    for (size_t i = 0; i < table->n_fields; i++) {
        const toa_schema_field_t *field = &table->fields[i];
        void *value = bytes + field->offset;
        switch (field->kind) {
        case TOA_SCHEMA_STRING:
            free (*(char **) value);
            *(char **) value = NULL;
            break;
        case TOA_SCHEMA_STRUCT:
            toa_schema_free (field->sub, value);
            break;
        case TOA_SCHEMA_STRUCTS: {
            char *items = *(char **) value;
            size_t *count = (size_t *) (bytes + field->aux_offset);
            for (size_t k = 0; items && k < *count; k++)
                toa_schema_free (field->sub, items + k * field->sub->size);
            free (items);
            *(char **) value = NULL;
            *count = 0;
            break;
        }
        case TOA_SCHEMA_STRINGS: {
            char **items = *(char ***) value;
            size_t *count = (size_t *) (bytes + field->aux_offset);
            for (size_t k = 0; items && k < *count; k++)
                free (items[k]);
            free (items);
            *(char ***) value = NULL;
            *count = 0;
            break;
        }
        default:
            break;
        }
    }
}

void
toa_msg_clear (toa_msg_t *msg)
{
    if (!msg)
        return;
    const toa_schema_table_t *table = toa_schema_message (msg->type);
    if (table)
        toa_schema_free (table, &msg->u);
    memset (msg, 0, sizeof *msg);
}

const char *
toa_proto_error_text (const toa_proto_error_t *error, char *buf, size_t size)
{
    snprintf (buf, size, "bad message: %s at %s", toa_proto_status_text (error->status),
              error->field[0] ? error->field : "top level");
    return buf;
}
