/* stats.c - lock-free counters of toa-simllm (see stats.h). */
#include "sim/stats.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    atomic_long requests;
    atomic_long ok;
    atomic_long errors;
    atomic_long in_flight;
    atomic_long max_in_flight;
    atomic_long prompt_tokens;
    atomic_long completion_tokens;
} s_model_counters_t;

struct toa_sim_stats_s {
    atomic_long requests;
    atomic_long in_flight;
    atomic_long endpoints[TOA_SIM_ENDPOINT_COUNT];
    atomic_long faults[TOA_SIM_FAULT_COUNT];
    s_model_counters_t *models;
    size_t n_models;
};

static const char *const s_endpoint_names[TOA_SIM_ENDPOINT_COUNT] = {
    "chat_completions", "models", "health", "reward", "classify", "pooling", "stats", "other",
};

static const char *const s_fault_names[TOA_SIM_FAULT_COUNT] = {
    "none", "500", "429", "hang", "malformed", "quota", "context", "overload", "bad_request",
};

const char *
toa_sim_endpoint_name (toa_sim_endpoint_t endpoint)
{
    return endpoint < TOA_SIM_ENDPOINT_COUNT ? s_endpoint_names[endpoint] : "other";
}

const char *
toa_sim_fault_name (toa_sim_fault_t fault)
{
    return fault < TOA_SIM_FAULT_COUNT ? s_fault_names[fault] : "none";
}

int
toa_sim_fault_parse (const char *text, toa_sim_fault_t *fault)
{
    for (int i = 0; text && i < TOA_SIM_FAULT_COUNT; i++)
        if (strcmp (text, s_fault_names[i]) == 0) {
            *fault = (toa_sim_fault_t) i;
            return 0;
        }
    return -1;
}

toa_sim_stats_t *
toa_sim_stats_new (size_t n_models)
{
    toa_sim_stats_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->models = calloc (n_models ? n_models : 1, sizeof *self->models);
    if (!self->models) {
        free (self);
        return NULL;
    }
    self->n_models = n_models;
    return self;
}

void
toa_sim_stats_destroy (toa_sim_stats_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->models);
    free (*self_p);
    *self_p = NULL;
}

void
toa_sim_stats_endpoint (toa_sim_stats_t *self, toa_sim_endpoint_t endpoint)
{
    if (endpoint >= TOA_SIM_ENDPOINT_COUNT)
        endpoint = TOA_SIM_ENDPOINT_OTHER;
    atomic_fetch_add (&self->requests, 1);
    atomic_fetch_add (&self->endpoints[endpoint], 1);
}

void
toa_sim_stats_fault (toa_sim_stats_t *self, toa_sim_fault_t fault)
{
    if (fault > TOA_SIM_FAULT_NONE && fault < TOA_SIM_FAULT_COUNT)
        atomic_fetch_add (&self->faults[fault], 1);
}

static void
s_raise_max (atomic_long *max, long value)
{
    long seen = atomic_load (max);
    while (value > seen && !atomic_compare_exchange_weak (max, &seen, value))
        ;
}

void
toa_sim_stats_model_begin (toa_sim_stats_t *self, int model)
{
    if (model < 0 || (size_t) model >= self->n_models)
        return;
    s_model_counters_t *counters = &self->models[model];
    atomic_fetch_add (&counters->requests, 1);
    long now = atomic_fetch_add (&counters->in_flight, 1) + 1;
    s_raise_max (&counters->max_in_flight, now);
    atomic_fetch_add (&self->in_flight, 1);
}

void
toa_sim_stats_model_end (toa_sim_stats_t *self, int model, int status, size_t prompt_tokens,
                         size_t completion_tokens)
{
    if (model < 0 || (size_t) model >= self->n_models)
        return;
    s_model_counters_t *counters = &self->models[model];
    atomic_fetch_sub (&counters->in_flight, 1);
    atomic_fetch_sub (&self->in_flight, 1);
    if (status == 200) {
        atomic_fetch_add (&counters->ok, 1);
        atomic_fetch_add (&counters->prompt_tokens, (long) prompt_tokens);
        atomic_fetch_add (&counters->completion_tokens, (long) completion_tokens);
    }
    else
        atomic_fetch_add (&counters->errors, 1);
}

void
toa_sim_stats_reset (toa_sim_stats_t *self)
{
    atomic_store (&self->requests, 0);
    for (int i = 0; i < TOA_SIM_ENDPOINT_COUNT; i++)
        atomic_store (&self->endpoints[i], 0);
    for (int i = 0; i < TOA_SIM_FAULT_COUNT; i++)
        atomic_store (&self->faults[i], 0);
    for (size_t i = 0; i < self->n_models; i++) {
        s_model_counters_t *counters = &self->models[i];
        atomic_store (&counters->requests, 0);
        atomic_store (&counters->ok, 0);
        atomic_store (&counters->errors, 0);
        atomic_store (&counters->max_in_flight, atomic_load (&counters->in_flight));
        atomic_store (&counters->prompt_tokens, 0);
        atomic_store (&counters->completion_tokens, 0);
    }
}

json_t *
toa_sim_stats_json (toa_sim_stats_t *self, const char *const *model_ids, toa_sim_sched_t *sched)
{
    json_t *endpoints = json_object ();
    json_t *faults = json_object ();
    json_t *models = json_object ();
    json_t *root = json_pack ("{s:I, s:I, s:o, s:o, s:o}",
                              "requests", (json_int_t) atomic_load (&self->requests),
                              "in_flight", (json_int_t) atomic_load (&self->in_flight),
                              "endpoints", endpoints, "faults", faults, "models", models);
    if (!root)
        return NULL;
    for (int i = 0; i < TOA_SIM_ENDPOINT_COUNT; i++)
        json_object_set_new (endpoints, s_endpoint_names[i],
                             json_integer (atomic_load (&self->endpoints[i])));
    for (int i = 1; i < TOA_SIM_FAULT_COUNT; i++)
        json_object_set_new (faults, s_fault_names[i],
                             json_integer (atomic_load (&self->faults[i])));
    for (size_t i = 0; i < self->n_models; i++) {
        s_model_counters_t *c = &self->models[i];
        json_t *model = json_pack (
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "requests", (json_int_t) atomic_load (&c->requests),
            "ok", (json_int_t) atomic_load (&c->ok),
            "errors", (json_int_t) atomic_load (&c->errors),
            "in_flight", (json_int_t) atomic_load (&c->in_flight),
            "max_in_flight", (json_int_t) atomic_load (&c->max_in_flight),
            "prompt_tokens", (json_int_t) atomic_load (&c->prompt_tokens),
            "completion_tokens", (json_int_t) atomic_load (&c->completion_tokens));
        toa_sim_pool_info_t info;
        if (model && toa_sim_sched_pool_info (sched, (int) i, &info) == 0) {
            json_object_set_new (model, "slots", json_integer (info.slots));
            json_object_set_new (model, "active", json_integer (info.active));
            json_object_set_new (model, "queued", json_integer (info.queued));
            json_object_set_new (model, "max_active", json_integer (info.max_active));
            json_object_set_new (model, "max_queued", json_integer (info.max_queued));
        }
        if (!model || json_object_set_new (models, model_ids[i], model) != 0) {
            json_decref (root);
            return NULL;
        }
    }
    return root;
}
