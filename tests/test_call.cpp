// Requests with replies on one rank: rk_call from many threads, futures in any
// order, freed futures, refusals seen by calls and events, reply-to through a
// pipeline, calls from kernel bodies, supervision, late kernels, topics and
// bounded outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "unit_util.h"

namespace {

// Replies to each TestNum after sleeping `value` microseconds when value > 0.
void slow_echo_body(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        auto *req = reinterpret_cast<TestNum *>(m);
        if (req->value > 0) std::this_thread::sleep_for(std::chrono::microseconds((long)req->value));
        TestNum *rep = make_num(req->seq, m->priority, req->sender);
        rk_ctx_reply(ctx, m, &rep->hdr);
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
    }
}

}  // namespace

TEST(Call, EightThreadsEachGetTheirOwnReplies)
{
    Runtime r;
    auto p = params("echo", echo_double_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    const int threads = 8, per = 5000;
    std::atomic<int> crossed{0}, ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per; i++) {
                TestNum *req = make_num(i, 128, t);
                req->value = t * 100000 + i;
                rk_msg_t *rep = nullptr;
                rk_status_t st = rk_call(r.rt, "echo", &req->hdr, 10000000, &rep);
                if (st == RK_OK) {
                    auto *n = reinterpret_cast<TestNum *>(rep);
                    bool mine = rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id) && n->sender == t &&
                                n->seq == i && n->value == 2.0 * (t * 100000 + i);
                    (mine ? ok : crossed)++;
                    rk_msg_free(rep);
                }
                rk_msg_free(&req->hdr);
            }
        });
    for (auto &t : ts) t.join();
    EXPECT_EQ(crossed.load(), 0);
    EXPECT_EQ(ok.load(), threads * per);
    rk_call_stats_t cs;
    ASSERT_EQ(rk_runtime_get_call_stats(r.rt, &cs), RK_OK);
    EXPECT_EQ(cs.calls, (uint64_t)threads * per);
    EXPECT_EQ(cs.replies, (uint64_t)threads * per);
    EXPECT_EQ(cs.late_replies, 0u);
    // Streams are untouched: nothing went to the kernel's outputs.
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_receive(r.rt, "echo", 0, &out), RK_ERR_TIMEOUT);
}

