/* http.h - many HTTP POSTs in flight on one libcurl multi handle, driven by
 * the caller's zmq_poll loop (no threads).
 *
 * Requests go to a *group*: one or more replica base URLs of one service,
 * each with its own limit of requests in flight; requests beyond the limits
 * wait in the group's queue. A request goes to the eligible replica with the
 * fewest requests in flight, unless it has an affinity key: then to the
 * replica that served that key last (or, for a new key, the one the key
 * hashes to, the same in every process: rendezvous hashing) while that
 * replica has room, so that a server's prefix cache sees the key's requests
 * again. A replica that fails several times in a row
 * (connection errors, timeouts, 5xx the classifier did not judge permanent)
 * is cooled down, then probed with one request before it takes load again.
 *
 * Every attempt is classified: done, retry (408, 409, 429, 5xx, connection
 * failures, timeouts) or fail (anything else); the caller may override the
 * verdict by looking at the body (an exhausted quota, a 200 that is not a
 * reply). Retries wait an exponential backoff with jitter, at least what the
 * server asked for in retry-after-ms / Retry-After.
 *
 * Loop integration: toa_http_poll_fill() adds the curl sockets to a
 * zmq_pollitem_t array, toa_http_poll_timeout() bounds the poll timeout, and
 * toa_http_process() is called after every zmq_poll. Completion callbacks run
 * only from toa_http_process(); they may submit and cancel requests.
 *
 * Headers given with a request may hold secrets (Authorization): they are
 * never logged, and curl's verbose mode is never turned on. */
#ifndef TOA_HTTP_H
#define TOA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct toa_http_s toa_http_t;

typedef enum {
    TOA_HTTP_DONE = 0,       /* success: deliver */
    TOA_HTTP_RETRY = 1,      /* transient: try again while retries remain */
    TOA_HTTP_FAIL = 2        /* permanent: deliver the failure now */
} toa_http_verdict_t;

typedef struct {
    int64_t retry_base_ms;       /* first backoff (default 500) */
    int64_t retry_max_ms;        /* backoff cap (default 30000) */
    int64_t retry_after_max_ms;  /* longest server-asked wait honoured (default 120000) */
    int failures_to_cool;        /* consecutive replica failures before cool-down (default 3) */
    int64_t cooldown_min_ms;     /* first cool-down (default 5000), doubling */
    int64_t cooldown_max_ms;     /* cool-down cap (default 60000) */
    size_t max_body_bytes;       /* longer replies fail the attempt (default 64 MiB) */
    uint64_t seed;               /* for the jitter (default: from the clock) */
} toa_http_options_t;

/* One attempt's outcome, as the classifier and the completion callback see it. */
typedef struct {
    long status;             /* HTTP status; 0 when there was no response */
    int curl_code;           /* CURLcode of the transfer (0 = CURLE_OK) */
    const char *curl_error;  /* curl's text when curl_code != 0, else "" */
    const char *body;        /* NUL-terminated reply body ("" if none) */
    size_t body_size;
    int64_t retry_after_ms;  /* what the server asked for, -1 when nothing (or a 2xx) */
    int replica;             /* index of the base URL that served it */
    int attempt;             /* 1 for the first attempt */
    int64_t elapsed_ms;      /* of this attempt */
} toa_http_response_t;

typedef struct {
    toa_http_verdict_t verdict;          /* DONE, or FAIL */
    bool exhausted;          /* FAIL because transient errors outlived max_retries */
    const toa_http_response_t *response; /* the last attempt */
    const char *reason;      /* why it failed ("" when DONE) */
    int attempts;
    int64_t elapsed_ms;      /* since submission, backoffs included */
} toa_http_result_t;

/* Looks at one attempt. SUGGESTED is toa_http_classify()'s verdict; the
 * function returns the verdict to apply and may write a reason for a RETRY or
 * FAIL into REASON. */
