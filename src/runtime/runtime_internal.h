/*
 * runtime_internal.h - the runtime, kernel and directory structures shared by
 * runtime.c (directory, send/receive, topics), kernel.c (lifecycle, context)
 * and router.c (cross-rank delivery).
 *
 * Invariant: a kernel entry, once in the directory, lives until the runtime is
 * destroyed (a terminated kernel stays as a TERMINATED entry), so a pointer
 * obtained from rk_dir_find never dangles while the runtime exists.
 */
#ifndef RK_RUNTIME_INTERNAL_H
#define RK_RUNTIME_INTERNAL_H

#include "route/host.h"
#include "util/idset.h"
#include "ringmesh/ringmesh.h"

#include <pthread.h>

#define RK_REQMAP_SIZE 16384 /* remembered request origins per kernel (oldest evicted) */

struct router;
struct calls;
struct events;

struct rk_ctx {
    struct kernel *k;
};



typedef struct retired_box {
    struct retired_box *next;
    rk_mailbox_t *mb;
} retired_box_t;

typedef struct kernel {
    char id[RK_ID_MAX];
    char forward_to[RK_ID_MAX]; /* params.forward_to points here */
    int home_rank;
    int local;                   /* hosted on this rank */
    int claimed_twice;           /* launched on two ranks: sends fail with RK_ERR_EXISTS (atomic) */
    rk_mailbox_t *outbox;        /* outputs of this kernel addressed to this rank */
    /* local kernels only */
    rk_runtime_t *rt;
    rk_mailbox_t *inbox;
    rk_kernel_params_t params;
    rk_backend_t backend;
    pthread_mutex_t lock;        /* guards state transitions */
    pthread_cond_t cv;
    int state;                   /* rk_kernel_state_t, read atomically */
    int draining;
    int64_t drain_deadline_ns;
    int64_t poll_win_ns;         /* take()'s next polling window; 0 = rt->poll_ns (kernel thread only) */
    int thread_started;
    pthread_t thread;
    struct rk_ctx ctx;
    uint64_t processed, sent, duplicates;
    uint64_t remote_drops, remote_rejects, out_dropped;
    idset_t origins;             /* request message_id -> rank it came from (replies) */
    idset_t dedup;               /* message_ids seen, when dedup is on */
    int out_strategy;            /* rk_backpressure_t of the outbox (remote: from the announcement) */
    /* the request the body took last, when it belongs to a call (kernel thread only) */
    uint8_t cur_flags;
    int32_t cur_reply_rank;
    rk_uuid_t cur_call, cur_msg;
    /* shutdown's quiet test: a message taken by the body is served when the body asks for the next */
    uint64_t served;             /* messages taken and done with (atomic) */
    int holding;                 /* the body holds a message it took (kernel thread only) */
    uint32_t device_inflight;    /* device-body kernels: entries in its rings (atomic) */
    /* supervision */
    int fail_requested;          /* rk_ctx_fail was called (atomic) */
    uint32_t restarts;           /* body restarts so far (atomic reads) */
    char fail_reason[128];       /* FAILED: why (written before the state) */
    struct retired_box *retired; /* inboxes of earlier lives (a sender may still hold one), freed with the kernel */
} kernel_t;


typedef struct topic {
    char name[RK_ID_MAX];
    uint32_t n, cap;
    kernel_t **subs;             /* subscribers, local and remote */
} topic_t;

/*
 * The kernel directory: an open-addressing hash by id. Entries are only ever
 * added (a kernel_t lives until the runtime is destroyed), so lookups read it
 * without a lock: slots and the table pointer are published with release
 * stores, and a table replaced by a bigger one stays allocated (chained on
 * `older`) until the runtime goes, since a reader may still be probing it.
 */
typedef struct dir_table {
    uint32_t cap; /* power of two */
    struct dir_table *older;
    kernel_t *slot[];
} dir_table_t;

struct rk_runtime {
    rk_runtime_params_t params;
    int rank, size, local_rank;
    rk_registry_t *reg;
    pthread_rwlock_t dir_lock;   /* writers of kernels and topics; topic readers */
    struct dir_table *dir;       /* kernels by id: read without a lock (runtime.c) */
    uint32_t nkernels;
    topic_t *topics;
    uint32_t ntopics, topics_cap;
    struct router *router;       /* NULL for RK_TRANSPORT_LOCAL */
    int shutting_down;
    int gpu_fallback_logged;     /* the AUTO -> host decision is logged once */
    struct buffer_table *buffers;
    struct trace *trace;         /* NULL unless $RINGMESH_TRACE is set */
    uint32_t bad_inputs;         /* refused calls, for rate-limited logging */
    int64_t poll_ns;             /* a waiting kernel drives the transport this long ($RINGMESH_POLL_US) */
    struct calls *calls;         /* pending futures (call.c) */
    struct events *events;       /* event queue and its thread (event.c) */
};

/* Buffers (buffer.c). */
rk_status_t rk_buffers_init(rk_runtime_t *rt);
void rk_buffers_fini(rk_runtime_t *rt);
/* rk_buffer_read: route/host.h */

