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

/* Sends the submit for INPUT. Returns 0 or -1 (errno). */
static int
s_send_submit (toa_conn_t *conn, const char *job, const char *method, char *settings,
               const toa_input_t *input)
{
    size_t count = toa_input_count (input);
    toa_prompt_line_t *prompts = calloc (count, sizeof *prompts);
    if (!prompts) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        prompts[i].line = (int64_t) toa_input_line_no (input, i);
        prompts[i].text = (char *) toa_input_text (input, i);  /* borrowed, read only */
    }
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_SUBMIT;
    msg.u.submit.job = (char *) job;
    msg.u.submit.method = (char *) method;
    msg.u.submit.settings = settings;
    msg.u.submit.prompts = prompts;
    msg.u.submit.n_prompts = count;
    int rc = toa_conn_send (conn, &msg);   /* the message borrows everything: no clear */
    free (prompts);
    return rc;
}

/* Bytes the submit takes on the wire, a little over (msgpack adds a few per
 * string and per prompt). */
static size_t
s_submit_size (const toa_input_t *input, const char *settings)
{
    size_t size = strlen (settings) + 256;
    for (size_t i = 0; i < toa_input_count (input); i++)
        size += strlen (toa_input_text (input, i)) + 32;
    return size;
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
s_run (const toa_submit_options_t *options, const toa_config_t *config,
       const toa_input_t *input, toa_output_t *output, char *settings, const char *job)
{
    toa_conn_t *conn = toa_conn_open (options->endpoint, config);
    if (!conn)
        return TOA_EXIT_NO_BROKER;
    const char *endpoint = toa_conn_endpoint (conn);
    if (*options->interrupted) {
        fprintf (stderr, "toa submit: interrupted; nothing sent\n");
        toa_conn_destroy (&conn);
        return TOA_EXIT_DETACHED;
    }
    if (s_send_submit (conn, job, config->method.name, settings, input) != 0) {
        fprintf (stderr, "toa submit: cannot send to %s: %s\n", endpoint, strerror (errno));
        toa_conn_destroy (&conn);
        return TOA_EXIT_NO_BROKER;
    }
    fprintf (stderr, "job %s submitted: %zu prompts\n", job, toa_input_count (input));
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
    };
    int code = toa_receive_run (conn, output, &receive, NULL);
    toa_conn_destroy (&conn);
    return code;
}

/* Reads and checks what a submit needs before anything is sent: the input,
 * the settings, the output file. Returns 0, or an exit code with the reason
 * printed. */
static int
s_prepare (const toa_submit_options_t *options, const toa_config_t *config,
           toa_input_t **input, char **settings, toa_output_t **output)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    int code = 0;
    if (!(*input = toa_input_read (options->input_path, &errors))) {
        toa_errors_print (&errors, stderr);
        fprintf (stderr, "toa submit: %s: nothing sent\n", options->input_path);
        code = TOA_EXIT_USAGE;
    }
    else if (!(*settings = toa_settings_text (config))) {
        fprintf (stderr, "toa submit: out of memory\n");
        code = TOA_EXIT_FAILED;
    }
    else if (s_submit_size (*input, *settings) > config->broker.max_message_bytes) {
        fprintf (stderr, "toa submit: %s: about %zu bytes, more than one message may carry "
                 "(broker.max_message_bytes = %zu); split the file; nothing sent\n",
                 options->input_path, s_submit_size (*input, *settings),
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
        if (toa_output_count_at_open (*output))
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
    toa_input_t *input = NULL;
    toa_output_t *output = NULL;
    char *settings = NULL;
    int code = s_prepare (options, config, &input, &settings, &output);
    if (code == 0) {
        char job[80];
        if (options->job)
            snprintf (job, sizeof job, "%s", options->job);
        else
            toa_submit_job_id (time (NULL), s_random (), job, sizeof job);
        code = s_run (options, config, input, output, settings, job);
    }
    free (settings);
    toa_output_destroy (&output);
    toa_input_destroy (&input);
    toa_config_destroy (&config);
    return code;
}