typedef toa_http_verdict_t (toa_http_classify_fn) (void *arg,
                                                   const toa_http_response_t *response,
                                                   toa_http_verdict_t suggested,
                                                   char *reason, size_t reason_size);
/* Called once per request with its final result (never after a cancel). */
typedef void (toa_http_done_fn) (void *arg, const toa_http_result_t *result);

typedef struct {
    int group;                   /* from toa_http_add_group */
    const char *path;            /* appended to the base URL, e.g. "/chat/completions" */
    const char *body;            /* POST body (copied, unless take_body) */
    size_t body_size;
    bool take_body;              /* BODY was malloc'd, has a NUL after body_size
                                  * bytes, and is handed over: the engine frees it,
                                  * also when the submit fails (no copy) */
    const char *const *headers;  /* "Name: value" lines (copied, never logged) */
    size_t n_headers;
    long timeout_ms;             /* per attempt, whole transfer */
    int max_retries;             /* retries after the first attempt */
    uint64_t replica_mask;       /* bit i allows replica i; 0 = all */
    uint64_t affinity;           /* requests with the same key go to the replica that
                                  * served the key last while it has room (else the
                                  * one the key hashes to, else the least loaded);
                                  * 0 = none: the least loaded */
    toa_http_classify_fn *classify;  /* NULL: toa_http_classify() decides */
    toa_http_done_fn *done;      /* required */
    void *arg;
} toa_http_request_t;

typedef struct {
    uint64_t attempts;       /* attempts started */
    uint64_t retries;        /* attempts that were retries */
    uint64_t succeeded;      /* requests done */
    uint64_t failed;         /* requests failed */
    uint64_t cooldowns;      /* replicas put on cool-down */
} toa_http_stats_t;

/* What one attempt came to, for the fleet's metrics: counted per group. */
typedef enum {
    TOA_HTTP_OUTCOME_OK = 0,     /* 2xx accepted as a reply */
    TOA_HTTP_OUTCOME_TIMEOUT,    /* no whole reply in time (curl timeout, 408) */
    TOA_HTTP_OUTCOME_429,        /* rate limited */
    TOA_HTTP_OUTCOME_5XX,
    TOA_HTTP_OUTCOME_4XX,        /* other 4xx: about the request */
    TOA_HTTP_OUTCOME_MALFORMED,  /* a 2xx that is not a reply, or too large */
    TOA_HTTP_OUTCOME_REFUSED,    /* no connection (refused, unresolved, reset) */
    TOA_HTTP_OUTCOME_OTHER,
    TOA_HTTP_OUTCOMES
} toa_http_outcome_t;

/* One group's counters since toa_http_add_group. */
typedef struct {
    uint64_t attempts[TOA_HTTP_OUTCOMES];  /* attempts ended, by outcome */
    uint64_t retries[TOA_HTTP_OUTCOMES];   /* of those, attempts retried */
    int in_flight;                         /* requests on the wire now */
    int queued;                            /* requests waiting for a slot */
} toa_http_group_stats_t;

/* A new engine; OPTIONS NULL or zero fields take the defaults. NULL when
 * libcurl cannot be set up. */
toa_http_t *toa_http_new (const toa_http_options_t *options);

/* Cancels every request (no callbacks), frees everything, nulls *SELF_P;
 * safe on NULL. */
void toa_http_destroy (toa_http_t **self_p);

/* Adds a group of N_URLS (1..64) replica base URLs, each taking at most
 * MAX_CONCURRENT requests at once. NAME is for logs. Returns the group id
 * (>= 0) or -1 (bad arguments, out of memory). */
int toa_http_add_group (toa_http_t *self, const char *name, const char *const *base_urls,
                        size_t n_urls, int max_concurrent);

/* Queues REQUEST. Returns its id (> 0), or 0 on bad arguments or out of
 * memory (the callback is then never called). */
uint64_t toa_http_submit (toa_http_t *self, const toa_http_request_t *request);

/* Drops request ID (queued, waiting to retry or in flight) without calling
 * its callback. Returns 0, or -1 when no such request is pending. */
