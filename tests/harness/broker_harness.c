/* broker_harness.c - plays the broker's side of the peer protocol over a
 * real ZeroMQ ROUTER socket, for integration tests of toa-worker and
 * toa-scorer. Prints one JSON object per line on stdout for what it sees.
 *
 * Usage: broker_harness --endpoint tcp://127.0.0.1:PORT [options]
 *   --tasks FILE          JSONL tasks to hand out, sent at once within the
 *                         credit of the last READY; tasks still out when a
 *                         new READY arrives are re-issued (attempt + 1), as
 *                         the broker does. A line with a "backend" is a
 *                         score task: {"id", "backend", "prompt" (a user
 *                         message) or "messages", "response", "reference"
 *                         (string, or absent/null for none), "attempt"};
 *                         any other line a gen task: {"id", "model",
 *                         "messages", "n", "seed", "max_tokens",
 *                         "temperature", "top_p", "stop"}
 *   --reissue-transient   re-issue a task that failed transiently (attempt
 *                         + 1), at most 3 times
 *   --heartbeat-ms N      send HEARTBEAT every N ms (default 1000; 0: never)
 *   --run-ms N            exit after N ms (default 30000)
 *   --exit-when-done      exit once every task is answered
 *   --exit-after-sent MS  exit MS ms after every task was sent (a broker
 *                         that goes away with tasks out, whenever its peer
 *                         came: no race with the peer's start)
 *   --readies N           exit after the N-th READY
 *   --after-ready ACTION  once, after the first READY: "disconnect" (send
 *                         DISCONNECT) or "garbage" (send bytes that are not
 *                         a message)
 *   --exit-on-disconnect  exit when the peer says DISCONNECT
 *   --stop-pid PID        once every task is answered, send SIGTERM to PID
 *                         (the worker or scorer) and exit at its DISCONNECT
 *   --stop-early MS       with --stop-pid: send SIGTERM MS ms after every
 *                         task has been sent, answered or not (to test the
 *                         drain)
 * Events: listening, ready, sent, result (gen tasks: the outputs and the
 * latency; score tasks: the reward, with "expected" for math-verify and
 * chrf tasks: what toa_math_verify / toa_chrf give), failure, stale (an
 * answer for an old attempt), bad, unexpected, stopping, disconnect, done
 * (with counters). Exit status 0, or 2 on bad arguments. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <zmq.h>

#include "peer/peer_tasks.h"
#include "common/util.h"
#include "proto/proto.h"
#include "proto/transport.h"
#include "scorer/chrf.h"
#include "scorer/math_verify.h"

#define S_MAX_REISSUES 3

typedef struct {
    toa_msg_t msg;               /* a gen-task or score-task */
    bool answered;
    bool out;                    /* sent and not answered */
    int reissues;
} s_task_t;

typedef struct {
    const char *endpoint;
    const char *tasks_path;
    bool reissue_transient;
    long heartbeat_ms;
    long run_ms;
    bool exit_when_done;
    long readies_to_exit;
    const char *after_ready;
    bool exit_on_disconnect;
    long stop_pid;
    long stop_early_ms;          /* -1: wait for the answers */
    long exit_after_sent_ms;     /* -1: no */
} s_options_t;

typedef struct {
    s_options_t options;
    void *socket;
    s_task_t *tasks;
    size_t n_tasks;
    toa_peer_id_t peer;
    bool have_peer;
    int64_t credit;
    int64_t out;                 /* tasks sent and not answered */
    long readies, results, failures, stale, heartbeats, bad, sent;
    bool acted;                  /* after_ready done */
    bool stop;
} s_harness_t;

static volatile sig_atomic_t s_interrupted = 0;
static int64_t s_start_ms;

static void
s_on_signal (int signal_number)
{
    (void) signal_number;
    s_interrupted = 1;
}

