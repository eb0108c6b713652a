/* jobs.h - the jobs the broker runs: their counters (mirrors of the Redis
 * job hash), their active prompts, the client attached to each, and
 * admission: at most max_active prompts in search across all jobs, taken
 * round-robin from the jobs that have prompts left, the next admitted as one
 * finishes. Pure: no I/O (the broker writes what changes to Redis). */
#ifndef TOA_BROKER_JOBS_H
#define TOA_BROKER_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/method/prompt.h"
#include "broker/method/settings.h"
#include "proto/transport.h"

typedef enum {
    TOA_JOB_RUNNING = 0,
    TOA_JOB_SEARCHED,        /* every prompt finished; results may be unacknowledged */
    TOA_JOB_DONE,            /* every result acknowledged (then the job is retired) */
    TOA_JOB_CANCELLED
} toa_job_state_t;

/* Result lines a job keeps in memory (the client's window, broker/clients.h). */
#define TOA_JOB_RECENT 128

typedef struct {
    char *id;
    char *method;
    char *settings_text;     /* as stored */
    toa_job_settings_t *settings;
    toa_job_state_t state;
    int64_t total, created_ms;
    int64_t admitted;        /* prompts 0..admitted-1 have entered search */
    int64_t done;            /* prompts finished */
    int64_t next_seq;        /* seq of the next result */
    int64_t acked;           /* results 0..acked-1 acknowledged */
    int64_t generations, failed;
    int64_t spare;           /* budget: generations saved, not given out (Redis: spare) */
    toa_prompt_t **active;   /* prompts in search */
    size_t n_active, active_capacity;
    char owner[80];          /* the submitter's CURVE key (Z85), or "t:" and its
                                token; "" = none (broker/owners.h) */
    bool attached;           /* a client is attached */
    toa_peer_id_t client;    /* its routing id */
    int64_t client_heard_ms; /* when it last sent anything (0: not since a restart) */
    int64_t sent;            /* results 0..sent-1 were sent to it */
    int64_t last_progress_ms;/* when progress was last sent */
    bool progress_due;       /* a prompt finished since: send progress soon */
    char *recent[TOA_JOB_RECENT];      /* result lines written to Redis and not
                                          sent yet (slot seq % TOA_JOB_RECENT),
                                          so they are not read back to be sent */
    int64_t recent_seq[TOA_JOB_RECENT];
} toa_job_t;

typedef struct toa_jobs_s toa_jobs_t;

/* A job list admitting at most MAX_ACTIVE prompts at once. NULL when out of memory. */
toa_jobs_t *toa_jobs_new (int max_active);

/* Frees every job and its prompts; nulls *SELF_P; safe on NULL. */
void toa_jobs_destroy (toa_jobs_t **self_p);

/* Adds a job (takes SETTINGS). Returns it, or NULL when out of memory (then
 * SETTINGS is destroyed). Counters start at 0; the caller sets them. */
toa_job_t *toa_jobs_add (toa_jobs_t *self, const char *id, const char *method,
                         const char *settings_text, toa_job_settings_t *settings);

/* The job ID, or NULL. */
toa_job_t *toa_jobs_find (const toa_jobs_t *self, const char *id);

/* Removes JOB and destroys its prompts. */
void toa_jobs_remove (toa_jobs_t *self, toa_job_t *job);

/* Removes every job. */
void toa_jobs_clear (toa_jobs_t *self);

/* Number of jobs, and job I (0 <= I < count). */
size_t toa_jobs_count (const toa_jobs_t *self);
toa_job_t *toa_jobs_at (const toa_jobs_t *self, size_t i);

/* One prompt to admit. */
typedef struct {
    toa_job_t *job;
    int64_t index;
} toa_admission_t;

/* Chooses up to MAX prompts to admit now, round-robin over running jobs with
 * prompts left, within the active limit, and counts them as admitted
 * (job->admitted grows; they count against the limit until added with
 * toa_job_add_prompt or given back with toa_jobs_unadmit). Returns how many. */
size_t toa_jobs_plan_admission (toa_jobs_t *self, toa_admission_t *out, size_t max);

/* Gives back one planned admission that could not start (its slot is free). */
void toa_jobs_unadmit (toa_jobs_t *self);

/* Adds PROMPT to JOB's active prompts: a PLANNED admission (already
 * counted), or a prompt reloaded from Redis (counted now, even beyond the
 * limit). Returns 0 or -1 (out of memory; a planned admission stays counted
 * until toa_jobs_unadmit). */
int toa_job_add_prompt (toa_jobs_t *self, toa_job_t *job, toa_prompt_t *prompt,
                        bool planned);

/* Keeps result LINE (taken) of JOB as result SEQ until toa_job_take_result,
 * replacing what its slot held. */
void toa_job_keep_result (toa_job_t *job, int64_t seq, char *line);

/* Result SEQ of JOB if kept (the caller frees it; the slot is emptied), or NULL. */
char *toa_job_take_result (toa_job_t *job, int64_t seq);

/* Removes PROMPT from JOB's active prompts and destroys it. */
void toa_job_remove_prompt (toa_jobs_t *self, toa_job_t *job, toa_prompt_t *prompt);

/* Prompts in search across all jobs (planned admissions included). */
int toa_jobs_active (const toa_jobs_t *self);

/* The job's state name: "queued" (nothing admitted yet), "running",
 * "searched" (every prompt finished, some results not acknowledged), "done"
 * (every result acknowledged), "cancelled". */
const char *toa_job_state_name (const toa_job_t *job);

#endif
