/* broker_peers.c - plays a client, or a worker and a scorer, against a real
 * toa-broker over real ZeroMQ, for tests/integration/test_broker*.sh. Prints
 * one JSON object per line on stdout for what it sees.
 *
 * broker_peers client --endpoint E --job J --method M --settings FILE
 *                     --prompts FILE --out FILE [--attach] [--timeout-ms N]
 *                     [--reattach-ms N] [--exit-after-results N] [--chunk N]
 *                     [--chunk-swap] [--chunk-stop K]
 *   Submits every non-blank line of FILE (as is, with its line number; with
 *   --chunk N streamed as submit-begin, submit-chunks of N lines, submit-end), or
 *   attaches to J with --attach; --chunk-swap sends the second chunk before
 *   the first (out of order); --chunk-stop K sends only the first K chunks
 *   and no submit-end (a client gone quiet mid-submission); appends each result to --out unless its id
 *   is there already, acknowledges it, and exits 0 when progress says done.
 *   Sends attach again when the broker is silent for --reattach-ms (it may
 *   have restarted); an error 503 (Redis away) is waited out the same way.
 *   Exit: 0 done, 1 timeout, 3 rejected, 4 error message.
 * broker_peers status|cancel --endpoint E [--job J]
 *   Prints the status (or error) answered.
 * broker_peers worker --endpoint E [--models a,b] [--backends x,y]
 *                     [--credit N] [--heartbeat-ms N] [--delay-ms N]
 *                     [--hold-first-ms N] [--fail-first-transient N]
 *                     [--fail-model M] [--fail-model-transient M]
 *                     [--broker-silence-ms N] [--run-ms N]
 *   A worker serving --models and a scorer serving --backends (one DEALER
 *   each). Generations are deterministic texts from the model and the
 *   messages; rewards a deterministic function of the response. Exits 3
 *   with a "violation" event if a peer is sent a task beyond its credit.
 *   --hold-first-ms holds the first generation task that long before
 *   answering (a late answer); --fail-first-transient answers the first N
 *   generation tasks with transient failures; --fail-model answers every
 *   task of model M with a permanent failure (HTTP 400: about the request);
 *   --fail-model-transient every task of model M with a transient failure
 *   with no HTTP status (as a worker whose server refuses connections, after
 *   its own retries). Reconnects (new socket, ready)
 *   after DISCONNECT or broker silence.
 *   --never-answer takes tasks and never answers them (a rogue that stalls).
 * broker_peers forge --endpoint E --events FILE [--ready --models a,b]
 *                    [--run-ms N]
 *   Reads the gen/score events an honest worker logs in FILE (task ids as a
 *   sniffer would see them) and answers each with forgeries (a "FORGED"
 *   generation, a reward of 1e308, a 503 failure; also for the ids next to
 *   it): unregistered, or with --ready as a registered peer holding no lease.
 *   Prints "disconnect" (the first one) and "forged" (counts) events.
 * broker_peers stray --endpoint E [--models a,b] [--count N] [--run-ms N]
 *   A registered peer (serving --models, default m-stray) that sends N
 *   gen-results for task ids the broker never issued at once, then one
 *   more every 200 ms until --run-ms (heartbeats meanwhile); prints a
 *   "stray" event with the count sent.
 * broker_peers flood --endpoint E [--peers N] [--serves K] [--models FIRST]
 *                    [--credit C] [--heartbeat-ms H] [--run-ms N]
 *   N peers each send ready with K serves names (FIRST, then made-up ones),
 *   then heartbeat; prints how many were refused (their first disconnect
 *   said "too many peers") and the first reason.
 * broker_peers garbage --endpoint E
 *   Sends bytes that are not a message, prints what comes back (a worker
 *   endpoint answers disconnect, a client endpoint error 400); exit 0 when
 *   something came back. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <zmq.h>

#include "common/util.h"
#include "proto/proto.h"
#include "proto/transport.h"

/* The token that owns every job this harness submits (a broker without CURVE
 * refuses a job without one); every request about a job sends it. */
#define S_TOKEN "toaBrokerPeersHarnessToken0001"

static volatile sig_atomic_t s_interrupted = 0;
static int64_t s_start_ms;

static void
s_on_signal (int signal_number)
{
    (void) signal_number;
    s_interrupted = 1;
}

/* Prints EVENT (stolen) as one line with "event" and "t". */
static void
s_emit (const char *name, json_t *event)
{
    if (!event)
        event = json_object ();
    json_object_set_new (event, "event", json_string (name));
    json_object_set_new (event, "t", json_integer (toa_now_ms () - s_start_ms));
    char *text = json_dumps (event, JSON_COMPACT | JSON_SORT_KEYS);
    if (text)
        printf ("%s\n", text);
    fflush (stdout);
    free (text);
    json_decref (event);
}

typedef struct {
    const char *mode, *endpoint, *job, *method, *settings_path, *prompts_path, *out_path;
    const char *models, *backends, *fail_model, *fail_model_transient, *events_path;
    bool attach, never_answer, ready_first;
    long timeout_ms, reattach_ms, exit_after_results;
    long chunk;                  /* client: lines per submit-chunk, 0 = one submit */
    bool chunk_swap;             /* client: chunks 1 and 2 sent in the wrong order */
    long chunk_stop;             /* client: send only this many chunks, no end (0: all) */
    long credit, heartbeat_ms, delay_ms, hold_first_ms, fail_first_transient;
    long broker_silence_ms, run_ms;
    long peers, serves, count;
} s_options_t;

