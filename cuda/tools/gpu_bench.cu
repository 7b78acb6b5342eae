/*
 * gpu_bench.cu - ringmesh-gpu-bench: GPU figures with their baselines in the
 * same run, one JSON object per line (the ringmesh-bench format).
 *   gpu-roundtrip          host -> persistent kernel -> host through the ring
 *                          protocol (cuda/ring.h), p50/p99, vs a
 *                          launch-per-message actor (copy, launch, synchronize)
 *   gpu-runtime-roundtrip  the same through the runtime: rk_send -> mailbox ->
 *                          pump -> GPU kernel -> pump -> rk_receive, vs the
 *                          launch-per-message actor
 *   gpu-rate               messages/s streamed host -> resident kernel -> host,
 *                          vs the launch-per-message actor's rate
 *   gpu-k2k                kernel -> kernel through a ring in device memory,
 *                          slots copied by a warp, vs one thread per side
 * ratio > 1 means the ringmesh figure is better. Interleaved / alternated with
 * the baselines in the same process. Exits 77 (skipped) without a GPU.
 * Usage: ringmesh-gpu-bench [--help] [--only host|k2k] [iterations (default 10000)]
 */
#include <algorithm>
#include <chrono>
#include <cstring>

#include "gpu_common.cuh"
#include "ringmesh/ringmesh.h"

using clk = std::chrono::steady_clock;

static double us_since(clk::time_point t0) { return std::chrono::duration<double, std::micro>(clk::now() - t0).count(); }

__global__ void one_shot(const uint8_t *in, uint32_t len, uint8_t *out)
{
    if (threadIdx.x == 0 && blockIdx.x == 0) rk_body_scale_sum(in, len, out, len, nullptr);
}

/* The baseline actor: one kernel launch per message on mapped memory, on its
 * own stream (cudaDeviceSynchronize would wait for the persistent kernel). */
struct LaunchActor {
    uint8_t *in_host = nullptr, *out_host = nullptr, *in_dev = nullptr, *out_dev = nullptr;
    cudaStream_t stream{};
    LaunchActor()
    {
        if (cudaHostAlloc((void **)&in_host, 4096, cudaHostAllocMapped) != cudaSuccess ||
            cudaHostAlloc((void **)&out_host, 4096, cudaHostAllocMapped) != cudaSuccess ||
            cudaHostGetDevicePointer((void **)&in_dev, in_host, 0) != cudaSuccess ||
            cudaHostGetDevicePointer((void **)&out_dev, out_host, 0) != cudaSuccess ||
            cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess)
            abort();
    }
    ~LaunchActor()
    {
        cudaStreamDestroy(stream);
        cudaFreeHost(in_host);
        cudaFreeHost(out_host);
    }
    double roundtrip_us(const rk_msg_t *m)
    {
        auto t0 = clk::now();
        memcpy(in_host, m, m->size);
        one_shot<<<1, 32, 0, stream>>>(in_dev, m->size, out_dev);
        if (cudaStreamSynchronize(stream) != cudaSuccess) abort();
        return us_since(t0);
    }
};

static double ring_roundtrip_us(GpuRings &g, const rk_msg_t *m)
{
    uint32_t len;
    auto t0 = clk::now();
    while (!rk_ring_push(g.in, m, m->size, 128)) g.poll_alive();
    while (!rk_ring_front(g.out, &len, nullptr)) g.poll_alive();
    rk_ring_pop(g.out);
    return us_since(t0);
}

static double pct(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[(size_t)(p * (v.size() - 1))];
}

static void print_latency(const char *name, std::vector<double> &v, std::vector<double> &base, int iters, uint32_t bytes)
{
    printf("{\"name\":\"%s\",\"metric\":\"p50\",\"value\":%.2f,\"unit\":\"us\",\"p99\":%.2f,"
           "\"baseline\":\"launch-per-message\",\"baseline_value\":%.2f,\"baseline_p99\":%.2f,\"ratio\":%.2f,"
           "\"params\":{\"iters\":%d,\"bytes\":%u}}\n",
           name, pct(v, 0.5), pct(v, 0.99), pct(base, 0.5), pct(base, 0.99), pct(base, 0.5) / pct(v, 0.5), iters,
           bytes);
    fflush(stdout);
}

static void bench_ring(int dev, const rk_msg_t *m, LaunchActor &la, int iters)
{
    std::vector<double> ring_us, launch_us;
    la.roundtrip_us(m); /* the baseline kernel is loaded before the persistent one runs */
    GpuRings g(dev, 8, 512);
    for (int i = 0; i < 1000; i++) {
        ring_roundtrip_us(g, m); /* warm-up */
        la.roundtrip_us(m);
    }
    for (int i = 0; i < iters; i++) { /* interleaved with the baseline */
        ring_us.push_back(ring_roundtrip_us(g, m));
        launch_us.push_back(la.roundtrip_us(m));
    }
    print_latency("gpu-roundtrip", ring_us, launch_us, iters, m->size);

    const int n = iters * 100;
    int sent = 0, got = 0;
    uint32_t len;
    auto t0 = clk::now();
    while (got < n) {
        while (sent < n && rk_ring_push(g.in, m, m->size, 128)) sent++;
        while (rk_ring_front(g.out, &len, nullptr)) {
            rk_ring_pop(g.out);
            got++;
        }
        g.poll_alive();
    }
    double rate = n / (us_since(t0) * 1e-6);
    double base = 1e6 / pct(launch_us, 0.5);
    printf("{\"name\":\"gpu-rate\",\"metric\":\"rate\",\"value\":%.0f,\"unit\":\"msg/s\",\"baseline\":"
           "\"launch-per-message\",\"baseline_value\":%.0f,\"ratio\":%.1f,\"params\":{\"messages\":%d,\"slots\":8,"
           "\"bytes\":%u}}\n",
           rate, base, rate / base, n, m->size);
    fflush(stdout);
}

