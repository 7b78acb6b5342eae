// Large messages across ranks: frames on both sides of the transports'
// thresholds (eager / rendezvous at 64 KiB, the router handing its encode
// buffer to the transport from 64 KiB) travel to a kernel on the next rank and
// back unchanged, one at a time (credits free: the direct path) and in bursts
// (credits spent: the out-queue path).
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mpi_util.h"
extern "C" {
#include "route/router.h"
#include "runtime/runtime_internal.h"
}

namespace {

// Echo every TestText back to the requester unchanged (rk_ctx_reply).
void echo_text(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_msg_t *copy = nullptr;
        if (rk_msg_copy(m, &copy) == RK_OK) {
            rk_ctx_reply(ctx, m, copy);
            rk_msg_free(copy);
        }
        rk_msg_free(m);
    }
}

// Text of @p len characters that differs by @p seq and along its length.
std::string pattern(size_t len, int seq)
{
    std::string s(len, ' ');
    for (size_t i = 0; i < len; i++) s[i] = static_cast<char>('a' + (i * 7 + static_cast<size_t>(seq)) % 26);
    return s;
}

TestText *make_text(const std::string &s)
{
    TestText *t = nullptr;
    EXPECT_EQ(rk_msg_create(TestText_type(), s.size() + 16, reinterpret_cast<rk_msg_t **>(&t)), RK_OK);
    EXPECT_EQ(rk_msg_set_str(reinterpret_cast<rk_msg_t **>(&t), offsetof(TestText, text), s.data(), s.size()), RK_OK);
    return t;
}

}  // namespace

TEST(LargeMessages, EverySizeAroundTheThresholdsArrivesIntactBothWays)
{
    DistRuntime d;
    std::string mine = "bigecho@" + std::to_string(d.rank);
    std::string target = "bigecho@" + std::to_string((d.rank + 1) % d.size);
    auto p = kparams(mine.c_str(), echo_text);
    ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);

    const std::vector<size_t> sizes = {100, 60000, 65400, 65536, 70000, 300000, 1500000};
    auto check = [&](const std::string &want, int64_t timeout_us) {
        rk_msg_t *out = nullptr;
        rk_status_t st = rk_receive(d.rt, target.c_str(), timeout_us, &out);
        EXPECT_EQ(st, RK_OK);
        if (st != RK_OK) return;
        auto *t = reinterpret_cast<TestText *>(out);
        ASSERT_EQ(t->text.len, want.size());
        EXPECT_EQ(0, memcmp(RK_STR(t, text), want.data(), want.size())) << want.size() << " bytes differ";
        rk_msg_free(out);
    };
    // One at a time: every send finds credits.
    for (size_t i = 0; i < sizes.size() && !HasFailure(); i++) {  // a lost message: stop waiting
        std::string s = pattern(sizes[i], static_cast<int>(i));
        TestText *t = make_text(s);
        ASSERT_EQ(rk_send(d.rt, target.c_str(), &t->hdr), RK_OK);
        rk_msg_free(&t->hdr);
        check(s, 30000000);
    }
    // A burst larger than the credits (64 per flow): the rest waits in the out-queue.
    const int burst = 100;
    std::vector<std::string> sent;
    for (int i = 0; i < burst; i++) {
        sent.push_back(pattern(sizes[static_cast<size_t>(i) % 6], i));  // up to 300 KB each
        TestText *t = make_text(sent.back());
        ASSERT_EQ(rk_send(d.rt, target.c_str(), &t->hdr), RK_OK);
        rk_msg_free(&t->hdr);
    }
    for (int i = 0; i < burst && !HasFailure(); i++) check(sent[static_cast<size_t>(i)], 30000000);  // in order
    MPI_Barrier(MPI_COMM_WORLD);
    // Every rendezvous send and receive has been accounted as finished: a waiting
    // kernel renews its polling window only while one is under way (router_busy).
    auto *r = reinterpret_cast<router_t *>(d.rt->router);
    auto t0 = std::chrono::steady_clock::now();
    while (router_busy(r) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(router_busy(r), 0) << "a large transfer still counts as under way";
    MPI_Barrier(MPI_COMM_WORLD);
}
