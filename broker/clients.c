/* clients.c - the client conversation (see clients.h, docs/jobs.md). */
#include "broker/clients.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/method/input.h"
#include "broker/owners.h"
#include "broker/search.h"
#include "common/log.h"
#include "common/util.h"

#define S_REASON_MAX 1000    /* proto: reasons are names of at most 1024 bytes */
#define S_MAX_LINE_ERRORS 1000
#define S_PROGRESS_MIN_MS 100 /* progress on prompt finish: at most 10 per second */
#define S_CLIENT_LIVE_BEATS 3 /* a client heard within 3 heartbeats holds its job */
#define S_REFUSED_LOG_EVERY_MS 1000 /* "not its owner" at most once a second */

/* --- sending --------------------------------------------------------------- */

static bool
s_same_peer (const toa_peer_id_t *a, const toa_peer_id_t *b)
{
    return a->size == b->size && memcmp (a->data, b->data, a->size) == 0;
}


/* Sends MSG to client TO. Returns 0, or -1 (EHOSTUNREACH: the client is gone). */
static int
s_send (toa_broker_t *b, const toa_peer_id_t *to, const toa_msg_t *msg)
{
    if (toa_transport_send (b->clients, to, msg) == 0)
        return 0;
    int saved = errno;
    toa_debug ("message to a client not sent: %s", strerror (saved));
    errno = saved;
    return -1;
}

static void
s_error (toa_broker_t *b, const toa_peer_id_t *to, int64_t code, const char *job,
         const char *message)
{
    toa_msg_t msg = {.type = TOA_MSG_ERROR};
    msg.u.error.code = code;
    msg.u.error.message = (char *) message;
    msg.u.error.job = (char *) (job ? job : "");
    s_send (b, to, &msg);
}

/* Fills STATUS from JOB; WAITING is a buffer of at least 512 bytes. */
/* Ownership (broker/owners.h): true when FROM may act on job ID owned by
 * OWNER; otherwise FROM is told why (403). */
static bool
s_owner_check (toa_broker_t *b, const toa_peer_id_t *from, const char *id, const char *owner)
{
    char reason[256];
    if (toa_owners_may (b, id, owner, from, b->request_token, reason, sizeof reason))
        return true;
    /* A client can ask at will: rate-limited, with the count not logged. */
    uint64_t unlogged;
    if (toa_log_limit_pass (&b->refused_log, toa_now_ms (), S_REFUSED_LOG_EVERY_MS, &unlogged)) {
        char key[16], more[80];
        snprintf (key, sizeof key, "%.12s", from->user_id[0] ? from->user_id : "(no key)");
        toa_log_limit_note (more, sizeof more, unlogged, "such refusals");
        toa_warn ("job %s: refused a request from client key %s...: not its owner%s", id, key,
                  more);
    }
    s_error (b, from, 403, id, reason);
    return false;
}

static bool s_admit_client (toa_broker_t *b, const toa_peer_id_t *from, const char *id,
                            int64_t n_prompts);

static void
s_status (toa_broker_t *b, toa_job_t *job, toa_job_status_t *status, char *waiting,
          size_t waiting_size, int64_t now)
{
    status->job = job->id;
    status->state = (char *) toa_job_state_name (job);
    status->method = job->method;
    status->total = job->total;
    status->done = job->done;
    status->fetched = job->acked;
    status->active = (int64_t) job->n_active;
    status->generations = job->generations;
    status->failed = job->failed;
    status->budget = job->total * job->settings->budget;
    status->spare = job->spare;
    status->waiting = (char *) toa_search_waiting (b, job, now, waiting, waiting_size);
}

/* Sends progress for JOB to its client; detaches a client that is gone. */
static void
s_progress (toa_broker_t *b, toa_job_t *job, int64_t now)
{
    char waiting[512];
    toa_msg_t msg = {.type = TOA_MSG_PROGRESS};
    s_status (b, job, &msg.u.progress.status, waiting, sizeof waiting, now);
    if (s_send (b, &job->client, &msg) != 0 && errno == EHOSTUNREACH)
        job->attached = false;
    job->last_progress_ms = now;
    job->progress_due = false;
}

/* --- submit ---------------------------------------------------------------- */

typedef struct {
    toa_line_error_t *items;
    size_t count, capacity;
    size_t total;            /* errors found, including those not listed */
} s_errors_t;

static void
s_add_error (s_errors_t *errors, int64_t line, const char *reason)
{
    errors->total++;
    if (errors->count >= S_MAX_LINE_ERRORS)
        return;
    if (errors->count == errors->capacity) {
        size_t capacity = errors->capacity ? errors->capacity * 2 : 16;
        toa_line_error_t *items = realloc (errors->items, capacity * sizeof *items);
        if (!items)
            return;
        errors->items = items;
        errors->capacity = capacity;
    }
    char *copy = strndup (reason, S_REASON_MAX);
    if (!copy)
        return;
    errors->items[errors->count].line = line;
    errors->items[errors->count++].reason = copy;
}

