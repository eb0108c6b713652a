/* jobs.c - jobs, their active prompts and admission (see jobs.h). */
#include "broker/state/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct toa_jobs_s {
    toa_job_t **jobs;
    size_t count, capacity;
    int max_active;
    int active;              /* prompts in search, planned admissions included */
    size_t cursor;           /* round-robin position for admission */
};

toa_jobs_t *
toa_jobs_new (int max_active)
{
    toa_jobs_t *self = calloc (1, sizeof *self);
    if (self)
        self->max_active = max_active > 0 ? max_active : 1;
    return self;
}

static void
s_job_destroy (toa_jobs_t *self, toa_job_t *job)
{
    for (size_t i = 0; i < job->n_active; i++)
        toa_prompt_destroy (&job->active[i]);
    self->active -= (int) job->n_active;
    free (job->active);
    for (size_t i = 0; i < TOA_JOB_RECENT; i++)
        free (job->recent[i]);
    toa_job_settings_destroy (&job->settings);
    free (job->id);
    free (job->method);
    free (job->settings_text);
    free (job);
}

void
toa_job_keep_result (toa_job_t *job, int64_t seq, char *line)
{
    size_t slot = (size_t) (seq % TOA_JOB_RECENT);
    free (job->recent[slot]);
    job->recent[slot] = line;
    job->recent_seq[slot] = seq;
}

char *
toa_job_take_result (toa_job_t *job, int64_t seq)
{
    if (seq < 0)
        return NULL;
    size_t slot = (size_t) (seq % TOA_JOB_RECENT);
    if (!job->recent[slot] || job->recent_seq[slot] != seq)
        return NULL;
    char *line = job->recent[slot];
    job->recent[slot] = NULL;
    return line;
}

void
toa_jobs_clear (toa_jobs_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        s_job_destroy (self, self->jobs[i]);
    self->count = 0;
    self->active = 0;
    self->cursor = 0;
}

void
toa_jobs_destroy (toa_jobs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_jobs_clear (*self_p);
    free ((*self_p)->jobs);
    free (*self_p);
    *self_p = NULL;
}

toa_job_t *
toa_jobs_add (toa_jobs_t *self, const char *id, const char *method, const char *settings_text,
              toa_job_settings_t *settings)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        toa_job_t **jobs = realloc (self->jobs, capacity * sizeof *jobs);
        if (!jobs) {
            toa_job_settings_destroy (&settings);
            return NULL;
        }
        self->jobs = jobs;
        self->capacity = capacity;
    }
    toa_job_t *job = calloc (1, sizeof *job);
    if (!job) {
        toa_job_settings_destroy (&settings);
        return NULL;
    }
    job->settings = settings;
    job->id = strdup (id);
    job->method = strdup (method);
    job->settings_text = strdup (settings_text);
    if (!job->id || !job->method || !job->settings_text) {
        s_job_destroy (self, job);
        return NULL;
    }
    self->jobs[self->count++] = job;
    return job;
}

toa_job_t *
toa_jobs_find (const toa_jobs_t *self, const char *id)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->jobs[i]->id, id) == 0)
            return self->jobs[i];
    return NULL;
}

void
toa_jobs_remove (toa_jobs_t *self, toa_job_t *job)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->jobs[i] == job) {
            memmove (&self->jobs[i], &self->jobs[i + 1],
                     (self->count - i - 1) * sizeof *self->jobs);
            self->count--;
            if (self->cursor > i)
                self->cursor--;
            s_job_destroy (self, job);
            return;
        }
}

size_t
toa_jobs_count (const toa_jobs_t *self)
{
    return self->count;
}

toa_job_t *
toa_jobs_at (const toa_jobs_t *self, size_t i)
{
    return i < self->count ? self->jobs[i] : NULL;
}

size_t
toa_jobs_plan_admission (toa_jobs_t *self, toa_admission_t *out, size_t max)
{
    size_t planned = 0, idle = 0;
    while (planned < max && self->active < self->max_active && self->count > 0
           && idle < self->count) {
        if (self->cursor >= self->count)
            self->cursor = 0;
        toa_job_t *job = self->jobs[self->cursor++];
        if (job->state != TOA_JOB_RUNNING || job->admitted >= job->total) {
            idle++;
            continue;
        }
        idle = 0;
        out[planned].job = job;
        out[planned].index = job->admitted++;
        planned++;
        self->active++;
    }
    return planned;
}

void
toa_jobs_unadmit (toa_jobs_t *self)
{
    if (self->active > 0)
        self->active--;
}

int
toa_job_add_prompt (toa_jobs_t *self, toa_job_t *job, toa_prompt_t *prompt, bool planned)
{
    if (job->n_active == job->active_capacity) {
        size_t capacity = job->active_capacity ? job->active_capacity * 2 : 8;
        toa_prompt_t **active = realloc (job->active, capacity * sizeof *active);
        if (!active)
            return -1;
        job->active = active;
        job->active_capacity = capacity;
    }
    job->active[job->n_active++] = prompt;
    if (!planned)
        self->active++;
    return 0;
}

void
toa_job_remove_prompt (toa_jobs_t *self, toa_job_t *job, toa_prompt_t *prompt)
{
    for (size_t i = 0; i < job->n_active; i++)
        if (job->active[i] == prompt) {
            job->active[i] = job->active[--job->n_active];
            toa_prompt_destroy (&prompt);
            if (self->active > 0)
                self->active--;
            return;
        }
}

int
toa_jobs_active (const toa_jobs_t *self)
{
    return self->active;
}

const char *
toa_job_state_name (const toa_job_t *job)
{
    switch (job->state) {
    case TOA_JOB_SEARCHED:
        return "searched";
    case TOA_JOB_DONE:
        return "done";
    case TOA_JOB_CANCELLED:
        return "cancelled";
    default:
        return job->admitted == 0 ? "queued" : "running";
    }
}
