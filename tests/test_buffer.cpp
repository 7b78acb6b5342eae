// Unified buffers on one rank: the host/device dirty state machine, sync in
// both directions, ids, the pool, and local fetch by id.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "device_fill.h"
#include "ringmesh/ringmesh.h"
#include "unit_util.h"
extern "C" {
#include "route/host.h" // the loans the router makes for peers' RMA reads
}

namespace {

// Write the device copy the way a kernel would (cudaMemcpy where it is on a GPU).
void write_device(rk_buffer_t *b, char c)
{
    fill_device(b, [c](size_t) { return c; });
}

}  // namespace

TEST(Buffer, DirtyStatesAndSyncInBothDirections)
{
    Runtime r;
    rk_buffer_t *b = nullptr;
    ASSERT_EQ(rk_buffer_create(r.rt, 100, &b), RK_OK);
    EXPECT_EQ(rk_buffer_state(b), RK_BUF_CLEAN);
    EXPECT_EQ(rk_buffer_size(b), 100u);
    EXPECT_NE(rk_buffer_id(b), 0u);
    memset(rk_buffer_host(b), 'h', 100);
    ASSERT_EQ(rk_buffer_mark_host_dirty(b), RK_OK);
    EXPECT_EQ(rk_buffer_state(b), RK_BUF_HOST_DIRTY);
    EXPECT_EQ(rk_buffer_mark_device_dirty(b), RK_ERR_STATE);  // would lose the host write
    ASSERT_EQ(rk_buffer_sync(b), RK_OK);                        // host -> device
    EXPECT_EQ(rk_buffer_state(b), RK_BUF_CLEAN);
    EXPECT_EQ(read_device(b), std::vector<char>(100, 'h'));
    write_device(b, 'd');
    ASSERT_EQ(rk_buffer_mark_device_dirty(b), RK_OK);
    EXPECT_EQ(rk_buffer_mark_host_dirty(b), RK_ERR_STATE);
    ASSERT_EQ(rk_buffer_sync(b), RK_OK);  // device -> host
    EXPECT_EQ(static_cast<char *>(rk_buffer_host(b))[99], 'd');
    EXPECT_EQ(rk_buffer_sync(b), RK_OK);  // clean: nothing to do
    ASSERT_EQ(rk_buffer_release(b), RK_OK);
}

TEST(Buffer, FetchByIdGivesTheNewestBytesAndReleasedIdsStopResolving)
{
    Runtime r;
    rk_buffer_t *b = nullptr;
    ASSERT_EQ(rk_buffer_create(r.rt, 64, &b), RK_OK);
    write_device(b, 'x');
    ASSERT_EQ(rk_buffer_mark_device_dirty(b), RK_OK);
    char out[64] = {};
    size_t len = 0;
    ASSERT_EQ(rk_buffer_fetch(r.rt, rk_buffer_id(b), out, sizeof out, &len, 1000000), RK_OK);
    EXPECT_EQ(len, 64u);
    EXPECT_EQ(out[0], 'x');                       // staged from the device copy
    EXPECT_EQ(rk_buffer_state(b), RK_BUF_CLEAN);  // the fetch synced it
    char small[8];
    EXPECT_EQ(rk_buffer_fetch(r.rt, rk_buffer_id(b), small, sizeof small, &len, 0), RK_ERR_TOO_LARGE);
    rk_buffer_id_t id = rk_buffer_id(b);
    rk_buffer_t *found = nullptr;
    ASSERT_EQ(rk_buffer_find(r.rt, id, &found), RK_OK);
    EXPECT_EQ(found, b);
    ASSERT_EQ(rk_buffer_release(b), RK_OK);
    EXPECT_EQ(rk_buffer_find(r.rt, id, &found), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_buffer_fetch(r.rt, id, out, sizeof out, &len, 0), RK_ERR_NOT_FOUND);
    EXPECT_EQ(rk_buffer_fetch(r.rt, 0, out, sizeof out, &len, 0), RK_ERR_INVALID);
}

