// ringmesh-shutdown [--reps N] [--seconds S]: nothing accepted is lost when
// ranks shut down right after traffic. Each repetition creates a runtime,
// floods for S seconds from every rank (app -> relay on another rank ->
// sink on a third, and app -> sink directly, small BLOCK mailboxes so frames
// wait for credits) and calls rk_runtime_destroy at once on every rank.
// After destroy every message rk_send accepted must have reached its sink:
// the accepted and received counts are summed over the ranks with MPI and
// compared. Prints each repetition's destroy time; exit 0 when every
// repetition lost nothing and no destroy failed.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "ringmesh/ringmesh.h"

#define DRILL(F) F(Drill, seq, INT, _) F(Drill, hops, INT, _)
RK_MESSAGE_DECLARE(Drill, DRILL)
RK_MESSAGE_DEFINE(Drill, DRILL)

namespace {

std::atomic<long> g_sunk{0}, g_relay_failed{0};

void sink(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        g_sunk++;
        rk_msg_free(m);
    }
}

void relay(rk_ctx_t *ctx, void *arg)
{
    const char *next = static_cast<const char *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        reinterpret_cast<Drill *>(m)->hops++;
        rk_status_t st = rk_ctx_send_to(ctx, next, m);
        if (st != RK_OK) {
            g_relay_failed++;
            fprintf(stderr, "relay: forward failed: %s\n", rk_status_str(st));
        }
        rk_msg_free(m);
    }
}

std::string id(const char *base, int rank) { return std::string(base) + std::to_string(rank); }

}  // namespace

int main(int argc, char **argv)
{
    int reps = 20;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else {
            printf("usage: mpirun -n N ringmesh-shutdown [--reps N] [--seconds S]\n"
                   "Floods every rank for S seconds, destroys at once; checks nothing accepted was lost.\n");
            return strcmp(argv[i], "--help") && strcmp(argv[i], "-h") ? 2 : 0;
        }
    }
    int provided, rank, size, bad = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int rep = 0; rep < reps; rep++) {
        g_sunk = 0;
        g_relay_failed = 0;
        rk_runtime_params_t p{};
        p.field_mask = RK_RUNTIME_FIELD_TRANSPORT | RK_RUNTIME_FIELD_CREDITS;
        p.transport = RK_TRANSPORT_AUTO;
        p.credits = 8; /* frames wait for credits at the moment of destroy */
        rk_runtime_t *rt = nullptr;
        if (rk_runtime_create(&p, &rt) != RK_OK) return 3;
        rk_runtime_register_type(rt, Drill_type());
        std::string sink_id = id("sink", rank), relay_id = id("relay", rank), next_sink = id("sink", (rank + 1) % size);
        rk_kernel_params_t ks{}, kr{};
        ks.kernel_id = sink_id.c_str();
        ks.fn = sink;
        ks.field_mask = RK_KERNEL_FIELD_CAPACITY;
        ks.capacity = 64;
        kr = ks;
        kr.kernel_id = relay_id.c_str();
        kr.fn = relay;
        kr.arg = const_cast<char *>(next_sink.c_str());
        kr.field_mask |= RK_KERNEL_FIELD_ARG;
        if (rk_kernel_start(rt, &ks) != RK_OK || rk_kernel_start(rt, &kr) != RK_OK) return 3;
        if (rk_runtime_sync(rt) != RK_OK) return 3;
        long accepted = 0, refused = 0;
        std::string to_relay = id("relay", (rank + 1) % size), to_sink = id("sink", (rank + size - 1) % size);
        auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        rk_msg_t *m = nullptr;
        rk_msg_create(Drill_type(), 0, &m);
        for (long i = 0; std::chrono::steady_clock::now() < end; i++) {
            reinterpret_cast<Drill *>(m)->seq = i;
            rk_msg_set_priority(m, (i % 7) ? 100 : 200);
            rk_status_t st = rk_send(rt, (i & 1) ? to_relay.c_str() : to_sink.c_str(), m);
            if (st == RK_OK) accepted++;
            else refused++;
        }
        rk_msg_free(m);
        auto t0 = std::chrono::steady_clock::now();
        rk_status_t dst = rk_runtime_destroy(rt); /* at once, on every rank */
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        long mine[4] = {accepted, g_sunk.load(), g_relay_failed.load(), dst != RK_OK}, all[4];
        MPI_Allreduce(mine, all, 4, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        double worst_ms = 0;
        MPI_Allreduce(&ms, &worst_ms, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        long lost = all[0] - all[1];
        if (rank == 0)
            printf("rep %2d: %d ranks: accepted %ld, delivered %ld, lost %ld, relay failures %ld, destroy failures %ld, "
                   "destroy %.1f ms (slowest rank)\n",
                   rep + 1, size, all[0], all[1], lost, all[2], all[3], worst_ms);
        fflush(stdout);
        if (lost || all[2] || all[3] || refused) bad = 1;
    }
    if (rank == 0) printf("shutdown drill: %s\n", bad ? "FAILED" : "PASSED (0 lost in every repetition)");
    MPI_Finalize();
    return bad;
}
