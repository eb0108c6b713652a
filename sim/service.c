/* service.c - toa-simllm's answers, without the HTTP (see service.h). */
#include "sim/service.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "sim/chat.h"
#include "sim/prefix_cache.h"
#include "sim/personality.h"
#include "sim/reward.h"
#include "sim/tokens.h"

struct toa_sim_service_s {
    const toa_sim_config_t *config;
    const toa_sim_knowledge_t *knowledge;
    uint64_t seed;
    atomic_uint_least64_t draws;     /* per-request streams handed out */
    toa_sim_stats_t *stats;
    toa_sim_sched_t *sched;
    const char **model_ids;
    toa_sim_personality_t *personalities;    /* per model */
    toa_sim_prefix_cache_t **prefix_caches;  /* per model; NULL: no prefix cache */
    char *models_body;               /* GET /v1/models, made once */
};

static const char *
s_model_id (const toa_sim_model_config_t *model)
{
    return model->model_id ? model->model_id : "";
}

toa_sim_service_t *
toa_sim_service_new (const toa_sim_config_t *config, const toa_sim_knowledge_t *knowledge,
                     uint64_t seed)
{
    toa_sim_service_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->knowledge = knowledge;
    self->seed = seed;
    self->stats = toa_sim_stats_new (config->n_models);
    self->model_ids = calloc (config->n_models ? config->n_models : 1, sizeof *self->model_ids);
    self->personalities = calloc (config->n_models ? config->n_models : 1,
                                  sizeof *self->personalities);
    for (size_t i = 0; self->personalities && i < config->n_models; i++)
        if (toa_sim_personality_parse (config->models[i].personality,
                                       &self->personalities[i]) != 0)
            self->personalities[i] = TOA_SIM_OPENAI;     /* config.c checked the names */
    self->prefix_caches = calloc (config->n_models ? config->n_models : 1,
                                  sizeof *self->prefix_caches);
    bool caches_ok = self->prefix_caches != NULL;
    for (size_t i = 0; caches_ok && i < config->n_models; i++)
        if (config->models[i].prefix_cache_share > 0)
            caches_ok = (self->prefix_caches[i] = toa_sim_prefix_cache_new (
                             (size_t) config->models[i].prefix_cache_blocks)) != NULL;
    json_t *data = json_array ();
    int64_t created = (int64_t) time (NULL);
    for (size_t i = 0; data && self->model_ids && i < config->n_models; i++) {
        self->model_ids[i] = s_model_id (&config->models[i]);
        json_array_append_new (data, json_pack ("{s:s, s:s, s:I, s:s}", "id",
                                                self->model_ids[i], "object", "model",
                                                "created", (json_int_t) created,
                                                "owned_by", "toa-simllm"));
    }
    json_t *root = data ? json_pack ("{s:s, s:o}", "object", "list", "data", data) : NULL;
    self->models_body = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!self->stats || !self->model_ids || !self->personalities || !self->models_body
        || !caches_ok)
        toa_sim_service_destroy (&self);
    return self;
}

void
toa_sim_service_destroy (toa_sim_service_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_sim_service_t *self = *self_p;
    toa_sim_stats_destroy (&self->stats);
    free (self->model_ids);
    free (self->personalities);
    for (size_t i = 0; self->prefix_caches && i < self->config->n_models; i++)
        toa_sim_prefix_cache_destroy (&self->prefix_caches[i]);
    free (self->prefix_caches);
    free (self->models_body);
    free (self);
    *self_p = NULL;
}

/* GET /stats: the counters, plus each prefix cache's lookups and mean
 * cached share under models.<id>.prefix_cache. */
static json_t *
s_stats_json (toa_sim_service_t *self)
{
    json_t *root = toa_sim_stats_json (self->stats, self->model_ids, self->sched);
    json_t *models = json_object_get (root, "models");
    for (size_t i = 0; json_is_object (models) && i < self->config->n_models; i++) {
        if (!self->prefix_caches[i])
            continue;
        long lookups;
        double cached;
        toa_sim_prefix_cache_stats (self->prefix_caches[i], &lookups, &cached);
        json_object_set_new (json_object_get (models, self->model_ids[i]), "prefix_cache",
                             json_pack ("{s:I, s:f}", "lookups", (json_int_t) lookups,
                                        "mean_cached", lookups ? cached / lookups : 0.0));
    }
    return root;
}

