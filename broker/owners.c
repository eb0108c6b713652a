/* owners.c - job ownership and per-client limits (see owners.h). */
#include "broker/owners.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/zap.h"

bool
toa_owners_admin (toa_broker_t *b, const toa_peer_id_t *from)
{
    return b->zap && from->user_id[0]
           && toa_zap_knows (b->zap, TOA_ZAP_ADMINS, from->user_id);
}

int
toa_owners_of (const toa_peer_id_t *from, const char *token, char *owner, char *reason,
               size_t reason_size)
{
    owner[0] = '\0';
    if (from->user_id[0]) {
        snprintf (owner, TOA_OWNER_SIZE, "%s", from->user_id);
        return 0;
    }
    if (!token || !*token) {
        /* A job nobody owns could be read, acknowledged or cancelled by anyone. */
        snprintf (reason, reason_size, "token: required without CURVE (16 to 64 letters and "
                  "digits that own the job; toa submit makes one)");
        return -1;
    }
    size_t length = strlen (token);
    bool valid = length >= 16 && length <= 64;
    for (size_t k = 0; valid && k < length; k++)
        valid = (token[k] >= '0' && token[k] <= '9') || (token[k] >= 'a' && token[k] <= 'z')
                || (token[k] >= 'A' && token[k] <= 'Z');
    if (!valid) {
        snprintf (reason, reason_size, "token: must be 16 to 64 letters and digits");
        return -1;
    }
    snprintf (owner, TOA_OWNER_SIZE, "t:%s", token);
    return 0;
}

/* Compares A and B in a time that does not depend on where they differ. */
static bool
s_same_secret (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    unsigned char diff = (unsigned char) (la != lb);
    for (size_t k = 0; k < la && k < lb; k++)
        diff |= (unsigned char) (a[k] ^ b[k]);
    return diff == 0;
}

bool
toa_owners_may (toa_broker_t *b, const char *job, const char *owner,
                const toa_peer_id_t *from, const char *token, char *reason,
                size_t reason_size)
{
    if (!owner || !*owner || toa_owners_admin (b, from))
        return true;
    if (strncmp (owner, "t:", 2) == 0 ? token && s_same_secret (owner + 2, token)
                                      : strcmp (owner, from->user_id) == 0)
        return true;
    if (reason && reason_size)
        snprintf (reason, reason_size, "job %s belongs to another client (only the key or the "
                  "token that submitted it, or an admin key, may see, attach to, acknowledge "
                  "or cancel it)", job);
    return false;
}

bool
toa_owners_admit (toa_broker_t *b, const toa_peer_id_t *from, size_t submitting,
                  int64_t n_prompts, char *reason, size_t reason_size)
{
    int64_t jobs = (int64_t) submitting, prompts = n_prompts;
    for (size_t i = 0; i < toa_jobs_count (b->jobs); i++) {
        const toa_job_t *job = toa_jobs_at (b->jobs, i);
        /* token-owned jobs count with the clients without CURVE */
        bool same = from->user_id[0] ? strcmp (job->owner, from->user_id) == 0
                                     : strlen (job->owner) != 40;
        if (same && job->state != TOA_JOB_CANCELLED) {
            jobs++;
            prompts += job->total - job->done;
        }
    }
    const char *who = from->user_id[0] ? "this client key" : "clients without CURVE";
    if (b->options.max_jobs_per_client > 0 && jobs >= b->options.max_jobs_per_client) {
        snprintf (reason, reason_size, "%s has %" PRId64 " jobs in the broker, the most "
                  "broker.max_jobs_per_client allows; wait for one to end or cancel one",
                  who, jobs);
        return false;
    }
    if (b->options.max_prompts_per_client > 0 && prompts > b->options.max_prompts_per_client) {
        snprintf (reason, reason_size, "%s would have %" PRId64 " unfinished prompts, more "
                  "than broker.max_prompts_per_client (%" PRId64 ") allows; split the batch "
                  "or wait", who, prompts, b->options.max_prompts_per_client);
        return false;
    }
    return true;
}
