/* owners.h - who may see and act on a job, and how much one client may
 * submit. A job belongs to the client that submitted it: with CURVE, its
 * public key (the ZAP User-Id of its messages). Only that key, or a key in
 * curve.admin_keys_dir, may attach to it, acknowledge its results, see its
 * status or cancel it. Without CURVE a client may give a token (a secret of
 * its own) with its submit; the job then belongs to whoever sends that token
 * with its requests. A job submitted with neither has no owner. Limits
 * count the live jobs and their prompts per client key (all clients without
 * CURVE share one count). */
#ifndef TOA_BROKER_OWNERS_H
#define TOA_BROKER_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/context.h"

#define TOA_OWNER_SIZE 80

/* The owner of a job FROM submits with TOKEN (may be NULL): FROM's CURVE key,
 * else "t:TOKEN". Returns -1 when FROM has no key and TOKEN is missing or not
 * 16 to 64 letters and digits (REASON says so): every job has an owner. */
int toa_owners_of (const toa_peer_id_t *from, const char *token, char *owner,
                   char *reason, size_t reason_size);

/* True when FROM, sending TOKEN (may be NULL), may see and act on a job whose
 * owner is OWNER (NULL or "" = none). Otherwise REASON (may be NULL) says
 * why, naming JOB. */
bool toa_owners_may (toa_broker_t *b, const char *job, const char *owner,
                     const toa_peer_id_t *from, const char *token, char *reason,
                     size_t reason_size);

/* True when FROM is an admin (its key is in curve.admin_keys_dir). */
bool toa_owners_admin (toa_broker_t *b, const toa_peer_id_t *from);

/* Whether FROM may start one more job of N_PROMPTS prompts (0 when not known
 * yet): its live jobs, submissions in progress counted by the caller in
 * SUBMITTING, against broker.max_jobs_per_client and
 * broker.max_prompts_per_client. Returns true, or false with REASON. */
bool toa_owners_admit (toa_broker_t *b, const toa_peer_id_t *from, size_t submitting,
                       int64_t n_prompts, char *reason, size_t reason_size);

#endif
