/* samples.h - test support: one message of every type with every field set
 * (arrays of two or more items, seed and reference present, non-ASCII text),
 * for the proto unit tests, the fuzzer's seed corpus and the README example.
 * Header-only (static functions) so that each test program takes a copy. */
#ifndef TOA_TEST_SAMPLES_H
#define TOA_TEST_SAMPLES_H

#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

static inline char *
sample_text (const char *text)
{
    char *copy = malloc (strlen (text) + 1);
    if (copy)
        strcpy (copy, text);
    return copy;
}

static inline toa_chat_message_t *
sample_messages (size_t *count)
{
    toa_chat_message_t *messages = calloc (3, sizeof *messages);
    messages[0].role = sample_text ("system");
    messages[0].content = sample_text ("You are terse.");
    messages[1].role = sample_text ("user");
    messages[1].content = sample_text ("Translate \"Grüße\" — and say why.");
    messages[2].role = sample_text ("assistant");
    messages[2].content = sample_text ("");
    *count = 3;
    return messages;
}

static inline void
sample_job_status (toa_job_status_t *status, const char *job, int64_t base)
{
    status->job = sample_text (job);
    status->state = sample_text ("running");
    status->method = sample_text ("toa");
    status->total = base + 100;
    status->done = base + 40;
    status->fetched = base + 30;
    status->active = base + 8;
    status->generations = base + 900;
    status->failed = base + 2;
    status->waiting = sample_text ("no worker serves model \"qwen\"");
}

static inline char **
sample_strings (size_t *count, const char *a, const char *b)
{
    char **items = calloc (2, sizeof *items);
    items[0] = sample_text (a);
    items[1] = sample_text (b);
    *count = 2;
    return items;
}

