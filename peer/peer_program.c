/* peer_program.c - command line, config, signals and exit status of
 * toa-worker and toa-scorer (see peer_program.h). */
#include "peer/peer_program.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/redact.h"

/* The shared flags that take a value. */
static const char *const s_valued[] = {
    "--config", "--set", "--max-tasks", "--endpoint", "--name", "--log-level", "--grace-ms",
    "--reconnect-min-ms", "--reconnect-max-ms", "--retry-base-ms", "--retry-max-ms",
    "--cooldown-ms",
};

typedef struct {
    const char *config_path;
    const char **overrides;          /* --set values, then the aliases' */
    size_t n_overrides;
    char **alias_overrides;          /* "PATH=VALUE" per alias (owned), NULL when not given */
    toa_peer_loop_options_t loop;
    const char *log_level;
    bool help;
} s_args_t;

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signal_number)
{
    (void) signal_number;
    s_stop = s_stop + 1;                     /* a second signal cuts the grace short */
}

static void
s_install_signals (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;         /* no SA_RESTART: zmq_poll returns EINTR */
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

/* ---------------------------------------------------------------- flags */

/* Index of FLAG in LIST[0..N), or -1. */
static int
s_find (const char *const *list, size_t n, const char *flag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (list[i], flag) == 0)
            return (int) i;
    return -1;
}

static int
s_find_alias (const toa_peer_program_t *program, const char *flag)
{
    for (size_t i = 0; i < program->n_aliases; i++)
        if (strcmp (program->aliases[i].flag, flag) == 0)
            return (int) i;
    return -1;
}

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
s_set_number (toa_peer_loop_options_t *loop, const char *option, int64_t number)
{
    if (strcmp (option, "--max-tasks") == 0)
        loop->max_tasks = number;
    else if (strcmp (option, "--grace-ms") == 0)
        loop->grace_ms = number;
    else if (strcmp (option, "--reconnect-min-ms") == 0)
        loop->reconnect_min_ms = number;
    else if (strcmp (option, "--reconnect-max-ms") == 0)
        loop->reconnect_max_ms = number;
    else if (strcmp (option, "--retry-base-ms") == 0)
        loop->http.retry_base_ms = number;
    else if (strcmp (option, "--retry-max-ms") == 0)
        loop->http.retry_max_ms = number;
    else if (strcmp (option, "--cooldown-ms") == 0)
        loop->http.cooldown_min_ms = number;
}

/* Keeps ALIAS's VALUE as "PATH=VALUE" (the last one given wins). */
static void
s_set_alias (const toa_peer_program_alias_t *alias, char **slot, const char *value,
             toa_errors_t *errors)
{
    free (*slot);
    size_t size = strlen (alias->path) + strlen (value) + 2;
    *slot = malloc (size);
    if (*slot)
        snprintf (*slot, size, "%s=%s", alias->path, value);
    else
        toa_errors_add (errors, "%s: out of memory", alias->flag);
}

/* Applies OPTION with VALUE; problems go to ERRORS. */
static void
s_set (const toa_peer_program_t *program, s_args_t *args, const char *option,
       const char *value, toa_errors_t *errors)
{
    int64_t number = 0;
    int alias = s_find_alias (program, option);
    if (strcmp (option, "--config") == 0)
        args->config_path = value;
    else if (strcmp (option, "--set") == 0) {
        if (!strchr (value, '='))
            toa_errors_add (errors, "--set %s: expected PATH=VALUE", value);
        else if (s_append (&args->overrides, &args->n_overrides, value) != 0)
            toa_errors_add (errors, "--set: out of memory");
    }
    else if (alias >= 0)
        s_set_alias (&program->aliases[alias], &args->alias_overrides[alias], value, errors);
    else if (s_find (program->flags, program->n_flags, option) >= 0)
        program->set_flag (program->arg, option, value, errors);
    else if (strcmp (option, "--endpoint") == 0)
        args->loop.endpoint = value;
    else if (strcmp (option, "--name") == 0)
        args->loop.name = value;
    else if (strcmp (option, "--log-level") == 0)
        args->log_level = value;
    else if (s_parse_count (option, value, &number, errors) == 0)
        s_set_number (&args->loop, option, number);
}

static bool
s_known (const toa_peer_program_t *program, const char *option)
{
    return s_find (s_valued, sizeof s_valued / sizeof s_valued[0], option) >= 0
        || s_find (program->flags, program->n_flags, option) >= 0
        || s_find_alias (program, option) >= 0;
}

/* Checks what needs the whole command line and applies the log level. */
static void
s_finish (const toa_peer_program_t *program, s_args_t *args, toa_errors_t *errors)
{
    for (size_t i = 0; i < program->n_aliases; i++)
        if (args->alias_overrides[i]
            && s_append (&args->overrides, &args->n_overrides, args->alias_overrides[i]) != 0)
            toa_errors_add (errors, "%s: out of memory", program->aliases[i].flag);
    if (!args->help && !args->config_path)
        toa_errors_add (errors, "--config FILE is required (see --help)");
    toa_log_level_t level;
    if (args->log_level && toa_log_parse_level (args->log_level, &level) != 0)
        toa_errors_add (errors, "--log-level %s: expected error, warn, info or debug",
                        args->log_level);
    else if (args->log_level)
        toa_log_set_level (level);
}

/* Parses ARGV into ARGS; every problem goes to ERRORS. */
static void
s_parse_args (const toa_peer_program_t *program, int argc, char **argv, s_args_t *args,
              toa_errors_t *errors)
{
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
        if (!s_known (program, option)) {
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
        s_set (program, args, option, value, errors);
    }
    s_finish (program, args, errors);
}

static void
s_args_clear (const toa_peer_program_t *program, s_args_t *args)
{
    for (size_t i = 0; args->alias_overrides && i < program->n_aliases; i++)
        free (args->alias_overrides[i]);
    free (args->alias_overrides);
    free (args->overrides);
    memset (args, 0, sizeof *args);
}

/* ---------------------------------------------------------------- life */

int
toa_peer_program_main (const toa_peer_program_t *program, int argc, char **argv)
{
    toa_log_set_name (program->name);
    toa_errors_t errors = TOA_ERRORS_INIT;
    s_args_t args;
    memset (&args, 0, sizeof args);
    args.alias_overrides = calloc (program->n_aliases + 1, sizeof *args.alias_overrides);
    if (!args.alias_overrides)
        toa_errors_add (&errors, "out of memory");
    else
        s_parse_args (program, argc, argv, &args, &errors);
    if (args.help) {
        fputs (program->usage, stdout);
        s_args_clear (program, &args);
        toa_errors_clear (&errors);
        return 0;
    }
    toa_config_t *config = NULL;
    if (errors.count == 0)
        config = toa_config_load (args.config_path, args.overrides, args.n_overrides, &errors);
    if (config && toa_redact_add_config (config) != 0)
        toa_errors_add (&errors, "out of memory");
    void *running = config && errors.count == 0
                        ? program->create (program->arg, config, &args.loop, &errors) : NULL;
    int status = 2;
    if (running) {
        s_install_signals ();
        status = program->run (running, &s_stop) == 0 ? 0 : 1;
        program->destroy (running);
    }
    else
        toa_errors_print (&errors, stderr);
    toa_config_destroy (&config);
    toa_errors_clear (&errors);
    s_args_clear (program, &args);
    return status;
}
