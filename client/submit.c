/* submit.c - `toa submit`: local checks, settings, job id, the submit
 * message, then the receive loop (see submit.h). */
#include "client/submit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/conn.h"
#include "client/exit_codes.h"
#include "client/input.h"
#include "client/output.h"
#include "client/receive.h"
#include "client/settings.h"
#include "common/config.h"
#include "common/util.h"

#define S_MAX_OVERRIDES 256

char *
toa_submit_job_id (time_t when, uint32_t random, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r (&when, &tm);
    snprintf (buf, size, "%04d%02d%02d-%02d%02d%02d-%06x", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned) (random & 0xffffffu));
    return buf;
}

bool
toa_submit_job_id_valid (const char *job)
{
    size_t length = strlen (job);
    return length >= 1 && length <= 64
           && strspn (job, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
                  == length;
}

/* 32 random bits from the kernel, or from the clock and pid. */
static uint32_t
s_random (void)
{
    uint32_t value = 0;
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read (fd, &value, sizeof value);
        close (fd);
        if (got == (ssize_t) sizeof value)
            return value;
    }
    return (uint32_t) toa_splitmix64 ((uint64_t) toa_wall_ms () ^ ((uint64_t) getpid () << 32));
}

/* Loads the config with the flags' overrides; prints problems. */
static toa_config_t *
s_load_config (const toa_submit_options_t *options)
{
    if (options->n_sets > S_MAX_OVERRIDES - 2) {
        fprintf (stderr, "toa submit: at most %d --set flags\n", S_MAX_OVERRIDES - 2);
        return NULL;
    }
    char *overrides[S_MAX_OVERRIDES];
    int n = toa_settings_overrides (options->method, options->samples, options->sets,
                                    options->n_sets, overrides);
    if (n < 0) {
        fprintf (stderr, "toa submit: out of memory\n");
        return NULL;
    }
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_load (options->config_path,
                                            (const char *const *) overrides, (size_t) n, &errors);
    if (!config)
        toa_errors_print (&errors, stderr);
    toa_errors_clear (&errors);
    for (int i = 0; i < n; i++)
        free (overrides[i]);
    if (config && config->n_models == 0) {
        fprintf (stderr, "%s: models: no model configured; a job needs at least one\n",
                 options->config_path ? options->config_path : "<defaults>");
        toa_config_destroy (&config);
    }
    return config;
}

/* A chunk: at most this many prompts, or about this many bytes; at most
 * this many chunks sent and not yet acknowledged. */
#define S_CHUNK_PROMPTS 1000
#define S_CHUNK_BYTES (1024u * 1024u)
#define S_CHUNKS_IN_FLIGHT 4

/* The streaming of one submission: submit-begin, submit-chunk..., submit-end. */
typedef struct {
    toa_conn_t *conn;
    const char *job;
    int timeout_ms;
    size_t chunk_bytes;          /* bytes of prompt text a chunk carries, about */
    int64_t sent, acked;         /* chunks sent; acknowledged (0 = the begin) */
    int64_t lines;               /* prompt lines sent */
    volatile sig_atomic_t *interrupted;
    toa_msg_t stop;              /* the answer that ended the streaming, if any */
    bool stopped;
} s_stream_t;

/* Waits for the broker to acknowledge chunk UPTO. Returns 0, 1 when the
 * broker answered something else (kept in STREAM->stop for the receive
 * loop), or an exit code. */
static int
s_wait_acks (s_stream_t *stream, int64_t upto)
{
    int64_t deadline = toa_now_ms () + stream->timeout_ms;
    while (stream->acked < upto) {
        if (*stream->interrupted) {
            fprintf (stderr, "toa submit: interrupted mid-submission; the broker drops what "
                     "it got\n");
            return TOA_EXIT_DETACHED;
        }
        int64_t left = deadline - toa_now_ms ();
        if (left <= 0) {
            fprintf (stderr, "toa submit: no answer from broker at %s\n",
                     toa_conn_endpoint (stream->conn));
            return TOA_EXIT_NO_BROKER;
        }
        toa_msg_t msg;
        if (toa_conn_recv (stream->conn, &msg, left < 250 ? (int) left : 250) != 0)
            continue;
        if (msg.type == TOA_MSG_SUBMIT_ACK && msg.u.result_ack.job
            && strcmp (msg.u.result_ack.job, stream->job) == 0) {
            if (msg.u.result_ack.seq > stream->acked)
                stream->acked = msg.u.result_ack.seq;
            deadline = toa_now_ms () + stream->timeout_ms;
            toa_msg_clear (&msg);
        }
        else if (msg.type == TOA_MSG_ERROR || msg.type == TOA_MSG_REJECT) {
            stream->stop = msg;      /* the receive loop says what it means */
            stream->stopped = true;
            return 1;
        }
        else
            toa_msg_clear (&msg);
    }
    return 0;
}

