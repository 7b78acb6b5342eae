/*
 * mailbox.c - bounded 256-level priority mailbox, FIFO within each level.
 *
 * Two halves. Producers never take a lock in the steady state: a put reserves
 * a position in a bounded staging ring with one CAS on `head` (refused when
 * head - released >= capacity), writes the message and its priority into that
 * slot and publishes it with the slot's sequence number. The consumer half
 * (levels, nodes, statistics) lives under `lock`, which only takers and the
 * rare slow paths hold: every get first looks at the published slots in
 * position order, then takes the highest, oldest message. So a get sees every
 * put that completed before it, and priority order and per-sender FIFO order
 * are what a single lock would give; except that a look stops at the first
 * slot reserved but not yet published, so puts behind one still writing are
 * seen when it publishes (test seam: mailbox_hook.h).
 *
 * The run. While the levels are empty and every examined slot has the same
 * priority (one sender's stream, or everyone at the default 128), messages
 * stay in the ring: [take, tail) is a run of examined slots of priority
 * `rprio`, and a get takes ring[take], the oldest of the highest level, with no
 * node to link or unlink. The first examined message of another priority
 * moves the run into the levels (in order) and follows it there; from then on
 * new messages go to the levels until they are empty again. So a run is
 * non-empty only while the levels are empty, and every message is in exactly
 * one of the two.
 *
 * Skipping the look. Looking at the published slots means reading the line
 * producers are writing, a cache miss per get while they keep up. A get from a
 * run skips it unless a put above the run's priority completed since the last
 * look: puts at or below it would go behind the run anyway. The run's priority
 * is published as `floor` (seq_cst, when it changes); a put reads `floor`
 * after publishing and, when above it, raises `urgent` (an RMW, so that a
 * taker reading any put's 1 sees all their slots); a get looks when it finds
 * `urgent` (and clears it first). A put may read a `floor` that was just
 * replaced: its CAS on head then came before the taker's read of head that
 * followed the new floor (`verified`), so takes keep looking until the look
 * has passed `verified`. The put that raised `urgent` may also sit behind a
 * slot still being written, where the look that cleared the flag stopped:
 * that look raises `verified` to the head it then reads (the raiser's CAS came
 * before), so takes keep looking until past it.
 *
 * Invariants: `released` counts messages that left (taken, evicted, cleared)
 * and only grows; every one of them was at a position below `take`, so
 * released <= take, and head - released <= capacity <= ring size keeps a
 * producer off a slot still in the run or not yet examined. Under the lock:
 * bit p of `bits` is set iff level p's FIFO is non-empty; `queued` = tail -
 * released = run + linked nodes. Levels are found with one clz (ctz) per
 * 64-bit word, nodes are preallocated: O(1), no malloc after create.
 *
 * Sleeping: a getter that finds nothing raises get_waiters (a seq_cst RMW),
 * then looks again and also reads `head`: a position reserved but not yet
 * published means a put is between its CAS and its publish, so the getter
 * yields and looks again instead of sleeping. A producer reserves with a
 * seq_cst CAS on `head` and reads get_waiters after publishing; the two RMWs
 * are ordered, so either the getter sees the reservation or the producer sees
 * the waiter and signals under the lock (no lost wake-up), and the publish
 * itself is a plain release store: no fence per message.
 * A put that finds the mailbox full spins until a batch of room is free (an
 * eighth of the capacity, at most 64) rather than one slot, reading `released`
 * every 8th round, so that it and the taker do not trade the same cache lines
 * at every message; after the spin it takes any room, then sleeps (BLOCK) or
 * evicts (DROP_OLDEST) under the lock; takers signal not_full under the lock.
 */
#include "ringmesh/mailbox.h"
#include "queue/mailbox_hook.h"
#include "queue/wait.h"
#include "util/spin.h"
#include "util/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define NIL_NODE UINT32_MAX
#define LEVELS 256
#define GET_SPINS 2000
#define PUT_SPINS 2000
#define SAMPLE_MASK 31 /* one message in 32 carries an enqueue time for the wait histogram */


void (*rk_mailbox_reserved_hook)(void);

