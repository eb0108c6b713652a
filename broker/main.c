/* main.c - toa-broker: command line, configuration, signals; the loop is
 * broker/broker.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/redact.h"

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signal_number)
{
    (void) signal_number;
    s_stop = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: toa-broker [--config FILE] [--set path=value]... [--redis URL]\n"
             "                  [--client-endpoint E] [--worker-endpoint E] [--max-active N]\n"
             "                  [--metrics-listen HOST:PORT]\n"
             "                  [--log-level error|warn|info|debug]\n"
             "                  [--model-down-after N] [--model-down-ms MS]\n"
             "                  [--model-down-max-ms MS] [--model-down-fail-ms MS]\n"
             "                  [--submit-idle-ms MS] [--help]\n"
             "\n"
             "Runs the search for every job: admits prompts, sends generation tasks to\n"
             "workers and scoring tasks to scorers over ZeroMQ, keeps the state in Redis.\n"
             "Settings come from the config file (docs/config.md, sections broker and\n"
             "redis); --set and the options above override them. SIGTERM or SIGINT stops\n"
             "it cleanly; a new broker resumes every job from Redis.\n"
             "With --metrics-listen (broker.metrics_listen) it serves Prometheus metrics\n"
             "at http://HOST:PORT/metrics (docs/metrics.md); no authentication, so HOST\n"
             "must be loopback unless broker.insecure is true.\n"
             "\n"
             "Model health: after --model-down-after (3) generation failures in a row\n"
             "that are about the model (no connection, 408, 429, 5xx) it is down for\n"
             "--model-down-ms (30000), doubling up to --model-down-max-ms (300000);\n"
             "a success brings it back. TOA picks other models meanwhile; the other\n"
             "methods' tasks for it fail for good once it has been down for\n"
             "--model-down-fail-ms (60000).\n"
             "\n"
             "A batch submitted in chunks whose client sends nothing for\n"
             "--submit-idle-ms (60000) is dropped, with what it had staged in Redis.\n");
}

typedef struct {
    const char *config_path;
    const char **overrides;
    size_t n_overrides;
    char **owned;            /* override strings built from options */
    size_t n_owned;
    const char *log_level;
    long down_after, down_ms, down_max_ms, down_fail_ms; /* 0: default */
    long submit_idle_ms;                                 /* 0: default */
} s_args_t;

/* Parses VALUE, a whole number in 1..INT_MAX, into *OUT. */
static int
s_parse_count (const char *option, const char *value, long *out)
{
    char *end = NULL;
    errno = 0;
    long parsed = strtol (value, &end, 10);
    if (errno != 0 || !end || *end != '\0' || end == value || parsed < 1
        || parsed > INT_MAX) {
        fprintf (stderr, "toa-broker: %s: not a positive whole number: %s\n", option, value);
        return -1;
    }
    *out = parsed;
    return 0;
}

static int
s_add_override (s_args_t *args, const char *path, const char *value)
{
    size_t size = strlen (path) + strlen (value) + 2;
    char *text = malloc (size);
    if (!text)
        return -1;
    snprintf (text, size, "%s=%s", path, value);
    args->owned[args->n_owned++] = text;
    args->overrides[args->n_overrides++] = text;
    return 0;
}

/* Parses ARGV. Returns 0, 1 (--help), or 2 (usage error, printed). */
static int
s_parse_args (int argc, char **argv, s_args_t *args)
{
    static const struct { const char *option, *path; } mapped[] = {
        {"--redis", "redis.url"},
        {"--client-endpoint", "broker.client_endpoint"},
        {"--worker-endpoint", "broker.worker_endpoint"},
        {"--max-active", "broker.max_active_prompts"},
        {"--metrics-listen", "broker.metrics_listen"},
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
            return 1;
        if (i + 1 >= argc) {
            fprintf (stderr, "toa-broker: %s: missing value (or unknown option)\n", arg);
            return 2;
        }
        const char *value = argv[++i];
        bool known = true;
        if (strcmp (arg, "--config") == 0)
            args->config_path = value;
        else if (strcmp (arg, "--set") == 0)
            args->overrides[args->n_overrides++] = value;
        else if (strcmp (arg, "--log-level") == 0)
            args->log_level = value;
        else if (strcmp (arg, "--model-down-after") == 0
                 || strcmp (arg, "--model-down-ms") == 0
                 || strcmp (arg, "--model-down-max-ms") == 0
                 || strcmp (arg, "--model-down-fail-ms") == 0
                 || strcmp (arg, "--submit-idle-ms") == 0) {
            long *out = strcmp (arg, "--model-down-after") == 0 ? &args->down_after
                        : strcmp (arg, "--model-down-ms") == 0 ? &args->down_ms
                        : strcmp (arg, "--model-down-max-ms") == 0 ? &args->down_max_ms
                        : strcmp (arg, "--submit-idle-ms") == 0 ? &args->submit_idle_ms
                                                                : &args->down_fail_ms;
            if (s_parse_count (arg, value, out) != 0)
                return 2;
        }
        else {
            known = false;
            for (size_t m = 0; m < sizeof mapped / sizeof *mapped; m++)
                if (strcmp (arg, mapped[m].option) == 0) {
                    if (s_add_override (args, mapped[m].path, value) != 0)
                        return 2;
                    known = true;
                }
        }
        if (!known) {
            fprintf (stderr, "toa-broker: unknown option %s (see --help)\n", arg);
            return 2;
        }
    }
    return 0;
}