TEST(Call, TenThousandFuturesWaitedInRandomOrder)
{
    Runtime r;
    auto p = params("echo", echo_double_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    const int n = 10000;
    std::vector<rk_future_t *> fs(n, nullptr);
    std::vector<int> order(n);
    for (int i = 0; i < n; i++) {
        TestNum *req = make_num(i);
        req->value = i;
        ASSERT_EQ(rk_ask(r.rt, "echo", &req->hdr, &fs[i]), RK_OK);
        EXPECT_TRUE(rk_uuid_equal(rk_future_id(fs[i]), &req->hdr.message_id));
        rk_msg_free(&req->hdr);
        order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    int good = 0;
    for (int i : order) {
        rk_msg_t *rep = nullptr;
        ASSERT_EQ(rk_future_wait(fs[i], 10000000, &rep), RK_OK);
        auto *m = reinterpret_cast<TestNum *>(rep);
        if (m->seq == i && m->value == 2.0 * i && rk_uuid_equal(&rep->correlation_id, rk_future_id(fs[i]))) good++;
        rk_msg_free(rep);
        rk_msg_t *again = nullptr;
        EXPECT_EQ(rk_future_wait(fs[i], 0, &again), RK_ERR_STATE); // handed out once
        rk_future_free(fs[i]);
    }
    EXPECT_EQ(good, n);
}

TEST(Call, FreedOrTimedOutFuturesDropTheirRepliesAndCountThem)
{
    Runtime r;
    auto p = params("slow", slow_echo_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    // A call that times out: its reply comes later and is dropped, counted.
    TestNum *req = make_num(1);
    req->value = 50000; // 50 ms
    rk_msg_t *rep = nullptr;
    EXPECT_EQ(rk_call(r.rt, "slow", &req->hdr, 1000, &rep), RK_ERR_TIMEOUT);
    EXPECT_EQ(rep, nullptr);
    rk_msg_free(&req->hdr);
    // A future freed before its reply.
    rk_future_t *f = nullptr;
    req = make_num(2);
    req->value = 20000;
    ASSERT_EQ(rk_ask(r.rt, "slow", &req->hdr, &f), RK_OK);
    rk_future_free(f);
    rk_msg_free(&req->hdr);
    // The next call gets its own reply, not one of those.
    req = make_num(3);
    ASSERT_EQ(rk_call(r.rt, "slow", &req->hdr, 5000000, &rep), RK_OK);
    EXPECT_EQ(reinterpret_cast<TestNum *>(rep)->seq, 3);
    EXPECT_TRUE(rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id));
    rk_msg_free(rep);
    rk_msg_free(&req->hdr);
    rk_call_stats_t cs;
    ASSERT_EQ(rk_runtime_get_call_stats(r.rt, &cs), RK_OK);
    EXPECT_EQ(cs.late_replies, 2u);
    EXPECT_EQ(cs.replies, 1u);
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_receive(r.rt, "slow", 0, &out), RK_ERR_TIMEOUT); // late replies never reach a stream
}

TEST(Call, PendingMessageIdIsRefused)
{
    Runtime r;
    auto p = params("slow", slow_echo_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    TestNum *req = make_num(1);
    req->value = 20000;
    rk_future_t *a = nullptr, *b = nullptr;
    ASSERT_EQ(rk_ask(r.rt, "slow", &req->hdr, &a), RK_OK);
    EXPECT_EQ(rk_ask(r.rt, "slow", &req->hdr, &b), RK_ERR_EXISTS);
    EXPECT_EQ(b, nullptr);
    rk_msg_t *rep = nullptr;
    EXPECT_EQ(rk_future_wait(a, 5000000, &rep), RK_OK);
    rk_msg_free(rep);
    rk_future_free(a);
    ASSERT_EQ(rk_ask(r.rt, "slow", &req->hdr, &b), RK_OK); // free again once answered
    EXPECT_EQ(rk_future_wait(b, 5000000, &rep), RK_OK);
    rk_msg_free(rep);
    rk_future_free(b);
    rk_msg_free(&req->hdr);
}

TEST(Call, BadArgumentsAreRefused)
{
    Runtime r;
    TestNum *req = make_num(1);
    rk_msg_t *rep = nullptr;
    rk_future_t *f = nullptr;
    EXPECT_EQ(rk_call(r.rt, "nobody", &req->hdr, 1000, &rep), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_call(nullptr, "x", &req->hdr, 1000, &rep), RK_ERR_INVALID);
    EXPECT_EQ(rk_call(r.rt, "x", nullptr, 1000, &rep), RK_ERR_INVALID);
    EXPECT_EQ(rk_call(r.rt, "x", &req->hdr, 1000, nullptr), RK_ERR_INVALID);
    EXPECT_EQ(rk_ask(r.rt, "x", &req->hdr, nullptr), RK_ERR_INVALID);
    EXPECT_EQ(rk_ask(r.rt, "nobody", &req->hdr, &f), RK_ERR_NOT_FOUND);
    EXPECT_EQ(f, nullptr);
    EXPECT_EQ(rk_future_wait(nullptr, 0, &rep), RK_ERR_INVALID);
    EXPECT_FALSE(rk_future_ready(nullptr));
    rk_future_free(nullptr);
    rk_msg_free(&req->hdr);
}

TEST(Refusal, RejectAndDropOldestReachTheCallAndTheEvents)
{
    EventLog log; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    Runtime r;
    ASSERT_EQ(rk_runtime_on_event(r.rt, EventLog::on, &log), RK_OK);
    rk_kernel_params_t p = params("rej", echo_double_body);
    p.field_mask |= RK_KERNEL_FIELD_CAPACITY | RK_KERNEL_FIELD_STRATEGY;
    p.capacity = 2;
    p.strategy = RK_BP_REJECT;
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK); // CREATED: takes messages, serves none
    rk_kernel_params_t q = p;
    q.kernel_id = "drop";
    q.strategy = RK_BP_DROP_OLDEST;
    ASSERT_EQ(rk_kernel_create(r.rt, &q), RK_OK);

    std::vector<rk_future_t *> rf(4, nullptr), df(4, nullptr);
    std::vector<rk_uuid_t> dids;
    for (int i = 0; i < 4; i++) {
        TestNum *a = make_num(i), *b = make_num(i);
        rk_status_t st = rk_ask(r.rt, "rej", &a->hdr, &rf[i]);
        EXPECT_EQ(st, i < 2 ? RK_OK : RK_ERR_FULL) << i; // local REJECT: refused at once
        ASSERT_EQ(rk_ask(r.rt, "drop", &b->hdr, &df[i]), RK_OK) << i;
        dids.push_back(b->hdr.message_id);
        rk_msg_free(&a->hdr);
        rk_msg_free(&b->hdr);
    }
    // The two oldest on "drop" were evicted: their futures say so, and so do the events.
    rk_msg_t *rep = nullptr;
    EXPECT_EQ(rk_future_wait(df[0], 1000000, &rep), RK_ERR_DROPPED);
    EXPECT_EQ(rk_future_wait(df[1], 1000000, &rep), RK_ERR_DROPPED);
    EXPECT_FALSE(rk_future_ready(df[2]));
    ASSERT_TRUE(log.wait(RK_EVENT_DROPPED, 2));
    EXPECT_TRUE(log.has_message(RK_EVENT_DROPPED, dids[0]));
    EXPECT_TRUE(log.has_message(RK_EVENT_DROPPED, dids[1]));
    // rk_call on a full REJECT mailbox.
    TestNum *c = make_num(9);
    EXPECT_EQ(rk_call(r.rt, "rej", &c->hdr, 1000000, &rep), RK_ERR_FULL);
    rk_msg_free(&c->hdr);
    // The accepted ones are answered once the kernels run.
    ASSERT_EQ(rk_kernel_launch(r.rt, "rej"), RK_OK);
    ASSERT_EQ(rk_kernel_activate(r.rt, "rej"), RK_OK);
    ASSERT_EQ(rk_kernel_launch(r.rt, "drop"), RK_OK);
    ASSERT_EQ(rk_kernel_activate(r.rt, "drop"), RK_OK);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(rk_future_wait(rf[i], 5000000, &rep), RK_OK);
        rk_msg_free(rep);
        ASSERT_EQ(rk_future_wait(df[i + 2], 5000000, &rep), RK_OK);
        EXPECT_EQ(reinterpret_cast<TestNum *>(rep)->seq, i + 2);
        rk_msg_free(rep);
    }
    for (auto *f : rf) rk_future_free(f);
    for (auto *f : df) rk_future_free(f);
}

