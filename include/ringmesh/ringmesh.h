/**
 * @file ringmesh/ringmesh.h
 * @brief The public API: runtime, ring kernels, send/receive.
 *
 * Include this one header; it includes the others (status, message, codec,
 * mailbox). Link with -lringmesh and the MPI library (mpicc), or use the CMake
 * target ringmesh::ringmesh.
 *
 * A runtime hosts ring kernels: long-lived actors that loop on a context
 * (receive with timeout, send, should_terminate) on a host thread or, with the
 * CUDA backend, as a persistent GPU kernel. Kernels and the application talk
 * only through messages; rk_send copies a message into the kernel's bounded
 * priority mailbox, wherever in the job the kernel lives.
 *
 * Lifecycle: CREATED -> LAUNCHED -> ACTIVE <-> DEACTIVATED -> TERMINATING ->
 * TERMINATED. A transition not on that path returns RK_ERR_STATE. A body that
 * returns on its own (or calls rk_ctx_fail) moves its kernel to FAILED, or,
 * under a restart policy, runs again; a TERMINATED or FAILED id may be
 * created again on the same rank.
 *
 * Requests and replies: rk_call / rk_ask send a request whose reply reaches
 * exactly that call or future, matched by correlation_id, from any thread and
 * across ranks, through any number of rk_ctx_send_to hops. rk_send and
 * rk_receive are for streams: rk_receive returns a kernel's outputs addressed
 * to this rank in priority order, to whichever thread asks.
 *
 * Ordering contract: messages from one sender to one kernel at one priority
 * are delivered in send order; a kernel always dequeues the highest-priority
 * message present in its mailbox.
 *
 * Ownership: the runtime owns its kernels, mailboxes and registry; the
 * caller owns every message it creates or receives, and the send functions
 * copy. Strings passed in (kernel ids, topics) are copied.
 *
 * Thread safety: rk_runtime_create(), rk_runtime_destroy() and
 * rk_runtime_sync() are collective and must not overlap other calls on the
 * same runtime; call them from one thread per rank. Every other application
 * side call (kernel lifecycle, rk_send*, rk_receive, rk_publish,
 * rk_subscribe, stats, register) may be made from any thread concurrently.
 * The rk_ctx_* functions are for the kernel's own body only. MPI must be
 * initialized with MPI_THREAD_MULTIPLE (at least MPI_THREAD_SERIALIZED).
 *
 * Parameter structs are written with designated initializers: a field left
 * zero takes its default, every other field is read as written
 * (`{.kernel_id = "k", .fn = f, .capacity = 2, .strategy = RK_BP_REJECT}`).
 * field_mask is only needed where zero is meant literally and differs from
 * the default (send_timeout_us = 0: do not wait; gpu = 0: GPU 0): set the
 * field's bit and that zero is used. Zero-initialize the struct. The library's
 * soname carries its minor version, so a program runs only against the
 * struct layout it was built with.
 */
#ifndef RINGMESH_RINGMESH_H
#define RINGMESH_RINGMESH_H

#include "ringmesh/buffer.h"
#include "ringmesh/codec.h"
#include "ringmesh/device.h"
#include "ringmesh/mailbox.h"
#include "ringmesh/message.h"
#include "ringmesh/status.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of this header: 0 while the API may still change between minor versions. */
#define RINGMESH_VERSION_MAJOR 0
/** Minor version of this header (ABI-compatible within one MAJOR.MINOR while MAJOR is 0). */
#define RINGMESH_VERSION_MINOR 4
/** Patch version of this header. */
#define RINGMESH_VERSION_PATCH 0
/** One integer for compile-time checks: major * 10000 + minor * 100 + patch. */
#define RINGMESH_VERSION \
    (RINGMESH_VERSION_MAJOR * 10000 + RINGMESH_VERSION_MINOR * 100 + RINGMESH_VERSION_PATCH)

/**
 * The library's version string ("0.1.0"), for run-time checks against the
 * header. Static (never NULL, never freed); thread-safe.
 */
const char *rk_version(void);

