/*
 * idset.h - a bounded map from message_id to a small value that remembers
 * the last `window` ids inserted (an id inserted `window` insertions ago is
 * evicted, whether or not it was removed since). Used for dedup (ids seen) and for reply routing
 * (request id -> rank it came from). Open addressing with tombstones over
 * 2 x window slots plus a ring of insertion order; every operation is O(1)
 * amortized. Not thread-safe: each kernel's thread owns its sets.
 */
#ifndef RK_IDSET_H
#define RK_IDSET_H

#include "ringmesh/message.h"

typedef struct idset_slot {
    rk_uuid_t id;
    int32_t value;
    uint8_t state; /* 0 empty, 1 full, 2 removed */
} idset_slot_t;

typedef struct idset {
    uint32_t window; /* most entries kept (a power of two); 0 = not initialised */
    uint32_t count, tombs;
    uint64_t next;     /* insertions so far; ring[next % window] is the oldest */
    rk_uuid_t *ring;
    idset_slot_t *slots; /* 2 * window */
} idset_t;

rk_status_t idset_init(idset_t *s, uint32_t window);
void idset_free(idset_t *s);
/** 1 and *value when @p id is present. */
int idset_find(const idset_t *s, const rk_uuid_t *id, int32_t *value);
/** Insert or update; evicts the oldest entry when the window is full. */
void idset_put(idset_t *s, const rk_uuid_t *id, int32_t value);
/** 1 when @p id was present (and is now gone). */
int idset_remove(idset_t *s, const rk_uuid_t *id);
/** idset_find, then remove the entry. */
int idset_remove_get(idset_t *s, const rk_uuid_t *id, int32_t *value);

#endif
