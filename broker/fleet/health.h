/* health.h - model health in the broker: a model whose tasks keep failing
 * for reasons that are about the model (no connection, 5xx, 429), not about
 * the request (400 and the other 4xx, or any answer the worker reports as a
 * permanent failure), is marked down for a while.
 *
 * Rules (pure: the caller passes the clock):
 *  - A counted failure (see toa_health_counts) adds one to the model's
 *    failures in a row; a success resets them and ends any outage.
 *  - At down_after failures in a row the model goes down for down_ms; each
 *    later counted failure once that period is over (the probe failed) takes
 *    it down again for twice the last period, up to down_max_ms. Failures of
 *    tasks sent before it went down, arriving while it is down, change
 *    nothing.
 *  - While down (now < retry_at) no new task should be sent to it; once the
 *    period is over it is tried again with one task at a time (a probe:
 *    toa_health_probe_sent; the model is blocked until that task is
 *    answered, or for the probe's allowance at most), and the outage lasts
 *    until a success.
 * Models are named by string (the route name); unknown names are healthy. */
#ifndef TOA_BROKER_HEALTH_H
#define TOA_BROKER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int down_after;          /* failures in a row that take a model down (default 3) */
    int64_t down_ms;         /* first down period (default 30000) */
    int64_t down_max_ms;     /* longest down period (default 300000) */
} toa_health_options_t;

/* One model's state. */
typedef struct {
    int failures;            /* counted failures in a row */
    bool out;                /* an outage is going on (went down, no success since) */
    int64_t down_since_ms;   /* start of the outage */
    int64_t retry_at_ms;     /* end of the current down period */
    int64_t period_ms;       /* length of the current down period */
    bool retry_announced;    /* toa_health_poll reported the end of this period */
    int64_t probe_until_ms;  /* a probe is out until then (0: none) */
} toa_health_model_t;

typedef enum {
    TOA_HEALTH_NO_CHANGE = 0,
    TOA_HEALTH_WENT_DOWN,    /* a new down period started */
    TOA_HEALTH_CAME_UP       /* a success ended an outage */
} toa_health_event_t;

typedef struct toa_health_s toa_health_t;

/* Fills OPTIONS with the defaults (3, 30 s, 5 min). */
void toa_health_defaults (toa_health_options_t *options);

/* A new tracker (zero or negative options take the defaults; down_max_ms is
 * raised to down_ms when below it), or NULL when out of memory. */
toa_health_t *toa_health_new (const toa_health_options_t *options);

/* Frees it; nulls *SELF_P; safe on NULL and twice. */
void toa_health_destroy (toa_health_t **self_p);

/* True when a failure with HTTP_STATUS (0: not an HTTP status, e.g. no
 * connection) says something about the model: 0, 408, 429, 5xx, when it is
 * transient. A PERMANENT failure is one whose answer blamed the request (a
 * bad parameter, a prompt over the context, n > 1 refused, even with a 500
 * as llama.cpp sends them): it never counts, except an exhausted quota (a
 * permanent 429), which is the model's account. */
bool toa_health_counts (bool permanent, int64_t http_status);

/* A counted failure of MODEL at NOW. Returns TOA_HEALTH_WENT_DOWN when it
 * starts a down period, else TOA_HEALTH_NO_CHANGE (also when out of memory). */
toa_health_event_t toa_health_failure (toa_health_t *self, const char *model, int64_t now);

/* A success of MODEL: failures reset. Returns TOA_HEALTH_CAME_UP when it
 * ends an outage, else TOA_HEALTH_NO_CHANGE. */
toa_health_event_t toa_health_success (toa_health_t *self, const char *model);

/* True while MODEL is in a down period at NOW. */
bool toa_health_down (const toa_health_t *self, const char *model, int64_t now);

/* True while no new task should be sent to MODEL at NOW: it is down, or a
 * probe of it is out. */
bool toa_health_blocked (const toa_health_t *self, const char *model, int64_t now);

/* A task of MODEL was sent at NOW; when the model is being tried again after
 * a down period, that task is its probe, out for at most ALLOWANCE_MS (e.g.
 * the task's lease): the model is blocked meanwhile. */
void toa_health_probe_sent (toa_health_t *self, const char *model, int64_t now,
                            int64_t allowance_ms);

/* A task of MODEL ended in a way that says nothing about the model (e.g. a
 * 400): a probe out is over, the next task may be sent. */
void toa_health_probe_over (toa_health_t *self, const char *model);

/* MODEL's state, or NULL when it never failed. */
const toa_health_model_t *toa_health_get (const toa_health_t *self, const char *model);

/* True when some model is in an outage (down, or tried again after one). */
bool toa_health_any_out (const toa_health_t *self);

/* Reports each down period that ended by NOW once: returns how many ended
 * since the last call and writes up to MAX of their model names (borrowed)
 * to NAMES when not NULL. */
size_t toa_health_poll (toa_health_t *self, int64_t now, const char **names, size_t max);

#endif