#define LOAD(p, o) __atomic_load_n((p), __ATOMIC_##o)
#define STORE(p, v, o) __atomic_store_n((p), (v), __ATOMIC_##o)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* 16 bytes, four to a cache line: the line a producer and a taker trade. */
typedef struct slot {
    uint64_t tag; /* TAG(position, priority) once the message at that position is published */
    rk_msg_t *msg;
} slot_t;

/* The priority rides with the position: the producer has the message in cache, the taker not.
 * Positions get 56 bits: 2^56 puts, 20 years at 100 M a second. */
#define TAG(pos, prio) ((((pos) + 1) << 8) | (uint64_t)(prio))
#define TAG_POS1(tag) ((tag) >> 8)
#define TAG_PRIO(tag) ((int)((tag) & 255))
/* Sampled positions (one in SAMPLE_MASK + 1) keep their enqueue time in stamps[]. */
#define SAMPLED(pos) (((pos) & SAMPLE_MASK) == 0)
#define STAMP(mb, pos) ((mb)->stamps[((pos) & (mb)->mask) / (SAMPLE_MASK + 1)])

typedef struct node {
    rk_msg_t *msg;
    uint32_t next;
    int64_t t_enq;
} node_t;

struct rk_mailbox {
    /* producers (atomics) */
    alignas(64) uint64_t head;   /* next position to reserve */
    uint64_t rcache;             /* a recent value of `released` (<= it): read instead of it */
    uint64_t put_by;             /* who put last and on which CPU (note_side; 0 unknown): a getter there does not spin */
    /* written by takers, read by producers only when the ring looks full */
    alignas(64) uint64_t released;
    uint64_t take_by;            /* who took last and on which CPU (note_side; 0 unknown): a put there does not spin */
    /* written by a getter about to sleep or starting a run, read by every put */
    alignas(64) uint32_t get_waiters;
    int top_waiter;  /* highest priority of a put waiting for room (BLOCK), -1 none: lower puts let it go first */
    int floor;       /* the priority of the latest run: a put above it raises `urgent` */
    uint32_t urgent; /* a put above `floor` published since a taker last looked */
    /* read-mostly */
    alignas(64) uint32_t capacity;
    rk_backpressure_t strategy;
    uint64_t mask;
    slot_t *slots;
    int64_t *stamps; /* enqueue times of the sampled positions, for the wait histogram */
    int closed;
    uint64_t rejected, timeouts, dropped; /* counted by producers (atomics) */
    uint64_t spins_cut;                   /* spin-waits cut short: the other side shares the CPU (atomic) */
    rk_mailbox_evict_fn evict_fn; /* told of each DROP_OLDEST victim */
    void *evict_arg;
    /* the consumer half, under lock */
    alignas(64) pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    uint64_t tail;   /* next position to examine (atomic store, read by spinners) */
    uint64_t take;   /* [take, tail): the run, examined slots of priority rprio left in the ring */
    int rprio;
    uint64_t verified; /* head when `floor` last changed: takes skip the look from tail >= verified */
    uint32_t queued; /* run + linked nodes (atomic store, read by spinners) */
    uint32_t free_head;
    int kicked;
    uint32_t put_waiters;
    uint16_t waiting_at[LEVELS]; /* puts waiting for room, per priority (and deliveries registered by the router) */
    uint64_t bits[4];
    uint32_t lhead[LEVELS];
    uint32_t ltail[LEVELS];
    rk_mailbox_stats_t st;
    uint32_t hist[HIST_BUCKETS]; /* enqueue -> dequeue wait times */
    node_t *nodes;
};

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
    uint64_t ring = 1;

    if (!out || capacity == 0 || capacity >= NIL_NODE || strategy > RK_BP_DROP_OLDEST)
        return RK_ERR_INVALID;
    while (ring < capacity) ring <<= 1;
    if (posix_memalign((void **)&mb, 64, sizeof *mb) != 0) return RK_ERR_NOMEM;
    memset(mb, 0, sizeof *mb);
    mb->top_waiter = -1;
    mb->nodes = calloc(capacity, sizeof(node_t));
    if (posix_memalign((void **)&mb->slots, 64, ring * sizeof(slot_t)) != 0) mb->slots = NULL;
    else memset(mb->slots, 0, ring * sizeof(slot_t));
    mb->stamps = calloc(ring / (SAMPLE_MASK + 1) + 1, sizeof(int64_t));
    if (!mb->nodes || !mb->slots || !mb->stamps) {
        free(mb->nodes);
        free(mb->slots);
        free(mb->stamps);
        free(mb);
        return RK_ERR_NOMEM;
    }
    pthread_mutex_init(&mb->lock, NULL);
    rk_cond_init_monotonic(&mb->not_empty);
    rk_cond_init_monotonic(&mb->not_full);
    mb->capacity = capacity;
    mb->strategy = strategy;
    mb->mask = ring - 1;
    for (uint32_t i = 0; i < capacity; i++) mb->nodes[i].next = i + 1 < capacity ? i + 1 : NIL_NODE;
    mb->free_head = 0;
    for (int l = 0; l < LEVELS; l++) mb->lhead[l] = mb->ltail[l] = NIL_NODE;
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
    free(mb->slots);
    free(mb->stamps);
    free(mb);
}

