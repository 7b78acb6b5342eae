// Schema drift between ranks: one type name with other fields on the last
// rank (a v1 and a v2: versioning, reported and still delivered) and with a
// field of another kind (an error sync returns; the sender hears that its
// message could not be read).
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "../event_log.h"
#include "mpi_util.h"

namespace {

#define SHAPE_V1(F) F(ShapeV1, a, INT, _) F(ShapeV1, b, INT, _)
#define SHAPE_V2(F) F(ShapeV2, a, INT, _) F(ShapeV2, c, FLOAT, _)
#define CLASH_A(F) F(ClashA, x, INT, _)
#define CLASH_B(F) F(ClashB, x, STR, _)
RK_MESSAGE_DECLARE(ShapeV1, SHAPE_V1)
RK_MESSAGE_DEFINE(ShapeV1, SHAPE_V1)
RK_MESSAGE_DECLARE(ShapeV2, SHAPE_V2)
RK_MESSAGE_DEFINE(ShapeV2, SHAPE_V2)
RK_MESSAGE_DECLARE(ClashA, CLASH_A)
RK_MESSAGE_DEFINE(ClashA, CLASH_A)
RK_MESSAGE_DECLARE(ClashB, CLASH_B)
RK_MESSAGE_DEFINE(ClashB, CLASH_B)

// The same wire name ("Shape", "Clash") for two C layouts: one per rank.
rk_msg_type_t renamed(const rk_msg_type_t *t, const char *name)
{
    rk_msg_type_t c = *t;
    c.name = name;
    return c;
}

struct Got {
    std::atomic<int> n{0};
    std::atomic<long> sum_a{0};
};

void shape_sink(rk_ctx_t *ctx, void *arg)
{
    auto *g = static_cast<Got *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        g->sum_a += reinterpret_cast<ShapeV2 *>(m)->a; // "a" has the same place in both
        g->n++;
        rk_msg_free(m);
    }
}

}  // namespace

TEST(Schema, VersionedTypesStillDeliverAndClashingKindsAreAnError)
{
    EventLog ev; // outlives the runtime
    DistRuntime d;
    ASSERT_EQ(rk_runtime_on_event(d.rt, EventLog::on, &ev), RK_OK);
    const int last = d.size - 1;
    static rk_msg_type_t shape_v1 = renamed(ShapeV1_type(), "Shape"), shape_v2 = renamed(ShapeV2_type(), "Shape");
    static rk_msg_type_t clash_a = renamed(ClashA_type(), "Clash"), clash_b = renamed(ClashB_type(), "Clash");
    ASSERT_EQ(rk_runtime_register_type(d.rt, d.rank == last ? &shape_v2 : &shape_v1), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(d.rt, d.rank == last ? &clash_b : &clash_a), RK_OK);
    Got got;
    if (d.rank == last) {
        auto p = kparams("shapes", shape_sink, &got);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    EXPECT_EQ(rk_runtime_sync(d.rt), RK_ERR_TYPE); // every rank: "Clash" has x INT here and x STR there
    if (d.rank == 0) {
        for (int i = 1; i <= 100; i++) { // v1 -> v2: "a" arrives, "c" takes its default
            rk_msg_t *m = nullptr;
            ASSERT_EQ(rk_msg_create(&shape_v1, 0, &m), RK_OK);
            reinterpret_cast<ShapeV1 *>(m)->a = i;
            reinterpret_cast<ShapeV1 *>(m)->b = -i;
            ASSERT_EQ(rk_send(d.rt, "shapes", m), RK_OK);
            rk_msg_free(m);
        }
        rk_msg_t *c = nullptr; // x INT here, STR there: cannot be read there
        ASSERT_EQ(rk_msg_create(&clash_a, 0, &c), RK_OK);
        reinterpret_cast<ClashA *>(c)->x = 7;
        ASSERT_EQ(rk_send(d.rt, "shapes", c), RK_OK);
        rk_msg_free(c);
        EXPECT_TRUE(ev.wait(RK_EVENT_UNDELIVERED, 1)) << "the sender must hear that its message could not be read";
        EXPECT_NE(ev.first_status(RK_EVENT_UNDELIVERED), RK_OK);
    }
    if (d.rank == last) {
        for (int i = 0; i < 5000 && got.n.load() < 100; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(got.n.load(), 100);
        EXPECT_EQ(got.sum_a.load(), 5050);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
