/* main.c - the `toa` command: parses the command line and dispatches to the
 * command modules (submit, attach, status, cancel, export, tree, compare).
 * Exit codes: client/exit_codes.h. */
#include <getopt.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/attach.h"
#include "client/compare.h"
#include "client/control.h"
#include "client/exit_codes.h"
#include "client/export.h"
#include "client/keygen.h"
#include "client/report.h"
#include "client/submit.h"
#include "client/tree.h"
#include "common/log.h"

#define S_MAX_SETS 200
#define S_DEFAULT_TIMEOUT_MS 10000

static volatile sig_atomic_t s_interrupted = 0;
static volatile sig_atomic_t s_stop_signal = 0;   /* which signal set it */

static void
s_on_signal (int signal_number)
{
    s_stop_signal = signal_number;
    s_interrupted = 1;
}

/* SIGINT and SIGTERM set the flag and interrupt waits (no SA_RESTART);
 * SIGXFSZ is ignored. */
static void
s_catch_signals (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    /* a file size limit or a closed pipe is a write error (EFBIG, EPIPE) to
     * report, not a silent death */
    signal (SIGXFSZ, SIG_IGN);
    signal (SIGPIPE, SIG_IGN);
}

static const char *s_usage_main =
    "usage: toa COMMAND [OPTIONS]\n"
    "\n"
    "Synthesizes alignment data with a toa fleet (see README.md).\n"
    "\n"
    "commands:\n"
    "  submit   send a JSONL batch of prompts and write results as they finish\n"
    "  attach   follow a running job again (after Ctrl-C or a crash)\n"
    "  status   show jobs: state, progress, generations, what they wait for\n"
    "  cancel   stop a job and drop its state\n"
    "  export   turn a results file into SFT and DPO training sets\n"
    "  tree     draw the search tree of one TOA result\n"
    "  report   summarize a results file: models, rewards, failures; --png, --json\n"
    "  compare  run every method at several budgets on the same prompts; table + plot\n"
    "  keygen   make a CURVE key pair for the broker, a worker, a scorer or a client\n"
    "\n"
    "`toa COMMAND --help` describes a command.\n"
    "exit status: 0 done, 1 job failed/cancelled/unknown or I/O error, 2 bad command\n"
    "line, config or input (or submit rejected), 3 no answer from the broker,\n"
    "130 detached by Ctrl-C, 143 by SIGTERM (the job goes on; toa attach resumes).\n";

static const char *s_usage_submit =
    "usage: toa submit --config FILE --input PROMPTS.jsonl --output RESULTS.jsonl\n"
    "                  [--method M] [--samples N] [--set path=value]... [--endpoint E]\n"
    "                  [--job ID] [--timeout SECONDS] [--give-up SECONDS]\n"
    "                  [--stop-at-reward X] [--quiet]\n"
    "\n"
    "Checks every line of the input first (FILE:LINE: reason; nothing is sent when\n"
    "one is bad), submits the batch with settings from the config, then writes each\n"
    "result to the output as its prompt finishes (appending; prompts already in the\n"
    "file are not written again). Exits 0 only once every result is in the file\n"
    "(fsync'd) and acknowledged; otherwise it says how many are stored and that\n"
    "`toa attach JOB` fetches the rest. Ctrl-C detaches; the job goes on.\n"
    "\n"
    "  --config FILE      fleet config (models, method, sampling, reward, broker)\n"
    "  --input FILE       prompts, one JSON object a line: id + instruction|messages\n"
    "  --output FILE      results, JSONL, appended (a regular file; - = standard output)\n"
    "  --method M         toa best-of-n prs ensemble seq-refine moa (config method.name)\n"
    "  --samples N        generations per model per prompt (config method.samples)\n"
    "  --stop-at-reward X a prompt stops once a response scores X or more\n"
    "                     (method.stop_at_reward; e.g. 1 with math-verify)\n"
    "  --set path=value   any config override, e.g. --set sampling.temperature=0.2\n"
    "  --endpoint E       broker client endpoint (config broker.client_endpoint)\n"
    "  --job ID           job id (default: YYYYMMDD-HHMMSS-<6 hex>)\n"
    "  --timeout SECONDS  longest wait for the broker's answer (default 10)\n"
    "  --give-up SECONDS  leave a broker silent this long (default 600; exit 3)\n"
    "  --quiet            errors and warnings only: no \"submitted\" line, no\n"
    "                     progress, no summary\n"
    "\n"
    "exit status: 0 every result stored and acknowledged; 1 the job failed or was\n"
    "cancelled, or a write failed; 2 bad command line, config or input, or the\n"
    "broker rejected the batch (nothing runs); 3 no answer from the broker (or it\n"
    "went silent past --give-up); 130 Ctrl-C, 143 SIGTERM (detached: the job goes\n"
    "on; toa attach resumes).\n";

