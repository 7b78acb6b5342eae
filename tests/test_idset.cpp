// The bounded id map behind dedup and reply routing.
#include <gtest/gtest.h>

#include <vector>

extern "C" {
#include "util/idset.h"
}

TEST(IdSet, KeepsEveryEntryUpToTheWindowDespiteCollisions)
{
    idset_t s;
    ASSERT_EQ(idset_init(&s, 5000), RK_OK);
    std::vector<rk_uuid_t> ids(5000);
    for (int i = 0; i < 5000; i++) {
        rk_uuid_generate(&ids[i]);
        idset_put(&s, &ids[i], i);
    }
    for (int i = 0; i < 5000; i++) {
        int32_t v = -1;
        ASSERT_EQ(idset_find(&s, &ids[i], &v), 1) << i;
        EXPECT_EQ(v, i);
    }
    idset_free(&s);
}

TEST(IdSet, EvictsTheOldestWhenFullAndRemovesCleanly)
{
    idset_t s;
    ASSERT_EQ(idset_init(&s, 4), RK_OK);
    rk_uuid_t ids[6];
    for (int i = 0; i < 6; i++) {
        rk_uuid_generate(&ids[i]);
        idset_put(&s, &ids[i], i);
    }
    EXPECT_EQ(idset_find(&s, &ids[0], nullptr), 0);  // evicted
    EXPECT_EQ(idset_find(&s, &ids[1], nullptr), 0);
    int32_t v;
    EXPECT_EQ(idset_remove_get(&s, &ids[4], &v), 1);
    EXPECT_EQ(v, 4);
    EXPECT_EQ(idset_find(&s, &ids[4], nullptr), 0);
    EXPECT_EQ(s.count, 3u);
    // The window counts insertions: ids[5] is among the last 4 until 4 more arrive.
    rk_uuid_t fresh;
    rk_uuid_generate(&fresh);
    idset_put(&s, &fresh, 99);
    EXPECT_EQ(idset_find(&s, &ids[5], &v), 1);
    EXPECT_EQ(v, 5);
    for (int round = 0; round < 10000; round++) {  // churn: tombstones must not pile up
        rk_uuid_t u;
        rk_uuid_generate(&u);
        idset_put(&s, &u, round);
        ASSERT_EQ(idset_find(&s, &u, &v), 1);
        ASSERT_EQ(idset_remove(&s, &u), 1);
    }
    EXPECT_LE(s.tombs, s.window / 2);
    EXPECT_EQ(idset_find(&s, &ids[5], nullptr), 0);  // aged out of the window
    idset_free(&s);
}
