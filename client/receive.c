/* receive.c - follows a job: results to the output file, acks after fsync,
 * progress, silence and re-attach, Ctrl-C detach (see receive.h). */
#include "client/receive.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/display.h"
#include "client/exit_codes.h"
#include "client/progress.h"
#include "common/util.h"

#define S_TICK_MS 250                 /* longest sleep between checks */
#define S_SILENCE_NOTE_MS 10000       /* between "broker silent" notes */
#define S_MIN_REATTACH_MS 2000        /* between attaches while silent */

typedef struct {
    const toa_receive_options_t *options;
    toa_conn_t *conn;
    toa_output_t *output;
    toa_display_t display;
    toa_progress_t progress;
    toa_receive_stats_t stats;
    int64_t start_ms;
    int64_t last_heard_ms;
    int64_t last_attach_ms;
    int64_t last_note_ms;             /* last "broker silent" note */
    int64_t last_result_ms;           /* when a result last arrived */
    int64_t last_sent_ms;             /* when this client last sent anything */
    int64_t refused_since_ms;         /* attach refused (423) since, 0 = not refused */
    int64_t retry_attach_ms;          /* when to attach again after a refusal, 0 = no */
    bool heard;                       /* the broker answered at least once */
    bool attached;                    /* accepted (submit) or following (attach) */
    bool baseline;                    /* stored_upto is meaningful */
    int64_t stored_upto;              /* results 0..stored_upto are in the file */
    bool finished;
    bool write_failed;                /* the output failed: acknowledge nothing more */
    bool noted;                       /* the early-stop note is printed */
    int exit_code;
} s_loop_t;

static void
s_finish (s_loop_t *loop, int exit_code)
{
    loop->finished = true;
    loop->exit_code = exit_code;
}

/* Sends result-ack: results 0..SEQ are stored. Returns 0 or -1. */
static int
s_send_ack (s_loop_t *loop, int64_t seq)
{
    toa_msg_t ack;
    memset (&ack, 0, sizeof ack);
    ack.type = TOA_MSG_RESULT_ACK;
    ack.u.result_ack.job = (char *) loop->options->job;
    ack.u.result_ack.seq = seq;
    return toa_conn_send (loop->conn, &ack);
}

/* Syncs the output when due (or when FORCE) and acknowledges what is on disk.
 * A failing sync ends the run: nothing unsynced is acknowledged. After a
 * failed write the whole lines before it are still synced and acknowledged. */
static void
s_sync_and_ack (s_loop_t *loop, int64_t now, bool force)
{
    if (toa_output_unsynced (loop->output) > 0
        && (force || toa_output_sync_due (loop->output, now))) {
        toa_errors_t errors = TOA_ERRORS_INIT;
        if (toa_output_sync (loop->output, &errors) != 0) {
            toa_display_note (&loop->display, "toa: %s", errors.count ? errors.messages[0] : "");
            toa_errors_clear (&errors);
            loop->write_failed = true;
            s_finish (loop, TOA_EXIT_FAILED);
            return;
        }
    }
    if (toa_output_unsynced (loop->output) == 0 && loop->baseline
        && loop->stored_upto > loop->stats.acked && s_send_ack (loop, loop->stored_upto) == 0) {
        loop->stats.acked = loop->stored_upto;
        loop->last_sent_ms = now;
    }
}

/* Sends the ack of everything acknowledged again (acks are cumulative and
 * idempotent): the broker's count says an earlier one was lost. */
static void
s_ack_again (s_loop_t *loop)
{
    if (loop->stats.acked >= 0)
        s_send_ack (loop, loop->stats.acked);
}

static void
s_attach (s_loop_t *loop, int64_t now, bool reconnect)
{
    if (reconnect)
        toa_conn_reconnect (loop->conn);
    toa_conn_send_job_ref (loop->conn, TOA_MSG_ATTACH, loop->options->job);
    loop->last_attach_ms = loop->last_sent_ms = now;
    loop->stats.reattached++;
}