/* The options every command that talks to the broker takes. */
#define S_USAGE_BROKER_OPTIONS \
    "  --config FILE      fleet config: the broker's endpoint and, with CURVE, the\n" \
    "                     keys (default: built-in defaults, tcp://127.0.0.1:5555)\n" \
    "  --endpoint E       broker client endpoint (config broker.client_endpoint)\n" \
    "  --timeout SECONDS  longest wait for the broker's answer (default 10)\n"

static const char *s_usage_attach =
    "usage: toa attach JOB --output RESULTS.jsonl [--config FILE] [--endpoint E]\n"
    "                  [--timeout SECONDS] [--give-up SECONDS] [--quiet]\n"
    "\n"
    "Follows JOB again: the broker resends every result not yet acknowledged;\n"
    "prompts already in the output file are skipped (and acknowledged). A job\n"
    "whose results are all acknowledged is done: attach says so and exits 0.\n"
    "One client follows a job at a time: while another is heard, the broker\n"
    "answers 423 and attach asks again until --timeout.\n"
    "\n"
    "  JOB                the job id toa submit printed (or --job)\n"
    "  --output FILE      results, JSONL, appended (- = standard output); required\n"
    S_USAGE_BROKER_OPTIONS
    "  --give-up SECONDS  leave a broker silent this long (default 600; exit 3)\n"
    "  --quiet            errors and warnings only: no progress, no summary\n"
    "\n"
    "exit status: 0 every result stored and acknowledged; 1 the job failed, was\n"
    "cancelled, is unknown or belongs to another client, or a write failed; 2 bad\n"
    "command line or config; 3 no answer from the broker (or it went silent past\n"
    "--give-up); 130 Ctrl-C, 143 SIGTERM (detached: the job goes on).\n";

static const char *s_usage_status =
    "usage: toa status [JOB] [--config FILE] [--endpoint E] [--json] [--timeout SECONDS]\n"
    "\n"
    "Shows every job (or JOB): state, method, prompts done/total, prompts in\n"
    "search, generations, failed generations, and what the job waits for.\n"
    "With CURVE the broker lists the jobs of your client key; without it, name\n"
    "the job (the token toa submit kept for it is sent).\n"
    "\n"
    "  JOB                one job's id (default: every job you may see)\n"
    S_USAGE_BROKER_OPTIONS
    "  --json             the status as JSON on standard output, not a table\n"
    "\n"
    "exit status: 0 shown; 1 unknown job (or another client's), or a broker\n"
    "error; 2 bad command line or config; 3 no answer from the broker.\n";

static const char *s_usage_cancel =
    "usage: toa cancel JOB [--config FILE] [--endpoint E] [--timeout SECONDS]\n"
    "\n"
    "Stops JOB: no more tasks are issued and its state is dropped from Redis;\n"
    "results not yet acknowledged are lost, and a client following the job\n"
    "hears it was cancelled (exit 1).\n"
    "\n"
    "  JOB                the job's id; required\n"
    S_USAGE_BROKER_OPTIONS
    "\n"
    "exit status: 0 cancelled; 1 unknown job (or another client's), or a broker\n"
    "error; 2 bad command line or config; 3 no answer from the broker.\n";

