/* client_fake_broker.c - plays the broker's side of the client conversation
 * (docs/jobs.md) over a real ZeroMQ ROUTER, for integration tests of `toa`.
 * One job at a time; prompt I finishes as result seq I; a result line is the
 * prompt plus made-up responses and rewards. Writes one line per thing it
 * sees or does to the events file ("submit JOB N", "accept JOB", "reject JOB",
 * "result SEQ", "ack SEQ", "attach JOB", "status JOB", "cancel JOB",
 * "done JOB", "bad", "error CODE").
 *
 * Usage: client_fake_broker --endpoint tcp://127.0.0.1:PORT --events FILE
 *   --heartbeat-ms N   progress at least this often while attached (200)
 *   --interval-ms N    between results (2)
 *   --reject           reject every submit: line errors for the 1st and 3rd
 *                      prompts and a line-0 settings error
 *   --duplicate        send every result twice
 *   --stall-after K    after K results, send only progress until an attach
 *   --silent-after K   after K results, send nothing at all until an attach
 *   --resume JOB --input FILE --acked K
 *                      start as a restarted broker: JOB holds the prompts of
 *                      FILE with results 0..K-1 acknowledged; nothing is sent
 *                      until the client attaches
 *   --run-ms N         exit after N ms (60000)
 * Exit status 0, or 2 on bad arguments. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <zmq.h>

#include "common/util.h"
#include "proto/proto.h"
#include "proto/transport.h"

#define S_WINDOW 64

typedef struct {
    const char *endpoint, *events_path, *resume_job, *resume_input;
    long heartbeat_ms, interval_ms, stall_after, silent_after, resume_acked, run_ms;
    bool reject, duplicate;
} s_options_t;

typedef struct {
    bool present;
    char id[80];
    char method[32];
    char **prompts;              /* JSON text of each prompt */
    size_t n;
    int64_t next_seq;            /* next result to send */
    int64_t acked;               /* results 0..acked-1 are acknowledged */
    int64_t sent_total;          /* result messages sent, repeats included */
    bool cancelled;
    bool stalled, silent;        /* waiting for an attach */
    long stall_at, silent_at;    /* result messages sent before that happens (-1: never;
                                    once only) */
    toa_peer_id_t peer;
    bool has_peer;
    int64_t last_result_ms, last_progress_ms;
} s_job_t;

static volatile sig_atomic_t s_interrupted = 0;
static FILE *s_events;

static void
s_on_signal (int signal_number)
{
    (void) signal_number;
    s_interrupted = 1;
}

