// PriorityMailbox: ordering, bounds, backpressure strategies, concurrency,
// and the allocation-free hot path.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "queue/mailbox_hook.h"
#include "msg/pool.h"
#include "util/spin.h"
#include "test_types.h"

namespace {

struct Mailbox {
    rk_mailbox_t *mb = nullptr;
    Mailbox(uint32_t cap, rk_backpressure_t bp) { EXPECT_EQ(rk_mailbox_create(cap, bp, &mb), RK_OK); }
    ~Mailbox() { rk_mailbox_destroy(mb); }
};

rk_msg_t *M(TestNum *n) { return &n->hdr; }

int64_t seq_of(rk_msg_t *m) { return reinterpret_cast<TestNum *>(m)->seq; }

// @p producers threads, each putting @p per messages (seq i, sender p) at
// priority prio(i), BLOCK without a timeout. Join them.
template <typename Prio>
std::vector<std::thread> start_producers(rk_mailbox_t *mb, int producers, int per, Prio prio)
{
    std::vector<std::thread> ts;
    for (int p = 0; p < producers; p++)
        ts.emplace_back([=] {
            for (int i = 0; i < per; i++)
                ASSERT_EQ(rk_mailbox_put(mb, M(make_num(i, prio(i), p)), RK_WAIT_FOREVER), RK_OK);
        });
    return ts;
}

}  // namespace

TEST(PriorityMailbox, HigherPriorityFirstFifoWithinLevel)
{
    Mailbox box(16, RK_BP_BLOCK);
    // A(100) B(200) C(100) D(150) -> B D A C
    const int prio[] = {100, 200, 100, 150};
    for (int i = 0; i < 4; i++) ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(i, prio[i])), 0), RK_OK);
    const int64_t expect[] = {1, 3, 0, 2};
    for (int64_t e : expect) {
        rk_msg_t *m = nullptr;
        ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);
        EXPECT_EQ(seq_of(m), e);
        rk_msg_free(m);
    }
    rk_msg_t *m = nullptr;
    EXPECT_EQ(rk_mailbox_try_get(box.mb, &m), RK_ERR_EMPTY);
}

TEST(PriorityMailbox, AllLevelsAndExtremes)
{
    Mailbox box(512, RK_BP_BLOCK);
    for (int p = 0; p < 256; p++) ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(p, p)), 0), RK_OK);
    for (int p = 255; p >= 0; p--) {
        rk_msg_t *m = nullptr;
        ASSERT_EQ(rk_mailbox_try_get(box.mb, &m), RK_OK);
        EXPECT_EQ(m->priority, p);
        rk_msg_free(m);
    }
}

TEST(PriorityMailbox, PeekSizeCapacityClear)
{
    Mailbox box(4, RK_BP_BLOCK);
    const rk_msg_t *peeked = nullptr;
    EXPECT_EQ(rk_mailbox_peek(box.mb, &peeked), RK_ERR_EMPTY);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1, 10)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(2, 20)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_peek(box.mb, &peeked), RK_OK);
    EXPECT_EQ(reinterpret_cast<const TestNum *>(peeked)->seq, 2);
    EXPECT_EQ(rk_mailbox_size(box.mb), 2u);  // peek does not remove
    EXPECT_EQ(rk_mailbox_capacity(box.mb), 4u);
    EXPECT_EQ(rk_mailbox_clear(box.mb), 2u);
    EXPECT_EQ(rk_mailbox_size(box.mb), 0u);
}

TEST(PriorityMailbox, RejectWhenFull)
{
    Mailbox box(2, RK_BP_REJECT);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(2)), 0), RK_OK);
    TestNum *third = make_num(3, 255);
    EXPECT_EQ(rk_mailbox_put(box.mb, M(third), RK_WAIT_FOREVER), RK_ERR_FULL);
    rk_msg_free(M(third));  // still ours after a reject
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    EXPECT_EQ(st.rejected, 1u);
    EXPECT_EQ(st.depth, 2u);
}

TEST(PriorityMailbox, DropOldestEvictsOldestOfLowestLevelAndCounts)
{
    Mailbox box(3, RK_BP_DROP_OLDEST);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1, 50)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(2, 50)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(3, 200)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(4, 100)), 0), RK_OK);  // evicts seq 1
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(5, 100)), 0), RK_OK);  // evicts seq 2
    TestNum *low = make_num(6, 10);  // below everything queued: refused
    EXPECT_EQ(rk_mailbox_put(box.mb, M(low), 0), RK_ERR_DROPPED);
    rk_msg_free(M(low));
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    EXPECT_EQ(st.dropped, 3u);
    const int64_t expect[] = {3, 4, 5};
    for (int64_t e : expect) {
        rk_msg_t *m = nullptr;
        ASSERT_EQ(rk_mailbox_try_get(box.mb, &m), RK_OK);
        EXPECT_EQ(seq_of(m), e);
        rk_msg_free(m);
    }
}

TEST(PriorityMailbox, BlockTimesOutThenSucceedsWhenRoomAppears)
{
    Mailbox box(1, RK_BP_BLOCK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1)), 0), RK_OK);
    TestNum *second = make_num(2);
    EXPECT_EQ(rk_mailbox_put(box.mb, M(second), 20000), RK_ERR_TIMEOUT);
    std::thread consumer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        rk_msg_t *m = nullptr;
        EXPECT_EQ(rk_mailbox_get(box.mb, RK_WAIT_FOREVER, &m), RK_OK);
        rk_msg_free(m);
    });
    EXPECT_EQ(rk_mailbox_put(box.mb, M(second), 5000000), RK_OK);  // woken by the get
    consumer.join();
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    EXPECT_EQ(st.timeouts, 1u);
    EXPECT_EQ(st.high_water, 1u);
}