void
toa_sim_service_attach_sched (toa_sim_service_t *self, toa_sim_sched_t *sched)
{
    self->sched = sched;
}

int
toa_sim_service_model_index (const toa_sim_service_t *self, const char *model_id)
{
    for (size_t i = 0; model_id && i < self->config->n_models; i++)
        if (strcmp (self->model_ids[i], model_id) == 0)
            return (int) i;
    return -1;
}

void
toa_sim_reply_clear (toa_sim_reply_t *reply)
{
    if (!reply)
        return;
    free (reply->body);
    reply->body = NULL;
    reply->body_length = 0;
}

/* Sets REPLY to STATUS with BODY (taken over; NULL: out of memory, which
 * makes it a 500 and returns -1). */
static int
s_reply_body (toa_sim_reply_t *reply, int status, char *body)
{
    reply->status = body ? status : 500;
    free (reply->body);
    reply->body = body;
    reply->body_length = body ? strlen (body) : 0;
    return body ? 0 : -1;
}

int
toa_sim_reply_json (toa_sim_reply_t *reply, int status, json_t *root)
{
    char *body = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    return s_reply_body (reply, status, body);
}

static int
s_reply_text (toa_sim_reply_t *reply, int status, const char *text)
{
    return s_reply_body (reply, status, strdup (text));
}

/* OpenAI's error shape: {"error": {"message", "type", "param", "code"}};
 * CODE is consumed (NULL: null). */
static int
s_reply_error (toa_sim_reply_t *reply, int status, const char *message, const char *type,
               json_t *code)
{
    return toa_sim_reply_json (reply, status,
                         json_pack ("{s:{s:s, s:s, s:n, s:o}}", "error", "message", message,
                                    "type", type, "param", "code",
                                    code ? code : json_null ()));
}

/* The per-request random stream: the service seed and an arrival counter. */
static uint64_t
s_draw_stream (toa_sim_service_t *self)
{
    uint64_t n = atomic_fetch_add (&self->draws, 1);
    return toa_splitmix64 (self->seed ^ (n * 0xd1b54a32d192ed03ULL));
}

/* A forced fault from X-Sim-Fault, else one drawn at the model's rates. */
static toa_sim_fault_t
s_choose_fault (const toa_sim_model_config_t *model, toa_sim_fault_t forced, bool has_forced,
                uint64_t *stream)
{
    if (has_forced)
        return forced;
    double u = toa_random_uniform (stream);
    double edge = model->fault_500;
    if (u < edge)
        return TOA_SIM_FAULT_500;
    if (u < (edge += model->fault_429))
        return TOA_SIM_FAULT_429;
    if (u < (edge += model->fault_hang))
        return TOA_SIM_FAULT_HANG;
    if (u < (edge += model->fault_malformed))
        return TOA_SIM_FAULT_MALFORMED;
    if (u < (edge += model->fault_overload))
        return TOA_SIM_FAULT_OVERLOAD;
    if (u < (edge += model->fault_bad_request))
        return TOA_SIM_FAULT_BAD_REQUEST;
    return TOA_SIM_FAULT_NONE;
}

/* Answers an error fault or a hang in the manner of PERSONALITY; ARGS
 * describe the request. Returns 1 if FAULT answered, 0 if the request goes
 * on (no fault, malformed, or an overload that this server queues). */