/* Directory (runtime.c). */
kernel_t *rk_dir_find(rk_runtime_t *rt, const char *id);
/** Find or add an entry for @p id homed at @p rank (remote kernels learned from peers). */
rk_status_t rk_dir_add_remote(rk_runtime_t *rt, const char *id, int rank, kernel_t **out);
/** Outbox of @p k, created on first use. */
rk_mailbox_t *rk_kernel_outbox(rk_runtime_t *rt, kernel_t *k);
/** rk_mailbox_put that records an enqueue trace event on success. */
rk_status_t rk_put_traced(rk_runtime_t *rt, const kernel_t *k, rk_mailbox_t *mb, rk_msg_t *msg, int64_t timeout_us);
/**
 * Deliver an owned message into a local kernel's inbox (timeout for BLOCK).
 * A DROP_OLDEST inbox may evict another message: the caller then reports it
 * (rk_evictions_report, or rk_evictions_each under the router lock).
 */
rk_status_t rk_deliver_local(kernel_t *k, rk_msg_t *msg, int64_t timeout_us);
/** The checks of rk_send: runtime live, message valid and within the limit, kernel known and accepting. */
rk_status_t rk_send_check(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *msg, kernel_t **out);
/**
 * Send a copy of @p msg to @p k (any rank) carrying the routing marks
 * @p flags and @p reply_rank (msg_internal.h) and, unless NULL, @p corr as
 * its correlation_id. Evictions it causes are reported.
 */
rk_status_t rk_send_marked(rk_runtime_t *rt, kernel_t *k, const rk_msg_t *msg, uint8_t flags, int32_t reply_rank,
                           const rk_uuid_t *corr, int64_t timeout_us);
/** Report the DROP_OLDEST evictions recorded on this thread (no router lock may be held). */
void rk_evictions_report(rk_runtime_t *rt);
/** A send to a kernel in state @p s: RK_OK while it accepts messages, else TERMINATED or FAILED. */
static inline rk_status_t rk_state_refusal(int s)
{
    return s == RK_STATE_FAILED ? RK_ERR_FAILED : s >= RK_STATE_TERMINATING ? RK_ERR_TERMINATED : RK_OK;
}
/** Record a subscription (from this rank or a peer). */
rk_status_t rk_topic_add(rk_runtime_t *rt, const char *topic, kernel_t *k);
/** Remove a subscription (from this rank or a peer); RK_ERR_NOT_FOUND when there was none. */
rk_status_t rk_topic_remove(rk_runtime_t *rt, const char *topic, const kernel_t *k);

/* Device-body kernels (device_kernel.c): the kernel thread's body. */
void rk_device_pump(rk_ctx_t *ctx, void *arg);

/* Requests with replies (call.c). */
rk_status_t rk_calls_init(rk_runtime_t *rt);
/** Complete pending futures with RK_ERR_TERMINATED, unlink them, free the table. */
void rk_calls_fini(rk_runtime_t *rt);
/* rk_call_complete, rk_refusal_of, rk_refusal_local, rk_evictions_each: route/host.h */
/** Fail the pending future @p id (if any) with @p st. */
void rk_call_fail(rk_runtime_t *rt, const rk_uuid_t *id, rk_status_t st);
/** Fail every pending future whose request went to kernel @p k. */
void rk_calls_fail_kernel(rk_runtime_t *rt, const kernel_t *k, rk_status_t st);
/** rk_refusal_local, then tell the other ranks concerned (takes the router lock). */
void rk_refusal_report(rk_runtime_t *rt, const rk_refusal_t *r);
/** Install the eviction hook on a kernel's DROP_OLDEST mailbox (inbox or outbox). */
void rk_evictions_watch(kernel_t *k, rk_mailbox_t *mb, int outbox);

/* Events (event.c). */
rk_status_t rk_events_init(rk_runtime_t *rt);
/** Deliver what is queued, stop the thread, free. */
void rk_events_fini(rk_runtime_t *rt);
void rk_event_raise(rk_runtime_t *rt, rk_event_kind_t kind, const char *kernel_id, int rank,
                    const rk_uuid_t *message_id, rk_status_t st, const char *reason);
void rk_events_counts(rk_runtime_t *rt, uint64_t *raised, uint64_t *lost);

/** Every local kernel that can serve is idle with an empty mailbox (shutdown's quiet test). */
int rk_local_quiet(rk_runtime_t *rt);

/* Kernels (kernel.c). */
/** The fields of @p p that are set: named in field_mask, or nonzero. */
uint64_t rk_kernel_params_mask(const rk_kernel_params_t *p);
rk_status_t rk_kernel_alloc(rk_runtime_t *rt, const rk_kernel_params_t *p, kernel_t **out);
void rk_kernel_free(kernel_t *k);
/**
 * Give the TERMINATED or FAILED local kernel @p old a new life with the
 * parameters and mailbox of the freshly allocated @p fresh (freed here on
 * RK_OK); RK_ERR_EXISTS while @p old is alive. Caller holds dir_lock.
 */
rk_status_t rk_kernel_revive(kernel_t *old, kernel_t *fresh);
/** Join the thread of a FAILED local kernel (before rk_kernel_revive, without dir_lock). */
void rk_kernel_reap(kernel_t *k);
/** Terminate (if still running) and join; returns leftover messages. */
uint32_t rk_kernel_shutdown(kernel_t *k, int64_t drain_timeout_us);

#endif