/* Fills MSG (zeroed first) with a populated message of TYPE. */
static inline void
sample_build (toa_msg_type_t type, toa_msg_t *msg)
{
    memset (msg, 0, sizeof *msg);
    msg->type = type;
    switch (type) {
    case TOA_MSG_SUBMIT: {
        toa_msg_submit_t *m = &msg->u.submit;
        m->job = sample_text ("job-2024.11_a");
        m->method = sample_text ("toa");
        m->settings = sample_text ("{\"samples\":4,\"models\":[\"a\",\"b\"]}");
        m->n_prompts = 3;
        m->prompts = calloc (3, sizeof *m->prompts);
        m->prompts[0] = (toa_prompt_line_t) { 1, sample_text ("{\"id\":1,\"instruction\":\"hi\"}") };
        m->prompts[1] = (toa_prompt_line_t) { 2, sample_text ("{\"id\":\"x\",\"instruction\":\"日本\"}") };
        m->prompts[2] = (toa_prompt_line_t) { 70000, sample_text ("{}") };
        break;
    }
    case TOA_MSG_SUBMIT_BEGIN:
        msg->u.submit.job = sample_text ("job-2024.11_a");
        msg->u.submit.method = sample_text ("best-of-n");
        msg->u.submit.settings = sample_text ("{\"samples\":1,\"models\":[\"a\"]}");
        break;
    case TOA_MSG_SUBMIT_CHUNK: {
        toa_msg_submit_chunk_t *m = &msg->u.submit_chunk;
        m->job = sample_text ("job-2024.11_a");
        m->seq = 3;
        m->n_prompts = 2;
        m->prompts = calloc (2, sizeof *m->prompts);
        m->prompts[0] = (toa_prompt_line_t) { 2001, sample_text ("{\"id\":1,\"instruction\":\"hi\"}") };
        m->prompts[1] = (toa_prompt_line_t) { 2003, sample_text ("{\"id\":\"y\",\"instruction\":\"x\"}") };
        break;
    }
    case TOA_MSG_SUBMIT_END:
        msg->u.accept.job = sample_text ("job-2024.11_a");
        msg->u.accept.n_prompts = 1000000;
        break;
    case TOA_MSG_RESULT_ACK:
    case TOA_MSG_SUBMIT_ACK:
        msg->u.result_ack.job = sample_text ("job1");
        msg->u.result_ack.seq = 4000000000LL;
        break;
    case TOA_MSG_STATUS_REQUEST:
    case TOA_MSG_CANCEL:
    case TOA_MSG_ATTACH:
        msg->u.job_ref.job = sample_text ("job1");
        break;
    case TOA_MSG_ACCEPT:
        msg->u.accept.job = sample_text ("job1");
        msg->u.accept.n_prompts = 12345;
        break;
    case TOA_MSG_REJECT: {
        toa_msg_reject_t *m = &msg->u.reject;
        m->job = sample_text ("job1");
        m->message = sample_text ("2 bad lines in prompts.jsonl");
        m->n_errors = 2;
        m->errors = calloc (2, sizeof *m->errors);
        m->errors[0] = (toa_line_error_t) { 0, sample_text ("batch: no prompts") };
        m->errors[1] = (toa_line_error_t) { 17, sample_text ("line 17: \"id\" repeats line 3") };
        break;
    }
    case TOA_MSG_PROGRESS:
        sample_job_status (&msg->u.progress.status, "job1", 0);
        break;
    case TOA_MSG_RESULT:
        msg->u.result.job = sample_text ("job1");
        msg->u.result.seq = 41;
        msg->u.result.result = sample_text ("{\"id\":1,\"best\":{\"reward\":0.91}}");
        break;
    case TOA_MSG_STATUS:
        msg->u.status.n_jobs = 2;
        msg->u.status.jobs = calloc (2, sizeof *msg->u.status.jobs);
        sample_job_status (&msg->u.status.jobs[0], "job1", 0);
        sample_job_status (&msg->u.status.jobs[1], "job-2", 1000000);
        break;
    case TOA_MSG_ERROR:
        msg->u.error.code = -42;
        msg->u.error.message = sample_text ("unknown job");
        msg->u.error.job = sample_text ("job1");
        break;
    case TOA_MSG_READY:
        msg->u.ready.kind = TOA_PEER_SCORER;
        msg->u.ready.name = sample_text ("host-3:4242");
        msg->u.ready.serves = sample_strings (&msg->u.ready.n_serves, "chrf", "math-verify");
        msg->u.ready.credit = 64;
        msg->u.ready.heartbeat_ms = 1000;
        break;
    case TOA_MSG_GEN_RESULT: {
        toa_msg_gen_result_t *m = &msg->u.gen_result;
        m->task = UINT64_C (0xfedcba9876543210);
        m->attempt = 3;
        m->n_outputs = 2;
        m->outputs = calloc (2, sizeof *m->outputs);
        m->outputs[0] = (toa_gen_output_t) { sample_text ("Hello — world"), sample_text ("stop"), 12, 345 };
        m->outputs[1] = (toa_gen_output_t) { sample_text (""), sample_text ("length"), 12, 4096 };
        m->latency_ms = 1234;
        break;
    }
    case TOA_MSG_SCORE_RESULT:
        msg->u.score_result.task = 7;
        msg->u.score_result.attempt = 1;
        msg->u.score_result.reward = -3.25e-7;
        break;
    case TOA_MSG_TASK_FAILURE:
        msg->u.task_failure.task = 99;
        msg->u.task_failure.attempt = 2;
        msg->u.task_failure.failure_class = TOA_FAILURE_PERMANENT;
        msg->u.task_failure.reason = sample_text ("model not found");
        msg->u.task_failure.http_status = 404;
        break;
    case TOA_MSG_GEN_TASK: {
        toa_msg_gen_task_t *m = &msg->u.gen_task;
        m->task = UINT64_C (18446744073709551615);
        m->attempt = 2;
        m->job = sample_text ("job1");
        m->model = sample_text ("meta-llama/Llama-3.1-8B-Instruct");
        m->messages = sample_messages (&m->n_messages);
        m->temperature = 0.7;
        m->top_p = 0.95;
        m->max_tokens = 2048;
        m->has_seed = true;
        m->seed = UINT64_C (0x8000000000000001);
        m->stop = sample_strings (&m->n_stop, "</s>", "\n\nUser:");
        m->n = 4;
        break;
    }
    case TOA_MSG_SCORE_TASK: {
        toa_msg_score_task_t *m = &msg->u.score_task;
        m->task = 123456789;
        m->attempt = 1;
        m->job = sample_text ("job1");
        m->backend = sample_text ("chrf");
        m->messages = sample_messages (&m->n_messages);
        m->response = sample_text ("Grüße: greetings.");
        m->reference = sample_text ("Greetings.");
        break;
    }
    case TOA_MSG_DISCONNECT:
        msg->u.disconnect.reason = sample_text ("broker shutting down");
        break;
    default:   /* heartbeat: no fields */
        break;
    }
}

#endif