/** A runtime (opaque): made by rk_runtime_create(), freed by rk_runtime_destroy(). */
typedef struct rk_runtime rk_runtime_t;
/** A running kernel's context (opaque), passed to its body; owned by the runtime. */
typedef struct rk_ctx rk_ctx_t;

/** How ranks talk. LOCAL: one process, no MPI. AUTO: $RINGMESH_TRANSPORT, else UCX, else MPI. */
typedef enum rk_transport_kind {
    RK_TRANSPORT_LOCAL = 0, /**< this process only; MPI is not touched */
    RK_TRANSPORT_AUTO,      /**< $RINGMESH_TRANSPORT (ucx, mpi), else UCX, else MPI */
    RK_TRANSPORT_UCX,       /**< UCX active messages between ranks (MPI for bootstrap) */
    RK_TRANSPORT_MPI        /**< MPI point-to-point between ranks */
} rk_transport_kind_t;

/** Where a kernel runs. AUTO: CUDA when a GPU is usable, else the host (logged once). */
typedef enum rk_backend {
    RK_BACKEND_HOST = 0, /**< a host thread */
    RK_BACKEND_CUDA,     /**< a persistent GPU kernel; RK_ERR_UNSUPPORTED without a usable GPU or a device body */
    RK_BACKEND_AUTO      /**< CUDA when a GPU is usable, else the host */
} rk_backend_t;

/** A kernel's lifecycle state (see the file comment for the legal path). */
typedef enum rk_kernel_state {
    RK_STATE_CREATED = 0, /**< mailbox accepts messages; nothing runs */
    RK_STATE_LAUNCHED,    /**< body started; nothing is dequeued yet */
    RK_STATE_ACTIVE,      /**< processing messages */
    RK_STATE_DEACTIVATED, /**< paused: messages are kept, none dequeued */
    RK_STATE_TERMINATING, /**< draining, then stopping */
    RK_STATE_TERMINATED,  /**< stopped; the id may be created again on this rank */
    RK_STATE_FAILED       /**< the body returned or called rk_ctx_fail; sends get RK_ERR_FAILED */
} rk_kernel_state_t;

/** The state's name ("ACTIVE"); a static string, "UNKNOWN" for other values. */
const char *rk_kernel_state_str(rk_kernel_state_t s);

/** Bits of rk_runtime_params_t::field_mask: fields whose zero is meant literally. */
enum {
    RK_RUNTIME_FIELD_TRANSPORT = 1u << 0,    /**< rk_runtime_params_t::transport */
    RK_RUNTIME_FIELD_SEND_TIMEOUT = 1u << 1, /**< rk_runtime_params_t::send_timeout_us */
    RK_RUNTIME_FIELD_MAX_MESSAGE = 1u << 2,  /**< rk_runtime_params_t::max_message */
    RK_RUNTIME_FIELD_CREDITS = 1u << 3,      /**< rk_runtime_params_t::credits */
    RK_RUNTIME_FIELD_MPI_COMM = 1u << 4,     /**< rk_runtime_params_t::mpi_comm */
    RK_RUNTIME_FIELD_GPU = 1u << 5           /**< rk_runtime_params_t::gpu */
};

/** Runtime parameters; a zero field takes the default unless its bit is in field_mask. */
typedef struct rk_runtime_params {
    uint64_t field_mask;           /**< RK_RUNTIME_FIELD_* bits: these fields are read even when zero */
    rk_transport_kind_t transport; /**< default LOCAL */
    int64_t send_timeout_us;       /**< rk_send's BLOCK wait; default 30 s (0 = do not wait: set its bit) */
    uint32_t max_message;          /**< largest encoded message; default 16 MiB */
    uint32_t credits;              /**< frames in flight per (sender, receiver) rank; default 64 */
    void *mpi_comm;                /**< address of an MPI_Comm to use; default MPI_COMM_WORLD */
    int gpu;                       /**< GPU for this rank's CUDA kernels; default node-local rank % GPUs (GPU 0: set its bit) */
} rk_runtime_params_t;

