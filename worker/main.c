/* main.c - toa-worker: the stateless generation worker. Reads the fleet's
 * config, connects to the broker, calls the OpenAI-compatible servers of the
 * models it serves. Exit status: 0 after an orderly stop (SIGTERM/SIGINT),
 * 1 on a runtime failure, 2 on bad arguments or configuration. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "worker/worker.h"

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signal_number)
{
    (void) signal_number;
    s_stop = s_stop + 1;                     /* a second signal cuts the grace short */
}

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "Usage: toa-worker --config FILE [options]\n"
        "Generation worker: takes tasks from the broker, calls the models' OpenAI-compatible\n"
        "servers, sends back results.\n"
        "\n"
        "  --config FILE          the fleet's JSON config (required)\n"
        "  --set PATH=VALUE       override a config field, e.g. --set worker.max_tasks=8\n"
        "  --model NAME           serve only this model (repeatable; default: all models)\n"
        "  --max-tasks N          credit announced to the broker (default worker.max_tasks)\n"
        "  --endpoint URL         broker endpoint (default broker.worker_endpoint)\n"
        "  --name NAME            name shown in the broker's logs (default host:pid)\n"
        "  --log-level LEVEL      error, warn, info (default) or debug\n"
        "  --grace-ms N           on SIGTERM, time to finish tasks in progress (default 10000)\n"
        "  --reconnect-min-ms N   first reconnection back-off (default 1000)\n"
        "  --reconnect-max-ms N   reconnection back-off cap (default 32000)\n"
        "  --retry-base-ms N      first HTTP retry back-off (default 500)\n"
        "  --retry-max-ms N       HTTP retry back-off cap (default 30000)\n"
        "  --cooldown-ms N        first cool-down of a failing replica (default 5000)\n"
        "  --help                 this text\n");
}

typedef struct {
    const char *config_path;
    const char **overrides;
    size_t n_overrides;
    const char **models;
    size_t n_models;
    toa_worker_options_t worker;
    int64_t cooldown_ms;
    const char *log_level;
    bool help;
} s_args_t;

/* Parses a positive integer option value into *VALUE. 0 or -1. */
static int
s_parse_count (const char *option, const char *text, int64_t *value, toa_errors_t *errors)
{
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || end == text || *end || number < 1 || number > INT_MAX) {
        toa_errors_add (errors, "%s: '%s' is not a whole number from 1 to %d", option, text,
                        INT_MAX);
        return -1;
    }
    *value = number;
    return 0;
}

static int
s_append (const char ***list, size_t *count, const char *value)
{
    const char **grown = realloc (*list, (*count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    grown[(*count)++] = value;
    *list = grown;
    return 0;
}

/* Parses ARGV into ARGS; every problem goes to ERRORS. */
static void
s_parse_args (int argc, char **argv, s_args_t *args, toa_errors_t *errors)
{
    static const char *valued[] = {
        "--config", "--set", "--model", "--max-tasks", "--endpoint", "--name", "--log-level",
        "--grace-ms", "--reconnect-min-ms", "--reconnect-max-ms", "--retry-base-ms",
        "--retry-max-ms", "--cooldown-ms",
    };
    for (int i = 1; i < argc; i++) {
        const char *option = argv[i], *value = NULL;
        char name[64];
        const char *equals = strchr (option, '=');
        if (strncmp (option, "--", 2) == 0 && equals && (size_t) (equals - option) < sizeof name) {
            snprintf (name, sizeof name, "%.*s", (int) (equals - option), option);
            option = name;
            value = equals + 1;
        }
        if (strcmp (option, "--help") == 0 || strcmp (option, "-h") == 0) {
            args->help = true;
            continue;
        }
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= strcmp (option, valued[k]) == 0;
        if (!known) {
            toa_errors_add (errors, "%s: unknown option (see --help)", argv[i]);
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                toa_errors_add (errors, "%s: needs a value", option);
                continue;
            }
            value = argv[++i];
        }
        int64_t number = 0;
        if (strcmp (option, "--config") == 0)
            args->config_path = value;
        else if (strcmp (option, "--set") == 0) {
            if (!strchr (value, '='))
                toa_errors_add (errors, "--set %s: expected PATH=VALUE", value);
            else if (s_append (&args->overrides, &args->n_overrides, value) != 0)
                toa_errors_add (errors, "--set: out of memory");
        }
        else if (strcmp (option, "--model") == 0) {
            if (s_append (&args->models, &args->n_models, value) != 0)
                toa_errors_add (errors, "--model: out of memory");
        }
        else if (strcmp (option, "--endpoint") == 0)
            args->worker.endpoint = value;
        else if (strcmp (option, "--name") == 0)
            args->worker.name = value;
        else if (strcmp (option, "--log-level") == 0)
            args->log_level = value;
        else if (s_parse_count (option, value, &number, errors) == 0) {
            if (strcmp (option, "--max-tasks") == 0)
                args->worker.max_tasks = number;
            else if (strcmp (option, "--grace-ms") == 0)
                args->worker.grace_ms = number;
            else if (strcmp (option, "--reconnect-min-ms") == 0)
                args->worker.reconnect_min_ms = number;
            else if (strcmp (option, "--reconnect-max-ms") == 0)
                args->worker.reconnect_max_ms = number;
            else if (strcmp (option, "--retry-base-ms") == 0)
                args->worker.http.retry_base_ms = number;
            else if (strcmp (option, "--retry-max-ms") == 0)
                args->worker.http.retry_max_ms = number;
            else if (strcmp (option, "--cooldown-ms") == 0)
                args->worker.http.cooldown_min_ms = number;
        }
    }
    if (!args->help && !args->config_path)
        toa_errors_add (errors, "--config FILE is required (see --help)");
    toa_log_level_t level;
    if (args->log_level && toa_log_parse_level (args->log_level, &level) != 0)
        toa_errors_add (errors, "--log-level %s: expected error, warn, info or debug",
                        args->log_level);
    else if (args->log_level)
        toa_log_set_level (level);
}

int
main (int argc, char **argv)
{
    toa_log_set_name ("toa-worker");
    toa_errors_t errors = TOA_ERRORS_INIT;
    s_args_t args;
    memset (&args, 0, sizeof args);
    s_parse_args (argc, argv, &args, &errors);
    if (args.help) {
        s_usage (stdout);
        free (args.overrides);
        free (args.models);
        toa_errors_clear (&errors);
        return 0;
    }
    toa_config_t *config = NULL;
    if (errors.count == 0)
        config = toa_config_load (args.config_path, args.overrides, args.n_overrides, &errors);
    toa_worker_t *worker = NULL;
    if (config) {
        args.worker.config = config;
        args.worker.models = args.models;
        args.worker.n_models = args.n_models;
        worker = toa_worker_new (&args.worker, &errors);
    }
    int status = 2;
    if (worker) {
        struct sigaction action;
        memset (&action, 0, sizeof action);
        action.sa_handler = s_on_signal;     /* no SA_RESTART: zmq_poll returns EINTR */
        sigemptyset (&action.sa_mask);
        sigaction (SIGTERM, &action, NULL);
        sigaction (SIGINT, &action, NULL);
        signal (SIGPIPE, SIG_IGN);
        status = toa_worker_run (worker, &s_stop) == 0 ? 0 : 1;
    }
    else
        toa_errors_print (&errors, stderr);
    toa_worker_destroy (&worker);
    toa_config_destroy (&config);
    toa_errors_clear (&errors);
    free (args.overrides);
    free (args.models);
    return status;
}
