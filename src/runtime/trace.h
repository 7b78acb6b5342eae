/*
 * trace.h - per-message tracing (RINGMESH_TRACE=file.json).
 *
 * Each rank records send / enqueue / dequeue / reply events into a bounded
 * array (lock-free slot claim; events past the bound are counted, not kept).
 * At shutdown every rank's events are gathered to rank 0, which writes one
 * Chrome / Perfetto trace-event JSON file with a process per rank, a thread
 * per kernel, and flow arrows that follow each message_id from its send to
 * its dequeue. With tracing off every hook is one well-predicted branch.
 */
#ifndef RK_TRACE_H
#define RK_TRACE_H

#include "runtime/runtime_internal.h"

typedef enum trace_kind { TRACE_SEND = 0, TRACE_ENQUEUE, TRACE_DEQUEUE, TRACE_REPLY } trace_kind_t;

typedef struct trace trace_t;

/** Start tracing when $RINGMESH_TRACE names a file (rt->trace stays NULL otherwise). */
rk_status_t rk_trace_init(rk_runtime_t *rt);
/** Record an event about @p msg at kernel @p k (NULL: the application thread). */
void rk_trace_event(rk_runtime_t *rt, trace_kind_t kind, const kernel_t *k, const rk_uuid_t *id, uint8_t priority);
/** The kernel whose body runs on this thread (NULL on application threads). */
const kernel_t *rk_trace_current_kernel(void);
void rk_trace_set_current_kernel(const kernel_t *k);
/** Gather all ranks' events (collective when distributed) and write the file on rank 0. */
rk_status_t rk_trace_finish(rk_runtime_t *rt);

#ifdef RK_NO_TRACE_HOOKS /* -DRINGMESH_TRACE_HOOKS=OFF: to measure what the hooks cost */
#define RK_TRACE(rt, kind, k, msg) \
    do {                           \
    } while (0)
#else
#define RK_TRACE(rt, kind, k, msg)                                            \
    do {                                                                      \
        if (__builtin_expect((rt)->trace != NULL, 0))                       \
            rk_trace_event((rt), (kind), (k), &(msg)->message_id, (msg)->priority); \
    } while (0)
#endif

#endif