/* ---- consumer half (caller holds the lock) ------------------------------- */

/* Link @p msg at the tail of its level. */
static void link_tail(rk_mailbox_t *mb, rk_msg_t *msg, int p, int64_t t_enq)
{
    uint32_t i = mb->free_head;

    mb->free_head = mb->nodes[i].next;
    mb->nodes[i].msg = msg;
    mb->nodes[i].next = NIL_NODE;
    mb->nodes[i].t_enq = t_enq;
    if (mb->ltail[p] == NIL_NODE) {
        mb->lhead[p] = i;
        mb->bits[p >> 6] |= 1ull << (p & 63);
    } else {
        mb->nodes[mb->ltail[p]].next = i;
    }
    mb->ltail[p] = i;
}

static int levels_empty(const rk_mailbox_t *mb) { return !(mb->bits[0] | mb->bits[1] | mb->bits[2] | mb->bits[3]); }

/* No run in the ring: every queued message (if any) is in the levels. */
static int run_empty(const rk_mailbox_t *mb) { return mb->take == mb->tail; }

/* The lowest priority queued (a run has one level only), or -1 when nothing is. */
static int lowest_queued(const rk_mailbox_t *mb) { return run_empty(mb) ? lowest_level(mb) : mb->rprio; }

/* Move the run, oldest first, up to position @p end into the levels. */
static void flush_run(rk_mailbox_t *mb, uint64_t end)
{
    for (; mb->take != end; mb->take++) {
        slot_t *s = &mb->slots[mb->take & mb->mask];
        link_tail(mb, s->msg, TAG_PRIO(s->tag), SAMPLED(mb->take) ? STAMP(mb, mb->take) : 0);
    }
}

/* Examine every published slot in position order: extend the run or link into the levels. */
static void drain(rk_mailbox_t *mb)
{
    uint64_t t = mb->tail;
    uint32_t n = 0;
    for (;; t++, n++) {
        slot_t *s = &mb->slots[t & mb->mask];
        uint64_t tag = LOAD(&s->tag, ACQUIRE);
        if (TAG_POS1(tag) != t + 1) break;
        if (mb->take == t) { /* the run is empty: start one if the levels are empty too */
            if (levels_empty(mb)) {
                mb->rprio = TAG_PRIO(tag);
                if (mb->rprio != LOAD(&mb->floor, RELAXED)) {
                    /* Puts that read the old floor reserved below the head read
                     * after this store (seq_cst both): until the look has
                     * passed them, every take looks (see take_locked). */
                    STORE(&mb->floor, mb->rprio, SEQ_CST);
                    mb->verified = LOAD(&mb->head, SEQ_CST);
                }
                continue;
            }
        } else if (TAG_PRIO(tag) == mb->rprio) { /* the run goes on (levels are empty while it does) */
            continue;
        } else {
            flush_run(mb, t);
        }
        link_tail(mb, s->msg, TAG_PRIO(tag), SAMPLED(t) ? STAMP(mb, t) : 0);
        mb->take = t + 1;
    }
    if (!n) return;
    STORE(&mb->tail, t, RELAXED);
    STORE(&mb->queued, mb->queued + n, RELAXED);
    mb->st.enqueued += n;
    if (mb->queued > mb->st.high_water) mb->st.high_water = mb->queued;
}