static int
s_parse (int argc, char **argv, s_options_t *o)
{
    if (argc < 2)
        return -1;
    o->mode = argv[1];
    o->timeout_ms = 30000;
    o->reattach_ms = 3000;
    o->credit = 4;
    o->heartbeat_ms = 500;
    o->broker_silence_ms = 3000;
    o->run_ms = 60000;
    o->job = "";
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--attach") == 0 || strcmp (arg, "--never-answer") == 0
            || strcmp (arg, "--ready") == 0 || strcmp (arg, "--chunk-swap") == 0) {
            o->attach |= strcmp (arg, "--attach") == 0;
            o->chunk_swap |= strcmp (arg, "--chunk-swap") == 0;
            o->never_answer |= strcmp (arg, "--never-answer") == 0;
            o->ready_first |= strcmp (arg, "--ready") == 0;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        struct { const char *name; const char **slot; } strings[] = {
            {"--endpoint", &o->endpoint}, {"--job", &o->job}, {"--method", &o->method},
            {"--settings", &o->settings_path}, {"--prompts", &o->prompts_path},
            {"--out", &o->out_path}, {"--models", &o->models}, {"--backends", &o->backends},
            {"--fail-model", &o->fail_model},
            {"--fail-model-transient", &o->fail_model_transient},
            {"--events", &o->events_path},
        };
        struct { const char *name; long *slot; } numbers[] = {
            {"--timeout-ms", &o->timeout_ms}, {"--reattach-ms", &o->reattach_ms},
            {"--exit-after-results", &o->exit_after_results}, {"--credit", &o->credit},
            {"--heartbeat-ms", &o->heartbeat_ms}, {"--delay-ms", &o->delay_ms},
            {"--hold-first-ms", &o->hold_first_ms},
            {"--fail-first-transient", &o->fail_first_transient},
            {"--broker-silence-ms", &o->broker_silence_ms}, {"--run-ms", &o->run_ms},
            {"--peers", &o->peers}, {"--serves", &o->serves}, {"--chunk", &o->chunk},
            {"--chunk-stop", &o->chunk_stop},
            {"--count", &o->count},
        };
        bool known = false;
        for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
            if (strcmp (arg, strings[k].name) == 0) {
                *strings[k].slot = v;
                known = true;
            }
        for (size_t k = 0; k < sizeof numbers / sizeof *numbers; k++)
            if (strcmp (arg, numbers[k].name) == 0) {
                *numbers[k].slot = atol (v);
                known = true;
            }
        if (!known) {
            fprintf (stderr, "broker_peers: unknown option %s\n", arg);
            return -1;
        }
    }
    return o->endpoint ? 0 : -1;
}

static void *
s_connect (void *zmq, const char *endpoint)
{
    void *socket = zmq_socket (zmq, ZMQ_DEALER);
    if (!socket || toa_transport_configure (socket, 0) != 0 || zmq_connect (socket, endpoint)) {
        fprintf (stderr, "broker_peers: connect %s: %s\n", endpoint, zmq_strerror (errno));
        exit (2);
    }
    return socket;
}

/* Waits up to MS for a message on SOCKET. Returns 0 with MSG, or -1. */
static int
s_recv (void *socket, long ms, toa_msg_t *msg)
{
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, ms) <= 0)
        return -1;
    toa_proto_error_t error;
    int rc = toa_transport_recv (socket, NULL, msg, &error);
    if (rc == 1)
        s_emit ("bad-message", json_pack ("{s:s}", "field", error.field));
    return rc == 0 ? 0 : -1;
}

/* --- client ---------------------------------------------------------------- */

static json_t *
s_status_json (const toa_job_status_t *s)
{
    return json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "job", s->job,
                      "state", s->state, "method", s->method ? s->method : "", "total",
                      (json_int_t) s->total, "done", (json_int_t) s->done, "fetched",
                      (json_int_t) s->fetched, "active", (json_int_t) s->active,
                      "generations", (json_int_t) s->generations, "failed",
                      (json_int_t) s->failed, "waiting", s->waiting ? s->waiting : "");
}

static char *
s_read_text (const char *path)
{
    char *text = toa_read_file (path, NULL);
    if (!text) {
        fprintf (stderr, "broker_peers: %s: %s\n", path, strerror (errno));
        exit (2);
    }
    return text;
}

/* The ids already in the output file, as a JSON object used as a set. */
static json_t *
s_seen_ids (const char *path)
{
    json_t *seen = json_object ();
    FILE *file = fopen (path, "r");
    char line[1 << 16];
    while (file && fgets (line, sizeof line, file)) {
        json_t *object = json_loads (line, JSON_DISABLE_EOF_CHECK, NULL);
        json_t *id = json_object_get (object, "id");
        char *key = id ? json_dumps (id, JSON_ENCODE_ANY) : NULL;
        if (key)
            json_object_set_new (seen, key, json_true ());
        free (key);
        json_decref (object);
    }
    if (file)
        fclose (file);
    return seen;
}

/* Sends SUBMIT as submit-begin, chunks of CHUNK lines, submit-end (the
 * submit-acks are read, and ignored, by the client loop); SWAP sends chunk 2
 * before chunk 1, STOP > 0 only that many chunks and no submit-end. */
