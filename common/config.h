/* config.h - the fleet's one JSON configuration file: parsing, defaults,
 * validation and command-line overrides.
 *
 * Every program reads the same file and uses the sections it needs. The
 * schema, field by field, is documented in docs/config.md. Validation collects
 * every problem as "file: path.to.field: reason" instead of stopping at the
 * first one. */
#ifndef TOA_CONFIG_H
#define TOA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/errors.h"

typedef struct {
    char *name;              /* name used in tasks, results and --method models */
    char *model_id;          /* "model" sent to the server (default: name) */
    char **base_urls;        /* OpenAI-compatible base URLs, replicas; ".../v1" */
    size_t n_base_urls;
    char *api_key_env;       /* environment variable holding the key, or NULL */
    int max_concurrent;      /* in-flight requests per base URL (default 16) */
    char **stop;             /* stop strings sent with every request */
    size_t n_stop;
    int timeout_ms;          /* per HTTP request (default 60000) */
    int max_retries;         /* transient failures retried (default 5) */
    bool simulated;          /* served by toa-simllm (deploy/fleet starts it) */
} toa_model_config_t;

typedef struct {
    char *backend;           /* http-reward vllm-classify vllm-pooling
                                llm-judge math-verify chrf */
    char *url;               /* endpoint for http backends */
    char *model_id;          /* model for vllm-* and llm-judge */
    char *api_key_env;       /* environment variable holding the key, or NULL */
    char *reference_field;   /* input field with the reference (math-verify:
                                gold_answer, chrf: en) */
    char *query_template;    /* joins prompt and response: {prompt} {response} */
    char *judge_template;    /* llm-judge prompt: {prompt} {response} */
    double judge_scale_max;  /* llm-judge scale 1..max (default 10) */
    int batch_size;          /* score tasks per backend call (default 16) */
    int batch_wait_ms;       /* longest wait to fill a batch (default 20) */
    int timeout_ms;          /* per HTTP request (default 60000) */
    int max_retries;         /* transient failures retried (default 3) */
} toa_reward_config_t;

typedef struct {
    double temperature;      /* default 0.7 */
    double top_p;            /* default 1.0 */
    int max_tokens;          /* default 1024 */
    bool allow_n;            /* a request may ask for n > 1 choices (default false) */
    bool has_seed;           /* send a seed derived from this base seed */
    uint64_t seed;
} toa_sampling_config_t;

typedef struct {
    char *name;              /* toa best-of-n prs ensemble seq-refine moa */
    int samples;             /* generations per model per prompt (default 4) */
    double alpha;            /* UCB exploration (default 0.01) */
    double tau;              /* reward temperature (default 0.1) */
    bool tau_auto;           /* tau "auto": from the spread of rewards seen */
    int width;               /* 0 = models * samples / 3 */
    int topk_child;          /* default 1 */
    int parallel_expansions; /* TOA expansions in flight per prompt (default 1) */
    int budget;              /* job-wide mean generations per prompt; 0: fixed */
    int max_per_prompt;      /* job-wide budget: cap per prompt; 0: 4 x budget */
    double stop_at_reward;   /* early stop at this raw reward (when has_...) */
    bool has_stop_at_reward;
    char *prs_model;         /* PRS's one model (default: first model) */
    int moa_n_iter;          /* MoA layers per round (default 2) */
    int moa_aggregate;       /* responses listed in an aggregation prompt
                                (default: number of models) */
    uint64_t seed;           /* shuffles of ensemble/seq-refine (default 0) */
} toa_method_config_t;

typedef struct {
    char *system;            /* system message, or NULL */
    char *refine;            /* {question} {response} */
    char *aggregate;         /* {question} {responses} */
} toa_templates_config_t;

typedef struct {
    char *client_endpoint;   /* ROUTER for clients, e.g. tcp://127.0.0.1:5555 */
    char *worker_endpoint;   /* ROUTER for workers and scorers */
    int heartbeat_ms;        /* default 1000; a peer silent 3x this is dead */
    int max_active_prompts;  /* prompts in search at once; 0 (default): no cap, the
                              * work the fleet needs (broker/search.c) */
    int task_timeout_ms;     /* lease of a task before it is re-issued */
    size_t max_message_bytes;/* ZMQ_MAXMSGSIZE (default 256 MiB) */
    int max_peers;           /* workers and scorers at once (default 1024) */
    int max_serves;          /* names kept from a peer's serves list (default 64) */
    int peer_heartbeat_max_ms; /* longest heartbeat a peer may ask (default 60000) */
    double stall_fraction;   /* of the lease: a peer holding tasks this long
                                without answering any loses them (default 0.5) */
    char *log_file;          /* NULL = stderr */
    char *metrics_listen;    /* host:port of GET /metrics; NULL = off */
    bool insecure;           /* may bind a non-loopback endpoint without CURVE */
    int max_jobs_per_client; /* live jobs per client key (default 1000) */
    int max_prompts_per_client; /* unfinished prompts per client key (default 10M) */
} toa_broker_config_t;

typedef struct {
    char *url;               /* redis://host:port/db (default redis://127.0.0.1:6379/0) */
    char *password_env;      /* environment variable with the password, or NULL */
    bool managed;            /* deploy/fleet starts redis-server for it */
    char *data_dir;          /* where a managed redis keeps its AOF */
    char *password_file;     /* file holding the password (mode 0600), or NULL */
} toa_redis_config_t;

