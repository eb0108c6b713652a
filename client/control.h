/* control.h - the one-question commands: `toa status [JOB]` (a table or
 * JSON of jobs) and `toa cancel JOB`. Each sends one request and waits for
 * the broker's answer. */
#ifndef TOA_CLIENT_CONTROL_H
#define TOA_CLIENT_CONTROL_H

#include <signal.h>
#include <stdbool.h>

typedef struct {
    const char *job;             /* status: NULL or "" = every job */
    const char *config_path;     /* NULL: built-in defaults */
    const char *endpoint;        /* NULL: the config's */
    int timeout_ms;              /* longest wait for the answer */
    bool json;                   /* status: print JSON */
    volatile sig_atomic_t *interrupted;
} toa_control_options_t;

/* `toa status`: the table (or JSON) on stdout. Returns the exit code. */
int toa_control_status (const toa_control_options_t *options);

/* `toa cancel`: says what the broker answered. Returns the exit code. */
int toa_control_cancel (const toa_control_options_t *options);

#endif
