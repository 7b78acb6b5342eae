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