static const char *s_usage_export =
    "usage: toa export --input RESULTS.jsonl [--sft SFT.jsonl] [--dpo DPO.jsonl]\n"
    "                  [--rejected worst|rank:K|quantile:Q] [--min-margin X] [--force]\n"
    "\n"
    "Writes training sets in the conversational shapes TRL reads:\n"
    "  SFT: {\"messages\": [...prompt..., {\"role\": \"assistant\", \"content\": best}]}\n"
    "  DPO: {\"prompt\": [...], \"chosen\": [{assistant: best}], \"rejected\": [{...}],\n"
    "        \"chosen_rating\", \"rejected_rating\" (raw rewards), \"chosen_model\",\n"
    "        \"rejected_model\"}\n"
    "Scored responses are ranked by raw reward, best first (rank 1; equal rewards\n"
    "in generation order); chosen is rank 1. Rejected, of N scored responses:\n"
    "  default        the paper's rule: rank K = ceil(N x 30/160), at least 2 (the\n"
    "                 30th of 160 samples, scaled to N: 2 of 6, 3 of 12, 30 of 160)\n"
    "  worst          rank N\n"
    "  rank:K         rank K (K >= 2; the worst when N < K)\n"
    "  quantile:Q     rank 1 + ceil(Q x (N - 1)), at least 2 (0 < Q <= 1; 1 = worst)\n"
    "A prompt makes no pair when chosen - rejected <= X (--min-margin, default 0:\n"
    "equal rewards never pair) or both texts are equal. Each file is written\n"
    "beside its path and renamed into place when complete (nothing half written\n"
    "is left on a failure); an existing file is not replaced without --force\n"
    "(a symlink is then replaced itself, never written through).\n";

static const char *s_usage_tree =
    "usage: toa tree --input RESULTS.jsonl --id ID [--dot | --svg FILE]\n"
    "\n"
    "Draws the search tree of the TOA result of prompt ID as indented text, as\n"
    "Graphviz dot (--dot), or as an SVG picture in FILE (--svg; runs Graphviz's\n"
    "dot, which must be installed). Results of other methods are listed\n"
    "generation by generation.\n";

static const char *s_usage_compare =
    "usage: toa compare --config FILE --input PROMPTS.jsonl [--budgets 1,2,4,8,16]\n"
    "                   [--methods all|m1,m2] [--output-dir DIR] [--reference-field F]\n"
    "                   [--set path=value]... [--endpoint E] [--timeout SECONDS]\n"
    "                   [--budget-modes fixed,stop,job] [--stop-at-reward X]\n"
    "\n"
    "Runs every method at every budget (samples per model) on the same prompts\n"
    "against the running fleet, one job after the other, then prints a table:\n"
    "method, budget, generations per prompt (counted in the results), the share of\n"
    "prompts whose best response is correct (reward backend math-verify: best\n"
    "reward >= 1) or else the mean best reward, the mean reward, wall time.\n"
    "Writes DIR/METHOD-BUDGET.jsonl (results; replaced), DIR/compare.csv and\n"
    "DIR/compare.png (gnuplot; the script is DIR/compare.gp). Ctrl-C cancels the\n"
    "running job and prints what finished.\n"
    "\n"
    "  --budgets LIST        samples per model (default 1,2,4,8,16)\n"
    "  --methods LIST        all (default) or some of: toa best-of-n ensemble prs\n"
    "                        seq-refine moa\n"
    "  --output-dir DIR      default toa-compare (created)\n"
    "  --reference-field F   input field the verifier compares with (config\n"
    "                        reward.reference_field)\n"
    "  --set path=value      config override for every run, e.g. --set method.tau=10\n"
    "  --budget-modes LIST   fixed (default): every prompt its samples x models;\n"
    "                        stop: the same with early stop (the rest unspent);\n"
    "                        job: a job-wide budget of samples x models per prompt\n"
    "                        on average with early stop (saved generations go to\n"
    "                        unsolved prompts); one table row and plot line each\n"
    "  --stop-at-reward X    early stop reward of stop and job (default 1 with\n"
    "                        math-verify; required with other reward backends)\n";

/* Prints the usage error and returns TOA_EXIT_USAGE. */
static int
s_usage_error (const char *command, const char *fmt, const char *arg)
{
    fprintf (stderr, "toa %s: ", command);
    fprintf (stderr, fmt, arg);
    fprintf (stderr, "\ntry: toa %s --help\n", command);
    return TOA_EXIT_USAGE;
}

/* The option getopt could not take (OPTION ':' = its value is missing). */
static int
s_bad_option (const char *command, char **argv, int option)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (option == ':')
        return s_usage_error (command, "option '%s' needs a value", arg);
    return s_usage_error (command, "unknown option '%s'", arg);
}

