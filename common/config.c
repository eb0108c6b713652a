/* config.c - the fleet's JSON configuration file: schema, defaults,
 * validation and command-line overrides (see config.h and docs/config.md).
 *
 * Every section is described once, as a table of fields saying where in the
 * struct a value goes, its type, its range and its default. Defaults, reading,
 * override paths, freeing and writing the effective JSON all walk these
 * tables. Rules that tie fields together (a URL a backend needs, the width
 * against the number of models) come after, in s_rules_*. */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/defaults.h"
#include "common/json.h"
#include "common/util.h"

/* ---------------------------------------------------------------- schema */

typedef enum {
    S_STRING,                /* char * */
    S_INT,                   /* int */
    S_SIZE,                  /* size_t */
    S_U64,                   /* uint64_t, >= 0 */
    S_SEED,                  /* uint64_t, or null: bool at count_offset */
    S_DOUBLE,                /* double */
    S_BOOL,                  /* bool */
    S_STRINGS,               /* char ** with its size_t count at count_offset */
    S_OBJECT,                /* a nested object, fields in sub */
    S_ARRAY                  /* objects: pointer, count at count_offset */
} s_kind_t;

enum {
    S_NULLABLE = 1 << 0,     /* null is accepted (NULL) */
    S_NONEMPTY = 1 << 1,     /* a string, or each string of a list, not "" */
    S_NONEMPTY_LIST = 1 << 2,/* a list with at least one string */
    S_MIN_OPEN = 1 << 3,     /* a number must be > min, not >= min */
    S_SECRET = 1 << 4,       /* never repeat the value in a message */
    S_ONE_STRING = 1 << 5,   /* a list may also be given as one string */
    S_STRING_ONLY = 1 << 6,  /* a list given as exactly one string (alias) */
    S_ALIAS = 1 << 7,        /* shares storage with the next field: not
                                defaulted, freed nor written back */
    S_REQUIRED = 1 << 8,     /* must be present */
    S_DBL_NULL = 1 << 9,     /* a number may also be null: bool at count_offset
                                says whether it was given */
    S_DBL_AUTO = 1 << 10     /* a number may also be "auto": bool at count_offset */
};

#define S_NO_MAX 1e300

typedef struct s_schema_s s_schema_t;

/* True when VALUE is fine, else false with the reason in WHY (see below). */
typedef bool s_check_fn (const char *value, const char *shown, char *why,
                         size_t size);

typedef struct {
    const char *name;        /* JSON name */
    s_kind_t kind;
    size_t offset;           /* where the value lives in the struct */
    size_t count_offset;     /* list count, or a seed's has_seed */
    double min, max;         /* numbers: range; S_NO_MAX = unbounded */
    unsigned flags;
    const char *text;        /* default of a string */
    double number;           /* default of a number or bool */
    s_check_fn *check;       /* extra check of a string */
    const s_schema_t *sub;   /* members of an object or array element */
} s_field_t;

struct s_schema_s {
    const s_field_t *fields;
    size_t n_fields;
    size_t size;             /* size of one array element */
};

#define F_STR(T, n, m, fl, def, chk) \
    {.name = n, .kind = S_STRING, .offset = offsetof (T, m), .flags = (fl), \
     .text = (def), .check = (chk)}
#define F_INT(T, n, m, lo, def) \
    {.name = n, .kind = S_INT, .offset = offsetof (T, m), .min = (lo), \
     .max = S_NO_MAX, .number = (def)}
#define F_DBL(T, n, m, lo, hi, fl, def) \
    {.name = n, .kind = S_DOUBLE, .offset = offsetof (T, m), .min = (lo), \
     .max = (hi), .flags = (fl), .number = (def)}
#define F_PROB(T, n, m, def) F_DBL (T, n, m, 0, 1, 0, def)
#define F_BOOL(T, n, m, def) \
    {.name = n, .kind = S_BOOL, .offset = offsetof (T, m), .number = (def)}
#define F_LIST(T, n, m, count, fl, chk) \
    {.name = n, .kind = S_STRINGS, .offset = offsetof (T, m), \
     .count_offset = offsetof (T, count), .flags = (fl), .check = (chk)}
#define F_OBJ(T, n, m, schema) \
    {.name = n, .kind = S_OBJECT, .offset = offsetof (T, m), .sub = &(schema)}
#define SCHEMA(fields, T) {fields, sizeof fields / sizeof fields[0], sizeof (T)}

/* Default prompts. {question}, {response}, {responses}, {prompt} are filled
 * in by the broker and the scorer; {scale_max} is filled in at load time.
 * The job templates (refine, aggregate) are common/defaults.h's. */
static const char s_judge_template[] =
    "Please act as an impartial judge and evaluate the quality of the "
    "response provided by an AI assistant to the user question displayed "
    "below. Consider factors such as the helpfulness, relevance, accuracy, "
    "depth, creativity, and level of detail of the response. Begin your "
    "evaluation with a short explanation. Be as objective as possible. After "
    "providing your explanation, rate the response on a scale of 1 to "
    "{scale_max} by strictly following this format: \"[[rating]]\", for "
    "example: \"Rating: [[5]]\".\n"
    "\n"
    "[Question]\n"
    "{prompt}\n"
    "\n"
    "[The Start of Assistant's Answer]\n"
    "{response}\n"
    "[The End of Assistant's Answer]";

static const char s_query_template[] = "{prompt}\n\n{response}";

static const char *const s_methods[] = {
    "toa", "best-of-n", "prs", "ensemble", "seq-refine", "moa"};
static const char *const s_backends[] = {
    "http-reward", "vllm-classify", "vllm-pooling", "llm-judge", "math-verify",
    "chrf"};

/* snprintf that cuts quietly: messages and paths here are bounded on
 * purpose. */
static bool
s_one_of (const char *value, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (value, names[i]) == 0)
            return true;
    return false;
}

/* The checks below return true when VALUE is fine, else write why not into
 * WHY. SHOWN is the value as messages may show it, NULL when it must not be
 * repeated (a field that names a secret). */

/* True when VALUE is one of LIST; else WHY says "unknown WHAT SHOWN; VALID:
 * a, b, ..." with LIST's names. */
static bool
s_check_listed (const char *value, const char *shown, const char *const *list, size_t n,
                const char *what, const char *valid, char *why, size_t size)
{
    if (s_one_of (value, list, n))
        return true;
    char names[256] = "";
    for (size_t i = 0; i < n; i++)
        toa_format_reason (names + strlen (names), sizeof names - strlen (names), "%s%s",
                           i ? ", " : "", list[i]);
    toa_format_reason (why, size, "unknown %s %s; %s: %s", what, shown, valid, names);
    return false;
}

static bool
s_check_method (const char *value, const char *shown, char *why, size_t size)
{
    return s_check_listed (value, shown, s_methods, sizeof s_methods / sizeof *s_methods,
                           "method", "valid methods", why, size);
}

/* The servers toa-simllm can answer like (sim/personality.h). */
static const char *const s_personalities[] = {"openai", "vllm", "sglang", "llamacpp", "tgi"};

static bool
s_check_personality (const char *value, const char *shown, char *why, size_t size)
{
    return s_check_listed (value, shown, s_personalities,
                           sizeof s_personalities / sizeof *s_personalities, "personality",
                           "valid", why, size);
}

static bool
s_check_backend (const char *value, const char *shown, char *why, size_t size)
{
    return s_check_listed (value, shown, s_backends, sizeof s_backends / sizeof *s_backends,
                           "reward backend", "valid backends", why, size);
}

static bool
s_check_http_url (const char *value, const char *shown, char *why, size_t size)
{
    if (strchr (value, '@')) {   /* user:password@host: never repeated */
        toa_format_reason (why, size, "must not hold credentials; name an environment "
                 "variable in api_key_env instead");
        return false;
    }
    const char *host = strncmp (value, "http://", 7) == 0 ? value + 7
                     : strncmp (value, "https://", 8) == 0 ? value + 8 : NULL;
    if (host && *host && *host != '/')
        return true;
    toa_format_reason (why, size, "must be an http:// or https:// URL, got %s", shown);
    return false;
}

static bool
s_check_endpoint (const char *value, const char *shown, char *why, size_t size)
{
    const char *rest = strncmp (value, "tcp://", 6) == 0 ? value + 6
                     : strncmp (value, "ipc://", 6) == 0 ? value + 6
                     : strncmp (value, "inproc://", 9) == 0 ? value + 9 : NULL;
    if (rest && *rest)
        return true;
    toa_format_reason (why, size, "must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555 "
             "(tcp://, ipc:// or inproc://), got %s", shown);
    return false;
}

