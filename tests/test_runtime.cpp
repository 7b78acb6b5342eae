// Runtime and host ring kernels on one rank: lifecycle, send/receive,
// correlation, deactivation, termination, dedup and bad input.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "msg/pool.h"
#include "unit_util.h"

namespace {

rk_kernel_state_t state_of(rk_runtime_t *rt, const char *id)
{
    rk_kernel_state_t s = RK_STATE_CREATED;
    EXPECT_EQ(rk_kernel_state(rt, id, &s), RK_OK);
    return s;
}

}  // namespace

TEST(Lifecycle, LegalPathThroughEveryState)
{
    Runtime r;
    auto p = params("k", echo_double_body);
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_CREATED);
    ASSERT_EQ(rk_kernel_launch(r.rt, "k"), RK_OK);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_LAUNCHED);
    ASSERT_EQ(rk_kernel_activate(r.rt, "k"), RK_OK);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_ACTIVE);
    ASSERT_EQ(rk_kernel_deactivate(r.rt, "k"), RK_OK);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_DEACTIVATED);
    ASSERT_EQ(rk_kernel_activate(r.rt, "k"), RK_OK);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_ACTIVE);
    uint32_t left = 99;
    ASSERT_EQ(rk_kernel_terminate(r.rt, "k", 100000, &left), RK_OK);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_TERMINATED);
    EXPECT_EQ(left, 0u);
}

TEST(Lifecycle, IllegalTransitionsAreRefused)
{
    Runtime r;
    auto p = params("k", echo_double_body);
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    EXPECT_EQ(rk_kernel_activate(r.rt, "k"), RK_ERR_STATE);    // CREATED -> ACTIVE
    EXPECT_EQ(rk_kernel_deactivate(r.rt, "k"), RK_ERR_STATE);  // CREATED -> DEACTIVATED
    EXPECT_EQ(rk_kernel_terminate(r.rt, "k", 0, nullptr), RK_ERR_STATE);
    ASSERT_EQ(rk_kernel_launch(r.rt, "k"), RK_OK);
    EXPECT_EQ(rk_kernel_launch(r.rt, "k"), RK_ERR_STATE);      // LAUNCHED -> LAUNCHED
    EXPECT_EQ(rk_kernel_deactivate(r.rt, "k"), RK_ERR_STATE);  // LAUNCHED -> DEACTIVATED
    ASSERT_EQ(rk_kernel_activate(r.rt, "k"), RK_OK);
    EXPECT_EQ(rk_kernel_activate(r.rt, "k"), RK_ERR_STATE);    // ACTIVE -> ACTIVE
    EXPECT_EQ(rk_kernel_launch(r.rt, "k"), RK_ERR_STATE);      // ACTIVE -> LAUNCHED
    ASSERT_EQ(rk_kernel_deactivate(r.rt, "k"), RK_OK);
    EXPECT_EQ(rk_kernel_deactivate(r.rt, "k"), RK_ERR_STATE);  // DEACTIVATED -> DEACTIVATED
    ASSERT_EQ(rk_kernel_terminate(r.rt, "k", 0, nullptr), RK_OK);
    EXPECT_EQ(rk_kernel_activate(r.rt, "k"), RK_ERR_STATE);    // TERMINATED -> *
    EXPECT_EQ(rk_kernel_launch(r.rt, "k"), RK_ERR_STATE);
    EXPECT_EQ(rk_kernel_deactivate(r.rt, "k"), RK_ERR_STATE);
    EXPECT_EQ(rk_kernel_terminate(r.rt, "k", 0, nullptr), RK_ERR_STATE);
    EXPECT_EQ(state_of(r.rt, "k"), RK_STATE_TERMINATED);
}

TEST(Lifecycle, TerminateFromLaunchedReportsQueuedMessages)
{
    Runtime r;
    auto p = params("k", echo_double_body);
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    ASSERT_EQ(rk_kernel_launch(r.rt, "k"), RK_OK);
    TestNum *n = make_num(1);
    for (int i = 0; i < 3; i++) ASSERT_EQ(rk_send(r.rt, "k", &n->hdr), RK_OK);
    rk_msg_free(&n->hdr);
    uint32_t left = 0;
    ASSERT_EQ(rk_kernel_terminate(r.rt, "k", 100000, &left), RK_OK);
    EXPECT_EQ(left, 3u);  // never activated: nothing processed, all reported
}

