/*
 * pool.c - per-thread caches over a shared depot, one free list per class.
 *
 * Invariant: a free block's first 8 bytes hold the next pointer of whichever
 * list it is on; a block is on at most one list. Thread caches hold up to
 * CACHE_MAX blocks per class and move BATCH blocks at a time to or from the
 * depot (one mutex per class), so the depot lock is taken once per BATCH
 * operations at most. A thread's cache is returned to the depot when it exits.
 */
#include "msg/pool.h"

#include <pthread.h>
#include <stdlib.h>

/* Under AddressSanitizer (or -DRK_POOL_PASSTHROUGH) blocks go straight to
 * malloc/free, so ASan sees every use-after-free and overrun that block
 * reuse would otherwise hide. */
#if defined(__SANITIZE_ADDRESS__)
#define RK_POOL_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RK_POOL_PASSTHROUGH 1
#endif
#endif

#define CACHE_MAX 128
#define BATCH 32
#define DEPOT_MAX 8192 /* blocks per class kept for reuse; beyond that, free() */

typedef struct free_node {
    struct free_node *next;
} free_node_t;

typedef struct tcache {
    free_node_t *head[RK_POOL_CLASSES];
    uint32_t count[RK_POOL_CLASSES];
    int registered;
} tcache_t;

typedef struct depot {
    pthread_mutex_t lock;
    free_node_t *head;
    uint32_t count;
} depot_t;

static depot_t depots[RK_POOL_CLASSES];
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_key_t pool_key;
static uint64_t sys_allocs;
/* initial-exec: a fixed offset from the thread pointer instead of a __tls_get_addr
 * call on every alloc and free (~170 bytes of the static TLS a dlopen may use). */
static _Thread_local tcache_t tc __attribute__((tls_model("initial-exec")));

static void depot_put_list(int c, free_node_t *head, free_node_t *tail, uint32_t n)
{
    depot_t *d = &depots[c];
    pthread_mutex_lock(&d->lock);
    if (d->count + n <= DEPOT_MAX) {
        tail->next = d->head;
        d->head = head;
        d->count += n;
        head = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    for (uint32_t i = 0; head && i < n; i++) { /* depot full: give the memory back */
        free_node_t *next = head->next;
        free(head);
        head = next;
    }
}

static void cache_flush(tcache_t *t, int c, uint32_t keep)
{
    free_node_t *head, *tail;
    uint32_t n = 0;

    if (t->count[c] <= keep) return;
    head = tail = t->head[c];
    n = 1;
    while (n < t->count[c] - keep) {
        tail = tail->next;
        n++;
    }
    t->head[c] = tail->next;
    t->count[c] -= n;
    depot_put_list(c, head, tail, n);
}

static void thread_exit(void *arg)
{
    tcache_t *t = arg;
    for (int c = 0; c < RK_POOL_CLASSES; c++) cache_flush(t, c, 0);
}

static void pool_init(void)
{
    for (int c = 0; c < RK_POOL_CLASSES; c++) pthread_mutex_init(&depots[c].lock, NULL);
    pthread_key_create(&pool_key, thread_exit);
}

static int size_class(size_t size)
{
    size_t cls_size = (size_t)1 << RK_POOL_MIN_SHIFT;
    for (int c = 0; c < RK_POOL_CLASSES; c++, cls_size <<= 1)
        if (size <= cls_size) return c;
    return -1;
}

static void cache_refill(tcache_t *t, int c)
{
    depot_t *d = &depots[c];
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < BATCH && d->head; i++) {
        free_node_t *n = d->head;
        d->head = n->next;
        d->count--;
        n->next = t->head[c];
        t->head[c] = n;
        t->count[c]++;
    }
    pthread_mutex_unlock(&d->lock);
}

void *rk_pool_alloc(size_t size, uint8_t *cls, size_t *usable)
{
    int c = size_class(size);
    free_node_t *n;

#ifdef RK_POOL_PASSTHROUGH
    c = -1;
#endif
    if (c < 0) {
        *cls = RK_POOL_NONE;
        *usable = size;
        __atomic_fetch_add(&sys_allocs, 1, __ATOMIC_RELAXED);
        return malloc(size);
    }
    if (!tc.registered) {
        pthread_once(&pool_once, pool_init);
        tc.registered = 1;
        pthread_setspecific(pool_key, &tc);
    }
    *cls = (uint8_t)c;
    *usable = (size_t)1 << (RK_POOL_MIN_SHIFT + c);
    if (!tc.head[c]) cache_refill(&tc, c);
    n = tc.head[c];
    if (n) {
        tc.head[c] = n->next;
        tc.count[c]--;
        return n;
    }
    __atomic_fetch_add(&sys_allocs, 1, __ATOMIC_RELAXED);
    return malloc(*usable);
}

void rk_pool_free(void *p, uint8_t cls)
{
    free_node_t *n = p;

    if (!p) return;
    if (cls == RK_POOL_NONE || cls >= RK_POOL_CLASSES) {
        free(p);
        return;
    }
    if (!tc.registered) {
        pthread_once(&pool_once, pool_init);
        tc.registered = 1;
        pthread_setspecific(pool_key, &tc);
    }
    n->next = tc.head[cls];
    tc.head[cls] = n;
    if (++tc.count[cls] > CACHE_MAX) cache_flush(&tc, cls, CACHE_MAX - BATCH);
}

int rk_pool_passthrough(void)
{
#ifdef RK_POOL_PASSTHROUGH
    return 1;
#else
    return 0;
#endif
}

uint64_t rk_pool_sys_allocs(void) { return __atomic_load_n(&sys_allocs, __ATOMIC_RELAXED); }
