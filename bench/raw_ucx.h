/*
 * raw_ucx.h - the transport baseline: the smallest UCP active-message setup
 * that two ranks can ping-pong and stream over (its own context, worker and
 * endpoint; worker addresses exchanged with MPI_Allgather), and one memory
 * region a rank exposes for the other to read with ucp_get_nbx (the context
 * has UCP_FEATURE_AM and UCP_FEATURE_RMA). Whether UCX reads it one-sided
 * depends on the lanes: between ranks of one machine UCX 1.13 has no RMA lane
 * for memory it did not allocate (sysv and posix read only their own
 * segments, cma serves only rendezvous) and emulates a get with AM.
 *
 * Receiving copies each eager message into one preallocated buffer and pulls
 * rendezvous data into it with ucp_am_recv_data_nbx, so a "receive" ends with
 * the bytes in user memory, as ringmesh's does. Every wait busy-polls the
 * worker: this is the floor ringmesh is compared with.
 */
#ifndef RK_BENCH_RAW_UCX_H
#define RK_BENCH_RAW_UCX_H

#include <stddef.h>
#include <stdint.h>

typedef struct raw_ucx raw_ucx_t;

/** Collective over the bench communicator (exactly 2 ranks): connect to the other rank. */
int raw_ucx_open(size_t max_msg, int err_peer, raw_ucx_t **out);
/** Collective: flush and close the endpoint, destroy the worker and context. */
void raw_ucx_close(raw_ucx_t *u);
/** Send @p len bytes and progress until the send completed (the buffer is reusable). */
void raw_ucx_send(raw_ucx_t *u, const void *buf, size_t len);
/** Send without waiting while fewer than @p window sends are incomplete (the buffer must stay valid). */
void raw_ucx_send_window(raw_ucx_t *u, const void *buf, size_t len, int window);
/** Progress until every send has completed. */
void raw_ucx_flush(raw_ucx_t *u);
/** Messages fully received so far. */
uint64_t raw_ucx_received(const raw_ucx_t *u);
/** Busy-poll until raw_ucx_received() >= @p count. */
void raw_ucx_wait_received(raw_ucx_t *u, uint64_t count);
/**
 * Progress until raw_ucx_received() >= @p count, yielding the CPU whenever
 * there was nothing to progress: for a rank that only has to stay responsive
 * (the owner of an exposed region, whose worker serves gets when UCX emulates
 * RMA with AM) without taking a core from the threads that do the work.
 */
void raw_ucx_serve_until_received(raw_ucx_t *u, uint64_t count);
/**
 * Call @p fn on every message as it lands, inside the worker's progress and
 * before it is counted: an eager message in UCX's own buffer (then not copied
 * into the receive buffer), a rendezvous one in the receive buffer. NULL
 * stops. For baselines that do per-message work on the receiver (the
 * wire-format floor of bench_net.c).
 */
void raw_ucx_on_recv(raw_ucx_t *u, void (*fn)(void *arg, const void *data, size_t len), void *arg);
/** The transports UCX picked for the endpoint (one line, static storage). */
const char *raw_ucx_describe(raw_ucx_t *u);
/**
 * Collective: expose one region for the other rank to read. The rank that
 * owns the memory passes it (ucp_mem_map + ucp_rkey_pack); the other passes
 * NULL, 0 and unpacks the key on its endpoint (address, length and key are
 * exchanged with MPI). Then it finds out whether a get of the region is
 * one-sided (completes while the owner stays out of UCX) or needs the
 * owner's progress (raw_ucx_get_onesided). A second call replaces the
 * region; a call where both ranks pass NULL, and raw_ucx_close, drop it.
 * Resets raw_ucx_received() to 0.
 */
void raw_ucx_expose(raw_ucx_t *u, void *buf, size_t len);
/**
 * Reader side: ucp_get_nbx of the first @p len bytes of the exposed region
 * into @p dst, busy-polling the worker until the bytes are there. Unless
 * raw_ucx_get_onesided(), the owner's worker must progress meanwhile (UCX
 * emulates the get with AM), e.g. in raw_ucx_serve_until_received.
 */
void raw_ucx_get(raw_ucx_t *u, void *dst, size_t len);
/** 1 when a get of the exposed region completes without the owner's progress (both ranks know). */
int raw_ucx_get_onesided(const raw_ucx_t *u);
/** "one-sided" or "emulated by UCX over AM (served by the owner's worker progress)" (static storage). */
const char *raw_ucx_get_mode(raw_ucx_t *u);

#endif
