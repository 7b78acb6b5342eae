// ringmesh-peer-failure: the last rank dies (SIGKILL) in the middle of a run.
// The survivors must get RK_ERR_PEER for it within 1 s instead of hanging,
// keep delivering to each other with nothing lost, and finish their
// shutdown. Run under `mpirun --enable-recovery` (the launcher then lets the
// survivors finish), with any transport ($RINGMESH_TRANSPORT) and with or
// without UCX peer errors ($RINGMESH_PEER_ERRORS).
//
// Survivor accounting: every survivor floods every other survivor's sink
// before, during and after the death; after rk_runtime_destroy each writes
// what its sends accepted and what its sink received, per peer, to a file
// in a directory rank 0 chose (MPI collectives cannot be used once a rank is
// dead); rank 0 compares them. Exit 0 when the failure was seen in time, no
// message between survivors was lost, and every destroy returned RK_ERR_PEER.
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../test_types.h"

namespace {

const int kMaxRanks = 64;
std::atomic<long> g_from[kMaxRanks]; /* sink: received per sender rank */

void echo(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_ctx_reply(ctx, m, m);
        rk_msg_free(m);
    }
}

void sink(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        long s = reinterpret_cast<TestNum *>(m)->sender;
        if (s >= 0 && s < kMaxRanks) g_from[s]++;
        rk_msg_free(m);
    }
}

std::string sink_of(int r) { return "sink" + std::to_string(r); }

}  // namespace

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        printf("usage: mpirun --enable-recovery -n N ringmesh-peer-failure\n"
               "Kills the last rank mid-run; checks that the survivors see RK_ERR_PEER within 1 s, lose\n"
               "nothing between themselves and shut down. Transport from RINGMESH_TRANSPORT.\n");
        return strcmp(argv[i], "--help") && strcmp(argv[i], "-h") ? 2 : 0;
    }
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > kMaxRanks) return 2;
    char dir[256] = {0};
    if (rank == 0) {
        snprintf(dir, sizeof dir, "%s/ringmesh-peer-failure-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) return 3;
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);

    rk_runtime_params_t p{};
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
    p.transport = RK_TRANSPORT_AUTO;
    rk_runtime_t *rt = nullptr;
    if (rk_runtime_create(&p, &rt) != RK_OK) return 3;
    rk_runtime_register_type(rt, TestNum_type());
    const int victim = size - 1;
    rk_kernel_params_t kp{};
    std::string me = sink_of(rank);
    kp.kernel_id = me.c_str();
    kp.fn = sink;
    rk_kernel_start(rt, &kp);
    if (rank == victim) {
        rk_kernel_params_t kd{};
        kd.kernel_id = "doomed";
        kd.fn = echo;
        rk_kernel_start(rt, &kd);
    }
    rk_runtime_sync(rt);
    auto t_sync = std::chrono::steady_clock::now();
    if (rank == victim) {
        usleep(200000);
        raise(SIGKILL); /* dies without a word to anyone */
    }

    /* survivors: flood the other survivors' sinks for 1.5 s, across the death */
    std::vector<long> sent(size, 0);
    std::thread flood([&] {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
        for (long i = 0; std::chrono::steady_clock::now() < end; i++)
            for (int to = 0; to < victim; to++) {
                if (to == rank) continue;
                TestNum *n = make_num(i, (i % 5) ? 100 : 200, rank);
                std::string id = sink_of(to);
                if (rk_send(rt, id.c_str(), &n->hdr) == RK_OK) sent[to]++;
                rk_msg_free(&n->hdr);
            }
    });

    rk_status_t st = RK_OK;
    for (int i = 0; st == RK_OK || st == RK_ERR_TIMEOUT; i++) {
        TestNum *n = make_num(i);
        rk_msg_t *out = nullptr;
        st = rk_send_timeout(rt, "doomed", &n->hdr, 1000000);
        if (st == RK_OK) st = rk_receive(rt, "doomed", 1000000, &out);
        rk_msg_free(out);
        rk_msg_free(&n->hdr);
        if (std::chrono::steady_clock::now() - t_sync > std::chrono::seconds(60)) break;
    }
    double detect = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sync).count() - 0.2;
    printf("rank %d: failure seen %.3f s after the kill: %s\n", rank, detect, rk_status_str(st));
    flood.join();
    rk_status_t dst = rk_runtime_destroy(rt); /* must not hang on the dead rank */
    printf("rank %d: shutdown: %s\n", rank, rk_status_str(dst));

    /* accounting between survivors, through files (MPI cannot be used with a dead rank) */
    int ok = st == RK_ERR_PEER && dst == RK_ERR_PEER && detect <= 1.0;
    std::string mine = std::string(dir) + "/rank" + std::to_string(rank);
    FILE *f = fopen((mine + ".tmp").c_str(), "w");
    if (!f) return 3;
    fprintf(f, "%d\n", ok);
    for (int j = 0; j < size; j++) fprintf(f, "%ld %ld\n", sent[j], g_from[j].load());
    fclose(f);
    rename((mine + ".tmp").c_str(), mine.c_str());
    if (rank == 0) {
        std::vector<std::vector<long>> s(victim, std::vector<long>(size)), g(victim, std::vector<long>(size));
        for (int i = 0; i < victim; i++) {
            std::string path = std::string(dir) + "/rank" + std::to_string(i);
            FILE *in = nullptr;
            for (int w = 0; w < 600 && !(in = fopen(path.c_str(), "r")); w++) usleep(50000);
            if (!in) {
                printf("survivors: rank %d wrote no tally\n", i);
                ok = 0;
                continue;
            }
            int their_ok = 0;
            if (fscanf(in, "%d", &their_ok) != 1 || !their_ok) {
                printf("survivors: rank %d did not see the failure in time or did not shut down cleanly\n", i);
                ok = 0;
            }
            for (int j = 0; j < size; j++)
                if (fscanf(in, "%ld %ld", &s[i][j], &g[i][j]) != 2) ok = 0;
            fclose(in);
            remove(path.c_str());
        }
        long total = 0, lost = 0;
        for (int i = 0; i < victim; i++)
            for (int j = 0; j < victim; j++) {
                if (i == j) continue;
                total += s[i][j];
                lost += s[i][j] - g[j][i];
            }
        printf("survivors: %ld accepted between survivors, %ld lost\n", total, lost);
        if (lost || (victim > 1 && total == 0)) ok = 0;
        rmdir(dir);
        printf("peer failure: %s\n", ok ? "PASSED" : "FAILED");
    }
    fflush(stdout);
    _exit(ok ? 0 : 1); /* MPI_Finalize cannot complete with a dead peer */
}
