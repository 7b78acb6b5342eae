/**
 * @file ringmesh/mailbox.h
 * @brief Bounded priority mailbox: 256 levels, FIFO per level.
 *
 * Enqueue and dequeue are O(1): a put takes no lock (it reserves a slot of a
 * bounded staging ring with one CAS and publishes it with a plain store)
 * unless it must wait (BLOCK) or evict (DROP_OLDEST); a get looks at the
 * published slots and, while they all have one priority, takes them straight
 * from the ring; otherwise it moves them into 256 intrusive per-level FIFOs
 * and a 256-bit bitmap of non-empty levels finds the highest one with a
 * count-leading-zeros. A get sees every put that returned before it started,
 * except one that reserved its slot after a put still writing its own (a few
 * instructions between reserve and publish, unless that thread is preempted
 * there): it is seen once that one publishes. Slots and nodes are allocated at
 * creation, so put/get never allocate. Many producers and one consumer (more consumers are safe,
 * just not fair).
 * The mailbox stores message pointers and takes ownership of what it accepts.
 * Every function may be called from any thread, except rk_mailbox_destroy().
 */
#ifndef RINGMESH_MAILBOX_H
#define RINGMESH_MAILBOX_H

#include "ringmesh/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What put does when the mailbox is full. */
typedef enum rk_backpressure {
    RK_BP_BLOCK = 0,   /**< wait up to the timeout for room (default) */
    RK_BP_REJECT,      /**< fail at once with RK_ERR_FULL */
    RK_BP_DROP_OLDEST  /**< evict the oldest message of the lowest level (counted) */
} rk_backpressure_t;

/** A mailbox (opaque). Made by rk_mailbox_create(), freed by rk_mailbox_destroy(). */
typedef struct rk_mailbox rk_mailbox_t;

/** Timeouts are in microseconds; RK_WAIT_FOREVER waits without bound, 0 polls. */
#define RK_WAIT_FOREVER (-1LL)

/** Counters of one mailbox (a snapshot). */
typedef struct rk_mailbox_stats {
    uint64_t enqueued;   /**< messages accepted */
    uint64_t dequeued;   /**< messages taken by get/try_get */
    uint64_t dropped;    /**< evicted or refused by DROP_OLDEST */
    uint64_t rejected;   /**< refused with RK_ERR_FULL */
    uint64_t timeouts;   /**< BLOCK puts that timed out */
    uint32_t depth;      /**< messages queued now */
    uint32_t high_water; /**< most ever queued */
    uint64_t wait_p50_ns; /**< time from enqueue to dequeue: median (within 25%), of a 1-in-32 sample */
    uint64_t wait_p99_ns; /**< ... 99th percentile (within 25%), same sample */
    uint64_t wait_max_ns; /**< ... largest seen in the sample */
    uint64_t spins_cut;   /**< spin-waits cut short because the other side last ran on the waiter's CPU */
} rk_mailbox_stats_t;

/**
 * Create a mailbox holding at most @p capacity (>= 1) messages. Free with
 * rk_mailbox_destroy. Memory is fixed at creation: about 3.6 KiB plus 24 bytes
 * per message of capacity and 17 per slot of the staging ring (capacity
 * rounded up to a power of two), i.e. 41–58 bytes per message.
 */
rk_status_t rk_mailbox_create(uint32_t capacity, rk_backpressure_t strategy, rk_mailbox_t **out);
/** Destroy; frees every queued message. No thread may use it concurrently. */
void rk_mailbox_destroy(rk_mailbox_t *mb);

/**
 * Enqueue @p msg at its header priority. On RK_OK the mailbox owns @p msg.
 * BLOCK waits up to @p timeout_us; RK_ERR_TIMEOUT leaves ownership with the
 * caller. REJECT returns RK_ERR_FULL (caller keeps it). DROP_OLDEST evicts the
 * oldest message of the lowest non-empty level when that level is not above
 * @p msg's priority (the victim is freed and counted); otherwise @p msg itself
 * is refused with RK_ERR_DROPPED and counted (caller keeps it).
 * RK_ERR_TERMINATED after rk_mailbox_close. Thread-safe.
 */
rk_status_t rk_mailbox_put(rk_mailbox_t *mb, rk_msg_t *msg, int64_t timeout_us);
/** Dequeue the highest-priority, oldest message, waiting up to @p timeout_us. Caller owns *out. */
rk_status_t rk_mailbox_get(rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out);
/**
 * Take up to @p max (>= 1) messages at once into @p out[0..*n), in the order
 * @p max gets in a row would return them (highest priority first, FIFO within
 * a level), as one operation: a put that returned before the call is among
 * them or behind them. Waits up to @p timeout_us for the first one, like
 * rk_mailbox_get, and returns what is there then without waiting for more.
 * RK_OK with *@p n >= 1; otherwise *@p n = 0 and rk_mailbox_get's status. For
 * a taker that moves messages in bulk (one lock round trip for all of them).
 */
rk_status_t rk_mailbox_get_batch(rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out, uint32_t max, uint32_t *n);
/** rk_mailbox_get without waiting: RK_ERR_EMPTY when empty, RK_ERR_TIMEOUT when a kick was pending. */
rk_status_t rk_mailbox_try_get(rk_mailbox_t *mb, rk_msg_t **out);
/** The message get would return, still owned by the mailbox; valid until the next get/clear. */
rk_status_t rk_mailbox_peek(rk_mailbox_t *mb, const rk_msg_t **out);
/** Free every queued message; returns how many. */
uint32_t rk_mailbox_clear(rk_mailbox_t *mb);
/** Messages queued now (a snapshot that other threads may change at once). */
uint32_t rk_mailbox_size(const rk_mailbox_t *mb);
/** The capacity given at creation. */
uint32_t rk_mailbox_capacity(const rk_mailbox_t *mb);
/** Copy the mailbox's counters into *@p out (a consistent snapshot). */
void rk_mailbox_get_stats(const rk_mailbox_t *mb, rk_mailbox_stats_t *out);
/** Close: waiting getters return RK_ERR_TERMINATED once empty, puts fail, blocked puts wake. */
void rk_mailbox_close(rk_mailbox_t *mb);
/**
 * Wake a waiting getter without a message: the next get or try_get returns
 * RK_ERR_TIMEOUT once, even when messages are queued, so that a taker re-checks
 * its state (e.g. a kernel just deactivated) before it takes one.
 */
void rk_mailbox_kick(rk_mailbox_t *mb);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_MAILBOX_H */
