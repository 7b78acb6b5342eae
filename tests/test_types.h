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

// A kernel that replies to every TestNum with value * 2 (same seq, priority, sender).
void echo_double_body(rk_ctx_t *ctx, void *arg);

#endif
