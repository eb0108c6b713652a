/* batch.h - assembling score tasks into batches for one backend call. Pure:
 * the caller passes the clock, so the rule is testable without waiting.
 *
 * Items wait in arrival order. A batch closes when BATCH_SIZE items wait
 * (the first BATCH_SIZE go), or when the oldest waiting item has waited
 * WAIT_MS (everything waiting, up to BATCH_SIZE, goes), or when the caller
 * flushes (shutting down). WAIT_MS 0 closes a batch at the first take after
 * an item arrives: items that arrived together still go together. */
#ifndef TOA_SCORER_BATCH_H
#define TOA_SCORER_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct toa_batcher_s toa_batcher_t;

/* A batcher of batches of at most BATCH_SIZE (>= 1) items, waiting at most
 * WAIT_MS (>= 0) to fill one. NULL on bad arguments or out of memory. */
toa_batcher_t *toa_batcher_new (size_t batch_size, int64_t wait_ms);

/* Frees it (not the items); nulls *SELF_P; safe on NULL. */
void toa_batcher_destroy (toa_batcher_t **self_p);

/* Appends ITEM (borrowed, not NULL), arrived at NOW_MS. Returns 0, or -1
 * when out of memory. */
int toa_batcher_add (toa_batcher_t *self, void *item, int64_t now_ms);

/* When a batch is closed at NOW_MS (or FLUSH and anything waits), moves its
 * items in arrival order into ITEMS (room for batch_size) and returns how
 * many; otherwise returns 0. Call again until it returns 0. */
size_t toa_batcher_take (toa_batcher_t *self, int64_t now_ms, bool flush, void **items);

/* Milliseconds from NOW_MS until a batch closes: 0 when one is closed now,
 * -1 when nothing waits. */
int64_t toa_batcher_timeout (const toa_batcher_t *self, int64_t now_ms);

/* Items waiting. */
size_t toa_batcher_waiting (const toa_batcher_t *self);

/* Removes ITEM if it waits. Returns 0, or -1 when it does not. */
int toa_batcher_remove (toa_batcher_t *self, const void *item);

#endif