TEST(PriorityMailbox, GetTimesOutWhenEmpty)
{
    Mailbox box(1, RK_BP_BLOCK);
    rk_msg_t *m = nullptr;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(rk_mailbox_get(box.mb, 30000, &m), RK_ERR_TIMEOUT);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(25));
}

TEST(PriorityMailbox, CloseWakesBlockedGetterAndRefusesPuts)
{
    Mailbox box(1, RK_BP_BLOCK);
    std::thread getter([&] {
        rk_msg_t *m = nullptr;
        EXPECT_EQ(rk_mailbox_get(box.mb, RK_WAIT_FOREVER, &m), RK_ERR_TERMINATED);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    rk_mailbox_close(box.mb);
    getter.join();
    TestNum *n = make_num(1);
    EXPECT_EQ(rk_mailbox_put(box.mb, M(n), 0), RK_ERR_TERMINATED);
    rk_msg_free(M(n));
}

TEST(PriorityMailbox, CloseWakesBlockedPutterAndKeepsWhatWasQueued)
{
    // A BLOCK put waiting forever for room returns RK_ERR_TERMINATED (the caller
    // keeps its message) when the mailbox closes; what was queued before the
    // close can still be taken, then get says TERMINATED.
    Mailbox box(1, RK_BP_BLOCK);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1)), 0), RK_OK);
    TestNum *second = make_num(2);
    std::thread putter([&] { EXPECT_EQ(rk_mailbox_put(box.mb, M(second), RK_WAIT_FOREVER), RK_ERR_TERMINATED); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rk_mailbox_close(box.mb);
    putter.join();
    rk_msg_free(M(second));
    rk_msg_t *m = nullptr;
    ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);
    EXPECT_EQ(seq_of(m), 1);
    rk_msg_free(m);
    EXPECT_EQ(rk_mailbox_get(box.mb, RK_WAIT_FOREVER, &m), RK_ERR_TERMINATED);
}

TEST(PriorityMailbox, KickWinsOnceOverQueuedMessages)
{
    // A kick marks a state change: the next get/try_get must return without a
    // message even when one is queued (the taker re-checks its state), once.
    Mailbox box(4, RK_BP_BLOCK);
    rk_msg_t *m = nullptr;
    rk_mailbox_kick(box.mb);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(7)), 0), RK_OK);
    EXPECT_EQ(rk_mailbox_get(box.mb, 1000000, &m), RK_ERR_TIMEOUT);
    EXPECT_EQ(m, nullptr);
    ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);
    EXPECT_EQ(seq_of(m), 7);
    rk_msg_free(m);
    m = nullptr;
    rk_mailbox_kick(box.mb);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(8)), 0), RK_OK);
    EXPECT_EQ(rk_mailbox_try_get(box.mb, &m), RK_ERR_TIMEOUT);
    ASSERT_EQ(rk_mailbox_try_get(box.mb, &m), RK_OK);
    EXPECT_EQ(seq_of(m), 8);
    rk_msg_free(m);
    EXPECT_EQ(rk_mailbox_try_get(box.mb, &m), RK_ERR_EMPTY);
}

TEST(PriorityMailbox, WaitTimesAreMeasuredOnASample)
{
    // One message in 32 (by position) is timed; the first one is. 16 messages
    // wait >= 20 ms in the queue: the sampled ones report that wait.
    Mailbox box(32, RK_BP_BLOCK);
    for (int i = 0; i < 16; i++) ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(i)), 0), RK_OK);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rk_msg_t *m = nullptr;
    for (int i = 0; i < 16; i++) {
        ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);
        rk_msg_free(m);
    }
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    EXPECT_GE(st.wait_max_ns, 20000000u);
    EXPECT_GE(st.wait_p50_ns, 15000000u);  // buckets are within 25%
    EXPECT_LE(st.wait_p50_ns, st.wait_p99_ns);
    EXPECT_LT(st.wait_max_ns, 10000000000u);
}

TEST(PriorityMailbox, InvalidArguments)
{
    rk_mailbox_t *mb = nullptr;
    EXPECT_EQ(rk_mailbox_create(0, RK_BP_BLOCK, &mb), RK_ERR_INVALID);
    EXPECT_EQ(rk_mailbox_create(4, (rk_backpressure_t)7, &mb), RK_ERR_INVALID);
    EXPECT_EQ(rk_mailbox_create(4, RK_BP_BLOCK, nullptr), RK_ERR_INVALID);
    EXPECT_EQ(rk_mailbox_put(nullptr, nullptr, 0), RK_ERR_INVALID);
    Mailbox box(4, RK_BP_BLOCK);
    rk_msg_t *ms[2];
    uint32_t n = 5;
    EXPECT_EQ(rk_mailbox_get_batch(box.mb, 0, ms, 0, &n), RK_ERR_INVALID);  // max 0
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(rk_mailbox_get_batch(box.mb, 0, nullptr, 2, &n), RK_ERR_INVALID);
    EXPECT_EQ(rk_mailbox_get_batch(box.mb, 0, ms, 2, nullptr), RK_ERR_INVALID);
    EXPECT_EQ(rk_mailbox_get_batch(nullptr, 0, ms, 2, &n), RK_ERR_INVALID);
}

