// The router's wire frames: single frames and batches (several frames in one
// transport message). Encode, split, and every kind of malformed batch:
// truncated at every prefix, lying lengths, wrong counts, nesting, a bad
// inner frame. A malformed batch must fail frame_parse with a status (the
// router then counts it as one unreadable frame) and never read outside it.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "route/frame.h"
}

namespace {

using Bytes = std::vector<uint8_t>;

Bytes one_frame(uint8_t kind, const std::string &name, const Bytes &payload, uint32_t seq, uint8_t prio = 128,
                uint32_t src = 3, uint32_t aux = 0)
{
    frame_t f{};
    f.kind = kind;
    f.priority = prio;
    f.name_len = (uint16_t)name.size();
    f.seq = seq;
    f.src_rank = src;
    f.aux = aux;
    f.payload_len = (uint32_t)payload.size();
    Bytes out(frame_size(name.size(), payload.size()));
    frame_write(out.data(), &f, name.data(), payload.data());
    return out;
}

// A batch of the given frames, as the router builds it (header, then the frames back to back).
Bytes batch_of(const std::vector<Bytes> &frames, uint32_t src = 3, int count_delta = 0)
{
    Bytes out(RK_FRAME_HDR);
    for (const auto &f : frames) out.insert(out.end(), f.begin(), f.end());
    frame_t b{};
    b.kind = FRAME_BATCH;
    b.priority = 200;
    b.seq = 7;
    b.src_rank = src;
    b.aux = (uint32_t)((int)frames.size() + count_delta);
    b.payload_len = (uint32_t)(out.size() - RK_FRAME_HDR);
    frame_write_hdr(out.data(), &b);
    return out;
}

std::vector<Bytes> sample_frames()
{
    std::vector<Bytes> v;
    v.push_back(one_frame(FRAME_MSG, "sink", {1, 2, 3, 4}, 10, 250));
    v.push_back(one_frame(FRAME_OUTPUT, "stage.1", {}, 11, 128));
    v.push_back(one_frame(FRAME_PUBLISH, "topic", Bytes(300, 0xab), 12, 5));
    v.push_back(one_frame(FRAME_CREDIT, "sink", {}, 13, FRAME_MSG, 3, 32));
    return v;
}

}  // namespace

TEST(Frame, SingleFrameRoundTrip)
{
    Bytes f = one_frame(FRAME_MSG, "k", {9, 8, 7}, 42, 77);
    frame_t p;
    ASSERT_EQ(frame_parse(f.data(), f.size(), &p), RK_OK);
    EXPECT_EQ(p.kind, FRAME_MSG);
    EXPECT_EQ(p.priority, 77);
    EXPECT_EQ(p.seq, 42u);
    EXPECT_EQ(p.payload_len, 3u);
    EXPECT_EQ(std::string(p.name, p.name_len), "k");
    frame_set_seq(f.data(), 43);
    ASSERT_EQ(frame_parse(f.data(), f.size(), &p), RK_OK);
    EXPECT_EQ(p.seq, 43u);
}

TEST(Frame, BatchSplitsBackIntoTheSameFramesInOrder)
{
    auto frames = sample_frames();
    Bytes b = batch_of(frames);
    frame_t batch, sub;
    ASSERT_EQ(frame_parse(b.data(), b.size(), &batch), RK_OK);
    EXPECT_EQ(batch.kind, FRAME_BATCH);
    EXPECT_EQ(batch.aux, frames.size());
    EXPECT_EQ(batch.name_len, 0u);
    size_t off = 0, n = 0, raw_len = 0;
    const uint8_t *raw = nullptr;
    rk_status_t st;
    while ((st = frame_batch_next(&batch, &off, &sub, &raw, &raw_len)) == RK_OK) {
        ASSERT_LT(n, frames.size());
        EXPECT_EQ(Bytes(raw, raw + raw_len), frames[n]) << "frame " << n;
        frame_t alone;
        ASSERT_EQ(frame_parse(frames[n].data(), frames[n].size(), &alone), RK_OK);
        EXPECT_EQ(sub.kind, alone.kind);
        EXPECT_EQ(sub.seq, alone.seq);
        EXPECT_EQ(sub.priority, alone.priority);
        EXPECT_EQ(sub.aux, alone.aux);
        EXPECT_EQ(sub.payload_len, alone.payload_len);
        EXPECT_EQ(std::string(sub.name, sub.name_len), std::string(alone.name, alone.name_len));
        EXPECT_EQ(0, memcmp(sub.payload, alone.payload, sub.payload_len));
        n++;
    }
    EXPECT_EQ(st, RK_ERR_NOT_FOUND);
    EXPECT_EQ(n, frames.size());
    EXPECT_EQ(off, b.size() - RK_FRAME_HDR);
    // Stepping past the end stays at the end.
    EXPECT_EQ(frame_batch_next(&batch, &off, &sub, &raw, &raw_len), RK_ERR_NOT_FOUND);
}