/**
 * Create a runtime. With a distributed transport this is collective over the
 * communicator: it calls MPI_Init_thread if the application has not, learns
 * rank/size/node-local rank and connects the transport. @p params may be NULL.
 * Ownership: destroy with rk_runtime_destroy.
 * @return RK_OK; RK_ERR_INVALID (bad parameter, e.g. credits 0 or an unknown
 *         transport), RK_ERR_NOMEM, RK_ERR_TRANSPORT (MPI or UCX could not be
 *         set up; *out is untouched on error).
 */
rk_status_t rk_runtime_create(const rk_runtime_params_t *params, rk_runtime_t **out);

/**
 * Collective shutdown. Once every rank has called it, application calls are
 * refused while kernels keep serving and forwarding until no message is in
 * flight anywhere and every active kernel is idle with an empty mailbox
 * (nothing rk_send accepted is lost); then the kernels stop and everything is
 * freed. Kernels never activated or deactivated stop first: what waits for
 * them is counted and logged as not delivered. Bounded by
 * $RINGMESH_DESTROY_TIMEOUT_S (default 60 s): then RK_ERR_TIMEOUT, with what
 * was not delivered logged per kernel. RK_ERR_PEER when a rank failed (the
 * survivors still drain among themselves). Returns the first error met, still
 * freeing all; pending futures end with RK_ERR_TERMINATED.
 */
rk_status_t rk_runtime_destroy(rk_runtime_t *rt);

/** This process's rank in the runtime's communicator (0 for LOCAL, -1 for NULL). */
int rk_runtime_rank(const rk_runtime_t *rt);
/** Number of ranks (1 for LOCAL, 0 for NULL). */
int rk_runtime_size(const rk_runtime_t *rt);
/** Rank among the ranks on this node (GPU binding). */
int rk_runtime_local_rank(const rk_runtime_t *rt);

/**
 * Register a message type so received frames with its `__type__` decode.
 * Register every type a rank may receive before rk_runtime_sync(). The same
 * descriptor twice is RK_OK; another descriptor of the same name RK_ERR_EXISTS.
 */
rk_status_t rk_runtime_register_type(rk_runtime_t *rt, const rk_msg_type_t *type);
/** The runtime's registry (for rk_msg_deserialize); owned by the runtime. */
const rk_registry_t *rk_runtime_registry(const rk_runtime_t *rt);

/**
 * Collective: returns once every rank's kernels launched before the call are
 * in every rank's directory. Call after launching kernels and before sending
 * to kernels of other ranks. A no-op for LOCAL. The ranks also compare the
 * layouts of the message types each registered: a type whose fields differ
 * between ranks (a v1 and a v2) is reported once by name and still travels
 * (missing fields take defaults, unknown ones are ignored); a field of one
 * name with different kinds makes sync return RK_ERR_TYPE. RK_ERR_EXISTS when
 * a kernel_id was launched on two ranks (sends to it then fail with
 * RK_ERR_EXISTS everywhere).
 */
rk_status_t rk_runtime_sync(rk_runtime_t *rt);

/**
 * A kernel body: loops on @p ctx until rk_ctx_should_terminate. Runs on its
 * own thread; @p arg is rk_kernel_params_t::arg.
 */
typedef void (*rk_kernel_fn)(rk_ctx_t *ctx, void *arg);

/** Bits of rk_kernel_params_t::field_mask: fields whose zero is meant literally. */
enum {
    RK_KERNEL_FIELD_CAPACITY = 1u << 0,     /**< rk_kernel_params_t::capacity */
    RK_KERNEL_FIELD_STRATEGY = 1u << 1,     /**< rk_kernel_params_t::strategy */
    RK_KERNEL_FIELD_OUT_CAPACITY = 1u << 2, /**< rk_kernel_params_t::out_capacity */
    RK_KERNEL_FIELD_BACKEND = 1u << 3,      /**< rk_kernel_params_t::backend */
    RK_KERNEL_FIELD_ARG = 1u << 4,          /**< rk_kernel_params_t::arg */
    RK_KERNEL_FIELD_DEDUP = 1u << 5,        /**< rk_kernel_params_t::dedup_window */
    RK_KERNEL_FIELD_DEVICE = 1u << 6,       /**< rk_kernel_params_t::device */
    RK_KERNEL_FIELD_FORWARD = 1u << 7,      /**< rk_kernel_params_t::forward_to */
    RK_KERNEL_FIELD_RESTART = 1u << 8,      /**< rk_kernel_params_t::restart and rk_kernel_params_t::max_restarts */
    RK_KERNEL_FIELD_ON_MESSAGE = 1u << 9    /**< rk_kernel_params_t::on_message */
};

