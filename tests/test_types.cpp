#include "test_types.h"

#include <cstdlib>

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
