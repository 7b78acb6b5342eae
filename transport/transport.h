/*
 * transport.h - the one interface every transport implements, plus the MPI
 * bootstrap that all of them start from.
 *
 * A transport moves opaque frames between ranks. send() copies the frame (or
 * finishes with it) before returning, so the caller may reuse its buffer;
 * send_take() takes over a malloc'd frame instead (no copy for large frames);
 * received frames are handed to the callback from inside progress(), valid
 * only for the duration of the call. A transport is not thread-safe: the
 * router serializes every call with one lock. Adding a transport means one
 * folder with one ops table and one line in transport/registry.c.
 */
#ifndef RK_TRANSPORT_H
#define RK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ringmesh/status.h"

/** What MPI told us at start-up. comm is an MPI_Comm * owned by the bootstrap. */
typedef struct rk_boot {
    int rank, size, local_rank, local_size;
    void *comm;
    int initialized_mpi; /* we called MPI_Init_thread, so we finalize */
} rk_boot_t;

rk_status_t rk_boot_init(void *user_comm, rk_boot_t *out);
void rk_boot_fini(rk_boot_t *b);
void rk_boot_barrier(const rk_boot_t *b);
/** Exchange variable-length blobs: *all (malloc'd, caller frees) holds size blobs at offs[i]. */
rk_status_t rk_boot_allgatherv(const rk_boot_t *b, const void *mine, size_t len, void **all,
                               size_t *offs, size_t *lens);

/** Length of a machine id (rk_boot_machine_id), NUL-padded. */
#define RK_MACHINE_ID_LEN 40
/** This machine's boot id (/proc/sys/kernel/random/boot_id) into @p out; "" when it cannot be read. */
void rk_boot_machine_id(char out[RK_MACHINE_ID_LEN]);

/** Gather @p len bytes from every rank to rank 0 (*all malloc'd there, NULL elsewhere). */
rk_status_t rk_boot_gatherv(const rk_boot_t *b, const void *mine, size_t len, void **all, size_t *total);
/** Sum a counter over ranks onto rank 0. */
uint64_t rk_boot_sum_to_root(const rk_boot_t *b, uint64_t v);

typedef struct rk_transport rk_transport_t;
typedef void (*rk_tp_recv_fn)(void *arg, int src, const void *data, size_t len);

/** Memory registered for remote reads (transport-specific, opaque). */
typedef struct rk_tp_mem rk_tp_mem_t;
/** Memory types a transport may register: host memory, or CUDA device memory (GPUDirect). */
typedef enum rk_tp_mem_type { RK_TP_MEM_HOST = 0, RK_TP_MEM_CUDA = 1 } rk_tp_mem_type_t;
/** The most bytes a packed remote key may take (larger keys are refused). */
#define RK_TP_RKEY_MAX 1024

typedef struct rk_transport_ops {
    const char *name;
    rk_status_t (*create)(const rk_boot_t *boot, rk_tp_recv_fn fn, void *arg, rk_transport_t **out);
    /** Queue a frame to @p dest; the bytes are copied or sent before return. */
    rk_status_t (*send)(rk_transport_t *t, int dest, const void *data, size_t len);
    /**
     * Like send, but @p data is a malloc'd buffer the transport takes over: it
     * frees it when done with it, on every outcome, so large frames are not
     * copied again. NULL when the transport has no such path.
     */
    rk_status_t (*send_take)(rk_transport_t *t, int dest, void *data, size_t len);
    /** Complete sends and deliver received frames; returns frames delivered. */
    int (*progress)(rk_transport_t *t);
    /** Sends still in flight. */
    size_t (*pending)(rk_transport_t *t);
    /**
     * Large transfers under way (rendezvous sends and receives not yet
     * complete): data that will arrive or be answered soon. NULL when the
     * transport cannot tell.
     */
    size_t (*transferring)(rk_transport_t *t);
    /** A peer that failed, or -1 (after progress reported RK_ERR_PEER). */
    int (*failed_peer)(rk_transport_t *t);
    void (*destroy)(rk_transport_t *t);
    /**
     * Block until the transport has something to progress, or @p timeout_ms.
     * Call with the transport lock held: it arms the wakeup under the lock,
     * drops the lock (@p unlock / @p relock) while it sleeps, and takes it back.
     * NULL when the transport cannot wait (the caller then sleeps briefly).
     */
    void (*wait)(rk_transport_t *t, int timeout_ms, void (*unlock)(void *), void (*relock)(void *), void *lock);
    /** 1 when device (CUDA) memory can be sent directly (GPUDirect), decided at run time. */
    int (*cuda_memory)(rk_transport_t *t);
    /**
     * Register [@p addr, @p addr + @p len) of @p mem_type for peers to read
     * (RMA). *@p rkey / *@p rkey_len: the packed remote key a reader needs,
     * owned by the handle. RK_ERR_UNSUPPORTED when this memory type cannot be
     * registered. NULL when the transport has no RMA (fetches are staged).
     */
    rk_status_t (*mem_register)(rk_transport_t *t, void *addr, size_t len, rk_tp_mem_type_t mem_type,
                                rk_tp_mem_t **out, const void **rkey, size_t *rkey_len);
    /** Release a registration (no read of it may be in flight). */
    void (*mem_deregister)(rk_transport_t *t, rk_tp_mem_t *m);
    /**
     * Start reading @p len bytes at @p raddr of rank @p src, registered there
     * under the packed key @p rkey, into @p dst (host memory). On completion,
     * from inside progress() or before return, *@p st gets the status and then
     * *@p done 1. Returns an error (and sets neither) when it cannot start.
     */
    rk_status_t (*get)(rk_transport_t *t, int src, void *dst, size_t len, uint64_t raddr, const void *rkey,
                       size_t rkey_len, int *done, rk_status_t *st);
    /** One line naming the transport and what it runs over. */
    const char *(*describe)(rk_transport_t *t);
} rk_transport_ops_t;

/** Find a transport by name ("ucx", "mpi"); NULL when not compiled in. */
const rk_transport_ops_t *rk_transport_find(const char *name);

#endif