static void
s_event (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
s_event (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vfprintf (s_events, fmt, args);
    va_end (args);
    fputc ('\n', s_events);
    fflush (s_events);
}

static void
s_job_clear (s_job_t *job)
{
    for (size_t i = 0; i < job->n; i++)
        free (job->prompts[i]);
    free (job->prompts);
    memset (job, 0, sizeof *job);
}

static void
s_send (void *router, const toa_peer_id_t *peer, const toa_msg_t *msg)
{
    if (toa_transport_send (router, peer, msg) != 0)
        fprintf (stderr, "client_fake_broker: send %s failed: %s\n",
                 toa_msg_type_name (msg->type), zmq_strerror (errno));
}

static void
s_status_of (const s_job_t *job, const char *state, toa_job_status_t *status)
{
    memset (status, 0, sizeof *status);
    status->job = (char *) job->id;
    status->state = (char *) state;
    status->method = (char *) job->method;
    status->total = (int64_t) job->n;
    status->done = job->next_seq;
    status->fetched = job->acked;
    status->active = (int64_t) job->n - job->next_seq < 4 ? (int64_t) job->n - job->next_seq : 4;
    status->generations = 2 * job->next_seq;
    status->failed = 0;
    status->waiting = (char *) (job->stalled ? "no worker serves model sim-beta" : "");
}

static void
s_send_progress (void *router, s_job_t *job, const char *state)
{
    if (!job->has_peer)
        return;
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_PROGRESS;
    s_status_of (job, state, &msg.u.progress.status);
    s_send (router, &job->peer, &msg);
    job->last_progress_ms = toa_now_ms ();
}

static void
s_send_error (void *router, const toa_peer_id_t *peer, int code, const char *message,
              const char *job)
{
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_ERROR;
    msg.u.error.code = code;
    msg.u.error.message = (char *) message;
    msg.u.error.job = (char *) job;
    s_send (router, peer, &msg);
    s_event ("error %d", code);
}

/* The result line of prompt SEQ. */
static char *
s_result_line (const s_job_t *job, int64_t seq)
{
    json_t *result = json_loads (job->prompts[seq], 0, NULL);
    if (!result)
        return NULL;
    char text[64];
    snprintf (text, sizeof text, "answer %lld, better", (long long) seq);
    json_object_set_new (result, "responses", json_pack ("[s, s]", "first answer", text));
    json_object_set_new (result, "actions", json_pack ("[{s:s, s:i}, {s:s, s:i}]", "model",
                                                       "sim-alpha", "depth", 0, "model",
                                                       "sim-beta", "depth", 1));
    json_object_set_new (result, "rewards", json_pack ("[f, f]", 0.25, 0.75));
    json_object_set_new (result, "best_response", json_string (text));
    json_object_set_new (result, "best_model", json_string ("sim-beta"));
    json_object_set_new (result, "best_reward", json_real (0.75));
    json_object_set_new (result, "method", json_string (job->method));
    char *line = json_dumps (result, JSON_COMPACT);
    json_decref (result);
    return line;
}

static void
s_send_result (void *router, s_job_t *job, int64_t seq, const s_options_t *options)
{
    char *line = s_result_line (job, seq);
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_RESULT;
    msg.u.result.job = job->id;
    msg.u.result.seq = seq;
    msg.u.result.result = line;
    for (int copy = 0; copy < (options->duplicate ? 2 : 1); copy++) {
        s_send (router, &job->peer, &msg);
        job->sent_total++;
        s_event ("result %lld", (long long) seq);
    }
    free (line);
}

static void
s_on_submit (void *router, const toa_peer_id_t *peer, const toa_msg_submit_t *submit,
             s_job_t *job, const s_options_t *options)
{
    s_event ("submit %s %zu", submit->job, submit->n_prompts);
    if (job->present && strcmp (job->id, submit->job) == 0) {
        s_send_error (router, peer, 409, "job exists", submit->job);
        return;
    }
    if (options->reject) {
        toa_line_error_t errors[3];
        size_t n = 0;
        if (submit->n_prompts > 0)
            errors[n++] = (toa_line_error_t) {submit->prompts[0].line,
                                              (char *) "instruction: must not be empty"};
        if (submit->n_prompts > 2)
            errors[n++] = (toa_line_error_t) {submit->prompts[2].line,
                                              (char *) "id: duplicate id 1 (first on line 1)"};
        errors[n++] = (toa_line_error_t) {0, (char *) "settings: method.width: too small"};
        toa_msg_t msg;
        memset (&msg, 0, sizeof msg);
        msg.type = TOA_MSG_REJECT;
        msg.u.reject.job = submit->job;
        msg.u.reject.message = (char *) "the batch has 3 errors; nothing was stored";
        msg.u.reject.errors = errors;
        msg.u.reject.n_errors = n;
        s_send (router, peer, &msg);
        s_event ("reject %s", submit->job);
        return;
    }
    s_job_clear (job);
    job->present = true;
    snprintf (job->id, sizeof job->id, "%s", submit->job);
    snprintf (job->method, sizeof job->method, "%s", submit->method);
    job->prompts = calloc (submit->n_prompts ? submit->n_prompts : 1, sizeof (char *));
    for (size_t i = 0; i < submit->n_prompts; i++)
        job->prompts[i] = strdup (submit->prompts[i].text);
    job->n = submit->n_prompts;
    job->stall_at = options->stall_after;
    job->silent_at = options->silent_after;
    job->peer = *peer;
    job->has_peer = true;
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_ACCEPT;
    msg.u.accept.job = job->id;
    msg.u.accept.n_prompts = (int64_t) job->n;
    s_send (router, peer, &msg);
    s_event ("accept %s", job->id);
    s_send_progress (router, job, "running");
}

/* A submission streamed in chunks (submit-begin, -chunk, -end): gathered
 * here, then handled as one submit. */
typedef struct {
    bool open;
    char *job, *method;
    toa_prompt_line_t *prompts;
    size_t n, capacity;
} s_staged_t;

static s_staged_t s_staged;

static void
s_staged_clear (void)
{
    for (size_t i = 0; i < s_staged.n; i++)
        free (s_staged.prompts[i].text);
    free (s_staged.prompts);
    free (s_staged.job);
    free (s_staged.method);
    memset (&s_staged, 0, sizeof s_staged);
}

static void
s_submit_ack (void *router, const toa_peer_id_t *peer, const char *job, int64_t seq)
{
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_SUBMIT_ACK;
    msg.u.result_ack.job = (char *) job;
    msg.u.result_ack.seq = seq;
    s_send (router, peer, &msg);
}

static void
s_on_begin (void *router, const toa_peer_id_t *peer, const toa_msg_submit_t *begin,
            const s_job_t *job)
{
    if (job->present && strcmp (job->id, begin->job) == 0) {
        s_send_error (router, peer, 409, "job exists", begin->job);
        return;
    }
    s_staged_clear ();
    s_staged.open = true;
    s_staged.job = strdup (begin->job);
    s_staged.method = strdup (begin->method);
    s_submit_ack (router, peer, begin->job, 0);
}

static void
s_on_chunk (void *router, const toa_peer_id_t *peer, const toa_msg_submit_chunk_t *chunk)
{
    if (!s_staged.open || strcmp (s_staged.job, chunk->job) != 0) {
        s_send_error (router, peer, 404, "no submission in progress", chunk->job);
        return;
    }
    for (size_t i = 0; i < chunk->n_prompts; i++) {
        if (s_staged.n == s_staged.capacity) {
            s_staged.capacity = s_staged.capacity ? 2 * s_staged.capacity : 64;
            s_staged.prompts = realloc (s_staged.prompts,
                                        s_staged.capacity * sizeof *s_staged.prompts);
        }
        s_staged.prompts[s_staged.n].line = chunk->prompts[i].line;
        s_staged.prompts[s_staged.n++].text = strdup (chunk->prompts[i].text);
    }
    s_submit_ack (router, peer, chunk->job, chunk->seq);
}

/* Unknown job: 404. Returns true when REF names the current job. */
static bool
s_known (void *router, const toa_peer_id_t *peer, const char *ref, const s_job_t *job)
{
    if (job->present && strcmp (job->id, ref) == 0)
        return true;
    s_send_error (router, peer, 404, "unknown job", ref);
    return false;
}

static void
s_on_status_request (void *router, const toa_peer_id_t *peer, const char *ref, s_job_t *job)
{
    s_event ("status %s", ref);
    if (*ref && !s_known (router, peer, ref, job))
        return;
    toa_job_status_t status;
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_STATUS;
    if (job->present) {
        s_status_of (job, job->cancelled ? "cancelled" : "running", &status);
        msg.u.status.jobs = &status;
        msg.u.status.n_jobs = 1;
    }
    s_send (router, peer, &msg);
}

static void
s_on_cancel (void *router, const toa_peer_id_t *peer, const char *ref, s_job_t *job)
{
    s_event ("cancel %s", ref);
    if (!s_known (router, peer, ref, job))
        return;
    job->cancelled = true;
    toa_job_status_t status;
    s_status_of (job, "cancelled", &status);
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_STATUS;
    msg.u.status.jobs = &status;
    msg.u.status.n_jobs = 1;
    s_send (router, peer, &msg);
    s_send_progress (router, job, "cancelled");
    s_job_clear (job);
}

static void
s_on_message (void *router, const toa_peer_id_t *peer, const toa_msg_t *msg, s_job_t *job,
              const s_options_t *options)
{
    switch (msg->type) {
    case TOA_MSG_SUBMIT:
        s_on_submit (router, peer, &msg->u.submit, job, options);
        break;
    case TOA_MSG_RESULT_ACK:
        s_event ("ack %lld", (long long) msg->u.result_ack.seq);
        if (job->present && strcmp (job->id, msg->u.result_ack.job) == 0
            && msg->u.result_ack.seq + 1 > job->acked && msg->u.result_ack.seq < job->next_seq)
            job->acked = msg->u.result_ack.seq + 1;
        break;
    case TOA_MSG_ATTACH:
        s_event ("attach %s", msg->u.job_ref.job);
        if (s_known (router, peer, msg->u.job_ref.job, job)) {
            job->peer = *peer;
            job->has_peer = true;
            job->stalled = job->silent = false;
            job->next_seq = job->acked;         /* resend what is not acknowledged */
            s_send_progress (router, job, "running");
        }
        break;
    case TOA_MSG_STATUS_REQUEST:
        s_on_status_request (router, peer, msg->u.job_ref.job, job);
        break;
    case TOA_MSG_CANCEL:
        s_on_cancel (router, peer, msg->u.job_ref.job, job);
        break;
    case TOA_MSG_HEARTBEAT:
        break;                           /* an attached client's liveness */
    case TOA_MSG_SUBMIT_BEGIN:
        s_on_begin (router, peer, &msg->u.submit, job);
        break;
    case TOA_MSG_SUBMIT_CHUNK:
        s_on_chunk (router, peer, &msg->u.submit_chunk);
        break;
    case TOA_MSG_SUBMIT_END:
        if (!s_staged.open || strcmp (s_staged.job, msg->u.accept.job) != 0)
            s_send_error (router, peer, 404, "no submission in progress", msg->u.accept.job);
        else {
            toa_msg_submit_t whole = {.job = s_staged.job, .method = s_staged.method,
                                      .settings = (char *) "{}", .prompts = s_staged.prompts,
                                      .n_prompts = s_staged.n};
            s_on_submit (router, peer, &whole, job, options);
            s_staged_clear ();
        }
        break;
    default:
        s_event ("unexpected %s", toa_msg_type_name (msg->type));
        break;
    }
}

/* Sends what is due: results within the window, progress, done. */
static void
s_stream (void *router, s_job_t *job, const s_options_t *options, int64_t now)
{
    if (!job->present || !job->has_peer || job->silent)
        return;
    if (job->acked == (int64_t) job->n) {
        s_send_progress (router, job, "done");
        s_event ("done %s", job->id);
        s_job_clear (job);
        return;
    }
    bool sent = false;
    while (!job->stalled && job->next_seq < (int64_t) job->n
           && job->next_seq - job->acked < S_WINDOW
           && now - job->last_result_ms >= options->interval_ms) {
        s_send_result (router, job, job->next_seq, options);
        job->next_seq++;
        job->last_result_ms = now;
        sent = true;
        if (job->stall_at >= 0 && job->sent_total >= job->stall_at) {
            job->stalled = true;
            job->stall_at = -1;
            s_event ("stalled");
        }
        if (job->silent_at >= 0 && job->sent_total >= job->silent_at) {
            job->silent = true;
            job->silent_at = -1;
            s_event ("silent");
            return;
        }
        if (options->interval_ms > 0)
            break;
    }
    if (sent || now - job->last_progress_ms >= options->heartbeat_ms)
        s_send_progress (router, job, "running");
}

/* --resume: the job as a restarted broker finds it in Redis. */
static int
s_load_resume (s_job_t *job, const s_options_t *options)
{
    size_t length;
    char *text = toa_read_file (options->resume_input, &length);
    if (!text)
        return -1;
    job->present = true;
    snprintf (job->id, sizeof job->id, "%s", options->resume_job);
    snprintf (job->method, sizeof job->method, "toa");
    size_t capacity = 16;
    job->prompts = calloc (capacity, sizeof (char *));
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        if (line[strspn (line, " \t\r")] == '\0')
            continue;
        if (job->n == capacity) {
            capacity *= 2;
            job->prompts = realloc (job->prompts, capacity * sizeof (char *));
        }
        job->prompts[job->n++] = strdup (line);
    }
    free (text);
    job->acked = job->next_seq = options->resume_acked;
    job->stall_at = job->silent_at = -1;
    return 0;
}