TEST(Buffer, PoolReusesMemoryWithFreshIdsAndZeroedBytes)
{
    Runtime r;
    rk_buffer_t *a = nullptr, *b = nullptr;
    ASSERT_EQ(rk_buffer_create(r.rt, 1000, &a), RK_OK);
    memset(rk_buffer_host(a), 7, 1000);
    void *mem = rk_buffer_host(a);
    rk_buffer_id_t old = rk_buffer_id(a);
    ASSERT_EQ(rk_buffer_release(a), RK_OK);
    ASSERT_EQ(rk_buffer_create(r.rt, 900, &b), RK_OK);  // same size class
    EXPECT_EQ(rk_buffer_host(b), mem);
    EXPECT_NE(rk_buffer_id(b), old);
    EXPECT_EQ(static_cast<unsigned char *>(rk_buffer_host(b))[0], 0);
    EXPECT_EQ(rk_buffer_release(b), RK_OK);
    EXPECT_EQ(rk_buffer_release(b), RK_ERR_NOT_FOUND);  // twice
}

TEST(Buffer, ManyLiveBuffersResolve)
{
    Runtime r;
    std::vector<rk_buffer_t *> bufs(300);
    for (auto &b : bufs) ASSERT_EQ(rk_buffer_create(r.rt, 16, &b), RK_OK);
    for (size_t i = 0; i < bufs.size(); i += 2) ASSERT_EQ(rk_buffer_release(bufs[i]), RK_OK);
    for (size_t i = 1; i < bufs.size(); i += 2) {
        rk_buffer_t *f = nullptr;
        ASSERT_EQ(rk_buffer_find(r.rt, rk_buffer_id(bufs[i]), &f), RK_OK);
        EXPECT_EQ(f, bufs[i]);
    }
    rk_buffer_t *b = nullptr;
    EXPECT_EQ(rk_buffer_create(r.rt, 0, &b), RK_ERR_INVALID);
    EXPECT_STREQ(rk_buffer_remote_path(r.rt), "local only (no distributed transport)");
}

// A buffer lent to a peer for an RMA read keeps its memory until the loan comes
// back, even when it is released meanwhile and new buffers of its size are made
// (which would otherwise take its memory from the pool and overwrite it).
TEST(Buffer, LentMemoryIsNotReusedUntilTheLoanReturns)
{
    Runtime r;
    const size_t kSize = 1 << 20;
    rk_buffer_t *a = nullptr;
    ASSERT_EQ(rk_buffer_create(r.rt, kSize, &a), RK_OK);
    memset(rk_buffer_host(a), 'A', kSize);
    ASSERT_EQ(rk_buffer_mark_host_dirty(a), RK_OK);
    rk_buffer_id_t id = rk_buffer_id(a);
    rk_host_lend_t l{};
    ASSERT_EQ(rk_host_buffer_lend(r.rt, id, 0, &l), RK_OK);
    EXPECT_EQ(l.size, kSize);
    EXPECT_GE(l.cap, kSize);
    EXPECT_EQ(l.device, 0);
    const char *lent = static_cast<const char *>(l.addr);
    ASSERT_EQ(rk_buffer_release(a), RK_OK);
    rk_buffer_t *found = nullptr;
    EXPECT_EQ(rk_buffer_find(r.rt, id, &found), RK_ERR_NOT_FOUND); // the id stops resolving at once
    rk_host_lend_t again{};
    EXPECT_EQ(rk_host_buffer_lend(r.rt, id, 0, &again), RK_ERR_NOT_FOUND);
    std::vector<rk_buffer_t *> fresh(4);
    for (auto &b : fresh) {
        ASSERT_EQ(rk_buffer_create(r.rt, kSize, &b), RK_OK);
        EXPECT_NE(rk_buffer_host(b), l.addr);
        memset(rk_buffer_host(b), 'B', kSize);
    }
    for (size_t i = 0; i < kSize; i += 4096) ASSERT_EQ(lent[i], 'A') << i;
    rk_host_buffer_return(r.rt, l.buf);
    for (auto b : fresh) ASSERT_EQ(rk_buffer_release(b), RK_OK);
    // returned, its memory is pooled again and a new buffer may take it (zeroed)
    bool reused = false;
    for (int i = 0; i < 8; i++) {
        rk_buffer_t *c = nullptr;
        ASSERT_EQ(rk_buffer_create(r.rt, kSize, &c), RK_OK);
        reused |= rk_buffer_host(c) == l.addr;
        EXPECT_EQ(static_cast<const char *>(rk_buffer_host(c))[0], 0);
        fresh.push_back(c);
    }
    EXPECT_TRUE(reused);
    for (size_t i = 4; i < fresh.size(); i++) ASSERT_EQ(rk_buffer_release(fresh[i]), RK_OK);
}