/* Seconds (> 0) to milliseconds; -1 when TEXT is not a positive number. */
static int
s_parse_timeout (const char *text)
{
    char *end;
    double seconds = strtod (text, &end);
    if (end == text || *end || !(seconds > 0) || seconds > 86400)
        return -1;
    return (int) (seconds * 1000);
}

enum { O_CONFIG = 'c', O_INPUT = 'i', O_OUTPUT = 'o', O_METHOD = 'm', O_SAMPLES = 'n',
       O_SET = 's', O_ENDPOINT = 'e', O_JOB = 'j', O_QUIET = 'q', O_TIMEOUT = 'T',
       O_JSON = 'J', O_SFT = 'S', O_DPO = 'D', O_MARGIN = 'M', O_ID = 'I', O_DOT = 'G',
       O_BUDGETS = 'b', O_METHODS = 'k', O_OUTDIR = 'd', O_REFERENCE = 'r', O_HELP = 'h',
       O_GIVE_UP = 'g', O_REJECTED = 'R', O_FORCE = 'F', O_SVG = 'V', O_STOP = 'A',
       O_MODES = 'B' };

static int
s_cmd_submit (int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, O_CONFIG}, {"input", required_argument, NULL, O_INPUT},
        {"output", required_argument, NULL, O_OUTPUT}, {"method", required_argument, NULL, O_METHOD},
        {"samples", required_argument, NULL, O_SAMPLES}, {"set", required_argument, NULL, O_SET},
        {"endpoint", required_argument, NULL, O_ENDPOINT}, {"job", required_argument, NULL, O_JOB},
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"quiet", no_argument, NULL, O_QUIET},
        {"give-up", required_argument, NULL, O_GIVE_UP},
        {"stop-at-reward", required_argument, NULL, O_STOP},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    const char *sets[S_MAX_SETS];
    char stop_set[96];
    toa_submit_options_t submit = {.timeout_ms = S_DEFAULT_TIMEOUT_MS, .sets = sets,
                                   .interrupted = &s_interrupted};
    int option;
    while ((option = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case O_CONFIG: submit.config_path = optarg; break;
        case O_INPUT: submit.input_path = optarg; break;
        case O_OUTPUT: submit.output_path = optarg; break;
        case O_METHOD: submit.method = optarg; break;
        case O_SAMPLES: {
            char *end;
            long samples = strtol (optarg, &end, 10);
            if (end == optarg || *end || samples < 1 || samples > 100000)
                return s_usage_error ("submit", "--samples '%s': a whole number from 1", optarg);
            submit.samples = optarg;
            break;
        }
        case O_SET:
            if (!strchr (optarg, '='))
                return s_usage_error ("submit", "--set '%s': expected path=value", optarg);
            if (submit.n_sets == S_MAX_SETS)
                return s_usage_error ("submit", "too many --set flags%s", "");
            sets[submit.n_sets++] = optarg;
            break;
        case O_ENDPOINT: submit.endpoint = optarg; break;
        case O_JOB: submit.job = optarg; break;
        case O_TIMEOUT:
            if ((submit.timeout_ms = s_parse_timeout (optarg)) < 0)
                return s_usage_error ("submit", "--timeout '%s': seconds, more than 0", optarg);
            break;
        case O_GIVE_UP:
            if ((submit.give_up_ms = s_parse_timeout (optarg)) < 0)
                return s_usage_error ("submit", "--give-up '%s': seconds, more than 0", optarg);
            break;
        case O_STOP: {
            char *end;
            double stop = strtod (optarg, &end);
            if (end == optarg || *end || !isfinite (stop) || strlen (optarg) > 64)
                return s_usage_error ("submit", "--stop-at-reward '%s': a number", optarg);
            if (submit.n_sets == S_MAX_SETS)
                return s_usage_error ("submit", "too many --set flags%s", "");
            snprintf (stop_set, sizeof stop_set, "method.stop_at_reward=%s", optarg);
            sets[submit.n_sets++] = stop_set;
            break;
        }
        case O_QUIET: submit.quiet = true; break;
        case O_HELP: fputs (s_usage_submit, stdout); return TOA_EXIT_OK;
        default: return s_bad_option ("submit", argv, option);
        }
    }
    if (optind < argc)
        return s_usage_error ("submit", "unexpected argument '%s'", argv[optind]);
    if (!submit.config_path)
        return s_usage_error ("submit", "%s--config is required", "");
    if (!submit.input_path)
        return s_usage_error ("submit", "%s--input is required", "");
    if (!submit.output_path)
        return s_usage_error ("submit", "%s--output is required", "");
    s_catch_signals ();
    return toa_submit_run (&submit);
}

