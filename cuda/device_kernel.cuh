/*
 * device_kernel.cuh - RK_DEVICE_KERNEL(name, body): the persistent GPU kernel
 * for a device body, plus the launcher the runtime calls (rk_device_launch_fn).
 *
 * The kernel is launched once (one warp) and stays resident until the host
 * sets the input ring's stop flag; no launch per message. It uses the same
 * rk_ring_server_* protocol code as the host backend (cuda/ring.h), with the
 * data movement done the way the GPU likes it:
 *  - lane 0 owns the ring indices and reads the host's index only when its
 *    cached copy says empty/full (each read of mapped memory crosses PCIe);
 *  - the whole warp copies a slot with coalesced 8-byte accesses into shared
 *    memory (loads via __ldcg, so no lane sees a stale L1 line from an earlier
 *    lap), lane 0 runs the body there, and the warp copies the result out;
 *  - lane 0 publishes with a system-scope release store after __syncwarp, so
 *    every lane's slot writes are visible before the index moves.
 * Slots larger than RK_DEVICE_STAGE_BYTES are staged in global memory taken
 * from the device heap (malloc in the kernel), or served in place by lane 0
 * when the heap has no room.
 * While idle the warp backs off with __nanosleep (32 ns doubling to 512 ns).
 */
#ifndef RK_DEVICE_KERNEL_CUH
#define RK_DEVICE_KERNEL_CUH

#include <cuda_runtime.h>

#include "ring.h"
#include "ringmesh/device.h"

#ifndef RK_DEVICE_STAGE_BYTES
#define RK_DEVICE_STAGE_BYTES 16384 /* per direction, in shared memory */
#endif

/* Warp-cooperative copy of @p bytes (a multiple of 8, both sides 8-aligned)
 * from a ring slot (global or mapped memory: loaded with __ldcg, past L1) to
 * shared memory. __ldcg must never be given a shared-memory address. */
static __device__ __forceinline__ void rk_warp_copy_in(uint64_t *dst, const void *src, uint32_t bytes, unsigned lane)
{
    const unsigned long long *s = (const unsigned long long *)src;
    for (uint32_t i = lane; i < bytes / 8; i += 32) dst[i] = __ldcg(s + i);
}

/* ... and from shared memory out to a ring slot. */
static __device__ __forceinline__ void rk_warp_copy_out(void *dst, const uint64_t *src, uint32_t bytes, unsigned lane)
{
    uint64_t *d = (uint64_t *)dst;
    for (uint32_t i = lane; i < bytes / 8; i += 32) d[i] = src[i];
}

static __device__ __forceinline__ const void *rk_warp_bcast_ptr(const void *p)
{
    return (const void *)__shfl_sync(0xffffffffu, (unsigned long long)p, 0);
}

template <uint32_t (*Body)(const uint8_t *, uint32_t, uint8_t *, uint32_t, void *)>
__global__ void __launch_bounds__(32) rk_persistent_kernel(rk_ring_t *in, rk_ring_t *out)
{
    __shared__ uint64_t smem_in[RK_DEVICE_STAGE_BYTES / 8], smem_out[RK_DEVICE_STAGE_BYTES / 8];
    const unsigned lane = threadIdx.x & 31;
    rk_ring_server_t s;
    if (lane == 0) rk_ring_server_init(&s, in, out);
    const uint32_t in_slot = __shfl_sync(0xffffffffu, lane == 0 ? s.in.slot_size : 0, 0);
    const uint32_t out_slot = __shfl_sync(0xffffffffu, lane == 0 ? s.out.slot_size : 0, 0);
    uint64_t *stage_in = smem_in, *stage_out = smem_out, *heap = nullptr;
    bool staged = in_slot <= RK_DEVICE_STAGE_BYTES && out_slot <= RK_DEVICE_STAGE_BYTES;
    if (!staged) { /* larger slots: stage in global memory from the device heap; in place if it has none */
        if (lane == 0) heap = (uint64_t *)malloc((size_t)in_slot + out_slot);
        heap = (uint64_t *)rk_warp_bcast_ptr(heap);
        if (heap) {
            stage_in = heap;
            stage_out = heap + in_slot / 8;
            staged = true;
        }
    }
    unsigned idle_ns = 32;

    for (;;) {
        const uint8_t *slot = nullptr;
        int stop = 0;
        if (lane == 0) {
            slot = rk_ring_server_next(&s, in, out);
            if (!slot) stop = rk_ring_stop_requested(in);
        }
        slot = (const uint8_t *)rk_warp_bcast_ptr(slot);
        if (!slot) {
            if (__shfl_sync(0xffffffffu, stop, 0)) break;
            __nanosleep(idle_ns);
            if (idle_ns < 512) idle_ns *= 2;
            continue;
        }
        idle_ns = 32;
        uint8_t *oslot = (uint8_t *)rk_warp_bcast_ptr(lane == 0 ? rk_ring_server_out_slot(&s) : nullptr);
        uint32_t n = 0;
        if (staged) {
            uint32_t len = lane == 0 ? __ldcg((const unsigned int *)slot) : 0;
            len = __shfl_sync(0xffffffffu, len, 0);
            if (len > in_slot - RK_RING_SLOT_HDR) len = in_slot - RK_RING_SLOT_HDR; /* checked again below */
            rk_warp_copy_in(stage_in, slot, (RK_RING_SLOT_HDR + len + 7) & ~7u, lane);
            __syncwarp();
            if (lane == 0)
                n = rk_ring_run_body((const uint8_t *)stage_in, in_slot, (uint8_t *)stage_out, out_slot, Body, nullptr);
            n = __shfl_sync(0xffffffffu, n, 0);
            __syncwarp(); /* lane 0's writes to the stage happen before the other lanes read them */
            if (n) rk_warp_copy_out(oslot, stage_out, (RK_RING_SLOT_HDR + n + 7) & ~7u, lane);
        } else if (lane == 0) {
            n = rk_ring_run_body(slot, in_slot, oslot, out_slot, Body, nullptr);
        }
        __syncwarp(); /* every lane's output writes happen before lane 0's release */
        if (lane == 0) rk_ring_server_finish(&s, in, out, n != 0);
    }
    if (lane == 0 && heap) free(heap);
}

#define RK_DEVICE_KERNEL(name, body)                                                             \
    extern "C" rk_status_t name##_launch(void *in, void *out, void *stream)                       \
    {                                                                                             \
        rk_persistent_kernel<body><<<1, 32, 0, (cudaStream_t)stream>>>((rk_ring_t *)in, (rk_ring_t *)out); \
        return cudaGetLastError() == cudaSuccess ? RK_OK : RK_ERR_UNSUPPORTED;                    \
    }

#endif
