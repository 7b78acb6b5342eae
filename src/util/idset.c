/*
 * idset.c - bounded id map (see idset.h). Invariants: count <= window;
 * every full slot's id is also somewhere in the ring; the table is rebuilt
 * without tombstones once they reach half the window, so probes stay short.
 */
#include "util/idset.h"

#include <stdlib.h>
#include <string.h>

static uint32_t id_hash(const rk_uuid_t *u)
{
    uint32_t h;
    memcpy(&h, u->bytes + 8, sizeof h); /* random bits of a v4 UUID */
    return h ^ ((uint32_t)u->bytes[0] << 24) ^ u->bytes[3];
}

rk_status_t idset_init(idset_t *s, uint32_t window)
{
    uint32_t w = 1;
    memset(s, 0, sizeof *s);
    while (w < window) w <<= 1;
    s->ring = calloc(w, sizeof *s->ring);
    s->slots = calloc(2 * (size_t)w, sizeof *s->slots);
    if (!s->ring || !s->slots) {
        idset_free(s);
        return RK_ERR_NOMEM;
    }
    s->window = w;
    return RK_OK;
}

void idset_free(idset_t *s)
{
    free(s->ring);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* The slot holding @p id, or -1. */
static int64_t find_slot(const idset_t *s, const rk_uuid_t *id)
{
    uint32_t mask = 2 * s->window - 1, i = id_hash(id) & mask;
    for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
        if (s->slots[i].state == 0) return -1;
        if (s->slots[i].state == 1 && rk_uuid_equal(&s->slots[i].id, id)) return i;
    }
    return -1;
}

static void place(idset_slot_t *slots, uint32_t mask, const rk_uuid_t *id, int32_t value)
{
    uint32_t i = id_hash(id) & mask;
    while (slots[i].state == 1) i = (i + 1) & mask;
    slots[i].id = *id;
    slots[i].value = value;
    slots[i].state = 1;
}

static void rebuild(idset_t *s)
{
    uint32_t n = 2 * s->window;
    idset_slot_t *fresh = calloc(n, sizeof *fresh);
    if (!fresh) return; /* keep the tombstones; correctness does not depend on this */
    for (uint32_t i = 0; i < n; i++)
        if (s->slots[i].state == 1) place(fresh, n - 1, &s->slots[i].id, s->slots[i].value);
    free(s->slots);
    s->slots = fresh;
    s->tombs = 0;
}

int idset_find(const idset_t *s, const rk_uuid_t *id, int32_t *value)
{
    int64_t at;
    if (!s->window) return 0;
    at = find_slot(s, id);
    if (at < 0) return 0;
    if (value) *value = s->slots[at].value;
    return 1;
}

int idset_remove(idset_t *s, const rk_uuid_t *id)
{
    int64_t at;
    if (!s->window || (at = find_slot(s, id)) < 0) return 0;
    s->slots[at].state = 2;
    s->count--;
    if (++s->tombs >= s->window / 2) rebuild(s);
    return 1;
}

void idset_put(idset_t *s, const rk_uuid_t *id, int32_t value)
{
    int64_t at;
    rk_uuid_t *oldest;
    if (!s->window) return;
    at = find_slot(s, id);
    if (at >= 0) {
        s->slots[at].value = value;
        return;
    }
    oldest = &s->ring[s->next & (s->window - 1)];
    if (s->next >= s->window) idset_remove(s, oldest); /* no-op when it was removed already */
    place(s->slots, 2 * s->window - 1, id, value);
    s->count++;
    *oldest = *id;
    s->next++;
}

int idset_remove_get(idset_t *s, const rk_uuid_t *id, int32_t *value)
{
    return idset_find(s, id, value) && idset_remove(s, id);
}