TEST(Refusal, FireAndForgetEvictionRaisesAnEventWithTheMessageId)
{
    EventLog log; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    Runtime r;
    ASSERT_EQ(rk_runtime_on_event(r.rt, EventLog::on, &log), RK_OK);
    rk_kernel_params_t p = params("drop", echo_double_body);
    p.field_mask |= RK_KERNEL_FIELD_CAPACITY | RK_KERNEL_FIELD_STRATEGY;
    p.capacity = 1;
    p.strategy = RK_BP_DROP_OLDEST;
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    TestNum *a = make_num(1), *b = make_num(2);
    ASSERT_EQ(rk_send(r.rt, "drop", &a->hdr), RK_OK);
    ASSERT_EQ(rk_send(r.rt, "drop", &b->hdr), RK_OK); // evicts a
    ASSERT_TRUE(log.wait(RK_EVENT_DROPPED, 1));
    EXPECT_TRUE(log.has_message(RK_EVENT_DROPPED, a->hdr.message_id));
    EXPECT_FALSE(log.has_message(RK_EVENT_DROPPED, b->hdr.message_id));
    rk_msg_free(&a->hdr);
    rk_msg_free(&b->hdr);
}


TEST(Call, ReplyFromTheLastStageOfAPipelineReachesTheCaller)
{
    Runtime r;
    static char s2[] = "s2", s3[] = "s3", last[] = "";
    auto p1 = params("s1", hop_body, s2), p2 = params("s2", hop_body, s3), p3 = params("s3", hop_body, last);
    ASSERT_EQ(rk_kernel_start(r.rt, &p1), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &p2), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &p3), RK_OK);
    EXPECT_EQ(call_through_hops(r.rt, "s1", 4, 500, 3), 2000);
}

