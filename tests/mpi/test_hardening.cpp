// Bad input at the cross-rank entries: corrupted frames, malformed batches and
// unknown message types from a peer are counted and skipped (traffic goes on), a terminated
// remote kernel is refused at the sender, oversized messages are refused.
#include <chrono>
#include <cstring>
#include <thread>

#include "mpi_util.h"
extern "C" {
#include "msg/msg_internal.h"
#include "route/frame.h"
#include "route/router.h"
#include "runtime/runtime_internal.h"
}

#define TEST_SECRET(F) F(TestSecret, code, INT, _)
RK_MESSAGE_DECLARE(TestSecret, TEST_SECRET)
RK_MESSAGE_DEFINE(TestSecret, TEST_SECRET)

namespace {


bool round_trip(rk_runtime_t *rt, const char *kernel, int64_t seq)
{
    TestNum *n = make_num(seq);
    rk_msg_t *out = nullptr;
    bool ok = rk_send(rt, kernel, &n->hdr) == RK_OK && rk_receive(rt, kernel, 10000000, &out) == RK_OK &&
              reinterpret_cast<TestNum *>(out)->seq == seq;
    rk_msg_free(out);
    rk_msg_free(&n->hdr);
    return ok;
}

// A frame header by hand (little-endian), kind MSG, for kernel `name`.
std::vector<uint8_t> frame_bytes(const char *name, const std::vector<uint8_t> &payload, int src)
{
    frame_t f{};
    f.kind = FRAME_MSG;
    f.priority = 128;
    f.name_len = (uint16_t)strlen(name);
    f.src_rank = (uint32_t)src;
    f.payload_len = (uint32_t)payload.size();
    std::vector<uint8_t> out(frame_size(f.name_len, payload.size()));
    frame_write(out.data(), &f, name, payload.data());
    return out;
}

// A batch (FRAME_BATCH header + frames back to back) claiming @p count frames.
std::vector<uint8_t> batch_bytes(const std::vector<std::vector<uint8_t>> &frames, uint32_t count, int src)
{
    std::vector<uint8_t> out(RK_FRAME_HDR);
    for (const auto &f : frames) out.insert(out.end(), f.begin(), f.end());
    frame_t b{};
    b.kind = FRAME_BATCH;
    b.src_rank = (uint32_t)src;
    b.aux = count;
    b.payload_len = (uint32_t)(out.size() - RK_FRAME_HDR);
    frame_write_hdr(out.data(), &b);
    return out;
}

router_t *router_of(rk_runtime_t *rt);

}  // namespace

// The runtime's router is internal; the test reaches it through the internal header.
namespace {
router_t *router_of(rk_runtime_t *rt) { return reinterpret_cast<router_t *>(rt->router); }
}  // namespace

