/* main.c - toa-simllm: a simulated OpenAI-compatible LLM server for tests,
 * benchmarks and the demo. Reads the "simllm" section of the fleet's config,
 * loads its data files, serves until SIGTERM or SIGINT. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/util.h"
#include "sim/knowledge.h"
#include "sim/problems.h"
#include "sim/server.h"
#include "sim/service.h"

#define S_MAX_OVERRIDES 256

typedef struct {
    const char *config_path;
    const char *listen;
    uint64_t seed;
    const char *overrides[S_MAX_OVERRIDES];
    size_t n_overrides;
    const char *log_level;
    long write_problems;    /* > 0: write this many problems and exit */
} s_options_t;

static void
s_usage (FILE *stream)
{
    fprintf (stream,
             "usage: toa-simllm --config FILE [--listen HOST:PORT] [--seed N]\n"
             "                  [--set path=value]... [--log-level error|warn|info|debug]\n"
             "       toa-simllm --write-problems N [--seed N]\n"
             "\n"
             "Serves the simulated models of the config's \"simllm\" section over an\n"
             "OpenAI-compatible HTTP API (POST /v1/chat/completions, GET /v1/models,\n"
             "GET /health, POST /reward, /classify, /pooling, GET /stats).\n"
             "\n"
             "  --config FILE      the fleet's JSON config\n"
             "  --listen HOST:PORT overrides simllm.listen (port 0: any free port)\n"
             "  --seed N           seeds fault injection and unseeded requests (default 0)\n"
             "  --set PATH=VALUE   overrides a config field, e.g. simllm.models.0.slots=2\n"
             "  --log-level L      error, warn, info (default) or debug\n"
             "  --write-problems N writes N math word problems with gold answers as JSONL\n"
             "                     to stdout (the same for the same --seed) and exits\n"
             "\n"
             "Prints \"listening on http://HOST:PORT\" once ready. Exit status: 0 after\n"
             "SIGTERM/SIGINT, 2 for a bad command line or config, 1 if it cannot serve.\n");
}

/* Parses --write-problems' value into *COUNT. Returns 0, or -1 (reported). */
static int
s_parse_count (const char *value, long *count)
{
    char *end;
    errno = 0;
    long parsed = strtol (value, &end, 10);
    if (errno || !*value || *end || parsed < 1 || parsed > TOA_SIM_PROBLEMS_MAX) {
        fprintf (stderr, "toa-simllm: --write-problems: '%s' is not a number of problems "
                 "(1..%d)\n", value, TOA_SIM_PROBLEMS_MAX);
        return -1;
    }
    *count = parsed;
    return 0;
}

/* Returns 0, 1 for --help, -1 for a bad command line (reported). */
static int
s_parse_args (int argc, char **argv, s_options_t *options)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
            return 1;
        const char *value = NULL;
        const char *known[] = {"--config", "--listen", "--seed", "--set", "--log-level",
                               "--write-problems"};
        size_t k;
        for (k = 0; k < sizeof known / sizeof known[0]; k++) {
            size_t length = strlen (known[k]);
            if (strcmp (arg, known[k]) == 0) {
                if (i + 1 >= argc) {
                    fprintf (stderr, "toa-simllm: %s needs a value\n", arg);
                    return -1;
                }
                value = argv[++i];
                break;
            }
            if (strncmp (arg, known[k], length) == 0 && arg[length] == '=') {
                value = arg + length + 1;
                break;
            }
        }
        if (!value) {
            fprintf (stderr, "toa-simllm: unknown argument '%s' (try --help)\n", arg);
            return -1;
        }
        if (k == 0)
            options->config_path = value;
        else if (k == 1)
            options->listen = value;
        else if (k == 2) {
            char *end;
            errno = 0;
            unsigned long long seed = strtoull (value, &end, 10);
            if (errno || !*value || *end || *value == '-') {
                fprintf (stderr, "toa-simllm: --seed: '%s' is not a non-negative integer\n",
                         value);
                return -1;
            }
            options->seed = (uint64_t) seed;
        }
        else if (k == 3) {
            if (options->n_overrides == S_MAX_OVERRIDES || !strchr (value, '=')) {
                fprintf (stderr, "toa-simllm: --set: '%s' is not path=value (or too many)\n",
                         value);
                return -1;
            }
            options->overrides[options->n_overrides++] = value;
        }
        else if (k == 4)
            options->log_level = value;
        else if (s_parse_count (value, &options->write_problems) != 0)
            return -1;
    }
    return 0;
}

static bool
s_is_file (const char *path)
{
    struct stat info;
    return stat (path, &info) == 0 && S_ISREG (info.st_mode);
}

/* Loads every data file; a relative path that does not exist as given is
 * tried next to the config file. Returns 0, or -1 with ERRORS filled. */
