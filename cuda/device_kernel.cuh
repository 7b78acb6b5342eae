/*
 * device_kernel.cuh - RK_DEVICE_KERNEL(name, body): the persistent GPU kernel
 * for a device body, plus the launcher the runtime calls (rk_device_launch_fn).
 *
 * The kernel is launched once and stays resident: it serves the input ring
 * with the same rk_ring_serve_one the host backend uses, sleeping briefly
 * (__nanosleep) while the ring is empty, until the host sets the input ring's
 * stop flag. No launch per message.
 */
#ifndef RK_DEVICE_KERNEL_CUH
#define RK_DEVICE_KERNEL_CUH

#include <cuda_runtime.h>

#include "ring.h"
#include "ringmesh/device.h"

template <uint32_t (*Body)(const uint8_t *, uint32_t, uint8_t *, uint32_t, void *)>
__global__ void rk_persistent_kernel(rk_ring_t *in, rk_ring_t *out)
{
    if (threadIdx.x != 0) return; /* one thread runs the body; see cuda/README.md */
    unsigned idle_ns = 32;
    while (!rk_ring_stop_requested(in)) {
        if (rk_ring_serve_one(in, out, Body, nullptr)) {
            idle_ns = 32;
            continue;
        }
        __nanosleep(idle_ns);
        if (idle_ns < 2048) idle_ns *= 2;
    }
}

#define RK_DEVICE_KERNEL(name, body)                                                             \
    extern "C" rk_status_t name##_launch(void *in, void *out, void *stream)                       \
    {                                                                                             \
        rk_persistent_kernel<body><<<1, 32, 0, (cudaStream_t)stream>>>((rk_ring_t *)in, (rk_ring_t *)out); \
        return cudaGetLastError() == cudaSuccess ? RK_OK : RK_ERR_UNSUPPORTED;                    \
    }

#endif