static void
s_free_errors (s_errors_t *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        free (errors->items[i].reason);
    free (errors->items);
}

/* Validates every line of SUBMIT into LINES (borrowed texts) and ERRORS. */
static void
s_check_lines (const toa_msg_submit_t *submit, const char **lines, size_t *n_lines,
               s_errors_t *errors)
{
    toa_input_checker_t *checker = toa_input_checker_new ();
    if (!checker) {
        s_add_error (errors, 0, "the broker is out of memory");
        return;
    }
    for (size_t i = 0; i < submit->n_prompts; i++) {
        const toa_prompt_line_t *line = &submit->prompts[i];
        char reason[512];
        json_t *prompt = NULL;
        int rc = toa_input_check (checker, line->text, strlen (line->text),
                                  (size_t) line->line, &prompt, reason, sizeof reason);
        json_decref (prompt);
        if (rc < 0)
            s_add_error (errors, line->line, reason);
        else if (rc > 0)
            lines[(*n_lines)++] = line->text;
    }
    toa_input_checker_destroy (&checker);
    if (*n_lines == 0 && errors->total == 0)
        s_add_error (errors, 0, "the batch has no prompts");
}

static void
s_reject (toa_broker_t *b, const toa_peer_id_t *to, const char *job, s_errors_t *errors)
{
    char message[256];
    snprintf (message, sizeof message, "%zu problem%s in the batch%s; nothing was stored",
              errors->total, errors->total == 1 ? "" : "s",
              errors->total > errors->count ? " (first ones listed)" : "");
    toa_msg_t msg = {.type = TOA_MSG_REJECT};
    msg.u.reject.job = (char *) job;
    msg.u.reject.message = message;
    msg.u.reject.errors = errors->items;
    msg.u.reject.n_errors = errors->count;
    toa_info ("job %s rejected: %s", job, message);
    s_send (b, to, &msg);
}

/* The job is stored whole: it runs, FROM is attached, accept goes out.
 * Takes SETTINGS. */
static void
s_start_job (toa_broker_t *b, const toa_peer_id_t *from, const char *id, const char *method,
             const char *settings_text, toa_job_settings_t *settings, int64_t total,
             int64_t now,
             const char *owner)
{
    toa_job_t *job = toa_jobs_add (b->jobs, id, method, settings_text, settings);
    if (!job) {
        s_error (b, from, 503, id, "the broker is out of memory");
        return;
    }
    job->total = total;
    job->created_ms = toa_wall_ms ();
    snprintf (job->owner, sizeof job->owner, "%s", owner);
    job->attached = true;
    job->client = *from;
    job->client_heard_ms = now;
    toa_msg_t msg = {.type = TOA_MSG_ACCEPT};
    msg.u.accept.job = job->id;
    msg.u.accept.n_prompts = job->total;
    toa_info ("job %s accepted: %" PRId64 " prompts, method %s, %zu models", job->id,
              job->total, job->method, job->settings->n_models);
    s_send (b, from, &msg);
    s_progress (b, job, now);
}

static toa_submission_t *s_submission_find (toa_broker_t *b, const char *id);

/* 1 when a job ID exists (running, done, or being submitted), 0 when not,
 * -1 when Redis failed. */
static int
s_job_exists (toa_broker_t *b, const char *id)
{
    if (toa_jobs_find (b->jobs, id) || s_submission_find (b, id))
        return 1;
    return toa_store_job_exists (b->store, id);
}

static void
s_submit (toa_broker_t *b, const toa_peer_id_t *from, const toa_msg_submit_t *submit,
          int64_t now)
{
    if (!b->state_ok) {
        s_error (b, from, 503, submit->job, "redis unavailable; try again later");
        return;
    }
    int exists = s_job_exists (b, submit->job);
    if (exists != 0) {
        s_error (b, from, exists > 0 ? 409 : 503, submit->job,
                 exists > 0 ? "a job with this id exists" : "redis unavailable");
        return;
    }
    char owner[TOA_OWNER_SIZE], why[128];
    if (toa_owners_of (from, submit->token, owner, why, sizeof why) != 0) {
        s_error (b, from, 400, submit->job, why);
        return;
    }
    if (!s_admit_client (b, from, submit->job, (int64_t) submit->n_prompts))
        return;
    s_errors_t errors = {0};
    toa_errors_t settings_errors = TOA_ERRORS_INIT;
    toa_job_settings_t *settings = toa_job_settings_parse (submit->settings, submit->method,
                                                           &settings_errors);
    for (size_t i = 0; i < settings_errors.count; i++)
        s_add_error (&errors, 0, settings_errors.messages[i]);
    toa_errors_clear (&settings_errors);
    const char **lines = calloc (submit->n_prompts + 1, sizeof *lines);
    size_t n_lines = 0;
    if (!lines)
        s_add_error (&errors, 0, "the broker is out of memory");
    else
        s_check_lines (submit, lines, &n_lines, &errors);
    if (errors.total > 0) {
        s_reject (b, from, submit->job, &errors);
        toa_job_settings_destroy (&settings);
    }
    else {
        toa_store_job_create (b->store, submit->job, submit->method, submit->settings,
                              toa_wall_ms (), lines, n_lines);
        toa_store_job_owner (b->store, submit->job, owner);
        if (toa_store_flush (b->store) != 0) {
            b->stats.store_failures++;
            toa_error ("job %s: could not store it: %s", submit->job,
                       toa_store_error (b->store));
            s_error (b, from, 503, submit->job, "redis unavailable; nothing was stored");
            toa_job_settings_destroy (&settings);
        }
        else
            s_start_job (b, from, submit->job, submit->method, submit->settings, settings,
                         (int64_t) n_lines, now, owner);
    }
    free (lines);
    s_free_errors (&errors);
}

