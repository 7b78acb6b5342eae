// Remote buffer fetch across ranks: each rank owns a buffer (one of them
// DEVICE_DIRTY, so the owner stages device -> host before sending) and every
// rank fetches every other rank's buffer by id.
#include <cstring>
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
    if (d.size > 1) EXPECT_NE(std::string(rk_buffer_remote_path(d.rt)).find("staged"), std::string::npos);
    MPI_Barrier(MPI_COMM_WORLD);  // nobody releases a buffer a peer is still fetching
    EXPECT_EQ(rk_buffer_release(mine), RK_OK);
}