// A batch get waits like a get (kick, sleep and wake-up, close), then takes
// what is there without waiting for more.
TEST(PriorityMailbox, BatchGetWaitsForTheFirstAndTakesWhatIsThere)
{
    Mailbox box(16, RK_BP_BLOCK);
    rk_msg_t *ms[8] = {};
    uint32_t n = 0;
    rk_mailbox_kick(box.mb);
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1)), 0), RK_OK);
    EXPECT_EQ(rk_mailbox_get_batch(box.mb, 1000000, ms, 8, &n), RK_ERR_TIMEOUT);  // the kick, once
    EXPECT_EQ(n, 0u);
    ASSERT_EQ(rk_mailbox_get_batch(box.mb, 1000000, ms, 8, &n), RK_OK);
    ASSERT_EQ(n, 1u);  // one queued: returns at once with it
    EXPECT_EQ(seq_of(ms[0]), 1);
    rk_msg_free(ms[0]);
    std::thread later([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        for (int i = 2; i <= 4; i++) ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(i)), 0), RK_OK);
    });
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(rk_mailbox_get_batch(box.mb, 5000000, ms, 8, &n), RK_OK);  // sleeps until the first put
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
    later.join();
    uint32_t more = 0;
    if (n < 3) ASSERT_EQ(rk_mailbox_get_batch(box.mb, 0, ms + n, 8 - n, &more), RK_OK);
    ASSERT_EQ(n + more, 3u);
    for (uint32_t i = 0; i < 3; i++) {
        EXPECT_EQ(seq_of(ms[i]), (int64_t)i + 2);  // FIFO across the two calls
        rk_msg_free(ms[i]);
    }
    EXPECT_EQ(rk_mailbox_get_batch(box.mb, 10000, ms, 8, &n), RK_ERR_TIMEOUT);
    rk_mailbox_close(box.mb);
    EXPECT_EQ(rk_mailbox_get_batch(box.mb, 1000000, ms, 8, &n), RK_ERR_TERMINATED);
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    EXPECT_EQ(st.dequeued, 4u);
}

// Many producers, one consumer: nothing lost, duplicated, or reordered within
// (producer, priority); each dequeue is the highest priority present.
TEST(PriorityMailbox, ManyProducersOneConsumerKeepPerSenderOrder)
{
    constexpr int kProducers = 4, kPer = 20000;
    Mailbox box(64, RK_BP_BLOCK);
    auto producers = start_producers(box.mb, kProducers, kPer, [](int i) { return 100 + (i % 3) * 50; });
    std::vector<std::vector<int64_t>> last(kProducers, std::vector<int64_t>(256, -1));
    for (int got = 0; got < kProducers * kPer; got++) {
        rk_msg_t *m = nullptr;
        ASSERT_EQ(rk_mailbox_get(box.mb, 10000000, &m), RK_OK);
        auto *n = reinterpret_cast<TestNum *>(m);
        ASSERT_GT(n->seq, last[n->sender][m->priority]);
        last[n->sender][m->priority] = n->seq;
        rk_msg_free(m);
    }
    for (auto &t : producers) t.join();
    EXPECT_EQ(rk_mailbox_size(box.mb), 0u);
}

// A getter that keeps going to sleep: two producers put one message at a time
// after pauses of a few microseconds (longer than the getter's spin, so most
// gets sleep), and a put can land between the getter's last look and its
// sleep. Every get must be woken by the put it waits for: a lost wake-up shows
// as a get that waits out its 2 s timeout. Same-priority streams (kept in the
// ring) and mixed ones (in the levels) both.
TEST(PriorityMailbox, SleepingGetterIsWokenByEveryPut)
{
    for (int mixed = 0; mixed <= 1; mixed++) {
        constexpr int kProducers = 2, kPer = 1500;
        Mailbox box(8, RK_BP_BLOCK);
        std::vector<std::thread> producers;
        for (int p = 0; p < kProducers; p++)
            producers.emplace_back([&, p] {
                unsigned rng = 77u + (unsigned)p;
                for (int i = 0; i < kPer; i++) {
                    rng = rng * 1103515245u + 12345u;
                    if ((rng >> 16) % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds((rng >> 8) % 200));
                    else if ((rng >> 16) % 4 == 1) sched_yield();
                    int prio = mixed ? 100 + (i % 3) : 128;
                    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(i, prio, p)), RK_WAIT_FOREVER), RK_OK);
                }
            });
        for (int got = 0; got < kProducers * kPer; got++) {
            rk_msg_t *m = nullptr;
            auto t0 = std::chrono::steady_clock::now();
            ASSERT_EQ(rk_mailbox_get(box.mb, 2000000, &m), RK_OK) << "message " << got << " mixed " << mixed;
            auto waited = std::chrono::steady_clock::now() - t0;
            ASSERT_LT(waited, std::chrono::milliseconds(500)) << "message " << got << " mixed " << mixed;
            rk_msg_free(m);
        }
        for (auto &t : producers) t.join();
        rk_mailbox_stats_t st;
        rk_mailbox_get_stats(box.mb, &st);
        EXPECT_EQ(st.dequeued, (uint64_t)kProducers * kPer);
    }
}