static void
s_submit_chunked (void *socket, const toa_msg_submit_t *submit, size_t chunk, bool swap,
                  long stop)
{
    toa_msg_t begin = {.type = TOA_MSG_SUBMIT_BEGIN};
    begin.u.submit = *submit;
    begin.u.submit.prompts = NULL;
    begin.u.submit.n_prompts = 0;
    int failed = toa_transport_send (socket, NULL, &begin);
    int64_t seq = 0;
    toa_msg_t held = {.type = TOA_MSG_NONE};
    for (size_t first = 0; first < submit->n_prompts; first += chunk) {
        toa_msg_t msg = {.type = TOA_MSG_SUBMIT_CHUNK};
        msg.u.submit_chunk.job = submit->job;
        msg.u.submit_chunk.seq = ++seq;
        msg.u.submit_chunk.prompts = submit->prompts + first;
        msg.u.submit_chunk.n_prompts = submit->n_prompts - first < chunk
                                           ? submit->n_prompts - first : chunk;
        if (swap && seq == 1) {
            held = msg;              /* sent after chunk 2 */
            continue;
        }
        failed |= toa_transport_send (socket, NULL, &msg);
        if (held.type != TOA_MSG_NONE) {
            failed |= toa_transport_send (socket, NULL, &held);
            held.type = TOA_MSG_NONE;
        }
        if (stop > 0 && seq >= stop) {
            s_emit ("chunks-stopped", json_pack ("{s:I}", "sent", (json_int_t) seq));
            return;
        }
    }
    toa_msg_t end = {.type = TOA_MSG_SUBMIT_END};
    end.u.accept.job = submit->job;
    end.u.accept.n_prompts = (int64_t) submit->n_prompts;
    failed |= toa_transport_send (socket, NULL, &end);
    if (failed)
        s_emit ("send-failed", NULL);
}

