/*
 * backend.h - what the core needs from the CUDA backend: GPU detection and
 * binding, mapped pinned rings, launching and stopping persistent kernels.
 *
 * Built from cuda/backend.cu when nvcc is found, else from backend_stub.c.
 * Whether a GPU is usable is decided at run time (driver present, a device
 * visible), so a CUDA build runs unchanged on a machine without a GPU.
 */
#ifndef RK_CUDA_BACKEND_H
#define RK_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ringmesh/device.h"
#include "ringmesh/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of usable GPUs (0 when none); @p why receives a static reason when 0. */
int rk_cuda_device_count(const char **why);
/** 1 when the library was built with the CUDA backend. */
int rk_cuda_compiled(void);
/**
 * Bind the calling thread to a GPU: @p preferred when >= 0, else
 * @p local_rank % count. Returns the device index, or -1 (why set).
 */
int rk_cuda_bind(int preferred, int local_rank, const char **why);

/** Two rings (host -> device, device -> host) in mapped pinned memory. */
typedef struct rk_cuda_rings {
    void *in_host, *out_host; /* host addresses */
    void *in_dev, *out_dev;   /* the same memory as the device sees it */
    void *stream;
    int device;
} rk_cuda_rings_t;

rk_status_t rk_cuda_rings_create(int device, size_t ring_bytes, rk_cuda_rings_t *out);
/** Launch the persistent kernel on the rings' stream. */
rk_status_t rk_cuda_start(rk_cuda_rings_t *r, rk_device_launch_fn launch);
/** Wait for the kernel to finish (after rk_ring_request_stop on the input ring). */
rk_status_t rk_cuda_wait(rk_cuda_rings_t *r);
void rk_cuda_rings_destroy(rk_cuda_rings_t *r);
/**
 * Is the persistent kernel still running? RK_OK while it runs,
 * RK_ERR_TERMINATED when it has returned, RK_ERR_TRANSPORT when it (or the
 * GPU context) failed; @p why receives the CUDA error text.
 */
rk_status_t rk_cuda_check(rk_cuda_rings_t *r, const char **why);

/** Device memory for a buffer (RK_ERR_UNSUPPORTED without a usable GPU). */
rk_status_t rk_cuda_buffer_alloc(int device, size_t size, void **dev, void **pinned_host);
void rk_cuda_buffer_free(void *dev, void *pinned_host);
/** Copy between a buffer's copies: to_device 1 = host -> device. */
rk_status_t rk_cuda_copy(void *dst, const void *src, size_t size, int to_device);

#ifdef __cplusplus
}
#endif
#endif
