/* main.c - toa-scorer: the stateless scoring worker. Reads the fleet's
 * config, connects to the broker, scores responses with the reward backend
 * of the config's reward section. Exit status: 0 after an orderly stop
 * (SIGTERM/SIGINT), 1 on a runtime failure, 2 on bad arguments or
 * configuration. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "scorer/scorer.h"

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
        "Usage: toa-scorer --config FILE [options]\n"
        "Scoring worker: takes score tasks from the broker, scores each response with the\n"
        "reward backend of the config's \"reward\" section (http-reward, vllm-classify,\n"
        "vllm-pooling, llm-judge, math-verify, chrf), sends back rewards or failures.\n"
        "\n"
        "  --config FILE          the fleet's JSON config (required)\n"
        "  --set PATH=VALUE       override a config field, e.g. --set reward.batch_size=8\n"
        "  --backend NAME         serve this backend (same as --set reward.backend=NAME)\n"
        "  --max-tasks N          credit announced to the broker (default scorer.max_tasks)\n"
        "  --endpoint URL         broker endpoint (default broker.worker_endpoint)\n"
        "  --name NAME            name shown in the broker's logs (default host:pid)\n"
        "  --log-level LEVEL      error, warn, info (default) or debug\n"
        "  --grace-ms N           on SIGTERM, time to finish calls in flight (default 10000)\n"
        "  --reconnect-min-ms N   first reconnection back-off (default 1000)\n"
        "  --reconnect-max-ms N   reconnection back-off cap (default 32000)\n"
        "  --retry-base-ms N      first HTTP retry back-off (default 500)\n"
        "  --retry-max-ms N       HTTP retry back-off cap (default 30000)\n"
        "  --cooldown-ms N        first cool-down of a failing server (default 5000)\n"
        "  --help                 this text\n");
}

typedef struct {
    const char *config_path;
    const char **overrides;
    size_t n_overrides;
    char *backend_override;          /* "reward.backend=NAME", owned */
    toa_scorer_options_t scorer;
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

/* Applies the value of a numeric OPTION. */
static void
s_set_number (s_args_t *args, const char *option, int64_t number)
{
    if (strcmp (option, "--max-tasks") == 0)
        args->scorer.max_tasks = number;
    else if (strcmp (option, "--grace-ms") == 0)
        args->scorer.grace_ms = number;
    else if (strcmp (option, "--reconnect-min-ms") == 0)
        args->scorer.reconnect_min_ms = number;
    else if (strcmp (option, "--reconnect-max-ms") == 0)
        args->scorer.reconnect_max_ms = number;
    else if (strcmp (option, "--retry-base-ms") == 0)
        args->scorer.http.retry_base_ms = number;
    else if (strcmp (option, "--retry-max-ms") == 0)
        args->scorer.http.retry_max_ms = number;
    else if (strcmp (option, "--cooldown-ms") == 0)
        args->scorer.http.cooldown_min_ms = number;
}

/* Applies OPTION with VALUE; problems go to ERRORS. */
static void
s_set (s_args_t *args, const char *option, const char *value, toa_errors_t *errors)
{
    int64_t number = 0;
    if (strcmp (option, "--config") == 0)
        args->config_path = value;
    else if (strcmp (option, "--set") == 0) {
        if (!strchr (value, '='))
            toa_errors_add (errors, "--set %s: expected PATH=VALUE", value);
        else if (s_append (&args->overrides, &args->n_overrides, value) != 0)
            toa_errors_add (errors, "--set: out of memory");
    }
    else if (strcmp (option, "--backend") == 0) {
        free (args->backend_override);
        size_t size = strlen ("reward.backend=") + strlen (value) + 1;
        args->backend_override = malloc (size);
        if (args->backend_override)
            snprintf (args->backend_override, size, "reward.backend=%s", value);
        else
            toa_errors_add (errors, "--backend: out of memory");
    }
    else if (strcmp (option, "--endpoint") == 0)
        args->scorer.endpoint = value;
    else if (strcmp (option, "--name") == 0)
        args->scorer.name = value;
    else if (strcmp (option, "--log-level") == 0)
        args->log_level = value;
    else if (s_parse_count (option, value, &number, errors) == 0)
        s_set_number (args, option, number);
}

/* Parses ARGV into ARGS; every problem goes to ERRORS. */
static void
s_parse_args (int argc, char **argv, s_args_t *args, toa_errors_t *errors)
{
    static const char *valued[] = {
        "--config", "--set", "--backend", "--max-tasks", "--endpoint", "--name",
        "--log-level", "--grace-ms", "--reconnect-min-ms", "--reconnect-max-ms",
        "--retry-base-ms", "--retry-max-ms", "--cooldown-ms",
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
        s_set (args, option, value, errors);
    }
    /* --backend wins over any --set reward.backend: it comes last */
    if (args->backend_override
        && s_append (&args->overrides, &args->n_overrides, args->backend_override) != 0)
        toa_errors_add (errors, "--backend: out of memory");
    if (!args->help && !args->config_path)
        toa_errors_add (errors, "--config FILE is required (see --help)");
    toa_log_level_t level;
    if (args->log_level && toa_log_parse_level (args->log_level, &level) != 0)
        toa_errors_add (errors, "--log-level %s: expected error, warn, info or debug",
                        args->log_level);
    else if (args->log_level)
        toa_log_set_level (level);
}

static void
s_args_clear (s_args_t *args)
{
    free (args->overrides);
    free (args->backend_override);
}

int
main (int argc, char **argv)
{
    toa_log_set_name ("toa-scorer");
    toa_errors_t errors = TOA_ERRORS_INIT;
    s_args_t args;
    memset (&args, 0, sizeof args);
    s_parse_args (argc, argv, &args, &errors);
    if (args.help) {
        s_usage (stdout);
        s_args_clear (&args);
        toa_errors_clear (&errors);
        return 0;
    }
    toa_config_t *config = NULL;
    if (errors.count == 0)
        config = toa_config_load (args.config_path, args.overrides, args.n_overrides, &errors);
    toa_scorer_t *scorer = NULL;
    if (config) {
        args.scorer.config = config;
        scorer = toa_scorer_new (&args.scorer, &errors);
    }
    int status = 2;
    if (scorer) {
        struct sigaction action;
        memset (&action, 0, sizeof action);
        action.sa_handler = s_on_signal;     /* no SA_RESTART: zmq_poll returns EINTR */
        sigemptyset (&action.sa_mask);
        sigaction (SIGTERM, &action, NULL);
        sigaction (SIGINT, &action, NULL);
        signal (SIGPIPE, SIG_IGN);
        status = toa_scorer_run (scorer, &s_stop) == 0 ? 0 : 1;
    }
    else
        toa_errors_print (&errors, stderr);
    toa_scorer_destroy (&scorer);
    toa_config_destroy (&config);
    toa_errors_clear (&errors);
    s_args_clear (&args);
    return status;
}