static int
s_load_data (const toa_config_t *config, toa_sim_knowledge_t *knowledge, toa_errors_t *errors)
{
    int rc = 0;
    for (size_t i = 0; i < config->sim.n_data_files; i++) {
        const char *path = config->sim.data_files[i];
        char resolved[4096];
        const char *slash = config->path ? strrchr (config->path, '/') : NULL;
        if (path[0] != '/' && !s_is_file (path) && slash
            && snprintf (resolved, sizeof resolved, "%.*s/%s", (int) (slash - config->path),
                         config->path, path) < (int) sizeof resolved
            && s_is_file (resolved))
            path = resolved;
        long added = toa_sim_knowledge_load (knowledge, path, errors);
        if (added < 0)
            rc = -1;
        else
            toa_info ("loaded %ld questions from %s", added, path);
    }
    return rc;
}

static void
s_raise_file_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
}

/* Serves until SIGTERM or SIGINT. Returns the exit status. */
static int
s_serve (const toa_config_t *config, const s_options_t *options,
         const toa_sim_knowledge_t *knowledge)
{
    const toa_sim_config_t *sim = &config->sim;
    toa_sim_service_t *service = toa_sim_service_new (sim, knowledge, options->seed);
    int *slots = calloc (sim->n_models ? sim->n_models : 1, sizeof *slots);
    if (!service || !slots) {
        toa_error ("out of memory");
        toa_sim_service_destroy (&service);
        free (slots);
        return 1;
    }
    for (size_t i = 0; i < sim->n_models; i++)
        slots[i] = sim->models[i].slots;
    /* block the stop signals before any thread starts: only sigwait sees them */
    sigset_t stop_signals;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
    signal (SIGPIPE, SIG_IGN);
    const char *listen = options->listen ? options->listen : sim->listen;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_sim_server_t *server = toa_sim_server_new (service, listen, sim->threads,
                                                   sim->n_models, slots, &errors);
    free (slots);
    if (!server) {
        for (size_t i = 0; i < errors.count; i++)
            toa_error ("%s", errors.messages[i]);
        toa_errors_clear (&errors);
        toa_sim_service_destroy (&service);
        return 1;
    }
    char host[256];
    snprintf (host, sizeof host, "%s", listen);
    char *colon = strrchr (host, ':');
    if (colon)
        *colon = '\0';
    toa_info ("%zu models, %zu known questions, %d threads, seed %" PRIu64, sim->n_models,
              toa_sim_knowledge_count (knowledge), sim->threads, options->seed);
    printf ("listening on http://%s:%d\n", host, toa_sim_server_port (server));
    fflush (stdout);
    int signal_number = 0;
    sigwait (&stop_signals, &signal_number);
    toa_info ("stopping on signal %d", signal_number);
    toa_sim_server_destroy (&server);
    toa_sim_service_destroy (&service);
    return 0;
}

/* --write-problems: the problems to stdout. Returns the exit status. */
static int
s_write_problems (const s_options_t *options)
{
    char reason[256] = "";
    if (toa_sim_problems_write (stdout, (size_t) options->write_problems, options->seed,
                                reason, sizeof reason) != 0 || fflush (stdout) != 0) {
        fprintf (stderr, "toa-simllm: --write-problems: %s\n",
                 reason[0] ? reason : strerror (errno));
        return 1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    toa_log_set_name ("toa-simllm");
    s_options_t options = {0};
    int parsed = s_parse_args (argc, argv, &options);
    if (parsed != 0) {
        s_usage (parsed > 0 ? stdout : stderr);
        return parsed > 0 ? 0 : 2;
    }
    if (options.log_level) {
        toa_log_level_t level;
        if (toa_log_parse_level (options.log_level, &level) != 0) {
            fprintf (stderr, "toa-simllm: --log-level: '%s' is not error, warn, info or debug\n",
                     options.log_level);
            return 2;
        }
        toa_log_set_level (level);
    }
    if (options.write_problems > 0)
        return s_write_problems (&options);
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_load (options.config_path, options.overrides,
                                            options.n_overrides, &errors);
    if (!config) {
        toa_errors_print (&errors, stderr);
        toa_errors_clear (&errors);
        return 2;
    }
    if (config->sim.n_models == 0)
        toa_warn ("simllm.models is empty: every chat request will get 404");
    toa_sim_knowledge_t *knowledge = toa_sim_knowledge_new ();
    if (!knowledge || s_load_data (config, knowledge, &errors) != 0) {
        toa_errors_print (&errors, stderr);
        toa_errors_clear (&errors);
        toa_sim_knowledge_destroy (&knowledge);
        toa_config_destroy (&config);
        return 2;
    }
    s_raise_file_limit ();
    int status = s_serve (config, &options, knowledge);
    toa_sim_knowledge_destroy (&knowledge);
    toa_config_destroy (&config);
    return status;
}
