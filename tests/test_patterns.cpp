// The seed's four patterns in one process: request-response (rk_call, where
// the seed awaits its reply), fire-and-forget, pub-sub (a topic kernel
// forwarding to subscribers, and rk_publish) and a 3-stage pipeline.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "unit_util.h"

namespace {

struct Counter {
    std::atomic<int> n{0};
    std::atomic<int64_t> sum{0};
};

void counting_sink(rk_ctx_t *ctx, void *arg)
{
    auto *c = static_cast<Counter *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        c->sum.fetch_add(reinterpret_cast<TestNum *>(m)->seq);
        c->n.fetch_add(1);
        rk_msg_free(m);
    }
}

// Forwards each event to the subscriber ids in arg (a null-terminated array).
void topic_processor(rk_ctx_t *ctx, void *arg)
{
    auto subs = static_cast<const char *const *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        for (int i = 0; subs[i]; i++) EXPECT_EQ(rk_ctx_send_to(ctx, subs[i], m), RK_OK);
        rk_msg_free(m);
    }
}

// Pipeline stage: seq -> seq + 1, forwards to the next stage named by arg.
void stage(rk_ctx_t *ctx, void *arg)
{
    auto next = static_cast<const char *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        reinterpret_cast<TestNum *>(m)->seq += 1;
        EXPECT_EQ(rk_ctx_send_to(ctx, next, m), RK_OK);
        rk_msg_free(m);
    }
}

void wait_for(const std::atomic<int> &n, int want)
{
    for (int i = 0; i < 2000 && n.load() < want; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

// The seed's calculator: send a request, await the response to it.
TEST(Patterns, RequestResponseAwaitsItsOwnReply)
{
    Runtime r;
    auto p = params("calculator", echo_double_body, nullptr);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    std::vector<std::thread> ts;
    std::atomic<int> good{0};
    for (int t = 0; t < 4; t++)
        ts.emplace_back([&, t] {
            for (int i = 0; i < 1000; i++) {
                TestNum *req = make_num(i, 128, t);
                req->value = t + i;
                rk_msg_t *rep = nullptr;
                if (rk_call(r.rt, "calculator", &req->hdr, 5000000, &rep) == RK_OK) {
                    if (rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id) &&
                        reinterpret_cast<TestNum *>(rep)->value == 2.0 * (t + i))
                        good++;
                    rk_msg_free(rep);
                }
                rk_msg_free(&req->hdr);
            }
        });
    for (auto &t : ts) t.join();
    EXPECT_EQ(good.load(), 4000);
}

TEST(Patterns, FireAndForgetReturnsAtOnceAndIsProcessed)
{
    Runtime r;
    Counter c;
    auto p = params("logger", counting_sink, &c);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    for (int i = 1; i <= 500; i++) {
        TestNum *n = make_num(i);
        ASSERT_EQ(rk_send(r.rt, "logger", &n->hdr), RK_OK);
        rk_msg_free(&n->hdr);
    }
    wait_for(c.n, 500);
    EXPECT_EQ(c.n.load(), 500);
    EXPECT_EQ(c.sum.load(), 500 * 501 / 2);
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_receive(r.rt, "logger", 0, &out), RK_ERR_TIMEOUT);  // no replies
}

TEST(Patterns, PubSubTopicKernelForwardsToEverySubscriber)
{
    Runtime r;
    Counter c[3];
    static const char *subs[] = {"sub1", "sub2", "sub3", nullptr};
    for (int i = 0; i < 3; i++) {
        auto p = params(subs[i], counting_sink, &c[i]);
        ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    }
    auto p = params("topic_processor", topic_processor, (void *)subs);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    for (int i = 1; i <= 100; i++) {
        TestNum *n = make_num(i);
        ASSERT_EQ(rk_send(r.rt, "topic_processor", &n->hdr), RK_OK);
        rk_msg_free(&n->hdr);
    }
    for (auto &x : c) {
        wait_for(x.n, 100);
        EXPECT_EQ(x.n.load(), 100);
        EXPECT_EQ(x.sum.load(), 5050);
    }
}

TEST(Patterns, PublishReachesEverySubscriberOfTheTopicOnly)
{
    Runtime r;
    Counter a, b, other;
    auto pa = params("a", counting_sink, &a), pb = params("b", counting_sink, &b), po = params("o", counting_sink, &other);
    ASSERT_EQ(rk_kernel_start(r.rt, &pa), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &pb), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &po), RK_OK);
    ASSERT_EQ(rk_subscribe(r.rt, "news", "a"), RK_OK);
    ASSERT_EQ(rk_subscribe(r.rt, "news", "b"), RK_OK);
    ASSERT_EQ(rk_subscribe(r.rt, "news", "b"), RK_OK);  // idempotent
    ASSERT_EQ(rk_subscribe(r.rt, "sport", "o"), RK_OK);
    EXPECT_EQ(rk_subscribe(r.rt, "news", "ghost"), RK_ERR_NOT_FOUND);
    TestNum *n = make_num(3);
    for (int i = 0; i < 10; i++) ASSERT_EQ(rk_publish(r.rt, "news", &n->hdr), RK_OK);
    EXPECT_EQ(rk_publish(r.rt, "nobody-listens", &n->hdr), RK_ERR_NOT_FOUND);
    rk_msg_free(&n->hdr);
    wait_for(a.n, 10);
    wait_for(b.n, 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(a.n.load(), 10);
    EXPECT_EQ(b.n.load(), 10);  // subscribed twice, delivered once
    EXPECT_EQ(other.n.load(), 0);
}

TEST(Patterns, ThreeStagePipelineDeliversEveryMessageTransformed)
{
    Runtime r;
    Counter sink;
    static char s2[] = "stage2", s3[] = "stage3", out[] = "sink";
    auto p1 = params("stage1", stage, s2), p2 = params("stage2", stage, s3), p3 = params("stage3", stage, out);
    auto ps = params("sink", counting_sink, &sink);
    for (auto *p : {&ps, &p3, &p2, &p1}) ASSERT_EQ(rk_kernel_start(r.rt, p), RK_OK);
    constexpr int kN = 20000;
    for (int i = 0; i < kN; i++) {
        TestNum *n = make_num(i);
        ASSERT_EQ(rk_send(r.rt, "stage1", &n->hdr), RK_OK);
        rk_msg_free(&n->hdr);
    }
    wait_for(sink.n, kN);
    EXPECT_EQ(sink.n.load(), kN);
    EXPECT_EQ(sink.sum.load(), (int64_t)kN * (kN - 1) / 2 + 3LL * kN);  // each stage adds 1
}