/* CURVE keys (certificate files from `toa keygen`); CURVE is on when
 * broker_key is set. */
typedef struct {
    char *broker_key;        /* the broker's certificate (its _secret: the broker) */
    char *peer_key;          /* workers' and scorers' own certificate */
    char *client_key;        /* the client's own certificate */
    char *peer_keys_dir;     /* broker: public certificates of admitted peers */
    char *client_keys_dir;   /* broker: public certificates of admitted clients */
    char *admin_keys_dir;    /* broker: clients that may see every job */
} toa_curve_config_t;

typedef struct {
    int max_tasks;           /* credit a worker announces (default 64) */
    int heartbeat_ms;        /* default 1000 */
    int count;               /* workers deploy/fleet starts (default 1) */
    bool prefix_affinity;    /* a prompt's requests stay on one replica (default true) */
} toa_worker_config_t;

typedef struct {
    int count;               /* scorers deploy/fleet starts (default 1) */
    int max_tasks;           /* credit a scorer announces (default 64) */
} toa_scorer_config_t;

typedef struct {
    char *model_id;          /* id served (matches a model's model_id) */
    double latency_ms;       /* mean time to first token */
    double jitter_ms;        /* uniform +- around the mean */
    double per_token_ms;     /* added per output token */
    int slots;               /* concurrent requests served; more wait */
    double fault_500;        /* rate of HTTP 500 */
    double fault_429;        /* rate of HTTP 429 with Retry-After */
    int retry_after_s;       /* Retry-After sent with 429 (default 1) */
    double fault_hang;       /* rate of requests that hang hang_ms */
    double fault_malformed;  /* rate of 200 with a body that is not JSON */
    double fault_overload;   /* rate of the personality's overload answer */
    double fault_bad_request;/* rate of the personality's bad-request answer */
    double math_skill;       /* mean chance of a correct math answer */
    double skill_spread;     /* per-question spread of that chance */
    double fix_prob;         /* refining a wrong answer fixes it */
    double spoil_prob;       /* refining a right answer spoils it */
    double translation_noise;/* share of words corrupted in a translation */
    double refine_gain;      /* refinement removes this share of the noise */
    char *personality;       /* the server it answers like: openai, vllm, sglang,
                                llamacpp, tgi (sim/personality.h; default openai) */
    int context_tokens;      /* prompt + completion a request may hold (default 4096) */
    double prefix_cache_share; /* a fully cached prompt is this much faster (0: no cache) */
    int prefix_cache_blocks; /* blocks of 64 bytes the cache remembers (default 65536) */
} toa_sim_model_config_t;

typedef struct {
    char *listen;            /* host:port (default 127.0.0.1:8000) */
    char **data_files;       /* JSONL files with gold_answer / en references */
    size_t n_data_files;
    int hang_ms;             /* how long a "hang" fault holds (default 120000) */
    int threads;             /* HTTP threads (default 4) */
    toa_sim_model_config_t *models;
    size_t n_models;
} toa_sim_config_t;

typedef struct {
    char *path;              /* file it was read from ("<defaults>" if none) */
    json_t *root;            /* the merged JSON, after overrides */
    toa_broker_config_t broker;
    toa_redis_config_t redis;
    toa_model_config_t *models;
    size_t n_models;
    toa_reward_config_t reward;
    toa_sampling_config_t sampling;
    toa_method_config_t method;
    toa_templates_config_t templates;
    toa_worker_config_t worker;
    toa_scorer_config_t scorer;
    toa_sim_config_t sim;
    toa_curve_config_t curve;
} toa_config_t;

/* Reads and validates PATH (NULL: built-in defaults only), after applying
 * OVERRIDES, each "path.to.field=value" (value parsed as JSON when it parses,
 * else taken as a string; "models.0.max_concurrent=4" indexes arrays).
 * Returns the config, or NULL with every problem appended to ERRORS as
 * "file: path.to.field: reason". */
toa_config_t *toa_config_load (const char *path, const char *const *overrides,
                               size_t n_overrides, toa_errors_t *errors);

/* As toa_config_load, from TEXT; NAME is used in error messages. */
toa_config_t *toa_config_parse (const char *text, const char *name,
                                const char *const *overrides, size_t n_overrides,
                                toa_errors_t *errors);

/* Frees everything; nulls *SELF_P; safe on NULL. */
void toa_config_destroy (toa_config_t **self_p);

/* The model named NAME, or NULL. */
const toa_model_config_t *toa_config_model (const toa_config_t *self, const char *name);

/* The method's width: the configured one, or max(models * samples / 3,
 * models). */
int toa_config_effective_width (const toa_config_t *self);

/* The same for METHOD settings with N_MODELS models (a job may carry its own
 * method settings). An automatic width is never below the number of models
 * (each root action needs a response) nor below 1. */
int toa_config_method_width (const toa_method_config_t *method, size_t n_models);

/* The value of a model's API key from its environment variable, or NULL.
 * Never log it. */
const char *toa_config_api_key (const char *api_key_env);

/* The Redis password, from redis.password_env or redis.password_file (its
 * first line; the file must not be readable by every user). Returns 0 with
 * *PASSWORD a new string (wipe and free it), or NULL when none is configured;
 * -1 with the reason in ERRORS (never the password). */
int toa_config_redis_password (const toa_config_t *self, char **password,
                               toa_errors_t *errors);

#endif