/* --- a submission streamed in chunks -------------------------------------- */

/* One submission between submit-begin and submit-end: what the broker keeps
 * of it is constant in size (the prompts go to Redis chunk by chunk). */
struct toa_submission_s {
    toa_submission_t *next;
    char *job, *method, *settings_text;
    toa_job_settings_t *settings;
    toa_peer_id_t client;
    char owner[TOA_OWNER_SIZE]; /* the job's owner (broker/owners.h) */
    int64_t next_seq;        /* the chunk expected next */
    int64_t n_lines;         /* prompt lines received (blank ones included) */
    int64_t n_prompts;       /* valid prompts stored: indexes 0..n_prompts-1 */
    s_errors_t errors;
    int64_t last_ms;         /* when it last heard from the client */
};

/* Per-client limits before a new job of N_PROMPTS (0: not known yet); FROM
 * is told why (429) when it is over one. */
static bool
s_admit_client (toa_broker_t *b, const toa_peer_id_t *from, const char *id, int64_t n_prompts)
{
    size_t submitting = 0;
    for (const toa_submission_t *sub = b->submissions; sub; sub = sub->next)
        submitting += strcmp (sub->client.user_id, from->user_id) == 0;
    char reason[300];
    if (toa_owners_admit (b, from, submitting, n_prompts, reason, sizeof reason))
        return true;
    s_error (b, from, 429, id, reason);
    return false;
}

static void
s_submission_free (toa_submission_t *submission)
{
    toa_job_settings_destroy (&submission->settings);
    s_free_errors (&submission->errors);
    free (submission->job);
    free (submission->method);
    free (submission->settings_text);
    free (submission);
}

/* Unlinks and frees SUBMISSION; with DROP, deletes what it staged in Redis. */
static void
s_submission_end (toa_broker_t *b, toa_submission_t *submission, bool drop)
{
    for (toa_submission_t **link = &b->submissions; *link; link = &(*link)->next)
        if (*link == submission) {
            *link = submission->next;
            break;
        }
    if (drop) {
        toa_store_job_delete (b->store, submission->job, NULL, 0);
        if (toa_store_flush (b->store) != 0)
            b->stats.store_failures++;
    }
    s_submission_free (submission);
}

static toa_submission_t *
s_submission_find (toa_broker_t *b, const char *id)
{
    for (toa_submission_t *submission = b->submissions; submission;
         submission = submission->next)
        if (strcmp (submission->job, id) == 0)
            return submission;
    return NULL;
}

bool
toa_clients_submitting (toa_broker_t *b, const char *job)
{
    return s_submission_find (b, job) != NULL;
}

static void
s_submit_ack (toa_broker_t *b, const toa_peer_id_t *to, const char *job, int64_t seq)
{
    toa_msg_t msg = {.type = TOA_MSG_SUBMIT_ACK};
    msg.u.result_ack.job = (char *) job;
    msg.u.result_ack.seq = seq;
    s_send (b, to, &msg);
}

