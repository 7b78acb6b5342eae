/*
 * mailbox.c - bounded 256-level priority mailbox, FIFO within each level.
 *
 * Invariants (under mb->lock): bit p of `bits` is set iff level p's FIFO is
 * non-empty; `depth` equals the number of linked nodes; free nodes form a
 * singly linked list through `next`. Every operation touches a constant number
 * of nodes, and the highest (lowest) level is found with one clz (ctz) per
 * 64-bit word, so put and get are O(1). Nodes are preallocated: no malloc
 * after create. A getter spins briefly before sleeping on the condition
 * variable, which keeps hand-off latency low without burning a core forever.
 */
#include "ringmesh/mailbox.h"
#include "timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NIL_NODE UINT32_MAX
#define LEVELS 256
#define GET_SPINS 2000

#define HIST_BUCKETS 256 /* 4 sub-buckets per power of two of nanoseconds */

typedef struct node {
    rk_msg_t *msg;
    uint32_t next;
    int64_t t_enq; /* monotonic ns at enqueue, for the wait-time histogram */
} node_t;

struct rk_mailbox {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    uint32_t capacity;
    rk_backpressure_t strategy;
    uint32_t depth;       /* read without the lock by size() and spinners */
    uint32_t free_head;
    int closed;
    int kicked;
    uint32_t get_waiters;
    uint32_t put_waiters;
    uint64_t bits[4];
    uint32_t head[LEVELS];
    uint32_t tail[LEVELS];
    rk_mailbox_stats_t st;
    uint32_t hist[HIST_BUCKETS]; /* enqueue -> dequeue wait times */
    node_t *nodes;
};

static int hist_bucket(uint64_t ns)
{
    if (ns < 4) return (int)ns;
    int e = 63 - __builtin_clzll(ns);
    return e * 4 + (int)((ns >> (e - 2)) & 3);
}

/* Upper bound of a bucket's range, in ns. */
static uint64_t hist_upper(int b)
{
    if (b < 4) return (uint64_t)b;
    int e = b / 4, sub = b % 4;
    if (e >= 62) return UINT64_MAX;
    return ((uint64_t)(4 + sub + 1) << (e - 2)) - 1;
}

static uint64_t hist_percentile(const uint32_t *h, uint64_t total, double q)
{
    uint64_t want = (uint64_t)(q * (double)total), seen = 0;
    if (total == 0) return 0;
    if (want >= total) want = total - 1;
    for (int b = 0; b < HIST_BUCKETS; b++) {
        seen += h[b];
        if (seen > want) return hist_upper(b);
    }
    return hist_upper(HIST_BUCKETS - 1);
}

static int highest_level(const rk_mailbox_t *mb)
{
    for (int w = 3; w >= 0; w--)
        if (mb->bits[w]) return w * 64 + 63 - __builtin_clzll(mb->bits[w]);
    return -1;
}

static int lowest_level(const rk_mailbox_t *mb)
{
    for (int w = 0; w < 4; w++)
        if (mb->bits[w]) return w * 64 + __builtin_ctzll(mb->bits[w]);
    return -1;
}

rk_status_t rk_mailbox_create(uint32_t capacity, rk_backpressure_t strategy, rk_mailbox_t **out)
{
    rk_mailbox_t *mb;

    if (!out || capacity == 0 || capacity >= NIL_NODE || strategy > RK_BP_DROP_OLDEST)
        return RK_ERR_INVALID;
    mb = calloc(1, sizeof *mb);
    if (!mb) return RK_ERR_NOMEM;
    mb->nodes = calloc(capacity, sizeof(node_t));
    if (!mb->nodes) {
        free(mb);
        return RK_ERR_NOMEM;
    }
    pthread_mutex_init(&mb->lock, NULL);
    rk_cond_init_monotonic(&mb->not_empty);
    rk_cond_init_monotonic(&mb->not_full);
    mb->capacity = capacity;
    mb->strategy = strategy;
    for (uint32_t i = 0; i < capacity; i++) mb->nodes[i].next = i + 1 < capacity ? i + 1 : NIL_NODE;
    mb->free_head = 0;
    for (int l = 0; l < LEVELS; l++) mb->head[l] = mb->tail[l] = NIL_NODE;
    *out = mb;
    return RK_OK;
}

void rk_mailbox_destroy(rk_mailbox_t *mb)
{
    if (!mb) return;
    rk_mailbox_clear(mb);
    pthread_mutex_destroy(&mb->lock);
    pthread_cond_destroy(&mb->not_empty);
    pthread_cond_destroy(&mb->not_full);
    free(mb->nodes);
    free(mb);
}