/* Prints EVENT (stolen) with "t" and "event" added, as one line. */
static void
s_emit (const char *name, json_t *event)
{
    if (!event)
        event = json_object ();
    json_object_set_new (event, "t", json_integer (toa_now_ms () - s_start_ms));
    json_object_set_new (event, "event", json_string (name));
    char *text = json_dumps (event, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION (17));
    if (text)
        printf ("%s\n", text);
    fflush (stdout);
    free (text);
    json_decref (event);
}

/* ---------------------------------------------------------------- tasks */

static char *
s_dup_string (const json_t *value, const char *fallback)
{
    return toa_strdup (json_is_string (value) ? json_string_value (value) : fallback);
}

/* The chat messages of the JSON array MESSAGES into *LIST (*COUNT of them,
 * at least one slot allocated). 0 or -1. */
static int
s_messages_from_json (const json_t *messages, toa_chat_message_t **list, size_t *count)
{
    *count = json_array_size (messages);
    *list = calloc (*count ? *count : 1, sizeof **list);
    if (!*list)
        return -1;
    for (size_t i = 0; i < *count; i++) {
        json_t *message = json_array_get (messages, i);
        (*list)[i].role = s_dup_string (json_object_get (message, "role"), "user");
        (*list)[i].content = s_dup_string (json_object_get (message, "content"), "");
    }
    return 0;
}

/* Reads a gen task line into MSG (id ID). 0 or -1. */
static int
s_gen_task_from_json (const json_t *line, uint64_t id, toa_msg_t *msg)
{
    toa_msg_gen_task_t *gen = &msg->u.gen_task;
    msg->type = TOA_MSG_GEN_TASK;
    gen->task = id;
    gen->attempt = 1;
    gen->job = strdup ("harness");
    gen->model = s_dup_string (json_object_get (line, "model"), "m");
    if (s_messages_from_json (json_object_get (line, "messages"), &gen->messages,
                              &gen->n_messages) != 0)
        return -1;
    json_t *value = json_object_get (line, "temperature");
    gen->temperature = json_is_number (value) ? json_number_value (value) : 0.7;
    value = json_object_get (line, "top_p");
    gen->top_p = json_is_number (value) ? json_number_value (value) : 1.0;
    value = json_object_get (line, "max_tokens");
    gen->max_tokens = json_is_integer (value) ? json_integer_value (value) : 64;
    value = json_object_get (line, "seed");
    gen->has_seed = json_is_integer (value);
    gen->seed = gen->has_seed ? (uint64_t) json_integer_value (value) : 0;
    value = json_object_get (line, "n");
    gen->n = json_is_integer (value) ? json_integer_value (value) : 1;
    json_t *stop = json_object_get (line, "stop");
    gen->n_stop = json_array_size (stop);
    gen->stop = gen->n_stop ? calloc (gen->n_stop, sizeof *gen->stop) : NULL;
    for (size_t i = 0; gen->stop && i < gen->n_stop; i++)
        gen->stop[i] = s_dup_string (json_array_get (stop, i), "");
    return 0;
}

/* Reads a score task line into MSG (id ID). 0 or -1. */
static int
s_score_task_from_json (const json_t *line, uint64_t id, toa_msg_t *msg)
{
    toa_msg_score_task_t *score = &msg->u.score_task;
    msg->type = TOA_MSG_SCORE_TASK;
    score->task = id;
    json_t *attempt = json_object_get (line, "attempt");
    score->attempt = json_is_integer (attempt) ? json_integer_value (attempt) : 1;
    score->job = strdup ("harness");
    score->backend = s_dup_string (json_object_get (line, "backend"), "math-verify");
    json_t *messages = json_object_get (line, "messages");
    if (json_is_array (messages)) {
        if (s_messages_from_json (messages, &score->messages, &score->n_messages) != 0)
            return -1;
    }
    else {
        score->n_messages = 1;
        score->messages = calloc (1, sizeof *score->messages);
        if (!score->messages)
            return -1;
        score->messages[0].role = strdup ("user");
        score->messages[0].content = s_dup_string (json_object_get (line, "prompt"), "");
    }
    score->response = s_dup_string (json_object_get (line, "response"), "");
    score->reference = s_dup_string (json_object_get (line, "reference"), NULL);
    return score->response ? 0 : -1;
}

