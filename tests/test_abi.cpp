// ABI and params: the library's version matches the header it is used with;
// params structs are written with designated initializers, every field set is
// read as written and every field left zero takes its default (field_mask only
// marks a zero that is meant literally); a bad value is refused, never ignored.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <chrono>

#include "test_types.h"

namespace {

// Echo kernel that also records whether it saw a NULL arg.
std::atomic<int> g_arg_was_null{-1};

void echo_body(rk_ctx_t *ctx, void *arg)
{
    g_arg_was_null = arg == nullptr && rk_ctx_arg(ctx) == nullptr;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        auto *req = reinterpret_cast<TestNum *>(m);
        TestNum *rep = make_num(req->seq);
        rep->value = req->value * 2;
        rk_ctx_reply(ctx, m, &rep->hdr);
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
    }
}

void sink_body(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) == RK_OK) rk_msg_free(m);
    }
}

// One request through the echo kernel `id`, checked for correlation and value.
void expect_round_trip(rk_runtime_t *rt, const char *id, int64_t seq)
{
    TestNum *req = make_num(seq);
    req->value = 21;
    ASSERT_EQ(rk_send_timeout(rt, id, &req->hdr, 5000000), RK_OK);
    rk_msg_t *out = nullptr;
    ASSERT_EQ(rk_receive(rt, id, 5000000, &out), RK_OK);
    EXPECT_TRUE(rk_uuid_equal(&out->correlation_id, &req->hdr.message_id));
    EXPECT_EQ(reinterpret_cast<TestNum *>(out)->value, 42.0);
    rk_msg_free(out);
    rk_msg_free(&req->hdr);
}

// Fill the inbox of a CREATED (not yet running) kernel without waiting; returns
// how many messages it accepted and the status of the first refused one.
uint32_t fill_inbox(rk_runtime_t *rt, const char *id, uint32_t limit, rk_status_t *refused)
{
    uint32_t n = 0;
    *refused = RK_OK;
    for (; n < limit; n++) {
        TestNum *m = make_num(n);
        rk_status_t st = rk_send_timeout(rt, id, &m->hdr, 0);
        rk_msg_free(&m->hdr);
        if (st != RK_OK) {
            *refused = st;
            break;
        }
    }
    return n;
}

}  // namespace

TEST(Abi, VersionMatchesHeaderMacros)
{
    char want[32];
    std::snprintf(want, sizeof want, "%d.%d.%d", RINGMESH_VERSION_MAJOR, RINGMESH_VERSION_MINOR,
                  RINGMESH_VERSION_PATCH);
    ASSERT_NE(rk_version(), nullptr);
    EXPECT_STREQ(rk_version(), want);
    EXPECT_EQ(RINGMESH_VERSION,
              RINGMESH_VERSION_MAJOR * 10000 + RINGMESH_VERSION_MINOR * 100 + RINGMESH_VERSION_PATCH);
    int major = -1, minor = -1, patch = -1;
    ASSERT_EQ(std::sscanf(rk_version(), "%d.%d.%d", &major, &minor, &patch), 3);
    EXPECT_EQ(major * 10000 + minor * 100 + patch, RINGMESH_VERSION);
}

// A zeroed struct is every default: LOCAL, one rank, a kernel that serves.
TEST(Params, ZeroInitializedRuntimeParamsAreTheDefaults)
{
    rk_runtime_params_t p = {};
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(&p, &rt), RK_OK);
    EXPECT_EQ(rk_runtime_rank(rt), 0);
    EXPECT_EQ(rk_runtime_size(rt), 1);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    ASSERT_EQ(rk_runtime_sync(rt), RK_OK);  // LOCAL: a no-op
    rk_kernel_params_t k = {.kernel_id = "abi-echo", .fn = echo_body};
    ASSERT_EQ(rk_kernel_start(rt, &k), RK_OK);
    expect_round_trip(rt, "abi-echo", 1);
    EXPECT_EQ(g_arg_was_null.load(), 1);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// send_timeout_us set without its bit is the wait rk_send uses (the default is 30 s).