/* Sends one chunk of COUNT prompts. Returns 0 or an exit code. */
static int
s_send_chunk (s_stream_t *stream, toa_prompt_line_t *prompts, size_t count)
{
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_SUBMIT_CHUNK;
    msg.u.submit_chunk.job = (char *) stream->job;
    msg.u.submit_chunk.seq = stream->sent + 1;
    msg.u.submit_chunk.prompts = prompts;
    msg.u.submit_chunk.n_prompts = count;
    if (toa_conn_send (stream->conn, &msg) != 0) {
        fprintf (stderr, "toa submit: cannot send to %s: %s\n",
                 toa_conn_endpoint (stream->conn), strerror (errno));
        return TOA_EXIT_NO_BROKER;
    }
    stream->sent++;
    stream->lines += (int64_t) count;
    return 0;
}

static void
s_free_prompts (toa_prompt_line_t *prompts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free (prompts[i].text);
}

/* Reads PATH again and sends its prompts in chunks, a few in flight.
 * Returns 0, 1 (the broker answered otherwise: STREAM->stop), or an exit code. */
static int
s_send_chunks (s_stream_t *stream, const char *path)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_input_t *input = toa_input_open (path, &errors);
    toa_prompt_line_t *prompts = calloc (S_CHUNK_PROMPTS, sizeof *prompts);
    int code = 0;
    if (!input || !prompts) {
        toa_errors_print (&errors, stderr);
        code = TOA_EXIT_FAILED;
    }
    size_t count = 0, bytes = 0, length, line_no;
    const char *text;
    int rc = 0;
    while (code == 0 && (rc = toa_input_next (input, &text, &length, &line_no, &errors)) == 1) {
        if (toa_input_blank (text, length))
            continue;
        if (!(prompts[count].text = strdup (text))) {
            code = TOA_EXIT_FAILED;
            break;
        }
        prompts[count++].line = (int64_t) line_no;
        bytes += length + 16;
        if (count == S_CHUNK_PROMPTS || bytes >= stream->chunk_bytes) {
            code = s_send_chunk (stream, prompts, count);
            s_free_prompts (prompts, count);
            count = bytes = 0;
            if (code == 0 && stream->sent - stream->acked >= S_CHUNKS_IN_FLIGHT)
                code = s_wait_acks (stream, stream->sent - S_CHUNKS_IN_FLIGHT + 1);
        }
    }
    if (rc < 0) {
        toa_errors_print (&errors, stderr);   /* the file changed since it was checked */
        code = TOA_EXIT_USAGE;
    }
    if (code == 0 && count > 0)
        code = s_send_chunk (stream, prompts, count);
    if (prompts)
        s_free_prompts (prompts, count);
    free (prompts);
    toa_input_destroy (&input);
    toa_errors_clear (&errors);
    return code;
}

/* Streams the submission: begin (settings), the chunks, end. Returns 0 when
 * the end is sent (accept or reject follows), 1 when the broker answered
 * otherwise first (STREAM->stop), or an exit code. */
static int
s_stream_submit (s_stream_t *stream, const char *method, char *settings, const char *path)
{
    toa_msg_t begin;
    memset (&begin, 0, sizeof begin);
    begin.type = TOA_MSG_SUBMIT_BEGIN;
    begin.u.submit.job = (char *) stream->job;
    begin.u.submit.method = (char *) method;
    begin.u.submit.settings = settings;
    if (toa_conn_send (stream->conn, &begin) != 0) {
        fprintf (stderr, "toa submit: cannot send to %s: %s\n",
                 toa_conn_endpoint (stream->conn), strerror (errno));
        return TOA_EXIT_NO_BROKER;
    }
    int code = s_wait_acks (stream, 0);
    if (code == 0)
        code = s_send_chunks (stream, path);
    if (code == 0)
        code = s_wait_acks (stream, stream->sent);
    if (code != 0)
        return code;
    toa_msg_t end;
    memset (&end, 0, sizeof end);
    end.type = TOA_MSG_SUBMIT_END;
    end.u.accept.job = (char *) stream->job;
    end.u.accept.n_prompts = stream->lines;
    if (toa_conn_send (stream->conn, &end) != 0) {
        fprintf (stderr, "toa submit: cannot send to %s: %s\n",
                 toa_conn_endpoint (stream->conn), strerror (errno));
        return TOA_EXIT_NO_BROKER;
    }
    return 0;
}

/* " --config F --endpoint E" for the resume hint, as given. */
static void
s_resume_flags (const toa_submit_options_t *options, char *buf, size_t size)
{
    snprintf (buf, size, "%s%s%s%s", options->config_path ? " --config " : "",
              options->config_path ? options->config_path : "",
              options->endpoint ? " --endpoint " : "", options->endpoint ? options->endpoint : "");
}

