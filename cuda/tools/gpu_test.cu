/*
 * gpu_test.cu - ringmesh-gpu-test: checks the CUDA backend on a real GPU.
 *  1. a persistent kernel serves requests through mapped rings with the same
 *     ring protocol and body the host backend uses: answers in order and
 *     correct, shallow output rings, slots too large for shared memory, an
 *     entry with a corrupt length;
 *  2. kernel -> kernel entries through a ring in device memory;
 *  3. a runtime kernel with backend CUDA reports backend CUDA and answers
 *     correlated requests.
 * Exits 77 (skipped) where no GPU is usable, 0 when every check passes.
 */
#include <cmath>
#include <cstring>

#include "gpu_common.cuh"
#include "prio.h"
#include "ringmesh/ringmesh.h"

static int failures;
#define CHECK(c)                                                         \
    do {                                                                 \
        if (!(c)) {                                                      \
            fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                  \
        }                                                                \
    } while (0)

/* @p n requests with distinct scales through a persistent kernel: every answer
 * arrives, in order, with the right sum. Slots larger than the kernel's shared
 * staging area are staged in device-heap memory. */
static void ring_roundtrips(int dev, uint32_t slots, uint32_t slot_size, int values, int n)
{
    GpuRings g(dev, slots, slot_size);
    rk_msg_t *m = make_vector_msg(values, 1.0);
    RkVector *v = (RkVector *)m;
    const double base = 0.5 * values * (values - 1); /* 0 + 1 + ... + values-1 */
    int sent = 0, got = 0, bad = 0;
    while (got < n) {
        if (sent < n) {
            v->scale = sent;
            if (rk_ring_push(g.in, m, m->size, 128)) sent++;
        }
        uint32_t len;
        const uint8_t *o = rk_ring_front(g.out, &len, nullptr);
        if (!o) {
            g.poll_alive();
            continue;
        }
        if (len != m->size || std::fabs(((const RkVector *)o)->sum - base * got) > 1e-6 * (1 + base * got)) bad++;
        rk_ring_pop(g.out);
        got++;
    }
    CHECK(bad == 0);
    rk_msg_free(m);
    printf("ring: %d requests (%u-byte slots x %u, %u-byte messages) answered in order%s\n", n, slot_size, slots,
           (unsigned)(16 + 8 * values + sizeof(RkVector)), bad ? " -- WRONG ANSWERS" : "");
}

/* An entry whose header claims more than its slot holds produces no output,
 * and the kernel goes on serving the next one. */
static void ring_rejects_bad_length(int dev)
{
    GpuRings g(dev, 4, 512);
    rk_msg_t *m = make_vector_msg(4, 2.0);
    uint8_t *slot = rk_ring_reserve(g.in);
    CHECK(slot != nullptr);
    memcpy(slot, m, m->size);
    rk_ring_publish(g.in, 4096, 128); /* longer than the 504-byte payload area */
    CHECK(rk_ring_push(g.in, m, m->size, 7));
    uint32_t len = 0, prio = 0;
    const uint8_t *o = nullptr;
    while (!(o = rk_ring_front(g.out, &len, &prio))) g.poll_alive();
    CHECK(o != nullptr && len == m->size && prio == 7 && std::fabs(((const RkVector *)o)->sum - 12.0) < 1e-9);
    if (o) rk_ring_pop(g.out);
    while (rk_ring_size(g.in)) g.poll_alive();
    CHECK(rk_ring_size(g.out) == 0); /* the bad entry produced nothing */
    rk_msg_free(m);
    printf("ring: an entry longer than its slot is skipped without output\n");
}