TEST(Kernels, DuplicateAndUnknownKernelIds)
{
    Runtime r;
    auto p = params("k", echo_double_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    EXPECT_EQ(rk_kernel_create(r.rt, &p), RK_ERR_EXISTS);
    TestNum *n = make_num(1);
    EXPECT_EQ(rk_send(r.rt, "nobody", &n->hdr), RK_ERR_NOT_FOUND);
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_receive(r.rt, "nobody", 0, &out), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_kernel_activate(r.rt, "nobody"), RK_ERR_NOT_FOUND);
    rk_msg_free(&n->hdr);
}

TEST(Kernels, BadArgumentsAreRefused)
{
    Runtime r;
    rk_kernel_params_t p{};
    EXPECT_EQ(rk_kernel_create(r.rt, &p), RK_ERR_INVALID);  // no id, no fn
    p.kernel_id = "k";
    EXPECT_EQ(rk_kernel_create(r.rt, &p), RK_ERR_INVALID);  // no fn
    std::string long_id(100, 'x');
    p = params(long_id.c_str(), echo_double_body);
    EXPECT_EQ(rk_kernel_create(r.rt, &p), RK_ERR_INVALID);
    EXPECT_EQ(rk_kernel_create(nullptr, &p), RK_ERR_INVALID);
    EXPECT_EQ(rk_send(r.rt, "k", nullptr), RK_ERR_INVALID);
    EXPECT_EQ(rk_runtime_create(nullptr, nullptr), RK_ERR_INVALID);
    rk_runtime_params_t rp{};
    rp.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
    rp.transport = (rk_transport_kind_t)42;
    rk_runtime_t *rt = nullptr;
    EXPECT_EQ(rk_runtime_create(&rp, &rt), RK_ERR_INVALID);
}

TEST(Kernels, MalformedMessageIsRefusedNotStored)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    TestText *t = nullptr;
    ASSERT_EQ(rk_msg_create(TestText_type(), 0, reinterpret_cast<rk_msg_t **>(&t)), RK_OK);
    ASSERT_EQ(RK_SET_STR(&t, TestText, text, "hello"), RK_OK);
    t->text.len += 1000;  // now points past the block
    EXPECT_EQ(rk_send(r.rt, "sink", &t->hdr), RK_ERR_MALFORMED);
    rk_kernel_stats_t st;
    ASSERT_EQ(rk_kernel_get_stats(r.rt, "sink", &st), RK_OK);
    EXPECT_EQ(st.inbox.enqueued, 0u);
    rk_msg_free(&t->hdr);
}