TEST(Hardening, CorruptFramesAndUnknownTypesAreCountedAndTrafficGoesOn)
{
    DistRuntime d;
    if (d.size < 2) GTEST_SKIP() << "needs 2 ranks";
    const int target = 1;
    if (d.rank == target) {
        auto p = kparams("echo", reply_same_seq);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    int injected = 0;
    if (d.rank == 0) {
        uint8_t garbage[64];
        for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)(i * 37 + 11);
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, garbage, sizeof garbage, 0), RK_OK);  // bad magic
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, garbage, 7, 0), RK_OK);                // truncated
        auto f = frame_bytes("echo", {0xc1, 0xc1, 0xc1}, 0);  // well-formed frame, garbage msgpack
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, f.data(), f.size(), 1), RK_OK);
        auto lie = frame_bytes("echo", {}, 0);  // claims more payload than it has
        lie[20] = 200;
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, lie.data(), lie.size(), 0), RK_OK);
        // Malformed batches: each is refused whole and counted once.
        auto good = frame_bytes("echo", {}, 0);
        auto nine = batch_bytes({good, good}, 9, 0);  // claims 9 frames, holds 2
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, nine.data(), nine.size(), 0), RK_OK);
        auto cut = batch_bytes({good, good}, 2, 0);  // second frame cut short, lengths patched to match
        cut.resize(cut.size() - 3);
        uint32_t pl = (uint32_t)(cut.size() - RK_FRAME_HDR);
        memcpy(&cut[20], &pl, 4);
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, cut.data(), cut.size(), 0), RK_OK);
        auto nested = batch_bytes({batch_bytes({good}, 1, 0)}, 1, 0);  // a batch inside a batch
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, nested.data(), nested.size(), 0), RK_OK);
        injected = 7;
        // Compact forms (a block): an unknown layout hash, and TestNum's hash on a block
        // whose size field lies and whose view points outside it.
        std::vector<uint8_t> blk(8 + sizeof(TestNum), 0);
        blk[0] = 0xc1;
        blk[1] = 1;
        uint32_t bogus = 0x12345678u;
        std::memcpy(&blk[4], &bogus, 4);
        auto unknown = frame_bytes("echo", blk, 0);
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, unknown.data(), unknown.size(), 1), RK_OK);
        TestNum *n = make_num(1);
        uint32_t h = rk_type_block_hash(TestNum_type());
        std::memcpy(&blk[4], &h, 4);
        std::memcpy(&blk[8], n, sizeof(TestNum));
        rk_msg_free(&n->hdr);
        rk_msg_t *w = reinterpret_cast<rk_msg_t *>(&blk[8]);
        w->size = 1u << 20;  // a lie: the block is sizeof(TestNum) bytes
        auto lying = frame_bytes("echo", blk, 0);
        ASSERT_EQ(router_inject_raw(router_of(d.rt), target, lying.data(), lying.size(), 1), RK_OK);
        injected += 2;
        rk_msg_t *secret = nullptr;  // a type the target never registered
        ASSERT_EQ(rk_msg_create(TestSecret_type(), 0, &secret), RK_OK);
        ASSERT_EQ(rk_runtime_register_type(d.rt, TestSecret_type()), RK_OK);
        ASSERT_EQ(rk_send(d.rt, "echo", secret), RK_OK);  // accepted here, unreadable there
        injected++;
        rk_msg_free(secret);
        EXPECT_TRUE(round_trip(d.rt, "echo", 42)) << "traffic must continue after bad frames";
    }
    long long expected = allsum(injected);
    MPI_Barrier(MPI_COMM_WORLD);
    if (d.rank == target) {
        rk_peer_stats_t ps{};
        for (int i = 0; i < 500; i++) {
            ASSERT_EQ(rk_runtime_get_peer_stats(d.rt, 0, &ps), RK_OK);
            if ((long long)ps.frames_unreadable >= expected) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_EQ((long long)ps.frames_unreadable, expected);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST(Hardening, SendToATerminatedRemoteKernelIsRefusedAtTheSender)
{
    DistRuntime d;
    int home = d.size - 1;
    if (d.rank == home) {
        auto p = kparams("victim", reply_same_seq);
        ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
    }
    ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
    if (d.rank == home) ASSERT_EQ(rk_kernel_terminate(d.rt, "victim", 100000, nullptr), RK_OK);
    MPI_Barrier(MPI_COMM_WORLD);
    rk_status_t st = RK_OK;
    for (int i = 0; i < 500 && st != RK_ERR_TERMINATED; i++) {  // the news travels asynchronously
        TestNum *n = make_num(i);
        st = rk_send_timeout(d.rt, "victim", &n->hdr, 1000000);
        rk_msg_free(&n->hdr);
        if (st != RK_ERR_TERMINATED) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(st, RK_ERR_TERMINATED);
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_receive(d.rt, "victim", 1000000, &out), RK_ERR_TERMINATED);
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST(Hardening, OversizedMessagesAreRefused)
{
    rk_runtime_params_t p{};
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT | RK_RUNTIME_FIELD_MAX_MESSAGE;
    p.transport = RK_TRANSPORT_AUTO;
    p.max_message = 4096;
    rk_runtime_t *rt = nullptr;
    ASSERT_EQ(rk_runtime_create(&p, &rt), RK_OK);
    ASSERT_EQ(rk_runtime_register_type(rt, TestText_type()), RK_OK);
    int rank = rk_runtime_rank(rt), size = rk_runtime_size(rt);
    std::string id = "sink@" + std::to_string(rank);
    auto kp = kparams(id.c_str(), reply_same_seq);
    ASSERT_EQ(rk_kernel_start(rt, &kp), RK_OK);
    ASSERT_EQ(rk_runtime_sync(rt), RK_OK);
    rk_msg_t *big = nullptr;
    ASSERT_EQ(rk_msg_create(TestText_type(), 0, &big), RK_OK);
    std::string text(10000, 'x');
    ASSERT_EQ(rk_msg_set_str(&big, offsetof(TestText, text), text.c_str(), text.size()), RK_OK);
    EXPECT_EQ(rk_send(rt, id.c_str(), big), RK_ERR_TOO_LARGE);  // local kernel
    std::string other = "sink@" + std::to_string((rank + 1) % size);
    EXPECT_EQ(rk_send(rt, other.c_str(), big), RK_ERR_TOO_LARGE);  // remote kernel
    rk_msg_free(big);
    EXPECT_EQ(rk_runtime_destroy(rt), RK_OK);
}