/**
 * A handler kernel's body: called once per message, on the kernel's thread.
 * @p msg is freed by the runtime when the handler returns (copy what you
 * keep); answer with rk_ctx_reply, forward with rk_ctx_send_to, report a
 * failure with rk_ctx_fail. Receiving, termination and errors are the
 * runtime's business.
 */
typedef void (*rk_message_fn)(rk_ctx_t *ctx, const rk_msg_t *msg, void *arg);

/** What happens when a kernel's body returns on its own or calls rk_ctx_fail. */
typedef enum rk_restart {
    RK_RESTART_NEVER = 0,     /**< the kernel goes to FAILED (default) */
    RK_RESTART_ON_FAILURE     /**< the body is called again, up to max_restarts times, then FAILED */
} rk_restart_t;

/**
 * Kernel parameters; kernel_id and a body are required (fn, a loop on the
 * context; or on_message, a handler per message; or device); every other
 * field left zero takes its default (zero is the default of each).
 */
typedef struct rk_kernel_params {
    uint64_t field_mask;            /**< RK_KERNEL_FIELD_* bits: these fields are read even when zero */
    const char *kernel_id;          /**< unique in the job, <= 63 bytes */
    rk_kernel_fn fn;                /**< the body */
    void *arg;                      /**< passed to fn */
    uint32_t capacity;              /**< inbound mailbox; default 1024 */
    rk_backpressure_t strategy;     /**< inbound overflow; default BLOCK */
    uint32_t out_capacity;          /**< outputs held per rank for rk_receive; default 1024 */
    rk_backend_t backend;           /**< default HOST */
    uint32_t dedup_window;          /**< remember this many message_ids; 0 = no dedup */
    /** Run a device body (ringmesh/device.h) instead of fn; fn may then be NULL. */
    const struct rk_device_kernel *device;
    /**
     * Device-body kernels only: send every output block to this kernel (like
     * rk_ctx_send_to, waiting while it is full) instead of emitting it as this
     * kernel's output — a pipeline stage whose body runs on a GPU. Copied.
     */
    const char *forward_to;
    rk_restart_t restart;           /**< default RK_RESTART_NEVER */
    uint32_t max_restarts;          /**< restarts allowed under RK_RESTART_ON_FAILURE (0 = none) */
    /** A handler kernel: called once per message instead of a loop body (fn may then be NULL). */
    rk_message_fn on_message;
} rk_kernel_params_t;

/**
 * Create a kernel (CREATED): its mailbox accepts messages, nothing runs yet.
 * The parameters are copied. An id whose kernel on this rank is TERMINATED or
 * FAILED is created afresh (new mailbox, new parameters, counters kept).
 * Errors: RK_ERR_INVALID (no or too long kernel_id, no fn, a bad named field,
 * forward_to without a device body), RK_ERR_EXISTS (the id is taken by a live
 * kernel on this or, as far as known, another rank), RK_ERR_UNSUPPORTED (CUDA
 * backend asked for but unusable), RK_ERR_NOMEM.
 */
rk_status_t rk_kernel_create(rk_runtime_t *rt, const rk_kernel_params_t *params);
/** CREATED -> LAUNCHED: start its thread (or GPU kernel); it does not dequeue yet. */
rk_status_t rk_kernel_launch(rk_runtime_t *rt, const char *kernel_id);
/** LAUNCHED or DEACTIVATED -> ACTIVE: start / resume processing. */
rk_status_t rk_kernel_activate(rk_runtime_t *rt, const char *kernel_id);
/** ACTIVE -> DEACTIVATED: stop dequeuing; queued and new messages are kept. */
rk_status_t rk_kernel_deactivate(rk_runtime_t *rt, const char *kernel_id);
/**
 * -> TERMINATING -> TERMINATED (from LAUNCHED, ACTIVE or DEACTIVATED). An
 * active kernel first drains its mailbox for up to @p drain_timeout_us; then
 * should_terminate turns true and the thread is joined. Messages still queued
 * are freed, logged and counted in *@p undelivered (may be NULL).
 */