// Priority across threads. Each round a producer puts a run of four messages
// of one priority, then one message of another, then raises a flag; the taker
// takes one message while those puts are under way (so its look at the queue
// races with them, and the run's priority, new each round, changes then), then
// waits for the flag and takes the other four. Those four must be what a
// single lock would give: when the odd one is still queued and outranks the
// run, it comes first; otherwise after the run. Takes that skip looking at the
// producers' frontier (allowed while a run goes on and no put above it
// completed) are checked against every order of the two.
TEST(PriorityMailbox, PutThatReturnedBeforeAGetOutranksTheRunAcrossThreads)
{
    constexpr int kRounds = 4000;
    Mailbox box(64, RK_BP_BLOCK);
    std::atomic<int> stage{0};  // rounds whose five puts have returned
    std::atomic<int> done{0};   // rounds the taker has finished
    std::atomic<bool> failed{false};
    unsigned rng = 4242u;
    std::vector<int> run_prio(kRounds), odd_prio(kRounds);
    for (int r = 0; r < kRounds; r++) {
        rng = rng * 1103515245u + 12345u;
        run_prio[r] = (int)((rng >> 8) % 256);
        rng = rng * 1103515245u + 12345u;
        odd_prio[r] = (int)((rng >> 8) % 256);
    }
    std::thread producer([&] {
        for (int r = 0; r < kRounds; r++) {
            while (done.load(std::memory_order_acquire) < r)
                if (failed.load()) return;
                else std::this_thread::yield();
            for (int i = 0; i < 4; i++)
                ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(r * 10 + i, run_prio[r])), RK_WAIT_FOREVER), RK_OK);
            ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(r * 10 + 9, odd_prio[r])), RK_WAIT_FOREVER), RK_OK);
            stage.store(r + 1, std::memory_order_release);
        }
    });
    auto take = [&box]() -> int64_t {  // -1: nothing within a second
        rk_msg_t *m = nullptr;
        if (rk_mailbox_get(box.mb, 1000000, &m) != RK_OK) return -1;
        int64_t seq = seq_of(m);
        rk_msg_free(m);
        return seq;
    };
    for (int r = 0; r < kRounds && !failed; r++) {
        const int64_t odd = r * 10 + 9, run0 = r * 10;
        for (unsigned i = 0, spin = (unsigned)(r * 7919) % 400; i < spin; i++) rk_cpu_relax();
        int64_t first = take();  // races with the round's puts
        bool odd_first = first == odd && odd_prio[r] > run_prio[r];
        EXPECT_TRUE(first == run0 || odd_first) << "round " << r << ": first take " << first;
        while (stage.load(std::memory_order_acquire) < r + 1) std::this_thread::yield();
        std::vector<int64_t> rest, want;
        for (int i = 0; i < 4; i++) rest.push_back(take());
        if (odd_first) want = {run0, run0 + 1, run0 + 2, run0 + 3};
        else if (odd_prio[r] > run_prio[r]) want = {odd, run0 + 1, run0 + 2, run0 + 3};
        else want = {run0 + 1, run0 + 2, run0 + 3, odd};
        EXPECT_EQ(rest, want) << "round " << r << ": run at " << run_prio[r] << ", then one at " << odd_prio[r];
        if (rest != want || !(first == run0 || odd_first)) failed = true;
        done.store(r + 1, std::memory_order_release);
    }
    producer.join();
    EXPECT_EQ(rk_mailbox_size(box.mb), 0u);
}

// Batch gets against four producers: nothing lost or duplicated, per-sender
// order kept within each priority, and inside every batch no message outranks
// the one before it (a batch is what as many gets in a row would take).
TEST(PriorityMailbox, BatchGetsAgainstManyProducersKeepOrderAndCount)
{
    constexpr int kProducers = 4, kPer = 20000;
    Mailbox box(64, RK_BP_BLOCK);
    auto producers = start_producers(box.mb, kProducers, kPer, [](int i) {
        return (i / 100) % 4 == 0 ? 100 + (i % 3) * 50 : 128;  // mostly runs, sometimes mixed
    });
    std::vector<std::vector<int64_t>> last(kProducers, std::vector<int64_t>(256, -1));
    unsigned rng = 99u;
    int got = 0;
    while (got < kProducers * kPer) {
        rk_msg_t *ms[16];
        uint32_t n = 0;
        rng = rng * 1103515245u + 12345u;
        ASSERT_EQ(rk_mailbox_get_batch(box.mb, 10000000, ms, 1 + (rng >> 8) % 16, &n), RK_OK);
        ASSERT_GE(n, 1u);
        int prev = 256;
        for (uint32_t i = 0; i < n; i++) {
            auto *num = reinterpret_cast<TestNum *>(ms[i]);
            ASSERT_LE(ms[i]->priority, prev) << "inside a batch";
            prev = ms[i]->priority;
            ASSERT_GT(num->seq, last[num->sender][ms[i]->priority]);
            last[num->sender][ms[i]->priority] = num->seq;
            rk_msg_free(ms[i]);
        }
        got += (int)n;
    }
    for (auto &t : producers) t.join();
    EXPECT_EQ(rk_mailbox_size(box.mb), 0u);
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    EXPECT_EQ(st.dequeued, (uint64_t)kProducers * kPer);
    EXPECT_EQ(st.enqueued, (uint64_t)kProducers * kPer);
}

// A put held between its reserve and its publish (the test seam stands for a
// producer preempted there) hides the puts that reserved after it: a look
// stops at the first unpublished slot. Once it publishes, the next get must
// return the higher-priority put that had returned meanwhile, even though the
// get that first noticed that put (and cleared its flag) could not see it and
// the held put, at the run's priority, raises no flag of its own.
namespace {
std::atomic<int> g_hold{0};  // 1: hold the next put that passes the seam; 2: it is held; 0: let go
thread_local bool t_hold_me = false;
void hold_here()
{
    if (!t_hold_me) return;
    g_hold = 2;
    while (g_hold.load() == 2) std::this_thread::yield();
}
}  // namespace

TEST(PriorityMailbox, PutHiddenBehindAnUnpublishedOneIsSeenOnceThatOnePublishes)
{
    Mailbox box(16, RK_BP_BLOCK);
    rk_msg_t *m = nullptr;
    for (int i = 0; i < 5; i++) ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(i, 128)), 0), RK_OK);
    ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);  // a run of 128 begins: 1..4 left in it
    EXPECT_EQ(seq_of(m), 0);
    rk_msg_free(m);
    rk_mailbox_reserved_hook = hold_here;
    std::thread held([&] {
        t_hold_me = true;
        EXPECT_EQ(rk_mailbox_put(box.mb, M(make_num(5, 128)), 0), RK_OK);
    });
    while (g_hold.load() != 2) std::this_thread::yield();
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(6, 255)), 0), RK_OK);  // returns; sits behind 5
    ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);
    int64_t hidden_get = seq_of(m);  // 1 (6 is behind the unpublished 5), documented
    rk_msg_free(m);
    g_hold = 0;
    held.join();
    rk_mailbox_reserved_hook = nullptr;
    ASSERT_EQ(rk_mailbox_get(box.mb, 0, &m), RK_OK);
    EXPECT_EQ(seq_of(m), 6) << "the 255 put returned before this get and 5 is published now";
    rk_msg_free(m);
    std::vector<int64_t> rest;
    while (rk_mailbox_try_get(box.mb, &m) == RK_OK) {
        rest.push_back(seq_of(m));
        rk_msg_free(m);
    }
    EXPECT_EQ(hidden_get, 1);
    EXPECT_EQ(rest, (std::vector<int64_t>{2, 3, 4, 5}));
}