static void
s_on_result (s_loop_t *loop, const toa_msg_result_t *result, int64_t now)
{
    loop->stats.results++;
    loop->attached = true;
    loop->last_result_ms = now;
    if (loop->write_failed)
        return;
    if (loop->baseline && result->seq <= loop->stored_upto) {
        loop->stats.duplicates++;             /* resent: stored already */
        return;
    }
    toa_errors_t errors = TOA_ERRORS_INIT;
    int rc = toa_output_append (loop->output, result->result, strlen (result->result), now,
                                &errors);
    if (rc == 1)
        loop->stats.written++;
    else if (rc == 0)
        loop->stats.duplicates++;
    else if (rc == TOA_OUTPUT_INVALID) {
        /* garbage from the broker: say so, count it, and move on */
        toa_display_note (&loop->display, "toa: result %lld of job %s skipped: %s",
                          (long long) result->seq, loop->options->job,
                          errors.count ? errors.messages[0] : "");
        loop->stats.invalid++;
    }
    else {
        /* cannot write: acknowledge nothing more */
        toa_display_note (&loop->display, "toa: %s", errors.count ? errors.messages[0] : "");
        toa_errors_clear (&errors);
        loop->write_failed = true;
        s_finish (loop, TOA_EXIT_FAILED);
        return;
    }
    toa_errors_clear (&errors);
    if (!loop->baseline) {
        /* attach without a progress first: the broker resends from the
           lowest unacknowledged seq */
        loop->baseline = true;
        loop->stored_upto = result->seq - 1;
    }
    if (result->seq == loop->stored_upto + 1)
        loop->stored_upto = result->seq;
    else if (result->seq > loop->stored_upto + 1 && now - loop->last_attach_ms >= S_MIN_REATTACH_MS)
        s_attach (loop, now, false);          /* a gap: have the broker resend from it */
}

/* The job is done: every result is acknowledged. Success only when this run
 * (or the runs before an attach) acknowledged all of them. */
static void
s_on_done (s_loop_t *loop, const toa_job_status_t *status)
{
    if (loop->stats.acked + 1 >= status->total) {
        s_finish (loop, TOA_EXIT_OK);
        return;
    }
    toa_display_end (&loop->display);
    toa_display_note (&loop->display, "toa: job %s is done, but results %lld..%lld were "
                      "acknowledged by another client: they are not in %s",
                      loop->options->job, (long long) (loop->stats.acked + 1),
                      (long long) (status->total - 1), loop->options->output_path);
    loop->noted = true;
    s_finish (loop, TOA_EXIT_FAILED);
}

static void
s_on_progress (s_loop_t *loop, const toa_job_status_t *status, int64_t now)
{
    if (!status->job || strcmp (status->job, loop->options->job) != 0)
        return;
    loop->attached = true;
    loop->refused_since_ms = 0;
    loop->stats.total = status->total;
    if (!loop->baseline) {
        /* attach: results 0..fetched-1 are acknowledged, the rest come again */
        loop->baseline = true;
        loop->stored_upto = status->fetched - 1;
        loop->stats.acked = status->fetched - 1;
        loop->stats.acked_before = status->fetched;
    }
    else if (status->fetched - 1 < loop->stats.acked)
        s_ack_again (loop);
    toa_progress_set_written (&loop->progress, loop->stats.acked + 1);
    toa_progress_update (&loop->progress, status, now);
    if (strcmp (status->state, "done") == 0)
        s_on_done (loop, status);
    else if (strcmp (status->state, "cancelled") == 0) {
        toa_display_progress (&loop->display, &loop->progress, now, true);
        toa_display_end (&loop->display);
        toa_display_note (&loop->display, "toa: job %s was cancelled", loop->options->job);
        loop->noted = true;
        s_finish (loop, TOA_EXIT_FAILED);
    }
    else
        toa_display_progress (&loop->display, &loop->progress, now, false);
}

static void
s_on_reject (s_loop_t *loop, const toa_msg_reject_t *reject)
{
    const char *input = loop->options->input_path ? loop->options->input_path : "input";
    toa_display_note (&loop->display, "toa: job %s rejected by the broker: %s",
                      loop->options->job, reject->message);
    for (size_t i = 0; i < reject->n_errors; i++) {
        const toa_line_error_t *error = &reject->errors[i];
        if (error->line > 0)
            toa_display_note (&loop->display, "%s:%lld: %s", input, (long long) error->line,
                              error->reason);
        else
            toa_display_note (&loop->display, "%s", error->reason);
    }
    s_finish (loop, TOA_EXIT_USAGE);
}