/* A message left the mailbox: count it and let producers have its room. */
static void released_one(rk_mailbox_t *mb)
{
    STORE(&mb->queued, mb->queued - 1, RELAXED);
    STORE(&mb->released, mb->released + 1, RELEASE);
    if (mb->put_waiters == 1) pthread_cond_signal(&mb->not_full);
    else if (mb->put_waiters) pthread_cond_broadcast(&mb->not_full); /* the highest waiter must see it */
}

/*
 * Priority among waiting puts: a put that waits for room registers its
 * priority, and a put below the highest registered one does not take room
 * (not even on the lock-free path) while that one waits, so an urgent put
 * is admitted before bulk that waits too. Caller holds mb->lock.
 */
static void waiter_add(rk_mailbox_t *mb, int prio, int delta)
{
    int top = LOAD(&mb->top_waiter, RELAXED);
    mb->waiting_at[prio] = (uint16_t)(mb->waiting_at[prio] + delta);
    if (delta > 0 && prio > top) {
        STORE(&mb->top_waiter, prio, RELAXED);
    } else if (delta < 0 && prio == top && mb->waiting_at[prio] == 0) {
        int p = prio - 1;
        while (p >= 0 && !mb->waiting_at[p]) p--;
        STORE(&mb->top_waiter, p, RELAXED);
        if (mb->put_waiters) pthread_cond_broadcast(&mb->not_full); /* the next level may go now */
    }
}

/* Must a put of priority @p prio leave the room to a higher one that waits? */
static inline int outranked(const rk_mailbox_t *mb, int prio) { return LOAD(&mb->top_waiter, RELAXED) > prio; }

int rk_mailbox_top_waiter(const rk_mailbox_t *mb) { return LOAD(&mb->top_waiter, RELAXED); }

void rk_mailbox_waiter(rk_mailbox_t *mb, int prio, int delta)
{
    pthread_mutex_lock(&mb->lock);
    waiter_add(mb, prio & 255, delta);
    pthread_mutex_unlock(&mb->lock);
}

/* Unlink the head of level @p p, return its message; *@p t_enq gets its enqueue time. */
static rk_msg_t *unlink_head(rk_mailbox_t *mb, int p, int64_t *t_enq)
{
    uint32_t i = mb->lhead[p];
    rk_msg_t *msg = mb->nodes[i].msg;

    *t_enq = mb->nodes[i].t_enq;
    mb->lhead[p] = mb->nodes[i].next;
    if (mb->lhead[p] == NIL_NODE) {
        mb->ltail[p] = NIL_NODE;
        mb->bits[p >> 6] &= ~(1ull << (p & 63));
    }
    mb->nodes[i].msg = NULL;
    mb->nodes[i].next = mb->free_head;
    mb->free_head = i;
    released_one(mb);
    return msg;
}

/* Take the oldest message of the run. */
static rk_msg_t *take_run(rk_mailbox_t *mb, int64_t *t_enq)
{
    uint64_t pos = mb->take++;
    rk_msg_t *msg = mb->slots[pos & mb->mask].msg; /* read before released_one: then a producer may reuse the slot */
    *t_enq = SAMPLED(pos) ? STAMP(mb, pos) : 0;
    released_one(mb);
    return msg;
}

/* The message a get would take now (after a drain), or NULL. */
static rk_msg_t *head_msg(const rk_mailbox_t *mb)
{
    int p;
    if (!run_empty(mb)) return mb->slots[mb->take & mb->mask].msg;
    p = highest_level(mb);
    return p < 0 ? NULL : mb->nodes[mb->lhead[p]].msg;
}

/* Remove the highest, oldest message (or with @p lowest the lowest level's oldest); NULL when empty. */
static rk_msg_t *remove_one(rk_mailbox_t *mb, int lowest, int64_t *t_enq)
{
    int p;
    if (!run_empty(mb)) return take_run(mb, t_enq); /* one level only: highest = lowest */
    p = lowest ? lowest_level(mb) : highest_level(mb);
    return p < 0 ? NULL : unlink_head(mb, p, t_enq);
}

