/* policy_common.c - shared bookkeeping of the baseline policies (see policy_common.h). */
#include "broker/method/policy_common.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int
toa_policy_responses_init (toa_policy_responses_t *self, int budget)
{
    memset (self, 0, sizeof *self);
    self->budget = budget;
    size_t n = (size_t) (budget > 0 ? budget : 1);
    self->raw = calloc (n, sizeof *self->raw);
    self->ok = calloc (n, sizeof *self->ok);
    self->depth = calloc (n, sizeof *self->depth);
    if (!self->raw || !self->ok || !self->depth) {
        toa_policy_responses_clear (self);
        return -1;
    }
    return 0;
}

void
toa_policy_responses_clear (toa_policy_responses_t *self)
{
    free (self->raw);
    free (self->ok);
    free (self->depth);
    memset (self, 0, sizeof *self);
}

/* Grows *ITEMS (COUNT elements of SIZE) to NEEDED, zero-filled. */
static int
s_grow_zeroed (void **items, size_t count, size_t needed, size_t size)
{
    char *grown = realloc (*items, needed * size);
    if (!grown)
        return -1;
    memset (grown + count * size, 0, (needed - count) * size);
    *items = grown;
    return 0;
}

int
toa_policy_responses_grow (toa_policy_responses_t *self, int budget)
{
    if (budget <= self->budget)
        return 0;
    size_t have = (size_t) (self->budget > 0 ? self->budget : 1), need = (size_t) budget;
    if (s_grow_zeroed ((void **) &self->raw, have, need, sizeof *self->raw) != 0
        || s_grow_zeroed ((void **) &self->ok, have, need, sizeof *self->ok) != 0
        || s_grow_zeroed ((void **) &self->depth, have, need, sizeof *self->depth) != 0)
        return -1;
    self->budget = budget;
    return 0;
}

int
toa_policy_responses_apply (toa_policy_responses_t *self, const toa_gen_plan_t *plan,
                            int response, double raw, bool failed)
{
    if (response < 0 || response >= self->budget || self->applied >= self->budget)
        return -1;
    self->raw[response] = raw;
    self->ok[response] = !failed;
    self->depth[response] = plan->depth;
    self->applied++;
    return 0;
}

int
toa_policy_best (const toa_policy_responses_t *self, const int *candidates, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++) {
        int r = candidates[i];
        if (r >= 0 && r < self->budget && self->ok[r]
            && (best < 0 || self->raw[r] > self->raw[best]))
            best = r;
    }
    return best;
}

void
toa_policy_shuffle (int *items, int n, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = n - 1; i > 0; i--) {
        int j = (int) (toa_random_uniform (&state) * (i + 1));
        int swap = items[i];
        items[i] = items[j];
        items[j] = swap;
    }
}