static int
s_cmd_attach (int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, O_OUTPUT}, {"config", required_argument, NULL, O_CONFIG},
        {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"quiet", no_argument, NULL, O_QUIET},
        {"give-up", required_argument, NULL, O_GIVE_UP},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    toa_attach_options_t attach = {.timeout_ms = S_DEFAULT_TIMEOUT_MS,
                                   .interrupted = &s_interrupted};
    int option;
    while ((option = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case O_OUTPUT: attach.output_path = optarg; break;
        case O_CONFIG: attach.config_path = optarg; break;
        case O_ENDPOINT: attach.endpoint = optarg; break;
        case O_TIMEOUT:
            if ((attach.timeout_ms = s_parse_timeout (optarg)) < 0)
                return s_usage_error ("attach", "--timeout '%s': seconds, more than 0", optarg);
            break;
        case O_GIVE_UP:
            if ((attach.give_up_ms = s_parse_timeout (optarg)) < 0)
                return s_usage_error ("attach", "--give-up '%s': seconds, more than 0", optarg);
            break;
        case O_QUIET: attach.quiet = true; break;
        case O_HELP: fputs (s_usage_attach, stdout); return TOA_EXIT_OK;
        default: return s_bad_option ("attach", argv, option);
        }
    }
    if (optind >= argc)
        return s_usage_error ("attach", "%sthe JOB to attach to is required", "");
    if (optind + 1 < argc)
        return s_usage_error ("attach", "unexpected argument '%s'", argv[optind + 1]);
    attach.job = argv[optind];
    if (!attach.output_path)
        return s_usage_error ("attach", "%s--output is required", "");
    s_catch_signals ();
    return toa_attach_run (&attach);
}

