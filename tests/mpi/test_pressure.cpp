// Priority under pressure: a slow kernel with a full BLOCK mailbox gets
// 20,000 bulk and 100 urgent messages from 2 ranks (its own, through a
// blocking local put, and another, through credits and the receiver's wait
// list). Each urgent message must overtake the bulk that is still waiting:
// it may wait behind what the kernel takes until the urgent one is admitted
// (a few), not behind the backlog (a mailbox and a credit window: ~1,000).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "mpi_util.h"

namespace {

int64_t mono_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Seen {
    int prio, sender;
    int64_t sent_ns, done_ns; // CLOCK_MONOTONIC is one clock for every rank of the machine
};

struct SlowLog {
    std::mutex mu;
    std::vector<Seen> seen;
};

// At least 20 us per message, asleep (a consumer waiting on I/O; on a 2-core
// machine a spinning one would take the CPU the other ranks' threads need):
// the senders outrun it and its mailbox stays full.
void slow_body(rk_ctx_t *ctx, void *arg)
{
    auto *log = static_cast<SlowLog *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        std::lock_guard<std::mutex> g(log->mu);
        log->seen.push_back({m->priority, (int)reinterpret_cast<TestNum *>(m)->sender,
                             (int64_t)reinterpret_cast<TestNum *>(m)->value, mono_ns()});
        rk_msg_free(m);
    }
}

}  // namespace

TEST(Priority, UrgentMessagesOvertakeBulkThatIsStillWaiting)
{
    DistRuntime d;
    SlowLog log;
    const int home = 0, bulk_per = 10000, urgent_per = 50;
    if (d.rank == home) {
        auto p = kparams("slow", slow_body, &log);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK); // default capacity 1024, BLOCK
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    if (d.rank == 0 || d.rank == 1) { // the kernel's own rank and another
        for (int i = 0; i < bulk_per; i++) {
            bool urgent = i % (bulk_per / urgent_per) == bulk_per / urgent_per / 2;
            for (int k = 0; k < (urgent ? 2 : 1); k++) {
                int prio = urgent && k == 1 ? 250 : 10;
                TestNum *n = make_num(i, prio, d.rank);
                n->value = (double)mono_ns();
                ASSERT_EQ(rk_send(d.rt, "slow", &n->hdr), RK_OK);
                rk_msg_free(&n->hdr);
            }
        }
    }
    const size_t total = 2 * (bulk_per + urgent_per);
    if (d.rank == home) {
        for (int i = 0; i < 60000; i++) {
            {
                std::lock_guard<std::mutex> g(log.mu);
                if (log.seen.size() >= total) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::lock_guard<std::mutex> g(log.mu);
        ASSERT_EQ(log.seen.size(), total);
        // For each urgent message: the bulk ones the kernel finished after it was sent and before it.
        std::vector<int> behind;
        for (size_t u = 0; u < log.seen.size(); u++) {
            if (log.seen[u].prio != 250) continue;
            int n = 0;
            for (size_t b = 0; b < u; b++)
                if (log.seen[b].prio == 10 && log.seen[b].done_ns > log.seen[u].sent_ns) n++;
            behind.push_back(n);
            if (n > 8 && getenv("RK_PRESSURE_DEBUG"))
                printf("urgent #%zu from rank %d: behind %d, waited %.1f us\n", u, log.seen[u].sender, n,
                       (log.seen[u].done_ns - log.seen[u].sent_ns) / 1e3);
        }
        ASSERT_EQ(behind.size(), 2u * urgent_per);
        std::vector<int> sorted = behind;
        std::sort(sorted.begin(), sorted.end());
        double mean = 0;
        for (int v : behind) mean += v;
        mean /= behind.size();
        int median = sorted[sorted.size() / 2], p95 = sorted[sorted.size() * 95 / 100];
        printf("[priority under pressure] %d ranks: bulk messages each urgent one waited behind: mean %.1f, "
               "median %d, p95 %d, max %d\n",
               d.size, mean, median, p95, sorted.back());
        // In arrival order an urgent message would wait behind the whole backlog: a full mailbox
        // (1,024) plus the credit window. With priority it waits behind what the kernel takes until
        // its sender's thread gets a CPU and admits it: typically 1-4 messages, and on a 2-core
        // machine running 8+ busy threads (MPICH polls hard) a scheduling delay of a few hundred
        // microseconds is 10-30 more. The bounds sit far below the backlog and clear of that noise.
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__) /* sanitized runs: figures only */
        EXPECT_LE(median, 8) << "urgent messages wait behind bulk that was still queued";
        EXPECT_LE(p95, 64) << "urgent messages wait behind bulk that was still queued";
#endif
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