static int
s_run (const toa_config_t *config, const s_args_t *args)
{
    if (config->broker.log_file && toa_log_set_file (config->broker.log_file) != 0) {
        fprintf (stderr, "%s: broker.log_file: cannot open %s\n", config->path,
                 config->broker.log_file);
        return 2;
    }
    char *password = NULL;
    toa_errors_t errors = TOA_ERRORS_INIT;
    if (toa_config_redis_password (config, &password, &errors) != 0) {
        toa_errors_print (&errors, stderr);
        toa_errors_clear (&errors);
        return 2;
    }
    toa_broker_options_t options = {
        .client_endpoint = config->broker.client_endpoint,
        .worker_endpoint = config->broker.worker_endpoint,
        .heartbeat_ms = config->broker.heartbeat_ms,
        .max_active = config->broker.max_active_prompts,
        .task_timeout_ms = config->broker.task_timeout_ms,
        .max_message = config->broker.max_message_bytes,
        .redis_url = config->redis.url,
        .redis_password = password,
        .max_attempts = 5,
        .model_down_after = (int) args->down_after,
        .model_down_ms = (int) args->down_ms,
        .model_down_max_ms = (int) args->down_max_ms,
        .model_down_fail_ms = (int) args->down_fail_ms,
        .submit_idle_ms = (int) args->submit_idle_ms,
        .metrics_listen = config->broker.metrics_listen,
        .max_peers = config->broker.max_peers,
        .max_serves = config->broker.max_serves,
        .max_worker_credit = config->worker.max_tasks,
        .max_scorer_credit = config->scorer.max_tasks,
        .peer_heartbeat_max_ms = config->broker.peer_heartbeat_max_ms,
        .stall_fraction = config->broker.stall_fraction,
        .curve_key = config->curve.broker_key,
        .peer_keys_dir = config->curve.peer_keys_dir,
        .client_keys_dir = config->curve.client_keys_dir,
        .admin_keys_dir = config->curve.admin_keys_dir,
        .insecure = config->broker.insecure,
        .max_jobs_per_client = config->broker.max_jobs_per_client,
        .max_prompts_per_client = config->broker.max_prompts_per_client,
    };
    /* Workers may announce the configured models only (any, when none are). */
    const char **models = calloc (config->n_models + 1, sizeof *models);
    if (!models) {
        toa_error ("out of memory");
        free (password);
        return 1;
    }
    for (size_t i = 0; i < config->n_models; i++)
        models[i] = config->models[i].name;
    options.models = models;
    options.n_models = config->n_models;
    char err[1024];
    toa_broker_t *broker = toa_broker_new (&options, err, sizeof err);
    if (password) {
        memset (password, 0, strlen (password));
        free (password);
    }
    if (!broker) {
        toa_error ("cannot start: %s", err);
        free (models);
        return 1;
    }
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
    int rc = toa_broker_run (broker, &s_stop);
    toa_broker_destroy (&broker);
    free (models);
    return rc;
}

int
main (int argc, char **argv)
{
    toa_log_set_name ("toa-broker");
    s_args_t args = {0};
    args.overrides = calloc ((size_t) argc + 1, sizeof *args.overrides);
    args.owned = calloc ((size_t) argc + 1, sizeof *args.owned);
    if (!args.overrides || !args.owned) {
        fprintf (stderr, "toa-broker: out of memory\n");
        return 1;
    }
    int rc = s_parse_args (argc, argv, &args);
    bool help = rc == 1;
    if (help) {
        s_usage (stdout);
        rc = 0;
    }
    if (!help && rc == 0 && args.log_level) {
        toa_log_level_t level;
        if (toa_log_parse_level (args.log_level, &level) != 0) {
            fprintf (stderr, "toa-broker: --log-level: unknown level %s\n", args.log_level);
            rc = 2;
        }
        else
            toa_log_set_level (level);
    }
    if (!help && rc == 0) {
        toa_errors_t errors = TOA_ERRORS_INIT;
        toa_config_t *config = toa_config_load (args.config_path, args.overrides,
                                                args.n_overrides, &errors);
        if (!config) {
            toa_errors_print (&errors, stderr);
            rc = 2;
        }
        else if (toa_redact_add_config (config) != 0) {
            fprintf (stderr, "toa-broker: out of memory\n");
            rc = 1;
        }
        else
            rc = s_run (config, &args);
        toa_errors_clear (&errors);
        toa_config_destroy (&config);
    }
    for (size_t i = 0; i < args.n_owned; i++)
        free (args.owned[i]);
    free (args.owned);
    free (args.overrides);
    return rc;
}