static int
s_parse_args (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) {.heartbeat_ms = 200, .interval_ms = 2, .stall_after = -1,
                              .silent_after = -1, .run_ms = 60000};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (arg, "--reject") == 0)
            options->reject = true;
        else if (strcmp (arg, "--duplicate") == 0)
            options->duplicate = true;
        else if (!value)
            return -1;
        else {
            i++;
            if (strcmp (arg, "--endpoint") == 0) options->endpoint = value;
            else if (strcmp (arg, "--events") == 0) options->events_path = value;
            else if (strcmp (arg, "--heartbeat-ms") == 0) options->heartbeat_ms = atol (value);
            else if (strcmp (arg, "--interval-ms") == 0) options->interval_ms = atol (value);
            else if (strcmp (arg, "--stall-after") == 0) options->stall_after = atol (value);
            else if (strcmp (arg, "--silent-after") == 0) options->silent_after = atol (value);
            else if (strcmp (arg, "--resume") == 0) options->resume_job = value;
            else if (strcmp (arg, "--input") == 0) options->resume_input = value;
            else if (strcmp (arg, "--acked") == 0) options->resume_acked = atol (value);
            else if (strcmp (arg, "--run-ms") == 0) options->run_ms = atol (value);
            else return -1;
        }
    }
    return options->endpoint && options->events_path
                   && (!options->resume_job || options->resume_input) ? 0 : -1;
}

