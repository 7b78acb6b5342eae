/*
 * router.h - cross-rank delivery, used by the runtime when the transport is
 * not LOCAL. The router turns messages into msgpack frames, sends them through
 * the transport with per-peer credits and a per-peer priority send queue, and
 * on the receiving rank decodes frames into kernel inboxes and outboxes.
 */
#ifndef RK_ROUTER_H
#define RK_ROUTER_H

#include "route/host.h"

typedef struct router router_t;

/** Collective: bootstrap MPI, connect the transport, start progress. */
rk_status_t router_create(rk_runtime_t *rt, const router_config_t *cfg, router_t **out);
/** Collective: returns once every rank has reached shutdown (kernels still serve meanwhile). */
rk_status_t router_quiesce(router_t *r);
/**
 * Collective, after router_quiesce: return once no message is in flight
 * anywhere (termination detection, router.c) and @p local_quiet holds on
 * every rank; RK_ERR_TIMEOUT at @p deadline_ns (monotonic). *@p rounds: the
 * rounds it took.
 */
rk_status_t router_drain(router_t *r, int (*local_quiet)(rk_runtime_t *), int64_t deadline_ns, uint32_t *rounds);
/** Collective: flush, tell peers we are done, wait for theirs (until @p deadline_ns, at least 2 s), free. */
rk_status_t router_destroy(router_t *r, int64_t deadline_ns);
/** Send a copy of @p msg to remote kernel @p k's inbox. */
rk_status_t router_send(router_t *r, struct kernel *k, const rk_msg_t *msg, int64_t timeout_us);
/** Send an output of local kernel @p k to its outbox on @p rank. */
rk_status_t router_send_output(router_t *r, struct kernel *k, int rank, const rk_msg_t *msg,
                               int64_t timeout_us);
/** One copy of a publication to @p rank, fanned out to its subscribers there. */
rk_status_t router_publish(router_t *r, int rank, const char *topic, const rk_msg_t *msg,
                           int64_t timeout_us);
/** Tell every peer that local kernel @p k has terminated (@p failed: FAILED). */
void router_announce_gone(router_t *r, const struct kernel *k, int failed);
/** Tell every peer that @p k no longer subscribes to @p topic. */
rk_status_t router_announce_unsub(router_t *r, const char *topic, const struct kernel *k);
/**
 * Tell the ranks concerned that a message was refused here: its sender (an
 * event there) and, for a request of a call, the caller (its future fails).
 * Takes the router lock.
 */
void router_nack(router_t *r, const rk_refusal_t *ref);
/**
 * Test hook: send raw bytes to @p dest as if they were a frame. With
 * @p sequenced the bytes' sequence field is set to the next one for @p dest
 * (so a well-formed header with a bad payload reaches the decoder).
 */
rk_status_t router_inject_raw(router_t *r, int dest, const void *data, size_t len, int sequenced);
/** Tell every peer about a kernel launched here / a subscription made here. */
rk_status_t router_announce_kernel(router_t *r, const struct kernel *k);
rk_status_t router_announce_sub(router_t *r, const char *topic, const struct kernel *k);
/** Tell @p rank that its kernel @p id clashes with a launch attempted here. */
void router_report_dup(router_t *r, const char *id, int rank);
/** Collective: every announcement made before the call is known everywhere after it. */
rk_status_t router_sync(router_t *r);
/** Fetch buffer @p id from its owner @p rank (see rk_buffer_fetch). */
/**
 * Memory at @p addr is about to be freed: drop the transport registration
 * made for it, if any (takes the router lock; call without it).
 */
void router_forget_memory(router_t *r, void *addr);
rk_status_t router_fetch_buffer(router_t *r, int rank, uint64_t id, void *dst, size_t cap, size_t *len,
                                int64_t timeout_us);
/** One line: how device buffers cross ranks with this transport. */
const char *router_buffer_path(router_t *r);
/**
 * Collective: concatenate every rank's @p len bytes on rank 0 (*all, malloc'd,
 * caller frees; NULL elsewhere) and sum @p *count over ranks into rank 0's.
 */
rk_status_t router_gather_to_root(router_t *r, const char *mine, size_t len, char **all, size_t *total,
                                  uint64_t *count);
/** Frames and bytes exchanged with @p peer. */
void router_peer_stats(router_t *r, int peer, rk_peer_stats_t *out);
/** Batches sent to @p peer and the frames they carried (included in frames_sent). */
void router_batch_stats(router_t *r, int peer, uint64_t *batches, uint64_t *frames);
/** The batch size cap in bytes (RINGMESH_BATCH_BYTES); 0 when batching is off. */
size_t router_batch_bytes(const router_t *r);
/** Drive the transport once (any thread); returns frames handled. */
int router_progress(router_t *r);
/**
 * One round @p i of a thread waiting for what the transport brings (a
 * message, credits), between rk_spin_begin and rk_spin_end: progress the
 * transport, or when there was nothing, rk_spin_round.
 */
void router_poll_round(router_t *r, unsigned i);
int router_rank(const router_t *r);
int router_size(const router_t *r);
int router_local_rank(const router_t *r);
int router_local_size(const router_t *r);
/**
 * Does the transport have a large transfer under way (a rendezvous send or
 * receive not yet complete), as of the last progress call? Any thread.
 */
int router_busy(router_t *r);
/** Has @p rank failed (the first peer the transport reported dead)? Any thread. */
int router_peer_failed(router_t *r, int rank);

#endif
