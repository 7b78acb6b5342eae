// The host<->device ring protocol (cuda/ring.h) and device-body kernels on the
// host backend: the same protocol and body code the GPU runs.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../cuda/backend.h"
#include "../cuda/bodies.h"
#include "../cuda/ring.h"
#include "ringmesh/ringmesh.h"
#include "test_types.h"

namespace {

struct Ring {
    void *mem = nullptr;
    rk_ring_t *r = nullptr;
    Ring(uint32_t slots, uint32_t slot_size)
    {
        mem = aligned_alloc(64, (rk_ring_bytes(slots, slot_size) + 63) / 64 * 64);
        r = rk_ring_init(mem, slots, slot_size);
    }
    ~Ring() { free(mem); }
};

}  // namespace

TEST(DeviceRing, RefusesBadGeometry)
{
    EXPECT_EQ(rk_ring_bytes(0, 64), 0u);
    EXPECT_EQ(rk_ring_bytes(3, 64), 0u);   // not a power of two
    EXPECT_EQ(rk_ring_bytes(4, 8), 0u);    // no room for a payload
    EXPECT_EQ(rk_ring_bytes(4, 20), 0u);   // not a multiple of 8
    EXPECT_GT(rk_ring_bytes(4, 64), 4u * 64);
    EXPECT_EQ(rk_ring_init(nullptr, 4, 64), nullptr);
}

TEST(DeviceRing, FifoUntilFullThenRefuses)
{
    Ring ring(4, 32);
    ASSERT_NE(ring.r, nullptr);
    for (uint32_t i = 0; i < 4; i++) EXPECT_EQ(rk_ring_push(ring.r, &i, sizeof i, i), 1);
    uint32_t x = 9;
    EXPECT_EQ(rk_ring_push(ring.r, &x, sizeof x, 0), 0);  // full
    EXPECT_EQ(rk_ring_size(ring.r), 4u);
    char big[64] = {};
    EXPECT_EQ(rk_ring_push(ring.r, big, sizeof big, 0), 0);  // larger than a slot
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t v = 0, len = 0, prio = 0;
        ASSERT_EQ(rk_ring_take(ring.r, &v, sizeof v, &len, &prio), 1);
        EXPECT_EQ(v, i);
        EXPECT_EQ(prio, i);
        EXPECT_EQ(len, sizeof v);
    }
    uint32_t v, len;
    EXPECT_EQ(rk_ring_take(ring.r, &v, sizeof v, &len, nullptr), 0);  // empty
}

// One producer thread, one consumer thread, a million entries through an
// 8-slot ring: every entry arrives once, in order (TSan checks the protocol).
TEST(DeviceRing, ConcurrentProducerConsumerKeepOrder)
{
    Ring ring(8, 32);
    constexpr uint64_t kN = 1000000;
    std::thread producer([&] {
        for (uint64_t i = 0; i < kN; i++)
            while (!rk_ring_push(ring.r, &i, sizeof i, 0)) std::this_thread::yield();
        rk_ring_request_stop(ring.r);
    });
    uint64_t expect = 0;
    while (expect < kN) {
        uint64_t v;
        uint32_t len;
        int rc = rk_ring_take(ring.r, &v, sizeof v, &len, nullptr);
        if (rc == 1) {
            ASSERT_EQ(v, expect);
            expect++;
        } else {
            std::this_thread::yield();
        }
    }
    producer.join();
    EXPECT_TRUE(rk_ring_stop_requested(ring.r));
    EXPECT_EQ(rk_ring_size(ring.r), 0u);
}

namespace {

RkVector *make_vector(std::initializer_list<double> xs, double scale, int priority = 128)
{
    rk_msg_t *m = nullptr;
    EXPECT_EQ(rk_msg_create(RkVector_type(), 256, &m), RK_OK);
    std::vector<double> v(xs);
    auto *vec = reinterpret_cast<RkVector *>(m);
    EXPECT_EQ(RK_SET_LIST(&vec, RkVector, values, v.data(), v.size()), RK_OK);
    vec->scale = scale;
    rk_msg_set_priority(&vec->hdr, priority);
    return vec;
}

}  // namespace