static int
s_apply_fault (toa_sim_service_t *self, toa_sim_fault_t fault,
               toa_sim_personality_t personality, const toa_sim_case_args_t *args,
               toa_sim_reply_t *reply)
{
    char message[320];
    toa_sim_case_args_t inflated = *args;
    switch (fault) {
    case TOA_SIM_FAULT_500:
        s_reply_error (reply, 500,
                       "The server had an error while processing your request. Sorry about that!",
                       "server_error", NULL);
        break;
    case TOA_SIM_FAULT_429:
        if (!toa_sim_personality_serves (personality, TOA_SIM_CASE_RATE_LIMIT)) {
            toa_sim_personality_answer (personality, TOA_SIM_CASE_RATE_LIMIT, args, reply);
            break;
        }
        /* a server without rate limits: a rate-limiting proxy in front of it */
        snprintf (message, sizeof message,
                  "Rate limit reached for requests (simulated by toa-simllm). "
                  "Please try again in %ds.", args->retry_after_s);
        s_reply_error (reply, 429, message, "requests", json_string ("rate_limit_exceeded"));
        reply->retry_after_s = args->retry_after_s;
        break;
    case TOA_SIM_FAULT_QUOTA:
        s_reply_error (reply, 429,
                       "You exceeded your current quota, please check your plan and billing "
                       "details.", "insufficient_quota", json_string ("insufficient_quota"));
        break;
    case TOA_SIM_FAULT_CONTEXT:
        /* as if the prompt were longer than the context */
        inflated.prompt_tokens = args->prompt_tokens + args->context_tokens;
        toa_sim_personality_answer (personality, TOA_SIM_CASE_PROMPT_TOO_LONG, &inflated, reply);
        break;
    case TOA_SIM_FAULT_OVERLOAD:
        if (toa_sim_personality_serves (personality, TOA_SIM_CASE_OVERLOAD))
            return 0;                            /* it queues: the slots do that */
        toa_sim_personality_answer (personality, TOA_SIM_CASE_OVERLOAD, args, reply);
        break;
    case TOA_SIM_FAULT_BAD_REQUEST:
        toa_sim_personality_answer (personality, TOA_SIM_CASE_BAD_REQUEST, args, reply);
        break;
    case TOA_SIM_FAULT_HANG:
        reply->status = 0;
        reply->drop = true;
        reply->delay_ms = self->config->hang_ms;
        break;
    default:
        return 0;
    }
    toa_sim_stats_fault (self->stats, fault);
    return 1;
}

/* Makes REPLY's body invalid JSON: its first half. */
static void
s_malform (toa_sim_reply_t *reply)
{
    if (reply->body_length > 1) {
        reply->body_length /= 2;
        reply->body[reply->body_length] = '\0';
    }
}

/* The personality of the model a request names, else of the first model
 * (a body that does not parse still has a server to answer it). */
static toa_sim_personality_t
s_personality_of (const toa_sim_service_t *self, const char *body, size_t length)
{
    json_t *root = json_loadb (body ? body : "", length, 0, NULL);
    int index = toa_sim_service_model_index (
        self, json_string_value (json_object_get (root, "model")));
    json_decref (root);
    if (index < 0)
        index = 0;
    return self->config->n_models ? self->personalities[index] : TOA_SIM_OPENAI;
}

/* The model that answers a request for a name no model is served as: on a
 * toa-simllm serving one model, as those servers do, a server that ignores
 * the name (SGLang, llama.cpp, TGI) answers with its model; otherwise -1 (a
 * 404, as a router in front of several servers answers). */
static int
s_model_for_unknown (const toa_sim_service_t *self)
{
    if (self->config->n_models == 1
        && toa_sim_personality_serves (self->personalities[0], TOA_SIM_CASE_MODEL_NOT_FOUND))
        return 0;
    return -1;
}

/* The case in which the model's server refuses REQUEST up front (n > 1,
 * the context), or -1 when it serves it. TGI serves n > 1 with one choice. */
static int
s_refusal (toa_sim_personality_t personality, toa_sim_chat_request_t *request,
           const toa_sim_case_args_t *args)
{
    if (request->n > 1 && !toa_sim_personality_serves (personality, TOA_SIM_CASE_N))
        return TOA_SIM_CASE_N;
    if (personality == TOA_SIM_TGI)
        request->n = 1;                          /* TGI ignores n */
    if (args->prompt_tokens >= args->context_tokens)
        return TOA_SIM_CASE_PROMPT_TOO_LONG;
    if (args->max_tokens > 0 && args->prompt_tokens + args->max_tokens > args->context_tokens
        && !toa_sim_personality_serves (personality, TOA_SIM_CASE_MAX_TOKENS_TOO_LONG))
        return TOA_SIM_CASE_MAX_TOKENS_TOO_LONG;
    return -1;
}