static void
s_submit (void *socket, const s_options_t *o)
{
    char *settings = s_read_text (o->settings_path);
    char *prompts = s_read_text (o->prompts_path);
    toa_msg_t msg = {.type = TOA_MSG_SUBMIT};
    toa_msg_submit_t *submit = &msg.u.submit;
    submit->job = (char *) o->job;
    submit->method = (char *) o->method;
    submit->settings = settings;
    submit->token = S_TOKEN;
    size_t capacity = 16;
    submit->prompts = calloc (capacity, sizeof *submit->prompts);
    int64_t line_no = 0;
    for (char *line = prompts, *next; line && *line; line = next) {
        next = strchr (line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        if (strspn (line, " \t\r") == strlen (line))
            continue;
        if (submit->n_prompts == capacity) {
            capacity *= 2;
            submit->prompts = realloc (submit->prompts, capacity * sizeof *submit->prompts);
        }
        submit->prompts[submit->n_prompts].line = line_no;
        submit->prompts[submit->n_prompts++].text = line;
    }
    if (o->chunk > 0)
        s_submit_chunked (socket, submit, (size_t) o->chunk, o->chunk_swap, o->chunk_stop);
    else if (toa_transport_send (socket, NULL, &msg) != 0)
        s_emit ("send-failed", NULL);
    free (submit->prompts);
    free (settings);
    free (prompts);
}

static void
s_send_job_ref (void *socket, toa_msg_type_t type, const char *job)
{
    toa_msg_t msg = {.type = type};
    msg.u.job_ref.job = (char *) job;
    msg.u.job_ref.token = S_TOKEN;
    toa_transport_send (socket, NULL, &msg);
}

/* Appends a result unless its id is in SEEN. Returns 1 if written. */
static int
s_store_result (FILE *out, json_t *seen, const char *result)
{
    json_t *object = json_loads (result, 0, NULL);
    json_t *id = json_object_get (object, "id");
    char *key = id ? json_dumps (id, JSON_ENCODE_ANY) : strdup ("null");
    int written = 0;
    if (key && !json_object_get (seen, key)) {
        fprintf (out, "%s\n", result);
        fflush (out);
        json_object_set_new (seen, key, json_true ());
        written = 1;
    }
    free (key);
    json_decref (object);
    return written;
}

static int
s_client (void *zmq, const s_options_t *o)
{
    void *socket = s_connect (zmq, o->endpoint);
    if (o->attach)
        s_send_job_ref (socket, TOA_MSG_ATTACH, o->job);
    else
        s_submit (socket, o);
    json_t *seen = s_seen_ids (o->out_path);
    FILE *out = fopen (o->out_path, "a");
    if (!out) {
        fprintf (stderr, "broker_peers: %s: %s\n", o->out_path, strerror (errno));
        return 2;
    }
    int64_t deadline = toa_now_ms () + o->timeout_ms, last_heard = toa_now_ms ();
    long results = 0;
    char last_state[32] = "";
    int rc = 1;
    while (!s_interrupted && toa_now_ms () < deadline) {
        toa_msg_t msg;
        if (s_recv (socket, 100, &msg) != 0) {
            if (toa_now_ms () - last_heard > o->reattach_ms) {
                s_emit ("reattach", NULL);
                s_send_job_ref (socket, TOA_MSG_ATTACH, o->job);
                last_heard = toa_now_ms ();
            }
            continue;
        }
        last_heard = toa_now_ms ();
        bool stop = false;
        if (msg.type == TOA_MSG_ACCEPT)
            s_emit ("accept", json_pack ("{s:I}", "n_prompts",
                                         (json_int_t) msg.u.accept.n_prompts));
        else if (msg.type == TOA_MSG_REJECT) {
            json_t *errors = json_array ();
            for (size_t i = 0; i < msg.u.reject.n_errors; i++)
                json_array_append_new (errors, json_pack ("{s:I, s:s}", "line",
                                                          (json_int_t) msg.u.reject.errors[i].line,
                                                          "reason",
                                                          msg.u.reject.errors[i].reason));
            s_emit ("reject", json_pack ("{s:s, s:o}", "message", msg.u.reject.message,
                                         "errors", errors));
            rc = 3;
            stop = true;
        }
        else if (msg.type == TOA_MSG_ERROR) {
            s_emit ("error", json_pack ("{s:I, s:s}", "code", (json_int_t) msg.u.error.code,
                                        "message", msg.u.error.message));
            if (msg.u.error.code != 503) {   /* 503: Redis is away; attach again later */
                rc = 4;
                stop = true;
            }
        }
        else if (msg.type == TOA_MSG_RESULT) {
            int written = s_store_result (out, seen, msg.u.result.result);
            s_emit ("result", json_pack ("{s:I, s:b}", "seq", (json_int_t) msg.u.result.seq,
                                         "new", written));
            results++;
            if (o->exit_after_results && results >= o->exit_after_results) {
                rc = 5;      /* a client that dies before acknowledging */
                stop = true;
            }
            else {
                toa_msg_t ack = {.type = TOA_MSG_RESULT_ACK};
                ack.u.result_ack.job = (char *) o->job;
                ack.u.result_ack.seq = msg.u.result.seq;
                ack.u.result_ack.token = S_TOKEN;
                toa_transport_send (socket, NULL, &ack);
            }
        }
        else if (msg.type == TOA_MSG_PROGRESS) {
            const toa_job_status_t *status = &msg.u.progress.status;
            if (strcmp (status->state, last_state) != 0 || status->waiting[0]) {
                snprintf (last_state, sizeof last_state, "%s", status->state);
                s_emit ("progress", s_status_json (status));
            }
            if (strcmp (status->state, "done") == 0 || strcmp (status->state, "cancelled") == 0) {
                rc = 0;
                stop = true;
            }
        }
        toa_msg_clear (&msg);
        if (stop)
            break;
    }
    if (rc == 1 && toa_now_ms () >= deadline)
        s_emit ("timeout", NULL);
    fclose (out);
    json_decref (seen);
    zmq_close (socket);
    return rc;
}

static int
s_request (void *zmq, const s_options_t *o, toa_msg_type_t type)
{
    void *socket = s_connect (zmq, o->endpoint);
    s_send_job_ref (socket, type, o->job);
    toa_msg_t msg;
    int rc = 1;
    if (s_recv (socket, o->timeout_ms < 5000 ? o->timeout_ms : 5000, &msg) == 0) {
        if (msg.type == TOA_MSG_STATUS) {
            json_t *jobs = json_array ();
            for (size_t i = 0; i < msg.u.status.n_jobs; i++)
                json_array_append_new (jobs, s_status_json (&msg.u.status.jobs[i]));
            s_emit ("status", json_pack ("{s:o}", "jobs", jobs));
            rc = 0;
        }
        else if (msg.type == TOA_MSG_ERROR) {
            s_emit ("error", json_pack ("{s:I, s:s}", "code", (json_int_t) msg.u.error.code,
                                        "message", msg.u.error.message));
            rc = 4;
        }
        toa_msg_clear (&msg);
    }
    else
        s_emit ("timeout", NULL);
    zmq_close (socket);
    return rc;
}

/* --- worker and scorer ----------------------------------------------------- */

typedef struct {
    toa_msg_t answer;        /* the reply to send */
    int64_t due_ms;
    bool late;               /* held on purpose */
} s_pending_t;

typedef struct {
    toa_peer_kind_t kind;
    char **serves;
    size_t n_serves;
    void *socket;
    int64_t last_heard_ms, last_sent_ms;
    s_pending_t *pending;    /* tasks held: answered when due */
    size_t n_pending;
} s_peer_t;

static uint64_t
s_hash (const char *text, uint64_t seed)
{
    uint64_t hash = 1469598103934665603ULL ^ seed;
    for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        hash = (hash ^ *c) * 1099511628211ULL;
    return hash;
}

static char **
s_split (const char *list, size_t *n)
{
    *n = 0;
    char **items = calloc (64, sizeof *items);
    char *copy = strdup (list ? list : "");
    for (char *save = NULL, *item = strtok_r (copy, ",", &save); item && *n < 64;
         item = strtok_r (NULL, ",", &save))
        items[(*n)++] = strdup (item);
    free (copy);
    return items;
}

static void
s_ready (s_peer_t *peer, const s_options_t *o)
{
    toa_msg_t msg = {.type = TOA_MSG_READY};
    msg.u.ready.kind = peer->kind;
    msg.u.ready.name = peer->kind == TOA_PEER_WORKER ? "harness-worker" : "harness-scorer";
    msg.u.ready.serves = peer->serves;
    msg.u.ready.n_serves = peer->n_serves;
    msg.u.ready.credit = o->credit;
    msg.u.ready.heartbeat_ms = o->heartbeat_ms;
    toa_transport_send (peer->socket, NULL, &msg);
    peer->last_sent_ms = peer->last_heard_ms = toa_now_ms ();
    s_emit ("ready", json_pack ("{s:s}", "kind", peer->kind == TOA_PEER_WORKER ? "worker"
                                                                               : "scorer"));
}

static void
s_reconnect (void *zmq, s_peer_t *peer, const s_options_t *o, const char *why)
{
    zmq_close (peer->socket);
    for (size_t i = 0; i < peer->n_pending; i++)
        toa_msg_clear (&peer->pending[i].answer);
    peer->n_pending = 0;
    peer->socket = s_connect (zmq, o->endpoint);
    s_emit ("reconnect", json_pack ("{s:s}", "why", why));
    s_ready (peer, o);
}

/* A deterministic text for sample I of a generation. */
static char *
s_text (const toa_msg_gen_task_t *task, int64_t i)
{
    uint64_t hash = s_hash (task->model, (uint64_t) i + (task->has_seed ? task->seed : 0));
    for (size_t m = 0; m < task->n_messages; m++)
        hash ^= s_hash (task->messages[m].content, m + 1);
    char *text = malloc (128);
    snprintf (text, 128, "%s says %016" PRIx64 " (%zu messages)", task->model, hash,
              task->n_messages);
    return text;
}

static long s_gen_tasks_seen = 0;

static void
s_take_task (s_peer_t *peer, const s_options_t *o, toa_msg_t *task)
{
    s_pending_t pending = {.due_ms = o->never_answer ? INT64_MAX : toa_now_ms () + o->delay_ms};
    toa_msg_t *answer = &pending.answer;
    if (task->type == TOA_MSG_GEN_TASK) {
        toa_msg_gen_task_t *gen = &task->u.gen_task;
        s_gen_tasks_seen++;
        s_emit ("gen", json_pack ("{s:I, s:I, s:s, s:I, s:I}", "task", (json_int_t) gen->task,
                                  "attempt", (json_int_t) gen->attempt, "model", gen->model,
                                  "n", (json_int_t) gen->n, "messages",
                                  (json_int_t) gen->n_messages));
        if (s_gen_tasks_seen == 1 && o->hold_first_ms > 0) {
            pending.due_ms = toa_now_ms () + o->hold_first_ms;
            pending.late = true;
        }
        if (o->fail_model_transient && strcmp (o->fail_model_transient, gen->model) == 0) {
            answer->type = TOA_MSG_TASK_FAILURE;
            answer->u.task_failure.task = gen->task;
            answer->u.task_failure.attempt = gen->attempt;
            answer->u.task_failure.failure_class = TOA_FAILURE_TRANSIENT;
            answer->u.task_failure.reason = strdup ("harness: connection refused");
            answer->u.task_failure.http_status = 0;
        }
        else if (s_gen_tasks_seen <= o->fail_first_transient
                 || (o->fail_model && strcmp (o->fail_model, gen->model) == 0)) {
            bool permanent = s_gen_tasks_seen > o->fail_first_transient;
            answer->type = TOA_MSG_TASK_FAILURE;
            answer->u.task_failure.task = gen->task;
            answer->u.task_failure.attempt = gen->attempt;
            answer->u.task_failure.failure_class = permanent ? TOA_FAILURE_PERMANENT
                                                             : TOA_FAILURE_TRANSIENT;
            answer->u.task_failure.reason = strdup (permanent ? "harness: model refuses"
                                                              : "harness: try again");
            answer->u.task_failure.http_status = permanent ? 400 : 503;
        }
        else {
            answer->type = TOA_MSG_GEN_RESULT;
            answer->u.gen_result.task = gen->task;
            answer->u.gen_result.attempt = gen->attempt;
            answer->u.gen_result.n_outputs = (size_t) gen->n;
            answer->u.gen_result.outputs = calloc ((size_t) gen->n, sizeof (toa_gen_output_t));
            size_t prompt_length = 0;
            for (size_t m = 0; m < gen->n_messages; m++)
                prompt_length += strlen (gen->messages[m].content);
            for (int64_t i = 0; i < gen->n; i++) {
                toa_gen_output_t *output = &answer->u.gen_result.outputs[i];
                output->text = s_text (gen, i);
                output->finish_reason = strdup ("stop");
                output->prompt_tokens = (int64_t) prompt_length / 4 + 1;
                output->completion_tokens = (int64_t) strlen (output->text) / 4 + 1;
            }
            answer->u.gen_result.latency_ms = o->delay_ms;
        }
    }
    else {
        toa_msg_score_task_t *score = &task->u.score_task;
        s_emit ("score", json_pack ("{s:I, s:I, s:s, s:b}", "task", (json_int_t) score->task,
                                    "attempt", (json_int_t) score->attempt, "backend",
                                    score->backend, "reference", score->reference != NULL));
        answer->type = TOA_MSG_SCORE_RESULT;
        answer->u.score_result.task = score->task;
        answer->u.score_result.attempt = score->attempt;
        answer->u.score_result.reward
            = (double) (s_hash (score->response, 7) % 2001) / 1000.0 - 1.0;
    }
    peer->pending = realloc (peer->pending, (peer->n_pending + 1) * sizeof *peer->pending);
    peer->pending[peer->n_pending++] = pending;
}

/* Handles what PEER's socket holds. Returns 3 on a credit violation. */
static int
s_peer_input (void *zmq, s_peer_t *peer, const s_options_t *o)
{
    for (;;) {
        toa_msg_t msg;
        toa_proto_error_t error;
        int rc = toa_transport_recv (peer->socket, NULL, &msg, &error);
        if (rc < 0)
            return 0;
        peer->last_heard_ms = toa_now_ms ();
        if (rc == 1)
            continue;
        if (msg.type == TOA_MSG_GEN_TASK || msg.type == TOA_MSG_SCORE_TASK) {
            if ((long) peer->n_pending >= o->credit) {
                s_emit ("violation", json_pack ("{s:I, s:I}", "held",
                                                (json_int_t) peer->n_pending, "credit",
                                                (json_int_t) o->credit));
                toa_msg_clear (&msg);
                return 3;
            }
            s_take_task (peer, o, &msg);
        }
        else if (msg.type == TOA_MSG_DISCONNECT) {
            s_emit ("disconnect", json_pack ("{s:s}", "reason", msg.u.disconnect.reason));
            toa_msg_clear (&msg);
            s_reconnect (zmq, peer, o, "disconnect");
            continue;
        }
        toa_msg_clear (&msg);
    }
}

static void
s_peer_timers (void *zmq, s_peer_t *peer, const s_options_t *o)
{
    int64_t now = toa_now_ms ();
    for (size_t i = 0; i < peer->n_pending;) {
        s_pending_t *pending = &peer->pending[i];
        if (pending->due_ms > now) {
            i++;
            continue;
        }
        toa_transport_send (peer->socket, NULL, &pending->answer);
        peer->last_sent_ms = now;
        if (pending->late)
            s_emit ("late-answer", NULL);
        toa_msg_clear (&pending->answer);
        peer->pending[i] = peer->pending[--peer->n_pending];
    }
    if (now - peer->last_sent_ms >= o->heartbeat_ms) {
        toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
        toa_transport_send (peer->socket, NULL, &heartbeat);
        peer->last_sent_ms = now;
    }
    if (now - peer->last_heard_ms > o->broker_silence_ms)
        s_reconnect (zmq, peer, o, "broker silent");
}

static int
s_worker (void *zmq, const s_options_t *o)
{
    s_peer_t peers[2];
    int n = 0;
    memset (peers, 0, sizeof peers);
    if (o->models) {
        peers[n].kind = TOA_PEER_WORKER;
        peers[n++].serves = s_split (o->models, &peers[0].n_serves);
    }
    if (o->backends) {
        peers[n].kind = TOA_PEER_SCORER;
        peers[n].serves = s_split (o->backends, &peers[n].n_serves);
        n++;
    }
    for (int i = 0; i < n; i++) {
        peers[i].socket = s_connect (zmq, o->endpoint);
        s_ready (&peers[i], o);
    }
    int rc = 0;
    int64_t end = toa_now_ms () + o->run_ms;
    while (!s_interrupted && rc == 0 && toa_now_ms () < end) {
        zmq_pollitem_t items[2];
        for (int i = 0; i < n; i++)
            items[i] = (zmq_pollitem_t) {peers[i].socket, 0, ZMQ_POLLIN, 0};
        zmq_poll (items, n, 10);
        for (int i = 0; i < n && rc == 0; i++) {
            rc = s_peer_input (zmq, &peers[i], o);
            s_peer_timers (zmq, &peers[i], o);
        }
    }
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < peers[i].n_pending; k++)
            toa_msg_clear (&peers[i].pending[k].answer);
        free (peers[i].pending);
        for (size_t k = 0; k < peers[i].n_serves; k++)
            free (peers[i].serves[k]);
        free (peers[i].serves);
        zmq_close (peers[i].socket);
    }
    return rc;
}

