/**
 * @file ringmesh/buffer.h
 * @brief Unified buffers: large data with host and device copies, referenced by id.
 */
/*
 * ringmesh/buffer.h - unified buffers: large data that travels by id, not in
 * message fields (the seed's UnifiedBuffer).
 *
 * A buffer has a host copy and a device copy (device memory on the CUDA
 * backend; a separate host mirror on the host backend, so the state machine
 * is the same everywhere) and a state: CLEAN (copies equal), HOST_DIRTY (the
 * host copy is newer) or DEVICE_DIRTY. Writers mark the side they wrote;
 * rk_buffer_sync copies the newer side over. Marking the other side dirty
 * while one side is dirty is refused (RK_ERR_STATE): that would lose data.
 * A message carries rk_buffer_id(); any rank fetches the bytes by id with
 * rk_buffer_fetch. The owner serves the newest copy: a DEVICE_DIRTY buffer is
 * first synced to its host copy (staged through pinned host memory) unless
 * the transport reads device memory (GPUDirect). Over UCX the fetching rank
 * reads the owner's memory in place by RMA (one ucp_get_nbx into dst; the
 * owner's buffer is pinned meanwhile, even if released); over MPI, or with
 * RINGMESH_RMA=0, the owner sends the bytes.
 * Thread-safety: one buffer is written by one thread at a time; create,
 * release, find and fetch are thread-safe. The runtime serves peers' fetches
 * from its own thread: bytes written before rk_buffer_mark_host_dirty,
 * rk_buffer_mark_device_dirty or rk_buffer_sync are what a fetch that starts
 * afterwards reads (marks, syncs and serving share one lock); writing a
 * buffer while a peer may be fetching it is a data race, as for any memory.
 */
#ifndef RINGMESH_BUFFER_H
#define RINGMESH_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "ringmesh/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A runtime (opaque; see ringmesh.h). */
typedef struct rk_runtime rk_runtime_t;
/** A unified buffer (opaque); owned by the runtime's buffer table until rk_buffer_release. */
typedef struct rk_buffer rk_buffer_t;
/** Job-wide unique id: ((owner rank + 1) << 40) | serial; 0 is never an id. */
typedef uint64_t rk_buffer_id_t;

/** Which copy of a buffer is newest. */
typedef enum rk_buffer_state {
    RK_BUF_CLEAN = 0,    /**< host and device copies are equal */
    RK_BUF_HOST_DIRTY,   /**< the host copy is newer */
    RK_BUF_DEVICE_DIRTY  /**< the device copy is newer */
} rk_buffer_state_t;

/** Create (or reuse from the runtime's pool) a zeroed buffer of @p size bytes. Release with rk_buffer_release. */
rk_status_t rk_buffer_create(rk_runtime_t *rt, size_t size, rk_buffer_t **out);
/** Return the buffer to the pool; its id stops resolving. */
rk_status_t rk_buffer_release(rk_buffer_t *b);
/** The buffer's job-wide id (0 for NULL); put it in messages. */
rk_buffer_id_t rk_buffer_id(const rk_buffer_t *b);
/** Bytes requested at creation. */
size_t rk_buffer_size(const rk_buffer_t *b);
/** Which copy is newest (see rk_buffer_state_t). */
rk_buffer_state_t rk_buffer_state(const rk_buffer_t *b);
/** Host copy (pinned memory on the CUDA backend). */
void *rk_buffer_host(rk_buffer_t *b);
/** Device copy: device memory on the CUDA backend, a host mirror on the host backend. */
void *rk_buffer_device(rk_buffer_t *b);
/** 1 when the device copy is real GPU memory. */
int rk_buffer_on_gpu(const rk_buffer_t *b);
/** After writing the host copy. RK_ERR_STATE when the device copy is newer. */
rk_status_t rk_buffer_mark_host_dirty(rk_buffer_t *b);
/** After writing the device copy. RK_ERR_STATE when the host copy is newer. */
rk_status_t rk_buffer_mark_device_dirty(rk_buffer_t *b);
/** Copy the newer copy over the older one; the buffer becomes CLEAN. */
rk_status_t rk_buffer_sync(rk_buffer_t *b);
/** A local buffer by id (RK_ERR_NOT_FOUND when unknown or released). */
rk_status_t rk_buffer_find(rk_runtime_t *rt, rk_buffer_id_t id, rk_buffer_t **out);
/**
 * Copy the newest bytes of buffer @p id (any rank) into @p dst. *len gets
 * the buffer's size; RK_ERR_TOO_LARGE (nothing copied) when it exceeds @p cap.
 * Errors: RK_ERR_NOT_FOUND, RK_ERR_TIMEOUT, RK_ERR_PEER.
 */
rk_status_t rk_buffer_fetch(rk_runtime_t *rt, rk_buffer_id_t id, void *dst, size_t cap, size_t *len,
                            int64_t timeout_us);
/** How remote fetches move device data here, decided at run time (one line). */
const char *rk_buffer_remote_path(rk_runtime_t *rt);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_BUFFER_H */
