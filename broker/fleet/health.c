/* health.c - model health: failures in a row, down periods (see health.h). */
#include "broker/fleet/health.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    toa_health_model_t state;
} s_entry_t;

struct toa_health_s {
    toa_health_options_t options;
    s_entry_t *entries;
    size_t count, capacity;
};

void
toa_health_defaults (toa_health_options_t *options)
{
    options->down_after = 3;
    options->down_ms = 30000;
    options->down_max_ms = 300000;
}

toa_health_t *
toa_health_new (const toa_health_options_t *options)
{
    toa_health_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    toa_health_defaults (&self->options);
    if (options && options->down_after > 0)
        self->options.down_after = options->down_after;
    if (options && options->down_ms > 0)
        self->options.down_ms = options->down_ms;
    if (options && options->down_max_ms > 0)
        self->options.down_max_ms = options->down_max_ms;
    if (self->options.down_max_ms < self->options.down_ms)
        self->options.down_max_ms = self->options.down_ms;
    return self;
}

void
toa_health_destroy (toa_health_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_health_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free (self->entries[i].name);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

bool
toa_health_counts (bool permanent, int64_t http_status)
{
    if (permanent && http_status != 429)
        return false;          /* the answer blamed the request, not the model */
    return http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500;
}

static s_entry_t *
s_find (const toa_health_t *self, const char *model)
{
    for (size_t i = 0; model && i < self->count; i++)
        if (strcmp (self->entries[i].name, model) == 0)
            return &self->entries[i];
    return NULL;
}

static s_entry_t *
s_find_or_add (toa_health_t *self, const char *model)
{
    s_entry_t *entry = s_find (self, model);
    if (entry || !model)
        return entry;
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        s_entry_t *entries = realloc (self->entries, capacity * sizeof *entries);
        if (!entries)
            return NULL;
        self->entries = entries;
        self->capacity = capacity;
    }
    char *name = strdup (model);
    if (!name)
        return NULL;
    entry = &self->entries[self->count++];
    memset (entry, 0, sizeof *entry);
    entry->name = name;
    return entry;
}

toa_health_event_t
toa_health_failure (toa_health_t *self, const char *model, int64_t now)
{
    s_entry_t *entry = s_find_or_add (self, model);
    if (!entry)
        return TOA_HEALTH_NO_CHANGE;
    toa_health_model_t *state = &entry->state;
    state->failures++;
    if (state->failures < self->options.down_after)
        return TOA_HEALTH_NO_CHANGE;
    if (state->out && now < state->retry_at_ms)
        return TOA_HEALTH_NO_CHANGE;     /* sent before it went down */
    if (!state->out) {
        state->out = true;
        state->down_since_ms = now;
        state->period_ms = self->options.down_ms;
    }
    else {
        int64_t doubled = state->period_ms * 2;
        state->period_ms = doubled < self->options.down_max_ms ? doubled
                                                              : self->options.down_max_ms;
    }
    state->retry_at_ms = now + state->period_ms;
    state->retry_announced = false;
    state->probe_until_ms = 0;
    return TOA_HEALTH_WENT_DOWN;
}

toa_health_event_t
toa_health_success (toa_health_t *self, const char *model)
{
    s_entry_t *entry = s_find (self, model);
    if (!entry)
        return TOA_HEALTH_NO_CHANGE;
    bool was_out = entry->state.out;
    memset (&entry->state, 0, sizeof entry->state);
    return was_out ? TOA_HEALTH_CAME_UP : TOA_HEALTH_NO_CHANGE;
}

bool
toa_health_down (const toa_health_t *self, const char *model, int64_t now)
{
    const s_entry_t *entry = s_find (self, model);
    return entry && entry->state.out && now < entry->state.retry_at_ms;
}

bool
toa_health_blocked (const toa_health_t *self, const char *model, int64_t now)
{
    const s_entry_t *entry = s_find (self, model);
    return entry && entry->state.out
           && (now < entry->state.retry_at_ms || now < entry->state.probe_until_ms);
}

void
toa_health_probe_sent (toa_health_t *self, const char *model, int64_t now,
                       int64_t allowance_ms)
{
    s_entry_t *entry = s_find (self, model);
    if (entry && entry->state.out && now >= entry->state.retry_at_ms
        && now >= entry->state.probe_until_ms)
        entry->state.probe_until_ms = now + allowance_ms;
}

void
toa_health_probe_over (toa_health_t *self, const char *model)
{
    s_entry_t *entry = s_find (self, model);
    if (entry)
        entry->state.probe_until_ms = 0;
}

const toa_health_model_t *
toa_health_get (const toa_health_t *self, const char *model)
{
    const s_entry_t *entry = s_find (self, model);
    return entry ? &entry->state : NULL;
}

bool
toa_health_any_out (const toa_health_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->entries[i].state.out)
            return true;
    return false;
}

size_t
toa_health_poll (toa_health_t *self, int64_t now, const char **names, size_t max)
{
    size_t ended = 0;
    for (size_t i = 0; i < self->count; i++) {
        toa_health_model_t *state = &self->entries[i].state;
        if (!state->out || state->retry_announced || now < state->retry_at_ms)
            continue;
        state->retry_announced = true;
        if (names && ended < max)
            names[ended] = self->entries[i].name;
        ended++;
    }
    return ended;
}