TEST(Frame, BatchOfOneIsWellFormed)
{
    Bytes b = batch_of({one_frame(FRAME_MSG, "x", {1}, 0)});
    frame_t batch;
    EXPECT_EQ(frame_parse(b.data(), b.size(), &batch), RK_OK);
}

TEST(Frame, BatchTruncatedAtEveryPrefixFailsWithoutReadingPastIt)
{
    Bytes b = batch_of(sample_frames());
    for (size_t len = 0; len < b.size(); len++) {
        Bytes copy(b.begin(), b.begin() + (long)len);  // exact size: ASan sees a read past it
        frame_t f;
        EXPECT_NE(frame_parse(copy.data(), len, &f), RK_OK) << "prefix " << len;
    }
}

TEST(Frame, BatchWhoseInnerLengthsLieIsRefused)
{
    auto frames = sample_frames();
    Bytes b = batch_of(frames);
    frame_t f;
    // The second inner frame claims a payload running past the batch.
    size_t second = RK_FRAME_HDR + frames[0].size();
    Bytes lie = b;
    lie[second + 20] = 0xff;
    lie[second + 23] = 0xff;
    EXPECT_EQ(frame_parse(lie.data(), lie.size(), &f), RK_ERR_TRUNCATED);
    // ... or a shorter one: the rest no longer lines up with a frame header.
    lie = b;
    lie[second + 6] = 0;  // name_len 7 -> 0 shifts everything after it
    EXPECT_NE(frame_parse(lie.data(), lie.size(), &f), RK_OK);
    // The outer payload length disagrees with the bytes received.
    lie = b;
    lie[20] ^= 1;
    EXPECT_NE(frame_parse(lie.data(), lie.size(), &f), RK_OK);
    // Inner name too long (over RK_FRAME_NAME_MAX).
    lie = b;
    lie[second + 6] = 0xff;
    lie[second + 7] = 0xff;
    EXPECT_NE(frame_parse(lie.data(), lie.size(), &f), RK_OK);
}

TEST(Frame, BatchCountMustMatchTheFrames)
{
    auto frames = sample_frames();
    frame_t f;
    Bytes more = batch_of(frames, 3, +1), fewer = batch_of(frames, 3, -1), zero = batch_of({});
    EXPECT_EQ(frame_parse(more.data(), more.size(), &f), RK_ERR_DECODE);
    EXPECT_EQ(frame_parse(fewer.data(), fewer.size(), &f), RK_ERR_DECODE);
    EXPECT_EQ(frame_parse(zero.data(), zero.size(), &f), RK_ERR_DECODE);
}

TEST(Frame, BatchWithTrailingBytesOrAShortTailIsRefused)
{
    auto frames = sample_frames();
    Bytes b = batch_of(frames);
    frame_t f;
    // 10 stray bytes inside the payload after the last frame (outer length covers them).
    Bytes tail = b;
    tail.insert(tail.end(), 10, 0);
    uint32_t pl = (uint32_t)(tail.size() - RK_FRAME_HDR);
    memcpy(&tail[20], &pl, 4);  // little-endian hosts only, as the router
    EXPECT_EQ(frame_parse(tail.data(), tail.size(), &f), RK_ERR_TRUNCATED);
    // A whole extra header's worth of zeros: not a frame (bad magic).
    tail.insert(tail.end(), RK_FRAME_HDR, 0);
    pl = (uint32_t)(tail.size() - RK_FRAME_HDR);
    memcpy(&tail[20], &pl, 4);
    EXPECT_EQ(frame_parse(tail.data(), tail.size(), &f), RK_ERR_DECODE);
}