TEST(DeviceRing, ServeOneRunsTheBodyAndKeepsPriority)
{
    Ring in(4, 512), out(4, 512);
    RkVector *v = make_vector({1, 2, 3}, 2.0, 200);
    ASSERT_EQ(rk_ring_push(in.r, v, v->hdr.size, 200), 1);
    EXPECT_EQ(rk_ring_serve_one(in.r, out.r, rk_body_scale_sum, nullptr), 1);
    EXPECT_EQ(rk_ring_serve_one(in.r, out.r, rk_body_scale_sum, nullptr), 0);  // nothing left
    uint32_t len, prio;
    const uint8_t *o = rk_ring_front(out.r, &len, &prio);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(prio, 200u);
    const RkVector *r = reinterpret_cast<const RkVector *>(o);
    EXPECT_DOUBLE_EQ(r->sum, 12.0);
    EXPECT_DOUBLE_EQ(RK_LIST(r, values, double)[2], 6.0);
    rk_msg_free(&v->hdr);
}

// The cursor API the persistent kernel and the k2k rings use: a producer
// thread and a consumer thread, each through its own cursor (indices cached,
// the other side's read only when empty / full), 500,000 entries of varying
// length through a 4-slot ring: every entry once, in order, intact.
TEST(DeviceRing, CursorsMoveEveryEntryInOrderAcrossThreads)
{
    Ring ring(4, 64);
    constexpr uint64_t kN = 500000;
    std::thread producer([&] {
        rk_ring_cursor_t c;
        rk_ring_cursor_init(&c, ring.r, 1);
        for (uint64_t i = 0; i < kN; i++) {
            uint8_t *slot;
            while (!(slot = rk_ring_cursor_reserve(&c, ring.r))) std::this_thread::yield();
            uint32_t len = 8 + (i % 7) * 8;  // 8 .. 56 bytes
            for (uint32_t w = 0; w < len / 8; w++) {
                uint64_t v = i + w;
                memcpy(slot + RK_RING_SLOT_HDR + 8 * w, &v, 8);
            }
            rk_ring_slot_header(slot, len, static_cast<uint32_t>(i & 255));
            rk_ring_cursor_publish(&c, ring.r);
        }
    });
    rk_ring_cursor_t c;
    rk_ring_cursor_init(&c, ring.r, 0);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < kN; i++) {
        const uint8_t *slot;
        while (!(slot = rk_ring_cursor_front(&c, ring.r))) std::this_thread::yield();
        uint32_t len, prio;
        memcpy(&len, slot, 4);
        memcpy(&prio, slot + 4, 4);
        if (len != 8 + (i % 7) * 8 || prio != (i & 255)) bad++;
        for (uint32_t w = 0; w < len / 8 && w < 7; w++) {
            uint64_t v;
            memcpy(&v, slot + RK_RING_SLOT_HDR + 8 * w, 8);
            if (v != i + w) bad++;
        }
        rk_ring_cursor_pop(&c, ring.r);
    }
    producer.join();
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(rk_ring_size(ring.r), 0u);
}