rk_status_t rk_kernel_terminate(rk_runtime_t *rt, const char *kernel_id, int64_t drain_timeout_us,
                                uint32_t *undelivered);
/** create + launch + activate; the errors of each. */
rk_status_t rk_kernel_start(rk_runtime_t *rt, const rk_kernel_params_t *params);
/** The state of a local kernel; RK_ERR_NOT_FOUND for an unknown id, RK_ERR_INVALID for another rank's. */
rk_status_t rk_kernel_state(rk_runtime_t *rt, const char *kernel_id, rk_kernel_state_t *out);
/**
 * Where local kernel @p kernel_id runs: RK_BACKEND_HOST or RK_BACKEND_CUDA
 * (a persistent kernel on a GPU). AUTO resolves at creation; a kernel whose
 * GPU kernel stopped reports HOST from then on (its rings are served on the
 * host). RK_ERR_NOT_FOUND, RK_ERR_INVALID (NULL, or a kernel of another rank).
 */
rk_status_t rk_kernel_backend(rk_runtime_t *rt, const char *kernel_id, rk_backend_t *out);
/**
 * Why a local kernel FAILED ("body returned", or the reason given to
 * rk_ctx_fail) into @p buf (at most @p len bytes, NUL-terminated).
 * RK_ERR_STATE when it has not failed, RK_ERR_NOT_FOUND / RK_ERR_INVALID as
 * rk_kernel_state.
 */
rk_status_t rk_kernel_failure(rk_runtime_t *rt, const char *kernel_id, char *buf, size_t len);
/**
 * Wait until @p kernel_id is known and live on some rank (a kernel started
 * after rk_runtime_sync elsewhere is known once its announcement arrives).
 * Not collective. RK_OK, RK_ERR_TIMEOUT, RK_ERR_INVALID.
 */
rk_status_t rk_runtime_wait_kernel(rk_runtime_t *rt, const char *kernel_id, int64_t timeout_us);
/** Home rank of a kernel (any rank's kernel, after rk_runtime_sync); RK_ERR_NOT_FOUND if unknown. */
rk_status_t rk_kernel_rank(rk_runtime_t *rt, const char *kernel_id, int *rank);

/** Counters of a local kernel. */
typedef struct rk_kernel_stats {
    rk_mailbox_stats_t inbox; /**< the inbound mailbox's counters (local kernels only) */
    uint64_t processed;     /**< messages received by the body */
    uint64_t sent;          /**< outputs emitted */
    uint64_t duplicates;    /**< messages discarded by dedup */
    uint64_t remote_drops;  /**< drops reported back by remote kernels' mailboxes */
    uint64_t remote_rejects;/**< rejects reported back by remote kernels' mailboxes */
    uint64_t out_dropped;   /**< outputs for this rank refused or evicted by a full output queue */
    uint32_t restarts;      /**< times the body was restarted (RK_RESTART_ON_FAILURE) */
} rk_kernel_stats_t;
/** Snapshot of a kernel's counters into *@p out (inbox: local kernels only); RK_ERR_NOT_FOUND if unknown. */
rk_status_t rk_kernel_get_stats(rk_runtime_t *rt, const char *kernel_id, rk_kernel_stats_t *out);

/** Traffic with one peer rank (a snapshot). */
typedef struct rk_peer_stats {
    uint64_t frames_sent, bytes_sent;         /**< everything this rank sent the peer */
    uint64_t frames_received, bytes_received; /**< everything received from the peer */
    uint64_t credit_waits;                    /**< data frames that had to queue for credits */
    uint64_t frames_unreadable;               /**< frames from the peer that failed to parse or decode */
    uint64_t undeliverable;                   /**< its messages for unknown or terminated kernels */
    uint64_t compact_sent;                    /**< messages sent to it as blocks (same type layout there) */
    uint64_t compact_received;                /**< messages received from it as blocks */
    uint64_t buffers_read;                    /**< its buffers fetched here by RMA (read in place) */
    uint64_t buffers_copied;                  /**< its buffers fetched here as bytes it sent (staged) */
    uint64_t buffers_lent;                    /**< our buffers it was lent for RMA reads */
} rk_peer_stats_t;
/** @var rk_peer_stats::frames_sent
 *  Frames this rank sent the peer. */