static void
s_submit_begin (toa_broker_t *b, const toa_peer_id_t *from, const toa_msg_submit_t *begin,
                int64_t now)
{
    if (!b->state_ok) {
        s_error (b, from, 503, begin->job, "redis unavailable; try again later");
        return;
    }
    int exists = s_job_exists (b, begin->job);
    if (exists != 0) {
        s_error (b, from, exists > 0 ? 409 : 503, begin->job,
                 exists > 0 ? "a job with this id exists" : "redis unavailable");
        return;
    }
    char owner[TOA_OWNER_SIZE], why[128];
    if (toa_owners_of (from, begin->token, owner, why, sizeof why) != 0) {
        s_error (b, from, 400, begin->job, why);
        return;
    }
    if (!s_admit_client (b, from, begin->job, 0))
        return;
    toa_errors_t settings_errors = TOA_ERRORS_INIT;
    toa_job_settings_t *settings = toa_job_settings_parse (begin->settings, begin->method,
                                                           &settings_errors);
    if (!settings) {
        s_errors_t errors = {0};
        for (size_t i = 0; i < settings_errors.count; i++)
            s_add_error (&errors, 0, settings_errors.messages[i]);
        toa_errors_clear (&settings_errors);
        s_reject (b, from, begin->job, &errors);
        s_free_errors (&errors);
        return;
    }
    toa_errors_clear (&settings_errors);
    toa_submission_t *submission = calloc (1, sizeof *submission);
    if (!submission || !(submission->job = strdup (begin->job))
        || !(submission->method = strdup (begin->method))
        || !(submission->settings_text = strdup (begin->settings))) {
        if (submission)
            s_submission_free (submission);
        toa_job_settings_destroy (&settings);
        s_error (b, from, 503, begin->job, "the broker is out of memory");
        return;
    }
    submission->settings = settings;
    submission->client = *from;
    submission->next_seq = 1;
    submission->last_ms = now;
    toa_store_submit_begin (b->store, begin->job, begin->method, begin->settings,
                            toa_wall_ms ());
    toa_store_job_owner (b->store, begin->job, owner);
    snprintf (submission->owner, sizeof submission->owner, "%s", owner);
    if (toa_store_flush (b->store) != 0) {
        b->stats.store_failures++;
        s_submission_free (submission);
        s_error (b, from, 503, begin->job, "redis unavailable; nothing was stored");
        return;
    }
    submission->next = b->submissions;
    b->submissions = submission;
    toa_info ("job %s: submission begins (streamed in chunks)", begin->job);
    s_submit_ack (b, from, begin->job, 0);
}

/* Checks the lines of CHUNK and stores the valid ones (ids checked across
 * chunks in Redis). Returns 0, or -1 when Redis failed. */