// The server stops when the output ring is full (never overwrites an unread
// answer), resumes when it drains, and skips an entry whose header claims more
// than its slot holds (no output, no out-of-bounds read).
TEST(DeviceRing, ServerWaitsForOutputRoomAndSkipsCorruptLengths)
{
    Ring in(4, 512), out(2, 512);
    rk_ring_server_t s;
    rk_ring_server_init(&s, in.r, out.r);
    RkVector *v = make_vector({1, 2, 3}, 1.0);
    uint8_t *slot = rk_ring_reserve(in.r);
    ASSERT_NE(slot, nullptr);
    rk_ring_publish(in.r, 4096, 9);  // corrupt: longer than the 504-byte payload area
    for (int i = 0; i < 3; i++) ASSERT_EQ(rk_ring_push(in.r, v, v->hdr.size, 100 + i), 1);
    EXPECT_EQ(rk_ring_server_serve(&s, in.r, out.r, rk_body_scale_sum, nullptr), 1);  // the corrupt one
    EXPECT_EQ(rk_ring_size(out.r), 0u);
    EXPECT_EQ(rk_ring_server_serve(&s, in.r, out.r, rk_body_scale_sum, nullptr), 1);
    EXPECT_EQ(rk_ring_server_serve(&s, in.r, out.r, rk_body_scale_sum, nullptr), 1);
    EXPECT_EQ(rk_ring_server_serve(&s, in.r, out.r, rk_body_scale_sum, nullptr), 0);  // output full
    EXPECT_EQ(rk_ring_size(in.r), 1u);
    uint32_t len, prio;
    for (uint32_t want = 100; want < 102; want++) {
        ASSERT_NE(rk_ring_front(out.r, &len, &prio), nullptr);
        EXPECT_EQ(prio, want);
        rk_ring_pop(out.r);
    }
    EXPECT_EQ(rk_ring_server_serve(&s, in.r, out.r, rk_body_scale_sum, nullptr), 1);  // room again
    const uint8_t *o = rk_ring_front(out.r, &len, &prio);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(prio, 102u);
    EXPECT_DOUBLE_EQ(reinterpret_cast<const RkVector *>(o)->sum, 6.0);
    EXPECT_EQ(rk_ring_size(in.r), 0u);
    rk_msg_free(&v->hdr);
}

namespace {

struct DeviceKernel {
    rk_runtime_t *rt = nullptr;
    rk_device_kernel_t dk{};
    explicit DeviceKernel(bool start = true)
    {
        EXPECT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
        dk.host_body = rk_body_scale_sum;
        dk.launch = rk_example_scale_launcher();
        dk.slot_size = 1024;
        rk_kernel_params_t p{};
        p.kernel_id = "scaler";
        p.field_mask = RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_BACKEND;
        p.device = &dk;
        p.backend = RK_BACKEND_AUTO;
        EXPECT_EQ(start ? rk_kernel_start(rt, &p) : rk_kernel_create(rt, &p), RK_OK);
    }
    ~DeviceKernel() { rk_runtime_destroy(rt); }
};

}  // namespace

TEST(DeviceKernel, RequestsFlowThroughTheBodyAndRepliesCorrelate)
{
    DeviceKernel d;
    std::vector<RkVector *> reqs;
    for (int i = 0; i < 50; i++) {
        reqs.push_back(make_vector({1.0 * i, 2, 3}, 0.5));
        ASSERT_EQ(rk_send(d.rt, "scaler", &reqs.back()->hdr), RK_OK);
    }
    for (int i = 0; i < 50; i++) {
        rk_msg_t *out = nullptr;
        ASSERT_EQ(rk_receive(d.rt, "scaler", 5000000, &out), RK_OK);
        auto *r = reinterpret_cast<RkVector *>(out);
        int idx = -1;
        for (int j = 0; j < 50; j++)
            if (rk_uuid_equal(&out->correlation_id, &reqs[j]->hdr.message_id)) idx = j;
        ASSERT_GE(idx, 0) << "reply correlates to no request";
        EXPECT_DOUBLE_EQ(r->sum, 0.5 * (idx + 5));
        EXPECT_FALSE(rk_uuid_equal(&out->message_id, &reqs[idx]->hdr.message_id));
        rk_msg_free(out);
    }
    for (auto *r : reqs) rk_msg_free(&r->hdr);
}

// The mailbox stays the priority authority: with messages queued while the
// kernel is inactive, the most urgent one goes through the body first.
TEST(DeviceKernel, MailboxFeedsTheRingHighestPriorityFirst)
{
    DeviceKernel d(false);
    ASSERT_EQ(rk_kernel_launch(d.rt, "scaler"), RK_OK);
    const int prios[] = {10, 50, 250, 100};
    for (int p : prios) {
        RkVector *v = make_vector({1}, p, p);
        ASSERT_EQ(rk_send(d.rt, "scaler", &v->hdr), RK_OK);
        rk_msg_free(&v->hdr);
    }
    ASSERT_EQ(rk_kernel_activate(d.rt, "scaler"), RK_OK);
    std::vector<int> order;
    for (int i = 0; i < 4; i++) {
        rk_msg_t *out = nullptr;
        ASSERT_EQ(rk_receive(d.rt, "scaler", 5000000, &out), RK_OK);
        order.push_back(out->priority);
        rk_msg_free(out);
    }
    EXPECT_EQ(order, (std::vector<int>{250, 100, 50, 10}));
}