TEST(Frame, BatchesNeverNestAndComeFromOneRank)
{
    frame_t f;
    Bytes inner = batch_of({one_frame(FRAME_MSG, "a", {1}, 0)});
    Bytes nested = batch_of({inner});
    EXPECT_EQ(frame_parse(nested.data(), nested.size(), &f), RK_ERR_DECODE);
    Bytes mixed = batch_of({one_frame(FRAME_MSG, "a", {1}, 0, 128, 3), one_frame(FRAME_MSG, "a", {1}, 1, 128, 4)}, 3);
    EXPECT_EQ(frame_parse(mixed.data(), mixed.size(), &f), RK_ERR_DECODE);
}

TEST(Frame, BatchWithABadInnerFrameIsRefusedWhole)
{
    auto frames = sample_frames();
    frame_t f;
    Bytes b = batch_of(frames);
    size_t third = RK_FRAME_HDR + frames[0].size() + frames[1].size();
    Bytes bad = b;
    bad[third] ^= 0xff;  // magic
    EXPECT_EQ(frame_parse(bad.data(), bad.size(), &f), RK_ERR_DECODE);
    bad = b;
    bad[third + 4] = 0;  // kind 0
    EXPECT_EQ(frame_parse(bad.data(), bad.size(), &f), RK_ERR_DECODE);
    bad = b;
    bad[third + 4] = FRAME_KIND_MAX_;  // unknown kind
    EXPECT_EQ(frame_parse(bad.data(), bad.size(), &f), RK_ERR_DECODE);
    // A batch with a name is not a batch.
    Bytes named(RK_FRAME_HDR);
    frame_t h{};
    h.kind = FRAME_BATCH;
    h.name_len = 1;
    h.src_rank = 3;
    h.aux = (uint32_t)frames.size();
    h.payload_len = (uint32_t)(b.size() - RK_FRAME_HDR);
    frame_write_hdr(named.data(), &h);
    named.push_back('n');
    named.insert(named.end(), b.begin() + RK_FRAME_HDR, b.end());
    EXPECT_EQ(frame_parse(named.data(), named.size(), &f), RK_ERR_DECODE);
}

TEST(Frame, BatchNextRefusesMisuse)
{
    Bytes single = one_frame(FRAME_MSG, "k", {1}, 0);
    frame_t f, sub;
    size_t off = 0;
    ASSERT_EQ(frame_parse(single.data(), single.size(), &f), RK_OK);
    EXPECT_EQ(frame_batch_next(&f, &off, &sub, nullptr, nullptr), RK_ERR_INVALID);  // not a batch
    Bytes b = batch_of(sample_frames());
    ASSERT_EQ(frame_parse(b.data(), b.size(), &f), RK_OK);
    off = f.payload_len + 1;
    EXPECT_EQ(frame_batch_next(&f, &off, &sub, nullptr, nullptr), RK_ERR_INVALID);  // offset past the end
    EXPECT_EQ(frame_batch_next(nullptr, &off, &sub, nullptr, nullptr), RK_ERR_INVALID);
}

TEST(Frame, RandomCorruptionOfABatchNeverCrashes)
{
    Bytes b = batch_of(sample_frames());
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        Bytes c = b;
        for (int k = 0; k < 1 + round % 4; k++) {
            x = x * 1664525u + 1013904223u;
            c[(x >> 8) % c.size()] = (uint8_t)(x >> 24);
        }
        x = x * 1664525u + 1013904223u;
        size_t len = (round % 3 == 0) ? (x >> 8) % (c.size() + 1) : c.size();
        Bytes exact(c.begin(), c.begin() + (long)len);
        frame_t f, sub;
        if (frame_parse(exact.data(), len, &f) != RK_OK || f.kind != FRAME_BATCH) continue;
        size_t off = 0, raw_len;
        const uint8_t *raw;
        uint32_t n = 0;
        rk_status_t st;
        while ((st = frame_batch_next(&f, &off, &sub, &raw, &raw_len)) == RK_OK) {
            ASSERT_GE(raw, exact.data());
            ASSERT_LE(raw + raw_len, exact.data() + len);
            n++;
        }
        EXPECT_EQ(st, RK_ERR_NOT_FOUND);
        EXPECT_EQ(n, f.aux);
    }
}
