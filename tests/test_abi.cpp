// ABI: the library's version matches the header it is used with, and params
// structs stay compatible with callers written for an older version: a caller
// names the fields it sets in field_mask, and every other field is ignored
// however much garbage it holds, with the documented default in its place.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "test_types.h"

namespace {

constexpr unsigned char kGarbage = 0xAB;

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

rk_runtime_params_t garbage_runtime_params()
{
    rk_runtime_params_t p;
    std::memset(&p, kGarbage, sizeof p);
    return p;
}

rk_kernel_params_t garbage_kernel_params(const char *id, rk_kernel_fn fn)
{
    rk_kernel_params_t p;
    std::memset(&p, kGarbage, sizeof p);
    p.kernel_id = id;
    p.fn = fn;
    return p;
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

// The first @p n bytes of @p src placed so that they end exactly at a
// PROT_NONE page: a read past them faults in any build, with or without ASan.
// This is how a program built against an older, shorter params struct looks.
class GuardedCopy {
  public:
    GuardedCopy(const void *src, size_t n) : n_(n)
    {
        page_ = (size_t)sysconf(_SC_PAGESIZE);
        base_ = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base_ == MAP_FAILED) base_ = nullptr;
        if (base_ && mprotect(static_cast<char *>(base_) + page_, page_, PROT_NONE) != 0) {
            munmap(base_, 2 * page_);
            base_ = nullptr;
        }
        if (base_) std::memcpy(at(), src, n);
    }
    ~GuardedCopy()
    {
        if (base_) munmap(base_, 2 * page_);
    }
    bool ok() const { return base_ != nullptr; }
    void *at() const { return static_cast<char *>(base_) + page_ - n_; }

  private:
    void *base_ = nullptr;
    size_t page_ = 0, n_;
};

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

// field_mask = 0 and everything else 0xAB: a LOCAL runtime with the defaults.
TEST(Abi, RuntimeParamsWithNoFieldBitsIgnoreGarbage)
{
    rk_runtime_params_t p = garbage_runtime_params();
    p.field_mask = 0;
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(&p, &rt), RK_OK);
    EXPECT_EQ(rk_runtime_rank(rt), 0);
    EXPECT_EQ(rk_runtime_size(rt), 1);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    ASSERT_EQ(rk_runtime_sync(rt), RK_OK);  // LOCAL: a no-op, not a garbage transport
    auto k = garbage_kernel_params("abi-echo", echo_body);
    k.field_mask = 0;
    ASSERT_EQ(rk_kernel_start(rt, &k), RK_OK);
    expect_round_trip(rt, "abi-echo", 1);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// A caller of the first version that sets only the transport bit.
TEST(Abi, RuntimeParamsWithOnlyOldFieldBits)
{
    rk_runtime_params_t p = garbage_runtime_params();
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
    p.transport = RK_TRANSPORT_LOCAL;
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(&p, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    auto k = garbage_kernel_params("abi-echo", echo_body);
    k.field_mask = 0;
    ASSERT_EQ(rk_kernel_start(rt, &k), RK_OK);
    expect_round_trip(rt, "abi-echo", 2);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// kernel_id + fn + field_mask = 0, the rest 0xAB: capacity 1024, BLOCK, no
// dedup, arg NULL, host backend, no device body.
TEST(Abi, KernelParamsWithNoFieldBitsUseDefaults)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    auto p = garbage_kernel_params("abi-k", echo_body);
    p.field_mask = 0;
    ASSERT_EQ(rk_kernel_create(rt, &p), RK_OK);

    // Capacity 1024 under BLOCK: the 1025th put waits (here: times out at once);
    // REJECT would say RK_ERR_FULL and DROP_OLDEST RK_ERR_DROPPED.
    rk_status_t refused = RK_OK;
    EXPECT_EQ(fill_inbox(rt, "abi-k", 1100, &refused), 1024u);
    EXPECT_EQ(refused, RK_ERR_TIMEOUT);
    rk_kernel_stats_t s;
    ASSERT_EQ(rk_kernel_get_stats(rt, "abi-k", &s), RK_OK);
    EXPECT_EQ(s.inbox.depth, 1024u);
    EXPECT_EQ(s.inbox.rejected, 0u);
    EXPECT_EQ(s.inbox.dropped, 0u);
    uint32_t undelivered = 0;
    ASSERT_EQ(rk_kernel_launch(rt, "abi-k"), RK_OK);  // LAUNCHED: runs, does not dequeue
    ASSERT_EQ(rk_kernel_terminate(rt, "abi-k", 0, &undelivered), RK_OK);
    EXPECT_EQ(undelivered, 1024u);

    // Running: arg is NULL (not 0xABAB...), no dedup (a repeated message_id is
    // processed twice), outputs come back.
    g_arg_was_null = -1;
    auto q = garbage_kernel_params("abi-run", echo_body);
    q.field_mask = 0;
    ASSERT_EQ(rk_kernel_start(rt, &q), RK_OK);
    TestNum *req = make_num(7);
    for (int i = 0; i < 2; i++) ASSERT_EQ(rk_send_timeout(rt, "abi-run", &req->hdr, 5000000), RK_OK);
    for (int i = 0; i < 2; i++) {
        rk_msg_t *out = nullptr;
        ASSERT_EQ(rk_receive(rt, "abi-run", 5000000, &out), RK_OK);
        EXPECT_TRUE(rk_uuid_equal(&out->correlation_id, &req->hdr.message_id));
        rk_msg_free(out);
    }
    rk_msg_free(&req->hdr);
    EXPECT_EQ(g_arg_was_null.load(), 1);
    ASSERT_EQ(rk_kernel_get_stats(rt, "abi-run", &s), RK_OK);
    EXPECT_EQ(s.processed, 2u);
    EXPECT_EQ(s.duplicates, 0u);
    rk_kernel_state_t state;
    ASSERT_EQ(rk_kernel_state(rt, "abi-run", &state), RK_OK);
    EXPECT_EQ(state, RK_STATE_ACTIVE);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// Only some older bits set: those fields are read, the others still default.
TEST(Abi, KernelParamsWithOnlySomeFieldBits)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    auto p = garbage_kernel_params("abi-small", sink_body);
    p.field_mask = RK_KERNEL_FIELD_CAPACITY | RK_KERNEL_FIELD_STRATEGY;
    p.capacity = 4;
    p.strategy = RK_BP_REJECT;
    ASSERT_EQ(rk_kernel_create(rt, &p), RK_OK);
    rk_status_t refused = RK_OK;
    EXPECT_EQ(fill_inbox(rt, "abi-small", 10, &refused), 4u);
    EXPECT_EQ(refused, RK_ERR_FULL);

    auto q = garbage_kernel_params("abi-cap", sink_body);
    q.field_mask = RK_KERNEL_FIELD_CAPACITY;  // strategy not named: BLOCK
    q.capacity = 8;
    ASSERT_EQ(rk_kernel_create(rt, &q), RK_OK);
    EXPECT_EQ(fill_inbox(rt, "abi-cap", 10, &refused), 8u);
    EXPECT_EQ(refused, RK_ERR_TIMEOUT);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// Bits the caller sets are still validated: a required field left as garbage
// is not silently accepted.
TEST(Abi, NamedFieldsAreStillValidated)
{
    rk_runtime_params_t p = garbage_runtime_params();
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;  // transport = 0xABABABAB
    rk_runtime_t *rt = nullptr;
    EXPECT_EQ(rk_runtime_create(&p, &rt), RK_ERR_INVALID);
    EXPECT_EQ(rt, nullptr);

    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    auto k = garbage_kernel_params("abi-bad-backend", sink_body);
    k.field_mask = RK_KERNEL_FIELD_BACKEND;  // backend = 0xABABABAB
    EXPECT_EQ(rk_kernel_create(rt, &k), RK_ERR_INVALID);
    rk_kernel_state_t state;
    EXPECT_EQ(rk_kernel_state(rt, "abi-bad-backend", &state), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// A program built against the 0.1 layout, before rk_runtime_params_t::gpu was
// appended: its struct ends where gpu begins. Only fields named in field_mask
// may be read, so nothing past its end is touched.
TEST(Abi, RuntimeParamsOfAnOlderShorterStruct)
{
    rk_runtime_params_t p = garbage_runtime_params();
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT | RK_RUNTIME_FIELD_CREDITS;
    p.transport = RK_TRANSPORT_LOCAL;
    p.credits = 8;
    GuardedCopy old(&p, offsetof(rk_runtime_params_t, gpu));
    ASSERT_TRUE(old.ok());
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(static_cast<const rk_runtime_params_t *>(old.at()), &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    auto k = garbage_kernel_params("abi-echo", echo_body);
    k.field_mask = 0;
    ASSERT_EQ(rk_kernel_start(rt, &k), RK_OK);
    expect_round_trip(rt, "abi-echo", 3);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}

// The same for rk_kernel_params_t, whose 0.1 layout ends where `device` was
// appended: a library that copied the whole struct would fault here.
TEST(Abi, KernelParamsOfAnOlderShorterStruct)
{
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(nullptr, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestNum_type()), RK_OK);
    auto p = garbage_kernel_params("abi-old", echo_body);
    p.field_mask = RK_KERNEL_FIELD_CAPACITY;
    p.capacity = 16;
    GuardedCopy old(&p, offsetof(rk_kernel_params_t, device));
    ASSERT_TRUE(old.ok());
    ASSERT_EQ(rk_kernel_start(rt, static_cast<const rk_kernel_params_t *>(old.at())), RK_OK);
    expect_round_trip(rt, "abi-old", 4);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}