// Tiny capacities (1, and 3 whose staging ring is rounded up to 4) with four
// producers: slots are reused constantly; every message arrives exactly once
// and the mailbox never holds more than its capacity.
TEST(PriorityMailbox, TinyCapacityManyProducersExactlyOnce)
{
    for (uint32_t cap : {1u, 3u}) {
        constexpr int kProducers = 4, kPer = 5000;
        Mailbox box(cap, RK_BP_BLOCK);
        auto producers = start_producers(box.mb, kProducers, kPer, [](int) { return 128; });
        std::vector<int64_t> next(kProducers, 0);
        for (int got = 0; got < kProducers * kPer; got++) {
            rk_msg_t *m = nullptr;
            ASSERT_EQ(rk_mailbox_get(box.mb, 10000000, &m), RK_OK);
            auto *n = reinterpret_cast<TestNum *>(m);
            ASSERT_EQ(n->seq, next[n->sender]) << "capacity " << cap;  // one level: strict FIFO per sender
            next[n->sender]++;
            rk_msg_free(m);
            ASSERT_LE(rk_mailbox_size(box.mb), cap);
        }
        for (auto &t : producers) t.join();
        rk_mailbox_stats_t st;
        rk_mailbox_get_stats(box.mb, &st);
        EXPECT_EQ(st.enqueued, (uint64_t)kProducers * kPer);
        EXPECT_EQ(st.dequeued, (uint64_t)kProducers * kPer);
        EXPECT_LE(st.high_water, cap);
        EXPECT_EQ(st.depth, 0u);
    }
}

// DROP_OLDEST under four producers and a slow consumer: every accepted put is
// counted, and accepted = taken + evicted + still queued, while the refusals
// and the evictions together are the `dropped` counter.
TEST(PriorityMailbox, DropOldestUnderConcurrencyAccountsForEveryMessage)
{
    constexpr int kProducers = 4, kPer = 5000;
    Mailbox box(16, RK_BP_DROP_OLDEST);
    std::atomic<uint64_t> ok{0}, refused{0}, taken{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; p++)
        producers.emplace_back([&, p] {
            for (int i = 0; i < kPer; i++) {
                TestNum *n = make_num(i, (i * 37 + p) & 255, p);
                rk_status_t st = rk_mailbox_put(box.mb, M(n), 0);
                if (st == RK_OK) ok++;
                else {
                    ASSERT_EQ(st, RK_ERR_DROPPED);
                    refused++;
                    rk_msg_free(M(n));
                }
            }
        });
    std::thread consumer([&] {
        while (!done.load()) {
            rk_msg_t *m = nullptr;
            if (rk_mailbox_get(box.mb, 1000, &m) == RK_OK) {
                taken++;
                rk_msg_free(m);
            }
        }
    });
    for (auto &t : producers) t.join();
    done = true;
    consumer.join();
    rk_mailbox_stats_t st;
    rk_mailbox_get_stats(box.mb, &st);
    uint64_t evicted = st.enqueued - st.dequeued - st.depth;
    EXPECT_EQ(st.enqueued, ok.load());
    EXPECT_EQ(st.dequeued, taken.load());
    EXPECT_EQ(ok.load() + refused.load(), (uint64_t)kProducers * kPer);
    EXPECT_EQ(st.dropped, refused.load() + evicted);
    EXPECT_LE(st.depth, 16u);
    EXPECT_EQ(rk_mailbox_clear(box.mb), st.depth);
}

