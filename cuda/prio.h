/*
 * prio.h - priority order on the serving side of a ring: portable C shared by
 * the host backend (and its tests, TSan included) and CUDA device code.
 *
 * The input ring (ring.h) is FIFO: a kernel that serves entries as they come
 * lets a late urgent entry wait behind everything queued before it. A
 * priority server pulls every entry visible in the input ring into a pool of
 * slots it owns (device memory on a GPU) and serves the pool highest priority
 * first, FIFO within a priority: the contract of src/queue/mailbox.c, so
 * batching on the device does not weaken priority order.
 *
 * The pool is one block (header, then `next` links, then the slots; no
 * pointers), owned by the single consumer: 256 FIFO lists threaded through
 * `next`, a 256-bit occupancy mask for the highest non-empty level, and a free
 * list. Every operation is O(1) but the highest-level lookup (four 64-bit
 * words). When the pool is full, pulling stops and the input ring holds the
 * rest: back-pressure reaches the producers as before.
 */
#ifndef RK_CUDA_PRIO_H
#define RK_CUDA_PRIO_H

#include "ring.h"

#define RK_PRIO_MAGIC 0x524b5051u /* "RKPQ" */
#define RK_PRIO_LEVELS 256
#define RK_PRIO_NONE 0xffffffffu

typedef struct rk_prio {
    uint32_t magic;
    uint32_t capacity;  /* slots */
    uint32_t slot_size; /* bytes per slot, as the input ring's (header + payload) */
    uint32_t count;     /* slots holding an entry */
    uint32_t free_head; /* first free slot, RK_PRIO_NONE when full */
    uint32_t reserved;
    uint64_t occupied[RK_PRIO_LEVELS / 64]; /* bit p: level p has entries */
    uint32_t head[RK_PRIO_LEVELS], tail[RK_PRIO_LEVELS];
    /* then uint32_t next[capacity], then capacity slots of slot_size bytes (8-aligned) */
} rk_prio_t;

RK_RING_API uint32_t *rk_prio_next(rk_prio_t *q) { return (uint32_t *)(q + 1); }

RK_RING_API size_t rk_prio_links_bytes(uint32_t capacity) { return ((size_t)capacity * 4 + 7) & ~(size_t)7; }

/** Bytes for a pool of @p capacity slots of @p slot_size bytes (0 if invalid). */
RK_RING_API size_t rk_prio_bytes(uint32_t capacity, uint32_t slot_size)
{
    if (capacity == 0 || capacity >= RK_PRIO_NONE || slot_size < RK_RING_SLOT_HDR + 8 || slot_size % 8)
        return 0;
    return sizeof(rk_prio_t) + rk_prio_links_bytes(capacity) + (size_t)capacity * slot_size;
}

/** Slot @p i of the pool (its 8-byte header: length, priority; then the payload). */
RK_RING_API uint8_t *rk_prio_slot(rk_prio_t *q, uint32_t i)
{
    return (uint8_t *)rk_prio_next(q) + rk_prio_links_bytes(q->capacity) + (size_t)i * q->slot_size;
}

/** Lay out an empty pool in @p mem (rk_prio_bytes bytes, 8-aligned); NULL if the geometry is invalid. */
RK_RING_API rk_prio_t *rk_prio_init(void *mem, uint32_t capacity, uint32_t slot_size)
{
    if (!mem || !rk_prio_bytes(capacity, slot_size)) return NULL;
    rk_prio_t *q = (rk_prio_t *)mem;
    memset(q, 0, sizeof *q);
    q->magic = RK_PRIO_MAGIC;
    q->capacity = capacity;
    q->slot_size = slot_size;
    for (int p = 0; p < RK_PRIO_LEVELS; p++) q->head[p] = q->tail[p] = RK_PRIO_NONE;
    uint32_t *next = rk_prio_next(q);
    for (uint32_t i = 0; i < capacity; i++) next[i] = i + 1 < capacity ? i + 1 : RK_PRIO_NONE;
    q->free_head = 0;
    return q;
}

/** The highest level holding an entry, or -1 when the pool is empty. */
RK_RING_API int rk_prio_top(const rk_prio_t *q)
{
    for (int w = RK_PRIO_LEVELS / 64 - 1; w >= 0; w--) {
        uint64_t bits = q->occupied[w];
        if (!bits) continue;
        int hi = 63;
        while (!(bits >> hi & 1)) hi--; /* portable; a GPU build may use __clzll */
        return w * 64 + hi;
    }
    return -1;
}

