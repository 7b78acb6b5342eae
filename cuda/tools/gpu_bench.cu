/*
 * gpu_bench.cu - ringmesh-gpu-bench: GPU figures with their baselines in the
 * same run, one JSON object per line.
 *   gpu-roundtrip   host -> persistent kernel -> host, p50/p99 (µs), vs a
 *                   launch-per-message actor (launch + synchronize per request)
 *   gpu-rate        messages/s streamed through the resident kernel, vs the
 *                   launch-per-message actor's rate
 * ratio > 1 means the persistent ring kernel is better. Exits 77 without a GPU.
 */
#include <algorithm>
#include <chrono>
#include <cstring>

#include "gpu_common.cuh"

using clk = std::chrono::steady_clock;

static double us_since(clk::time_point t0) { return std::chrono::duration<double, std::micro>(clk::now() - t0).count(); }

__global__ void one_shot(const uint8_t *in, uint32_t len, uint8_t *out)
{
    if (threadIdx.x == 0 && blockIdx.x == 0) rk_body_scale_sum(in, len, out, len, nullptr);
}

/* The baseline: one kernel launch per message on mapped memory. */
static double launch_per_message_us(rk_msg_t *m, uint8_t *in_dev, uint8_t *in_host, uint8_t *out_dev)
{
    auto t0 = clk::now();
    memcpy(in_host, m, m->size);
    one_shot<<<1, 32>>>(in_dev, m->size, out_dev);
    cudaDeviceSynchronize();
    return us_since(t0);
}

static double persistent_roundtrip_us(GpuRings &g, rk_msg_t *m)
{
    uint32_t len;
    auto t0 = clk::now();
    while (!rk_ring_push(g.in, m, m->size, 128)) {
    }
    while (!rk_ring_front(g.out, &len, nullptr)) {
    }
    rk_ring_pop(g.out);
    return us_since(t0);
}

static double pct(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[(size_t)(p * (v.size() - 1))];
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 10000;
    int dev = gpu_or_skip("gpu-roundtrip");
    rk_msg_t *m = make_vector_msg(4, 1.5); /* ~100-byte message */
    uint8_t *in_host, *out_host, *in_dev, *out_dev;
    cudaHostAlloc((void **)&in_host, 4096, cudaHostAllocMapped);
    cudaHostAlloc((void **)&out_host, 4096, cudaHostAllocMapped);
    cudaHostGetDevicePointer((void **)&in_dev, in_host, 0);
    cudaHostGetDevicePointer((void **)&out_dev, out_host, 0);
    std::vector<double> ring_us, launch_us;
    {
        GpuRings g(dev, 8, 512);
        for (int i = 0; i < 1000; i++) persistent_roundtrip_us(g, m); /* warm-up */
        for (int i = 0; i < iters; i++) {                               /* interleaved with the baseline */
            ring_us.push_back(persistent_roundtrip_us(g, m));
            launch_us.push_back(launch_per_message_us(m, in_dev, in_host, out_dev));
        }
        printf("{\"name\":\"gpu-roundtrip\",\"metric\":\"p50\",\"value\":%.2f,\"unit\":\"us\",\"p99\":%.2f,"
               "\"baseline\":\"launch-per-message\",\"baseline_value\":%.2f,\"ratio\":%.2f,\"params\":{\"iters\":%d,"
               "\"bytes\":%u}}\n",
               pct(ring_us, 0.5), pct(ring_us, 0.99), pct(launch_us, 0.5), pct(launch_us, 0.5) / pct(ring_us, 0.5),
               iters, m->size);
        const int n = iters * 10;
        int sent = 0, got = 0;
        uint32_t len;
        auto t0 = clk::now();
        while (got < n) {
            while (sent < n && rk_ring_push(g.in, m, m->size, 128)) sent++;
            while (rk_ring_front(g.out, &len, nullptr)) {
                rk_ring_pop(g.out);
                got++;
            }
        }
        double rate = n / (us_since(t0) * 1e-6);
        double base = 1e6 / pct(launch_us, 0.5);
        printf("{\"name\":\"gpu-rate\",\"metric\":\"rate\",\"value\":%.0f,\"unit\":\"msg/s\",\"baseline\":"
               "\"launch-per-message\",\"baseline_value\":%.0f,\"ratio\":%.1f,\"params\":{\"messages\":%d}}\n",
               rate, base, rate / base, n);
    }
    cudaFreeHost(in_host);
    cudaFreeHost(out_host);
    rk_msg_free(m);
    return 0;
}