static int
s_chat (toa_sim_service_t *self, const char *body, size_t length, toa_sim_fault_t forced,
        bool has_forced, toa_sim_reply_t *reply)
{
    toa_sim_chat_request_t request;
    char error[256];
    if (toa_sim_chat_parse (body, length, &request, error, sizeof error) != 0) {
        toa_sim_case_args_t args = {.message = error};
        return toa_sim_personality_answer (s_personality_of (self, body, length),
                                           TOA_SIM_CASE_BAD_REQUEST, &args, reply);
    }
    int index = toa_sim_service_model_index (self, request.model);
    if (index < 0)
        index = s_model_for_unknown (self);
    if (index < 0) {
        toa_sim_case_args_t args = {.model = request.model};
        int rc = toa_sim_personality_answer (self->config->n_models ? self->personalities[0]
                                                                   : TOA_SIM_OPENAI,
                                             TOA_SIM_CASE_MODEL_NOT_FOUND, &args, reply);
        toa_sim_chat_request_clear (&request);
        return rc;
    }
    const toa_sim_model_config_t *model = &self->config->models[index];
    toa_sim_personality_t personality = self->personalities[index];
    reply->model = index;
    reply->prompt_tokens = request.prompt_tokens;
    toa_sim_stats_model_begin (self->stats, index);
    toa_sim_case_args_t args = {
        .model = request.model, .prompt_tokens = (long) request.prompt_tokens,
        .max_tokens = request.max_tokens, .context_tokens = model->context_tokens,
        .retry_after_s = model->retry_after_s,
    };
    int refusal = s_refusal (personality, &request, &args);
    if (refusal >= 0) {
        toa_sim_chat_request_clear (&request);
        return toa_sim_personality_answer (personality, (toa_sim_case_t) refusal, &args, reply);
    }
    uint64_t stream = s_draw_stream (self);
    toa_sim_fault_t fault = s_choose_fault (model, forced, has_forced, &stream);
    if (s_apply_fault (self, fault, personality, &args, reply)) {
        toa_sim_chat_request_clear (&request);
        return reply->drop || reply->body ? 0 : -1;
    }
    uint64_t seed = request.has_seed ? request.seed
                    : request.temperature == 0 ? 0 : toa_splitmix64 (stream ^ 0x5eedULL);
    double jitter = (toa_random_uniform (&stream) * 2.0 - 1.0) * model->jitter_ms;
    /* A prompt whose prefix this server saw recently is faster (prefill). */
    double cached = 0.0;
    if (self->prefix_caches[index]) {
        const char *parts[2] = {request.prompt.system, request.prompt.user};
        size_t lengths[2] = {request.prompt.system_length, request.prompt.user_length};
        cached = toa_sim_prefix_cache_lookup (self->prefix_caches[index], parts, lengths, 2);
    }
    char id[48];
    snprintf (id, sizeof id, "chatcmpl-%016llx",
              (unsigned long long) toa_splitmix64 (stream ^ 0x1dULL));
    toa_sim_chat_result_t result;
    int rc = toa_sim_chat_respond (&request, model, self->knowledge, seed, id,
                                   (int64_t) time (NULL), &result);
    toa_sim_chat_request_clear (&request);
    if (rc != 0)
        return s_reply_error (reply, 500, "out of memory", "server_error", NULL);
    double delay = (model->latency_ms + jitter) * (1.0 - model->prefix_cache_share * cached)
                   + model->per_token_ms * (double) result.max_choice_tokens;
    reply->delay_ms = delay > 0 ? (int64_t) llround (delay) : 0;
    reply->pool = index;
    if (args.prompt_tokens + (long) result.max_choice_tokens >= args.context_tokens
        && !toa_sim_personality_serves (personality, TOA_SIM_CASE_RUNS_OUT)) {
        free (result.body);                      /* the generation ran out of context */
        return toa_sim_personality_answer (personality, TOA_SIM_CASE_RUNS_OUT, &args, reply);
    }
    reply->status = 200;
    reply->body = result.body;
    reply->body_length = result.length;
    reply->completion_tokens = result.completion_tokens;
    if (fault == TOA_SIM_FAULT_MALFORMED) {
        toa_sim_stats_fault (self->stats, fault);
        s_malform (reply);
    }
    return 0;
}

/* The texts of "input" or "query": a string or an array of strings. Returns
 * the array (borrowed or made), NULL if it has another shape. */
static json_t *
s_texts (json_t *value, bool *made)
{
    *made = false;
    if (json_is_string (value)) {
        *made = true;
        return json_pack ("[O]", value);
    }
    if (!json_is_array (value))
        return NULL;
    size_t i;
    json_t *one;
    json_array_foreach (value, i, one)
        if (!json_is_string (one))
            return NULL;
    return value;
}