/* Take up to @p max messages, highest and oldest first, into @p out; returns how many. */
static uint32_t take_locked(rk_mailbox_t *mb, rk_msg_t **out, uint32_t max)
{
    uint32_t n = 0;
    int64_t t_enq, now = 0;
    rk_msg_t *m;
    /* A run's next message is the one to take unless a put above the run's
     * priority completed since the last look (it raised `urgent`): a put at or
     * below it would go behind the run anyway. So a take from a run skips the
     * look at the producers' frontier, a cache line they are writing. A batch
     * always looks, once: it takes what is there then, highest first. */
    if (max > 1 || run_empty(mb) || mb->tail < mb->verified || LOAD(&mb->urgent, ACQUIRE)) {
        if (LOAD(&mb->urgent, RELAXED) && __atomic_exchange_n(&mb->urgent, 0, __ATOMIC_ACQ_REL)) {
            /* The put that raised it may sit behind a slot reserved but not yet
             * published, where this look stops: keep looking until past it
             * (its CAS on head happened before its raise, which we read). */
            uint64_t h = LOAD(&mb->head, ACQUIRE);
            if (h > mb->verified) mb->verified = h;
        }
        drain(mb);
    }
    while (n < max && (m = remove_one(mb, 0, &t_enq)) != NULL) {
        if (t_enq) { /* a sampled message */
            if (!now) now = rk_mono_ns();
            int64_t waited = now - t_enq;
            if (waited < 0) waited = 0;
            mb->hist[hist_bucket((uint64_t)waited)]++;
            if ((uint64_t)waited > mb->st.wait_max_ns) mb->st.wait_max_ns = (uint64_t)waited;
        }
        out[n++] = m;
    }
    mb->st.dequeued += n;
    if (n) note_side(&mb->take_by);
    return n;
}

/* ---- producer half ------------------------------------------------------- */

