// Message types shared by the test suites (defined once in test_types.cpp).
#ifndef RK_TEST_TYPES_H
#define RK_TEST_TYPES_H

#include "ringmesh/ringmesh.h"

#define TEST_NUM(F)          \
    F(TestNum, seq, INT, _)  \
    F(TestNum, sender, INT, _) \
    F(TestNum, value, FLOAT, _)
RK_MESSAGE_DECLARE(TestNum, TEST_NUM)

#define TEST_TEXT(F) F(TestText, text, STR, _)
RK_MESSAGE_DECLARE(TestText, TEST_TEXT)

// Make a TestNum with a priority; the test owns the result (rk_msg_free).
TestNum *make_num(int64_t seq, int priority = RK_PRIORITY_DEFAULT, int64_t sender = 0);

// A kernel that counts what it receives in the std::atomic<int> arg.
void count_body(rk_ctx_t *ctx, void *arg);

// A pipeline stage: for every TestNum, a new one (same seq, priority, sender;
// value + 1) to the kernel named by arg, or, when arg is "" or NULL, the reply
// (rk_ctx_reply) that answers the original caller.
void hop_body(rk_ctx_t *ctx, void *arg);

// @p threads threads each rk_call @p first @p per times (value 10 * i) and
// count the replies that are their own and passed @p hops hop_body stages.
int call_through_hops(rk_runtime_t *rt, const char *first, int threads, int per, int hops);

// A kernel that replies to every TestNum with value * 2 (same seq, priority, sender).
void echo_double_body(rk_ctx_t *ctx, void *arg);

#endif