static int
s_garbage (void *zmq, const s_options_t *o)
{
    void *socket = s_connect (zmq, o->endpoint);
    const char garbage[] = "\xc1\xc1 this is not msgpack";
    zmq_send (socket, garbage, sizeof garbage - 1, 0);
    toa_msg_t msg;
    int rc = 1;
    if (s_recv (socket, 3000, &msg) == 0) {
        if (msg.type == TOA_MSG_DISCONNECT)
            s_emit ("disconnect", json_pack ("{s:s}", "reason", msg.u.disconnect.reason));
        else if (msg.type == TOA_MSG_ERROR)
            s_emit ("error", json_pack ("{s:I, s:s}", "code", (json_int_t) msg.u.error.code,
                                        "message", msg.u.error.message));
        else
            s_emit ("other", json_pack ("{s:s}", "cmd", toa_msg_type_name (msg.type)));
        toa_msg_clear (&msg);
        rc = 0;
    }
    else
        s_emit ("timeout", NULL);
    zmq_close (socket);
    return rc;
}

/* --- attackers ------------------------------------------------------------- */

/* Sends forged answers for the task (ID, ATTEMPT) of KIND ("gen"/"score"):
 * a gen-result with "FORGED" text, a score-result of 1e308 and a transient
 * 503 task-failure; the same for the neighbouring ids (guesses). */