static bool
s_check_redis_url (const char *value, const char *shown, char *why, size_t size)
{
    if (strchr (value, '@')) {
        toa_format_reason (why, size, "must not hold a password; name an environment "
                 "variable in redis.password_env instead");
        return false;
    }
    if (strncmp (value, "redis://", 8) == 0 && value[8] && value[8] != '/')
        return true;
    toa_format_reason (why, size, "must be a URL such as redis://127.0.0.1:6379/0, got %s",
             shown);
    return false;
}

static bool
s_check_env_name (const char *value, const char *shown, char *why, size_t size)
{
    (void) shown;            /* it may be the secret itself, pasted here */
    bool good = (*value >= 'A' && *value <= 'Z') || (*value >= 'a' && *value <= 'z')
                || *value == '_';
    for (const char *c = value; good && *c; c++)
        good = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
               || (*c >= '0' && *c <= '9') || *c == '_';
    if (!good)
        toa_format_reason (why, size, "must be the name of an environment variable such as "
                 "OPENAI_API_KEY, not the secret itself");
    return good;
}

static bool
s_check_listen (const char *value, const char *shown, char *why, size_t size)
{
    const char *colon = strrchr (value, ':');
    bool good = colon && colon != value && colon[1];
    long port = 0;
    for (const char *c = colon ? colon + 1 : ""; good && *c; c++) {
        good = *c >= '0' && *c <= '9' && port <= 65535;
        port = port * 10 + (*c - '0');
    }
    if (good && port <= 65535)
        return true;
    toa_format_reason (why, size, "must be host:port with a port up to 65535, such as "
             "127.0.0.1:8000, got %s", shown);
    return false;
}

static bool
s_check_model_name (const char *value, const char *shown, char *why, size_t size)
{
    for (const unsigned char *c = (const unsigned char *) value; *c; c++)
        if (*c <= ' ' || *c == ',' || *c == 0x7f) {
            toa_format_reason (why, size, "must not contain spaces, commas or control "
                     "characters, got %s", shown);
            return false;
        }
    return true;
}

