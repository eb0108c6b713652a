/* peer_program.h - the command line and the life of a peer program
 * (toa-worker, toa-scorer): the flags they share, the program's own flags,
 * loading the config with --set overrides, SIGTERM/SIGINT handling and the
 * exit status: 0 after an orderly stop, 1 on a runtime failure, 2 on bad
 * arguments or configuration.
 *
 * Shared flags: --config FILE (required), --set PATH=VALUE (repeatable),
 * --log-level LEVEL, --endpoint URL, --name NAME, and the whole numbers
 * from 1 --max-tasks, --grace-ms, --reconnect-min-ms, --reconnect-max-ms,
 * --retry-base-ms, --retry-max-ms, --cooldown-ms (toa_peer_loop_options_t);
 * --help / -h. Every flag takes its value as the next argument or after
 * "=". Every problem of the command line is reported, one per line. */
#ifndef TOA_PEER_PROGRAM_H
#define TOA_PEER_PROGRAM_H

#include <signal.h>
#include <stddef.h>

#include "common/config.h"
#include "common/errors.h"
#include "peer/peer_loop.h"

/* A flag of the program's own that stands for --set PATH=VALUE, applied
 * after every --set so that it wins (toa-scorer's --backend). */
typedef struct {
    const char *flag;                /* "--backend" */
    const char *path;                /* "reward.backend" */
} toa_peer_program_alias_t;

typedef struct {
    const char *name;                /* "toa-worker": the name in log lines */
    const char *usage;               /* printed by --help */
    /* The program's own flags, each taking a value, given to set_flag. */
    const char *const *flags;
    size_t n_flags;
    void (*set_flag) (void *arg, const char *flag, const char *value, toa_errors_t *errors);
    const toa_peer_program_alias_t *aliases;
    size_t n_aliases;
    /* Sets the program up from CONFIG (kept alive until destroy) and the
     * shared flags in OPTIONS; NULL with the problems in ERRORS. */
    void *(*create) (void *arg, const toa_config_t *config,
                     const toa_peer_loop_options_t *options, toa_errors_t *errors);
    /* Runs until *STOP becomes non-zero (see toa_peer_loop_run); 0, or -1
     * on a runtime failure. */
    int (*run) (void *program, volatile sig_atomic_t *stop);
    void (*destroy) (void *program);
    void *arg;                       /* for set_flag and create */
} toa_peer_program_t;

/* Runs PROGRAM with the command line ARGC/ARGV: parses it (--help prints
 * the usage on stdout), loads the config, creates the program, installs the
 * signal handlers (SIGTERM/SIGINT ask for an orderly stop, a second one cuts
 * the grace short; SIGPIPE is ignored), runs it and destroys it. Problems
 * before the run go to stderr. Returns the exit status. */
int toa_peer_program_main (const toa_peer_program_t *program, int argc, char **argv);

#endif
