// The device-side priority server (cuda/prio.h), the same portable C a GPU
// kernel runs: entries pulled from the FIFO input ring are served highest
// priority first, FIFO within a priority, whatever the batch.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "../cuda/prio.h"

namespace {

struct Rings {
    std::vector<uint64_t> in_mem, out_mem;
    rk_ring_t *in = nullptr, *out = nullptr;
    Rings(uint32_t in_cap, uint32_t out_cap, uint32_t slot)
        : in_mem(rk_ring_bytes(in_cap, slot) / 8 + 1), out_mem(rk_ring_bytes(out_cap, slot) / 8 + 1)
    {
        in = rk_ring_init(in_mem.data(), in_cap, slot);
        out = rk_ring_init(out_mem.data(), out_cap, slot);
    }
};

struct Pool {
    std::vector<uint64_t> mem;
    rk_prio_t *q;
    Pool(uint32_t cap, uint32_t slot) : mem(rk_prio_bytes(cap, slot) / 8 + 1) { q = rk_prio_init(mem.data(), cap, slot); }
};

uint32_t echo(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *)
{
    if (len > cap) return 0;
    memcpy(out, in, len);
    return len;
}

struct Served {
    uint32_t seq, prio;
};

std::vector<Served> drain(rk_ring_t *out)
{
    std::vector<Served> got;
    uint32_t seq, len, prio;
    while (rk_ring_take(out, &seq, sizeof seq, &len, &prio)) got.push_back({seq, prio});
    return got;
}

// Highest priority first; within a priority, in the order sent.
void expect_priority_order(const std::vector<Served> &got)
{
    for (size_t i = 1; i < got.size(); i++) {
        ASSERT_GE(got[i - 1].prio, got[i].prio) << "at " << i;
        if (got[i - 1].prio == got[i].prio) ASSERT_LT(got[i - 1].seq, got[i].seq) << "at " << i;
    }
}

}  // namespace

TEST(DevicePrio, RefusesBadGeometry)
{
    uint64_t mem[64];
    EXPECT_EQ(rk_prio_bytes(0, 64), 0u);
    EXPECT_EQ(rk_prio_bytes(8, 12), 0u);  // not a multiple of 8
    EXPECT_EQ(rk_prio_bytes(8, 8), 0u);   // no room for a payload
    EXPECT_EQ(rk_prio_init(nullptr, 8, 64), nullptr);
    EXPECT_EQ(rk_prio_init(mem, 8, 13), nullptr);
    Pool p(4, 32);
    ASSERT_NE(p.q, nullptr);
    uint8_t big[32] = {0};
    EXPECT_EQ(rk_prio_push(p.q, big, 25, 1), 0) << "25 bytes do not fit a 32-byte slot with its header";
    EXPECT_EQ(rk_prio_push(p.q, big, 24, 1), 1);
    EXPECT_EQ(rk_prio_front(p.q) != RK_PRIO_NONE, true);
}

// 4,096 entries at random priorities queued while the kernel is held, then served.
TEST(DevicePrio, FourThousandQueuedAtRandomPrioritiesComeOutInOrder)
{
    const uint32_t n = 4096;
    Rings r(n, n, 64);
    Pool p(n, 64);
    std::mt19937 rng(7);
    for (uint32_t i = 0; i < n; i++) ASSERT_TRUE(rk_ring_push(r.in, &i, sizeof i, rng() % 256));
    rk_ring_server_t s;
    rk_ring_server_init(&s, r.in, r.out);
    uint32_t served = 0;
    while (rk_prio_serve(p.q, &s, r.in, r.out, echo, nullptr)) served++;
    EXPECT_EQ(served, n);
    EXPECT_EQ(p.q->count, 0u);
    auto got = drain(r.out);
    ASSERT_EQ(got.size(), (size_t)n);
    expect_priority_order(got);
    EXPECT_EQ(got.front().prio, 255u);
}