TEST(Params, RuntimeFieldSetWithoutItsBitIsRead)
{
    rk_runtime_params_t p = {.send_timeout_us = 2000};
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(&p, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    rk_kernel_params_t k = {.kernel_id = "abi-full", .fn = sink_body, .capacity = 1};
    ASSERT_EQ(rk_kernel_create(rt, &k), RK_OK);  // CREATED: nothing takes from the inbox
    TestNum *m = make_num(1);
    ASSERT_EQ(rk_send(rt, "abi-full", &m->hdr), RK_OK);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(rk_send(rt, "abi-full", &m->hdr), RK_ERR_TIMEOUT);
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GE(waited, 0.001);
    EXPECT_LT(waited, 5.0) << "send_timeout_us was ignored";
    rk_msg_free(&m->hdr);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// A zero meant literally: its bit makes send_timeout_us = 0 "do not wait".
TEST(Params, ABitMakesAZeroLiteral)
{
    rk_runtime_params_t p = {.field_mask = RK_RUNTIME_FIELD_SEND_TIMEOUT, .send_timeout_us = 0};
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(&p, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    rk_kernel_params_t k = {.kernel_id = "abi-full", .fn = sink_body, .capacity = 1};
    ASSERT_EQ(rk_kernel_create(rt, &k), RK_OK);
    TestNum *m = make_num(1);
    ASSERT_EQ(rk_send(rt, "abi-full", &m->hdr), RK_OK);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(rk_send(rt, "abi-full", &m->hdr), RK_ERR_TIMEOUT);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
    rk_msg_free(&m->hdr);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// The example, as a C programmer writes it: REJECT with capacity 2.
TEST(Params, KernelDesignatedInitializerBehavesAsWritten)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    rk_kernel_params_t k = {.kernel_id = "abi-reject", .fn = sink_body, .capacity = 2, .strategy = RK_BP_REJECT};
    ASSERT_EQ(rk_kernel_create(rt, &k), RK_OK);
    rk_status_t refused = RK_OK;
    EXPECT_EQ(fill_inbox(rt, "abi-reject", 5, &refused), 2u);
    EXPECT_EQ(refused, RK_ERR_FULL);

    rk_kernel_params_t d = {.kernel_id = "abi-drop", .fn = sink_body, .capacity = 3, .strategy = RK_BP_DROP_OLDEST};
    ASSERT_EQ(rk_kernel_create(rt, &d), RK_OK);
    EXPECT_EQ(fill_inbox(rt, "abi-drop", 5, &refused), 5u);  // the oldest make room
    rk_kernel_stats_t s;
    ASSERT_EQ(rk_kernel_get_stats(rt, "abi-drop", &s), RK_OK);
    EXPECT_EQ(s.inbox.depth, 3u);
    EXPECT_EQ(s.inbox.dropped, 2u);

    rk_kernel_params_t b = {.kernel_id = "abi-block", .fn = sink_body, .capacity = 3};  // strategy left: BLOCK
    ASSERT_EQ(rk_kernel_create(rt, &b), RK_OK);
    EXPECT_EQ(fill_inbox(rt, "abi-block", 5, &refused), 3u);
    EXPECT_EQ(refused, RK_ERR_TIMEOUT);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

std::atomic<int> g_handled{0};
void count_handler(rk_ctx_t *, const rk_msg_t *, void *arg) { static_cast<std::atomic<int> *>(arg)->fetch_add(1); }

// arg, dedup_window and on_message set without their bits.
TEST(Params, KernelOptionalFieldsWithoutBits)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    g_handled = 0;
    rk_kernel_params_t k = {.kernel_id = "abi-handler", .arg = &g_handled, .dedup_window = 8,
                            .on_message = count_handler};
    ASSERT_EQ(rk_kernel_start(rt, &k), RK_OK);
    TestNum *m = make_num(3);
    for (int i = 0; i < 3; i++) ASSERT_EQ(rk_send(rt, "abi-handler", &m->hdr), RK_OK);  // one id, 3 times
    TestNum *other = make_num(4);
    ASSERT_EQ(rk_send(rt, "abi-handler", &other->hdr), RK_OK);
    rk_kernel_stats_t s{};
    for (int i = 0; i < 500 && (s.processed + s.duplicates < 4); i++) {
        ASSERT_EQ(rk_kernel_get_stats(rt, "abi-handler", &s), RK_OK);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(g_handled.load(), 2);  // the handler saw each id once, with its arg
    EXPECT_EQ(s.duplicates, 2u);
    rk_msg_free(&m->hdr);
    rk_msg_free(&other->hdr);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// A value set is checked, with or without its bit: never silently ignored.
TEST(Params, BadValuesAreRefused)
{
    rk_runtime_t *rt = nullptr;
    rk_runtime_params_t bad_transport = {.transport = (rk_transport_kind_t)99};
    EXPECT_EQ(rk_runtime_create(&bad_transport, &rt), RK_ERR_INVALID);
    EXPECT_EQ(rt, nullptr);
    rk_runtime_params_t zero_credits = {.field_mask = RK_RUNTIME_FIELD_CREDITS, .credits = 0};
    EXPECT_EQ(rk_runtime_create(&zero_credits, &rt), RK_ERR_INVALID);
    rk_runtime_params_t zero_max = {.field_mask = RK_RUNTIME_FIELD_MAX_MESSAGE, .max_message = 0};
    EXPECT_EQ(rk_runtime_create(&zero_max, &rt), RK_ERR_INVALID);

    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    rk_kernel_params_t bad_backend = {.kernel_id = "abi-bad", .fn = sink_body, .backend = (rk_backend_t)77};
    EXPECT_EQ(rk_kernel_create(rt, &bad_backend), RK_ERR_INVALID);
    rk_kernel_params_t bad_strategy = {.kernel_id = "abi-bad", .fn = sink_body, .strategy = (rk_backpressure_t)9};
    EXPECT_EQ(rk_kernel_create(rt, &bad_strategy), RK_ERR_INVALID);
    rk_kernel_params_t two_bodies = {.kernel_id = "abi-bad", .fn = sink_body, .on_message = count_handler};
    EXPECT_EQ(rk_kernel_create(rt, &two_bodies), RK_ERR_INVALID);
    rk_kernel_params_t no_body = {.kernel_id = "abi-bad"};
    EXPECT_EQ(rk_kernel_create(rt, &no_body), RK_ERR_INVALID);
    rk_kernel_state_t state;
    EXPECT_EQ(rk_kernel_state(rt, "abi-bad", &state), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}
