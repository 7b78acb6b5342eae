// Helpers shared by the one-rank (unit) suites: a LOCAL runtime per test,
// kernel parameters, and a recorder of the runtime's events.
#ifndef RK_UNIT_UTIL_H
#define RK_UNIT_UTIL_H

#include <gtest/gtest.h>

#include "event_log.h"
#include "test_types.h"

// A LOCAL runtime for one test (destroyed at the end of the scope).
struct Runtime {
    rk_runtime_t *rt = nullptr;
    Runtime() { EXPECT_EQ(rk_runtime_create(nullptr, &rt), RK_OK); }
    ~Runtime() { rk_runtime_destroy(rt); }
};

// Kernel parameters: an id, a body and its argument.
inline rk_kernel_params_t params(const char *id, rk_kernel_fn fn, void *arg = nullptr)
{
    rk_kernel_params_t p{};
    p.kernel_id = id;
    p.fn = fn;
    p.arg = arg;
    p.field_mask = RK_KERNEL_FIELD_ARG;
    return p;
}

#endif
