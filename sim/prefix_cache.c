/* prefix_cache.c - block-chained prefix cache of a simulated server (see
 * prefix_cache.h). */
#include "sim/prefix_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"

struct toa_sim_prefix_cache_s {
    pthread_mutex_t lock;
    uint64_t *blocks;        /* block hashes, 0 = empty */
    size_t entries;
    long lookups;
    double cached;           /* sum of the lookups' cached shares */
};

toa_sim_prefix_cache_t *
toa_sim_prefix_cache_new (size_t entries)
{
    toa_sim_prefix_cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->entries = entries ? entries : 1;
    self->blocks = calloc (self->entries, sizeof *self->blocks);
    if (!self->blocks || pthread_mutex_init (&self->lock, NULL) != 0) {
        free (self->blocks);
        free (self);
        return NULL;
    }
    return self;
}

void
toa_sim_prefix_cache_destroy (toa_sim_prefix_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_sim_prefix_cache_t *self = *self_p;
    pthread_mutex_destroy (&self->lock);
    free (self->blocks);
    free (self);
    *self_p = NULL;
}

/* One block ended: names it by its whole prefix (CHAIN), counts a hit while
 * every block so far hit (LEADING), remembers it. Lock held. */
static void
s_block (toa_sim_prefix_cache_t *self, uint64_t *chain, uint64_t block, bool *leading,
         size_t *hits)
{
    *chain = toa_splitmix64 (*chain ^ block) | 1;
    uint64_t *slot = &self->blocks[*chain % self->entries];
    if (*leading && *slot == *chain)
        (*hits)++;
    else
        *leading = false;
    *slot = *chain;
}

double
toa_sim_prefix_cache_lookup (toa_sim_prefix_cache_t *self, const char *const *parts,
                             const size_t *lengths, size_t n_parts)
{
    const uint64_t fnv_basis = 1469598103934665603u, fnv_prime = 1099511628211u;
    size_t total = 0;
    for (size_t p = 0; p < n_parts; p++)
        total += parts[p] ? lengths[p] : 0;
    if (total == 0)
        return 0.0;
    size_t n_blocks = (total + TOA_SIM_PREFIX_BLOCK - 1) / TOA_SIM_PREFIX_BLOCK;
    size_t hits = 0, in_block = 0;
    bool leading = true;
    uint64_t chain = 0x9e3779b97f4a7c15u, block = fnv_basis;
    pthread_mutex_lock (&self->lock);
    for (size_t p = 0; p < n_parts; p++)
        for (size_t i = 0; parts[p] && i < lengths[p]; i++) {
            block = (block ^ (uint8_t) parts[p][i]) * fnv_prime;
            if (++in_block == TOA_SIM_PREFIX_BLOCK) {
                s_block (self, &chain, block, &leading, &hits);
                block = fnv_basis;
                in_block = 0;
            }
        }
    if (in_block > 0)
        s_block (self, &chain, block, &leading, &hits);
    double share = (double) hits / (double) n_blocks;
    self->lookups++;
    self->cached += share;
    pthread_mutex_unlock (&self->lock);
    return share;
}

void
toa_sim_prefix_cache_stats (toa_sim_prefix_cache_t *self, long *lookups, double *cached)
{
    pthread_mutex_lock (&self->lock);
    *lookups = self->lookups;
    *cached = self->cached;
    pthread_mutex_unlock (&self->lock);
}
