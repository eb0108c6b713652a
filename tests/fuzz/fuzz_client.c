/* fuzz_client.c - libFuzzer target: what a broker sends a client, as the
 * client handles it after the proto decoder (fuzz_proto covers decoding):
 * progress and status go through toa_progress and toa_status (table and
 * JSON), a result line through toa_output_append (into a scratch file) and,
 * as the files the client writes are read again, toa_export_result and
 * toa_tree_write_text/dot. The input is either one encoded message or, when
 * it does not decode, taken whole as a result line. */
#include <jansson.h>
#include <unistd.h>

#include "client/display.h"
#include "client/export.h"
#include "client/output.h"
#include "client/progress.h"
#include "client/report.h"
#include "client/status.h"
#include "client/tree.h"
#include "common/errors.h"
#include "fuzz.h"
#include "proto/proto.h"

static FILE *s_null;
static toa_output_t *s_output;
static char s_path[64];
static unsigned s_runs;

static void
s_remove_scratch (void)
{
    toa_output_destroy (&s_output);
    if (s_path[0])
        unlink (s_path);
}

/* A fresh scratch results file every 512 runs, so it stays small; removed
 * at exit. */
static toa_output_t *
s_scratch (void)
{
    if (s_output && ++s_runs % 512 != 0)
        return s_output;
    toa_output_destroy (&s_output);
    if (!s_path[0]) {
        snprintf (s_path, sizeof s_path, "/tmp/toa-fuzz-client-%d.jsonl", (int) getpid ());
        atexit (s_remove_scratch);
    }
    unlink (s_path);
    toa_errors_t errors = TOA_ERRORS_INIT;
    s_output = toa_output_open (s_path, &errors);
    toa_errors_clear (&errors);
    fuzz_check (s_output != NULL, "fuzz_client", "cannot open the scratch output");
    return s_output;
}

static void
s_result_line (const char *line, size_t length)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    (void) toa_output_append (s_scratch (), line, length, 0, &errors);
    toa_errors_clear (&errors);
    json_t *result = json_loadb (line, length, 0, NULL);
    if (json_is_object (result)) {
        json_t *sft = NULL, *dpo = NULL;
        static const toa_export_options_t paper = {.rejected = TOA_EXPORT_REJECT_PAPER};
        (void) toa_export_result (result, &paper, &sft, &dpo);
        json_decref (sft);
        json_decref (dpo);
        toa_report_t *report = toa_report_new ();
        if (report && toa_report_add (report, result) == 0) {
            toa_report_finish (report);
            json_decref (toa_report_json (report));
        }
        toa_report_destroy (&report);
        (void) toa_tree_write_text (result, s_null, &errors);
        toa_errors_clear (&errors);
        (void) toa_tree_write_dot (result, s_null, &errors);
        toa_errors_clear (&errors);
    }
    json_decref (result);
}

static void
s_status (const toa_job_status_t *jobs, size_t n)
{
    toa_status_write_table (s_null, jobs, n);
    json_t *json = toa_status_json (jobs, n);
    json_decref (json);
    for (size_t i = 0; i < n; i++) {
        toa_progress_t progress;
        toa_progress_init (&progress, 0, (int64_t) i);
        toa_progress_update (&progress, &jobs[i], 1000);
        toa_progress_update (&progress, &jobs[i], 2000);
        char buffer[512];
        (void) toa_progress_bar (&progress, 40, buffer, sizeof buffer);
        (void) toa_progress_plain (&progress, 2000, buffer, sizeof buffer);
        (void) toa_progress_rate (&progress);
        (void) toa_progress_eta (&progress);
        toa_display_t display;
        toa_display_init (&display, s_null, false);
        toa_display_progress (&display, &progress, 3000, true);
        toa_display_end (&display);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_null)
        s_null = fopen ("/dev/null", "w");
    fuzz_check (s_null != NULL, "fuzz_client", "no /dev/null");
    toa_msg_t msg;
    toa_proto_error_t error;
    if (toa_proto_decode (data, size, &msg, &error) != TOA_PROTO_OK) {
        s_result_line ((const char *) data, size);
        return 0;
    }
    switch (msg.type) {
    case TOA_MSG_RESULT:
        if (msg.u.result.result)
            s_result_line (msg.u.result.result, strlen (msg.u.result.result));
        break;
    case TOA_MSG_PROGRESS:
        s_status (&msg.u.progress.status, 1);
        break;
    case TOA_MSG_STATUS:
        s_status (msg.u.status.jobs, msg.u.status.n_jobs);
        break;
    default:
        break;
    }
    toa_msg_clear (&msg);
    return 0;
}
