/* prefix_cache.h - a server's prefix cache, as vLLM's automatic prefix
 * caching sees it: a prompt is cut into blocks of TOA_SIM_PREFIX_BLOCK
 * bytes, each block named by a hash chained over every block before it, so a
 * block matches only when the whole prefix up to it was seen. A request's
 * hit share is its leading blocks found in the cache over all its blocks;
 * then every block of it is remembered (a direct-mapped table: a newer
 * block takes an older one's place). Thread-safe (HTTP threads share it). */
#ifndef TOA_SIM_PREFIX_CACHE_H
#define TOA_SIM_PREFIX_CACHE_H

#include <stddef.h>

#define TOA_SIM_PREFIX_BLOCK 64

typedef struct toa_sim_prefix_cache_s toa_sim_prefix_cache_t;

/* A cache remembering up to ENTRIES blocks (>= 1). NULL when out of memory. */
toa_sim_prefix_cache_t *toa_sim_prefix_cache_new (size_t entries);

/* Frees; nulls *SELF_P; safe on NULL. */
void toa_sim_prefix_cache_destroy (toa_sim_prefix_cache_t **self_p);

/* The share (0..1) of the prompt made of PARTS (N_PARTS texts, LENGTHS
 * bytes each, read as one text) whose leading blocks are cached; then
 * caches every block of it. 0 for an empty prompt. */
double toa_sim_prefix_cache_lookup (toa_sim_prefix_cache_t *self, const char *const *parts,
                                    const size_t *lengths, size_t n_parts);

/* Lookups so far, and the sum of their cached shares. */
void toa_sim_prefix_cache_stats (toa_sim_prefix_cache_t *self, long *lookups, double *cached);

#endif
