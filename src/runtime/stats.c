/*
 * stats.c - the per-kernel and per-peer tables (RINGMESH_STATS=1 at shutdown,
 * or rk_runtime_print_stats at any time). Every figure is a snapshot read from
 * counters the hot paths keep anyway; printing costs nothing until asked.
 */
#include "route/router.h"
#include "runtime/runtime_internal.h"

#include <stdio.h>
#include <string.h>

rk_status_t rk_runtime_get_peer_stats(rk_runtime_t *rt, int peer, rk_peer_stats_t *out)
{
    if (!rt || !out || !rt->router || peer < 0 || peer >= rt->size || peer == rt->rank) return RK_ERR_INVALID;
    router_peer_stats(rt->router, peer, out);
    return RK_OK;
}

static void print_kernel(FILE *f, int rank, rk_runtime_t *rt, kernel_t *k)
{
    rk_kernel_stats_t s;
    if (rk_kernel_get_stats(rt, k->id, &s) != RK_OK) return;
    fprintf(f,
            "[ringmesh %d] %-20s %-11s in %10llu  out %10llu  depth %6u  high %6u  drops %8llu  rejects %8llu"
            "  wait p50 %9.1f us  p99 %9.1f us\n",
            rank, k->id, rk_kernel_state_str((rk_kernel_state_t)__atomic_load_n(&k->state, __ATOMIC_RELAXED)),
            (unsigned long long)s.inbox.enqueued, (unsigned long long)s.sent, s.inbox.depth, s.inbox.high_water,
            (unsigned long long)(s.inbox.dropped + s.remote_drops),
            (unsigned long long)(s.inbox.rejected + s.remote_rejects), s.inbox.wait_p50_ns / 1e3,
            s.inbox.wait_p99_ns / 1e3);
}

void rk_runtime_print_stats(rk_runtime_t *rt, FILE *out)
{
    FILE *f = out ? out : stderr;
    if (!rt) return;
    fprintf(f, "[ringmesh %d] kernels on rank %d\n", rt->rank, rt->rank);
    kernel_t *local[256];
    uint32_t n = 0;
    pthread_rwlock_rdlock(&rt->dir_lock); /* no kernel is added meanwhile; entries outlive the lock */
    for (uint32_t i = 0; i < rt->dir->cap && n < 256; i++)
        if (rt->dir->slot[i] && rt->dir->slot[i]->local) local[n++] = rt->dir->slot[i];
    pthread_rwlock_unlock(&rt->dir_lock);
    for (uint32_t i = 0; i < n; i++) print_kernel(f, rt->rank, rt, local[i]);
    rk_call_stats_t cs;
    if (rk_runtime_get_call_stats(rt, &cs) == RK_OK && (cs.calls || cs.late_replies || cs.events))
        fprintf(f, "[ringmesh %d] calls %llu, replies %llu, late replies dropped %llu, failed %llu, events %llu (lost %llu)\n",
                rt->rank, (unsigned long long)cs.calls, (unsigned long long)cs.replies,
                (unsigned long long)cs.late_replies, (unsigned long long)cs.failed, (unsigned long long)cs.events,
                (unsigned long long)cs.events_lost);
    for (int p = 0; rt->router && p < rt->size; p++) {
        rk_peer_stats_t s;
        uint64_t batches = 0, batched = 0;
        if (p == rt->rank || rk_runtime_get_peer_stats(rt, p, &s) != RK_OK) continue;
        router_batch_stats(rt->router, p, &batches, &batched);
        fprintf(f,
                "[ringmesh %d] peer %-4d sent %10llu frames %14llu bytes   received %10llu frames %14llu bytes"
                "   credit waits %llu   batches %llu (%llu frames)\n",
                rt->rank, p, (unsigned long long)s.frames_sent, (unsigned long long)s.bytes_sent,
                (unsigned long long)s.frames_received, (unsigned long long)s.bytes_received,
                (unsigned long long)s.credit_waits, (unsigned long long)batches, (unsigned long long)batched);
    }
    fflush(f);
}