// A model check: 20,000 random puts, gets, batch gets, peeks and clears on one thread, for
// each strategy, a few capacities and two mixes of priorities (three close
// levels; long runs at 128, which the mailbox keeps in its ring, broken now
// and then by another level), against a plain reference (a vector kept in
// arrival order). Every status, every message taken and every counter must
// match what the reference says.
TEST(PriorityMailbox, RandomOperationsMatchAReferenceModel)
{
    for (int runs = 0; runs <= 1; runs++)
    for (rk_backpressure_t bp : {RK_BP_BLOCK, RK_BP_REJECT, RK_BP_DROP_OLDEST}) {
        for (uint32_t cap : {1u, 5u, 64u}) {
            Mailbox box(cap, bp);
            std::vector<std::pair<int, int64_t>> model;  // (priority, seq) in arrival order
            uint64_t enq = 0, deq = 0, dropped = 0, rejected = 0, timeouts = 0;
            unsigned rng = 12345u + cap * 7u + (unsigned)bp;
            auto rnd = [&rng](unsigned n) {
                rng = rng * 1103515245u + 12345u;
                return (rng >> 8) % n;
            };
            auto best = [&model]() {  // index of the highest priority, oldest first
                size_t b = 0;
                for (size_t i = 1; i < model.size(); i++)
                    if (model[i].first > model[b].first) b = i;
                return b;
            };
            for (int64_t op = 0; op < 20000; op++) {
                unsigned what = rnd(100);
                if (what < 55) {  // put
                    int prio = runs ? (int)(rnd(24) == 0 ? rnd(256) : 128)
                                    : (int)(rnd(4) == 0 ? rnd(256) : 100 + rnd(3));
                    TestNum *n = make_num(op, prio);
                    rk_status_t st = rk_mailbox_put(box.mb, M(n), 0);
                    rk_status_t want = RK_OK;
                    if (model.size() == cap) {
                        if (bp == RK_BP_REJECT) {
                            want = RK_ERR_FULL;
                            rejected++;
                        } else if (bp == RK_BP_BLOCK) {
                            want = RK_ERR_TIMEOUT;
                            timeouts++;
                        } else {
                            size_t low = 0;
                            for (size_t i = 1; i < model.size(); i++)
                                if (model[i].first < model[low].first) low = i;
                            dropped++;
                            if (model[low].first > prio) want = RK_ERR_DROPPED;
                            else model.erase(model.begin() + (long)low);
                        }
                    }
                    ASSERT_EQ(st, want) << "op " << op << " cap " << cap << " bp " << bp << " runs " << runs;
                    if (st == RK_OK) {
                        model.emplace_back(prio, op);
                        enq++;
                    } else {
                        rk_msg_free(M(n));
                    }
                } else if (what < 75) {  // get
                    rk_msg_t *m = nullptr;
                    rk_status_t st = rk_mailbox_try_get(box.mb, &m);
                    if (model.empty()) {
                        ASSERT_EQ(st, RK_ERR_EMPTY);
                        continue;
                    }
                    ASSERT_EQ(st, RK_OK);
                    size_t b = best();
                    ASSERT_EQ(m->priority, model[b].first) << "op " << op << " runs " << runs;
                    ASSERT_EQ(seq_of(m), model[b].second) << "op " << op << " runs " << runs;
                    model.erase(model.begin() + (long)b);
                    deq++;
                    rk_msg_free(m);
                } else if (what < 90) {  // a batch: what as many gets in a row would take
                    rk_msg_t *ms[8] = {};
                    uint32_t max = 1 + rnd(8), n = 99;
                    rk_status_t st = rk_mailbox_get_batch(box.mb, 0, ms, max, &n);
                    if (model.empty()) {
                        ASSERT_EQ(st, RK_ERR_TIMEOUT);
                        ASSERT_EQ(n, 0u);
                        continue;
                    }
                    ASSERT_EQ(st, RK_OK);
                    ASSERT_EQ(n, std::min<size_t>(max, model.size())) << "op " << op;
                    for (uint32_t i = 0; i < n; i++) {
                        size_t b = best();
                        ASSERT_EQ(ms[i]->priority, model[b].first) << "op " << op << " item " << i;
                        ASSERT_EQ(seq_of(ms[i]), model[b].second) << "op " << op << " item " << i;
                        model.erase(model.begin() + (long)b);
                        deq++;
                        rk_msg_free(ms[i]);
                    }
                } else if (what < 97) {  // peek
                    const rk_msg_t *m = nullptr;
                    rk_status_t st = rk_mailbox_peek(box.mb, &m);
                    if (model.empty()) {
                        ASSERT_EQ(st, RK_ERR_EMPTY);
                    } else {
                        ASSERT_EQ(st, RK_OK);
                        ASSERT_EQ(seq_of(const_cast<rk_msg_t *>(m)), model[best()].second);
                    }
                } else {  // clear
                    ASSERT_EQ(rk_mailbox_clear(box.mb), model.size());
                    model.clear();
                }
                ASSERT_EQ(rk_mailbox_size(box.mb), model.size());
            }
            rk_mailbox_stats_t st;
            rk_mailbox_get_stats(box.mb, &st);
            EXPECT_EQ(st.enqueued, enq);
            EXPECT_EQ(st.dequeued, deq);
            EXPECT_EQ(st.dropped, dropped);
            EXPECT_EQ(st.rejected, rejected);
            EXPECT_EQ(st.timeouts, timeouts);
            EXPECT_EQ(st.depth, model.size());
            EXPECT_LE(st.high_water, cap);
        }
    }
}

// After warm-up, put/get plus message create/free never call malloc: the
// pool's count of blocks taken from the system stays the same.
TEST(PriorityMailbox, NoAllocationPerMessageAfterWarmup)
{
    if (rk_pool_passthrough()) GTEST_SKIP() << "pool forwards to malloc under ASan";
    Mailbox box(256, RK_BP_BLOCK);
    auto round = [&](int n) {
        for (int i = 0; i < n; i++) {
            ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(i, i & 255)), 0), RK_OK);
            if (rk_mailbox_size(box.mb) == 256) {
                rk_msg_t *m;
                while (rk_mailbox_try_get(box.mb, &m) == RK_OK) rk_msg_free(m);
            }
        }
        rk_msg_t *m;
        while (rk_mailbox_try_get(box.mb, &m) == RK_OK) rk_msg_free(m);
    };
    round(1000);
    uint64_t before = rk_pool_sys_allocs();
    round(100000);
    EXPECT_EQ(rk_pool_sys_allocs(), before);
}

// How many threads of a rank may spin-wait before spin-waits yield the CPU:
// the rank's share of the CPUs in its affinity mask (shared by the node's ranks
// unless the mask is smaller than the node), or RINGMESH_SPINNERS.
TEST(SpinWait, LimitIsTheRanksShareOfItsCpus)
{
    cpu_set_t set;
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    const unsigned mine = static_cast<unsigned>(CPU_COUNT(&set));
    const bool bound = static_cast<long>(mine) < sysconf(_SC_NPROCESSORS_ONLN);
    unsetenv("RINGMESH_SPINNERS");
    rk_spin_set_share(1);
    EXPECT_EQ(rk_spin_limit, mine);
    rk_spin_set_share(static_cast<int>(4 * mine));  // more ranks than CPUs: every spinner yields
    EXPECT_EQ(rk_spin_limit, bound ? mine : 0u);
    setenv("RINGMESH_SPINNERS", "5", 1);
    rk_spin_set_share(1);
    EXPECT_EQ(rk_spin_limit, 5u);
    for (const char *bad : {"-3", "abc", "7x", "99999"}) {  // refused (a warning): the CPU share
        setenv("RINGMESH_SPINNERS", bad, 1);
        rk_spin_set_share(1);
        EXPECT_EQ(rk_spin_limit, mine) << bad;
    }
    unsetenv("RINGMESH_SPINNERS");
    rk_spin_set_share(1);
}