static s_task_t *
s_load_tasks (const char *path, size_t *count)
{
    *count = 0;
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "broker_harness: %s: %s\n", path, strerror (errno));
        return NULL;
    }
    s_task_t *tasks = NULL;
    char line[65536];
    while (fgets (line, sizeof line, file)) {
        json_t *object = json_loads (line, 0, NULL);
        if (!object)
            continue;
        s_task_t *grown = realloc (tasks, (*count + 1) * sizeof *grown);
        if (!grown) {
            json_decref (object);
            break;
        }
        tasks = grown;
        s_task_t *task = &tasks[*count];
        memset (task, 0, sizeof *task);
        json_t *id = json_object_get (object, "id");
        uint64_t task_id = json_is_integer (id) ? (uint64_t) json_integer_value (id) : *count + 1;
        if (json_object_get (object, "backend"))
            s_score_task_from_json (object, task_id, &task->msg);
        else
            s_gen_task_from_json (object, task_id, &task->msg);
        (*count)++;
        json_decref (object);
    }
    fclose (file);
    return tasks;
}

/* The attempt number of TASK's message, to re-issue it. */
static int64_t *
s_attempt (s_task_t *task)
{
    return task->msg.type == TOA_MSG_GEN_TASK ? &task->msg.u.gen_task.attempt
                                              : &task->msg.u.score_task.attempt;
}

static uint64_t
s_task_id (const s_task_t *task)
{
    uint64_t id;
    int64_t attempt;
    toa_peer_tasks_identify (&task->msg, &id, &attempt);
    return id;
}

/* ---------------------------------------------------------------- options */

static int
s_parse_options (int argc, char **argv, s_options_t *options)
{
    options->heartbeat_ms = 1000;
    options->run_ms = 30000;
    options->stop_early_ms = -1;
    options->exit_after_sent_ms = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (arg, "--exit-when-done") == 0)
            options->exit_when_done = true;
        else if (strcmp (arg, "--exit-on-disconnect") == 0)
            options->exit_on_disconnect = true;
        else if (strcmp (arg, "--reissue-transient") == 0)
            options->reissue_transient = true;
        else if (!value) {
            fprintf (stderr, "broker_harness: %s needs a value\n", arg);
            return -1;
        }
        else {
            i++;
            if (strcmp (arg, "--endpoint") == 0)
                options->endpoint = value;
            else if (strcmp (arg, "--tasks") == 0)
                options->tasks_path = value;
            else if (strcmp (arg, "--heartbeat-ms") == 0)
                options->heartbeat_ms = atol (value);
            else if (strcmp (arg, "--run-ms") == 0)
                options->run_ms = atol (value);
            else if (strcmp (arg, "--readies") == 0)
                options->readies_to_exit = atol (value);
            else if (strcmp (arg, "--after-ready") == 0)
                options->after_ready = value;
            else if (strcmp (arg, "--stop-pid") == 0)
                options->stop_pid = atol (value);
            else if (strcmp (arg, "--stop-early") == 0)
                options->stop_early_ms = atol (value);
            else if (strcmp (arg, "--exit-after-sent") == 0)
                options->exit_after_sent_ms = atol (value);
            else {
                fprintf (stderr, "broker_harness: unknown option %s\n", arg);
                return -1;
            }
        }
    }
    if (!options->endpoint) {
        fprintf (stderr, "broker_harness: --endpoint is required\n");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- protocol */

static void
s_send (s_harness_t *self, const toa_msg_t *msg)
{
    if (self->have_peer && toa_transport_send (self->socket, &self->peer, msg) != 0)
        fprintf (stderr, "broker_harness: send failed: %s\n", zmq_strerror (errno));
}

/* Hands out tasks while the credit allows. */
static void
s_hand_out (s_harness_t *self)
{
    for (size_t i = 0; i < self->n_tasks && self->have_peer && self->out < self->credit; i++) {
        s_task_t *task = &self->tasks[i];
        if (task->answered || task->out)
            continue;
        s_send (self, &task->msg);
        task->out = true;
        self->out++;
        self->sent++;
        s_emit ("sent", json_pack ("{s:I, s:I}", "task", (json_int_t) s_task_id (task),
                                   "attempt", (json_int_t) *s_attempt (task)));
    }
}

static s_task_t *
s_find (s_harness_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->n_tasks; i++)
        if (s_task_id (&self->tasks[i]) == id)
            return &self->tasks[i];
    return NULL;
}

