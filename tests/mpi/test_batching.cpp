// Batching (several frames to one peer in one transport message, on by
// default; RINGMESH_BATCH_BYTES=0 turns it off): frames that queue for
// credits must still leave highest priority first, FIFO within a priority,
// and arrive exactly once, in order, whatever batches they travel in.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mpi_util.h"
extern "C" {
#include "route/router.h"
#include "runtime/runtime_internal.h"
}

namespace {

router_t *router_of_rt(rk_runtime_t *rt) { return reinterpret_cast<router_t *>(rt->router); }

struct Seen {
    std::mutex mu;
    std::vector<std::pair<int, long long>> order;  // (priority, seq) in the order the kernel got them
};

void record_body(rk_ctx_t *ctx, void *arg)
{
    auto *s = static_cast<Seen *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        {
            std::lock_guard<std::mutex> g(s->mu);
            s->order.emplace_back(m->priority, reinterpret_cast<TestNum *>(m)->seq);
        }
        rk_msg_free(m);
    }
}

size_t seen_count(Seen &s)
{
    std::lock_guard<std::mutex> g(s.mu);
    return s.order.size();
}

}  // namespace

// The receiving kernel (mailbox of 1, not active yet) holds every credit, so
// the sender's later frames queue: 12 bulk (priority 10) then 5 urgent (250).
// When the kernel starts, credits come back 4 at a time and each return is
// sent as one batch: the urgent ones must come out first (all before bulk #8),
// bulk and urgent each in send order, nothing lost or duplicated.
TEST(Batching, QueuedFramesLeaveHighestPriorityFirstInBatches)
{
    const uint32_t kCredits = 8;
    Seen seen;  // outlives the runtime (and its kernels)
    DistRuntime d(kCredits);
    if (d.size < 2) GTEST_SKIP() << "needs 2 ranks";
    const int receiver = 0, sender = d.size - 1;
    if (d.rank == receiver) {
        auto p = kparams("batch.prio", record_body, &seen);
        p.field_mask |= RK_KERNEL_FIELD_CAPACITY;
        p.capacity = 1;
        ASSERT_EQ(rk_kernel_create(d.rt, &p), RK_OK);
        ASSERT_EQ(rk_kernel_launch(d.rt, "batch.prio"), RK_OK);  // launched, not active: holds the credits
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    const int kBulk = 20, kUrgent = 5;
    uint64_t batches_before = 0, batched_before = 0;
    if (d.rank == sender) {
        router_batch_stats(router_of_rt(d.rt), receiver, &batches_before, &batched_before);
        for (int i = 0; i < kBulk; i++) {  // the first kCredits go out at once, the rest queue
            TestNum *n = make_num(i, 10, d.rank);
            ASSERT_EQ(rk_send(d.rt, "batch.prio", &n->hdr), RK_OK);
            rk_msg_free(&n->hdr);
        }
        for (int i = 0; i < kUrgent; i++) {
            TestNum *n = make_num(1000 + i, 250, d.rank);
            ASSERT_EQ(rk_send(d.rt, "batch.prio", &n->hdr), RK_OK);
            rk_msg_free(&n->hdr);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);  // everything is queued before the kernel starts
    if (d.rank == receiver) {
        ASSERT_EQ(rk_kernel_activate(d.rt, "batch.prio"), RK_OK);
        for (int i = 0; i < 10000 && seen_count(seen) < (size_t)(kBulk + kUrgent); i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::lock_guard<std::mutex> g(seen.mu);
        ASSERT_EQ(seen.order.size(), (size_t)(kBulk + kUrgent));
        long long next_bulk = 0, next_urgent = 1000;
        size_t bulk8_at = seen.order.size(), last_urgent_at = 0;
        for (size_t i = 0; i < seen.order.size(); i++) {
            auto [prio, seq] = seen.order[i];
            if (prio == 10) {
                EXPECT_EQ(seq, next_bulk++) << "bulk out of order at position " << i;
                if (seq == (long long)kCredits) bulk8_at = i;
            } else {
                EXPECT_EQ(prio, 250);
                EXPECT_EQ(seq, next_urgent++) << "urgent out of order at position " << i;
                last_urgent_at = i;
            }
        }
        EXPECT_EQ(next_bulk, kBulk);
        EXPECT_EQ(next_urgent, 1000 + kUrgent);
        EXPECT_LT(last_urgent_at, bulk8_at) << "a queued bulk frame left before a queued urgent one";
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (d.rank == sender) {
        uint64_t batches = 0, batched = 0;
        router_batch_stats(router_of_rt(d.rt), receiver, &batches, &batched);
        if (router_batch_bytes(router_of_rt(d.rt)) > 0) {
            // 17 queued frames leave as credits return, 4 at a time: several batches.
            EXPECT_GE(batches - batches_before, 2u);
            EXPECT_GE(batched - batched_before, 8u);
        } else {
            EXPECT_EQ(batches, 0u);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

// Every rank floods two kernels on every other rank from two threads with
// mixed priorities and few credits, so nearly every frame queues and travels
// in a batch with frames of other flows and priorities. Each kernel checks
// the count, the sum and the order within (sender thread, priority).
namespace {

struct Tally2 {
    std::atomic<long long> n{0}, sum{0}, bad{0};
    std::vector<long long> last = std::vector<long long>(64 * 256, -1);  // [sender][priority]
    std::string first_bad;  // the first offence: sender, priority, sequence numbers, where it came from
};

void tally2_body(rk_ctx_t *ctx, void *arg)
{
    auto *t = static_cast<Tally2 *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        auto *num = reinterpret_cast<TestNum *>(m);
        long long &last = t->last[(size_t)(num->sender & 63) * 256 + m->priority];
        if (num->seq <= last && t->bad++ == 0)
            t->first_bad = "sender " + std::to_string(num->sender) + " priority " + std::to_string(m->priority) +
                           ": seq " + std::to_string(num->seq) + " after " + std::to_string(last) + " (from rank " +
                           std::to_string(m->src_rank) + ", message " + std::to_string(t->n.load()) + ")";
        last = num->seq;
        t->sum += num->seq;
        t->n++;
        rk_msg_free(m);
    }
}

}  // namespace

TEST(Batching, FloodOfMixedFlowsAndPrioritiesArrivesExactlyOnceInOrder)
{
    Tally2 t[2];  // outlive the runtime (and its kernels)
    DistRuntime d(4);
    if (d.size < 2) GTEST_SKIP() << "needs 2 ranks";
    char ids[2][32];
    for (int k = 0; k < 2; k++) {
        snprintf(ids[k], sizeof ids[k], "batch.flood%d@%d", k, d.rank);
        auto p = kparams(ids[k], tally2_body, &t[k]);
        p.field_mask |= RK_KERNEL_FIELD_CAPACITY;
        p.capacity = 64;
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    const long long kPer = 3000;  // per (thread, destination kernel)
    static const int prios[3] = {40, 128, 240};
    auto sendloop = [&](int thread) {
        for (long long i = 0; i < kPer; i++)
            for (int dst = 0; dst < d.size; dst++) {
                if (dst == d.rank) continue;
                for (int k = 0; k < 2; k++) {
                    char id[32];
                    snprintf(id, sizeof id, "batch.flood%d@%d", k, dst);
                    TestNum *n = make_num(i, prios[(i + thread + k) % 3], d.rank * 2 + thread);
                    EXPECT_EQ(rk_send(d.rt, id, &n->hdr), RK_OK);
                    rk_msg_free(&n->hdr);
                }
            }
    };
    std::thread a(sendloop, 0), b(sendloop, 1);
    a.join();
    b.join();
    const long long want = kPer * 2 * (d.size - 1);  // per kernel: 2 threads on each other rank
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 60000 && t[k].n.load() < want; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(t[k].n.load(), want) << "kernel " << ids[k];
        EXPECT_EQ(t[k].sum.load(), (kPer * (kPer - 1) / 2) * 2 * (d.size - 1)) << "kernel " << ids[k];
        EXPECT_EQ(t[k].bad.load(), 0) << "kernel " << ids[k] << ": first " << t[k].first_bad;
    }
    uint64_t batches = 0, batched = 0;
    for (int p = 0; p < d.size; p++) {
        if (p == d.rank) continue;
        uint64_t b1, f1;
        router_batch_stats(router_of_rt(d.rt), p, &b1, &f1);
        batches += b1;
        batched += f1;
    }
    long long all_batches = allsum((long long)batches);
    if (router_batch_bytes(router_of_rt(d.rt)) > 0) EXPECT_GT(all_batches, 0) << "the flood never batched";
    if (d.rank == 0)
        printf("[batching] %lld batches, %lld frames in batches across all ranks\n", all_batches,
               allsum((long long)batched));
    else
        allsum((long long)batched);
    MPI_Barrier(MPI_COMM_WORLD);
}