/* Another client holds the job (error 423): attach again every heartbeat
 * until it stops (dead or paused clients stop being heard), for --timeout
 * when this run never followed the job, for --give-up when it did. */
static void
s_on_refused (s_loop_t *loop, const char *message, int64_t now)
{
    const toa_receive_options_t *options = loop->options;
    if (!loop->refused_since_ms) {
        loop->refused_since_ms = now;
        toa_display_note (&loop->display, "toa: %s; waiting for it to stop", message);
    }
    int64_t limit = loop->attached ? (options->give_up_ms > 0 ? options->give_up_ms
                                                               : TOA_RECEIVE_GIVE_UP_MS)
                                   : options->timeout_ms;
    if (now - loop->refused_since_ms >= limit) {
        toa_display_note (&loop->display, "toa: another client still follows job %s; toa "
                          "attach again once it has stopped", options->job);
        loop->noted = true;
        s_finish (loop, TOA_EXIT_FAILED);
        return;
    }
    int64_t wait = options->heartbeat_ms > 500 ? options->heartbeat_ms : 500;
    loop->retry_attach_ms = now + wait;
}

static void
s_on_error (s_loop_t *loop, const toa_msg_error_t *error, int64_t now)
{
    const char *job = loop->options->job;
    const char *message = error->message ? error->message : "";
    if (error->code == 423) {
        s_on_refused (loop, message, now);
        return;
    }
    if (error->code == 503 && loop->attached) {
        /* Redis is away; the broker resumes once it is back */
        toa_display_note (&loop->display, "toa: broker: %s; still waiting", message);
        return;
    }
    switch (error->code) {
    case 409:
        toa_display_note (&loop->display, "toa: job %s already exists (%s); choose another --job",
                          job, message);
        s_finish (loop, TOA_EXIT_USAGE);
        break;
    case 404:
        toa_display_note (&loop->display, "toa: the broker does not know job %s (%s): never "
                          "submitted, cancelled, or done and forgotten", job, message);
        loop->noted = true;
        s_finish (loop, TOA_EXIT_FAILED);
        break;
    default:
        toa_display_note (&loop->display, "toa: broker error %lld: %s", (long long) error->code,
                          message);
        s_finish (loop, TOA_EXIT_FAILED);
        break;
    }
}

static void
s_on_message (s_loop_t *loop, const toa_msg_t *msg, int64_t now)
{
    switch (msg->type) {
    case TOA_MSG_ACCEPT:
        if (msg->u.accept.job && strcmp (msg->u.accept.job, loop->options->job) == 0)
            loop->attached = true;
        break;
    case TOA_MSG_REJECT:
        s_on_reject (loop, &msg->u.reject);
        break;
    case TOA_MSG_ERROR:
        if (!msg->u.error.job || !*msg->u.error.job
            || strcmp (msg->u.error.job, loop->options->job) == 0)
            s_on_error (loop, &msg->u.error, now);
        break;
    case TOA_MSG_PROGRESS:
        s_on_progress (loop, &msg->u.progress.status, now);
        break;
    case TOA_MSG_RESULT:
        if (msg->u.result.job && strcmp (msg->u.result.job, loop->options->job) == 0)
            s_on_result (loop, &msg->u.result, now);
        break;
    case TOA_MSG_DISCONNECT:
        toa_display_note (&loop->display, "toa: the broker closed the conversation: %s",
                          msg->u.disconnect.reason ? msg->u.disconnect.reason : "");
        s_finish (loop, TOA_EXIT_FAILED);
        break;
    default:
        break;                          /* heartbeats and others: liveness only */
    }
}