namespace {

// Calls "echo" for each message it gets and replies with echo's answer + 1.
void caller_body(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_msg_t *inner = nullptr;
        TestNum *ask = make_num(reinterpret_cast<TestNum *>(m)->seq); // a request of its own (own message_id)
        ask->value = reinterpret_cast<TestNum *>(m)->value;
        rk_status_t st = rk_call(rk_ctx_runtime(ctx), "echo", &ask->hdr, 5000000, &inner);
        rk_msg_free(&ask->hdr);
        if (st == RK_OK) {
            reinterpret_cast<TestNum *>(inner)->value += 1;
            rk_ctx_reply(ctx, m, inner);
            rk_msg_free(inner);
        }
        rk_msg_free(m);
    }
}

}  // namespace

TEST(Call, AKernelBodyCallsAnotherKernel)
{
    Runtime r;
    auto e = params("echo", echo_double_body), c = params("front", caller_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &e), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &c), RK_OK);
    for (int i = 0; i < 200; i++) {
        TestNum *req = make_num(i);
        req->value = i;
        rk_msg_t *rep = nullptr;
        ASSERT_EQ(rk_call(r.rt, "front", &req->hdr, 5000000, &rep), RK_OK);
        EXPECT_EQ(reinterpret_cast<TestNum *>(rep)->value, 2.0 * i + 1);
        EXPECT_TRUE(rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id));
        rk_msg_free(rep);
        rk_msg_free(&req->hdr);
    }
}

namespace {

// Serves `n` messages (replying), then fails or returns, per the arg.
struct Quitter {
    int serve;
    bool use_fail;
    std::atomic<int> runs{0};
};

void quitter_body(rk_ctx_t *ctx, void *arg)
{
    auto *q = static_cast<Quitter *>(arg);
    q->runs++;
    for (int served = 0; served < q->serve && !rk_ctx_should_terminate(ctx);) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        TestNum *rep = make_num(reinterpret_cast<TestNum *>(m)->seq);
        rk_ctx_reply(ctx, m, &rep->hdr);
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
        served++;
    }
    if (q->use_fail) rk_ctx_fail(ctx, "bad input seen");
}

rk_kernel_state_t wait_state(rk_runtime_t *rt, const char *id, rk_kernel_state_t want)
{
    rk_kernel_state_t s = RK_STATE_CREATED;
    for (int i = 0; i < 5000; i++) {
        if (rk_kernel_state(rt, id, &s) == RK_OK && s == want) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return s;
}

}  // namespace