/** @var rk_peer_stats::bytes_sent
 *  Bytes this rank sent the peer. */
/** @var rk_peer_stats::frames_received
 *  Frames received from the peer. */
/** @var rk_peer_stats::bytes_received
 *  Bytes received from the peer. */
/** Wire traffic with @p peer (RK_ERR_INVALID for a LOCAL runtime or a bad rank). */
rk_status_t rk_runtime_get_peer_stats(rk_runtime_t *rt, int peer, rk_peer_stats_t *out);
/** Runtime-wide request/reply counters (a snapshot). */
typedef struct rk_call_stats {
    uint64_t calls;           /**< requests sent by rk_call / rk_ask */
    uint64_t replies;         /**< replies handed to their call or future */
    uint64_t late_replies;    /**< replies whose future was freed or timed out: dropped, counted */
    uint64_t failed;          /**< futures completed with an error (refused, dropped, failed, peer) */
    uint64_t events;          /**< events raised (see rk_runtime_on_event) */
    uint64_t events_lost;     /**< events not delivered because the event queue was full */
} rk_call_stats_t;
/** This rank's request/reply counters into *@p out. */
rk_status_t rk_runtime_get_call_stats(rk_runtime_t *rt, rk_call_stats_t *out);

/**
 * Print this rank's per-kernel and per-peer table (in/out, depth, high-water,
 * drops, rejects, wait p50/p99, bytes per peer) to @p out, each
 * line prefixed with the rank. rk_runtime_destroy does it when RINGMESH_STATS=1.
 */
void rk_runtime_print_stats(rk_runtime_t *rt, FILE *out);

/* ---- application side ------------------------------------------------- */

/**
 * Send a copy of @p msg to @p kernel_id (any rank). The caller keeps @p msg.
 * Waits up to the runtime's send timeout when the mailbox (or the link) is
 * full under BLOCK. Errors: RK_ERR_NOT_FOUND, RK_ERR_FULL (a local REJECT
 * mailbox), RK_ERR_DROPPED (a local DROP_OLDEST mailbox refused it),
 * RK_ERR_TIMEOUT, RK_ERR_TERMINATED, RK_ERR_FAILED, RK_ERR_PEER,
 * RK_ERR_EXISTS (two ranks launched that id), RK_ERR_MALFORMED. Waiting
 * senders are admitted highest priority first, so an urgent message is not
 * held back by bulk that waits too. A remote kernel's mailbox decides after rk_send has
 * returned RK_OK: its refusal or eviction reaches this rank as an
 * RK_EVENT_REFUSED / RK_EVENT_DROPPED event (rk_runtime_on_event) with the
 * message_id, and in the kernel's remote_rejects / remote_drops counters.
 * Called from a kernel body while it serves a request of rk_call / rk_ask,
 * the copy carries that request's reply-to, like rk_ctx_send_to.
 */
rk_status_t rk_send(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *msg);
/** rk_send() with its own BLOCK wait: @p timeout_us (0 = do not wait, RK_WAIT_FOREVER). */
rk_status_t rk_send_timeout(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *msg,
                            int64_t timeout_us);
/**
 * Receive the next output of @p kernel_id addressed to this rank, highest
 * priority first, waiting up to @p timeout_us (0 polls, RK_WAIT_FOREVER).
 * Caller owns *out (rk_msg_free). Errors: RK_ERR_TIMEOUT, RK_ERR_NOT_FOUND,
 * RK_ERR_TERMINATED (the runtime is shutting down), RK_ERR_PEER (the kernel's
 * rank failed; outputs it sent before are still returned first).
 */