/* status and cancel share their options. */
static int
s_cmd_control (int argc, char **argv, bool cancel)
{
    const char *command = cancel ? "cancel" : "status";
    static const struct option options[] = {
        {"config", required_argument, NULL, O_CONFIG}, {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    toa_control_options_t control = {.timeout_ms = S_DEFAULT_TIMEOUT_MS,
                                     .interrupted = &s_interrupted};
    int option;
    while ((option = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case O_CONFIG: control.config_path = optarg; break;
        case O_ENDPOINT: control.endpoint = optarg; break;
        case O_TIMEOUT:
            if ((control.timeout_ms = s_parse_timeout (optarg)) < 0)
                return s_usage_error (command, "--timeout '%s': seconds, more than 0", optarg);
            break;
        case O_JSON:
            if (cancel)
                return s_usage_error (command, "unknown option '%s'", "--json");
            control.json = true;
            break;
        case O_HELP: fputs (cancel ? s_usage_cancel : s_usage_status, stdout); return TOA_EXIT_OK;
        default: return s_bad_option (command, argv, option);
        }
    }
    if (optind < argc)
        control.job = argv[optind];
    if (optind + 1 < argc)
        return s_usage_error (command, "unexpected argument '%s'", argv[optind + 1]);
    if (cancel && !control.job)
        return s_usage_error (command, "%sthe JOB to cancel is required", "");
    s_catch_signals ();
    return cancel ? toa_control_cancel (&control) : toa_control_status (&control);
}

static void
s_print_export_counts (const toa_export_counts_t *counts, const char *sft, const char *dpo)
{
    fprintf (stderr, "toa export: %zu results", counts->results);
    if (sft)
        fprintf (stderr, "; %zu SFT lines to %s", counts->sft, sft);
    if (dpo)
        fprintf (stderr, "; %zu DPO pairs to %s", counts->dpo, dpo);
    fprintf (stderr, "\n  no pair: %zu ties or within the margin, %zu with one scored response"
             "; skipped: %zu without a scored response, %zu duplicate ids, %zu bad lines\n",
             counts->ties, counts->single, counts->no_response, counts->duplicates, counts->bad);
}

static int
s_cmd_export (int argc, char **argv)
{
    static const struct option options[] = {
        {"input", required_argument, NULL, O_INPUT}, {"sft", required_argument, NULL, O_SFT},
        {"dpo", required_argument, NULL, O_DPO}, {"min-margin", required_argument, NULL, O_MARGIN},
        {"rejected", required_argument, NULL, O_REJECTED}, {"force", no_argument, NULL, O_FORCE},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    const char *input = NULL, *sft = NULL, *dpo = NULL;
    toa_export_options_t export = {.rejected = TOA_EXPORT_REJECT_PAPER};
    int option;
    while ((option = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case O_INPUT: input = optarg; break;
        case O_SFT: sft = optarg; break;
        case O_DPO: dpo = optarg; break;
        case O_MARGIN: {
            char *end;
            export.min_margin = strtod (optarg, &end);
            if (end == optarg || *end || !(export.min_margin >= 0))
                return s_usage_error ("export", "--min-margin '%s': a number >= 0", optarg);
            break;
        }
        case O_REJECTED:
            if (toa_export_parse_rejected (optarg, &export) != 0)
                return s_usage_error ("export", "--rejected '%s': worst, rank:K (K >= 2) or "
                                      "quantile:Q (0 < Q <= 1)", optarg);
            break;
        case O_FORCE: export.force = true; break;
        case O_HELP: fputs (s_usage_export, stdout); return TOA_EXIT_OK;
        default: return s_bad_option ("export", argv, option);
        }
    }
    if (optind < argc)
        return s_usage_error ("export", "unexpected argument '%s'", argv[optind]);
    if (!input)
        return s_usage_error ("export", "%s--input is required", "");
    if (!sft && !dpo)
        return s_usage_error ("export", "%s--sft or --dpo (or both) is required", "");
    toa_export_counts_t counts;
    toa_errors_t errors = TOA_ERRORS_INIT;
    int rc = toa_export_files (input, sft, dpo, &export, &counts, &errors);
    toa_errors_print (&errors, stderr);
    toa_errors_clear (&errors);
    if (rc != 0)
        return counts.results == 0 && counts.bad == 0 ? TOA_EXIT_USAGE : TOA_EXIT_FAILED;
    s_print_export_counts (&counts, sft, dpo);
    return TOA_EXIT_OK;
}

static int
s_cmd_tree (int argc, char **argv)
{
    static const struct option options[] = {
        {"input", required_argument, NULL, O_INPUT}, {"id", required_argument, NULL, O_ID},
        {"dot", no_argument, NULL, O_DOT}, {"svg", required_argument, NULL, O_SVG},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    const char *input = NULL, *id = NULL, *svg = NULL;
    bool dot = false;
    int option;
    while ((option = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case O_INPUT: input = optarg; break;
        case O_ID: id = optarg; break;
        case O_DOT: dot = true; break;
        case O_SVG: svg = optarg; break;
        case O_HELP: fputs (s_usage_tree, stdout); return TOA_EXIT_OK;
        default: return s_bad_option ("tree", argv, option);
        }
    }
    if (optind < argc)
        return s_usage_error ("tree", "unexpected argument '%s'", argv[optind]);
    if (!input || !id)
        return s_usage_error ("tree", "%s--input and --id are required", "");
    if (dot && svg)
        return s_usage_error ("tree", "%s--dot and --svg: one or the other", "");
    toa_errors_t errors = TOA_ERRORS_INIT;
    json_t *result = toa_tree_find_result (input, id, &errors);
    int code = TOA_EXIT_FAILED;
    if (result && (svg ? toa_tree_write_svg (result, svg, &errors)
                   : dot ? toa_tree_write_dot (result, stdout, &errors)
                         : toa_tree_write_text (result, stdout, &errors)) == 0)
        code = TOA_EXIT_OK;
    toa_errors_print (&errors, stderr);
    toa_errors_clear (&errors);
    json_decref (result);
    return code;
}

static int
s_cmd_compare (int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, O_CONFIG}, {"input", required_argument, NULL, O_INPUT},
        {"budgets", required_argument, NULL, O_BUDGETS},
        {"methods", required_argument, NULL, O_METHODS},
        {"output-dir", required_argument, NULL, O_OUTDIR},
        {"reference-field", required_argument, NULL, O_REFERENCE},
        {"set", required_argument, NULL, O_SET}, {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"help", no_argument, NULL, O_HELP},
        {"budget-modes", required_argument, NULL, O_MODES},
        {"stop-at-reward", required_argument, NULL, O_STOP},
        {NULL, 0, NULL, 0}};
    const char *sets[S_MAX_SETS];
    toa_compare_options_t compare = {.budgets = "1,2,4,8,16", .methods = "all",
                                     .output_dir = "toa-compare", .sets = sets,
                                     .timeout_ms = S_DEFAULT_TIMEOUT_MS,
                                     .interrupted = &s_interrupted};
    int option;
    while ((option = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case O_CONFIG: compare.config_path = optarg; break;
        case O_INPUT: compare.input_path = optarg; break;
        case O_BUDGETS: compare.budgets = optarg; break;
        case O_METHODS: compare.methods = optarg; break;
        case O_OUTDIR: compare.output_dir = optarg; break;
        case O_REFERENCE: compare.reference_field = optarg; break;
        case O_MODES: compare.modes = optarg; break;
        case O_STOP: {
            char *end;
            double stop = strtod (optarg, &end);
            if (end == optarg || *end || !isfinite (stop) || strlen (optarg) > 64)
                return s_usage_error ("compare", "--stop-at-reward '%s': a number", optarg);
            compare.stop_at_reward = optarg;
            break;
        }
        case O_SET:
            if (!strchr (optarg, '='))
                return s_usage_error ("compare", "--set '%s': expected path=value", optarg);
            if (compare.n_sets == S_MAX_SETS)
                return s_usage_error ("compare", "too many --set flags%s", "");
            sets[compare.n_sets++] = optarg;
            break;
        case O_ENDPOINT: compare.endpoint = optarg; break;
        case O_TIMEOUT:
            if ((compare.timeout_ms = s_parse_timeout (optarg)) < 0)
                return s_usage_error ("compare", "--timeout '%s': seconds, more than 0", optarg);
            break;
        case O_HELP: fputs (s_usage_compare, stdout); return TOA_EXIT_OK;
        default: return s_bad_option ("compare", argv, option);
        }
    }
    if (optind < argc)
        return s_usage_error ("compare", "unexpected argument '%s'", argv[optind]);
    if (!compare.config_path)
        return s_usage_error ("compare", "%s--config is required", "");
    if (!compare.input_path)
        return s_usage_error ("compare", "%s--input is required", "");
    s_catch_signals ();
    return toa_compare_run (&compare);
}

/* Runs COMMAND with the rest of the command line. */
static int
s_run_command (const char *command, int argc, char **argv)
{
    if (strcmp (command, "submit") == 0)
        return s_cmd_submit (argc, argv);
    if (strcmp (command, "attach") == 0)
        return s_cmd_attach (argc, argv);
    if (strcmp (command, "status") == 0)
        return s_cmd_control (argc, argv, false);
    if (strcmp (command, "cancel") == 0)
        return s_cmd_control (argc, argv, true);
    if (strcmp (command, "export") == 0)
        return s_cmd_export (argc, argv);
    if (strcmp (command, "tree") == 0)
        return s_cmd_tree (argc, argv);
    if (strcmp (command, "report") == 0)
        return toa_report_command (argc, argv);
    if (strcmp (command, "compare") == 0)
        return s_cmd_compare (argc, argv);
    if (strcmp (command, "keygen") == 0)
        return toa_keygen_main (argc, argv);
    fprintf (stderr, "toa: unknown command '%s'\n\n%s", command, s_usage_main);
    return TOA_EXIT_USAGE;
}

int
main (int argc, char **argv)
{
    toa_log_set_name ("toa");
    if (argc < 2) {
        fputs (s_usage_main, stderr);
        return TOA_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
        || strcmp (command, "help") == 0) {
        fputs (s_usage_main, stdout);
        return TOA_EXIT_OK;
    }
    opterr = 0;
    optind = 1;                  /* getopt starts at argv[1] of the command's argv */
    int code = s_run_command (command, argc - 1, argv + 1);
    /* A job left before its end is never success (issue 10): SIGTERM detaches
     * like Ctrl-C and exits 143, Ctrl-C 130. */
    if (code == TOA_EXIT_DETACHED && s_stop_signal == SIGTERM)
        code = TOA_EXIT_TERMINATED;
    return code;
}
