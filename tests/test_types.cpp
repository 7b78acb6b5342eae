#include "test_types.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

RK_MESSAGE_DEFINE(TestNum, TEST_NUM)
RK_MESSAGE_DEFINE(TestText, TEST_TEXT)

TestNum *make_num(int64_t seq, int priority, int64_t sender)
{
    rk_msg_t *m = nullptr;
    if (rk_msg_create(TestNum_type(), 0, &m) != RK_OK) abort();
    if (rk_msg_set_priority(m, priority) != RK_OK) abort();
    TestNum *n = reinterpret_cast<TestNum *>(m);
    n->seq = seq;
    n->sender = sender;
    n->value = static_cast<double>(seq) * 0.5;
    return n;
}

void echo_double_body(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        auto *req = reinterpret_cast<TestNum *>(m);
        TestNum *rep = make_num(req->seq, m->priority, req->sender);
        rep->value = req->value * 2;
        rk_ctx_reply(ctx, m, &rep->hdr); // the tests check what arrives
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
    }
}

void hop_body(rk_ctx_t *ctx, void *arg)
{
    const char *next = static_cast<const char *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        auto *in = reinterpret_cast<TestNum *>(m);
        TestNum *out = make_num(in->seq, m->priority, in->sender);
        out->value = in->value + 1;
        rk_status_t st = next && *next ? rk_ctx_send_to(ctx, next, &out->hdr) : rk_ctx_reply(ctx, m, &out->hdr);
        if (st != RK_OK) fprintf(stderr, "hop_body: %s\n", rk_status_str(st));
        rk_msg_free(&out->hdr);
        rk_msg_free(m);
    }
}

int call_through_hops(rk_runtime_t *rt, const char *first, int threads, int per, int hops)
{
    std::atomic<int> good{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per; i++) {
                TestNum *req = make_num(i, RK_PRIORITY_DEFAULT, t);
                req->value = 10.0 * i;
                rk_msg_t *rep = nullptr;
                if (rk_call(rt, first, &req->hdr, 30000000, &rep) == RK_OK) {
                    auto *n = reinterpret_cast<TestNum *>(rep);
                    if (n->sender == t && n->seq == i && n->value == 10.0 * i + hops &&
                        rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id))
                        good++;
                    rk_msg_free(rep);
                }
                rk_msg_free(&req->hdr);
            }
        });
    for (auto &t : ts) t.join();
    return good.load();
}

void count_body(rk_ctx_t *ctx, void *arg)
{
    auto *n = static_cast<std::atomic<int> *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        n->fetch_add(1);
        rk_msg_free(m);
    }
}