TEST(Supervision, ABodyThatReturnsFailsItsKernelAndItsCallers)
{
    EventLog log; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    Runtime r;
    ASSERT_EQ(rk_runtime_on_event(r.rt, EventLog::on, &log), RK_OK);
    Quitter q{1, false};
    auto p = params("q", quitter_body, &q);
    ASSERT_EQ(rk_kernel_create(r.rt, &p), RK_OK);
    // Three requests queued before it runs: one answered, two failed with the kernel.
    std::vector<rk_future_t *> fs(3, nullptr);
    for (int i = 0; i < 3; i++) {
        TestNum *req = make_num(i);
        ASSERT_EQ(rk_ask(r.rt, "q", &req->hdr, &fs[i]), RK_OK);
        rk_msg_free(&req->hdr);
    }
    ASSERT_EQ(rk_kernel_launch(r.rt, "q"), RK_OK);
    ASSERT_EQ(rk_kernel_activate(r.rt, "q"), RK_OK);
    EXPECT_EQ(wait_state(r.rt, "q", RK_STATE_FAILED), RK_STATE_FAILED);
    rk_msg_t *rep = nullptr;
    EXPECT_EQ(rk_future_wait(fs[0], 5000000, &rep), RK_OK);
    rk_msg_free(rep);
    EXPECT_EQ(rk_future_wait(fs[1], 5000000, &rep), RK_ERR_FAILED);
    EXPECT_EQ(rk_future_wait(fs[2], 5000000, &rep), RK_ERR_FAILED);
    for (auto *f : fs) rk_future_free(f);
    char why[128];
    ASSERT_EQ(rk_kernel_failure(r.rt, "q", why, sizeof why), RK_OK);
    EXPECT_STREQ(why, "body returned");
    EXPECT_STREQ(rk_kernel_state_str(RK_STATE_FAILED), "FAILED");
    TestNum *m = make_num(5);
    EXPECT_EQ(rk_send(r.rt, "q", &m->hdr), RK_ERR_FAILED);
    EXPECT_EQ(rk_call(r.rt, "q", &m->hdr, 100000, &rep), RK_ERR_FAILED);
    ASSERT_TRUE(log.wait(RK_EVENT_KERNEL_FAILED, 1));
    // Created again: it serves again.
    q.serve = 1000;
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    EXPECT_EQ(rk_call(r.rt, "q", &m->hdr, 5000000, &rep), RK_OK);
    rk_msg_free(rep);
    EXPECT_EQ(rk_kernel_failure(r.rt, "q", why, sizeof why), RK_ERR_STATE);
    rk_msg_free(&m->hdr);
}

TEST(Supervision, RestartOnFailureUpToItsLimit)
{
    EventLog log; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    Runtime r;
    ASSERT_EQ(rk_runtime_on_event(r.rt, EventLog::on, &log), RK_OK);
    Quitter q{1, true};
    auto p = params("q", quitter_body, &q);
    p.field_mask |= RK_KERNEL_FIELD_RESTART;
    p.restart = RK_RESTART_ON_FAILURE;
    p.max_restarts = 2;
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    rk_msg_t *rep = nullptr;
    for (int i = 0; i < 3; i++) { // each run serves one call, then fails: runs 1, 2, 3
        TestNum *req = make_num(i);
        EXPECT_EQ(rk_call(r.rt, "q", &req->hdr, 5000000, &rep), RK_OK) << i;
        rk_msg_free(rep);
        rk_msg_free(&req->hdr);
    }
    EXPECT_EQ(wait_state(r.rt, "q", RK_STATE_FAILED), RK_STATE_FAILED);
    EXPECT_EQ(q.runs.load(), 3);
    rk_kernel_stats_t ks;
    ASSERT_EQ(rk_kernel_get_stats(r.rt, "q", &ks), RK_OK);
    EXPECT_EQ(ks.restarts, 2u);
    char why[128];
    ASSERT_EQ(rk_kernel_failure(r.rt, "q", why, sizeof why), RK_OK);
    EXPECT_STREQ(why, "bad input seen");
    ASSERT_TRUE(log.wait(RK_EVENT_KERNEL_RESTARTED, 2));
    ASSERT_TRUE(log.wait(RK_EVENT_KERNEL_FAILED, 1));
    EXPECT_EQ(rk_kernel_terminate(r.rt, "q", 0, nullptr), RK_OK); // joins; stays FAILED
    EXPECT_EQ(wait_state(r.rt, "q", RK_STATE_FAILED), RK_STATE_FAILED);
}

TEST(Supervision, ATerminatedIdCanBeStartedAgain)
{
    Runtime r;
    auto p = params("k", echo_double_body);
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    EXPECT_EQ(rk_kernel_start(r.rt, &p), RK_ERR_EXISTS); // alive: the id is taken
    ASSERT_EQ(rk_kernel_terminate(r.rt, "k", 100000, nullptr), RK_OK);
    TestNum *m = make_num(3);
    EXPECT_EQ(rk_send(r.rt, "k", &m->hdr), RK_ERR_TERMINATED);
    p.field_mask |= RK_KERNEL_FIELD_CAPACITY;
    p.capacity = 8;
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    rk_msg_t *rep = nullptr;
    ASSERT_EQ(rk_call(r.rt, "k", &m->hdr, 5000000, &rep), RK_OK);
    EXPECT_EQ(reinterpret_cast<TestNum *>(rep)->value, 3.0);
    rk_msg_free(rep);
    rk_kernel_stats_t ks;
    ASSERT_EQ(rk_kernel_get_stats(r.rt, "k", &ks), RK_OK);
    EXPECT_EQ(ks.inbox.high_water, 1u); // the new life's mailbox
    rk_msg_free(&m->hdr);
}

