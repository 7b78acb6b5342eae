/*
 * queue/wait.h - pieces of rk_mailbox that need none of its state: the
 * histogram of enqueue -> dequeue waits (4 buckets per power of two, so a
 * percentile is within 25%), the spin / sleep helpers of its waits, and who
 * ran last on which CPU (a spin against a thread on its own CPU is cut).
 */
#ifndef RK_QUEUE_WAIT_H
#define RK_QUEUE_WAIT_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#define HIST_BUCKETS 256 /* 4 sub-buckets per power of two of nanoseconds */

static inline int hist_bucket(uint64_t ns)
{
    if (ns < 4) return (int)ns;
    int e = 63 - __builtin_clzll(ns);
    return e * 4 + (int)((ns >> (e - 2)) & 3);
}

/* Upper bound of a bucket's range, in ns. */
static inline uint64_t hist_upper(int b)
{
    if (b < 4) return (uint64_t)b;
    int e = b / 4, sub = b % 4;
    if (e >= 62) return UINT64_MAX;
    return ((uint64_t)(4 + sub + 1) << (e - 2)) - 1;
}

static inline uint64_t hist_percentile(const uint32_t *h, uint64_t total, double q)
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

/* Pauses to spin before sleeping: @p max, fewer when the timeout is shorter (a pause ~25 ns). */
static inline int spin_budget(int64_t timeout_us, int max)
{
    if (timeout_us == 0) return 0;
    if (timeout_us > 0 && timeout_us < max / 40) return (int)timeout_us * 40;
    return max;
}

/* Wait on @p cv until @p deadline; returns ETIMEDOUT when it passed. */
static inline int wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t timeout_us, const struct timespec *dl)
{
    if (timeout_us < 0) return pthread_cond_wait(cv, m);
    return pthread_cond_timedwait(cv, m, dl);
}

/* This thread and the CPU it runs on, as one word: a per-thread tag (the address
 * of a thread-local) high, the CPU + 1 low (a cheap rseq read; 0 low = unknown). */
static _Thread_local char thread_tag __attribute__((tls_model("initial-exec")));
static inline uint64_t side_now(void)
{
    return (uint64_t)(uint32_t)(uintptr_t)&thread_tag << 32 | (uint32_t)(sched_getcpu() + 1);
}

/* Note who did a put / take and where (stored only when it changed). */
static inline void note_side(uint64_t *where)
{
    uint64_t me = side_now();
    if (me != __atomic_load_n(where, __ATOMIC_RELAXED)) __atomic_store_n(where, me, __ATOMIC_RELAXED);
}

/*
 * May a spin-wait go on? Not when another thread, the one it waits for,
 * last ran on this CPU (@p other): every round of spinning is then a round
 * that thread cannot run, and the wait would last the whole spin budget.
 * Looked at every 64 rounds (threads move between CPUs).
 */
static inline int spin_on(int i, const uint64_t *other, uint64_t *cut)
{
    if (i & 63) return 1;
    uint64_t me = side_now(), them = __atomic_load_n(other, __ATOMIC_RELAXED);
    if ((uint32_t)me == 0 || (uint32_t)me != (uint32_t)them || (me >> 32) == (them >> 32)) return 1;
    __atomic_fetch_add(cut, 1, __ATOMIC_RELAXED);
    return 0;
}

#endif
