/* control.c - `toa status` and `toa cancel`: one request, one answer (see
 * control.h). */
#include "client/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/conn.h"
#include "client/exit_codes.h"
#include "client/status.h"
#include "client/submit.h"
#include "common/config.h"
#include "common/util.h"

/* Sends TYPE {job} and waits for a status or an error into REPLY. Returns
 * 0, or an exit code with the reason printed. */
static int
s_ask (const toa_control_options_t *options, const char *command, toa_msg_type_t type,
       toa_msg_t *reply)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_load (options->config_path, NULL, 0, &errors);
    if (!config) {
        toa_errors_print (&errors, stderr);
        toa_errors_clear (&errors);
        return TOA_EXIT_USAGE;
    }
    toa_conn_t *conn = toa_conn_open (options->endpoint, config);
    const char *endpoint = conn ? toa_conn_endpoint (conn) : NULL;
    if (conn)
        toa_conn_claim_job (conn, options->job, false);
    int code = TOA_EXIT_NO_BROKER;
    if (conn && toa_conn_send_job_ref (conn, type, options->job ? options->job : "") != 0)
        fprintf (stderr, "toa %s: cannot send to %s: %s\n", command, endpoint, strerror (errno));
    else if (conn) {
        int64_t deadline = toa_now_ms () + options->timeout_ms;
        while (code == TOA_EXIT_NO_BROKER && !*options->interrupted) {
            int64_t left = deadline - toa_now_ms ();
            if (left <= 0) {
                fprintf (stderr, "toa %s: no answer from broker at %s\n", command, endpoint);
                break;
            }
            if (toa_conn_recv (conn, reply, (int) left) == 0) {
                if (reply->type == TOA_MSG_STATUS || reply->type == TOA_MSG_ERROR)
                    code = 0;
                else
                    toa_msg_clear (reply);    /* progress of a job, or other: not ours */
            }
        }
        if (*options->interrupted && code != 0)
            code = TOA_EXIT_DETACHED;
    }
    toa_errors_clear (&errors);
    toa_conn_destroy (&conn);
    toa_config_destroy (&config);
    return code;
}

static int
s_error (const char *command, const char *job, const toa_msg_error_t *error)
{
    if (error->code == 404)
        fprintf (stderr, "toa %s: unknown job %s\n", command, job ? job : "");
    else
        fprintf (stderr, "toa %s: broker error %lld: %s\n", command, (long long) error->code,
                 error->message ? error->message : "");
    return TOA_EXIT_FAILED;
}

int
toa_control_status (const toa_control_options_t *options)
{
    if (options->job && *options->job && !toa_submit_job_id_valid (options->job)) {
        fprintf (stderr, "toa status: '%s' is not a job id\n", options->job);
        return TOA_EXIT_USAGE;
    }
    toa_msg_t reply;
    int code = s_ask (options, "status", TOA_MSG_STATUS_REQUEST, &reply);
    if (code != 0)
        return code;
    if (reply.type == TOA_MSG_ERROR)
        code = s_error ("status", options->job, &reply.u.error);
    else if (options->json) {
        json_t *json = toa_status_json (reply.u.status.jobs, reply.u.status.n_jobs);
        char *text = json ? json_dumps (json, JSON_INDENT (2)) : NULL;
        if (text)
            printf ("%s\n", text);
        else
            code = TOA_EXIT_FAILED;
        free (text);
        json_decref (json);
    }
    else {
        toa_status_write_table (stdout, reply.u.status.jobs, reply.u.status.n_jobs);
        if (reply.u.status.n_jobs == 0 && !(options->job && *options->job))
            /* without CURVE the broker knows a caller only by a job's token */
            fprintf (stderr, "toa status: no jobs of yours listed; without CURVE name the job "
                     "(toa status JOB sends the token kept for it by toa submit)\n");
    }
    toa_msg_clear (&reply);
    return code;
}

int
toa_control_cancel (const toa_control_options_t *options)
{
    if (!options->job || !toa_submit_job_id_valid (options->job)) {
        fprintf (stderr, "toa cancel: '%s' is not a job id\n", options->job ? options->job : "");
        return TOA_EXIT_USAGE;
    }
    toa_msg_t reply;
    int code = s_ask (options, "cancel", TOA_MSG_CANCEL, &reply);
    if (code != 0)
        return code;
    if (reply.type == TOA_MSG_ERROR)
        code = s_error ("cancel", options->job, &reply.u.error);
    else {
        const toa_job_status_t *job = reply.u.status.n_jobs ? &reply.u.status.jobs[0] : NULL;
        if (job)
            printf ("job %s %s: %lld/%lld prompts were done\n", options->job,
                    job->state ? job->state : "cancelled", (long long) job->done,
                    (long long) job->total);
        else
            printf ("job %s cancelled\n", options->job);
    }
    toa_msg_clear (&reply);
    return code;
}