static int
s_forge_one (void *socket, uint64_t id, int64_t attempt)
{
    int sent = 0;
    const uint64_t ids[] = {id, id + 1, id - 1};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        toa_gen_output_t output = {.text = "FORGED by an attacker", .finish_reason = "stop",
                                   .prompt_tokens = 1, .completion_tokens = 1};
        toa_msg_t gen = {.type = TOA_MSG_GEN_RESULT};
        gen.u.gen_result.task = ids[k];
        gen.u.gen_result.attempt = attempt;
        gen.u.gen_result.outputs = &output;
        gen.u.gen_result.n_outputs = 1;
        toa_msg_t score = {.type = TOA_MSG_SCORE_RESULT};
        score.u.score_result.task = ids[k];
        score.u.score_result.attempt = attempt;
        score.u.score_result.reward = 1e308;
        toa_msg_t failure = {.type = TOA_MSG_TASK_FAILURE};
        failure.u.task_failure.task = ids[k];
        failure.u.task_failure.attempt = attempt;
        failure.u.task_failure.failure_class = TOA_FAILURE_TRANSIENT;
        failure.u.task_failure.reason = "FORGED 503";
        failure.u.task_failure.http_status = 503;
        sent += toa_transport_send (socket, NULL, &gen) == 0;
        sent += toa_transport_send (socket, NULL, &score) == 0;
        sent += toa_transport_send (socket, NULL, &failure) == 0;
    }
    return sent;
}

