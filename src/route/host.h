/*
 * route/host.h - the narrow interface between the router and the runtime that
 * owns it.
 *
 * The router moves frames between ranks; what a frame means for kernels,
 * topics, futures, buffers and events is the runtime's business. The router
 * knows a kernel only as an opaque `struct kernel` and reaches the runtime
 * only through the functions declared here, which src/runtime/ implements
 * (runtime/host.c and the files named beside each). Nothing in src/route/
 * includes a header of src/runtime/; the runtime includes this one.
 *
 * Threads: unless noted, these are called by the router's progress thread or
 * by a thread driving the transport, with the router lock held, so they must
 * not call back into the router (router.h) except where noted.
 */
#ifndef RK_ROUTE_HOST_H
#define RK_ROUTE_HOST_H

#include "ringmesh/ringmesh.h"

#define RK_ID_MAX 64

struct kernel; /* a kernel as the runtime knows it (local, or homed on a peer) */

/* A message that was refused, evicted or not delivered, and where that must be told. */
typedef struct rk_refusal {
    char kernel[RK_ID_MAX];
    rk_uuid_t message_id, call_id;
    uint8_t flags;               /* RK_MSGF_* of the message */
    int32_t reply_rank;          /* CALL: the caller's rank */
    int32_t src_rank;            /* the rank that sent it */
    rk_status_t st;              /* RK_ERR_FULL, RK_ERR_DROPPED, RK_ERR_FAILED, ... */
} rk_refusal_t;

/* What the router is told when it is created. */
typedef struct router_config {
    rk_registry_t *reg;          /* the types messages decode against */
    size_t max_message;          /* encoded size limit */
    int64_t poll_ns;             /* a full send queue drives the transport this long before sleeping */
    uint32_t credits;            /* per flow */
    rk_transport_kind_t transport;
    void *mpi_comm;              /* address of an MPI_Comm, or NULL: MPI_COMM_WORLD */
} router_config_t;

/* ---- kernels (runtime/host.c) ---- */
const char *rk_host_kernel_id(const struct kernel *k);
int rk_host_kernel_home(const struct kernel *k);
int rk_host_kernel_local(const struct kernel *k);
/** Out-queue strategy announced for @p k (rk_backpressure_t). */
int rk_host_kernel_out_strategy(const struct kernel *k);
/** The inbox a delivery waiting for room registers with (BLOCK inboxes), else NULL. */
rk_mailbox_t *rk_host_kernel_wait_box(struct kernel *k);
/** The kernel called @p id, local or remote, or NULL. */
struct kernel *rk_host_find(rk_runtime_t *rt, const char *id);
/**
 * A peer @p rank announced kernel @p id (live again if it was gone):
 * RK_ERR_EXISTS when @p id is hosted here too (a duplicate).
 */
rk_status_t rk_host_learn_kernel(rk_runtime_t *rt, const char *id, int rank, int out_strategy);
/** Kernel @p id of @p rank terminated (@p failed: FAILED; its calls here fail, an event is raised). */
void rk_host_kernel_gone(rk_runtime_t *rt, const char *id, int rank, int failed);
/** Kernel @p kernel of @p rank subscribes / no longer subscribes to @p topic. */
void rk_host_learn_sub(rk_runtime_t *rt, const char *topic, const char *kernel, int rank);
void rk_host_forget_sub(rk_runtime_t *rt, const char *topic, const char *kernel);
/** Copy of the subscriber list of @p topic (caller frees *subs); RK_ERR_NOT_FOUND when none. */
rk_status_t rk_topic_snapshot(rk_runtime_t *rt, const char *topic, struct kernel ***subs, uint32_t *n);

/* ---- delivery ---- */
/**
 * Put an owned message into local kernel @p k's inbox without waiting:
 * RK_ERR_TIMEOUT (full; still the caller's), else ownership passes (refused
 * messages included). Evictions it causes are left for rk_evictions_each.
 */
rk_status_t rk_host_deliver(struct kernel *k, rk_msg_t *msg);
/** Same for an output of @p k addressed to this rank (its outbox). */
rk_status_t rk_host_put_output(rk_runtime_t *rt, struct kernel *k, rk_msg_t *msg);
/** An output of @p k was refused by its out-queue with @p st: counted, event raised. */
void rk_host_output_dropped(rk_runtime_t *rt, struct kernel *k, const rk_msg_t *msg, rk_status_t st);
/** An owned reply (RK_MSGF_REPLY) to a call made here (runtime/call.c: rk_call_complete). */
void rk_call_complete(rk_runtime_t *rt, rk_msg_t *reply);

/* ---- refusals (runtime/call.c) ---- */
/** Describe @p m, refused with @p st at kernel @p k, into *@p out. */
void rk_refusal_of(const struct kernel *k, const rk_msg_t *m, rk_status_t st, rk_refusal_t *out);
/**
 * This rank's part of a refusal: the event and counter when this rank sent
 * the message, the failed future when this rank made the call. Returns 1 when
 * another rank must hear of it (the sender or the caller is elsewhere).
 */
int rk_refusal_local(rk_runtime_t *rt, const rk_refusal_t *r);
/** A peer refused a message sent from here (a NACK): counters, then rk_refusal_local. */
void rk_host_refused_remote(rk_runtime_t *rt, const rk_refusal_t *r);
/**
 * Evictions by DROP_OLDEST mailboxes of kernels, recorded on the thread that
 * put (the mailbox hook): hand each to @p report(arg, refusal), oldest first,
 * and forget them.
 */
void rk_evictions_each(void (*report)(void *arg, const rk_refusal_t *r), void *arg);

/* ---- the rest ---- */
/** The rank of this process is known (before any frame arrives). */
void rk_host_ranked(rk_runtime_t *rt, int rank);
/** Peer @p rank failed: the event. */
void rk_host_peer_failed(rk_runtime_t *rt, int rank);
typedef void (*rk_buffer_reader_fn)(void *arg, const void *bytes, size_t size);
/** Call @p fn with the newest host bytes of local buffer @p id (runtime/buffer.c). */
rk_status_t rk_buffer_read(rk_runtime_t *rt, rk_buffer_id_t id, rk_buffer_reader_fn fn, void *arg);
/**
 * A local buffer lent to a peer for a remote read (RMA): the bytes at @p addr
 * (@p size of them) stay where they are until rk_host_buffer_return, even if
 * the buffer is released meanwhile. @p base / @p cap: the whole allocation
 * (what a transport registers once per buffer); @p device: @p addr is device
 * memory (lent only when @p device_ok and the device copy is not older).
 */
typedef struct rk_host_lend {
    void *addr, *base;
    size_t size, cap;
    int device;
    void *buf; /* the buffer, for rk_host_buffer_return */
} rk_host_lend_t;
/** Lend buffer @p id (a device-dirty one is first staged to host unless @p device_ok; runtime/buffer.c). */
rk_status_t rk_host_buffer_lend(rk_runtime_t *rt, rk_buffer_id_t id, int device_ok, rk_host_lend_t *out);
/** The reader is done with a lent buffer (a released one then returns to the pool). */
void rk_host_buffer_return(rk_runtime_t *rt, void *buf);
/** Call @p fn for every registered type, with registration held off meanwhile (no router lock held). */
void rk_host_each_type(rk_runtime_t *rt, void (*fn)(void *arg, const rk_msg_type_t *t), void *arg);

#endif