TEST(DeviceKernel, OversizedMessageIsRefusedLoudlyNotCrashed)
{
    DeviceKernel d;
    std::vector<double> big(1000, 1.0);  // 8 KB: larger than the 1 KiB slot
    rk_msg_t *m = nullptr;
    ASSERT_EQ(rk_msg_create(RkVector_type(), 0, &m), RK_OK);
    auto *v = reinterpret_cast<RkVector *>(m);
    ASSERT_EQ(RK_SET_LIST(&v, RkVector, values, big.data(), big.size()), RK_OK);
    ASSERT_EQ(rk_send(d.rt, "scaler", &v->hdr), RK_OK);
    RkVector *small = make_vector({4}, 1);
    ASSERT_EQ(rk_send(d.rt, "scaler", &small->hdr), RK_OK);
    rk_msg_t *out = nullptr;
    ASSERT_EQ(rk_receive(d.rt, "scaler", 5000000, &out), RK_OK);
    EXPECT_TRUE(rk_uuid_equal(&out->correlation_id, &small->hdr.message_id));  // only the small one
    rk_msg_free(out);
    rk_msg_free(&v->hdr);
    rk_msg_free(&small->hdr);
}

TEST(GpuFallback, DecidedAtRunTime)
{
    const char *why = nullptr;
    int n = rk_cuda_device_count(&why);
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    rk_device_kernel_t dk{};
    dk.host_body = rk_body_scale_sum;
    rk_kernel_params_t p{};
    p.kernel_id = "must-gpu";
    p.field_mask = RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_BACKEND;
    p.device = &dk;
    p.backend = RK_BACKEND_CUDA;
    if (n == 0) {
        ASSERT_NE(why, nullptr);  // a reason is always given
        EXPECT_EQ(rk_kernel_create(rt, &p), RK_ERR_UNSUPPORTED);  // CUDA demanded, none usable
        p.backend = RK_BACKEND_AUTO;
        EXPECT_EQ(rk_kernel_create(rt, &p), RK_OK);  // AUTO falls back to the host, and says so
        rk_backend_t b = RK_BACKEND_AUTO;
        ASSERT_EQ(rk_kernel_backend(rt, "must-gpu", &b), RK_OK);
        EXPECT_EQ(b, RK_BACKEND_HOST);
    } else {
        EXPECT_EQ(rk_kernel_create(rt, &p), RK_OK);
        rk_backend_t b = RK_BACKEND_AUTO;
        ASSERT_EQ(rk_kernel_backend(rt, "must-gpu", &b), RK_OK);
        EXPECT_EQ(b, RK_BACKEND_CUDA);
    }
    // A host body cannot run on a GPU: CUDA is refused for it, GPU or not.
    rk_kernel_params_t host_body = {.kernel_id = "host-on-cuda", .fn = [](rk_ctx_t *, void *) {},
                                    .backend = RK_BACKEND_CUDA};
    EXPECT_EQ(rk_kernel_create(rt, &host_body), RK_ERR_UNSUPPORTED);
    rk_backend_t none;
    EXPECT_EQ(rk_kernel_backend(rt, "host-on-cuda", &none), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_kernel_backend(rt, "must-gpu", nullptr), RK_ERR_INVALID);
    p.kernel_id = "bad-device";
    p.device = nullptr;
    EXPECT_EQ(rk_kernel_create(rt, &p), RK_ERR_INVALID);
    rk_runtime_destroy(rt);
}

