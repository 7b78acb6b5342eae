// Requests with replies across ranks: rk_call from 8 threads of every rank,
// remote refusals seen by calls and events, the reply-to of a pipeline whose
// stages live on other ranks, remote kernel failure, late kernels, topics.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../event_log.h"
#include "mpi_util.h"

namespace {

std::string kid(const char *base, int rank) { return std::string(base) + "@" + std::to_string(rank); }

}  // namespace

// 8 threads of every rank call the echo kernel of the next rank 5,000 times
// each; every reply is checked against its own request.
TEST(Call, EightThreadsPerRankGetTheirOwnRepliesAcrossRanks)
{
    DistRuntime d;
    std::string mine = kid("echo", d.rank), target = kid("echo", (d.rank + 1) % d.size);
    auto p = kparams(mine.c_str(), echo_double_body);
    ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    const int threads = 8, per = 5000;
    std::atomic<long long> ok{0}, crossed{0}, failed{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per; i++) {
                TestNum *req = make_num(i, 128, d.rank * 100 + t);
                req->value = t * 100000.0 + i;
                rk_msg_t *rep = nullptr;
                rk_status_t st = rk_call(d.rt, target.c_str(), &req->hdr, 60000000, &rep);
                if (st != RK_OK) {
                    failed++;
                } else {
                    auto *n = reinterpret_cast<TestNum *>(rep);
                    bool own = rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id) &&
                               n->sender == d.rank * 100 + t && n->seq == i && n->value == 2 * (t * 100000.0 + i);
                    (own ? ok : crossed)++;
                    rk_msg_free(rep);
                }
                rk_msg_free(&req->hdr);
            }
        });
    for (auto &t : ts) t.join();
    EXPECT_EQ(crossed.load(), 0);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(ok.load(), (long long)threads * per);
    EXPECT_EQ(allsum(crossed.load()), 0);
    rk_call_stats_t cs;
    ASSERT_EQ(rk_runtime_get_call_stats(d.rt, &cs), RK_OK);
    EXPECT_EQ(cs.late_replies, 0u);
    MPI_Barrier(MPI_COMM_WORLD);
}