TEST(Directory, WaitKernel)
{
    Runtime r;
    EXPECT_EQ(rk_runtime_wait_kernel(r.rt, "late", 1000), RK_ERR_TIMEOUT);
    std::thread later([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        auto p = params("late", echo_double_body);
        EXPECT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    });
    EXPECT_EQ(rk_runtime_wait_kernel(r.rt, "late", 5000000), RK_OK);
    later.join();
    EXPECT_EQ(rk_runtime_wait_kernel(r.rt, nullptr, 0), RK_ERR_INVALID);
}


TEST(Topics, UnsubscribeStopsDelivery)
{
    Runtime r;
    std::atomic<int> a{0}, b{0};
    auto pa = params("a", count_body, &a), pb = params("b", count_body, &b);
    ASSERT_EQ(rk_kernel_start(r.rt, &pa), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &pb), RK_OK);
    ASSERT_EQ(rk_subscribe(r.rt, "t", "a"), RK_OK);
    ASSERT_EQ(rk_subscribe(r.rt, "t", "b"), RK_OK);
    TestNum *m = make_num(1);
    ASSERT_EQ(rk_publish(r.rt, "t", &m->hdr), RK_OK);
    ASSERT_EQ(rk_unsubscribe(r.rt, "t", "a"), RK_OK);
    EXPECT_EQ(rk_unsubscribe(r.rt, "t", "a"), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_unsubscribe(r.rt, "t", "nobody"), RK_ERR_NOT_FOUND);
    ASSERT_EQ(rk_publish(r.rt, "t", &m->hdr), RK_OK);
    for (int i = 0; i < 2000 && b.load() < 2; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(a.load(), 1);
    EXPECT_EQ(b.load(), 2);
    rk_msg_free(&m->hdr);
}

namespace {
// Emits one output per message and never waits for anyone to read them.
void emitter_body(rk_ctx_t *ctx, void *arg)
{
    auto *refused = static_cast<std::atomic<int> *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        if (rk_ctx_send(ctx, m) != RK_OK) refused->fetch_add(1);
        rk_msg_free(m);
    }
}
}  // namespace

TEST(Outputs, UnreadOutputsFollowTheKernelsStrategy)
{
    EventLog log; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    Runtime r;
    ASSERT_EQ(rk_runtime_on_event(r.rt, EventLog::on, &log), RK_OK);
    std::atomic<int> drop_refused{0}, rej_refused{0};
    auto pd = params("drop", emitter_body, &drop_refused);
    pd.field_mask |= RK_KERNEL_FIELD_STRATEGY | RK_KERNEL_FIELD_OUT_CAPACITY;
    pd.strategy = RK_BP_DROP_OLDEST;
    pd.out_capacity = 8;
    auto pr = pd;
    pr.kernel_id = "rej";
    pr.arg = &rej_refused;
    pr.strategy = RK_BP_REJECT;
    ASSERT_EQ(rk_kernel_start(r.rt, &pd), RK_OK);
    ASSERT_EQ(rk_kernel_start(r.rt, &pr), RK_OK);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; i++) {
        TestNum *m = make_num(i);
        ASSERT_EQ(rk_send(r.rt, "drop", &m->hdr), RK_OK);
        ASSERT_EQ(rk_send(r.rt, "rej", &m->hdr), RK_OK);
        rk_msg_free(&m->hdr);
    }
    rk_kernel_stats_t sd{}, sr{};
    for (int i = 0; i < 5000; i++) {
        rk_kernel_get_stats(r.rt, "drop", &sd);
        rk_kernel_get_stats(r.rt, "rej", &sr);
        if (sd.processed == 100 && sr.processed == 100) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(secs, 5.0); // no 30 s stall per output
    EXPECT_EQ(sd.processed, 100u);
    EXPECT_EQ(sd.out_dropped, 92u);
    EXPECT_EQ(drop_refused.load(), 0);
    EXPECT_EQ(rej_refused.load(), 92);
    ASSERT_TRUE(log.wait(RK_EVENT_OUTPUT_DROPPED, 92));
    // DROP_OLDEST kept the newest 8, REJECT the oldest 8.
    for (int i = 0; i < 8; i++) {
        rk_msg_t *o = nullptr;
        ASSERT_EQ(rk_receive(r.rt, "drop", 1000000, &o), RK_OK);
        EXPECT_EQ(reinterpret_cast<TestNum *>(o)->seq, 92 + i);
        rk_msg_free(o);
        ASSERT_EQ(rk_receive(r.rt, "rej", 1000000, &o), RK_OK);
        EXPECT_EQ(reinterpret_cast<TestNum *>(o)->seq, i);
        rk_msg_free(o);
    }
}

