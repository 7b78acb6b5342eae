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

#include "timeutil.h"

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

#endif
