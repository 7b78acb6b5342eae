/*
 * gpu_common.cuh - shared by the GPU test and benchmark programs: make an
 * RkVector request block and run a persistent kernel on two mapped rings.
 */
#ifndef RK_GPU_COMMON_CUH
#define RK_GPU_COMMON_CUH

#include <cstdio>
#include <cstdlib>
#include <vector>

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
    ~GpuRings()
    {
        rk_ring_request_stop(in);
        rk_cuda_wait(&cuda);
        rk_cuda_rings_destroy(&cuda);
    }
};

#endif
