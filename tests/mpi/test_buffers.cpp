// Remote buffer fetch across ranks: each rank owns a buffer (one of them
// DEVICE_DIRTY, so the owner stages device -> host before sending) and every
// rank fetches every other rank's buffer by id.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../device_fill.h"
#include "mpi_util.h"

TEST(Buffers, EveryRankFetchesEveryOtherRanksBufferById)
{
    DistRuntime d;
    const size_t kSize = 200000;  // large enough for the rendezvous path
    rk_buffer_t *mine = nullptr;
    ASSERT_EQ(rk_buffer_create(d.rt, kSize, &mine), RK_OK);
    auto pattern = [&](size_t i) { return static_cast<char>((i + d.rank) & 0x7f); };
    if (d.rank % 2) {
        fill_device(mine, pattern);  // a GPU copy where the rank has a GPU
    } else {
        char *dst = static_cast<char *>(rk_buffer_host(mine));
        for (size_t i = 0; i < kSize; i++) dst[i] = pattern(i);
    }
    if (d.rank % 2) ASSERT_EQ(rk_buffer_mark_device_dirty(mine), RK_OK);
    else ASSERT_EQ(rk_buffer_mark_host_dirty(mine), RK_OK);
    unsigned long long id = rk_buffer_id(mine);
    std::vector<unsigned long long> ids(d.size);
    MPI_Allgather(&id, 1, MPI_UNSIGNED_LONG_LONG, ids.data(), 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    std::vector<char> got(kSize);
    for (int r = 0; r < d.size; r++) {
        size_t len = 0;
        ASSERT_EQ(rk_buffer_fetch(d.rt, ids[r], got.data(), got.size(), &len, 30000000), RK_OK) << "owner " << r;
        ASSERT_EQ(len, kSize);
        for (size_t i = 0; i < kSize; i += 997) ASSERT_EQ(got[i], static_cast<char>((i + r) & 0x7f));
    }
    size_t len = 0;
    char small[16];
    int other = (d.rank + 1) % d.size;
    EXPECT_EQ(rk_buffer_fetch(d.rt, ids[other], small, sizeof small, &len, 30000000), RK_ERR_TOO_LARGE);
    EXPECT_EQ(len, kSize);
    unsigned long long missing = ids[other] + 1000;  // the owner never made it
    EXPECT_EQ(rk_buffer_fetch(d.rt, missing, got.data(), got.size(), &len, 30000000), RK_ERR_NOT_FOUND);
    // Over UCX (unless RINGMESH_RMA=0) every fetch that succeeded read the owner's memory in place
    // by RMA; over MPI the owner sent the bytes.
    const char *tp = getenv("RINGMESH_TRANSPORT"), *rma = getenv("RINGMESH_RMA");
    bool by_rma = !(tp && strcmp(tp, "mpi") == 0) && !(rma && rma[0] == '0');
    std::string path = rk_buffer_remote_path(d.rt);
    if (d.size > 1) EXPECT_NE(path.find(by_rma ? "RMA" : "sent by the owner"), std::string::npos) << path;
    auto sum = [&](uint64_t rk_peer_stats_t::*field) {
        uint64_t n = 0;
        for (int r = 0; r < d.size; r++) {
            rk_peer_stats_t ps{};
            if (r != d.rank && rk_runtime_get_peer_stats(d.rt, r, &ps) == RK_OK) n += ps.*field;
        }
        return n;
    };
    EXPECT_EQ(sum(by_rma ? &rk_peer_stats_t::buffers_read : &rk_peer_stats_t::buffers_copied), (uint64_t)(d.size - 1));
    EXPECT_EQ(sum(by_rma ? &rk_peer_stats_t::buffers_copied : &rk_peer_stats_t::buffers_read), 0u);
    MPI_Barrier(MPI_COMM_WORLD);  // every rank's fetches are over: every loan is counted
    uint64_t lent = sum(&rk_peer_stats_t::buffers_lent);
    EXPECT_EQ(allsum((long long)lent), by_rma ? (long long)(d.size * d.size) : 0) // size - 1 good + 1 too large each
        << "loans to peers";
    EXPECT_EQ(rk_buffer_release(mine), RK_OK);
}

// A buffer released while a peer may be reading it: every fetch that succeeds
// returns the bytes it had (the memory is not reused under a reader, even though
// a new buffer of the same size, which could take it from the pool, is filled
// at once with other bytes); fetches after the release find nothing.
TEST(Buffers, ReleasedWhileBeingReadNeverTearsTheBytes)
{
    DistRuntime d;
    if (d.size < 2) GTEST_SKIP() << "needs two ranks";
    const size_t kSize = 4 << 20;
    unsigned long long id = 0;
    rk_buffer_t *b = nullptr;
    if (d.rank == 1) {
        ASSERT_EQ(rk_buffer_create(d.rt, kSize, &b), RK_OK);
        memset(rk_buffer_host(b), 'A', kSize);
        ASSERT_EQ(rk_buffer_mark_host_dirty(b), RK_OK);
        id = rk_buffer_id(b);
    }
    MPI_Bcast(&id, 1, MPI_UNSIGNED_LONG_LONG, 1, MPI_COMM_WORLD);
    if (d.rank == 0) {
        std::vector<char> got(kSize);
        int ok = 0;
        for (int i = 0; i < 100000; i++) {
            size_t len = 0;
            rk_status_t st = rk_buffer_fetch(d.rt, id, got.data(), got.size(), &len, 30000000);
            if (i == 0) MPI_Send(&i, 1, MPI_INT, 1, 7, MPI_COMM_WORLD); // the first read is under way: release
            if (st == RK_ERR_NOT_FOUND) break;
            ASSERT_EQ(st, RK_OK);
            ASSERT_EQ(len, kSize);
            for (size_t j = 0; j < kSize; j += 4093) ASSERT_EQ(got[j], 'A') << "fetch " << i << " byte " << j;
            ASSERT_EQ(got[kSize - 1], 'A');
            ok++;
        }
        EXPECT_GE(ok, 1);
    } else if (d.rank == 1) {
        int go = 0;
        MPI_Recv(&go, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        ASSERT_EQ(rk_buffer_release(b), RK_OK);
        for (int k = 0; k < 8; k++) { // new buffers of the same size take pooled memory at once
            rk_buffer_t *nb = nullptr;
            ASSERT_EQ(rk_buffer_create(d.rt, kSize, &nb), RK_OK);
            memset(rk_buffer_host(nb), 'B', kSize);
            ASSERT_EQ(rk_buffer_release(nb), RK_OK);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