static const s_field_t s_broker_fields[] = {
    F_STR (toa_broker_config_t, "client_endpoint", client_endpoint, S_NONEMPTY,
           "tcp://127.0.0.1:5555", s_check_endpoint),
    F_STR (toa_broker_config_t, "worker_endpoint", worker_endpoint, S_NONEMPTY,
           "tcp://127.0.0.1:5556", s_check_endpoint),
    F_INT (toa_broker_config_t, "heartbeat_ms", heartbeat_ms, 1, 1000),
    F_INT (toa_broker_config_t, "max_active_prompts", max_active_prompts, 0, 0),
    F_INT (toa_broker_config_t, "task_timeout_ms", task_timeout_ms, 1, 600000),
    {.name = "max_message_bytes", .kind = S_SIZE,
     .offset = offsetof (toa_broker_config_t, max_message_bytes),
     .min = 1024, .max = S_NO_MAX, .number = 256.0 * 1024 * 1024},
    F_INT (toa_broker_config_t, "max_peers", max_peers, 1, 1024),
    F_INT (toa_broker_config_t, "max_serves", max_serves, 1, 64),
    F_INT (toa_broker_config_t, "peer_heartbeat_max_ms", peer_heartbeat_max_ms, 10, 60000),
    F_DBL (toa_broker_config_t, "stall_fraction", stall_fraction, 0, 1, S_MIN_OPEN, 0.5),
    F_STR (toa_broker_config_t, "log_file", log_file, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
    F_STR (toa_broker_config_t, "metrics_listen", metrics_listen, S_NULLABLE | S_NONEMPTY,
           NULL, s_check_listen),
    F_BOOL (toa_broker_config_t, "insecure", insecure, 0),
    F_INT (toa_broker_config_t, "max_jobs_per_client", max_jobs_per_client, 1, 1000),
    F_INT (toa_broker_config_t, "max_prompts_per_client", max_prompts_per_client, 1, 10000000),
};
static const s_schema_t s_broker_schema = SCHEMA (s_broker_fields, toa_broker_config_t);

static const s_field_t s_redis_fields[] = {
    F_STR (toa_redis_config_t, "url", url, S_NONEMPTY, "redis://127.0.0.1:6379/0",
           s_check_redis_url),
    F_STR (toa_redis_config_t, "password_env", password_env,
           S_NULLABLE | S_SECRET, NULL, s_check_env_name),
    F_BOOL (toa_redis_config_t, "managed", managed, 0),
    F_STR (toa_redis_config_t, "data_dir", data_dir, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
    F_STR (toa_redis_config_t, "password_file", password_file, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
};
static const s_schema_t s_redis_schema = SCHEMA (s_redis_fields, toa_redis_config_t);

static const s_field_t s_model_fields[] = {
    F_STR (toa_model_config_t, "name", name, S_REQUIRED | S_NONEMPTY, NULL,
           s_check_model_name),
    F_STR (toa_model_config_t, "model_id", model_id, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
    F_LIST (toa_model_config_t, "base_url", base_urls, n_base_urls,
            S_STRING_ONLY | S_NONEMPTY | S_ALIAS, s_check_http_url),
    F_LIST (toa_model_config_t, "base_urls", base_urls, n_base_urls,
            S_NONEMPTY | S_NONEMPTY_LIST, s_check_http_url),
    F_STR (toa_model_config_t, "api_key_env", api_key_env,
           S_NULLABLE | S_SECRET, NULL, s_check_env_name),
    F_INT (toa_model_config_t, "max_concurrent", max_concurrent, 1, 16),
    F_LIST (toa_model_config_t, "stop", stop, n_stop, S_ONE_STRING | S_NONEMPTY,
            NULL),
    F_INT (toa_model_config_t, "timeout_ms", timeout_ms, 1, 60000),
    F_INT (toa_model_config_t, "max_retries", max_retries, 0, 5),
    F_BOOL (toa_model_config_t, "simulated", simulated, 0),
};
static const s_schema_t s_model_schema = SCHEMA (s_model_fields, toa_model_config_t);

static const s_field_t s_reward_fields[] = {
    F_STR (toa_reward_config_t, "backend", backend, S_NONEMPTY, "math-verify",
           s_check_backend),
    F_STR (toa_reward_config_t, "url", url, S_NULLABLE, NULL, s_check_http_url),
    F_STR (toa_reward_config_t, "model_id", model_id, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
    F_STR (toa_reward_config_t, "api_key_env", api_key_env,
           S_NULLABLE | S_SECRET, NULL, s_check_env_name),
    F_STR (toa_reward_config_t, "reference_field", reference_field,
           S_NULLABLE | S_NONEMPTY, NULL, NULL),
    F_STR (toa_reward_config_t, "query_template", query_template, S_NONEMPTY,
           s_query_template, NULL),
    F_STR (toa_reward_config_t, "judge_template", judge_template, S_NONEMPTY,
           s_judge_template, NULL),
    F_DBL (toa_reward_config_t, "judge_scale_max", judge_scale_max, 1, S_NO_MAX,
           S_MIN_OPEN, 10),
    F_INT (toa_reward_config_t, "batch_size", batch_size, 1, 16),
    F_INT (toa_reward_config_t, "batch_wait_ms", batch_wait_ms, 0, 20),
    F_INT (toa_reward_config_t, "timeout_ms", timeout_ms, 1, 60000),
    F_INT (toa_reward_config_t, "max_retries", max_retries, 0, 3),
};
static const s_schema_t s_reward_schema = SCHEMA (s_reward_fields, toa_reward_config_t);

static const s_field_t s_sampling_fields[] = {
    F_DBL (toa_sampling_config_t, "temperature", temperature, 0, 2, 0,
           TOA_DEFAULT_TEMPERATURE),
    F_DBL (toa_sampling_config_t, "top_p", top_p, 0, 1, S_MIN_OPEN, TOA_DEFAULT_TOP_P),
    F_INT (toa_sampling_config_t, "max_tokens", max_tokens, 1, TOA_DEFAULT_MAX_TOKENS),
    F_BOOL (toa_sampling_config_t, "allow_n", allow_n, TOA_DEFAULT_ALLOW_N),
    {.name = "seed", .kind = S_SEED, .offset = offsetof (toa_sampling_config_t, seed),
     .count_offset = offsetof (toa_sampling_config_t, has_seed), .min = 0,
     .max = S_NO_MAX},
};
static const s_schema_t s_sampling_schema = SCHEMA (s_sampling_fields, toa_sampling_config_t);

static const s_field_t s_method_fields[] = {
    F_STR (toa_method_config_t, "name", name, S_NONEMPTY, "toa", s_check_method),
    F_INT (toa_method_config_t, "samples", samples, 1, TOA_DEFAULT_SAMPLES),
    F_DBL (toa_method_config_t, "alpha", alpha, 0, S_NO_MAX, 0, TOA_DEFAULT_ALPHA),
    {.name = "tau", .kind = S_DOUBLE, .offset = offsetof (toa_method_config_t, tau),
     .count_offset = offsetof (toa_method_config_t, tau_auto), .min = 0, .max = S_NO_MAX,
     .flags = S_MIN_OPEN | S_DBL_AUTO, .number = TOA_DEFAULT_TAU},
    F_INT (toa_method_config_t, "width", width, 0, 0),
    F_INT (toa_method_config_t, "topk_child", topk_child, 1, TOA_DEFAULT_TOPK_CHILD),
    F_INT (toa_method_config_t, "parallel_expansions", parallel_expansions, 1,
           TOA_DEFAULT_PARALLEL_EXPANSIONS),
    F_INT (toa_method_config_t, "budget", budget, 0, 0),
    F_INT (toa_method_config_t, "max_per_prompt", max_per_prompt, 0, 0),
    {.name = "stop_at_reward", .kind = S_DOUBLE,
     .offset = offsetof (toa_method_config_t, stop_at_reward),
     .count_offset = offsetof (toa_method_config_t, has_stop_at_reward), .min = -1e300,
     .max = S_NO_MAX, .flags = S_DBL_NULL, .number = 0},
    F_STR (toa_method_config_t, "prs_model", prs_model, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
    F_INT (toa_method_config_t, "moa_n_iter", moa_n_iter, 1, TOA_DEFAULT_MOA_N_ITER),
    F_INT (toa_method_config_t, "moa_aggregate", moa_aggregate, 0, 0),
    {.name = "seed", .kind = S_U64, .offset = offsetof (toa_method_config_t, seed),
     .min = 0, .max = S_NO_MAX},
};
static const s_schema_t s_method_schema = SCHEMA (s_method_fields, toa_method_config_t);

static const s_field_t s_templates_fields[] = {
    F_STR (toa_templates_config_t, "system", system, S_NULLABLE, NULL, NULL),
    F_STR (toa_templates_config_t, "refine", refine, S_NONEMPTY,
           toa_default_refine_template, NULL),
    F_STR (toa_templates_config_t, "aggregate", aggregate, S_NONEMPTY,
           toa_default_aggregate_template, NULL),
};
static const s_schema_t s_templates_schema = SCHEMA (s_templates_fields, toa_templates_config_t);

static const s_field_t s_worker_fields[] = {
    F_INT (toa_worker_config_t, "max_tasks", max_tasks, 1, 64),
    F_INT (toa_worker_config_t, "heartbeat_ms", heartbeat_ms, 1, 1000),
    F_INT (toa_worker_config_t, "count", count, 0, 1),
    F_BOOL (toa_worker_config_t, "prefix_affinity", prefix_affinity, 1),
};
static const s_schema_t s_worker_schema = SCHEMA (s_worker_fields, toa_worker_config_t);

static const s_field_t s_scorer_fields[] = {
    F_INT (toa_scorer_config_t, "count", count, 0, 1),
    F_INT (toa_scorer_config_t, "max_tasks", max_tasks, 1, 64),
};
static const s_schema_t s_scorer_schema = SCHEMA (s_scorer_fields, toa_scorer_config_t);

static const s_field_t s_curve_fields[] = {
    F_STR (toa_curve_config_t, "broker_key", broker_key, S_NULLABLE | S_NONEMPTY, NULL, NULL),
    F_STR (toa_curve_config_t, "peer_key", peer_key, S_NULLABLE | S_NONEMPTY, NULL, NULL),
    F_STR (toa_curve_config_t, "client_key", client_key, S_NULLABLE | S_NONEMPTY, NULL, NULL),
    F_STR (toa_curve_config_t, "peer_keys_dir", peer_keys_dir, S_NULLABLE | S_NONEMPTY, NULL,
           NULL),
    F_STR (toa_curve_config_t, "client_keys_dir", client_keys_dir, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
    F_STR (toa_curve_config_t, "admin_keys_dir", admin_keys_dir, S_NULLABLE | S_NONEMPTY,
           NULL, NULL),
};
static const s_schema_t s_curve_schema = SCHEMA (s_curve_fields, toa_curve_config_t);

static const s_field_t s_faults_fields[] = {
    F_PROB (toa_sim_model_config_t, "http_500", fault_500, 0),
    F_PROB (toa_sim_model_config_t, "http_429", fault_429, 0),
    F_INT (toa_sim_model_config_t, "retry_after_s", retry_after_s, 0, 1),
    F_PROB (toa_sim_model_config_t, "hang", fault_hang, 0),
    F_PROB (toa_sim_model_config_t, "malformed", fault_malformed, 0),
    F_PROB (toa_sim_model_config_t, "overload", fault_overload, 0),
    F_PROB (toa_sim_model_config_t, "bad_request", fault_bad_request, 0),
};
/* The faults object lives in the same struct as its model. */
static const s_schema_t s_faults_schema = SCHEMA (s_faults_fields, toa_sim_model_config_t);

static const s_field_t s_sim_model_fields[] = {
    F_STR (toa_sim_model_config_t, "model_id", model_id, S_REQUIRED | S_NONEMPTY,
           NULL, NULL),
    F_DBL (toa_sim_model_config_t, "latency_ms", latency_ms, 0, S_NO_MAX, 0, 50),
    F_DBL (toa_sim_model_config_t, "jitter_ms", jitter_ms, 0, S_NO_MAX, 0, 0),
    F_DBL (toa_sim_model_config_t, "per_token_ms", per_token_ms, 0, S_NO_MAX, 0, 0),
    F_INT (toa_sim_model_config_t, "slots", slots, 1, 8),
    {.name = "faults", .kind = S_OBJECT, .offset = 0, .sub = &s_faults_schema},
    F_PROB (toa_sim_model_config_t, "math_skill", math_skill, 0.5),
    F_PROB (toa_sim_model_config_t, "skill_spread", skill_spread, 0.2),
    F_PROB (toa_sim_model_config_t, "fix_prob", fix_prob, 0.3),
    F_PROB (toa_sim_model_config_t, "spoil_prob", spoil_prob, 0.05),
    F_PROB (toa_sim_model_config_t, "translation_noise", translation_noise, 0.3),
    F_PROB (toa_sim_model_config_t, "refine_gain", refine_gain, 0.5),
    F_STR (toa_sim_model_config_t, "personality", personality, S_NONEMPTY, "openai",
           s_check_personality),
    F_INT (toa_sim_model_config_t, "context_tokens", context_tokens, 2, 4096),
    F_PROB (toa_sim_model_config_t, "prefix_cache_share", prefix_cache_share, 0),
    F_INT (toa_sim_model_config_t, "prefix_cache_blocks", prefix_cache_blocks, 1, 65536),
};
static const s_schema_t s_sim_model_schema = SCHEMA (s_sim_model_fields, toa_sim_model_config_t);

static const s_field_t s_sim_fields[] = {
    F_STR (toa_sim_config_t, "listen", listen, S_NONEMPTY, "127.0.0.1:8000",
           s_check_listen),
    F_LIST (toa_sim_config_t, "data_files", data_files, n_data_files, S_NONEMPTY,
            NULL),
    F_INT (toa_sim_config_t, "hang_ms", hang_ms, 0, 120000),
    F_INT (toa_sim_config_t, "threads", threads, 1, 4),
    {.name = "models", .kind = S_ARRAY, .offset = offsetof (toa_sim_config_t, models),
     .count_offset = offsetof (toa_sim_config_t, n_models), .sub = &s_sim_model_schema},
};
static const s_schema_t s_sim_schema = SCHEMA (s_sim_fields, toa_sim_config_t);

static const s_field_t s_root_fields[] = {
    F_OBJ (toa_config_t, "broker", broker, s_broker_schema),
    F_OBJ (toa_config_t, "redis", redis, s_redis_schema),
    {.name = "models", .kind = S_ARRAY, .offset = offsetof (toa_config_t, models),
     .count_offset = offsetof (toa_config_t, n_models), .sub = &s_model_schema},
    F_OBJ (toa_config_t, "reward", reward, s_reward_schema),
    F_OBJ (toa_config_t, "sampling", sampling, s_sampling_schema),
    F_OBJ (toa_config_t, "method", method, s_method_schema),
    F_OBJ (toa_config_t, "templates", templates, s_templates_schema),
    F_OBJ (toa_config_t, "worker", worker, s_worker_schema),
    F_OBJ (toa_config_t, "scorer", scorer, s_scorer_schema),
    F_OBJ (toa_config_t, "simllm", sim, s_sim_schema),
    F_OBJ (toa_config_t, "curve", curve, s_curve_schema),
};
static const s_schema_t s_root_schema = SCHEMA (s_root_fields, toa_config_t);

/* ------------------------------------------------- errors and their place */

#define S_PATH_MAX 512

typedef struct {
    const char *name;                /* the file, for messages */
    toa_errors_t *errors;
    size_t failed;                   /* problems found */
    char **override_paths;           /* normalized path of each override */
    char **override_shown;           /* each override as messages show it */
    size_t n_overrides;
} s_ctx_t;

/* Records "name: path: reason", or "override 'x=y': path: reason" when the
 * path lies under a field an override set. An empty path is the file. */
static void
s_fail (s_ctx_t *ctx, const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fail (s_ctx_t *ctx, const char *path, const char *fmt, ...)
{
    char reason[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (reason, sizeof reason, fmt, args);
    va_end (args);
    ctx->failed++;
    for (size_t i = ctx->n_overrides; i-- > 0;) {
        const char *set = ctx->override_paths[i];
        size_t length = set ? strlen (set) : 0;
        if (set && strncmp (path, set, length) == 0
            && (path[length] == '\0' || path[length] == '.' || path[length] == '[')) {
            toa_errors_add (ctx->errors, "override '%s': %s: %s",
                            ctx->override_shown[i] ? ctx->override_shown[i] : "?",
                            path, reason);
            return;
        }
    }
    if (*path)
        toa_errors_add (ctx->errors, "%s: %s: %s", ctx->name, path, reason);
    else
        toa_errors_add (ctx->errors, "%s: %s", ctx->name, reason);
}

static void
s_join (char *out, const char *parent, const char *key)
{
    if (*parent)
        toa_format_reason (out, S_PATH_MAX, "%s.%s", parent, key);
    else
        toa_format_reason (out, S_PATH_MAX, "%s", key);
}

static void
s_index (char *out, const char *parent, size_t index)
{
    toa_format_reason (out, S_PATH_MAX, "%s[%zu]", parent, index);
}

/* What FIELD accepts, as in "must be an integer >= 1". */
static void
s_describe (const s_field_t *field, char *out, size_t size)
{
    const char *lo = (field->flags & S_MIN_OPEN) ? "(" : "[";
    switch (field->kind) {
    case S_STRING:
        toa_format_reason (out, size, "%s%s", (field->flags & S_NONEMPTY) ? "a non-empty string"
                                                                 : "a string",
                  (field->flags & S_NULLABLE) ? " or null" : "");
        return;
    case S_BOOL:
        toa_format_reason (out, size, "true or false");
        return;
    case S_STRINGS:
        toa_format_reason (out, size, "%s",
                  (field->flags & S_STRING_ONLY) ? "a non-empty string"
                  : (field->flags & S_ONE_STRING) ? "a string or an array of strings"
                  : (field->flags & S_NONEMPTY_LIST) ? "a non-empty array of strings"
                  : "an array of strings");
        return;
    case S_OBJECT:
        toa_format_reason (out, size, "an object");
        return;
    case S_ARRAY:
        toa_format_reason (out, size, "an array of objects");
        return;
    case S_DOUBLE:
        if (field->flags & S_DBL_AUTO)
            toa_format_reason (out, size, "a number > %g or \"auto\"", field->min);
        else if (field->flags & S_DBL_NULL)
            toa_format_reason (out, size, "a number or null");
        else if (field->max >= S_NO_MAX)
            toa_format_reason (out, size, "a number %s %g",
                      (field->flags & S_MIN_OPEN) ? ">" : ">=", field->min);
        else
            toa_format_reason (out, size, "a number in %s%g, %g]", lo, field->min, field->max);
        return;
    default:
        if (field->max >= S_NO_MAX)
            toa_format_reason (out, size, "an integer >= %.0f%s", field->min,
                      field->kind == S_SEED ? " or null" : "");
        else
            toa_format_reason (out, size, "an integer in [%.0f, %.0f]", field->min, field->max);
        return;
    }
}

static void
s_type_error (s_ctx_t *ctx, const char *path, const s_field_t *field,
              const json_t *value)
{
    char want[128], got[96];
    s_describe (field, want, sizeof want);
    if (field->flags & S_SECRET)
        toa_format_reason (got, sizeof got, "%s", toa_json_type_name (value));
    else
        toa_json_show (value, got, sizeof got);
    s_fail (ctx, path, "must be %s, got %s", want, got);
}

/* Edit distance of two short names, for "did you mean". */
static size_t
s_distance (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    if (la > 63 || lb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

static const s_field_t *
s_find_field (const s_schema_t *schema, const char *name)
{
    for (size_t i = 0; i < schema->n_fields; i++)
        if (strcmp (schema->fields[i].name, name) == 0)
            return &schema->fields[i];
    return NULL;
}

/* " (did you mean 'x'?)" for the closest field within two edits, or "". */
static void
s_suggest (const s_schema_t *schema, const char *name, char *out, size_t size)
{
    const char *best = NULL;
    size_t best_distance = 3;
    for (size_t i = 0; i < schema->n_fields; i++) {
        size_t distance = s_distance (name, schema->fields[i].name);
        if (distance < best_distance) {
            best_distance = distance;
            best = schema->fields[i].name;
        }
    }
    if (best)
        toa_format_reason (out, size, " (did you mean '%s'?)", best);
    else
        *out = '\0';
}

/* --------------------------------------------- defaults, freeing, lists */

static void
s_free_list (char ***list, size_t *count)
{
    for (size_t i = 0; i < *count; i++)
        free ((*list)[i]);
    free (*list);
    *list = NULL;
    *count = 0;
}

static void s_free_object (const s_schema_t *schema, void *base);

static void
s_free_field (const s_field_t *field, void *base)
{
    char *at = (char *) base + field->offset;
    if (field->flags & S_ALIAS)
        return;
    if (field->kind == S_STRING) {
        free (*(char **) at);
        *(char **) at = NULL;
    }
    else if (field->kind == S_STRINGS)
        s_free_list ((char ***) at, (size_t *) ((char *) base + field->count_offset));
    else if (field->kind == S_OBJECT)
        s_free_object (field->sub, at);
    else if (field->kind == S_ARRAY) {
        char **items = (char **) at;
        size_t *count = (size_t *) ((char *) base + field->count_offset);
        for (size_t i = 0; i < *count; i++)
            s_free_object (field->sub, *items + i * field->sub->size);
        free (*items);
        *items = NULL;
        *count = 0;
    }
}

static void
s_free_object (const s_schema_t *schema, void *base)
{
    for (size_t i = 0; i < schema->n_fields; i++)
        s_free_field (&schema->fields[i], base);
}

/* Fills BASE (zeroed) with the defaults. Returns 0, or -1 when out of memory. */
static int
s_defaults (const s_schema_t *schema, void *base)
{
    for (size_t i = 0; i < schema->n_fields; i++) {
        const s_field_t *field = &schema->fields[i];
        char *at = (char *) base + field->offset;
        switch (field->kind) {
        case S_STRING:
            if (field->text && !(*(char **) at = strdup (field->text)))
                return -1;
            break;
        case S_INT: *(int *) at = (int) field->number; break;
        case S_SIZE: *(size_t *) at = (size_t) field->number; break;
        case S_U64: *(uint64_t *) at = (uint64_t) field->number; break;
        case S_SEED:
            *(uint64_t *) at = 0;
            *(bool *) ((char *) base + field->count_offset) = false;
            break;
        case S_DOUBLE:
            *(double *) at = field->number;
            if (field->flags & (S_DBL_NULL | S_DBL_AUTO))
                *(bool *) ((char *) base + field->count_offset) = false;
            break;
        case S_BOOL: *(bool *) at = field->number != 0; break;
        case S_OBJECT:
            if (s_defaults (field->sub, at) != 0)
                return -1;
            break;
        default: break;      /* lists and arrays start empty */
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- reading */

static void s_read_object (s_ctx_t *ctx, const s_schema_t *schema,
                           const json_t *object, void *base, const char *path);

static void
s_read_string (s_ctx_t *ctx, const s_field_t *field, const json_t *value,
               char **at, const char *path)
{
    if (json_is_null (value) && (field->flags & S_NULLABLE)) {
        free (*at);
        *at = NULL;
        return;
    }
    if (!json_is_string (value)
        || ((field->flags & S_NONEMPTY) && json_string_length (value) == 0)) {
        s_type_error (ctx, path, field, value);
        return;
    }
    const char *text = json_string_value (value);
    char shown[96], why[512];
    toa_json_show (value, shown, sizeof shown);
    if (field->check && !field->check (text, (field->flags & S_SECRET) ? NULL : shown,
                                       why, sizeof why)) {
        s_fail (ctx, path, "%s", why);
        return;
    }
    char *copy = strdup (text);
    if (!copy) {
        s_fail (ctx, path, "out of memory");
        return;
    }
    free (*at);
    *at = copy;
}

static void
s_read_strings (s_ctx_t *ctx, const s_field_t *field, const json_t *value,
                void *base, const char *path)
{
    char ***list = (char ***) ((char *) base + field->offset);
    size_t *count = (size_t *) ((char *) base + field->count_offset);
    bool one = json_is_string (value)
               && (field->flags & (S_ONE_STRING | S_STRING_ONLY));
    if (!one && (!json_is_array (value) || (field->flags & S_STRING_ONLY)
                 || ((field->flags & S_NONEMPTY_LIST) && json_array_size (value) == 0))) {
        s_type_error (ctx, path, field, value);
        return;
    }
    size_t n = one ? 1 : json_array_size (value);
    char **strings = calloc (n ? n : 1, sizeof *strings);
    if (!strings) {
        s_fail (ctx, path, "out of memory");
        return;
    }
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = one ? value : json_array_get (value, i);
        char item_path[S_PATH_MAX];
        if (one)
            toa_format_reason (item_path, sizeof item_path, "%s", path);
        else
            s_index (item_path, path, i);
        if (!json_is_string (item)
            || ((field->flags & S_NONEMPTY) && json_string_length (item) == 0)) {
            char got[96];
            toa_json_show (item, got, sizeof got);
            s_fail (ctx, item_path, "must be a%s string, got %s",
                    (field->flags & S_NONEMPTY) ? " non-empty" : "", got);
            continue;
        }
        char shown[96], why[512];
        toa_json_show (item, shown, sizeof shown);
        if (field->check && !field->check (json_string_value (item), shown, why,
                                           sizeof why)) {
            s_fail (ctx, item_path, "%s", why);
            continue;
        }
        if (!(strings[good++] = strdup (json_string_value (item)))) {
            s_fail (ctx, item_path, "out of memory");
            good--;
        }
    }
    s_free_list (list, count);
    *list = strings;
    *count = good;
}

static void
s_read_array (s_ctx_t *ctx, const s_field_t *field, const json_t *value,
              void *base, const char *path)
{
    char **items = (char **) ((char *) base + field->offset);
    size_t *count = (size_t *) ((char *) base + field->count_offset);
    if (!json_is_array (value)) {
        s_type_error (ctx, path, field, value);
        return;
    }
    size_t n = json_array_size (value);
    char *array = calloc (n ? n : 1, field->sub->size);
    if (!array) {
        s_fail (ctx, path, "out of memory");
        return;
    }
    s_free_field (field, base);
    *items = array;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        char item_path[S_PATH_MAX];
        s_index (item_path, path, i);
        if (s_defaults (field->sub, array + i * field->sub->size) != 0)
            s_fail (ctx, item_path, "out of memory");
        else
            s_read_object (ctx, field->sub, json_array_get (value, i),
                           array + i * field->sub->size, item_path);
    }
}

/* Reads an integer into its struct member after the range check. */
static void
s_read_integer (s_ctx_t *ctx, const s_field_t *field, const json_t *value,
                void *base, const char *path)
{
    char *at = (char *) base + field->offset;
    if (field->kind == S_SEED && json_is_null (value)) {
        *(bool *) ((char *) base + field->count_offset) = false;
        return;
    }
    if (!json_is_integer (value)) {
        s_type_error (ctx, path, field, value);
        return;
    }
    json_int_t number = json_integer_value (value);
    if ((double) number < field->min
        || (field->max < S_NO_MAX && (double) number > field->max)) {
        s_type_error (ctx, path, field, value);
        return;
    }
    if (field->kind == S_INT && number > INT_MAX) {
        s_fail (ctx, path, "must be at most %d, got %lld", INT_MAX, (long long) number);
        return;
    }
    if (field->kind == S_INT)
        *(int *) at = (int) number;
    else if (field->kind == S_SIZE)
        *(size_t *) at = (size_t) number;
    else
        *(uint64_t *) at = (uint64_t) number;
    if (field->kind == S_SEED)
        *(bool *) ((char *) base + field->count_offset) = true;
}

static void
s_read_field (s_ctx_t *ctx, const s_field_t *field, const json_t *value,
              void *base, const char *path)
{
    char *at = (char *) base + field->offset;
    switch (field->kind) {
    case S_STRING:
        s_read_string (ctx, field, value, (char **) at, path);
        break;
    case S_DOUBLE: {
        double number = json_is_number (value) ? json_number_value (value) : NAN;
        bool *flag = (bool *) ((char *) base + field->count_offset);
        if ((field->flags & S_DBL_NULL) && json_is_null (value)) {
            *flag = false;
            break;
        }
        if ((field->flags & S_DBL_AUTO) && json_is_string (value)
            && strcmp (json_string_value (value), "auto") == 0) {
            *flag = true;
            break;
        }
        if (field->flags & (S_DBL_NULL | S_DBL_AUTO))
            *flag = (field->flags & S_DBL_NULL) && json_is_number (value);
        if (!json_is_number (value) || number < field->min
            || (number == field->min && (field->flags & S_MIN_OPEN))
            || number > field->max)
            s_type_error (ctx, path, field, value);
        else
            *(double *) at = number;
        break;
    }
    case S_BOOL:
        if (json_is_boolean (value))
            *(bool *) at = json_is_true (value);
        else
            s_type_error (ctx, path, field, value);
        break;
    case S_STRINGS:
        s_read_strings (ctx, field, value, base, path);
        break;
    case S_OBJECT:
        s_read_object (ctx, field->sub, value, at, path);
        break;
    case S_ARRAY:
        s_read_array (ctx, field, value, base, path);
        break;
    default:
        s_read_integer (ctx, field, value, base, path);
        break;
    }
}

/* Reads the members of OBJECT into BASE; unknown keys and missing required
 * fields are errors. Keys starting with "_" are comments. */
static void
s_read_object (s_ctx_t *ctx, const s_schema_t *schema, const json_t *object,
               void *base, const char *path)
{
    if (!json_is_object (object)) {
        char got[96];
        toa_json_show (object, got, sizeof got);
        if (*path)
            s_fail (ctx, path, "must be an object, got %s", got);
        else
            s_fail (ctx, path, "the top level must be a JSON object, got %s", got);
        return;
    }
    const char *key;
    json_t *value;
    char child[S_PATH_MAX];
    json_object_foreach ((json_t *) object, key, value) {
        if (key[0] == '_' || s_find_field (schema, key))
            continue;
        char hint[96];
        s_suggest (schema, key, hint, sizeof hint);
        s_join (child, path, key);
        s_fail (ctx, child, "unknown field%s", hint);
    }
    for (size_t i = 0; i < schema->n_fields; i++) {
        const s_field_t *field = &schema->fields[i];
        s_join (child, path, field->name);
        json_t *member = json_object_get (object, field->name);
        if (member)
            s_read_field (ctx, field, member, base, child);
        else if (field->flags & S_REQUIRED)
            s_fail (ctx, child, "required field missing");
    }
}

/* ------------------------------------------------ rules across fields */

static bool
s_contains (const char *text, const char *needle)
{
    return text && strstr (text, needle);
}

static void
s_rules_models (s_ctx_t *ctx, toa_config_t *config, const json_t *root)
{
    const json_t *array = json_object_get (root, "models");
    char path[S_PATH_MAX];
    for (size_t i = 0; i < config->n_models; i++) {
        toa_model_config_t *model = &config->models[i];
        const json_t *object = json_array_get (array, i);
        if (!json_is_object (object))
            continue;
        bool one = json_object_get (object, "base_url") != NULL;
        bool many = json_object_get (object, "base_urls") != NULL;
        if (one && many) {
            s_index (path, "models", i);
            s_fail (ctx, path, "give base_url or base_urls, not both");
        }
        else if (!one && !many) {
            toa_format_reason (path, sizeof path, "models[%zu].base_url", i);
            s_fail (ctx, path, "required field missing (or give base_urls)");
        }
        if (!model->model_id && model->name
            && !(model->model_id = strdup (model->name)))
            s_fail (ctx, "", "out of memory");
        for (size_t j = 0; j < i && model->name; j++) {
            if (config->models[j].name
                && strcmp (config->models[j].name, model->name) == 0) {
                toa_format_reason (path, sizeof path, "models[%zu].name", i);
                s_fail (ctx, path, "duplicate model name '%s' (also models[%zu])",
                        model->name, j);
                break;
            }
        }
    }
}

static void
s_rules_reward (s_ctx_t *ctx, toa_config_t *config)
{
    toa_reward_config_t *reward = &config->reward;
    const char *backend = reward->backend;
    bool http = s_one_of (backend, s_backends, 4);   /* the first four call out */
    if (http && !reward->url)
        s_fail (ctx, "reward.url", "required by backend '%s'", backend);
    if (strcmp (backend, "llm-judge") == 0 && !reward->model_id)
        s_fail (ctx, "reward.model_id", "required by backend 'llm-judge'");
    if (!reward->reference_field) {
        const char *field = toa_default_reference_field (backend);
        if (field && !(reward->reference_field = strdup (field)))
            s_fail (ctx, "", "out of memory");
    }
    if (!s_contains (reward->query_template, "{response}"))
        s_fail (ctx, "reward.query_template", "must contain {response}");
    if (!s_contains (reward->judge_template, "{response}"))
        s_fail (ctx, "reward.judge_template", "must contain {response}");
    else if (s_contains (reward->judge_template, "{scale_max}")) {
        char scale[32];
        toa_format_reason (scale, sizeof scale, "%g", reward->judge_scale_max);
        const char *name = "scale_max", *value = scale;
        char *filled = toa_template_render (reward->judge_template, &name, &value, 1);
        if (!filled)
            s_fail (ctx, "", "out of memory");
        else {
            free (reward->judge_template);
            reward->judge_template = filled;
        }
    }
}

static void
s_rules_method (s_ctx_t *ctx, toa_config_t *config)
{
    toa_method_config_t *method = &config->method;
    if (method->width > 0 && strcmp (method->name, "toa") == 0
        && (size_t) method->width < config->n_models)
        s_fail (ctx, "method.width", "width %d is below the number of models (%zu)",
                method->width, config->n_models);
    if (method->prs_model && !toa_config_model (config, method->prs_model))
        s_fail (ctx, "method.prs_model", "'%s' is not the name of a model in models",
                method->prs_model);
    if (!method->prs_model && config->n_models > 0 && config->models[0].name
        && !(method->prs_model = strdup (config->models[0].name)))
        s_fail (ctx, "", "out of memory");
    if (method->moa_aggregate == 0)
        method->moa_aggregate = (int) config->n_models;
    if (!s_contains (config->templates.refine, "{response}"))
        s_fail (ctx, "templates.refine", "must contain {response}");
    if (!s_contains (config->templates.aggregate, "{responses}"))
        s_fail (ctx, "templates.aggregate", "must contain {responses}");
}

static void
s_rules_sim (s_ctx_t *ctx, toa_config_t *config)
{
    toa_sim_config_t *sim = &config->sim;
    char path[S_PATH_MAX];
    for (size_t i = 0; i < sim->n_models; i++) {
        toa_sim_model_config_t *model = &sim->models[i];
        double faults = model->fault_500 + model->fault_429 + model->fault_hang
                        + model->fault_malformed + model->fault_overload
                        + model->fault_bad_request;
        if (faults > 1.0 + 1e-9) {
            toa_format_reason (path, sizeof path, "simllm.models[%zu].faults", i);
            s_fail (ctx, path, "the rates add up to %g; they must add up to at most 1",
                    faults);
        }
        if (model->jitter_ms > model->latency_ms) {
            toa_format_reason (path, sizeof path, "simllm.models[%zu].jitter_ms", i);
            s_fail (ctx, path, "%g is above latency_ms %g (a delay would be negative)",
                    model->jitter_ms, model->latency_ms);
        }
        for (size_t j = 0; j < i && model->model_id; j++) {
            if (sim->models[j].model_id
                && strcmp (sim->models[j].model_id, model->model_id) == 0) {
                toa_format_reason (path, sizeof path, "simllm.models[%zu].model_id", i);
                s_fail (ctx, path, "duplicate model_id '%s' (also simllm.models[%zu])",
                        model->model_id, j);
                break;
            }
        }
    }
    if (sim->n_models == 0)
        return;
    for (size_t i = 0; i < config->n_models; i++) {
        const toa_model_config_t *model = &config->models[i];
        if (!model->simulated || !model->model_id)
            continue;
        bool served = false;
        for (size_t j = 0; j < sim->n_models && !served; j++)
            served = sim->models[j].model_id
                     && strcmp (sim->models[j].model_id, model->model_id) == 0;
        if (!served) {
            toa_format_reason (path, sizeof path, "models[%zu].model_id", i);
            s_fail (ctx, path, "simulated model '%s' is not in simllm.models",
                    model->model_id);
        }
    }
}

static void
s_rules_all (s_ctx_t *ctx, toa_config_t *config, const json_t *root)
{
    if (config->broker.client_endpoint && config->broker.worker_endpoint
        && strcmp (config->broker.client_endpoint, config->broker.worker_endpoint) == 0)
        s_fail (ctx, "broker.worker_endpoint", "must differ from client_endpoint");
    if (config->redis.password_env && config->redis.password_file)
        s_fail (ctx, "redis.password_file", "give password_env or password_file, not both");
    s_rules_models (ctx, config, root);
    s_rules_reward (ctx, config);
    s_rules_method (ctx, config);
    s_rules_sim (ctx, config);
}

/* ------------------------------------------------------------- overrides */

/* Names whose values are never repeated in messages. */
static bool
s_secret_name (const char *text)
{
    static const char *const words[] = {"api_key", "apikey", "password",
                                        "passwd", "secret", "auth"};
    char lower[S_PATH_MAX];
    size_t length = 0;
    for (; text[length] && length + 1 < sizeof lower; length++)
        lower[length] = (char) tolower ((unsigned char) text[length]);
    lower[length] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr (lower, words[i]))
            return true;
    return false;
}

/* One step of an override path: a key, or an index. */
typedef struct {
    char key[128];
    bool is_index;
    size_t index;
} s_step_t;

/* Splits "models[0].base_urls.1" into steps. Returns the count, or -1 with
 * REASON. */
static int
s_split_path (const char *path, s_step_t *steps, size_t max_steps,
              char *reason, size_t size)
{
    size_t n = 0;
    const char *cursor = path;
    if (!*cursor) {
        toa_format_reason (reason, size, "the path is empty");
        return -1;
    }
    while (*cursor) {
        size_t length = strcspn (cursor, ".[");
        if (n + 1 >= max_steps) {
            toa_format_reason (reason, size, "the path is too deep");
            return -1;
        }
        if (length == 0 && *cursor != '[') {
            toa_format_reason (reason, size, "the path has an empty part");
            return -1;
        }
        if (length > 0) {
            if (length >= sizeof steps[n].key) {
                toa_format_reason (reason, size, "a name in the path is too long");
                return -1;
            }
            memcpy (steps[n].key, cursor, length);
            steps[n].key[length] = '\0';
            steps[n].is_index = strspn (steps[n].key, "0123456789") == length;
            steps[n].index = steps[n].is_index ? strtoul (steps[n].key, NULL, 10) : 0;
            n++;
            cursor += length;
        }
        while (*cursor == '[') {
            char *end = NULL;
            if (n + 1 >= max_steps) {
                toa_format_reason (reason, size, "the path is too deep");
                return -1;
            }
            if (cursor[1] >= '0' && cursor[1] <= '9')
                steps[n].index = strtoul (cursor + 1, &end, 10);
            if (!end || *end != ']') {
                toa_format_reason (reason, size, "an index must be [N] with N a number");
                return -1;
            }
            steps[n].is_index = true;
            toa_format_reason (steps[n].key, sizeof steps[n].key, "%zu", steps[n].index);
            n++;
            cursor = end + 1;
        }
        if (*cursor == '.') {
            cursor++;
            if (!*cursor) {
                toa_format_reason (reason, size, "the path ends with '.'");
                return -1;
            }
        }
        else if (*cursor) {
            toa_format_reason (reason, size, "expected '.' or '[' after ']'");
            return -1;
        }
    }
    return (int) n;
}

/* The override's value: JSON when it parses, else the text. A string field
 * takes the text as it is unless the JSON is a string (or null, if allowed). */
static json_t *
s_override_value (const char *text, const s_field_t *field, bool list_item)
{
    json_error_t error;
    json_t *value = json_loads (text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    bool wants_string = list_item || (field && field->kind == S_STRING)
                        || (field && (field->flags & S_STRING_ONLY));
    if (value && wants_string && !json_is_string (value)
        && !(json_is_null (value) && field && (field->flags & S_NULLABLE))) {
        json_decref (value);
        value = NULL;
    }
    return value ? value : json_string (text);
}

/* Stores VALUE (taken) at KEY of OBJECT; base_url and base_urls replace
 * each other. */
static int
s_override_set_key (json_t *object, const char *key, json_t *value)
{
    if (strcmp (key, "base_url") == 0)
        json_object_del (object, "base_urls");
    else if (strcmp (key, "base_urls") == 0)
        json_object_del (object, "base_url");
    return json_object_set_new (object, key, value);
}

/* Where an override's path has got to. */
typedef struct {
    const s_schema_t *schema;    /* inside an object: its fields; NULL in an array */
    const s_field_t *field;      /* the field named last */
    json_t *node;                /* the object or array stepped into */
    char path[S_PATH_MAX];       /* the normalized path so far */
    bool secret;                 /* the path names a secret */
} s_walk_t;

static const char *
s_walk_here (const s_walk_t *walk)
{
    return *walk->path ? walk->path : "the top level";
}

/* One key inside an object. Returns 1 when the value is stored (LAST), 0 to
 * go on, -1 with REASON. */
static int
s_walk_key (s_walk_t *walk, const s_step_t *step, bool last, const char *text,
            char *reason, size_t size)
{
    if (step->is_index) {
        toa_format_reason (reason, size, "%s is an object, not an array", s_walk_here (walk));
        return -1;
    }
    const s_field_t *field = s_find_field (walk->schema, step->key);
    if (!field) {
        char hint[96];
        s_suggest (walk->schema, step->key, hint, sizeof hint);
        toa_format_reason (reason, size, "%s has no field '%s'%s", s_walk_here (walk), step->key,
                 hint);
        return -1;
    }
    char joined[S_PATH_MAX];
    s_join (joined, walk->path, step->key);
    memcpy (walk->path, joined, S_PATH_MAX);
    walk->field = field;
    walk->secret = walk->secret || (field->flags & S_SECRET);
    if (last) {
        json_t *value = s_override_value (text, field, false);
        if (!value || s_override_set_key (walk->node, step->key, value) != 0) {
            toa_format_reason (reason, size, "out of memory");
            return -1;
        }
        return 1;
    }
    bool object = field->kind == S_OBJECT;
    if (!object && field->kind != S_ARRAY && field->kind != S_STRINGS) {
        toa_format_reason (reason, size, "%s is not an object or an array", walk->path);
        return -1;
    }
    json_t *child = json_object_get (walk->node, step->key);
    if (!child) {                /* a section the file lacks */
        child = object ? json_object () : json_array ();
        if (!child || s_override_set_key (walk->node, step->key, child) != 0) {
            toa_format_reason (reason, size, "out of memory");
            return -1;
        }
    }
    if (object ? !json_is_object (child) : !json_is_array (child)) {
        toa_format_reason (reason, size, "%s in the file is not %s", walk->path,
                 object ? "an object" : "an array");
        return -1;
    }
    walk->node = child;
    walk->schema = object ? field->sub : NULL;
    return 0;
}

/* One index inside an array; the index one past the end appends, as the
 * last step only. Returns as s_walk_key. */
static int
s_walk_index (s_walk_t *walk, const s_step_t *step, bool last, const char *text,
              char *reason, size_t size)
{
    if (!step->is_index) {
        toa_format_reason (reason, size, "%s is an array: index it as %s[N]", walk->path,
                 walk->path);
        return -1;
    }
    size_t count = json_array_size (walk->node);
    if (step->index > count || (step->index == count && !last)) {
        toa_format_reason (reason, size, "index %zu is out of range (%s has %zu element%s)",
                 step->index, walk->path, count, count == 1 ? "" : "s");
        return -1;
    }
    char indexed[S_PATH_MAX];
    s_index (indexed, walk->path, step->index);
    memcpy (walk->path, indexed, S_PATH_MAX);
    bool strings = walk->field->kind == S_STRINGS;
    if (last) {
        json_t *value = s_override_value (text, strings ? walk->field : NULL, strings);
        int rc = step->index == count ? json_array_append_new (walk->node, value)
                                      : json_array_set_new (walk->node, step->index, value);
        if (rc != 0) {
            toa_format_reason (reason, size, "out of memory");
            return -1;
        }
        return 1;
    }
    json_t *child = json_array_get (walk->node, step->index);
    if (strings || !json_is_object (child)) {
        toa_format_reason (reason, size, strings ? "%s is a string, it has no fields"
                                       : "%s in the file is not an object", walk->path);
        return -1;
    }
    walk->node = child;
    walk->schema = walk->field->sub;
    return 0;
}

/* Applies one "path=value" to ROOT, checking the path against the schema.
 * Returns 0 with the normalized path in WALK, or -1 with REASON. */
static int
s_apply_override (json_t *root, const char *path, const char *text, s_walk_t *walk,
                  char *reason, size_t size)
{
    s_step_t steps[16];
    int n = s_split_path (path, steps, 16, reason, size);
    walk->schema = &s_root_schema;
    walk->node = root;
    *walk->path = '\0';
    for (int i = 0; i < n; i++) {
        int rc = walk->schema ? s_walk_key (walk, &steps[i], i == n - 1, text, reason, size)
                              : s_walk_index (walk, &steps[i], i == n - 1, text, reason,
                                              size);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
    }
    return -1;                   /* only when the path did not split */
}

/* Applies every override; the paths they set go into CTX for messages. */
static void
s_apply_overrides (s_ctx_t *ctx, json_t *root, const char *const *overrides,
                   size_t n_overrides)
{
    ctx->override_paths = calloc (n_overrides ? n_overrides : 1, sizeof (char *));
    ctx->override_shown = calloc (n_overrides ? n_overrides : 1, sizeof (char *));
    if (!ctx->override_paths || !ctx->override_shown) {
        s_fail (ctx, "", "out of memory");
        return;
    }
    ctx->n_overrides = n_overrides;
    for (size_t i = 0; i < n_overrides; i++) {
        const char *text = overrides[i] ? overrides[i] : "";
        const char *equals = strchr (text, '=');
        char path[S_PATH_MAX], reason[512];
        size_t path_length = equals ? (size_t) (equals - text) : strlen (text);
        toa_format_reason (path, sizeof path, "%.*s", (int) path_length, text);
        s_walk_t walk = {.secret = s_secret_name (path)};
        int rc = -1;
        if (!equals)
            toa_format_reason (reason, sizeof reason, "expected path.to.field=value");
        else if (path_length >= sizeof path)
            toa_format_reason (reason, sizeof reason, "the path is too long");
        else
            rc = s_apply_override (root, path, equals + 1, &walk, reason, sizeof reason);
        char shown[S_PATH_MAX + 16];
        if (equals && (walk.secret || strchr (equals + 1, '@')))   /* user:pw@host */
            toa_format_reason (shown, sizeof shown, "%s=(hidden)", path);
        else
            toa_format_reason (shown, sizeof shown, "%.*s", S_PATH_MAX, text);
        ctx->override_shown[i] = strdup (shown);
        if (rc == 0)
            ctx->override_paths[i] = strdup (walk.path);
        else {
            ctx->failed++;
            toa_errors_add (ctx->errors, "override '%s': %s", shown, reason);
        }
    }
}

/* --------------------------------------------------- the effective JSON */

static json_t *s_write_object (const s_schema_t *schema, const void *base);

static json_t *
s_write_field (const s_field_t *field, const void *base)
{
    const char *at = (const char *) base + field->offset;
    const void *count_at = (const char *) base + field->count_offset;
    switch (field->kind) {
    case S_STRING: {
        const char *text = *(char *const *) at;
        return text ? json_string (text) : json_null ();
    }
    case S_INT: return json_integer (*(const int *) at);
    case S_SIZE: return json_integer ((json_int_t) *(const size_t *) at);
    case S_U64: return json_integer ((json_int_t) *(const uint64_t *) at);
    case S_SEED:
        return *(const bool *) count_at ? json_integer ((json_int_t) *(const uint64_t *) at)
                                        : json_null ();
    case S_DOUBLE:
        if ((field->flags & S_DBL_NULL) && !*(const bool *) count_at)
            return json_null ();
        if ((field->flags & S_DBL_AUTO) && *(const bool *) count_at)
            return json_string ("auto");
        return json_real (*(const double *) at);
    case S_BOOL: return json_boolean (*(const bool *) at);
    case S_OBJECT: return s_write_object (field->sub, at);
    case S_STRINGS: {
        json_t *array = json_array ();
        char *const *strings = *(char **const *) at;
        for (size_t i = 0; array && i < *(const size_t *) count_at; i++)
            if (json_array_append_new (array, json_string (strings[i])) != 0) {
                json_decref (array);
                return NULL;
            }
        return array;
    }
    case S_ARRAY: {
        json_t *array = json_array ();
        const char *items = *(const char *const *) at;
        for (size_t i = 0; array && i < *(const size_t *) count_at; i++)
            if (json_array_append_new (array, s_write_object (
                    field->sub, items + i * field->sub->size)) != 0) {
                json_decref (array);
                return NULL;
            }
        return array;
    }
    }
    return NULL;
}

static json_t *
s_write_object (const s_schema_t *schema, const void *base)
{
    json_t *object = json_object ();
    for (size_t i = 0; object && i < schema->n_fields; i++) {
        const s_field_t *field = &schema->fields[i];
        if (field->flags & S_ALIAS)
            continue;
        if (json_object_set_new (object, field->name, s_write_field (field, base)) != 0) {
            json_decref (object);
            return NULL;
        }
    }
    return object;
}

/* ------------------------------------------------------------ public API */

/* Builds the config from ROOT (taken). */
static toa_config_t *
s_build (json_t *root, const char *name, const char *const *overrides,
         size_t n_overrides, toa_errors_t *errors)
{
    s_ctx_t ctx = {.name = name, .errors = errors};
    toa_config_t *config = calloc (1, sizeof *config);
    if (!config || s_defaults (&s_root_schema, config) != 0) {
        toa_errors_add (errors, "%s: out of memory", name);
        toa_config_destroy (&config);
        json_decref (root);
        return NULL;
    }
    if (!json_is_object (root))
        s_read_object (&ctx, &s_root_schema, root, config, "");
    else {
        s_apply_overrides (&ctx, root, overrides, n_overrides);
        s_read_object (&ctx, &s_root_schema, root, config, "");
        s_rules_all (&ctx, config, root);
    }
    for (size_t i = 0; i < ctx.n_overrides; i++) {
        free (ctx.override_paths[i]);
        free (ctx.override_shown[i]);
    }
    free (ctx.override_paths);
    free (ctx.override_shown);
    json_decref (root);
    if (ctx.failed == 0) {
        config->path = strdup (name);
        config->root = s_write_object (&s_root_schema, config);
        if (!config->path || !config->root) {
            toa_errors_add (errors, "%s: out of memory", name);
            ctx.failed++;
        }
    }
    if (ctx.failed > 0)
        toa_config_destroy (&config);
    return config;
}

static toa_config_t *
s_parse (const char *text, size_t length, const char *name,
         const char *const *overrides, size_t n_overrides, toa_errors_t *errors)
{
    json_error_t error;
    json_t *root = json_loadb (text, length, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        toa_errors_add (errors, "%s:%d:%d: JSON syntax error: %s", name, error.line,
                        error.column, error.text);
        return NULL;
    }
    return s_build (root, name, overrides, n_overrides, errors);
}

toa_config_t *
toa_config_load (const char *path, const char *const *overrides, size_t n_overrides,
                 toa_errors_t *errors)
{
    toa_errors_t scratch = TOA_ERRORS_INIT;
    toa_errors_t *list = errors ? errors : &scratch;
    toa_config_t *config = NULL;
    if (!path) {
        json_t *root = json_object ();
        if (root)
            config = s_build (root, "<defaults>", overrides, n_overrides, list);
        else
            toa_errors_add (list, "<defaults>: out of memory");
    }
    else {
        size_t length = 0;
        char *text = toa_read_file (path, &length);
        if (!text)
            toa_errors_add (list, "%s: cannot read: %s", path, strerror (errno));
        else
            config = s_parse (text, length, path, overrides, n_overrides, list);
        free (text);
    }
    toa_errors_clear (&scratch);
    return config;
}

toa_config_t *
toa_config_parse (const char *text, const char *name, const char *const *overrides,
                  size_t n_overrides, toa_errors_t *errors)
{
    toa_errors_t scratch = TOA_ERRORS_INIT;
    toa_errors_t *list = errors ? errors : &scratch;
    toa_config_t *config = s_parse (text ? text : "", text ? strlen (text) : 0,
                                    name ? name : "<config>", overrides,
                                    n_overrides, list);
    toa_errors_clear (&scratch);
    return config;
}

void
toa_config_destroy (toa_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_config_t *self = *self_p;
    s_free_object (&s_root_schema, self);
    free (self->path);
    json_decref (self->root);
    free (self);
    *self_p = NULL;
}

const toa_model_config_t *
toa_config_model (const toa_config_t *self, const char *name)
{
    for (size_t i = 0; self && name && i < self->n_models; i++)
        if (self->models[i].name && strcmp (self->models[i].name, name) == 0)
            return &self->models[i];
    return NULL;
}

int
toa_config_method_width (const toa_method_config_t *method, size_t n_models)
{
    if (method->width > 0)
        return method->width;
    size_t width = n_models * (size_t) method->samples / 3;
    if (width < n_models)
        width = n_models;
    if (width < 1)
        width = 1;
    return width > INT_MAX ? INT_MAX : (int) width;
}

int
toa_config_effective_width (const toa_config_t *self)
{
    return toa_config_method_width (&self->method, self->n_models);
}

const char *
toa_config_api_key (const char *api_key_env)
{
    if (!api_key_env || !*api_key_env)
        return NULL;
    const char *value = getenv (api_key_env);
    return value && *value ? value : NULL;
}

int
toa_config_redis_password (const toa_config_t *self, char **password, toa_errors_t *errors)
{
    *password = NULL;
    const toa_redis_config_t *redis = &self->redis;
    if (redis->password_env) {
        const char *value = getenv (redis->password_env);
        if (!value || !*value) {
            toa_errors_add (errors, "%s: redis.password_env: environment variable %s is not set",
                            self->path, redis->password_env);
            return -1;
        }
        *password = toa_strdup (value);
        return *password ? 0 : -1;
    }
    if (!redis->password_file)
        return 0;
    struct stat info;
    errno = 0;
    if (stat (redis->password_file, &info) != 0 || !S_ISREG (info.st_mode)) {
        toa_errors_add (errors, "%s: redis.password_file: %s: %s", self->path,
                        redis->password_file, errno ? strerror (errno) : "not a regular file");
        return -1;
    }
    if (info.st_mode & 007) {
        toa_errors_add (errors, "%s: redis.password_file: %s: readable by every user "
                        "(mode %04o); chmod 600 it", self->path, redis->password_file,
                        (unsigned) (info.st_mode & 07777));
        return -1;
    }
    size_t length = 0;
    char *text = toa_read_file (redis->password_file, &length);
    if (!text) {
        toa_errors_add (errors, "%s: redis.password_file: %s: %s", self->path,
                        redis->password_file, strerror (errno));
        return -1;
    }
    size_t end = strcspn (text, "\r\n");
    if (end == 0) {
        toa_errors_add (errors, "%s: redis.password_file: %s: empty", self->path,
                        redis->password_file);
        free (text);
        return -1;
    }
    memset (text + end, 0, length - end);
    *password = text;
    return 0;
}
