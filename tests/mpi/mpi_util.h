// Helpers for multi-rank tests: a runtime per test (transport from
// $RINGMESH_TRANSPORT), kernel params, and collective checks.
#ifndef RK_MPI_UTIL_H
#define RK_MPI_UTIL_H

#include <gtest/gtest.h>
#include <mpi.h>

#include "../unit_util.h"

struct DistRuntime {
    rk_runtime_t *rt = nullptr;
    int rank = 0, size = 1;
    explicit DistRuntime(uint32_t credits = 0)
    {
        rk_runtime_params_t p{};
        p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
        p.transport = RK_TRANSPORT_AUTO;
        if (credits) {
            p.field_mask |= RK_RUNTIME_FIELD_CREDITS;
            p.credits = credits;
        }
        EXPECT_EQ(rk_runtime_create(&p, &rt), RK_OK);
        EXPECT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
        EXPECT_EQ(rk_runtime_register_type(rt, TestText_type()), RK_OK);
        rank = rk_runtime_rank(rt);
        size = rk_runtime_size(rt);
    }
    ~DistRuntime() { EXPECT_EQ(rk_runtime_destroy(rt), RK_OK); }
};

inline rk_kernel_params_t kparams(const char *id, rk_kernel_fn fn, void *arg = nullptr) { return params(id, fn, arg); }

// A kernel that answers every TestNum with a TestNum of the same seq (rk_ctx_reply).
inline void reply_same_seq(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        TestNum *rep = make_num(reinterpret_cast<TestNum *>(m)->seq);
        rk_ctx_reply(ctx, m, &rep->hdr);
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
    }
}

inline long long allsum(long long v)
{
    long long out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return out;
}

#endif