/* Link @p msg at the tail of its level. Caller holds the lock and depth < capacity. */
static void link_tail(rk_mailbox_t *mb, rk_msg_t *msg)
{
    uint32_t i = mb->free_head;
    int p = msg->priority;

    mb->free_head = mb->nodes[i].next;
    mb->nodes[i].msg = msg;
    mb->nodes[i].next = NIL_NODE;
    mb->nodes[i].t_enq = rk_mono_ns();
    if (mb->tail[p] == NIL_NODE) {
        mb->head[p] = i;
        mb->bits[p >> 6] |= 1ull << (p & 63);
    } else {
        mb->nodes[mb->tail[p]].next = i;
    }
    mb->tail[p] = i;
    __atomic_store_n(&mb->depth, mb->depth + 1, __ATOMIC_RELEASE);
    if (mb->depth > mb->st.high_water) mb->st.high_water = mb->depth;
    mb->st.enqueued++;
}

/* Unlink the head of level @p p and return its message. Caller holds the lock. */
static rk_msg_t *unlink_head(rk_mailbox_t *mb, int p)
{
    uint32_t i = mb->head[p];
    rk_msg_t *msg = mb->nodes[i].msg;

    mb->head[p] = mb->nodes[i].next;
    if (mb->head[p] == NIL_NODE) {
        mb->tail[p] = NIL_NODE;
        mb->bits[p >> 6] &= ~(1ull << (p & 63));
    }
    mb->nodes[i].msg = NULL;
    mb->nodes[i].next = mb->free_head;
    mb->free_head = i;
    __atomic_store_n(&mb->depth, mb->depth - 1, __ATOMIC_RELEASE);
    return msg;
}

/* Wait on @p cv until @p deadline; returns ETIMEDOUT when it passed. */
static int wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t timeout_us, const struct timespec *dl)
{
    if (timeout_us < 0) return pthread_cond_wait(cv, m);
    return pthread_cond_timedwait(cv, m, dl);
}

rk_status_t rk_mailbox_put(rk_mailbox_t *mb, rk_msg_t *msg, int64_t timeout_us)
{
    struct timespec dl;
    rk_msg_t *victim = NULL;
    rk_status_t st = RK_OK;

    if (!mb || !msg) return RK_ERR_INVALID;
    if (timeout_us > 0) dl = rk_deadline(timeout_us);
    pthread_mutex_lock(&mb->lock);
    while (!mb->closed && mb->depth >= mb->capacity) {
        if (mb->strategy == RK_BP_REJECT) {
            mb->st.rejected++;
            st = RK_ERR_FULL;
            goto out;
        }
        if (mb->strategy == RK_BP_DROP_OLDEST) {
            int low = lowest_level(mb);
            mb->st.dropped++;
            if (low > msg->priority) { /* everything queued outranks the newcomer */
                st = RK_ERR_DROPPED;
                goto out;
            }
            victim = unlink_head(mb, low);
            break;
        }
        if (timeout_us == 0) {
            mb->st.timeouts++;
            st = RK_ERR_TIMEOUT;
            goto out;
        }
        mb->put_waiters++;
        int rc = wait_until(&mb->not_full, &mb->lock, timeout_us, &dl);
        mb->put_waiters--;
        if (rc == ETIMEDOUT && !mb->closed && mb->depth >= mb->capacity) {
            mb->st.timeouts++;
            st = RK_ERR_TIMEOUT;
            goto out;
        }
    }
    if (mb->closed) {
        st = RK_ERR_TERMINATED;
        goto out;
    }
    link_tail(mb, msg);
    if (mb->get_waiters) pthread_cond_signal(&mb->not_empty);
out:
    pthread_mutex_unlock(&mb->lock);
    rk_msg_free(victim);
    return st;
}

static rk_status_t take_locked(rk_mailbox_t *mb, rk_msg_t **out)
{
    int p = highest_level(mb);
    if (p < 0) return RK_ERR_EMPTY;
    int64_t waited = rk_mono_ns() - mb->nodes[mb->head[p]].t_enq;
    if (waited < 0) waited = 0;
    mb->hist[hist_bucket((uint64_t)waited)]++;
    if ((uint64_t)waited > mb->st.wait_max_ns) mb->st.wait_max_ns = (uint64_t)waited;
    *out = unlink_head(mb, p);
    mb->st.dequeued++;
    if (mb->put_waiters) pthread_cond_signal(&mb->not_full);
    return RK_OK;
}