/* Connects, submits and follows the job. */
static int
s_run (const toa_submit_options_t *options, const toa_config_t *config, long n_prompts,
       toa_output_t *output, char *settings, const char *job)
{
    toa_conn_t *conn = toa_conn_open (options->endpoint, config);
    if (!conn)
        return TOA_EXIT_NO_BROKER;
    if (toa_conn_claim_job (conn, job, true) != 0) {
        toa_conn_destroy (&conn);
        return TOA_EXIT_FAILED;
    }
    if (*options->interrupted) {
        fprintf (stderr, "toa submit: interrupted; nothing sent\n");
        toa_conn_destroy (&conn);
        return TOA_EXIT_DETACHED;
    }
    s_stream_t stream = {.conn = conn, .job = job, .timeout_ms = options->timeout_ms,
                         .chunk_bytes = S_CHUNK_BYTES, .interrupted = options->interrupted};
    if (config->broker.max_message_bytes / 2 < stream.chunk_bytes)
        stream.chunk_bytes = config->broker.max_message_bytes / 2;
    int code = s_stream_submit (&stream, config->method.name, settings, options->input_path);
    if (code > 1) {
        toa_conn_destroy (&conn);
        return code;
    }
    if (code == 0 && (!options->quiet || options->say_submitted))
        fprintf (stderr, "job %s submitted: %ld prompts\n", job, n_prompts);
    char resume[2048];
    s_resume_flags (options, resume, sizeof resume);
    toa_receive_options_t receive = {
        .mode = TOA_RECEIVE_SUBMIT,
        .job = job,
        .input_path = options->input_path,
        .output_path = options->output_path,
        .resume_flags = resume,
        .heartbeat_ms = config->broker.heartbeat_ms,
        .timeout_ms = options->timeout_ms,
        .give_up_ms = options->give_up_ms,
        .budget_per_prompt = toa_settings_budget (config),
        .quiet = options->quiet,
        .interrupted = options->interrupted,
        .first = stream.stopped ? &stream.stop : NULL,
    };
    code = toa_receive_run (conn, output, &receive, NULL);
    if (stream.stopped)
        toa_msg_clear (&stream.stop);
    toa_conn_destroy (&conn);
    return code;
}

/* Checks what a submit needs before anything is sent: every line of the
 * input (N_PROMPTS gets their number), the settings, the output file.
 * Returns 0, or an exit code with the reason printed. */
static int
s_prepare (const toa_submit_options_t *options, const toa_config_t *config, long *n_prompts,
           char **settings, toa_output_t **output)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    int code = 0;
    size_t largest = 0;
    if ((*n_prompts = toa_input_check_file (options->input_path, &largest, &errors)) < 0) {
        toa_errors_print (&errors, stderr);
        fprintf (stderr, "toa submit: %s: nothing sent\n", options->input_path);
        code = TOA_EXIT_USAGE;
    }
    else if (!(*settings = toa_settings_text (config))) {
        fprintf (stderr, "toa submit: out of memory\n");
        code = TOA_EXIT_FAILED;
    }
    else if (largest + 256 > config->broker.max_message_bytes
             || strlen (*settings) + 256 > config->broker.max_message_bytes) {
        fprintf (stderr, "toa submit: %s: a line (%zu bytes) or the settings (%zu bytes) are "
                 "more than one message may carry (broker.max_message_bytes = %zu); nothing "
                 "sent\n", options->input_path, largest, strlen (*settings),
                 config->broker.max_message_bytes);
        code = TOA_EXIT_USAGE;
    }
    else if (!(*output = toa_output_open (options->output_path, &errors))) {
        toa_errors_print (&errors, stderr);
        code = TOA_EXIT_USAGE;
    }
    else {
        if (toa_output_removed_tail (*output))
            fprintf (stderr, "toa: %s: cut off an incomplete last line (%zu bytes)\n",
                     options->output_path, toa_output_removed_tail (*output));
        if (toa_output_count_at_open (*output) && !options->quiet)
            fprintf (stderr, "toa: %s already holds %zu results; those prompts are not "
                     "written again\n", options->output_path,
                     toa_output_count_at_open (*output));
    }
    toa_errors_clear (&errors);
    return code;
}

int
toa_submit_run (const toa_submit_options_t *options)
{
    if (options->job && !toa_submit_job_id_valid (options->job)) {
        fprintf (stderr, "toa submit: --job '%s': a job id is 1 to 64 of A-Z a-z 0-9 _ . -\n",
                 options->job);
        return TOA_EXIT_USAGE;
    }
    toa_config_t *config = s_load_config (options);
    if (!config)
        return TOA_EXIT_USAGE;
    long n_prompts = 0;
    toa_output_t *output = NULL;
    char *settings = NULL;
    int code = s_prepare (options, config, &n_prompts, &settings, &output);
    if (code == 0) {
        char job[80];
        if (options->job)
            snprintf (job, sizeof job, "%s", options->job);
        else
            toa_submit_job_id (time (NULL), s_random (), job, sizeof job);
        code = s_run (options, config, n_prompts, output, settings, job);
    }
    free (settings);
    toa_output_destroy (&output);
    toa_config_destroy (&config);
    return code;
}