int
main (int argc, char **argv)
{
    s_options_t options;
    if (s_parse_args (argc, argv, &options) != 0) {
        fprintf (stderr, "usage: client_fake_broker --endpoint E --events FILE [options]\n");
        return 2;
    }
    s_events = fopen (options.events_path, "a");
    if (!s_events)
        return 2;
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    s_job_t job;
    memset (&job, 0, sizeof job);
    if (options.resume_job && s_load_resume (&job, &options) != 0)
        return 2;
    void *context = zmq_ctx_new ();
    void *router = zmq_socket (context, ZMQ_ROUTER);
    if (toa_transport_configure (router, 0) != 0 || zmq_bind (router, options.endpoint) != 0) {
        fprintf (stderr, "client_fake_broker: bind %s: %s\n", options.endpoint,
                 zmq_strerror (errno));
        return 2;
    }
    s_event ("listening");
    int64_t end = toa_now_ms () + options.run_ms;
    while (!s_interrupted && toa_now_ms () < end) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        zmq_poll (&item, 1, 2);
        toa_peer_id_t peer;
        toa_msg_t msg;
        int rc;
        while ((rc = toa_transport_recv (router, &peer, &msg, NULL)) >= 0) {
            if (rc == 1)
                s_event ("bad");
            else {
                s_on_message (router, &peer, &msg, &job, &options);
                toa_msg_clear (&msg);
            }
        }
        s_stream (router, &job, &options, toa_now_ms ());
    }
    s_job_clear (&job);
    s_staged_clear ();
    zmq_close (router);
    zmq_ctx_term (context);
    fclose (s_events);
    return 0;
}
