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

namespace {

struct Mixed {
    std::atomic<int> nums{0}, shapes{0};
    std::atomic<long> seq_sum{0}, a_sum{0};
};

void mixed_sink(rk_ctx_t *ctx, void *arg)
{
    auto *g = static_cast<Mixed *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        if (const TestNum *n = TestNum_cast(m)) {
            g->seq_sum += n->seq + (long)n->value;
            g->nums++;
        } else {
            g->a_sum += reinterpret_cast<ShapeV2 *>(m)->a; // "Shape": a v1 there, a v2 here
            g->shapes++;
        }
        rk_msg_free(m);
    }
}

}  // namespace

// One run, two kinds of type: TestNum has the same layout on every rank and travels as
// its block (the compact form); "Shape" is a v1 on rank 0 and a v2 on the last rank and
// travels in the reference map form, so versioning keeps working. RINGMESH_COMPACT=0
// sends everything in the reference form.
TEST(Schema, SameLayoutsTravelAsBlocksOthersInTheReferenceForm)
{
    DistRuntime d;
    const int last = d.size - 1;
    const char *env = getenv("RINGMESH_COMPACT");
    const bool compact = !(env && env[0] == '0');
    static rk_msg_type_t shape_v1 = renamed(ShapeV1_type(), "Shape"), shape_v2 = renamed(ShapeV2_type(), "Shape");
    ASSERT_EQ(rk_runtime_register_type(d.rt, d.rank == last ? &shape_v2 : &shape_v1), RK_OK);
    Mixed got;
    if (d.rank == last) {
        auto p = kparams("mixed", mixed_sink, &got);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK); // versions differ: reported, not an error
    const int n = 200;
    if (d.rank == 0) {
        for (int i = 1; i <= n; i++) { // interleaved: a block, then a map
            TestNum *t = make_num(i, 100 + i % 50, 0);
            t->value = 1000.0 * i;
            ASSERT_EQ(rk_send(d.rt, "mixed", &t->hdr), RK_OK);
            rk_msg_free(&t->hdr);
            rk_msg_t *m = nullptr;
            ASSERT_EQ(rk_msg_create(&shape_v1, 0, &m), RK_OK);
            reinterpret_cast<ShapeV1 *>(m)->a = i;
            ASSERT_EQ(rk_send(d.rt, "mixed", m), RK_OK);
            rk_msg_free(m);
        }
        rk_peer_stats_t s{};
        ASSERT_EQ(rk_runtime_get_peer_stats(d.rt, last, &s), RK_OK);
        EXPECT_EQ(s.compact_sent, compact ? (uint64_t)n : 0u) << "TestNum as blocks, Shape never";
    }
    if (d.rank == last) {
        for (int i = 0; i < 10000 && (got.nums.load() < n || got.shapes.load() < n); i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(got.nums.load(), n);
        EXPECT_EQ(got.shapes.load(), n);
        EXPECT_EQ(got.seq_sum.load(), (long)n * (n + 1) / 2 * 1001);
        EXPECT_EQ(got.a_sum.load(), (long)n * (n + 1) / 2);
        rk_peer_stats_t s{};
        ASSERT_EQ(rk_runtime_get_peer_stats(d.rt, 0, &s), RK_OK);
        EXPECT_EQ(s.compact_received, compact ? (uint64_t)n : 0u);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