/* Reserve a position: 1 and *@p pos on success, 0 when the mailbox is full. */
static int reserve(rk_mailbox_t *mb, uint64_t *pos)
{
    uint64_t h = LOAD(&mb->head, RELAXED);
    for (;;) {
        /* acquire/release on rcache too: the slot we reuse was read by the
         * taker before it raised `released`, and that must happen-before our write */
        if (h - LOAD(&mb->rcache, ACQUIRE) >= mb->capacity) {
            uint64_t r = LOAD(&mb->released, ACQUIRE);
            h = LOAD(&mb->head, RELAXED); /* read after r, so h >= r (a stale h could wrap) */
            if (h - r >= mb->capacity) return 0;
            STORE(&mb->rcache, r, RELEASE); /* racing stores may lower it: still <= released, so safe */
        }
        if (__atomic_compare_exchange_n(&mb->head, &h, h + 1, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
            *pos = h;
            return 1;
        }
    }
}

static void publish(rk_mailbox_t *mb, uint64_t pos, rk_msg_t *msg, int64_t t_enq)
{
    slot_t *s = &mb->slots[pos & mb->mask];
    note_side(&mb->put_by);
    s->msg = msg;
    if (t_enq) STAMP(mb, pos) = t_enq;
    int prio = msg->priority; /* once published, the message is the taker's */
    STORE(&s->tag, TAG(pos, prio), RELEASE);
    /* An RMW, not a store: a taker that reads another put's 1 must see this tag too. */
    if (prio > LOAD(&mb->floor, SEQ_CST)) __atomic_exchange_n(&mb->urgent, 1, __ATOMIC_RELEASE);
    /* Ordered after our CAS on head (both seq_cst), not after this release store: see the top. */
    if (LOAD(&mb->get_waiters, SEQ_CST)) {
        pthread_mutex_lock(&mb->lock);
        pthread_cond_signal(&mb->not_empty);
        pthread_mutex_unlock(&mb->lock);
    }
}

/* The full mailbox under BLOCK or DROP_OLDEST: reserve under the lock, waiting or evicting. */
static rk_status_t reserve_slow(rk_mailbox_t *mb, const rk_msg_t *msg, int64_t timeout_us, uint64_t *pos,
                                rk_msg_t **victim)
{
    struct timespec dl;
    rk_status_t st = RK_OK;

    int registered = 0;
    if (mb->strategy == RK_BP_BLOCK) {
        if (timeout_us == 0) {
            ADD(&mb->timeouts, 1);
            return RK_ERR_TIMEOUT;
        }
        rk_mailbox_waiter(mb, msg->priority, 1);
        registered = 1;
        /* Spin a little before sleeping, as a getter does: a taker frees room within
         * ~100 ns when it is running, and a sleep costs it a signal per message. */
        int got = 0, n = spin_budget(timeout_us, PUT_SPINS);
        uint64_t batch = mb->capacity / 8 > 64 ? 64 : mb->capacity / 8 + 1;
        rk_spin_begin();
        for (int i = 0; i < n && !got && spin_on(i, &mb->take_by, &mb->spins_cut); i++) {
            if (LOAD(&mb->closed, RELAXED)) break;
            /* look every 8th round for a batch of room, the last round for any */
            if ((i & 7) == 7 || i + 1 == n) {
                uint64_t used = LOAD(&mb->head, RELAXED) - LOAD(&mb->released, ACQUIRE);
                if ((used + batch <= mb->capacity || i + 1 == n) && !outranked(mb, msg->priority)) got = reserve(mb, pos);
            }
            if (!got) rk_spin_round((unsigned)i);
        }
        rk_spin_end();
        if (got || LOAD(&mb->closed, RELAXED)) {
            rk_mailbox_waiter(mb, msg->priority, -1);
            return got ? RK_OK : RK_ERR_TERMINATED;
        }
    }
    if (timeout_us > 0) dl = rk_deadline(timeout_us);
    pthread_mutex_lock(&mb->lock);
    for (;;) {
        if (LOAD(&mb->closed, RELAXED)) {
            st = RK_ERR_TERMINATED;
            break;
        }
        if (!outranked(mb, msg->priority) && reserve(mb, pos)) break;
        if (mb->strategy == RK_BP_DROP_OLDEST) {
            drain(mb);
            int low = lowest_queued(mb);
            if (low < 0) { /* every slot is reserved by producers still writing: let them finish */
                pthread_mutex_unlock(&mb->lock);
                sched_yield();
                pthread_mutex_lock(&mb->lock);
                continue;
            }
            ADD(&mb->dropped, 1);
            if (low > msg->priority) { /* everything queued outranks the newcomer */
                st = RK_ERR_DROPPED;
                break;
            }
            if (*victim && mb->evict_fn) mb->evict_fn(mb->evict_arg, *victim);
            rk_msg_free(*victim); /* this loop ran before (another producer took the room freed then): both evictions stand */
            int64_t t_enq;
            *victim = remove_one(mb, 1, &t_enq);
            continue;
        }
        mb->put_waiters++;
        int rc = wait_until(&mb->not_full, &mb->lock, timeout_us, &dl);
        mb->put_waiters--;
        if (rc == ETIMEDOUT) {
            if (LOAD(&mb->closed, RELAXED)) st = RK_ERR_TERMINATED;
            else if (!reserve(mb, pos)) { /* one last look at the deadline */
                ADD(&mb->timeouts, 1);
                st = RK_ERR_TIMEOUT;
            }
            break;
        }
    }
    if (registered) waiter_add(mb, msg->priority, -1);
    pthread_mutex_unlock(&mb->lock);
    return st;
}

rk_status_t rk_mailbox_put(rk_mailbox_t *mb, rk_msg_t *msg, int64_t timeout_us)
{
    rk_msg_t *victim = NULL;
    uint64_t pos;
    int64_t t_enq;

    if (!mb || !msg) return RK_ERR_INVALID;
    if (LOAD(&mb->closed, RELAXED)) return RK_ERR_TERMINATED;
    if (outranked(mb, msg->priority) || !reserve(mb, &pos)) {
        rk_status_t st;
        if (mb->strategy == RK_BP_REJECT) {
            ADD(&mb->rejected, 1);
            return RK_ERR_FULL;
        }
        st = reserve_slow(mb, msg, timeout_us, &pos, &victim);
        if (st != RK_OK) {
            if (victim && mb->evict_fn) mb->evict_fn(mb->evict_arg, victim);
            rk_msg_free(victim);
            return st;
        }
    }
    if (__builtin_expect(LOAD(&rk_mailbox_reserved_hook, RELAXED) != NULL, 0)) rk_mailbox_reserved_hook();
    /* The clock costs ~20 ns a read here: only sampled positions are timed. */
    t_enq = SAMPLED(pos) ? rk_mono_ns() : 0;
    publish(mb, pos, msg, t_enq);
    if (victim) {
        if (mb->evict_fn) mb->evict_fn(mb->evict_arg, victim);
        rk_msg_free(victim);
    }
    return RK_OK;
}

void rk_mailbox_set_evict_hook(rk_mailbox_t *mb, rk_mailbox_evict_fn fn, void *arg)
{
    mb->evict_fn = fn;
    mb->evict_arg = arg;
}

/* ---- takers -------------------------------------------------------------- */

/* Something to take, as far as a thread without the lock can tell. */
static int looks_ready(rk_mailbox_t *mb)
{
    uint64_t t = LOAD(&mb->tail, RELAXED);
    return LOAD(&mb->queued, RELAXED) || TAG_POS1(LOAD(&mb->slots[t & mb->mask].tag, RELAXED)) == t + 1 ||
           LOAD(&mb->closed, RELAXED) || LOAD(&mb->kicked, RELAXED);
}

rk_status_t rk_mailbox_try_get(rk_mailbox_t *mb, rk_msg_t **out)
{
    rk_status_t st;
    if (!mb || !out) return RK_ERR_INVALID;
    /* Polling loops call this back to back: say "empty" without the lock when
     * nothing is published (a put that returned before this call is seen). */
    if (!looks_ready(mb)) return RK_ERR_EMPTY;
    pthread_mutex_lock(&mb->lock);
    if (mb->kicked) { /* a kick wins over a queued message: the taker re-checks its state first */
        mb->kicked = 0;
        st = RK_ERR_TIMEOUT;
    } else {
        st = take_locked(mb, out, 1) ? RK_OK : LOAD(&mb->closed, RELAXED) ? RK_ERR_TERMINATED : RK_ERR_EMPTY;
    }
    pthread_mutex_unlock(&mb->lock);
    return st;
}

/* rk_mailbox_get and rk_mailbox_get_batch: wait for one message, take up to @p max. */
static rk_status_t get_some(rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out, uint32_t max, uint32_t *got)
{
    struct timespec dl;
    int64_t dl_ns = 0;
    unsigned unpublished = 0; /* looks that found a put between its reserve and its publish */
    rk_status_t st;
    uint32_t n = 0;

    /* Spin a little before sleeping: most hand-offs land here. */
    if (!looks_ready(mb)) {
        rk_spin_begin();
        for (int i = 0, spins = spin_budget(timeout_us, GET_SPINS);
             i < spins && !looks_ready(mb) && spin_on(i, &mb->put_by, &mb->spins_cut); i++)
            rk_spin_round((unsigned)i);
        rk_spin_end();
    }
    if (timeout_us > 0) {
        dl = rk_deadline(timeout_us);
        int64_t now = rk_mono_ns();
        dl_ns = timeout_us < (INT64_MAX - now) / 1000 ? now + timeout_us * 1000 : INT64_MAX;
    }
    pthread_mutex_lock(&mb->lock);
    for (;;) {
        /* The kick is checked before the queue: a message put after a state
         * change (whose kick this is) must not be taken under the old state. */
        if (mb->kicked) {
            mb->kicked = 0;
            st = RK_ERR_TIMEOUT;
            break;
        }
        if ((n = take_locked(mb, out, max)) != 0) {
            st = RK_OK;
            break;
        }
        if (LOAD(&mb->closed, RELAXED)) {
            st = RK_ERR_TERMINATED;
            break;
        }
        if (timeout_us == 0) {
            st = RK_ERR_TIMEOUT;
            break;
        }
        __atomic_fetch_add(&mb->get_waiters, 1, __ATOMIC_SEQ_CST);
        drain(mb); /* a put published before our raise is seen here; one reserved after it signals */
        int rc = 0;
        if (mb->queued) {
        } else if (LOAD(&mb->head, SEQ_CST) != mb->tail) { /* a put between its reserve and publish */
            if (timeout_us > 0 && rk_mono_ns() >= dl_ns) {
                rc = ETIMEDOUT;
            } else if (++unpublished < 64) {
                pthread_mutex_unlock(&mb->lock);
                sched_yield();
                pthread_mutex_lock(&mb->lock);
            } else { /* the producer is not running (a real-time getter on its CPU?): sleep a little */
                struct timespec nap = rk_deadline(50);
                (void)pthread_cond_timedwait(&mb->not_empty, &mb->lock, &nap); /* then look again */
            }
        } else {
            rc = wait_until(&mb->not_empty, &mb->lock, timeout_us, &dl);
        }
        __atomic_fetch_sub(&mb->get_waiters, 1, __ATOMIC_RELAXED);
        if (rc == ETIMEDOUT) {
            n = take_locked(mb, out, max);
            st = n ? RK_OK : LOAD(&mb->closed, RELAXED) ? RK_ERR_TERMINATED : RK_ERR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&mb->lock);
    *got = n;
    return st;
}

rk_status_t rk_mailbox_get(rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out)
{
    uint32_t n;
    if (!mb || !out) return RK_ERR_INVALID;
    return get_some(mb, timeout_us, out, 1, &n);
}

rk_status_t rk_mailbox_get_batch(rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out, uint32_t max, uint32_t *n)
{
    if (n) *n = 0;
    if (!mb || !out || !n || max == 0) return RK_ERR_INVALID;
    return get_some(mb, timeout_us, out, max, n);
}

rk_status_t rk_mailbox_peek(rk_mailbox_t *mb, const rk_msg_t **out)
{
    rk_msg_t *m;
    if (!mb || !out) return RK_ERR_INVALID;
    pthread_mutex_lock(&mb->lock);
    drain(mb);
    m = head_msg(mb);
    if (m) *out = m;
    pthread_mutex_unlock(&mb->lock);
    return m ? RK_OK : RK_ERR_EMPTY;
}

int rk_mailbox_peek_all(rk_mailbox_t *mb, const rk_msg_t **out)
{
    rk_msg_t *m = NULL;
    rk_status_t st;
    if (!mb || !out) return RK_ERR_INVALID;
    pthread_mutex_lock(&mb->lock);
    drain(mb);
    if (LOAD(&mb->head, SEQ_CST) != mb->tail) st = RK_ERR_TIMEOUT; /* a put is mid-way: the view is partial */
    else st = (m = head_msg(mb)) != NULL ? RK_OK : RK_ERR_EMPTY;
    if (m) *out = m;
    pthread_mutex_unlock(&mb->lock);
    return st;
}

uint32_t rk_mailbox_clear(rk_mailbox_t *mb)
{
    uint32_t n = 0;
    int64_t t_enq;
    rk_msg_t *m;
    if (!mb) return 0;
    pthread_mutex_lock(&mb->lock);
    drain(mb);
    while ((m = remove_one(mb, 0, &t_enq)) != NULL) {
        rk_msg_free(m);
        n++;
    }
    pthread_mutex_unlock(&mb->lock);
    return n;
}

uint32_t rk_mailbox_size(const rk_mailbox_t *mb)
{
    if (!mb) return 0;
    uint64_t r = LOAD(&mb->released, ACQUIRE), h = LOAD(&mb->head, ACQUIRE);
    /* reserved positions count (a put in progress); a stale pair is clamped */
    return h > r ? (uint32_t)(h - r > mb->capacity ? mb->capacity : h - r) : 0;
}

uint32_t rk_mailbox_capacity(const rk_mailbox_t *mb) { return mb ? mb->capacity : 0; }

void rk_mailbox_get_stats(const rk_mailbox_t *mb, rk_mailbox_stats_t *out)
{
    rk_mailbox_t *m = (rk_mailbox_t *)mb;
    if (!mb || !out) return;
    pthread_mutex_lock(&m->lock);
    drain(m);
    *out = m->st;
    out->depth = m->queued;
    out->rejected = LOAD(&m->rejected, RELAXED);
    out->timeouts = LOAD(&m->timeouts, RELAXED);
    out->spins_cut = LOAD(&m->spins_cut, RELAXED);
    out->dropped = LOAD(&m->dropped, RELAXED);
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
    STORE(&mb->closed, 1, RELAXED);
    pthread_cond_broadcast(&mb->not_empty);
    pthread_cond_broadcast(&mb->not_full);
    pthread_mutex_unlock(&mb->lock);
}

void rk_mailbox_kick(rk_mailbox_t *mb)
{
    if (!mb) return;
    pthread_mutex_lock(&mb->lock);
    STORE(&mb->kicked, 1, RELAXED);
    pthread_cond_broadcast(&mb->not_empty);
    pthread_mutex_unlock(&mb->lock);
}