static void bench_runtime(const rk_msg_t *m, LaunchActor &la, int iters)
{
    rk_runtime_t *rt = nullptr;
    rk_device_kernel_t dk;
    rk_kernel_params_t p;
    std::vector<double> rt_us, launch_us;
    if (rk_runtime_create(nullptr, &rt) != RK_OK) abort();
    scale_kernel_params(&dk, &p, "gpu-bench");
    if (rk_kernel_start(rt, &p) != RK_OK) abort();
    rk_msg_t *req = nullptr;
    for (int i = 0; i < iters + 1000; i++) {
        if (rk_msg_copy(m, &req) != RK_OK) abort();
        rk_msg_t *out = nullptr;
        auto t0 = clk::now();
        if (rk_send(rt, "gpu-bench", req) != RK_OK || rk_receive(rt, "gpu-bench", 5000000, &out) != RK_OK) abort();
        double us = us_since(t0);
        rk_msg_free(out);
        rk_msg_free(req);
        double base = la.roundtrip_us(m);
        if (i >= 1000) {
            rt_us.push_back(us);
            launch_us.push_back(base);
        }
    }
    rk_runtime_destroy(rt);
    print_latency("gpu-runtime-roundtrip", rt_us, launch_us, iters, m->size);
}

static void bench_k2k(int iters)
{
    const uint32_t bytes = 64;
    const unsigned long long n = 100ull * iters; /* 1M entries by default */
    rk_ring_t *r = device_ring(256, bytes + RK_RING_SLOT_HDR);
    std::vector<double> warp, one;
    unsigned long long got, bad, bad_total = 0;
    k2k_run(r, n / 10, bytes, 32, &got, &bad); /* warm-up */
    for (int rep = 0; rep < 3; rep++) {        /* alternated with the baseline */
        warp.push_back(n / k2k_run(r, n, bytes, 32, &got, &bad));
        bad_total += bad + (got != n);
        one.push_back(n / k2k_run(r, n, bytes, 1, &got, &bad));
        bad_total += bad + (got != n);
    }
    printf("{\"name\":\"gpu-k2k\",\"metric\":\"rate\",\"value\":%.0f,\"unit\":\"msg/s\",\"baseline\":"
           "\"one-thread-per-side\",\"baseline_value\":%.0f,\"ratio\":%.2f,\"errors\":%llu,\"params\":{\"messages\":%llu,"
           "\"bytes\":%u,\"slots\":256,\"memory\":\"device\"}}\n",
           pct(warp, 0.5), pct(one, 0.5), pct(warp, 0.5) / pct(one, 0.5), bad_total, n, bytes);
    fflush(stdout);
    cudaFree(r);
}

int main(int argc, char **argv)
{
    const char *only = nullptr;
    int iters = 10000;
    setvbuf(stdout, nullptr, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: ringmesh-gpu-bench [--only host|k2k] [iterations]\n"
                   "GPU benchmarks with same-run baselines, one JSON line each:\n"
                   "  host: gpu-roundtrip, gpu-rate, gpu-runtime-roundtrip (launch-per-message baseline)\n"
                   "  k2k:  gpu-k2k (kernel -> kernel in device memory; one-thread baseline)\n"
                   "iterations: round trips per latency figure (default 10000, at least 10).\n"
                   "Exits 77 (skipped) without a usable GPU.\n");
            return 0;
        }
        if (!strcmp(argv[i], "--only") && i + 1 < argc && (!strcmp(argv[i + 1], "host") || !strcmp(argv[i + 1], "k2k"))) {
            only = argv[++i];
            continue;
        }
        char *end = nullptr;
        long v = strtol(argv[i], &end, 10);
        if (*argv[i] == '\0' || *end != '\0' || v < 10 || v > 100000000) {
            fprintf(stderr, "ringmesh-gpu-bench: bad argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
        iters = (int)v;
    }
    int dev = gpu_or_skip(only && !strcmp(only, "k2k") ? "gpu-k2k" : "gpu-roundtrip");
    if (!only || !strcmp(only, "host")) {
        rk_msg_t *m = make_vector_msg(4, 1.5); /* a ~100-byte message */
        LaunchActor la;
        bench_ring(dev, m, la, iters);
        bench_runtime(m, la, iters);
        rk_msg_free(m);
    }
    if (!only || !strcmp(only, "k2k")) bench_k2k(iters);
    return 0;
}