static int
s_chunk_store (toa_broker_t *b, toa_submission_t *submission,
               const toa_msg_submit_chunk_t *chunk)
{
    size_t n = chunk->n_prompts;
    const char **lines = calloc (n + 1, sizeof *lines);
    char **ids = calloc (n + 1, sizeof *ids);
    int64_t *line_nos = calloc (n + 1, sizeof *line_nos), *dup_of = calloc (n + 1, sizeof *dup_of);
    toa_input_checker_t *checker = toa_input_checker_new ();
    size_t count = 0;
    int rc = 0;
    if (!lines || !ids || !line_nos || !dup_of || !checker)
        s_add_error (&submission->errors, 0, "the broker is out of memory");
    for (size_t i = 0; checker && lines && ids && line_nos && dup_of && i < n; i++) {
        const toa_prompt_line_t *line = &chunk->prompts[i];
        char reason[512], id[260];       /* toa_input_id: 257 or more */
        json_t *prompt = NULL;
        int checked = toa_input_check (checker, line->text, strlen (line->text),
                                       (size_t) line->line, &prompt, reason, sizeof reason);
        if (checked < 0)
            s_add_error (&submission->errors, line->line, reason);
        else if (checked > 0 && toa_input_id (prompt, id, sizeof id)
                 && (ids[count] = strdup (id))) {
            lines[count] = line->text;
            line_nos[count++] = line->line;
        }
        json_decref (prompt);
    }
    bool store = submission->errors.total == 0;
    if (count > 0
        && toa_store_submit_chunk (b->store, submission->job, submission->n_prompts, lines,
                                   (const char *const *) ids, line_nos, count, store,
                                   dup_of) != 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (dup_of[i] != 0) {
            char reason[512];
            snprintf (reason, sizeof reason, "id: duplicate id %s (first on line %" PRId64 ")",
                      ids[i], dup_of[i]);
            s_add_error (&submission->errors, line_nos[i], reason);
        }
    if (store)
        submission->n_prompts += (int64_t) count;
    submission->n_lines += (int64_t) n;
    for (size_t i = 0; ids && i < count; i++)
        free (ids[i]);
    toa_input_checker_destroy (&checker);
    free (lines);
    free (ids);
    free (line_nos);
    free (dup_of);
    return rc;
}

/* The submission FROM sends for JOB, or NULL after telling it why not. */
static toa_submission_t *
s_submission_of (toa_broker_t *b, const toa_peer_id_t *from, const char *job)
{
    toa_submission_t *submission = s_submission_find (b, job);
    if (!submission)
        s_error (b, from, 404, job, "no submission of this job is in progress");
    else if (!s_same_peer (&submission->client, from)) {
        s_error (b, from, 409, job, "another client is submitting this job");
        submission = NULL;
    }
    return submission;
}

static void
s_submit_chunk (toa_broker_t *b, const toa_peer_id_t *from,
                const toa_msg_submit_chunk_t *chunk, int64_t now)
{
    toa_submission_t *submission = s_submission_of (b, from, chunk->job);
    if (!submission)
        return;
    if (chunk->seq != submission->next_seq) {
        char reason[128];
        snprintf (reason, sizeof reason, "chunk %" PRId64 " out of order (expected %" PRId64
                  "); the submission is dropped", chunk->seq, submission->next_seq);
        s_error (b, from, 400, chunk->job, reason);
        s_submission_end (b, submission, true);
        return;
    }
    submission->last_ms = now;
    if (s_chunk_store (b, submission, chunk) != 0) {
        b->stats.store_failures++;
        s_error (b, from, 503, chunk->job, "redis unavailable; nothing was stored");
        s_submission_end (b, submission, false);
        return;
    }
    submission->next_seq++;
    s_submit_ack (b, from, chunk->job, chunk->seq);
}

static void
s_submit_end (toa_broker_t *b, const toa_peer_id_t *from, const toa_msg_accept_t *end,
              int64_t now)
{
    toa_submission_t *submission = s_submission_of (b, from, end->job);
    if (!submission)
        return;
    if (end->n_prompts != submission->n_lines) {
        char reason[160];
        snprintf (reason, sizeof reason, "the client sent %" PRId64 " lines, the broker "
                  "received %" PRId64, end->n_prompts, submission->n_lines);
        s_add_error (&submission->errors, 0, reason);
    }
    if (submission->errors.total == 0 && submission->n_prompts == 0)
        s_add_error (&submission->errors, 0, "the batch has no prompts");
    char limit[300];
    if (submission->errors.total == 0
        && !toa_owners_admit (b, from, 0, submission->n_prompts, limit, sizeof limit))
        s_add_error (&submission->errors, 0, limit);
    if (submission->errors.total > 0) {
        s_reject (b, from, end->job, &submission->errors);
        s_submission_end (b, submission, true);
        return;
    }
    toa_store_submit_commit (b->store, submission->job, submission->n_prompts);
    if (toa_store_flush (b->store) != 0) {
        b->stats.store_failures++;
        s_error (b, from, 503, end->job, "redis unavailable; nothing was stored");
        s_submission_end (b, submission, false);
        return;
    }
    toa_job_settings_t *settings = submission->settings;
    submission->settings = NULL;
    s_start_job (b, from, submission->job, submission->method, submission->settings_text,
                 settings, submission->n_prompts, now, submission->owner);
    s_submission_end (b, submission, false);
}

/* Drops submissions whose client went quiet (it died mid-submit). */
static void
s_submissions_expire (toa_broker_t *b, int64_t now)
{
    int idle_ms = b->options.submit_idle_ms > 0 ? b->options.submit_idle_ms
                                                : TOA_CLIENTS_SUBMIT_IDLE_MS;
    toa_submission_t *submission = b->submissions;
    while (submission) {
        toa_submission_t *next = submission->next;
        if (now - submission->last_ms >= idle_ms) {
            toa_warn ("job %s: its client sent nothing for %.1f s mid-submission; dropped",
                      submission->job, idle_ms / 1000.0);
            s_submission_end (b, submission, true);
        }
        submission = next;
    }
}

void
toa_clients_destroy (toa_broker_t *b)
{
    while (b->submissions)
        s_submission_end (b, b->submissions, false);
}

/* --- other requests -------------------------------------------------------- */

/* Tells FROM that job ID is unknown (404), or that Redis is down (503) when
 * the jobs could not be loaded. */
static void
s_unknown_job (toa_broker_t *b, const toa_peer_id_t *from, const char *id)
{
    s_error (b, from, b->state_ok ? 404 : 503, id,
             b->state_ok ? "unknown job" : "redis unavailable");
}

/* The job a request names, or NULL after telling FROM why not. */
static toa_job_t *
s_requested_job (toa_broker_t *b, const toa_peer_id_t *from, const char *id)
{
    toa_job_t *job = toa_jobs_find (b->jobs, id);
    if (!job)
        s_unknown_job (b, from, id);
    else if (!s_owner_check (b, from, id, job->owner))
        job = NULL;
    return job;
}

/* A retired job: done, its hash kept in Redis (toa_store_job_retire). */
typedef struct {
    toa_job_status_t status;
    toa_store_job_t stored;  /* owns the strings STATUS borrows */
    char id[80];
} s_retired_t;

/* Loads job ID's retired hash. Returns 1 when the job is retired (RETIRED
 * filled; s_retired_clear it), 0 when not, -1 when Redis failed. */
static int
s_retired_load (toa_broker_t *b, const char *id, s_retired_t *retired)
{
    memset (retired, 0, sizeof *retired);
    if (!b->state_ok)
        return -1;
    int rc = toa_store_job_load (b->store, id, &retired->stored);
    if (rc < 0) {
        b->stats.store_failures++;
        return -1;
    }
    if (rc > 0 || strcmp (retired->stored.state, "done") != 0) {
        toa_store_job_clear (&retired->stored);
        return 0;
    }
    snprintf (retired->id, sizeof retired->id, "%s", id);
    toa_job_status_t *status = &retired->status;
    status->job = retired->id;
    status->state = "done";
    status->method = retired->stored.method;
    status->total = retired->stored.total;
    status->done = retired->stored.done;
    status->fetched = retired->stored.acked;
    status->generations = retired->stored.generations;
    status->failed = retired->stored.failed;
    status->waiting = "";
    return 1;
}

static void
s_retired_clear (s_retired_t *retired)
{
    toa_store_job_clear (&retired->stored);
}

/* The job a request names, or NULL: when the job is retired (done), sends FROM
 * its final status as a TYPE message (progress or status) instead; else
 * tells FROM why not. */
static toa_job_t *
s_requested_or_retired (toa_broker_t *b, const toa_peer_id_t *from, const char *id,
                        toa_msg_type_t type)
{
    toa_job_t *job = toa_jobs_find (b->jobs, id);
    if (job)
        return s_owner_check (b, from, id, job->owner) ? job : NULL;
    s_retired_t retired;
    int rc = s_retired_load (b, id, &retired);
    if (rc <= 0) {
        if (rc < 0)
            s_error (b, from, 503, id, "redis unavailable");
        else
            s_unknown_job (b, from, id);
        return NULL;
    }
    if (!s_owner_check (b, from, id, retired.stored.owner)) {
        s_retired_clear (&retired);
        return NULL;
    }
    toa_msg_t msg = {.type = type};
    if (type == TOA_MSG_PROGRESS)
        msg.u.progress.status = retired.status;
    else {
        msg.u.status.jobs = &retired.status;
        msg.u.status.n_jobs = 1;
    }
    s_send (b, from, &msg);
    s_retired_clear (&retired);
    return NULL;
}

static void
s_result_ack (toa_broker_t *b, const toa_peer_id_t *from, const toa_msg_result_ack_t *ack)
{
    toa_job_t *job = toa_jobs_find (b->jobs, ack->job);
    if (!job) {
        /* acks are idempotent: a repeated ack of a job done since is fine */
        s_retired_t retired;
        int rc = s_retired_load (b, ack->job, &retired);
        if (rc == 0)
            s_unknown_job (b, from, ack->job);
        s_retired_clear (&retired);
        return;
    }
    if (!s_owner_check (b, from, ack->job, job->owner))
        return;
    int64_t to = ack->seq + 1;
    if (to > job->next_seq) {
        s_error (b, from, 400, ack->job, "result-ack for a result not sent yet");
        return;
    }
    if (to <= job->acked)
        return;
    toa_store_acked (b->store, job->id, job->acked, to);
    job->acked = to;
    if (job->sent < to)
        job->sent = to;
}

/* Whether FROM may attach to JOB now; else REASON says why (a client error
 * CODE). One client holds a job at a time: the attached one, while the broker
 * has heard from it within S_CLIENT_LIVE_BEATS heartbeats (clients send
 * heartbeats); a client gone silent (dead, paused) gives the job up to the
 * next attach. */
static bool
s_may_attach (toa_broker_t *b, const toa_job_t *job, const toa_peer_id_t *from, int64_t now,
              int64_t *code, char *reason, size_t reason_size)
{
    int64_t live_ms = S_CLIENT_LIVE_BEATS * (int64_t) b->options.heartbeat_ms;
    if (job->attached && !s_same_peer (&job->client, from) && job->client_heard_ms > 0
        && now - job->client_heard_ms < live_ms) {
        *code = 423;
        snprintf (reason, reason_size, "job %s is attached to another client (heard %" PRId64
                  " ms ago); one client follows a job at a time", job->id,
                  now - job->client_heard_ms);
        return false;
    }
    return true;
}

static void
s_attach (toa_broker_t *b, const toa_peer_id_t *from, const char *id, int64_t now)
{
    toa_job_t *job = s_requested_or_retired (b, from, id, TOA_MSG_PROGRESS);
    if (!job)
        return;
    int64_t code = 0;
    char reason[256];
    if (!s_may_attach (b, job, from, now, &code, reason, sizeof reason)) {
        s_error (b, from, code, job->id, reason);
        return;
    }
    job->attached = true;
    job->client = *from;
    job->client_heard_ms = now;
    job->sent = job->acked;  /* resend every unacknowledged result */
    toa_info ("job %s: client attached; resending from result %" PRId64, job->id, job->acked);
    s_progress (b, job, now);
}

/* Any message from FROM keeps the jobs it follows held by it. */
static void
s_client_heard (toa_broker_t *b, const toa_peer_id_t *from, int64_t now)
{
    for (size_t i = 0; i < toa_jobs_count (b->jobs); i++) {
        toa_job_t *job = toa_jobs_at (b->jobs, i);
        if (job->attached && s_same_peer (&job->client, from))
            job->client_heard_ms = now;
    }
}

static void
s_status_request (toa_broker_t *b, const toa_peer_id_t *from, const char *id, int64_t now)
{
    size_t n = toa_jobs_count (b->jobs);
    toa_job_status_t *statuses = calloc (n + 1, sizeof *statuses);
    char (*waiting)[512] = calloc (n + 1, sizeof *waiting);
    if (!statuses || !waiting) {
        free (statuses);
        free (waiting);
        s_error (b, from, 503, id, "the broker is out of memory");
        return;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        toa_job_t *job = toa_jobs_at (b->jobs, i);
        /* the caller's own jobs (all of them for an admin); another's job
         * named by ID gets its 403 from s_requested_or_retired below */
        if (!toa_owners_may (b, job->id, job->owner, from, b->request_token, NULL, 0))
            continue;
        if (!*id || strcmp (job->id, id) == 0) {
            s_status (b, job, &statuses[count], waiting[count], sizeof waiting[count], now);
            count++;
        }
    }
    if (*id && count == 0)
        s_requested_or_retired (b, from, id, TOA_MSG_STATUS);
    else {
        toa_msg_t msg = {.type = TOA_MSG_STATUS};
        msg.u.status.jobs = statuses;
        msg.u.status.n_jobs = count;
        s_send (b, from, &msg);
    }
    free (statuses);
    free (waiting);
}

/* A job's last status, kept beyond the job (whose strings it would borrow). */
typedef struct {
    toa_job_status_t status;
    char job[80], method[64];
    bool attached;
    toa_peer_id_t client;
} s_final_t;

static void
s_final (toa_broker_t *b, toa_job_t *job, s_final_t *final, int64_t now)
{
    char waiting[8];
    s_status (b, job, &final->status, waiting, sizeof waiting, now);
    snprintf (final->job, sizeof final->job, "%s", job->id);
    snprintf (final->method, sizeof final->method, "%s", job->method);
    final->status.job = final->job;
    final->status.method = final->method;
    final->status.state = (char *) toa_job_state_name (job);
    final->status.active = 0;
    final->status.waiting = "";
    final->attached = job->attached;
    final->client = job->client;
}

/* Sends FINAL as progress to the job's client (when attached and not SKIP). */
static void
s_final_progress (toa_broker_t *b, s_final_t *final, const toa_peer_id_t *skip)
{
    if (!final->attached || (skip && s_same_peer (skip, &final->client)))
        return;
    toa_msg_t msg = {.type = TOA_MSG_PROGRESS};
    msg.u.progress.status = final->status;
    s_send (b, &final->client, &msg);
}

static void
s_cancel (toa_broker_t *b, const toa_peer_id_t *from, const char *id, int64_t now)
{
    toa_job_t *job = s_requested_job (b, from, id);
    if (!job)
        return;
    job->state = TOA_JOB_CANCELLED;
    s_final_t final;
    s_final (b, job, &final, now);
    toa_search_cancel (b, job, now);
    /* The keys are gone before anyone hears "cancelled". */
    if (toa_store_flush (b->store) != 0) {
        s_error (b, from, 503, final.job, "redis unavailable; the job was not cancelled");
        return;
    }
    toa_msg_t msg = {.type = TOA_MSG_STATUS};
    msg.u.status.jobs = &final.status;
    msg.u.status.n_jobs = 1;
    s_send (b, from, &msg);
    s_final_progress (b, &final, from);
}

void
toa_clients_handle (toa_broker_t *b, const toa_peer_id_t *from, int status,
                    const toa_msg_t *msg, const toa_proto_error_t *error, int64_t now)
{
    if (status != 0) {
        b->stats.bad_messages++;
        char reason[256];
        toa_proto_error_text (error, reason, sizeof reason);
        toa_warn ("client: %s", reason);
        s_error (b, from, 400, NULL, reason);
        return;
    }
    s_client_heard (b, from, now);
    b->request_token = msg->type == TOA_MSG_RESULT_ACK ? msg->u.result_ack.token
                       : msg->type == TOA_MSG_ATTACH || msg->type == TOA_MSG_CANCEL
                               || msg->type == TOA_MSG_STATUS_REQUEST
                           ? msg->u.job_ref.token
                           : NULL;
    switch (msg->type) {
    case TOA_MSG_SUBMIT:
        s_submit (b, from, &msg->u.submit, now);
        break;
    case TOA_MSG_SUBMIT_BEGIN:
        s_submit_begin (b, from, &msg->u.submit, now);
        break;
    case TOA_MSG_SUBMIT_CHUNK:
        s_submit_chunk (b, from, &msg->u.submit_chunk, now);
        break;
    case TOA_MSG_SUBMIT_END:
        s_submit_end (b, from, &msg->u.accept, now);
        break;
    case TOA_MSG_RESULT_ACK:
        s_result_ack (b, from, &msg->u.result_ack);
        break;
    case TOA_MSG_ATTACH:
        s_attach (b, from, msg->u.job_ref.job, now);
        break;
    case TOA_MSG_STATUS_REQUEST:
        s_status_request (b, from, msg->u.job_ref.job, now);
        break;
    case TOA_MSG_CANCEL:
        s_cancel (b, from, msg->u.job_ref.job, now);
        break;
    case TOA_MSG_HEARTBEAT:
        break;
    default:
        b->stats.bad_messages++;
        s_error (b, from, 400, NULL, "not a client request");
        break;
    }
    b->request_token = NULL;    /* it points into MSG */
}

/* --- progress and results -------------------------------------------------- */

_Static_assert (TOA_JOB_RECENT >= TOA_CLIENTS_WINDOW, "a job keeps its client's window");

/* Puts LINES[FROM..N-1] (results FIRST + i, the unsent ones) back in JOB's
 * memory for the next pass. */
static void
s_keep_lines (toa_job_t *job, int64_t first, char **lines, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        if (lines[i]) {
            toa_job_keep_result (job, first + (int64_t) i, lines[i]);
            lines[i] = NULL;
        }
}

/* Sends JOB's results that the window allows. Returns -1 when Redis failed. */
static int
s_pump_results (toa_broker_t *b, toa_job_t *job)
{
    int64_t limit = job->acked + TOA_CLIENTS_WINDOW;
    if (limit > job->next_seq)
        limit = job->next_seq;
    if (job->sent < job->acked)
        job->sent = job->acked;
    if (job->sent >= limit)
        return 0;
    size_t n = (size_t) (limit - job->sent), kept = 0;
    /* Lines finished while the client was attached are kept in memory;
     * others (after an attach, a restart) are read back from Redis. */
    char **lines = calloc (n, sizeof *lines);
    if (!lines)
        return 0;            /* out of memory: try next pass */
    for (size_t i = 0; i < n; i++)
        if ((lines[i] = toa_job_take_result (job, job->sent + (int64_t) i)))
            kept++;
    if (kept < n) {
        char **stored = NULL;
        if (toa_store_results (b->store, job->id, job->sent, n, &stored) != 0) {
            s_keep_lines (job, job->sent, lines, 0, n);
            free (lines);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (!lines[i]) {
                lines[i] = stored[i];
                stored[i] = NULL;
            }
        toa_store_strings_free (stored, n);
    }
    /* A kept line goes out only once Redis has it (a prompt finished after
     * this pass's flush, e.g. while dispatching, is still queued). */
    if (kept > 0 && toa_store_pending (b->store) > 0 && toa_store_flush (b->store) != 0) {
        s_keep_lines (job, job->sent, lines, 0, n);
        free (lines);
        return -1;
    }
    int64_t first = job->sent;
    for (size_t i = 0; i < n && job->attached; i++) {
        int64_t seq = job->sent;
        toa_msg_t msg = {.type = TOA_MSG_RESULT};
        msg.u.result.job = job->id;
        msg.u.result.seq = seq;
        msg.u.result.result = lines[i] ? lines[i] : "{}";
        if (!lines[i])
            toa_error ("job %s: result %" PRId64 " is missing from Redis", job->id, seq);
        if (s_send (b, &job->client, &msg) != 0) {
            if (errno == EHOSTUNREACH) {
                toa_info ("job %s: client gone; results wait in Redis", job->id);
                job->attached = false;
            }
            break;           /* EAGAIN: its queue is full, try next pass */
        }
        job->sent++;
    }
    /* Lines not sent yet (a full queue) wait in memory for the next pass. */
    s_keep_lines (job, first, lines, (size_t) (job->sent - first), n);
    toa_store_strings_free (lines, n);
    return 0;
}

int
toa_clients_tick (toa_broker_t *b, int64_t now)
{
    s_submissions_expire (b, now);
    for (size_t i = toa_jobs_count (b->jobs); i-- > 0;) {
        toa_job_t *job = toa_jobs_at (b->jobs, i);
        if (job->attached && b->state_ok && s_pump_results (b, job) != 0)
            return -1;
        if (job->state == TOA_JOB_SEARCHED && job->acked >= job->total) {
            /* Retired (state "done" in Redis) before the client hears "done". */
            job->state = TOA_JOB_DONE;
            s_final_t final;
            s_final (b, job, &final, now);
            toa_search_forget (b, job);
            if (toa_store_flush (b->store) != 0)
                return -1;
            s_final_progress (b, &final, NULL);
            continue;
        }
        if (job->attached
            && (now - job->last_progress_ms >= b->options.heartbeat_ms
                || (job->progress_due && now - job->last_progress_ms >= S_PROGRESS_MIN_MS)))
            s_progress (b, job, now);
    }
    return 0;
}