rk_status_t rk_mailbox_try_get(rk_mailbox_t *mb, rk_msg_t **out)
{
    rk_status_t st;
    if (!mb || !out) return RK_ERR_INVALID;
    pthread_mutex_lock(&mb->lock);
    if (mb->kicked) { /* a kick wins over a queued message: the taker re-checks its state first */
        mb->kicked = 0;
        st = RK_ERR_TIMEOUT;
    } else {
        st = take_locked(mb, out);
        if (st == RK_ERR_EMPTY && mb->closed) st = RK_ERR_TERMINATED;
    }
    pthread_mutex_unlock(&mb->lock);
    return st;
}

rk_status_t rk_mailbox_get(rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out)
{
    struct timespec dl;
    rk_status_t st;

    if (!mb || !out) return RK_ERR_INVALID;
    /* Spin a little on the lock-free depth before sleeping: most hand-offs land here. */
    for (int i = 0; timeout_us != 0 && i < GET_SPINS; i++) {
        if (__atomic_load_n(&mb->depth, __ATOMIC_ACQUIRE) || __atomic_load_n(&mb->closed, __ATOMIC_RELAXED) ||
            __atomic_load_n(&mb->kicked, __ATOMIC_RELAXED))
            break;
        rk_cpu_relax();
    }
    if (timeout_us > 0) dl = rk_deadline(timeout_us);
    pthread_mutex_lock(&mb->lock);
    for (;;) {
        /* The kick is checked before the queue: a message put after a state
         * change (whose kick this is) must not be taken under the old state. */
        if (mb->kicked) {
            mb->kicked = 0;
            st = RK_ERR_TIMEOUT;
            break;
        }
        st = take_locked(mb, out);
        if (st == RK_OK) break;
        if (mb->closed) {
            st = RK_ERR_TERMINATED;
            break;
        }
        if (timeout_us == 0) {
            st = RK_ERR_TIMEOUT;
            break;
        }
        mb->get_waiters++;
        int rc = wait_until(&mb->not_empty, &mb->lock, timeout_us, &dl);
        mb->get_waiters--;
        if (rc == ETIMEDOUT) {
            st = take_locked(mb, out);
            if (st != RK_OK) st = mb->closed ? RK_ERR_TERMINATED : RK_ERR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&mb->lock);
    return st;
}

rk_status_t rk_mailbox_peek(rk_mailbox_t *mb, const rk_msg_t **out)
{
    int p;
    if (!mb || !out) return RK_ERR_INVALID;
    pthread_mutex_lock(&mb->lock);
    p = highest_level(mb);
    if (p >= 0) *out = mb->nodes[mb->head[p]].msg;
    pthread_mutex_unlock(&mb->lock);
    return p >= 0 ? RK_OK : RK_ERR_EMPTY;
}

uint32_t rk_mailbox_clear(rk_mailbox_t *mb)
{
    uint32_t n = 0;
    int p;
    if (!mb) return 0;
    pthread_mutex_lock(&mb->lock);
    while ((p = highest_level(mb)) >= 0) {
        rk_msg_free(unlink_head(mb, p));
        n++;
    }
    if (mb->put_waiters) pthread_cond_broadcast(&mb->not_full);
    pthread_mutex_unlock(&mb->lock);
    return n;
}

uint32_t rk_mailbox_size(const rk_mailbox_t *mb) { return mb ? __atomic_load_n(&mb->depth, __ATOMIC_ACQUIRE) : 0; }
uint32_t rk_mailbox_capacity(const rk_mailbox_t *mb) { return mb ? mb->capacity : 0; }

void rk_mailbox_get_stats(const rk_mailbox_t *mb, rk_mailbox_stats_t *out)
{
    rk_mailbox_t *m = (rk_mailbox_t *)mb;
    if (!mb || !out) return;
    pthread_mutex_lock(&m->lock);
    *out = m->st;
    out->depth = m->depth;
    uint64_t total = 0;
    for (int b = 0; b < HIST_BUCKETS; b++) total += m->hist[b];
    out->wait_p50_ns = hist_percentile(m->hist, total, 0.50);
    out->wait_p99_ns = hist_percentile(m->hist, total, 0.99);
    pthread_mutex_unlock(&m->lock);
}

void rk_mailbox_close(rk_mailbox_t *mb)
{
    if (!mb) return;
    pthread_mutex_lock(&mb->lock);
    __atomic_store_n(&mb->closed, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&mb->not_empty);
    pthread_cond_broadcast(&mb->not_full);
    pthread_mutex_unlock(&mb->lock);
}

void rk_mailbox_kick(rk_mailbox_t *mb)
{
    if (!mb) return;
    pthread_mutex_lock(&mb->lock);
    __atomic_store_n(&mb->kicked, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&mb->not_empty);
    pthread_mutex_unlock(&mb->lock);
}