/* No answer yet, or a silent broker: say so, and re-attach. */
static void
s_check_silence (s_loop_t *loop, int64_t now)
{
    const toa_receive_options_t *options = loop->options;
    if (!loop->heard) {
        if (now - loop->start_ms >= options->timeout_ms) {
            toa_display_note (&loop->display, "toa: no answer from broker at %s",
                              toa_conn_endpoint (loop->conn));
            s_finish (loop, TOA_EXIT_NO_BROKER);
        }
        return;
    }
    int64_t silent_limit = 3 * (int64_t) options->heartbeat_ms;
    int64_t silent = now - loop->last_heard_ms;
    if (silent <= silent_limit)
        return;
    if (loop->last_note_ms < loop->last_heard_ms || now - loop->last_note_ms >= S_SILENCE_NOTE_MS) {
        toa_display_note (&loop->display, "toa: broker silent for %lld s, still waiting",
                          (long long) (silent < 1000 ? 1 : (silent + 500) / 1000));
        loop->last_note_ms = now;
    }
    int64_t give_up = options->give_up_ms > 0 ? options->give_up_ms : TOA_RECEIVE_GIVE_UP_MS;
    if (silent >= give_up) {
        toa_display_note (&loop->display, "toa: broker silent for %lld s: giving up",
                          (long long) (silent / 1000));
        s_finish (loop, TOA_EXIT_NO_BROKER);
        return;
    }
    int64_t interval = silent_limit > S_MIN_REATTACH_MS ? silent_limit : S_MIN_REATTACH_MS;
    if (now - loop->last_attach_ms >= interval)
        s_attach (loop, now, true);
}

/* Keeps the broker hearing from this client (it holds the job while heard),
 * and attaches again when a refusal's wait is over. */
static void
s_keep_alive (s_loop_t *loop, int64_t now)
{
    if (loop->retry_attach_ms && now >= loop->retry_attach_ms) {
        loop->retry_attach_ms = 0;
        s_attach (loop, now, false);
    }
    if (loop->heard && now - loop->last_sent_ms >= loop->options->heartbeat_ms) {
        toa_msg_t beat;
        memset (&beat, 0, sizeof beat);
        beat.type = TOA_MSG_HEARTBEAT;
        if (toa_conn_send (loop->conn, &beat) == 0)
            loop->last_sent_ms = now;
    }
}

/* The broker has results we have not got (its count says so) and sends
 * none: one was lost on the way (a reconnect drops what was queued); attach
 * again, and it resends from the first unacknowledged one. */
static void
s_check_stall (s_loop_t *loop, int64_t now)
{
    int64_t limit = 3 * (int64_t) loop->options->heartbeat_ms;
    if (limit < S_MIN_REATTACH_MS)
        limit = S_MIN_REATTACH_MS;
    if (!loop->baseline || !loop->progress.have_status || loop->write_failed
        || loop->progress.done <= loop->stored_upto + 1)
        return;
    if (now - loop->last_result_ms >= limit && now - loop->last_attach_ms >= limit)
        s_attach (loop, now, false);
}

/* How long the next wait may last. */
static int
s_wait_ms (const s_loop_t *loop, int64_t now)
{
    int64_t wait = S_TICK_MS;
    int64_t deadline = toa_output_sync_deadline (loop->output);
    if (deadline != INT64_MAX && deadline - now < wait)
        wait = deadline - now;
    return wait > 0 ? (int) wait : 0;
}

static void
s_summary (s_loop_t *loop, int64_t now)
{
    char wall[32];
    double seconds = (double) (now - loop->start_ms) / 1000.0;
    if (seconds < 60)
        snprintf (wall, sizeof wall, "%.1fs", seconds);
    else
        toa_progress_duration (seconds, wall, sizeof wall);
    if (loop->options->mode == TOA_RECEIVE_ATTACH && loop->stats.results == 0
        && loop->stats.acked_before >= loop->progress.total) {
        fprintf (stderr, "toa: job %s is done: all %lld results were acknowledged before; "
                 "nothing to write\n", loop->options->job, (long long) loop->progress.total);
        return;
    }
    fprintf (stderr, "toa: job %s done: all %lld results stored: %lld written to %s",
             loop->options->job, (long long) loop->progress.total,
             (long long) loop->stats.written, loop->options->output_path);
    if (loop->stats.duplicates)
        fprintf (stderr, " (%lld duplicates skipped)", (long long) loop->stats.duplicates);
    if (loop->stats.acked_before)
        fprintf (stderr, ", %lld acknowledged before this attach",
                 (long long) loop->stats.acked_before);
    fprintf (stderr, "; %lld generations (%lld failed), wall time %s",
             (long long) loop->progress.generations, (long long) loop->progress.failed, wall);
    if (loop->progress.spare > 0)
        fprintf (stderr, "; %lld of its budget of %lld generations unspent (early stop)",
                 (long long) loop->progress.spare, (long long) loop->progress.budget);
    fprintf (stderr, "\n");
}