// A late urgent entry is served before everything queued ahead of it.
TEST(DevicePrio, UrgentOvertakesTheQueuedBatch)
{
    Rings r(256, 256, 32);
    Pool p(256, 32);
    for (uint32_t i = 0; i < 100; i++) ASSERT_TRUE(rk_ring_push(r.in, &i, sizeof i, 10));
    uint32_t urgent = 1000;
    ASSERT_TRUE(rk_ring_push(r.in, &urgent, sizeof urgent, 250));
    rk_ring_server_t s;
    rk_ring_server_init(&s, r.in, r.out);
    ASSERT_EQ(rk_prio_serve(p.q, &s, r.in, r.out, echo, nullptr), 1);
    auto got = drain(r.out);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].seq, 1000u);
    EXPECT_EQ(got[0].prio, 250u);
}

// The pool full: pulling stops, the ring keeps the rest (back-pressure), nothing is lost.
TEST(DevicePrio, AFullPoolLeavesTheRestInTheRing)
{
    Rings r(64, 64, 32);
    Pool p(8, 32);
    for (uint32_t i = 0; i < 20; i++) ASSERT_TRUE(rk_ring_push(r.in, &i, sizeof i, i % 3));
    rk_ring_server_t s;
    rk_ring_server_init(&s, r.in, r.out);
    EXPECT_EQ(rk_prio_pull(p.q, &s, r.in), 8u);
    EXPECT_EQ(rk_ring_size(r.in), 12u);
    EXPECT_EQ(rk_prio_push(p.q, &s, 4, 1), 0) << "full";
    uint32_t served = 0;
    while (rk_prio_serve(p.q, &s, r.in, r.out, echo, nullptr)) served++;
    EXPECT_EQ(served, 20u);
    EXPECT_EQ(drain(r.out).size(), 20u);
    // An output ring that is full stops serving without losing the entry.
    Rings small(64, 2, 32);
    Pool q(8, 32);
    for (uint32_t i = 0; i < 5; i++) ASSERT_TRUE(rk_ring_push(small.in, &i, sizeof i, 1));
    rk_ring_server_init(&s, small.in, small.out);
    EXPECT_EQ(rk_prio_serve(q.q, &s, small.in, small.out, echo, nullptr), 1);
    EXPECT_EQ(rk_prio_serve(q.q, &s, small.in, small.out, echo, nullptr), 1);
    EXPECT_EQ(rk_prio_serve(q.q, &s, small.in, small.out, echo, nullptr), 0);
    EXPECT_EQ(q.q->count, 3u);
}

// A producer thread and a serving thread at once (TSan checks the ring's
// ordering): every entry arrives, and within each priority in the order sent.
TEST(DevicePrio, ConcurrentProducerKeepsFifoWithinALevel)
{
    const uint32_t n = 50000;
    Rings r(1024, 1024, 32);
    Pool p(512, 32);
    std::atomic<bool> done{false};
    std::thread producer([&] {
        for (uint32_t i = 0; i < n; i++)
            while (!rk_ring_push(r.in, &i, sizeof i, (i * 7) % 5 * 60)) std::this_thread::yield();
        done = true;
    });
    std::vector<Served> got;
    rk_ring_server_t s;
    rk_ring_server_init(&s, r.in, r.out);
    while (got.size() < n) {
        while (rk_prio_serve(p.q, &s, r.in, r.out, echo, nullptr)) {
        }
        auto part = drain(r.out);
        got.insert(got.end(), part.begin(), part.end());
        if (part.empty()) std::this_thread::yield();
    }
    producer.join();
    ASSERT_EQ(got.size(), (size_t)n);
    std::map<uint32_t, uint32_t> last;
    for (const auto &g : got) {
        auto it = last.find(g.prio);
        if (it != last.end()) ASSERT_LT(it->second, g.seq) << "priority " << g.prio;
        last[g.prio] = g.seq;
    }
    EXPECT_EQ(last.size(), 5u);
}