/**
 * Move one entry of @p len bytes at priority @p prio (clamped to 0..255) into
 * the pool: its slot gets the header and the payload. 0 when the pool is
 * full or the entry does not fit a slot.
 */
RK_RING_API int rk_prio_push(rk_prio_t *q, const void *payload, uint32_t len, uint32_t prio)
{
    uint32_t i = q->free_head;
    if (i == RK_PRIO_NONE || len > q->slot_size - RK_RING_SLOT_HDR) return 0;
    uint32_t *next = rk_prio_next(q);
    uint32_t p = prio > 255 ? 255 : prio;
    q->free_head = next[i];
    uint8_t *slot = rk_prio_slot(q, i);
    rk_ring_slot_header(slot, len, p);
    if (len) memcpy(slot + RK_RING_SLOT_HDR, payload, len);
    next[i] = RK_PRIO_NONE;
    if (q->tail[p] == RK_PRIO_NONE) {
        q->head[p] = i;
        q->occupied[p / 64] |= (uint64_t)1 << (p % 64);
    } else {
        next[q->tail[p]] = i;
    }
    q->tail[p] = i;
    q->count++;
    return 1;
}

/** The slot of the entry served next (highest priority, oldest in it), or RK_PRIO_NONE when empty. */
RK_RING_API uint32_t rk_prio_front(const rk_prio_t *q)
{
    int p = rk_prio_top(q);
    return p < 0 ? RK_PRIO_NONE : q->head[p];
}

/** Remove the entry rk_prio_front returned and free its slot. */
RK_RING_API void rk_prio_pop(rk_prio_t *q)
{
    int p = rk_prio_top(q);
    if (p < 0) return;
    uint32_t *next = rk_prio_next(q);
    uint32_t i = q->head[p];
    q->head[p] = next[i];
    if (q->head[p] == RK_PRIO_NONE) {
        q->tail[p] = RK_PRIO_NONE;
        q->occupied[p / 64] &= ~((uint64_t)1 << (p % 64));
    }
    next[i] = q->free_head;
    q->free_head = i;
    q->count--;
}

/**
 * Pull every entry visible in the input ring (through the server's consumer
 * cursor) into the pool while it has room; each pulled input slot is
 * released at once. An entry too long for its slot is dropped (as
 * rk_ring_run_body would produce nothing for it). Returns the entries pulled.
 */
RK_RING_API uint32_t rk_prio_pull(rk_prio_t *q, rk_ring_server_t *s, rk_ring_t *in)
{
    uint32_t n = 0;
    const uint8_t *slot;
    while (q->free_head != RK_PRIO_NONE && (slot = rk_ring_cursor_front(&s->in, in)) != NULL) {
        uint32_t len, prio;
        memcpy(&len, slot, 4);
        memcpy(&prio, slot + 4, 4);
        if (len <= s->in.slot_size - RK_RING_SLOT_HDR) rk_prio_push(q, slot + RK_RING_SLOT_HDR, len, prio);
        rk_ring_cursor_pop(&s->in, in);
        n++;
    }
    return n;
}

/**
 * Serve one entry highest priority first: pull what the input ring holds,
 * then run @p body on the pool's front entry into the output ring (keeping
 * its priority). 1 when an entry was served, 0 when there is none or the
 * output ring is full.
 */
RK_RING_API int rk_prio_serve(rk_prio_t *q, rk_ring_server_t *s, rk_ring_t *in, rk_ring_t *out, rk_ring_body_fn body,
                              void *state)
{
    rk_prio_pull(q, s, in);
    uint32_t i = rk_prio_front(q);
    if (i == RK_PRIO_NONE || !rk_ring_cursor_reserve(&s->out, out)) return 0;
    uint32_t n = rk_ring_run_body(rk_prio_slot(q, i), q->slot_size, rk_ring_server_out_slot(s), s->out.slot_size,
                                  body, state);
    if (n) rk_ring_cursor_publish(&s->out, out);
    rk_prio_pop(q);
    return 1;
}

#endif /* RK_CUDA_PRIO_H */