// A polling wait's window: poll_ns from its start; renewed from "now" while a
// large transfer is under way, but never past RK_POLL_BUSY_WINDOWS windows.
TEST(SpinWait, PollWindowRenewsWhileALargeTransferIsUnderwayUpToItsCap)
{
    const int64_t start = 1000000, poll = 50000, first = start + poll;
    // Idle transport: the window never moves, however late it is asked.
    EXPECT_EQ(rk_poll_until(start, start + 10000, first, 0, poll), first);
    EXPECT_EQ(rk_poll_until(start, start + 49999, first, 0, poll), first);
    // A transfer under way: the window runs from now.
    EXPECT_EQ(rk_poll_until(start, start + 40000, first, 1, poll), start + 40000 + poll);
    // ... and is never shortened by an earlier look.
    EXPECT_EQ(rk_poll_until(start, start + 1000, start + 300000, 1, poll), start + 300000);
    // Capped: a transfer that never ends cannot keep the kernel spinning.
    const int64_t cap = start + poll * RK_POLL_BUSY_WINDOWS;
    EXPECT_EQ(rk_poll_until(start, cap - 10, cap - 10 + poll / 2, 1, poll), cap);
    EXPECT_EQ(rk_poll_until(start, cap + 5 * poll, cap, 1, poll), cap);
    // Walking a wait of many looks while busy ends exactly at the cap.
    int64_t until = first, now = start;
    while (now < until) {
        now += 7000;
        until = rk_poll_until(start, now, until, 1, poll);
    }
    EXPECT_EQ(until, cap);
}

TEST(SpinWait, PollWindowWidensAfterLateMessagesAndShrinksBack)
{
    const int64_t base = 50000, cap = base * RK_POLL_BUSY_WINDOWS;
    // A message just after the window: the next one covers that wait, with a quarter to spare.
    EXPECT_EQ(rk_poll_next_window(base, base, 108000, 1), 135000);
    // At least doubling, and never past the cap.
    EXPECT_EQ(rk_poll_next_window(base, base, 60000, 1), 2 * base);
    EXPECT_EQ(rk_poll_next_window(600000, base, 700000, 1), cap);
    // A message after a long idle spell: back to base, however wide the window was.
    EXPECT_EQ(rk_poll_next_window(400000, base, cap, 1), base);
    EXPECT_EQ(rk_poll_next_window(base, base, 5000000000LL, 1), base);
    // Messages taken while polling give back an eighth of the excess each, down to base.
    EXPECT_EQ(rk_poll_next_window(base + 80000, base, 0, 0), base + 70000);
    EXPECT_EQ(rk_poll_next_window(base, base, 0, 0), base);
    EXPECT_EQ(rk_poll_next_window(0, base, 0, 0), base);  // 0: not set yet

    // Two kernels answering each other: a hop is 1 us when the receiver polls,
    // and 108 us (two wake-ups) when it has gone to sleep. Start from one slow
    // hop. With a fixed 50 us window every later hop stays slow; with the
    // adaptive one the pair is back to polling within two hops, and after a
    // few hundred fast hops the windows are back near base.
    for (int adaptive = 0; adaptive <= 1; adaptive++) {
        int64_t win[2] = {base, base}, wait_start[2] = {0, 0}, t = 0;
        int slow = 0, late_slow = 0;
        for (int hop = 0; hop < 400; hop++) {
            int to = (hop + 1) % 2;                      // the receiver; the sender is 1 - to
            int64_t arrive = t + (hop == 0 ? 60000 : 1000);  // hop 0: a preemption, longer than the window
            bool polling = arrive <= wait_start[to] + win[to];
            int64_t took = polling ? arrive : arrive + 108000 - 1000;
            if (!polling) {
                slow++;
                if (hop >= 3) late_slow++;
            }
            if (adaptive) win[to] = rk_poll_next_window(win[to], base, took - wait_start[to], !polling);
            t = took;
            wait_start[to] = t;  // the receiver answers at once and waits for the next message
        }
        if (!adaptive) {
            EXPECT_EQ(slow, 400) << "the model: with a fixed window the slow mode persists";
        } else {
            EXPECT_LE(slow, 3);
            EXPECT_EQ(late_slow, 0);
            EXPECT_LT(win[0], base + base / 10);
            EXPECT_LT(win[1], base + base / 10);
        }
    }
}

// Puts waiting for room are admitted highest priority first: an urgent put
// that starts waiting after a bulk one still gets the next free slot, and a
// delivery registered by the router (rk_mailbox_waiter) outranks bulk puts.
TEST(PriorityMailbox, WaitingPutsAreAdmittedHighestPriorityFirst)
{
    rk_mailbox_t *mb = nullptr;
    ASSERT_EQ(rk_mailbox_create(1, RK_BP_BLOCK, &mb), RK_OK);
    ASSERT_EQ(rk_mailbox_put(mb, M(make_num(0, 128)), 0), RK_OK); // full
    EXPECT_EQ(rk_mailbox_top_waiter(mb), -1);
    std::thread bulk([&] { EXPECT_EQ(rk_mailbox_put(mb, M(make_num(1, 10)), 5000000), RK_OK); });
    for (int i = 0; i < 5000 && rk_mailbox_top_waiter(mb) != 10; i++) usleep(1000);
    ASSERT_EQ(rk_mailbox_top_waiter(mb), 10);
    std::thread urgent([&] { EXPECT_EQ(rk_mailbox_put(mb, M(make_num(2, 250)), 5000000), RK_OK); });
    for (int i = 0; i < 5000 && rk_mailbox_top_waiter(mb) != 250; i++) usleep(1000);
    ASSERT_EQ(rk_mailbox_top_waiter(mb), 250);
    int order[3];
    for (int k = 0; k < 3; k++) {
        rk_msg_t *m = nullptr;
        ASSERT_EQ(rk_mailbox_get(mb, 5000000, &m), RK_OK);
        order[k] = (int)reinterpret_cast<TestNum *>(m)->seq;
        rk_msg_free(m);
    }
    bulk.join();
    urgent.join();
    EXPECT_EQ(order[0], 0);
    EXPECT_EQ(order[1], 2); // the urgent put, though it began waiting later
    EXPECT_EQ(order[2], 1);
    EXPECT_EQ(rk_mailbox_top_waiter(mb), -1);
    // A registered waiter (the router's pending delivery) keeps a lower put out of the free slot.
    ASSERT_EQ(rk_mailbox_put(mb, M(make_num(3, 128)), 0), RK_OK);
    rk_mailbox_waiter(mb, 200, 1);
    rk_msg_t *m = nullptr;
    ASSERT_EQ(rk_mailbox_get(mb, 0, &m), RK_OK);
    rk_msg_free(m);
    rk_msg_t *low = M(make_num(4, 100));
    EXPECT_EQ(rk_mailbox_put(mb, low, 0), RK_ERR_TIMEOUT); // room, but not for it
    rk_msg_t *high = M(make_num(5, 200));
    EXPECT_EQ(rk_mailbox_put(mb, high, 0), RK_OK);
    rk_mailbox_waiter(mb, 200, -1);
    EXPECT_EQ(rk_mailbox_top_waiter(mb), -1);
    rk_msg_free(low);
    rk_mailbox_destroy(mb);
}

