/* proto.h - toa's wire protocol: every message between client and broker and
 * between broker and workers/scorers, its msgpack encoding and its strict,
 * bounded decoding. Pure: no sockets here (see proto/transport.h).
 *
 * On the wire every message is one msgpack map with string keys:
 *   "v": protocol version (TOA_PROTO_VERSION), "cmd": command name (see
 *   toa_msg_type_name), then the command's fields.
 * Field by field documentation: proto/README.md. Unknown keys are ignored so
 * that a newer peer of the same version may add optional fields. */
#ifndef TOA_PROTO_H
#define TOA_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/chat.h"

#define TOA_PROTO_VERSION 1
#define TOA_PROTO_MAX_MESSAGE (256u * 1024u * 1024u) /* bytes, whole message */
#define TOA_PROTO_MAX_TEXT (16u * 1024u * 1024u)     /* bytes, one prompt/response/result */
#define TOA_PROTO_MAX_NAME 1024u                     /* bytes, ids, names, reasons' short fields */
#define TOA_PROTO_MAX_ITEMS 1000000u                 /* elements of one array */
#define TOA_PROTO_MAX_SERVES 1024u                   /* names in a ready's "serves" (a
                                                      * broker keeps at most 64) */
#define TOA_PROTO_MAX_DEPTH 8                        /* nesting of containers */

typedef enum {
    TOA_MSG_NONE = 0,
    /* client -> broker */
    TOA_MSG_SUBMIT,          /* "submit" */
    TOA_MSG_RESULT_ACK,      /* "result-ack" */
    TOA_MSG_STATUS_REQUEST,  /* "status-request" */
    TOA_MSG_CANCEL,          /* "cancel" */
    TOA_MSG_ATTACH,          /* "attach" */
    TOA_MSG_SUBMIT_BEGIN,    /* "submit-begin" (u.submit, no prompts) */
    TOA_MSG_SUBMIT_CHUNK,    /* "submit-chunk" (u.submit_chunk) */
    TOA_MSG_SUBMIT_END,      /* "submit-end" (u.accept: job, n_prompts) */
    /* broker -> client */
    TOA_MSG_ACCEPT,          /* "accept" */
    TOA_MSG_REJECT,          /* "reject" */
    TOA_MSG_PROGRESS,        /* "progress" */
    TOA_MSG_RESULT,          /* "result" */
    TOA_MSG_STATUS,          /* "status" */
    TOA_MSG_ERROR,           /* "error" */
    TOA_MSG_SUBMIT_ACK,      /* "submit-ack" (u.result_ack: job, seq) */
    /* worker/scorer -> broker */
    TOA_MSG_READY,           /* "ready" */
    TOA_MSG_GEN_RESULT,      /* "gen-result" */
    TOA_MSG_SCORE_RESULT,    /* "score-result" */
    TOA_MSG_TASK_FAILURE,    /* "task-failure" */
    /* broker -> worker/scorer */
    TOA_MSG_GEN_TASK,        /* "gen-task" */
    TOA_MSG_SCORE_TASK,      /* "score-task" */
    /* both ways, any peer */
    TOA_MSG_HEARTBEAT,       /* "heartbeat" */
    TOA_MSG_DISCONNECT,      /* "disconnect" */
    TOA_MSG_TYPE_COUNT
} toa_msg_type_t;

/* Decoding results; every failure has its own code. */
typedef enum {
    TOA_PROTO_OK = 0,
    TOA_PROTO_ERR_TOO_LARGE,        /* message longer than TOA_PROTO_MAX_MESSAGE */
    TOA_PROTO_ERR_MALFORMED,        /* not msgpack, or truncated */
    TOA_PROTO_ERR_COUNT,            /* a container declares more items than bytes remain */
    TOA_PROTO_ERR_DEPTH,            /* nested deeper than TOA_PROTO_MAX_DEPTH */
    TOA_PROTO_ERR_TRAILING,         /* bytes after the message */
    TOA_PROTO_ERR_NOT_MAP,          /* top level is not a map */
    TOA_PROTO_ERR_VERSION,          /* "v" missing or not TOA_PROTO_VERSION */
    TOA_PROTO_ERR_COMMAND,          /* "cmd" missing or unknown */
    TOA_PROTO_ERR_MISSING_FIELD,    /* a required field is absent */
    TOA_PROTO_ERR_WRONG_TYPE,       /* a field has the wrong msgpack type */
    TOA_PROTO_ERR_STRING_TOO_LONG,  /* a string over its limit */
    TOA_PROTO_ERR_ARRAY_TOO_LONG,   /* an array over its limit */
    TOA_PROTO_ERR_BAD_VALUE,        /* right type, value out of range or unknown enum */
    TOA_PROTO_ERR_DUPLICATE_KEY,    /* a key appears twice in one map */
    TOA_PROTO_ERR_NOMEM,            /* out of memory */
    TOA_PROTO_STATUS_COUNT
} toa_proto_status_t;

