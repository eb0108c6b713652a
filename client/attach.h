/* attach.h - `toa attach JOB --output FILE`: follows a running job again
 * (after Ctrl-C, a crash, or from another shell): the broker resends every
 * result not yet acknowledged, and prompts already in FILE are skipped. */
#ifndef TOA_CLIENT_ATTACH_H
#define TOA_CLIENT_ATTACH_H

#include <signal.h>
#include <stdbool.h>

typedef struct {
    const char *job;
    const char *output_path;
    const char *config_path;     /* NULL: built-in defaults */
    const char *endpoint;        /* NULL: the config's */
    int timeout_ms;              /* longest wait for the broker's first answer */
    int give_up_ms;              /* a broker silent this long is lost (0: default) */
    bool quiet;
    volatile sig_atomic_t *interrupted;
} toa_attach_options_t;

/* Runs the command; messages go to stderr. Returns the exit code
 * (client/exit_codes.h). */
int toa_attach_run (const toa_attach_options_t *options);

#endif
