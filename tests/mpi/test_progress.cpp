// Who drives the transport. A kernel waiting for its next message polls the
// transport itself; the rank's progress thread also does. When the only
// kernel of a rank takes a message and then stays busy in its handler, nobody
// but the progress thread can serve the rank's other traffic (here: a buffer
// fetch from another rank). Any scheme that lets the progress thread stand
// back while kernels poll (tried: a nap while any thread polls) must still
// notice on its own that nobody polls any more.
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mpi_util.h"

namespace {

constexpr int kBusyMs = 500;
constexpr int kRequests = 3;
constexpr int kRounds = 3;
constexpr size_t kBufBytes = 4096;
constexpr int kQuick = 5000;

// seq 0: return at once (keeps the kernel polling); seq 1: stay busy kBusyMs
// without touching ringmesh, as a long computation would.
void busy_on_one(rk_ctx_t *ctx, void *arg)
{
    auto *started = static_cast<std::atomic<int> *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        if (reinterpret_cast<TestNum *>(m)->seq == 1) {
            started->fetch_add(1);
            auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyMs);
            while (std::chrono::steady_clock::now() < until) {
            }
        }
        rk_msg_free(m);
    }
}

}  // namespace

TEST(Progress, RankIsServedWhileItsPollingKernelIsBusy)
{
    DistRuntime d;
    std::atomic<int> started{0};
    std::vector<unsigned char> want(kBufBytes);
    for (size_t i = 0; i < want.size(); i++) want[i] = static_cast<unsigned char>(i * 13 + 5);
    // Rank 1 hosts the kernel and a buffer; rank 0 talks to them; other ranks only join barriers.
    auto pb = kparams("busy@1", busy_on_one, &started);
    rk_buffer_t *buf = nullptr;
    unsigned long long id = 0;
    if (d.rank == 1) {
        ASSERT_EQ(rk_kernel_start(d.rt, &pb), RK_OK);
        ASSERT_EQ(rk_buffer_create(d.rt, want.size(), &buf), RK_OK);
        memcpy(rk_buffer_host(buf), want.data(), want.size());
        ASSERT_EQ(rk_buffer_mark_host_dirty(buf), RK_OK);
        id = rk_buffer_id(buf);
    }
    MPI_Bcast(&id, 1, MPI_UNSIGNED_LONG_LONG, 1, MPI_COMM_WORLD);
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);

    for (int round = 1; round <= kRounds && !HasFailure(); round++) {
        // A stream of quick messages keeps busy@1 polling the transport; the last one
        // makes it compute without polling.
        if (d.rank == 0)
            for (int i = 0; i <= kQuick; i++) {
                TestNum *n = make_num(i == kQuick ? 1 : 0);
                ASSERT_EQ(rk_send(d.rt, "busy@1", &n->hdr), RK_OK);
                rk_msg_free(&n->hdr);
            }
        if (d.rank == 1) {
            auto t0 = std::chrono::steady_clock::now();
            while (started.load() < round && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30))
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            EXPECT_EQ(started.load(), round) << "the busy kernel never got its long message";
        }
        MPI_Barrier(MPI_COMM_WORLD);  // busy@1 computes now

        // Fetch rank 1's buffer: there nobody polls now (its main thread waits in MPI,
        // its only kernel computes), so only its progress thread can serve the request.
        if (d.rank == 0) {
            for (int i = 0; i < kRequests; i++) {
                std::vector<unsigned char> got(want.size());
                size_t len = 0;
                auto t1 = std::chrono::steady_clock::now();
                ASSERT_EQ(rk_buffer_fetch(d.rt, id, got.data(), got.size(), &len, 10000000), RK_OK);
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t1)
                              .count();
                EXPECT_EQ(len, want.size());
                EXPECT_EQ(got, want);
                EXPECT_LT(ms, kBusyMs / 5) << "round " << round << ", fetch " << i
                                           << " waited for the busy kernel to poll again";
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        }
        // Wait for the computation to end before the next round's stream.
        std::this_thread::sleep_for(std::chrono::milliseconds(kBusyMs));
        MPI_Barrier(MPI_COMM_WORLD);
    }
    if (buf) EXPECT_EQ(rk_buffer_release(buf), RK_OK);
}