/* The run ends before the job is done: how many results are stored, and how
 * to fetch the rest. */
static void
s_stopped_early (s_loop_t *loop)
{
    const toa_receive_options_t *options = loop->options;
    int64_t stored = loop->stats.acked + 1;
    if (loop->stats.total >= 0)
        fprintf (stderr, "toa: job %s: %lld of its %lld results are stored (%lld written to %s "
                 "by this run); the other %lld wait in the broker: toa attach %s --output %s%s "
                 "fetches them\n", options->job, (long long) stored,
                 (long long) loop->stats.total, (long long) loop->stats.written,
                 options->output_path, (long long) (loop->stats.total - stored), options->job,
                 options->output_path, options->resume_flags ? options->resume_flags : "");
    else
        fprintf (stderr, "toa: job %s: %lld results written to %s; toa attach %s --output %s%s "
                 "fetches the rest\n", options->job, (long long) loop->stats.written,
                 options->output_path, options->job, options->output_path,
                 options->resume_flags ? options->resume_flags : "");
}

int
toa_receive_run (toa_conn_t *conn, toa_output_t *output, const toa_receive_options_t *options,
                 toa_receive_stats_t *stats)
{
    s_loop_t loop;
    memset (&loop, 0, sizeof loop);
    loop.options = options;
    loop.conn = conn;
    loop.output = output;
    loop.start_ms = loop.last_attach_ms = loop.last_sent_ms = toa_now_ms ();
    loop.stats.acked = -1;
    loop.stats.total = -1;
    loop.stored_upto = -1;
    loop.baseline = options->mode == TOA_RECEIVE_SUBMIT;
    toa_display_init (&loop.display, stderr, options->quiet);
    toa_progress_init (&loop.progress, loop.start_ms, options->budget_per_prompt);
    if (options->first) {
        loop.heard = true;
        loop.last_heard_ms = loop.start_ms;
        s_on_message (&loop, options->first, loop.start_ms);
    }

    while (!loop.finished) {
        if (*options->interrupted) {
            s_sync_and_ack (&loop, toa_now_ms (), true);
            toa_display_end (&loop.display);
            if (loop.attached)
                s_stopped_early (&loop);
            fprintf (stderr, "detached; resume with: toa attach %s --output %s%s\n",
                     options->job, options->output_path,
                     options->resume_flags ? options->resume_flags : "");
            s_finish (&loop, TOA_EXIT_DETACHED);
            loop.noted = true;
            break;
        }
        toa_msg_t msg;
        int rc = toa_conn_recv (conn, &msg, s_wait_ms (&loop, toa_now_ms ()));
        int64_t now = toa_now_ms ();
        if (rc >= 0) {
            loop.heard = true;
            loop.last_heard_ms = now;
        }
        if (rc == 0) {
            s_on_message (&loop, &msg, now);
            toa_msg_clear (&msg);
        }
        if (loop.finished && loop.exit_code != TOA_EXIT_OK)
            break;
        s_sync_and_ack (&loop, now, loop.finished);
        if (loop.finished)
            break;
        s_check_silence (&loop, now);
        if (loop.finished)
            break;
        s_check_stall (&loop, now);
        s_keep_alive (&loop, now);
        toa_progress_set_written (&loop.progress, loop.stats.acked + 1);
        toa_display_progress (&loop.display, &loop.progress, now, false);
    }
    int64_t now = toa_now_ms ();
    if (loop.exit_code == TOA_EXIT_OK) {
        s_sync_and_ack (&loop, now, true);
        toa_display_progress (&loop.display, &loop.progress, now, true);
        toa_display_end (&loop.display);
        if (!options->quiet)
            s_summary (&loop, now);
    }
    else {
        s_sync_and_ack (&loop, now, true);   /* nothing after a write failure */
        toa_display_end (&loop.display);
        if (loop.attached && !loop.noted && loop.exit_code != TOA_EXIT_USAGE)
            s_stopped_early (&loop);
    }
    if (stats)
        *stats = loop.stats;
    return loop.exit_code;
}
