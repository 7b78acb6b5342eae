// Metrics after known traffic and the merged trace file of a 2-rank
// request-response: valid JSON in the trace-event format, one process per
// rank, and flow arrows from each send to its dequeue.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <chrono>

#include "mpi_util.h"

namespace {


size_t count(const std::string &s, const std::string &what)
{
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) n++;
    return n;
}

}  // namespace

TEST(Observability, MetricsAndMergedTraceOfRequestResponse)
{
    const char *path = "/tmp/ringmesh-test-trace.json";
    setenv("RINGMESH_TRACE", path, 1);
    const int kRequests = 20;
    {
        DistRuntime d;
        int home = d.size - 1;
        if (d.rank == home) {
            auto p = kparams("echo", reply_same_seq);
            ASSERT_EQ(rk_kernel_start(d.rt, &p), RK_OK);
        }
        ASSERT_EQ(rk_runtime_sync(d.rt), RK_OK);
        if (d.rank == 0) {
            for (int i = 0; i < kRequests; i++) {
                TestNum *n = make_num(i);
                ASSERT_EQ(rk_send(d.rt, "echo", &n->hdr), RK_OK);
                rk_msg_t *out = nullptr;
                ASSERT_EQ(rk_receive(d.rt, "echo", 10000000, &out), RK_OK);
                rk_msg_free(out);
                rk_msg_free(&n->hdr);
            }
        }
        MPI_Barrier(MPI_COMM_WORLD);
        if (d.rank == home) {
            rk_kernel_stats_t st;
            // `sent` is counted once the transport took the reply, which may be
            // just after the requester already holds it: allow a moment.
            for (int i = 0; i < 1000; i++) {
                ASSERT_EQ(rk_kernel_get_stats(d.rt, "echo", &st), RK_OK);
                if (st.sent == (uint64_t)kRequests) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            EXPECT_EQ(st.inbox.enqueued, (uint64_t)kRequests);
            EXPECT_EQ(st.inbox.dequeued, (uint64_t)kRequests);
            EXPECT_EQ(st.sent, (uint64_t)kRequests);
            EXPECT_EQ(st.inbox.depth, 0u);
            EXPECT_GE(st.inbox.high_water, 1u);
            EXPECT_LE(st.inbox.wait_p50_ns, st.inbox.wait_p99_ns);
            EXPECT_LE(st.inbox.wait_p99_ns, st.inbox.wait_max_ns + st.inbox.wait_max_ns / 4 + 1);
        }
        if (d.size > 1 && d.rank == 0) {
            rk_peer_stats_t ps;
            ASSERT_EQ(rk_runtime_get_peer_stats(d.rt, home, &ps), RK_OK);
            EXPECT_GE(ps.frames_sent, (uint64_t)kRequests);
            EXPECT_GE(ps.frames_received, (uint64_t)kRequests);
            EXPECT_GT(ps.bytes_sent, (uint64_t)kRequests * 24);
            EXPECT_EQ(rk_runtime_get_peer_stats(d.rt, 0, &ps), RK_ERR_INVALID);  // not a peer of itself
        }
    }  // destroy writes the trace
    unsetenv("RINGMESH_TRACE");
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
        std::ifstream in(path);
        ASSERT_TRUE(in.good()) << "no trace file written";
        std::stringstream ss;
        ss << in.rdbuf();
        std::string t = ss.str();
        EXPECT_EQ(t.rfind("{\"displayTimeUnit\"", 0), 0u);
        EXPECT_EQ(count(t, "\"name\":\"send\""), (size_t)kRequests);
        EXPECT_EQ(count(t, "\"name\":\"reply\""), (size_t)kRequests);
        EXPECT_EQ(count(t, "\"name\":\"dequeue\""), 2u * kRequests);  // at the kernel and at the application
        EXPECT_EQ(count(t, "\"ph\":\"s\""), 2u * kRequests);          // flows start at send and reply
        EXPECT_EQ(count(t, "\"ph\":\"f\""), 2u * kRequests);          // and end at the dequeues
        for (int r = 0; r < size; r++)
            EXPECT_NE(t.find("\"name\":\"rank " + std::to_string(r) + "\""), std::string::npos);
        std::string cmd = std::string("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                                      "assert isinstance(d[\"traceEvents\"], list)' ") + path;
        if (system("command -v python3 >/dev/null 2>&1") == 0) EXPECT_EQ(system(cmd.c_str()), 0) << "invalid JSON";
        remove(path);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