/* Once, after the first READY: what --after-ready asks for. */
static void
s_act_after_ready (s_harness_t *self)
{
    self->acted = true;
    if (strcmp (self->options.after_ready, "disconnect") == 0) {
        toa_msg_t bye = {.type = TOA_MSG_DISCONNECT};
        bye.u.disconnect.reason = "harness says goodbye";
        s_send (self, &bye);
        self->have_peer = false;
    }
    else if (strcmp (self->options.after_ready, "garbage") == 0) {
        zmq_send (self->socket, self->peer.data, self->peer.size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (self->socket, "\xc1\xff garbage", 10, ZMQ_DONTWAIT);
    }
}

static void
s_on_ready (s_harness_t *self, const toa_msg_t *msg, const toa_peer_id_t *from)
{
    const toa_msg_ready_t *ready = &msg->u.ready;
    json_t *serves = json_array ();
    for (size_t i = 0; i < ready->n_serves; i++)
        json_array_append_new (serves, json_string (ready->serves[i]));
    self->readies++;
    s_emit ("ready", json_pack ("{s:s, s:s, s:o, s:I, s:I, s:I}", "name", ready->name,
                                "kind", ready->kind == TOA_PEER_WORKER ? "worker" : "scorer",
                                "serves", serves, "credit", (json_int_t) ready->credit,
                                "heartbeat_ms", (json_int_t) ready->heartbeat_ms,
                                "n", (json_int_t) self->readies));
    /* a new connection: what was out on the old one is re-issued */
    self->peer = *from;
    self->have_peer = true;
    self->credit = ready->credit;
    self->out = 0;
    for (size_t i = 0; i < self->n_tasks; i++)
        if (self->tasks[i].out) {
            self->tasks[i].out = false;
            (*s_attempt (&self->tasks[i]))++;
        }
    if (self->options.readies_to_exit && self->readies >= self->options.readies_to_exit) {
        self->stop = true;
        return;
    }
    if (self->options.after_ready && !self->acted) {
        s_act_after_ready (self);
        if (!self->have_peer)
            return;
    }
    s_hand_out (self);
}

/* What the built-in verifier gives for TASK, or null for other backends. */
static json_t *
s_expected (const toa_msg_score_task_t *task)
{
    if (!task->reference)
        return json_null ();
    if (strcmp (task->backend, "math-verify") == 0)
        return json_real (toa_math_verify (task->response, task->reference));
    if (strcmp (task->backend, "chrf") == 0)
        return json_real (toa_chrf (task->response, task->reference));
    return json_null ();
}

static void
s_emit_result (const s_task_t *task, const toa_msg_t *msg, uint64_t id, int64_t attempt)
{
    if (msg->type == TOA_MSG_SCORE_RESULT) {
        s_emit ("result", json_pack ("{s:I, s:I, s:f, s:o}", "task", (json_int_t) id,
                                     "attempt", (json_int_t) attempt, "reward",
                                     msg->u.score_result.reward, "expected",
                                     s_expected (&task->msg.u.score_task)));
        return;
    }
    json_t *outputs = json_array ();
    for (size_t i = 0; i < msg->u.gen_result.n_outputs; i++) {
        const toa_gen_output_t *output = &msg->u.gen_result.outputs[i];
        json_array_append_new (outputs, json_pack (
            "{s:s, s:s, s:I, s:I}", "text", output->text ? output->text : "",
            "finish_reason", output->finish_reason ? output->finish_reason : "",
            "prompt_tokens", (json_int_t) output->prompt_tokens,
            "completion_tokens", (json_int_t) output->completion_tokens));
    }
    s_emit ("result", json_pack ("{s:I, s:I, s:I, s:o}", "task", (json_int_t) id, "attempt",
                                 (json_int_t) attempt, "latency_ms",
                                 (json_int_t) msg->u.gen_result.latency_ms, "outputs", outputs));
}

static void
s_on_answer (s_harness_t *self, const toa_msg_t *msg)
{
    uint64_t id = msg->type == TOA_MSG_GEN_RESULT ? msg->u.gen_result.task
                : msg->type == TOA_MSG_SCORE_RESULT ? msg->u.score_result.task
                : msg->u.task_failure.task;
    int64_t attempt = msg->type == TOA_MSG_GEN_RESULT ? msg->u.gen_result.attempt
                    : msg->type == TOA_MSG_SCORE_RESULT ? msg->u.score_result.attempt
                    : msg->u.task_failure.attempt;
    s_task_t *task = s_find (self, id);
    if (!task || task->answered || *s_attempt (task) != attempt) {
        self->stale++;
        s_emit ("stale", json_pack ("{s:I, s:I}", "task", (json_int_t) id, "attempt",
                                    (json_int_t) attempt));
        return;
    }
    if (task->out) {
        task->out = false;
        self->out--;
    }
    if (msg->type != TOA_MSG_TASK_FAILURE) {
        task->answered = true;
        self->results++;
        s_emit_result (task, msg, id, attempt);
    }
    else {
        self->failures++;
        const toa_msg_task_failure_t *failure = &msg->u.task_failure;
        bool transient = failure->failure_class == TOA_FAILURE_TRANSIENT;
        s_emit ("failure", json_pack (
            "{s:I, s:I, s:s, s:s, s:I}", "task", (json_int_t) id, "attempt", (json_int_t) attempt,
            "class", transient ? "transient" : "permanent",
            "reason", failure->reason ? failure->reason : "",
            "http_status", (json_int_t) failure->http_status));
        if (transient && self->options.reissue_transient && task->reissues < S_MAX_REISSUES) {
            task->reissues++;
            (*s_attempt (task))++;
        }
        else
            task->answered = true;
    }
    s_hand_out (self);
}

static void
s_receive (s_harness_t *self)
{
    for (;;) {
        toa_msg_t msg;
        toa_peer_id_t from;
        toa_proto_error_t error;
        int rc = toa_transport_recv (self->socket, &from, &msg, &error);
        if (rc < 0)
            return;
        if (rc == 1) {
            self->bad++;
            s_emit ("bad", json_pack ("{s:s}", "why", toa_proto_status_text (error.status)));
            continue;
        }
        switch (msg.type) {
        case TOA_MSG_READY:
            s_on_ready (self, &msg, &from);
            break;
        case TOA_MSG_HEARTBEAT:
            self->heartbeats++;
            break;
        case TOA_MSG_GEN_RESULT:
        case TOA_MSG_SCORE_RESULT:
        case TOA_MSG_TASK_FAILURE:
            s_on_answer (self, &msg);
            break;
        case TOA_MSG_DISCONNECT:
            s_emit ("disconnect", json_pack ("{s:s}", "reason", msg.u.disconnect.reason
                                                                 ? msg.u.disconnect.reason : ""));
            if (self->options.exit_on_disconnect)
                self->stop = true;
            break;
        default:
            s_emit ("unexpected", json_pack ("{s:s}", "cmd", toa_msg_type_name (msg.type)));
        }
        toa_msg_clear (&msg);
    }
}

/* ---------------------------------------------------------------- main */

static bool
s_all_answered (const s_harness_t *self)
{
    for (size_t i = 0; i < self->n_tasks; i++)
        if (!self->tasks[i].answered)
            return false;
    return true;
}

static bool
s_all_sent (const s_harness_t *self)
{
    for (size_t i = 0; i < self->n_tasks; i++)
        if (!self->tasks[i].answered && !self->tasks[i].out)
            return false;
    return true;
}

/* With --stop-pid: sends SIGTERM once the moment has come (every task
 * answered, or --stop-early ms after every task was sent), then exits at
 * the peer's DISCONNECT. */
static void
s_maybe_stop_peer (s_harness_t *self, int64_t *all_sent_ms, bool *stop_sent)
{
    if (self->options.stop_pid <= 0 || *stop_sent)
        return;
    if (self->options.stop_early_ms >= 0 && !*all_sent_ms && self->sent > 0 && s_all_sent (self))
        *all_sent_ms = toa_now_ms ();
    bool ready_to_stop = self->options.stop_early_ms >= 0
                       ? *all_sent_ms && toa_now_ms () >= *all_sent_ms + self->options.stop_early_ms
                       : self->n_tasks && s_all_answered (self);
    if (!ready_to_stop)
        return;
    kill ((pid_t) self->options.stop_pid, SIGTERM);
    s_emit ("stopping", json_pack ("{s:I}", "pid", (json_int_t) self->options.stop_pid));
    *stop_sent = true;
    self->options.exit_on_disconnect = true;
}

int
main (int argc, char **argv)
{
    s_harness_t self;
    memset (&self, 0, sizeof self);
    if (s_parse_options (argc, argv, &self.options) != 0)
        return 2;
    s_start_ms = toa_now_ms ();
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    if (self.options.tasks_path) {
        self.tasks = s_load_tasks (self.options.tasks_path, &self.n_tasks);
        if (!self.tasks)
            return 2;
    }
    void *context = zmq_ctx_new ();
    self.socket = zmq_socket (context, ZMQ_ROUTER);
    if (toa_transport_configure (self.socket, 0) != 0
        || zmq_bind (self.socket, self.options.endpoint) != 0) {
        fprintf (stderr, "broker_harness: cannot bind %s: %s\n", self.options.endpoint,
                 zmq_strerror (errno));
        return 2;
    }
    s_emit ("listening", json_pack ("{s:s}", "endpoint", self.options.endpoint));
    int64_t end_ms = s_start_ms + self.options.run_ms;
    int64_t next_heartbeat = s_start_ms + self.options.heartbeat_ms;
    bool stop_sent = false;
    int64_t all_sent_ms = 0, exit_at_ms = 0;
    while (!self.stop && !s_interrupted && toa_now_ms () < end_ms) {
        if (self.options.exit_when_done && self.n_tasks && s_all_answered (&self))
            break;
        if (self.options.exit_after_sent_ms >= 0 && !exit_at_ms && self.sent > 0
            && s_all_sent (&self))
            exit_at_ms = toa_now_ms () + self.options.exit_after_sent_ms;
        if (exit_at_ms && toa_now_ms () >= exit_at_ms)
            break;
        s_maybe_stop_peer (&self, &all_sent_ms, &stop_sent);
        zmq_pollitem_t item = {self.socket, 0, ZMQ_POLLIN, 0};
        zmq_poll (&item, 1, 20);
        if (item.revents & ZMQ_POLLIN)
            s_receive (&self);
        if (self.options.heartbeat_ms > 0 && toa_now_ms () >= next_heartbeat) {
            toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
            s_send (&self, &heartbeat);
            next_heartbeat = toa_now_ms () + self.options.heartbeat_ms;
        }
    }
    s_emit ("done", json_pack ("{s:i, s:i, s:i, s:i, s:i, s:i, s:b}", "readies",
                               (int) self.readies, "results", (int) self.results, "failures",
                               (int) self.failures, "stale", (int) self.stale, "heartbeats",
                               (int) self.heartbeats, "bad", (int) self.bad, "all_answered",
                               self.n_tasks ? s_all_answered (&self) : 0));
    for (size_t i = 0; i < self.n_tasks; i++)
        toa_msg_clear (&self.tasks[i].msg);
    free (self.tasks);
    zmq_close (self.socket);
    zmq_ctx_term (context);
    return 0;
}