rk_status_t rk_receive(rk_runtime_t *rt, const char *kernel_id, int64_t timeout_us,
                       rk_msg_t **out);

/** Subscribe a kernel (any rank) to a topic; collective-free, effective after rk_runtime_sync. */
rk_status_t rk_subscribe(rk_runtime_t *rt, const char *topic, const char *kernel_id);
/**
 * Undo rk_subscribe (any rank): publications after the call are not delivered
 * to @p kernel_id here, and not on other ranks once the announcement arrives
 * (at the latest after the next rk_runtime_sync). RK_ERR_NOT_FOUND when it
 * was not subscribed.
 */
rk_status_t rk_unsubscribe(rk_runtime_t *rt, const char *topic, const char *kernel_id);

/* ---- requests with replies ------------------------------------------------ */

/** A pending request (opaque): made by rk_ask, freed by rk_future_free. */
typedef struct rk_future rk_future_t;

/**
 * Send @p request to @p kernel_id (any rank) and wait up to @p timeout_us
 * (RK_WAIT_FOREVER) for ITS reply: the message the kernel answers with
 * rk_ctx_reply (or rk_ctx_send with correlation_id = the request's
 * message_id), possibly several rk_ctx_send_to hops later on other ranks.
 * *@p reply (the caller's, rk_msg_free) has correlation_id equal to
 * @p request's message_id. Safe from any thread, many at once, and from a
 * kernel body. The request is copied; its message_id must not be in use by
 * another pending call of this rank (RK_ERR_EXISTS).
 * Errors: those of rk_send, and RK_ERR_FULL (refused by a REJECT mailbox,
 * local or remote), RK_ERR_DROPPED (evicted by DROP_OLDEST before the kernel
 * took it), RK_ERR_FAILED (the kernel failed), RK_ERR_PEER (the kernel's rank
 * failed), RK_ERR_TIMEOUT (no reply in time: a later one is dropped and
 * counted in late_replies).
 */
rk_status_t rk_call(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *request, int64_t timeout_us,
                    rk_msg_t **reply);
/**
 * rk_call without waiting: sends @p request and returns a future for its
 * reply in *@p future (the caller's: rk_future_free). A send that fails at
 * once returns its status and no future.
 */
rk_status_t rk_ask(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *request, rk_future_t **future);
/**
 * Wait up to @p timeout_us for the future's reply. RK_OK: *@p reply is the
 * caller's (handed out once; a later wait returns RK_ERR_STATE). RK_ERR_TIMEOUT
 * leaves the future pending (wait again or free it); the other errors of
 * rk_call are final. One thread at a time per future.
 */
rk_status_t rk_future_wait(rk_future_t *f, int64_t timeout_us, rk_msg_t **reply);
/** True once the future has a reply or a final error (rk_future_wait would not wait). */
bool rk_future_ready(const rk_future_t *f);
/** The request's message_id (= the reply's correlation_id). */
const rk_uuid_t *rk_future_id(const rk_future_t *f);
/** Free a future, abandoning it if still pending: its reply is then dropped and counted. NULL is a no-op. */
void rk_future_free(rk_future_t *f);

/* ---- events ----------------------------------------------------------------- */

/** What an event reports. */
typedef enum rk_event_kind {
    RK_EVENT_KERNEL_FAILED = 1, /**< a local kernel FAILED (reason set), or a remote one (rank set) */
    RK_EVENT_KERNEL_RESTARTED,  /**< a local kernel's body was restarted (RK_RESTART_ON_FAILURE) */
    RK_EVENT_PEER_FAILED,       /**< rank `rank` failed */
    RK_EVENT_REFUSED,           /**< a message this rank sent was refused by a REJECT mailbox */
    RK_EVENT_DROPPED,           /**< a message this rank sent was evicted (or refused) by DROP_OLDEST */
    RK_EVENT_UNDELIVERED,       /**< a message this rank sent was not delivered (status says why) */
    RK_EVENT_OUTPUT_DROPPED     /**< a kernel's output was refused, evicted or could not be sent (rank: its destination) */
} rk_event_kind_t;

