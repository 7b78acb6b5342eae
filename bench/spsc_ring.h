/*
 * spsc_ring.h - the mailbox benchmark's baseline: a bare bounded lock-free
 * single-producer single-consumer ring of pointers (C11 atomics).
 *
 * The producer owns `head` and the consumer owns `tail`; each side caches the
 * other's index on its own cache line and re-reads it (acquire) only when the
 * ring looks full or empty, so a hand-off in the steady state costs one
 * release store per side. Waiting spins (pause) like rk_mailbox's getter,
 * then yields the CPU: never a lock, never a condition variable.
 */
#ifndef RK_BENCH_SPSC_RING_H
#define RK_BENCH_SPSC_RING_H

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include "bench_util.h"

#define SPSC_SPINS 2000

typedef struct spsc_ring {
    alignas(64) atomic_size_t head; /* producer: next slot to write */
    size_t cached_tail;
    alignas(64) atomic_size_t tail; /* consumer: next slot to read */
    size_t cached_head;
    alignas(64) size_t mask;
    void **slots;
} spsc_ring_t;

/** @p capacity must be a power of two. Returns 0 on success. */
static inline int spsc_init(spsc_ring_t *r, size_t capacity)
{
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->cached_tail = r->cached_head = 0;
    r->mask = capacity - 1;
    r->slots = calloc(capacity, sizeof *r->slots);
    return r->slots ? 0 : -1;
}

static inline void spsc_fini(spsc_ring_t *r) { free(r->slots); }

static inline void spsc_wait(int *spins)
{
    if (++*spins < SPSC_SPINS) bench_relax();
    else sched_yield();
}

/** Blocking push (producer thread only). */
static inline void spsc_push(spsc_ring_t *r, void *p)
{
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    int spins = 0;
    while (h - r->cached_tail > r->mask) {
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h - r->cached_tail > r->mask) spsc_wait(&spins);
    }
    r->slots[h & r->mask] = p;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/** Blocking pop (consumer thread only). */
static inline void *spsc_pop(spsc_ring_t *r)
{
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    int spins = 0;
    void *p;
    while (t == r->cached_head) {
        r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t == r->cached_head) spsc_wait(&spins);
    }
    p = r->slots[t & r->mask];
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return p;
}

#endif
