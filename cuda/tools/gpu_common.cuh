/*
 * gpu_common.cuh - shared by the GPU test and benchmark programs: make an
 * RkVector request block and run a persistent kernel on two mapped rings.
 */
#ifndef RK_GPU_COMMON_CUH
#define RK_GPU_COMMON_CUH

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ringmesh/ringmesh.h"

#include "../backend.h"
#include "../bodies.h"
#include "../ring.h"

/* Skip (exit 77, the ctest skip code) when no GPU is usable. */
static inline int gpu_or_skip(const char *prog)
{
    const char *why = nullptr;
    int dev = rk_cuda_bind(-1, 0, &why);
    if (dev < 0) {
        printf("{\"name\":\"%s\",\"skipped\":\"no GPU: %s\"}\n", prog, why ? why : "unknown");
        exit(77);
    }
    return dev;
}

static inline rk_msg_t *make_vector_msg(int n, double scale)
{
    rk_msg_t *m = nullptr;
    std::vector<double> v(n);
    for (int i = 0; i < n; i++) v[i] = i;
    if (rk_msg_create(RkVector_type(), 16 + 8 * n, &m) != RK_OK) abort();
    RkVector *vec = (RkVector *)m;
    if (RK_SET_LIST(&vec, RkVector, values, v.data(), v.size()) != RK_OK) abort();
    vec->scale = scale;
    return &vec->hdr;
}

/* Parameters of a runtime kernel @p id with the example scale-and-sum body on the CUDA backend. */
static inline void scale_kernel_params(rk_device_kernel_t *dk, rk_kernel_params_t *p, const char *id)
{
    *dk = rk_device_kernel_t{};
    *p = rk_kernel_params_t{};
    dk->host_body = [](const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *s) {
        return rk_body_scale_sum(in, len, out, cap, s);
    };
    dk->launch = rk_example_scale_launcher();
    p->kernel_id = id;
    p->field_mask = RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_BACKEND;
    p->device = dk;
    p->backend = RK_BACKEND_CUDA;
}

struct GpuRings {
    rk_cuda_rings_t cuda{};
    rk_ring_t *in = nullptr, *out = nullptr;
    GpuRings(int dev, uint32_t slots, uint32_t slot_size)
    {
        size_t bytes = rk_ring_bytes(slots, slot_size);
        if (rk_cuda_rings_create(dev, bytes, &cuda) != RK_OK) abort();
        in = rk_ring_init(cuda.in_host, slots, slot_size);
        out = rk_ring_init(cuda.out_host, slots, slot_size);
        if (rk_cuda_start(&cuda, rk_example_scale_launcher()) != RK_OK) abort();
    }
    /* Call from every host spin loop: exits with the CUDA error when the
     * persistent kernel has died (else the loop would wait forever). */
    void poll_alive()
    {
        const char *why = nullptr;
        if ((++spins & 0xfffff) != 0) return;
        if (rk_cuda_check(&cuda, &why) != RK_OK) {
            fprintf(stderr, "FATAL: the persistent kernel stopped: %s\n", why ? why : "?");
            exit(1);
        }
    }
    unsigned long long spins = 0;
    ~GpuRings()
    {
        rk_ring_request_stop(in);
        rk_cuda_wait(&cuda);
        rk_cuda_rings_destroy(&cuda);
    }
};

/*
 * Kernel-to-kernel traffic through a ring in DEVICE memory (never touching the
 * host): block 0 produces @p n entries of @p bytes (a multiple of 8, at most
 * 4 KiB), block 1 consumes them and checks length, sequence number and the
 * last word. Lanes = blockDim.x: 32 (the warp copies each slot) or 1.
 * result[0] = entries received, result[1] = entries that failed the check.
 */
__global__ void k2k_kernel(rk_ring_t *r, unsigned long long n, uint32_t bytes, unsigned long long *result)
{
    __shared__ uint64_t buf[512];
    const unsigned lane = threadIdx.x, lanes = blockDim.x;
    const unsigned mask = lanes == 32 ? 0xffffffffu : 1u;
    const uint32_t words = bytes / 8;
    rk_ring_cursor_t c;
    if (lane == 0) rk_ring_cursor_init(&c, r, blockIdx.x == 0);
    if (blockIdx.x == 0) {
        for (uint32_t i = lane; i < words; i += lanes) buf[i] = i;
        for (unsigned long long k = 0; k < n; k++) {
            uint8_t *slot = nullptr;
            if (lane == 0) {
                while (!(slot = rk_ring_cursor_reserve(&c, r))) {
                }
                buf[0] = k;
                rk_ring_slot_header(slot, bytes, 128);
            }
            slot = (uint8_t *)__shfl_sync(mask, (unsigned long long)slot, 0);
            __syncwarp(mask);
            uint64_t *dst = (uint64_t *)(slot + RK_RING_SLOT_HDR);
            for (uint32_t i = lane; i < words; i += lanes) dst[i] = buf[i];
            __syncwarp(mask);
            if (lane == 0) rk_ring_cursor_publish(&c, r);
        }
    } else {
        unsigned long long bad = 0;
        for (unsigned long long k = 0; k < n; k++) {
            const uint8_t *slot = nullptr;
            if (lane == 0)
                while (!(slot = rk_ring_cursor_front(&c, r))) {
                }
            slot = (const uint8_t *)__shfl_sync(mask, (unsigned long long)slot, 0);
            const unsigned long long *src = (const unsigned long long *)slot;
            for (uint32_t i = lane; i < words + 1; i += lanes) buf[i] = __ldcg(src + i);
            __syncwarp(mask);
            if (lane == 0) {
                uint32_t len = (uint32_t)buf[0];
                if (len != bytes || buf[1] != k || (words > 1 && buf[words] != words - 1)) bad++;
                rk_ring_cursor_pop(&c, r);
            }
            __syncwarp(mask);
        }
        if (lane == 0) {
            result[0] = n;
            result[1] = bad;
        }
    }
}

/* A ring of @p slots x @p slot_size in device memory, initialised from the host. */
static inline rk_ring_t *device_ring(uint32_t slots, uint32_t slot_size)
{
    size_t bytes = rk_ring_bytes(slots, slot_size);
    rk_ring_t hdr, *r = nullptr;
    if (cudaMalloc((void **)&r, bytes) != cudaSuccess || cudaMemset(r, 0, bytes) != cudaSuccess) abort();
    if (!rk_ring_init(&hdr, 1, 16)) abort(); /* a valid header, then the real geometry */
    hdr.capacity = slots;
    hdr.slot_size = slot_size;
    if (cudaMemcpy(r, &hdr, sizeof hdr, cudaMemcpyHostToDevice) != cudaSuccess) abort();
    return r;
}

/* Run k2k_kernel once; returns seconds (GPU time), fills received/bad. */
static inline double k2k_run(rk_ring_t *r, unsigned long long n, uint32_t bytes, unsigned lanes,
                             unsigned long long *received, unsigned long long *bad)
{
    unsigned long long *res = nullptr, host[2] = {0, 0};
    cudaEvent_t a, b;
    float ms = 0;
    cudaMalloc((void **)&res, sizeof host);
    cudaMemset(res, 0, sizeof host);
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventRecord(a);
    k2k_kernel<<<2, lanes>>>(r, n, bytes, res);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    cudaEventElapsedTime(&ms, a, b);
    cudaMemcpy(host, res, sizeof host, cudaMemcpyDeviceToHost);
    *received = host[0];
    *bad = host[1];
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    cudaFree(res);
    return ms * 1e-3;
}

#endif