/* Where decoding failed: the field ("prompts.3.text") and the status. */
typedef struct {
    toa_proto_status_t status;
    char field[128];
} toa_proto_error_t;

typedef enum { TOA_FAILURE_TRANSIENT = 0, TOA_FAILURE_PERMANENT = 1 } toa_failure_class_t;
typedef enum { TOA_PEER_WORKER = 0, TOA_PEER_SCORER = 1 } toa_peer_kind_t;

typedef struct {
    int64_t line;            /* 1-based line number in the client's file */
    char *text;              /* the line: one JSON object */
} toa_prompt_line_t;

typedef struct {
    int64_t line;            /* 0 when the error is about the whole batch */
    char *reason;
} toa_line_error_t;

typedef struct {
    char *text;
    char *finish_reason;     /* "stop", "length", ... */
    int64_t prompt_tokens;
    int64_t completion_tokens;
} toa_gen_output_t;

typedef struct {
    char *job;
    char *state;             /* "queued" "running" "done" "cancelled" */
    char *method;
    int64_t total, done, fetched, active;
    int64_t generations, failed;
    int64_t budget;          /* generations the job may spend in all (optional) */
    int64_t spare;           /* of those, saved by prompts that stopped early and
                                not given to others: unspent so far (optional) */
    char *waiting;           /* why the job is not progressing, "" if it is */
} toa_job_status_t;

/* One struct per command; strings and arrays are owned by the message. */
typedef struct {
    char *job;               /* client-chosen job id, [A-Za-z0-9_.-]{1,64} */
    char *method;            /* "toa", "best-of-n", ... */
    char *settings;          /* JSON object text: the job's method, sampling,
                                models and templates (see proto/README.md) */
    toa_prompt_line_t *prompts;
    size_t n_prompts;
    char *token;             /* optional: a secret that owns the job without CURVE */
} toa_msg_submit_t;

/* One chunk of a submission streamed with submit-begin/-chunk/-end. */
typedef struct {
    char *job;
    int64_t seq;             /* 1, 2, ...: chunks in order */
    toa_prompt_line_t *prompts;
    size_t n_prompts;
} toa_msg_submit_chunk_t;

typedef struct { char *job; int64_t n_prompts; } toa_msg_accept_t;
typedef struct {
    char *job;
    char *message;           /* summary */
    toa_line_error_t *errors;
    size_t n_errors;
} toa_msg_reject_t;
typedef struct { toa_job_status_t status; } toa_msg_progress_t;
typedef struct {
    char *job;
    int64_t seq;             /* 0-based order in which prompts finished */
    char *result;            /* the result line, JSON object text */
} toa_msg_result_t;
typedef struct { char *job; int64_t seq; char *token; } toa_msg_result_ack_t; /* results 0..seq are stored */
typedef struct { char *job; char *token; } toa_msg_job_ref_t;  /* status-request ("" = all), cancel, attach */
typedef struct { toa_job_status_t *jobs; size_t n_jobs; } toa_msg_status_t;
typedef struct { int64_t code; char *message; char *job; } toa_msg_error_t;

typedef struct {
    toa_peer_kind_t kind;    /* "worker" or "scorer" */
    char *name;              /* for logs, e.g. host:pid */
    char **serves;           /* model names, or reward backend names */
    size_t n_serves;
    int64_t credit;          /* tasks it takes at once, >= 1 */
    int64_t heartbeat_ms;    /* its heartbeat interval, >= 1 */
} toa_msg_ready_t;