namespace {
// A handler: doubles the value and answers; a negative seq makes it fail.
void doubler(rk_ctx_t *ctx, const rk_msg_t *msg, void *arg)
{
    auto *seen = static_cast<std::atomic<int> *>(arg);
    const auto *req = reinterpret_cast<const TestNum *>(msg);
    seen->fetch_add(1);
    if (req->seq < 0) {
        rk_ctx_fail(ctx, "negative seq");
        return;
    }
    TestNum *rep = make_num(req->seq, msg->priority, req->sender);
    rep->value = 2 * req->value;
    rk_ctx_reply(ctx, msg, &rep->hdr);
    rk_msg_free(&rep->hdr);
}
}  // namespace

TEST(Handler, CalledOncePerMessageWithTheLoopLeftToTheRuntime)
{
    Runtime r;
    std::atomic<int> seen{0};
    rk_kernel_params_t p{};
    p.field_mask = RK_KERNEL_FIELD_ON_MESSAGE | RK_KERNEL_FIELD_ARG | RK_KERNEL_FIELD_RESTART;
    p.kernel_id = "doubler";
    p.on_message = doubler;
    p.arg = &seen;
    p.restart = RK_RESTART_ON_FAILURE;
    p.max_restarts = 1;
    ASSERT_EQ(rk_kernel_start(r.rt, &p), RK_OK);
    for (int i = 0; i < 1000; i++) {
        TestNum *req = make_num(i);
        req->value = i;
        rk_msg_t *rep = nullptr;
        ASSERT_EQ(rk_call(r.rt, "doubler", &req->hdr, 5000000, &rep), RK_OK);
        EXPECT_EQ(reinterpret_cast<TestNum *>(rep)->value, 2.0 * i);
        rk_msg_free(rep);
        rk_msg_free(&req->hdr);
    }
    EXPECT_EQ(seen.load(), 1000);
    // rk_ctx_fail from a handler: restarted once, then FAILED.
    for (int k = 0; k < 2; k++) {
        TestNum *bad = make_num(-1);
        ASSERT_EQ(rk_send(r.rt, "doubler", &bad->hdr), RK_OK);
        rk_msg_free(&bad->hdr);
        for (int i = 0; i < 2000 && seen.load() < 1001 + k; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    rk_kernel_state_t s = RK_STATE_ACTIVE;
    for (int i = 0; i < 2000 && s != RK_STATE_FAILED; i++) {
        rk_kernel_state(r.rt, "doubler", &s);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(s, RK_STATE_FAILED);
    char why[64];
    ASSERT_EQ(rk_kernel_failure(r.rt, "doubler", why, sizeof why), RK_OK);
    EXPECT_STREQ(why, "negative seq");
    // One body only, and a handler that is there.
    rk_kernel_params_t both = p;
    both.kernel_id = "both";
    both.fn = count_body;
    EXPECT_EQ(rk_kernel_create(r.rt, &both), RK_ERR_INVALID);
    rk_kernel_params_t none = p;
    none.kernel_id = "none";
    none.on_message = nullptr;
    EXPECT_EQ(rk_kernel_create(r.rt, &none), RK_ERR_INVALID);
}