/* Sends a gen-result for task ID, attempt 1. Returns 1 when sent. */
static int
s_stray_one (void *socket, uint64_t id)
{
    toa_gen_output_t output = {.text = "an answer nobody asked for", .finish_reason = "stop",
                               .prompt_tokens = 1, .completion_tokens = 1};
    toa_msg_t gen = {.type = TOA_MSG_GEN_RESULT};
    gen.u.gen_result.task = id;
    gen.u.gen_result.attempt = 1;
    gen.u.gen_result.outputs = &output;
    gen.u.gen_result.n_outputs = 1;
    return toa_transport_send (socket, NULL, &gen) == 0;
}

/* stray: a registered peer answering tasks that do not exist, at will. */
static int
s_stray (void *zmq, const s_options_t *o)
{
    s_peer_t peer = {.kind = TOA_PEER_WORKER, .socket = s_connect (zmq, o->endpoint)};
    peer.serves = s_split (o->models ? o->models : "m-stray", &peer.n_serves);
    s_ready (&peer, o);
    const uint64_t base = 1000000000000000ull;     /* far above any id the broker issues */
    uint64_t next = base;
    long sent = 0;
    for (long i = 0; i < o->count; i++)
        sent += s_stray_one (peer.socket, next++);
    int64_t end = toa_now_ms () + o->run_ms, last_heartbeat = 0, last_stray = toa_now_ms ();
    while (!s_interrupted && toa_now_ms () < end) {
        toa_msg_t msg;
        while (s_recv (peer.socket, 0, &msg) == 0)
            toa_msg_clear (&msg);
        int64_t now = toa_now_ms ();
        if (now - last_stray >= 200) {
            sent += s_stray_one (peer.socket, next++);
            last_stray = now;
        }
        if (now - last_heartbeat >= o->heartbeat_ms) {
            toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
            toa_transport_send (peer.socket, NULL, &heartbeat);
            last_heartbeat = now;
        }
        zmq_poll (NULL, 0, 20);
    }
    s_emit ("stray", json_pack ("{s:I}", "sent", (json_int_t) sent));
    for (size_t k = 0; k < peer.n_serves; k++)
        free (peer.serves[k]);
    free (peer.serves);
    zmq_close (peer.socket);
    return 0;
}

/* forge: reads the task ids an honest peer logged (--events, as a sniffer
 * would see them) and answers each with forgeries, unregistered or, with
 * --ready, as a registered peer that holds no lease on them. */
static int
s_forge (void *zmq, const s_options_t *o)
{
    void *socket = s_connect (zmq, o->endpoint);
    if (o->ready_first) {
        s_peer_t peer = {.kind = TOA_PEER_WORKER, .socket = socket};
        peer.serves = s_split (o->models ? o->models : "m-forged", &peer.n_serves);
        s_ready (&peer, o);
        for (size_t k = 0; k < peer.n_serves; k++)
            free (peer.serves[k]);
        free (peer.serves);
    }
    long offset = 0, forged = 0, disconnects = 0;
    int64_t end = toa_now_ms () + o->run_ms, last_heartbeat = 0;
    while (!s_interrupted && toa_now_ms () < end) {
        FILE *events = fopen (o->events_path, "r");
        if (events && fseek (events, offset, SEEK_SET) == 0) {
            char line[4096];
            while (fgets (line, sizeof line, events)) {
                if (!strchr (line, '\n'))
                    break;                   /* a line still being written */
                offset = ftell (events);
                json_t *event = json_loads (line, 0, NULL);
                const char *name = json_string_value (json_object_get (event, "event"));
                if (name && (strcmp (name, "gen") == 0 || strcmp (name, "score") == 0))
                    forged += s_forge_one (
                        socket, (uint64_t) json_integer_value (json_object_get (event, "task")),
                        json_integer_value (json_object_get (event, "attempt")));
                json_decref (event);
            }
        }
        if (events)
            fclose (events);
        toa_msg_t msg;
        while (s_recv (socket, 0, &msg) == 0) {
            if (msg.type == TOA_MSG_DISCONNECT && disconnects++ == 0)
                s_emit ("disconnect", json_pack ("{s:s}", "reason", msg.u.disconnect.reason));
            toa_msg_clear (&msg);
        }
        if (o->ready_first && toa_now_ms () - last_heartbeat >= o->heartbeat_ms) {
            toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
            toa_transport_send (socket, NULL, &heartbeat);
            last_heartbeat = toa_now_ms ();
        }
        zmq_poll (NULL, 0, 20);
    }
    s_emit ("forged", json_pack ("{s:I, s:I}", "messages", (json_int_t) forged, "disconnects",
                                 (json_int_t) disconnects));
    zmq_close (socket);
    return 0;
}

