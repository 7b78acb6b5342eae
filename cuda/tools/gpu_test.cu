/*
 * gpu_test.cu - ringmesh-gpu-test: checks the CUDA backend on a real GPU.
 *  1. a persistent kernel serves 10,000 requests through mapped rings with
 *     the same rk_ring_serve_one and body the host backend uses;
 *  2. a runtime kernel with backend CUDA answers correlated requests.
 * Exits 77 (skipped) where no GPU is usable, 0 when every check passes.
 */
#include <cmath>
#include <cstring>

#include "gpu_common.cuh"
#include "ringmesh/ringmesh.h"

static int failures;
#define CHECK(c)                                                         \
    do {                                                                 \
        if (!(c)) {                                                      \
            fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                  \
        }                                                                \
    } while (0)

static void ring_roundtrips(int dev)
{
    GpuRings g(dev, 8, 1024);
    rk_msg_t *m = make_vector_msg(16, 2.0);
    const double expect = 2.0 * 120; /* 2 * (0 + ... + 15) */
    int sent = 0, got = 0;
    while (got < 10000) {
        if (sent < 10000 && rk_ring_push(g.in, m, m->size, 128)) sent++;
        uint32_t len;
        const uint8_t *o = rk_ring_front(g.out, &len, nullptr);
        if (!o) continue;
        CHECK(len == m->size);
        CHECK(std::fabs(((const RkVector *)o)->sum - expect) < 1e-9);
        rk_ring_pop(g.out);
        got++;
    }
    rk_msg_free(m);
    printf("ring: 10000 requests served by the persistent kernel\n");
}

static void runtime_kernel(void)
{
    rk_runtime_t *rt = nullptr;
    rk_device_kernel_t dk{};
    rk_kernel_params_t p{};
    CHECK(rk_runtime_create(nullptr, &rt) == RK_OK);
    dk.host_body = [](const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *s) {
        return rk_body_scale_sum(in, len, out, cap, s);
    };
    dk.launch = rk_example_scale_launcher();
    p.kernel_id = "gpu-scaler";
    p.field_mask = RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_BACKEND;
    p.device = &dk;
    p.backend = RK_BACKEND_CUDA;
    CHECK(rk_kernel_start(rt, &p) == RK_OK);
    for (int i = 0; i < 100; i++) {
        rk_msg_t *m = make_vector_msg(8, i), *out = nullptr;
        CHECK(rk_send(rt, "gpu-scaler", m) == RK_OK);
        CHECK(rk_receive(rt, "gpu-scaler", 5000000, &out) == RK_OK);
        if (out) {
            CHECK(rk_uuid_equal(&out->correlation_id, &m->message_id));
            CHECK(std::fabs(((RkVector *)out)->sum - 28.0 * i) < 1e-9);
        }
        rk_msg_free(out);
        rk_msg_free(m);
    }
    rk_runtime_destroy(rt);
    printf("runtime: 100 correlated requests answered by a CUDA ring kernel\n");
}

int main(void)
{
    int dev = gpu_or_skip("gpu-test");
    ring_roundtrips(dev);
    runtime_kernel();
    printf("ringmesh-gpu-test: %s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
