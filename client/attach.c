/* attach.c - `toa attach`: re-attaches to a job and follows it (see
 * attach.h). */
#include "client/attach.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/conn.h"
#include "client/exit_codes.h"
#include "client/output.h"
#include "client/receive.h"
#include "client/submit.h"
#include "common/config.h"

static int
s_follow (const toa_attach_options_t *options, const toa_config_t *config,
          toa_output_t *output)
{
    toa_conn_t *conn = toa_conn_open (options->endpoint, config);
    if (!conn)
        return TOA_EXIT_NO_BROKER;
    const char *endpoint = toa_conn_endpoint (conn);
    toa_conn_claim_job (conn, options->job, false);
    if (toa_conn_send_job_ref (conn, TOA_MSG_ATTACH, options->job) != 0) {
        fprintf (stderr, "toa attach: cannot send to %s: %s\n", endpoint, strerror (errno));
        toa_conn_destroy (&conn);
        return TOA_EXIT_NO_BROKER;
    }
    char resume[2048];
    snprintf (resume, sizeof resume, "%s%s%s%s", options->config_path ? " --config " : "",
              options->config_path ? options->config_path : "",
              options->endpoint ? " --endpoint " : "", options->endpoint ? options->endpoint : "");
    toa_receive_options_t receive = {
        .mode = TOA_RECEIVE_ATTACH,
        .job = options->job,
        .output_path = options->output_path,
        .resume_flags = resume,
        .heartbeat_ms = config->broker.heartbeat_ms,
        .timeout_ms = options->timeout_ms,
        .give_up_ms = options->give_up_ms,
        .budget_per_prompt = 0,
        .quiet = options->quiet,
        .interrupted = options->interrupted,
    };
    int code = toa_receive_run (conn, output, &receive, NULL);
    toa_conn_destroy (&conn);
    return code;
}

int
toa_attach_run (const toa_attach_options_t *options)
{
    if (!toa_submit_job_id_valid (options->job)) {
        fprintf (stderr, "toa attach: '%s' is not a job id (1 to 64 of A-Z a-z 0-9 _ . -)\n",
                 options->job);
        return TOA_EXIT_USAGE;
    }
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_load (options->config_path, NULL, 0, &errors);
    toa_output_t *output = config ? toa_output_open (options->output_path, &errors) : NULL;
    int code = TOA_EXIT_USAGE;
    if (!output)
        toa_errors_print (&errors, stderr);
    else {
        if (toa_output_removed_tail (output))
            fprintf (stderr, "toa: %s: cut off an incomplete last line (%zu bytes); the broker "
                     "sends that result again\n", options->output_path,
                     toa_output_removed_tail (output));
        code = s_follow (options, config, output);
    }
    toa_errors_clear (&errors);
    toa_output_destroy (&output);
    toa_config_destroy (&config);
    return code;
}