/* flood: --peers DEALERs each send ready with --serves names (about 20
 * bytes each), --credit and --heartbeat-ms as asked, then heartbeat until
 * --run-ms; prints how many were told to disconnect and why. */
static int
s_flood (void *zmq, const s_options_t *o)
{
    long n = o->peers > 0 ? o->peers : 1;
    size_t n_serves = o->serves > 0 ? (size_t) o->serves : 1;
    void **sockets = calloc ((size_t) n, sizeof *sockets);
    char **serves = calloc (n_serves, sizeof *serves);
    /* The first name is --models (a real one, when given), then made-up ones. */
    for (size_t k = 0; k < n_serves; k++) {
        serves[k] = malloc (64);
        if (k == 0 && o->models)
            snprintf (serves[k], 64, "%s", o->models);
        else
            snprintf (serves[k], 64, "flood-model-%08zu", k);
    }
    long refused = 0;                /* peers whose first disconnect said too many */
    bool *told = calloc ((size_t) n, sizeof *told);
    char first_reason[256] = "";
    for (long i = 0; i < n; i++) {
        sockets[i] = s_connect (zmq, o->endpoint);
        toa_msg_t ready = {.type = TOA_MSG_READY};
        ready.u.ready.kind = TOA_PEER_WORKER;
        ready.u.ready.name = "flood";
        ready.u.ready.serves = serves;
        ready.u.ready.n_serves = n_serves;
        ready.u.ready.credit = o->credit;
        ready.u.ready.heartbeat_ms = o->heartbeat_ms;
        toa_transport_send (sockets[i], NULL, &ready);
    }
    s_emit ("flooded", json_pack ("{s:I, s:I}", "peers", (json_int_t) n, "serves",
                                  (json_int_t) n_serves));
    int64_t end = toa_now_ms () + o->run_ms, last_heartbeat = 0;
    while (!s_interrupted && toa_now_ms () < end) {
        bool beat = toa_now_ms () - last_heartbeat >= 200;
        for (long i = 0; i < n; i++) {
            toa_msg_t msg;
            while (s_recv (sockets[i], 0, &msg) == 0) {
                if (msg.type == TOA_MSG_DISCONNECT && !told[i]) {
                    const char *reason = msg.u.disconnect.reason ? msg.u.disconnect.reason : "";
                    told[i] = true;
                    refused += strncmp (reason, "too many peers", 14) == 0;
                    if (!first_reason[0])
                        snprintf (first_reason, sizeof first_reason, "%s", reason);
                }
                toa_msg_clear (&msg);
            }
            if (beat) {
                toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
                toa_transport_send (sockets[i], NULL, &heartbeat);
            }
        }
        if (beat)
            last_heartbeat = toa_now_ms ();
        zmq_poll (NULL, 0, 20);
    }
    s_emit ("flood-end", json_pack ("{s:I, s:s}", "refused", (json_int_t) refused, "reason",
                                    first_reason));
    free (told);
    for (long i = 0; i < n; i++)
        zmq_close (sockets[i]);
    for (size_t k = 0; k < n_serves; k++)
        free (serves[k]);
    free (serves);
    free (sockets);
    return 0;
}

int
main (int argc, char **argv)
{
    s_options_t o;
    memset (&o, 0, sizeof o);
    if (s_parse (argc, argv, &o) != 0) {
        fprintf (stderr, "usage: see the comment at the top of tests/harness/broker_peers.c\n");
        return 2;
    }
    s_start_ms = toa_now_ms ();
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    void *zmq = zmq_ctx_new ();
    int rc = 2;
    if (strcmp (o.mode, "client") == 0 && o.job[0] && o.out_path
        && (o.attach || (o.method && o.settings_path && o.prompts_path)))
        rc = s_client (zmq, &o);
    else if (strcmp (o.mode, "status") == 0)
        rc = s_request (zmq, &o, TOA_MSG_STATUS_REQUEST);
    else if (strcmp (o.mode, "cancel") == 0)
        rc = s_request (zmq, &o, TOA_MSG_CANCEL);
    else if (strcmp (o.mode, "worker") == 0)
        rc = s_worker (zmq, &o);
    else if (strcmp (o.mode, "garbage") == 0)
        rc = s_garbage (zmq, &o);
    else if (strcmp (o.mode, "forge") == 0 && o.events_path)
        rc = s_forge (zmq, &o);
    else if (strcmp (o.mode, "flood") == 0)
        rc = s_flood (zmq, &o);
    else if (strcmp (o.mode, "stray") == 0)
        rc = s_stray (zmq, &o);
    else
        fprintf (stderr, "broker_peers: bad mode or missing options\n");
    zmq_ctx_term (zmq);
    return rc;
}