// Kernels of the last rank with full REJECT / DROP_OLDEST mailboxes: rank 0's
// calls, futures and fire-and-forget sends learn of each refusal.
TEST(Refusal, RemoteRejectAndDropOldestReachTheSender)
{
    EventLog ev; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    DistRuntime d;
    ASSERT_EQ(rk_runtime_on_event(d.rt, EventLog::on, &ev), RK_OK);
    const int last = d.size - 1;
    if (d.rank == last) {
        for (auto [id, bp] : {std::pair<const char *, rk_backpressure_t>{"rej", RK_BP_REJECT}, {"drop", RK_BP_DROP_OLDEST}}) {
            auto p = kparams(id, echo_double_body);
            p.field_mask |= RK_KERNEL_FIELD_CAPACITY | RK_KERNEL_FIELD_STRATEGY;
            p.capacity = 2;
            p.strategy = bp;
            ASSERT_EQ(rk_kernel_create(d.rt, &p), RK_OK); // CREATED: queues, serves nothing yet
        }
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    std::vector<rk_future_t *> rf(4, nullptr), df(4, nullptr);
    rk_uuid_t lost_send{};
    if (d.rank == 0) {
        std::vector<rk_uuid_t> rids, dids;
        for (int i = 0; i < 4; i++) {
            TestNum *a = make_num(i), *b = make_num(i);
            ASSERT_EQ(rk_ask(d.rt, "rej", &a->hdr, &rf[i]), RK_OK); // remote: decided over there
            ASSERT_EQ(rk_ask(d.rt, "drop", &b->hdr, &df[i]), RK_OK);
            rids.push_back(a->hdr.message_id);
            dids.push_back(b->hdr.message_id);
            rk_msg_free(&a->hdr);
            rk_msg_free(&b->hdr);
        }
        rk_msg_t *rep = nullptr;
        EXPECT_EQ(rk_future_wait(rf[2], 10000000, &rep), RK_ERR_FULL);
        EXPECT_EQ(rk_future_wait(rf[3], 10000000, &rep), RK_ERR_FULL);
        EXPECT_EQ(rk_future_wait(df[0], 10000000, &rep), RK_ERR_DROPPED);
        EXPECT_EQ(rk_future_wait(df[1], 10000000, &rep), RK_ERR_DROPPED);
        TestNum *c = make_num(7);
        EXPECT_EQ(rk_call(d.rt, "rej", &c->hdr, 10000000, &rep), RK_ERR_FULL);
        rk_msg_free(&c->hdr);
        TestNum *s = make_num(8);
        lost_send = s->hdr.message_id;
        EXPECT_EQ(rk_send(d.rt, "rej", &s->hdr), RK_OK); // accepted here; refused there
        rk_msg_free(&s->hdr);
        EXPECT_TRUE(ev.wait(RK_EVENT_REFUSED, 4));
        EXPECT_TRUE(ev.has_message(RK_EVENT_REFUSED, rids[2]));
        EXPECT_TRUE(ev.has_message(RK_EVENT_REFUSED, rids[3]));
        EXPECT_TRUE(ev.has_message(RK_EVENT_REFUSED, lost_send));
        EXPECT_TRUE(ev.wait(RK_EVENT_DROPPED, 2));
        EXPECT_TRUE(ev.has_message(RK_EVENT_DROPPED, dids[0]));
        EXPECT_TRUE(ev.has_message(RK_EVENT_DROPPED, dids[1]));
        rk_kernel_stats_t ks;
        ASSERT_EQ(rk_kernel_get_stats(d.rt, "rej", &ks), RK_OK);
        EXPECT_EQ(ks.remote_rejects, 4u);
        ASSERT_EQ(rk_kernel_get_stats(d.rt, "drop", &ks), RK_OK);
        EXPECT_EQ(ks.remote_drops, 2u);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (d.rank == last) {
        for (const char *id : {"rej", "drop"}) {
            ASSERT_EQ(rk_kernel_launch(d.rt, id), RK_OK);
            ASSERT_EQ(rk_kernel_activate(d.rt, id), RK_OK);
        }
    }
    if (d.rank == 0) { // the accepted ones are answered
        for (rk_future_t *f : {rf[0], rf[1], df[2], df[3]}) {
            rk_msg_t *rep = nullptr;
            EXPECT_EQ(rk_future_wait(f, 20000000, &rep), RK_OK);
            rk_msg_free(rep);
        }
        for (auto *f : rf) rk_future_free(f);
        for (auto *f : df) rk_future_free(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}


// Three stages on ranks 1..3 (rank 1 with 2 ranks); 4 caller threads on rank 0.
TEST(Call, ReplyOfTheLastPipelineStageReachesTheCallerOnAnotherRank)
{
    DistRuntime d;
    static char names[3][8] = {"hop1", "hop2", "hop3"};
    static char nexts[3][8] = {"hop2", "hop3", ""};
    for (int s = 0; s < 3; s++) {
        int home = d.size > 1 ? 1 + s % (d.size - 1) : 0;
        if (home != d.rank) continue;
        auto p = kparams(names[s], hop_body, nexts[s]);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    if (d.rank == 0) EXPECT_EQ(call_through_hops(d.rt, "hop1", 4, 1000, 3), 4000);
    MPI_Barrier(MPI_COMM_WORLD);
}

namespace {
// Answers one request, then its body returns (the kernel fails).
void one_shot_body(rk_ctx_t *ctx, void *)
{
    for (;;) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_should_terminate(ctx)) return;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        TestNum *rep = make_num(reinterpret_cast<TestNum *>(m)->seq);
        rk_ctx_reply(ctx, m, &rep->hdr);
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
        return;
    }
}
}  // namespace

TEST(Supervision, ARemoteKernelFailureFailsItsCallersAndIsReported)
{
    EventLog ev; // outlives the runtime: events are delivered until rk_runtime_destroy returns
    DistRuntime d;
    ASSERT_EQ(rk_runtime_on_event(d.rt, EventLog::on, &ev), RK_OK);
    const int last = d.size - 1;
    if (d.rank == last) {
        auto p = kparams("fragile", one_shot_body);
        ASSERT_EQ(rk_kernel_create(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    std::vector<rk_future_t *> fs(3, nullptr);
    if (d.rank == 0)
        for (int i = 0; i < 3; i++) {
            TestNum *req = make_num(i);
            ASSERT_EQ(rk_ask(d.rt, "fragile", &req->hdr, &fs[i]), RK_OK);
            rk_msg_free(&req->hdr);
        }
    MPI_Barrier(MPI_COMM_WORLD); // all three are queued before it runs
    if (d.rank == last) {
        ASSERT_EQ(rk_kernel_launch(d.rt, "fragile"), RK_OK);
        ASSERT_EQ(rk_kernel_activate(d.rt, "fragile"), RK_OK);
    }
    if (d.rank == 0) {
        rk_msg_t *rep = nullptr;
        EXPECT_EQ(rk_future_wait(fs[0], 20000000, &rep), RK_OK);
        rk_msg_free(rep);
        EXPECT_EQ(rk_future_wait(fs[1], 20000000, &rep), RK_ERR_FAILED);
        EXPECT_EQ(rk_future_wait(fs[2], 20000000, &rep), RK_ERR_FAILED);
        for (auto *f : fs) rk_future_free(f);
        if (last != 0) {
            EXPECT_TRUE(ev.wait(RK_EVENT_KERNEL_FAILED, 1));
            TestNum *m = make_num(9);
            rk_status_t st = RK_OK;
            for (int i = 0; i < 2000 && (st = rk_send(d.rt, "fragile", &m->hdr)) == RK_OK; i++)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            EXPECT_EQ(st, RK_ERR_FAILED);
            rk_msg_free(&m->hdr);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

// A kernel started on the last rank after sync is found by rk_runtime_wait_kernel elsewhere.
TEST(Directory, WaitForAKernelStartedAfterSync)
{
    DistRuntime d;
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    const int last = d.size - 1;
    if (d.rank == last) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        auto p = kparams("latecomer", echo_double_body);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_wait_kernel(d.rt, "latecomer", 20000000), RK_OK);
    TestNum *req = make_num(d.rank);
    req->value = d.rank;
    rk_msg_t *rep = nullptr;
    ASSERT_EQ(rk_call(d.rt, "latecomer", &req->hdr, 20000000, &rep), RK_OK);
    EXPECT_EQ(reinterpret_cast<TestNum *>(rep)->value, 2.0 * d.rank);
    rk_msg_free(rep);
    rk_msg_free(&req->hdr);
    MPI_Barrier(MPI_COMM_WORLD);
}


TEST(PubSub, UnsubscribedKernelGetsNoMorePublications)
{
    DistRuntime d;
    std::atomic<int> got{0};
    std::string mine = kid("listener", d.rank);
    auto p = kparams(mine.c_str(), count_body, &got);
    ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    ASSERT_EQ(rk_subscribe(d.rt, "news", mine.c_str()), RK_OK);
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    const int quitter = d.size - 1;
    if (d.rank == quitter) ASSERT_EQ(rk_unsubscribe(d.rt, "news", mine.c_str()), RK_OK);
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK); // the unsubscription is known everywhere
    const int n = 200;
    if (d.rank == 0)
        for (int i = 0; i < n; i++) {
            TestNum *m = make_num(i);
            ASSERT_EQ(rk_publish(d.rt, "news", &m->hdr), RK_OK);
            rk_msg_free(&m->hdr);
        }
    int want = d.rank == quitter ? 0 : n;
    for (int i = 0; i < 10000 && got.load() < want; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    MPI_Barrier(MPI_COMM_WORLD);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(got.load(), want);
    MPI_Barrier(MPI_COMM_WORLD);
}

// 10,000 requests outstanding per sender with default capacities (mailbox
// 1,024, 64 credits): the replies go to their futures, never stuck behind the
// requests that produce them, so nothing deadlocks and every one arrives.
TEST(Call, TenThousandOutstandingRequestsPerSenderWithDefaultCapacities)
{
    DistRuntime d;
    std::string mine = kid("echo", d.rank), target = kid("echo", (d.rank + 1) % d.size);
    auto p = kparams(mine.c_str(), echo_double_body);
    ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    const int n = 10000;
    std::vector<rk_future_t *> fs(n, nullptr);
    for (int i = 0; i < n; i++) {
        TestNum *req = make_num(i, 128, d.rank);
        req->value = i;
        ASSERT_EQ(rk_ask(d.rt, target.c_str(), &req->hdr, &fs[i]), RK_OK) << i;
        rk_msg_free(&req->hdr);
    }
    int good = 0;
    for (int i = n - 1; i >= 0; i--) { // the last asked first
        rk_msg_t *rep = nullptr;
        if (rk_future_wait(fs[i], 60000000, &rep) == RK_OK) {
            good += reinterpret_cast<TestNum *>(rep)->value == 2.0 * i;
            rk_msg_free(rep);
        }
        rk_future_free(fs[i]);
    }
    EXPECT_EQ(good, n);
    EXPECT_EQ(allsum(good), (long long)n * d.size);
}