/* Kernel -> kernel through a device-memory ring: every entry, in order, intact. */
static void kernel_to_kernel(void)
{
    const uint32_t sizes[] = {8, 64, 4088};
    for (uint32_t bytes : sizes) {
        rk_ring_t *r = device_ring(16, (bytes + RK_RING_SLOT_HDR + 7) / 8 * 8);
        for (unsigned lanes : {32u, 1u}) {
            unsigned long long got = 0, bad = 0;
            k2k_run(r, 200000, bytes, lanes, &got, &bad);
            CHECK(cudaGetLastError() == cudaSuccess);
            if (got != 200000 || bad) fprintf(stderr, "k2k %u bytes, %u lanes: %llu received, %llu bad\n", bytes, lanes, got, bad);
            CHECK(got == 200000 && bad == 0);
        }
        cudaFree(r);
    }
    printf("k2k: 200000 entries of 8 / 64 / 4088 bytes kernel -> kernel in device memory, warp and one thread\n");
}

static void runtime_kernel(void)
{
    rk_runtime_t *rt = nullptr;
    rk_device_kernel_t dk;
    rk_kernel_params_t p;
    CHECK(rk_runtime_create(nullptr, &rt) == RK_OK);
    scale_kernel_params(&dk, &p, "gpu-scaler");
    CHECK(rk_kernel_start(rt, &p) == RK_OK);
    rk_backend_t where = RK_BACKEND_AUTO;
    CHECK(rk_kernel_backend(rt, "gpu-scaler", &where) == RK_OK);
    CHECK(where == RK_BACKEND_CUDA); /* it runs on the GPU, not on a silent host fallback */
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

/* The priority pool (cuda/prio.h) in device memory, filled and served on the GPU: 4,096
 * entries at pseudo-random priorities queued while nothing is served, then served in order. */
__global__ void prio_on_device(void *mem, uint32_t n, int *bad)
{
    rk_prio_t *q = rk_prio_init(mem, n, 16);
    uint32_t x = 12345, last_seq = 0, last_prio = 256;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        if (!rk_prio_push(q, &i, sizeof i, (x >> 16) % 256)) (*bad)++;
    }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = rk_prio_front(q), seq, prio;
        if (i == RK_PRIO_NONE) {
            (*bad)++;
            return;
        }
        memcpy(&prio, rk_prio_slot(q, i) + 4, 4);
        memcpy(&seq, rk_prio_slot(q, i) + RK_RING_SLOT_HDR, 4);
        if (prio > last_prio || (prio == last_prio && seq <= last_seq)) (*bad)++;
        last_prio = prio;
        last_seq = seq;
        rk_prio_pop(q);
    }
    if (q->count != 0) (*bad)++;
}

static void priority_on_device(void)
{
    const uint32_t n = 4096;
    void *mem = nullptr;
    int *bad = nullptr, host_bad = -1;
    CHECK(cudaMalloc(&mem, rk_prio_bytes(n, 16)) == cudaSuccess);
    CHECK(cudaMalloc(&bad, sizeof *bad) == cudaSuccess);
    if (!mem || !bad) return;
    cudaMemset(bad, 0, sizeof *bad);
    prio_on_device<<<1, 1>>>(mem, n, bad);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    cudaMemcpy(&host_bad, bad, sizeof host_bad, cudaMemcpyDeviceToHost);
    CHECK(host_bad == 0);
    cudaFree(mem);
    cudaFree(bad);
    printf("prio: %u entries at random priorities served highest first, FIFO within a level, on the GPU\n", n);
}

int main(void)
{
    setvbuf(stdout, nullptr, _IOLBF, 0);
    int dev = gpu_or_skip("gpu-test");
    ring_roundtrips(dev, 8, 1024, 16, 10000);
    ring_roundtrips(dev, 2, 1024, 16, 10000);      /* output ring full most of the time */
    ring_roundtrips(dev, 4, 32768, 3000, 50);      /* 24 KB messages: staged in device-heap memory (in place without heap room) */
    ring_rejects_bad_length(dev);
    kernel_to_kernel();
    runtime_kernel();
    priority_on_device();
    printf("ringmesh-gpu-test: %s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