TEST(RequestResponse, ReplyCarriesRequestIdAsCorrelation)
{
    Runtime r;
    auto p = params("echo", echo_double_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    TestNum *req = make_num(7);
    req->value = 21;
    ASSERT_EQ(rk_send(r.rt, "echo", &req->hdr), RK_OK);
    rk_msg_t *out = nullptr;
    ASSERT_EQ(rk_receive(r.rt, "echo", 5000000, &out), RK_OK);
    EXPECT_TRUE(rk_uuid_equal(&out->correlation_id, &req->hdr.message_id));
    EXPECT_FALSE(rk_uuid_equal(&out->message_id, &req->hdr.message_id));
    EXPECT_EQ(reinterpret_cast<TestNum *>(out)->value, 42.0);
    rk_msg_free(out);
    rk_msg_free(&req->hdr);
}

// 10,000 requests from 4 threads at once: every reply arrives once and
// correlates to exactly one request with the right payload.
TEST(RequestResponse, TenThousandConcurrentRequestsCorrelate)
{
    constexpr int kThreads = 4, kPer = 2500;
    Runtime r;
    rk_kernel_params_t p = params("echo", echo_double_body);
    p.field_mask |= RK_KERNEL_FIELD_OUT_CAPACITY;
    p.out_capacity = 16384;
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    std::vector<std::map<std::string, int64_t>> sent(kThreads);
    std::vector<std::thread> th;
    for (int t = 0; t < kThreads; t++)
        th.emplace_back([&, t] {
            for (int i = 0; i < kPer; i++) {
                TestNum *req = make_num(t * kPer + i, 128, t);
                req->value = t * kPer + i;
                char id[37];
                rk_uuid_format(&req->hdr.message_id, id);
                sent[t][id] = req->seq;
                ASSERT_EQ(rk_send(r.rt, "echo", &req->hdr), RK_OK);
                rk_msg_free(&req->hdr);
            }
        });
    for (auto &x : th) x.join();
    std::map<std::string, int64_t> all;
    for (auto &s : sent) all.insert(s.begin(), s.end());
    ASSERT_EQ(all.size(), (size_t)kThreads * kPer);
    std::set<std::string> seen;
    for (int i = 0; i < kThreads * kPer; i++) {
        rk_msg_t *out = nullptr;
        ASSERT_EQ(rk_receive(r.rt, "echo", 10000000, &out), RK_OK);
        char cid[37];
        rk_uuid_format(&out->correlation_id, cid);
        auto it = all.find(cid);
        ASSERT_NE(it, all.end()) << "reply correlates to no request";
        EXPECT_EQ(reinterpret_cast<TestNum *>(out)->seq, it->second);
        EXPECT_EQ(reinterpret_cast<TestNum *>(out)->value, 2.0 * it->second);
        EXPECT_TRUE(seen.insert(cid).second) << "duplicate reply";
        rk_msg_free(out);
    }
    rk_msg_t *extra = nullptr;
    EXPECT_EQ(rk_receive(r.rt, "echo", 10000, &extra), RK_ERR_TIMEOUT);
}

TEST(Kernels, DeactivatedKernelKeepsMessagesAndProcessesThemAfterActivation)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    ASSERT_EQ(rk_kernel_deactivate(r.rt, "sink"), RK_OK);
    TestNum *n = make_num(1);
    for (int i = 0; i < 5; i++) ASSERT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_OK);
    rk_msg_free(&n->hdr);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(count.load(), 0);
    rk_kernel_stats_t st;
    ASSERT_EQ(rk_kernel_get_stats(r.rt, "sink", &st), RK_OK);
    EXPECT_EQ(st.inbox.depth, 5u);
    ASSERT_EQ(rk_kernel_activate(r.rt, "sink"), RK_OK);
    for (int i = 0; i < 200 && count.load() < 5; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(count.load(), 5);
}

TEST(Kernels, TerminateDrainsQueuedMessages)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    p.field_mask |= RK_KERNEL_FIELD_CAPACITY;
    p.capacity = 4096;
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    TestNum *n = make_num(1);
    for (int i = 0; i < 1000; i++) ASSERT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_OK);
    rk_msg_free(&n->hdr);
    ASSERT_EQ(rk_kernel_launch(r.rt, "sink"), RK_OK);
    ASSERT_EQ(rk_kernel_activate(r.rt, "sink"), RK_OK);
    uint32_t left = 99;
    ASSERT_EQ(rk_kernel_terminate(r.rt, "sink", 5000000, &left), RK_OK);
    EXPECT_EQ(left, 0u);
    EXPECT_EQ(count.load(), 1000);
    TestNum *late = make_num(2);
    EXPECT_EQ(rk_send(r.rt, "sink", &late->hdr), RK_ERR_TERMINATED);
    rk_msg_free(&late->hdr);
}

TEST(Kernels, DedupProcessesARepeatedMessageIdOnce)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    p.field_mask |= RK_KERNEL_FIELD_DEDUP;
    p.dedup_window = 64;
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    TestNum *n = make_num(1);
    for (int i = 0; i < 3; i++) ASSERT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_OK);  // a retried send
    TestNum *other = make_num(2);
    ASSERT_EQ(rk_send(r.rt, "sink", &other->hdr), RK_OK);
    for (int i = 0; i < 400 && count.load() < 2; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(count.load(), 2);
    rk_kernel_stats_t st;
    ASSERT_EQ(rk_kernel_get_stats(r.rt, "sink", &st), RK_OK);
    EXPECT_EQ(st.duplicates, 2u);
    rk_msg_free(&n->hdr);
    rk_msg_free(&other->hdr);
}

TEST(Kernels, RequestWithoutReplyTimesOut)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    TestNum *n = make_num(1);
    ASSERT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_OK);
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_receive(r.rt, "sink", 50000, &out), RK_ERR_TIMEOUT);
    rk_msg_free(&n->hdr);
}