/* The I-th label as text ("" if absent): numbers are formatted. */
static const char *
s_label (json_t *labels, size_t i, char *buffer, size_t size)
{
    json_t *label = json_array_get (labels, i);
    if (json_is_string (label))
        return json_string_value (label);
    if (json_is_integer (label)) {
        snprintf (buffer, size, "%lld", (long long) json_integer_value (label));
        return buffer;
    }
    if (json_is_real (label)) {
        snprintf (buffer, size, "%.17g", json_real_value (label));
        return buffer;
    }
    return NULL;
}

static int
s_reward (toa_sim_service_t *self, const char *body, size_t length, toa_sim_reply_t *reply)
{
    json_t *root = json_loadb (body ? body : "", length, 0, NULL);
    bool made = false;
    json_t *queries = json_is_object (root) ? s_texts (json_object_get (root, "query"), &made)
                                            : NULL;
    if (!queries) {
        json_decref (root);
        return s_reply_error (reply, 400, "'query' must be a string or an array of strings",
                              "invalid_request_error", NULL);
    }
    json_t *prompts = json_object_get (root, "prompts");
    json_t *labels = json_object_get (root, "labels");
    json_t *rewards = json_array ();
    size_t i;
    json_t *query;
    json_array_foreach (queries, i, query) {
        char label_buffer[64];
        const char *label = s_label (labels, i, label_buffer, sizeof label_buffer);
        const char *prompt = json_string_value (json_array_get (prompts, i));
        double score = toa_sim_reward_score (self->knowledge, json_string_value (query),
                                             json_string_length (query), prompt, label);
        json_array_append_new (rewards, json_real (score));
    }
    if (made)
        json_decref (queries);
    json_decref (root);
    return toa_sim_reply_json (reply, 200, json_pack ("{s:o}", "rewards", rewards));
}

/* POST /classify (POOLING false) and /pooling (true), vLLM's shapes. */
static int
s_score_inputs (toa_sim_service_t *self, const char *body, size_t length, bool pooling,
                toa_sim_reply_t *reply)
{
    json_t *root = json_loadb (body ? body : "", length, 0, NULL);
    const char *model = json_string_value (json_object_get (root, "model"));
    bool made = false;
    json_t *inputs = json_is_object (root) ? s_texts (json_object_get (root, "input"), &made)
                                           : NULL;
    if (!model || !inputs) {
        if (made)
            json_decref (inputs);
        json_decref (root);
        return toa_sim_reply_json (reply, 400,
                             json_pack ("{s:s, s:s, s:s, s:n, s:i}", "object", "error",
                                        "message",
                                        "'model' (a string) and 'input' (a string or an array "
                                        "of strings) are required", "type", "BadRequestError",
                                        "param", "code", 400));
    }
    json_t *data = json_array ();
    size_t i, tokens = 0;
    json_t *input;
    json_array_foreach (inputs, i, input) {
        const char *text = json_string_value (input);
        size_t text_length = json_string_length (input);
        tokens += toa_sim_tokens_count (text, text_length);
        double score = toa_sim_reward_score (self->knowledge, text, text_length, NULL, NULL);
        json_t *item = pooling
            ? json_pack ("{s:I, s:s, s:[f]}", "index", (json_int_t) i, "object", "pooling",
                         "data", score)
            : json_pack ("{s:I, s:s, s:[f], s:i}", "index", (json_int_t) i, "label", "LABEL_0",
                         "probs", (score + 1.0) / 2.0, "num_classes", 1);
        json_array_append_new (data, item);
    }
    char id[48];
    snprintf (id, sizeof id, "%s-%016llx", pooling ? "pool" : "classify",
              (unsigned long long) s_draw_stream (self));
    json_t *answer = json_pack ("{s:s, s:s, s:I, s:s, s:o, s:{s:I, s:I, s:i, s:n}}", "id", id,
                                "object", "list", "created", (json_int_t) time (NULL), "model",
                                model, "data", data, "usage", "prompt_tokens",
                                (json_int_t) tokens, "total_tokens", (json_int_t) tokens,
                                "completion_tokens", 0, "prompt_tokens_details");
    if (made)
        json_decref (inputs);
    json_decref (root);
    return toa_sim_reply_json (reply, 200, answer);
}