int toa_http_cancel (toa_http_t *self, uint64_t id);

/* Cancels every pending request; returns how many. */
size_t toa_http_cancel_all (toa_http_t *self);

/* Requests submitted and not yet completed or cancelled. */
size_t toa_http_pending (const toa_http_t *self);

/* Requests of GROUP in flight on REPLICA right now (-1 for bad indexes). */
int toa_http_in_flight (const toa_http_t *self, int group, int replica);

/* Counters since toa_http_new. */
toa_http_stats_t toa_http_stats (const toa_http_t *self);

/* Number of groups, a group's name (NULL for a bad index) and its counters
 * (zeros for a bad index). */
size_t toa_http_groups (const toa_http_t *self);
const char *toa_http_group_name (const toa_http_t *self, int group);
toa_http_group_stats_t toa_http_group_stats (const toa_http_t *self, int group);

/* The outcome of an attempt with HTTP STATUS (0 = none), CURLCODE, and the
 * VERDICT finally applied to it (a 2xx not DONE is malformed). Pure. */
toa_http_outcome_t toa_http_outcome (long status, int curl_code, toa_http_verdict_t verdict);

/* The outcome's metric label: "ok", "timeout", "429", "5xx", "4xx",
 * "malformed", "refused", "other". */
const char *toa_http_outcome_name (toa_http_outcome_t outcome);

/* Number of poll items the engine wants right now (its sockets). */
size_t toa_http_poll_count (const toa_http_t *self);

/* Fills up to MAX items with the engine's sockets; returns how many. */
size_t toa_http_poll_fill (const toa_http_t *self, zmq_pollitem_t *items, size_t max);

/* Milliseconds until the engine needs toa_http_process() even without socket
 * events: 0 = now, -1 = nothing scheduled. */
long toa_http_poll_timeout (const toa_http_t *self);

/* Runs socket events from ITEMS (the N items toa_http_poll_fill() filled, with
 * zmq_poll's revents), curl's timers, completions (callbacks), due retries and
 * dispatch of queued requests. Returns 0, or -1 on a curl multi error. */
int toa_http_process (toa_http_t *self, const zmq_pollitem_t *items, size_t n);

/* The default verdict of an attempt, from its HTTP status (0 = none) and
 * CURLcode: 2xx done; 408, 409, 429, 5xx retry; connection failures and
 * timeouts retry; everything else fails. Pure. */
toa_http_verdict_t toa_http_classify (long status, int curl_code);

/* Milliseconds a server asked to wait, from the values of the retry-after-ms
 * header (milliseconds, may be fractional) and the Retry-After header
 * (seconds, or an HTTP-date compared with NOW_WALL_MS, the epoch time in ms).
 * Either may be NULL; retry-after-ms wins when valid. Returns -1 when neither
 * is present and valid; a date in the past gives 0. Pure. */
int64_t toa_http_parse_retry_after (const char *retry_after_ms, const char *retry_after,
                                    int64_t now_wall_ms);

/* Why RESULT (a FAIL) failed, for a task-failure: its reason, after "gave
 * up after N attempts: " when transient errors outlived the retries. Writes
 * at most SIZE bytes into TEXT. Pure. */
void toa_http_result_describe (const toa_http_result_t *result, char *text, size_t size);

/* The header line "Authorization: Bearer KEY" in new memory: a secret, to
 * be freed with toa_http_secret_free(). NULL when out of memory. */
char *toa_http_bearer_header (const char *key);

/* Wipes and frees *SECRET_P (a header holding a key); nulls it; safe on
 * NULL. */
void toa_http_secret_free (char **secret_p);

/* Backoff before retry number ATTEMPT (1 = first retry): BASE_MS doubled per
 * attempt, capped at MAX_MS, then scaled by "equal jitter" to
 * [d/2, d) using UNIFORM in [0, 1). Pure. */
int64_t toa_http_backoff_ms (int attempt, int64_t base_ms, int64_t max_ms, double uniform);

#endif