namespace {

// A body that turns an RkVector into a TestNum (value = sum of the values,
// seq = number of values) and, like a body running on a GPU, cannot name the
// TestNum descriptor: it leaves `type` NULL for the runtime to fill in.
uint32_t vector_to_num(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *)
{
    RkVector v;
    TestNum n;
    if (len < sizeof v || cap < sizeof n) return 0;
    memcpy(&v, in, sizeof v);
    if ((uint64_t)v.values.off + 8ull * v.values.len > len) return 0;
    memset(&n, 0, sizeof n);
    n.hdr = v.hdr;
    n.hdr.type = nullptr;
    n.hdr.size = sizeof n;
    n.seq = v.values.len;
    for (uint32_t i = 0; i < v.values.len; i++) {
        double x;
        memcpy(&x, in + v.values.off + 8 * i, 8);
        n.value += x;
    }
    memcpy(out, &n, sizeof n);
    return sizeof n;
}

// Receives whatever reaches it and emits a copy as its own output.
void collect_body(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_ctx_send(ctx, m);
        rk_msg_free(m);
    }
}

}  // namespace

// A device-body pipeline stage: outputs of another type go to the next kernel
// (forward_to), not to the kernel's own outputs, in order.
TEST(DeviceKernel, ForwardsOutputsOfAnotherTypeToTheNextStage)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    rk_kernel_params_t c{};
    c.kernel_id = "collector";
    c.fn = collect_body;
    ASSERT_EQ(rk_kernel_start(rt, &c), RK_OK);
    rk_device_kernel_t dk{};
    dk.host_body = vector_to_num;
    dk.out_type = TestNum_type();
    rk_kernel_params_t p{};
    p.kernel_id = "stage";
    p.field_mask = RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_FORWARD;
    p.device = &dk;
    p.forward_to = "collector";
    ASSERT_EQ(rk_kernel_start(rt, &p), RK_OK);
    for (int i = 1; i <= 20; i++) {
        std::vector<double> xs(i, 1.5);
        rk_msg_t *m = nullptr;
        ASSERT_EQ(rk_msg_create(RkVector_type(), 0, &m), RK_OK);
        auto *v = reinterpret_cast<RkVector *>(m);
        ASSERT_EQ(RK_SET_LIST(&v, RkVector, values, xs.data(), xs.size()), RK_OK);
        ASSERT_EQ(rk_send(rt, "stage", &v->hdr), RK_OK);
        rk_msg_free(&v->hdr);
    }
    for (int i = 1; i <= 20; i++) {
        rk_msg_t *out = nullptr;
        ASSERT_EQ(rk_receive(rt, "collector", 5000000, &out), RK_OK);
        ASSERT_EQ(out->type, TestNum_type());
        auto *n = reinterpret_cast<TestNum *>(out);
        EXPECT_EQ(n->seq, i);
        EXPECT_DOUBLE_EQ(n->value, 1.5 * i);
        rk_msg_free(out);
    }
    rk_msg_t *none = nullptr;
    EXPECT_EQ(rk_receive(rt, "stage", 0, &none), RK_ERR_TIMEOUT);  // nothing emitted as the stage's own output
    rk_runtime_destroy(rt);
}

TEST(DeviceKernel, ForwardToNeedsADeviceBodyAndAValidId)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    rk_kernel_params_t c{};
    c.kernel_id = "host";
    c.fn = collect_body;
    c.field_mask = RK_KERNEL_FIELD_FORWARD;
    c.forward_to = "elsewhere";
    EXPECT_EQ(rk_kernel_create(rt, &c), RK_ERR_INVALID);  // a host body forwards with rk_ctx_send_to itself
    rk_device_kernel_t dk{};
    dk.host_body = vector_to_num;
    rk_kernel_params_t p{};
    p.kernel_id = "stage";
    p.field_mask = RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_FORWARD;
    p.device = &dk;
    p.forward_to = "";
    EXPECT_EQ(rk_kernel_create(rt, &p), RK_ERR_INVALID);
    std::string longid(200, 'x');
    p.forward_to = longid.c_str();
    EXPECT_EQ(rk_kernel_create(rt, &p), RK_ERR_INVALID);
    rk_runtime_destroy(rt);
}
