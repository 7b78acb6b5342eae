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

#include "idset.h"
#include "ringmesh/ringmesh.h"

#include <pthread.h>

#define RK_ID_MAX 64
#define RK_REQMAP_SIZE 16384 /* remembered request origins per kernel (oldest evicted) */

struct router;

struct rk_ctx {
    struct kernel *k;
};



typedef struct kernel {
    char id[RK_ID_MAX];
    char forward_to[RK_ID_MAX]; /* params.forward_to points here */
    int home_rank;
    int local;                   /* hosted on this rank */
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
    uint64_t remote_drops, remote_rejects;
    idset_t origins;             /* request message_id -> rank it came from (replies) */
    idset_t dedup;               /* message_ids seen, when dedup is on */
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
};

/* Buffers (buffer.c). */
rk_status_t rk_buffers_init(rk_runtime_t *rt);
void rk_buffers_fini(rk_runtime_t *rt);
typedef void (*rk_buffer_reader_fn)(void *arg, const void *bytes, size_t size);
/** Call @p fn with the newest host bytes of local buffer @p id (synced from the device if needed). */
rk_status_t rk_buffer_read(rk_runtime_t *rt, rk_buffer_id_t id, rk_buffer_reader_fn fn, void *arg);

/* Directory (runtime.c). */
kernel_t *rk_dir_find(rk_runtime_t *rt, const char *id);
/** Find or add an entry for @p id homed at @p rank (remote kernels learned from peers). */
rk_status_t rk_dir_add_remote(rk_runtime_t *rt, const char *id, int rank, kernel_t **out);
/** Outbox of @p k, created on first use. */
rk_mailbox_t *rk_kernel_outbox(rk_runtime_t *rt, kernel_t *k);
/** rk_mailbox_put that records an enqueue trace event on success. */
rk_status_t rk_put_traced(rk_runtime_t *rt, const kernel_t *k, rk_mailbox_t *mb, rk_msg_t *msg, int64_t timeout_us);
/** Deliver an owned message into a local kernel's inbox (timeout for BLOCK). */
rk_status_t rk_deliver_local(kernel_t *k, rk_msg_t *msg, int64_t timeout_us);
/** Copy of the subscriber list of @p topic (caller frees *subs); RK_ERR_NOT_FOUND when none. */
rk_status_t rk_topic_snapshot(rk_runtime_t *rt, const char *topic, kernel_t ***subs, uint32_t *n);
/** Record a subscription (from this rank or a peer). */
rk_status_t rk_topic_add(rk_runtime_t *rt, const char *topic, kernel_t *k);

/* Device-body kernels (device_kernel.c): the kernel thread's body. */
void rk_device_pump(rk_ctx_t *ctx, void *arg);

/* Kernels (kernel.c). */
rk_status_t rk_kernel_alloc(rk_runtime_t *rt, const rk_kernel_params_t *p, kernel_t **out);
void rk_kernel_free(kernel_t *k);
/** Terminate (if still running) and join; returns leftover messages. */
uint32_t rk_kernel_shutdown(kernel_t *k, int64_t drain_timeout_us);

#endif