// Two threads handing messages back and forth through two mailboxes. When both
// run on one CPU, a waiter that spun would only keep the other thread (the one
// it waits for) off that CPU for its whole spin budget: it must sleep at once
// instead, which the mailbox counts in spins_cut. On two CPUs it spins as usual.
static uint64_t ping_pong_spins_cut(int cpu_a, int cpu_b, int rounds)
{
    rk_mailbox_t *ab = nullptr, *ba = nullptr;
    EXPECT_EQ(rk_mailbox_create(8, RK_BP_BLOCK, &ab), RK_OK);
    EXPECT_EQ(rk_mailbox_create(8, RK_BP_BLOCK, &ba), RK_OK);
    auto pin = [](int cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    };
    std::atomic<int> bad{0};
    std::thread b([&] {
        if (!pin(cpu_b)) bad++;
        for (int i = 0; i < rounds; i++) {
            rk_msg_t *m = nullptr;
            if (rk_mailbox_get(ab, 5000000, &m) != RK_OK || !m) {
                bad++;
                return;
            }
            if (rk_mailbox_put(ba, m, 5000000) != RK_OK) bad++;
        }
    });
    if (!pin(cpu_a)) bad++;
    for (int i = 0; i < rounds; i++) {
        TestNum *n = make_num(i);
        EXPECT_EQ(rk_mailbox_put(ab, &n->hdr, 5000000), RK_OK);
        rk_msg_t *back = nullptr;
        EXPECT_EQ(rk_mailbox_get(ba, 5000000, &back), RK_OK);
        if (!back) break;
        EXPECT_EQ(reinterpret_cast<TestNum *>(back)->seq, i);
        rk_msg_free(back);
    }
    b.join();
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE && c < (int)sysconf(_SC_NPROCESSORS_ONLN); c++) CPU_SET(c, &all);
    pthread_setaffinity_np(pthread_self(), sizeof all, &all);
    EXPECT_EQ(bad.load(), 0);
    rk_mailbox_stats_t s1, s2;
    rk_mailbox_get_stats(ab, &s1);
    rk_mailbox_get_stats(ba, &s2);
    rk_mailbox_destroy(ab);
    rk_mailbox_destroy(ba);
    return s1.spins_cut + s2.spins_cut;
}

TEST(SpinWait, AWaiterSharingTheOtherSidesCpuSleepsInsteadOfSpinning)
{
    const int rounds = 200;
    uint64_t shared = ping_pong_spins_cut(0, 0, rounds);
    EXPECT_GE(shared, (uint64_t)rounds); // nearly every wait, on both sides
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "one CPU: no second placement to compare";
    EXPECT_EQ(ping_pong_spins_cut(0, 1, rounds), 0u);
}

// A put another thread has reserved but not published hides what was queued
// behind it: rk_mailbox_peek then says empty although an older message is in
// the mailbox, and a sender deciding whether it may overtake the queue (the
// router's urgent fast path) would overtake it. rk_mailbox_peek_all says the
// view is partial instead, and answers once the put is published.
TEST(PriorityMailbox, PeekAllRefusesAPartialView)
{
    Mailbox box(16, RK_BP_BLOCK);
    const rk_msg_t *head = nullptr;
    EXPECT_EQ(rk_mailbox_peek_all(box.mb, &head), RK_ERR_EMPTY);
    rk_mailbox_reserved_hook = hold_here;
    std::thread held([&] {
        t_hold_me = true;
        EXPECT_EQ(rk_mailbox_put(box.mb, M(make_num(0, 40)), 0), RK_OK);
    });
    while (g_hold.load() != 2) std::this_thread::yield();
    ASSERT_EQ(rk_mailbox_put(box.mb, M(make_num(1, 240)), 0), RK_OK); // queued, behind the unpublished slot
    EXPECT_EQ(rk_mailbox_size(box.mb), 2u);
    EXPECT_EQ(rk_mailbox_peek(box.mb, &head), RK_ERR_EMPTY);          // the hazard: looks empty
    EXPECT_EQ(rk_mailbox_peek_all(box.mb, &head), RK_ERR_TIMEOUT);    // refused: partial view
    g_hold = 0;
    held.join();
    rk_mailbox_reserved_hook = nullptr;
    ASSERT_EQ(rk_mailbox_peek_all(box.mb, &head), RK_OK);
    EXPECT_EQ(head->priority, 240);
    EXPECT_EQ(seq_of(const_cast<rk_msg_t *>(head)), 1);
    rk_msg_t *m = nullptr;
    while (rk_mailbox_try_get(box.mb, &m) == RK_OK) rk_msg_free(m);
}