typedef struct {
    uint64_t task;           /* broker-assigned id */
    int64_t attempt;         /* lease number, >= 1 */
    char *job;
    char *model;
    toa_chat_message_t *messages;
    size_t n_messages;
    double temperature;
    double top_p;
    int64_t max_tokens;
    bool has_seed;           /* "seed" is nil when false */
    uint64_t seed;
    char **stop;
    size_t n_stop;
    int64_t n;               /* samples of this prompt, >= 1 */
    uint64_t affinity;       /* same value for every task of one prompt; 0: none
                                (workers keep a prompt on one replica) */
} toa_msg_gen_task_t;

typedef struct {
    uint64_t task;
    int64_t attempt;
    char *job;
    char *backend;
    toa_chat_message_t *messages; /* the original prompt */
    size_t n_messages;
    char *response;
    char *reference;         /* NULL (nil) when the prompt has none */
} toa_msg_score_task_t;

typedef struct {
    uint64_t task;
    int64_t attempt;
    toa_gen_output_t *outputs;  /* n of them */
    size_t n_outputs;
    int64_t latency_ms;
} toa_msg_gen_result_t;

typedef struct { uint64_t task; int64_t attempt; double reward; } toa_msg_score_result_t;

typedef struct {
    uint64_t task;
    int64_t attempt;
    toa_failure_class_t failure_class; /* "transient" or "permanent" */
    char *reason;
    int64_t http_status;     /* 0 when not an HTTP status */
} toa_msg_task_failure_t;

typedef struct { char *reason; } toa_msg_disconnect_t;

/* One figure a worker or scorer reports to the broker in a heartbeat. */
typedef struct {
    char *name;              /* "upstream_attempts", "upstream_retries" (counts since
                              * the last report), "upstream_in_flight" (now) */
    char *target;            /* the model or reward backend it is about */
    char *outcome;           /* for attempts and retries: "ok", "timeout", "429", ... */
    int64_t value;           /* >= 0 */
} toa_peer_stat_t;

/* Heartbeat: no required fields; a worker or scorer may add its figures. */
typedef struct {
    toa_peer_stat_t *stats;  /* optional, may be empty */
    size_t n_stats;
} toa_msg_heartbeat_t;

typedef struct {
    toa_msg_type_t type;
    union {
        toa_msg_submit_t submit;         /* submit, submit-begin */
        toa_msg_submit_chunk_t submit_chunk;
        toa_msg_accept_t accept;         /* accept, submit-end */
        toa_msg_reject_t reject;
        toa_msg_progress_t progress;
        toa_msg_result_t result;
        toa_msg_result_ack_t result_ack; /* result-ack, submit-ack */
        toa_msg_job_ref_t job_ref;       /* status-request, cancel, attach */
        toa_msg_status_t status;
        toa_msg_error_t error;
        toa_msg_ready_t ready;
        toa_msg_gen_task_t gen_task;
        toa_msg_score_task_t score_task;
        toa_msg_gen_result_t gen_result;
        toa_msg_score_result_t score_result;
        toa_msg_task_failure_t task_failure;
        toa_msg_disconnect_t disconnect;
        toa_msg_heartbeat_t heartbeat;
    } u;
} toa_msg_t;

/* Encodes MSG. Returns 0 and a malloc'd buffer in *DATA of *SIZE bytes, or -1
 * (out of memory, or a required string is NULL). */
int toa_proto_encode (const toa_msg_t *msg, char **data, size_t *size);

/* Decodes exactly SIZE bytes of DATA into MSG (zeroed first). Never reads past
 * SIZE, never allocates more than a small multiple of SIZE. On failure MSG is
 * left empty and ERROR (if not NULL) says which field and why. */
toa_proto_status_t toa_proto_decode (const void *data, size_t size, toa_msg_t *msg,
                                     toa_proto_error_t *error);

/* Frees what MSG owns and zeroes it; safe to call twice. */
void toa_msg_clear (toa_msg_t *msg);

/* "submit", "gen-task", ...; NULL for an invalid type. */
const char *toa_msg_type_name (toa_msg_type_t type);

/* Short text for a status: "trailing bytes after message", ... */
const char *toa_proto_status_text (toa_proto_status_t status);

/* Writes "bad message: STATUS at FIELD" ("at top level" when no field) into
 * BUF for logs and error replies; returns BUF. */
const char *toa_proto_error_text (const toa_proto_error_t *error, char *buf, size_t size);

#endif