/** One event; valid only during the callback (copy what you keep). */
typedef struct rk_event {
    rk_event_kind_t kind;  /**< what happened */
    const char *kernel_id; /**< the kernel concerned */
    int rank;              /**< the rank where it happened (the failed rank for PEER_FAILED) */
    rk_uuid_t message_id;  /**< REFUSED, DROPPED, UNDELIVERED, OUTPUT_DROPPED: the message */
    rk_status_t status;    /**< the status the message got (RK_ERR_FULL, RK_ERR_DROPPED, ...) */
    const char *reason;    /**< KERNEL_FAILED: why ("" when not known here) */
} rk_event_t;

/** An event callback: runs on a runtime thread, one event at a time, in order. */
typedef void (*rk_event_fn)(const rk_event_t *ev, void *arg);

/**
 * Call @p fn(ev, @p arg) for every event on this rank from now on (NULL
 * stops). Events are queued (at most 4,096; more are counted in events_lost)
 * and delivered by a runtime thread, so the callback may call any
 * application-side function; the last events are delivered before
 * rk_runtime_destroy returns, so @p arg must live until then.
 */
rk_status_t rk_runtime_on_event(rk_runtime_t *rt, rk_event_fn fn, void *arg);
/** Send a copy to every subscriber; one copy per remote rank, fanned out there. */
rk_status_t rk_publish(rk_runtime_t *rt, const char *topic, const rk_msg_t *msg);

/* ---- kernel side (only from inside a kernel body) ----------------------- */

/**
 * Next message for this kernel, highest priority first, waiting up to
 * @p timeout_us. While DEACTIVATED nothing is dequeued (RK_ERR_TIMEOUT).
 * RK_ERR_TERMINATED once the kernel must stop. Caller owns *out.
 */
rk_status_t rk_ctx_receive(rk_ctx_t *ctx, int64_t timeout_us, rk_msg_t **out);
/** True once the kernel has been told to stop (and its drain, if any, is done). */
bool rk_ctx_should_terminate(rk_ctx_t *ctx);
/**
 * Emit an output (copied). A message whose correlation_id names a request this
 * kernel received goes to the rank that sent that request (the kernel
 * remembers the origins of its last 16,384 requests from other ranks; prefer
 * rk_ctx_reply, which needs no memory); others go to the kernel's own rank.
 * Read there with rk_receive(kernel_id).
 */
rk_status_t rk_ctx_send(rk_ctx_t *ctx, const rk_msg_t *msg);
/**
 * Answer @p request: @p reply's correlation_id is set to the id of the call
 * it answers and it goes to that call's future (a request of rk_call/rk_ask,
 * on any rank, also one that reached this kernel through rk_ctx_send_to
 * hops: the reply then carries the original request's message_id), or, for a
 * request sent with rk_send, to the requesting rank's outputs (rk_receive).
 */
rk_status_t rk_ctx_reply(rk_ctx_t *ctx, const rk_msg_t *request, rk_msg_t *reply);
/**
 * Forward a copy to another kernel (pipelines), like rk_send. While the body
 * serves a request of rk_call/rk_ask (the message it received last), the copy
 * carries where that request's answer must go, so the last stage's
 * rk_ctx_reply completes the original call; the copy's correlation_id is then
 * the original request's message_id.
 */
rk_status_t rk_ctx_send_to(rk_ctx_t *ctx, const char *kernel_id, const rk_msg_t *msg);
/**
 * Report that the body failed: should_terminate turns true, and when the body
 * returns the kernel is FAILED with @p reason (copied, up to 127 bytes), or
 * restarted under RK_RESTART_ON_FAILURE.
 */
void rk_ctx_fail(rk_ctx_t *ctx, const char *reason);
/** The kernel's id (owned by the runtime, valid while the kernel exists). */
const char *rk_ctx_kernel_id(const rk_ctx_t *ctx);
/** The runtime that runs the kernel (e.g. for rk_send from a body). */
rk_runtime_t *rk_ctx_runtime(rk_ctx_t *ctx);
/** The body's arg (rk_kernel_params_t::arg, NULL when not set). */
void *rk_ctx_arg(const rk_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_RINGMESH_H */