static toa_sim_endpoint_t
s_route (const char *method, const char *path, bool *post)
{
    static const struct {
        const char *path;
        toa_sim_endpoint_t endpoint;
        bool post;
    } routes[] = {
        {"/v1/chat/completions", TOA_SIM_ENDPOINT_CHAT, true},
        {"/chat/completions", TOA_SIM_ENDPOINT_CHAT, true},
        {"/v1/models", TOA_SIM_ENDPOINT_MODELS, false},
        {"/models", TOA_SIM_ENDPOINT_MODELS, false},
        {"/health", TOA_SIM_ENDPOINT_HEALTH, false},
        {"/reward", TOA_SIM_ENDPOINT_REWARD, true},
        {"/get_reward", TOA_SIM_ENDPOINT_REWARD, true},
        {"/classify", TOA_SIM_ENDPOINT_CLASSIFY, true},
        {"/v1/classify", TOA_SIM_ENDPOINT_CLASSIFY, true},
        {"/pooling", TOA_SIM_ENDPOINT_POOLING, true},
        {"/v1/pooling", TOA_SIM_ENDPOINT_POOLING, true},
        {"/stats", TOA_SIM_ENDPOINT_STATS, false},
        {"/stats/reset", TOA_SIM_ENDPOINT_STATS, true},
    };
    (void) method;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp (path, routes[i].path) == 0) {
            *post = routes[i].post;
            return routes[i].endpoint;
        }
    *post = false;
    return TOA_SIM_ENDPOINT_OTHER;
}

int
toa_sim_service_handle (toa_sim_service_t *self, const char *method, const char *path,
                        const char *body, size_t length, const char *fault,
                        toa_sim_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    reply->retry_after_s = -1;
    reply->retry_after_ms = -1;
    reply->pool = -1;
    reply->model = -1;
    bool wants_post;
    toa_sim_endpoint_t endpoint = s_route (method, path, &wants_post);
    toa_sim_stats_endpoint (self->stats, endpoint);
    if (endpoint == TOA_SIM_ENDPOINT_OTHER)
        return s_reply_error (reply, 404, "Not found", "invalid_request_error", NULL);
    bool is_post = strcmp (method, "POST") == 0;
    if (is_post != wants_post)
        return s_reply_error (reply, 405, "Method not allowed", "invalid_request_error", NULL);
    toa_sim_fault_t forced = TOA_SIM_FAULT_NONE;
    bool has_forced = fault && *fault;
    if (has_forced && toa_sim_fault_parse (fault, &forced) != 0)
        return s_reply_error (reply, 400,
                              "X-Sim-Fault must be one of none, 500, 429, hang, malformed, "
                              "quota, context, overload, bad_request",
                              "invalid_request_error", NULL);
    switch (endpoint) {
    case TOA_SIM_ENDPOINT_CHAT:
        return s_chat (self, body, length, forced, has_forced, reply);
    case TOA_SIM_ENDPOINT_MODELS:
        return s_reply_text (reply, 200, self->models_body);
    case TOA_SIM_ENDPOINT_HEALTH:
        return s_reply_text (reply, 200, "{\"status\":\"ok\"}");
    case TOA_SIM_ENDPOINT_STATS:
        if (is_post) {
            toa_sim_stats_reset (self->stats);
            toa_sim_sched_reset_max (self->sched);
            return s_reply_text (reply, 200, "{\"reset\":true}");
        }
        return toa_sim_reply_json (reply, 200, s_stats_json (self));
    default:
        break;
    }
    /* reward endpoints: faults only when forced, as an OpenAI-shaped server */
    toa_sim_case_args_t args = {
        .prompt_tokens = (long) toa_sim_tokens_count (body ? body : "", length),
        .max_tokens = -1, .context_tokens = 4096, .retry_after_s = 1,
    };
    if (s_apply_fault (self, forced, TOA_SIM_OPENAI, &args, reply))
        return reply->drop || reply->body ? 0 : -1;
    int rc = endpoint == TOA_SIM_ENDPOINT_REWARD ? s_reward (self, body, length, reply)
             : s_score_inputs (self, body, length, endpoint == TOA_SIM_ENDPOINT_POOLING, reply);
    if (rc == 0 && forced == TOA_SIM_FAULT_MALFORMED) {
        toa_sim_stats_fault (self->stats, forced);
        s_malform (reply);
    }
    return rc;
}

void
toa_sim_service_done (toa_sim_service_t *self, const toa_sim_reply_t *reply)
{
    if (reply->model >= 0)
        toa_sim_stats_model_end (self->stats, reply->model, reply->drop ? 0 : reply->status,
                                 reply->prompt_tokens, reply->completion_tokens);
}
