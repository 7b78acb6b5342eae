/*
 * spin.h - how ringmesh's threads wait briefly before they sleep.
 *
 * A spin-wait (a kernel polling the transport, a mailbox get before it
 * sleeps, a BLOCK put waiting for room) runs between rk_spin_begin and
 * rk_spin_end and calls rk_spin_round once per round. While more threads of
 * the process spin than it has CPUs to itself, every 64th round yields the CPU
 * instead of pausing, so on an oversubscribed node (more busy threads than
 * cores) the spinners let a thread with work run, often the one they wait for.
 * With no more spinners than CPUs a round is one pause, as before.
 */
#ifndef RK_SPIN_H
#define RK_SPIN_H

#include <sched.h>

#include "util/timeutil.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Threads of this process in a spin-wait now, and how many may spin before
 * spin-waits start yielding (atomics; spin.c). */
extern unsigned rk_spinners, rk_spin_limit;
/*
 * Set rk_spin_limit to this process's share of the CPUs: its affinity mask,
 * shared by @p ranks_on_node processes unless the mask is smaller than the
 * node (ranks bound to cores); RINGMESH_SPINNERS=N sets it directly.
 */
void rk_spin_set_share(int ranks_on_node);
#ifdef __cplusplus
}
#endif

static inline void rk_spin_begin(void) { __atomic_fetch_add(&rk_spinners, 1, __ATOMIC_RELAXED); }
static inline void rk_spin_end(void) { __atomic_fetch_sub(&rk_spinners, 1, __ATOMIC_RELAXED); }

/* One round @p i of a spin-wait: a pause, or every 64th round a sched_yield while too many spin. */
static inline void rk_spin_round(unsigned i)
{
    if ((i & 63) == 63 && __atomic_load_n(&rk_spinners, __ATOMIC_RELAXED) > rk_spin_limit) sched_yield();
    else rk_cpu_relax();
}

/*
 * The end of a polling wait that began at @p start (monotonic ns) with
 * window @p poll_ns, as seen at @p now: while the transport has a large
 * transfer under way (@p busy: a rendezvous send or receive not yet complete)
 * the window runs from @p now instead, since what it waits for is on its way
 * or about to be answered, but never past RK_POLL_BUSY_WINDOWS windows after
 * the start.
 */
#define RK_POLL_BUSY_WINDOWS 20
static inline int64_t rk_poll_until(int64_t start, int64_t now, int64_t until, int busy, int64_t poll_ns)
{
    int64_t cap = start + poll_ns * RK_POLL_BUSY_WINDOWS;
    if (busy && now + poll_ns > until) until = now + poll_ns < cap ? now + poll_ns : cap;
    return until;
}

/*
 * A waiting kernel's next polling window, after a wait with window @p win
 * that took a message @p waited ns after it began, @p slept telling whether
 * the kernel had gone to sleep first (the message was late for the window);
 * @p base is the configured window ($RINGMESH_POLL_US).
 *
 * Two kernels answering each other keep polling while each hop is shorter than
 * the window. When one hop is longer (a preemption, a slow wake-up on a busy
 * host), the receiver is asleep when it lands and must be woken, and so is the
 * sender when the answer comes back: two wake-ups a hop, each hop now longer
 * than the window, so the pair stays asleep-and-woken for good (seen here:
 * whole runs at ~108 us a hop instead of ~1 us). So a message that came soon
 * after the window (within RK_POLL_BUSY_WINDOWS windows of @p base) widens the
 * next window to cover that wait with a quarter to spare (at least doubling it),
 * which puts the pair back to polling after a hop or two; each message taken
 * while polling gives back an eighth of the excess over @p base; a message
 * after a long idle spell (traffic that is sporadic, where polling would only
 * burn the core) resets the window to @p base.
 */
static inline int64_t rk_poll_next_window(int64_t win, int64_t base, int64_t waited, int slept)
{
    int64_t cap = base * RK_POLL_BUSY_WINDOWS, want;
    if (win < base) win = base;
    if (!slept) return win - (win - base) / 8;
    if (waited >= cap) return base;
    want = waited + waited / 4;
    if (want < 2 * win) want = 2 * win;
    return want < cap ? want : cap;
}

#endif