TEST(Kernels, RejectStrategyReachesTheSender)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    p.field_mask |= RK_KERNEL_FIELD_CAPACITY | RK_KERNEL_FIELD_STRATEGY;
    p.capacity = 2;
    p.strategy = RK_BP_REJECT;
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);  // not launched: nothing drains
    TestNum *n = make_num(1);
    EXPECT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_OK);
    EXPECT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_OK);
    EXPECT_EQ(rk_send(r.rt, "sink", &n->hdr), RK_ERR_FULL);
    rk_msg_free(&n->hdr);
}

TEST(Kernels, BlockingSendTimesOutWithClearStatus)
{
    Runtime r;
    std::atomic<int> count{0};
    auto p = params("sink", count_body, &count);
    p.field_mask |= RK_KERNEL_FIELD_CAPACITY;
    p.capacity = 1;
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    TestNum *n = make_num(1);
    EXPECT_EQ(rk_send_timeout(r.rt, "sink", &n->hdr, 0), RK_OK);
    EXPECT_EQ(rk_send_timeout(r.rt, "sink", &n->hdr, 10000), RK_ERR_TIMEOUT);
    rk_msg_free(&n->hdr);
}

// Messages handed between threads (application -> kernel -> application)
// reuse pooled blocks: no malloc per message after warm-up.
TEST(Kernels, RequestReplyPathIsAllocationFreeAfterWarmup)
{
    if (rk_pool_passthrough()) GTEST_SKIP() << "pool forwards to malloc under ASan";
    Runtime r;
    auto p = params("echo", echo_double_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    TestNum *req = make_num(1);
    auto run = [&](int n) {
        for (int i = 0; i < n; i++) {
            ASSERT_EQ(rk_send(r.rt, "echo", &req->hdr), RK_OK);
            rk_msg_t *out = nullptr;
            ASSERT_EQ(rk_receive(r.rt, "echo", 5000000, &out), RK_OK);
            rk_msg_free(out);
        }
    };
    run(2000);
    uint64_t before = rk_pool_sys_allocs();
    run(20000);
    EXPECT_EQ(rk_pool_sys_allocs(), before);
    rk_msg_free(&req->hdr);
}

TEST(Status, EveryCodeHasItsOwnString)
{
    std::set<std::string> seen;
    for (int s = 0; s >= -19; s--) {
        std::string str = rk_status_str(static_cast<rk_status_t>(s));
        EXPECT_TRUE(seen.insert(str).second) << str;
    }
    EXPECT_NE(std::string(rk_status_str(static_cast<rk_status_t>(-999))).find("unknown"), std::string::npos);
}

// The kernel directory is read without a lock while kernels are added and the
// table grows (64 -> 4096 slots here): a lookup of a kernel created before it
// began must always find it, on every thread.
TEST(Directory, LookupsDuringGrowthAlwaysFindEveryCreatedKernel)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    const int n = 1500;
    std::atomic<int> created{0};
    std::atomic<long> misses{0}, lookups{0};
    std::atomic<bool> done{false};
    auto reader = [&](unsigned seed) {
        while (!done.load()) {
            int have = created.load();
            if (!have) continue;
            seed = seed * 1103515245u + 12345u;
            std::string id = "dir" + std::to_string(static_cast<int>(seed % static_cast<unsigned>(have)));
            int rank = -1;
            if (rk_kernel_rank(rt, id.c_str(), &rank) != RK_OK || rank != 0) misses++;
            lookups++;
        }
    };
    std::thread r1(reader, 1u), r2(reader, 2u);
    for (int i = 0; i < n; i++) {
        std::string id = "dir" + std::to_string(i);
        rk_kernel_params_t p{};
        p.kernel_id = id.c_str();
        p.fn = echo_double_body;
        p.field_mask = RK_KERNEL_FIELD_CAPACITY;
        p.capacity = 2;
        ASSERT_EQ(rk_kernel_create(rt, &p), RK_OK);
        created.store(i + 1);
    }
    done.store(true);
    r1.join();
    r2.join();
    EXPECT_EQ(misses.load(), 0);
    EXPECT_GT(lookups.load(), 0);
    int rank = -1;
    EXPECT_EQ(rk_kernel_rank(rt, "dir1499", &rank), RK_OK);
    EXPECT_EQ(rk_kernel_rank(rt, "dir1500", &rank), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}
