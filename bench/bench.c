/*
 * bench.c - ringmesh-bench: command line, benchmark table, MPI start-up.
 *
 * Every benchmark prints one JSON object per result line on stdout (rank 0
 * only) and progress on stderr. Baselines run in the same process, interleaved
 * with the measured code, and figures are medians over repetitions. MPI is
 * started only when a selected benchmark needs ranks or the program was
 * launched by mpirun; single-rank benchmarks then run on rank 0 while the
 * other ranks wait in a sleeping barrier.
 */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

typedef struct bench_def {
    const char *name;
    int (*fn)(void);
    int needs_mpi;
    const char *what;
} bench_def_t;

static const bench_def_t k_benches[] = {
    {"codec", bench_codec, 0,
     "encode+decode of a WorkRequest (16 floats, short str, header): rk_msg_serialize/"
     "rk_msg_deserialize_as vs hand-written msgpack-c; ns/op"},
    {"mailbox", bench_mailbox, 0,
     "1 producer -> 1 consumer thread through rk_mailbox (BLOCK, capacity 1024) vs a bare SPSC ring; msg/s"},
    {"local-rr", bench_local_rr, 0,
     "request -> host kernel -> rk_ctx_reply on one rank (LOCAL); p50/p99 us and round trips/s vs the "
     "seed's published Python figures"},
    {"call", bench_call, 0,
     "rk_call round trip (one rank; and across 2 ranks under mpirun -n 2) vs rk_send + rk_receive to the "
     "same kernel in the same run; us p50"},
    {"pingpong", bench_pingpong, 1,
     "2 ranks: kernel->kernel one-way latency (64 B .. 1 MiB) vs raw UCX AM and MPI_Send/Recv; us p50"},
    {"rate", bench_rate, 1, "2 ranks: 64 B messages/s rank 0 app -> kernel on rank 1 vs raw UCX AM streaming"},
    {"buffer-fetch", bench_buffer_fetch, 1,
     "2 ranks: rk_buffer_fetch on rank 0 of a 1 MiB / 64 MiB buffer owned by rank 1 vs raw UCX RMA "
     "(ucp_get_nbx of the same memory); GB/s"},
    {"pipeline", bench_pipeline, 1, "1, 2 or 4 ranks: msg/s through 4 stages (stage i on rank i % size)"},
    {"gpu-roundtrip", bench_gpu_roundtrip, 0,
     "host -> persistent GPU kernel -> host: ring p50/p99, streaming rate, and through the runtime "
     "(rk_send/rk_receive) vs a launch-per-message actor (runs ringmesh-gpu-bench; skipped without a GPU)"},
    {"gpu-k2k", bench_gpu_k2k, 0,
     "GPU kernel -> kernel through a device-memory ring, warp-copied slots vs one thread per side; msg/s"},
};
#define NBENCH (sizeof k_benches / sizeof k_benches[0])

static void list(FILE *f)
{
    for (size_t i = 0; i < NBENCH; i++) fprintf(f, "%-15s %s%s\n", k_benches[i].name, k_benches[i].what,
                                                k_benches[i].needs_mpi ? " [MPI]" : "");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ringmesh-bench [options] NAME... | all\n"
            "       mpirun -n 2 ringmesh-bench pingpong rate buffer-fetch   (2-rank benchmarks)\n"
            "\n"
            "options:\n"
            "  --list           list the benchmarks\n"
            "  --quick          tiny counts: a smoke test, the figures mean nothing\n"
            "  --reps N         repetitions (medians are over these)\n"
            "  --iters N        iterations per repetition\n"
            "  --quiet          no progress on stderr\n"
            "  --credits N      ringmesh runtime credits per flow (default: the library's, 64)\n"
            "  --size BYTES     pingpong: only this message size (64, 1024, 16384, 262144, 1048576);\n"
            "                   buffer-fetch: only this buffer size (1048576, 67108864)\n"
            "  --ucx-err-peer   raw UCX baseline endpoints use peer error handling, as ringmesh's do\n"
            "  --timer-slack-ns N  diagnosis: set the timer slack (inherited by every thread the\n"
            "                   runtime starts) so short sleeps in the library really are short\n"
            "  -h, --help       this text\n"
            "\n"
            "A NAME ending in '*' selects every benchmark with that prefix (e.g. 'gpu-*').\n"
            "Environment: RINGMESH_TRANSPORT=ucx|mpi picks ringmesh's transport for the\n"
            "multi-rank benchmarks (local-rr always uses the LOCAL transport).\n"
            "\n"
            "Output: one JSON object per line on stdout (rank 0), progress on stderr:\n"
            "  {\"name\", \"metric\", \"value\", \"unit\", [\"baseline\", \"baseline_value\", \"ratio\"],\n"
            "   \"params\": {\"size\", \"ranks\", \"iterations\", \"reps\", ...},\n"
            "   \"spread\": {\"value\": [min, max], [\"baseline_value\": [min, max], \"ratio\": [min, max]]}, ...}\n"
            "  or {\"name\", \"skipped\": \"why\"} when a benchmark cannot run here.\n"
            "value and baseline_value are medians over the repetitions; the baseline runs in\n"
            "the same process, interleaved with ringmesh; spread gives the extremes over the\n"
            "repetitions, and of the per-repetition ratios.\n"
            "ratio > 1 means ringmesh did better than the baseline:\n"
            "  times / latencies:  ratio = baseline_value / value\n"
            "  rates / throughput: ratio = value / baseline_value\n"
            "local-rr's baselines are the seed's PUBLISHED Python figures (21 us p50,\n"
            "76K msg/s per actor), not measured here.\n"
            "\n"
            "benchmarks ([MPI]: run under mpirun; pingpong, rate and buffer-fetch need exactly 2 ranks):\n");
    list(f);
}

static int matches(const char *pattern, const char *name)
{
    size_t n = strlen(pattern);
    if (strcmp(pattern, "all") == 0) return 1;
    if (n > 0 && pattern[n - 1] == '*') return strncmp(pattern, name, n - 1) == 0;
    return strcmp(pattern, name) == 0;
}

static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") ||
           getenv("MPI_LOCALNRANKS");
}

int main(int argc, char **argv)
{
    int selected[NBENCH] = {0}, nsel = 0, need_mpi = 0, rc = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            list(stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            g_opts.quick = 1;
        } else if (!strcmp(a, "--quiet")) {
            g_opts.verbose = 0;
        } else if (!strcmp(a, "--ucx-err-peer")) {
            g_opts.ucx_err_peer = 1;
        } else if (!strcmp(a, "--timer-slack-ns") && i + 1 < argc) {
            long v = strtol(argv[++i], NULL, 10);
            if (v <= 0 || prctl(PR_SET_TIMERSLACK, (unsigned long)v, 0, 0, 0) != 0) {
                fprintf(stderr, "ringmesh-bench: --timer-slack-ns needs a positive number\n");
                return 1;
            }
        } else if (!strcmp(a, "--credits") && i + 1 < argc) {
            g_opts.credits = strtol(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--size") && i + 1 < argc) {
            g_opts.only_size = strtol(argv[++i], NULL, 10);
        } else if ((!strcmp(a, "--reps") || !strcmp(a, "--iters")) && i + 1 < argc) {
            long v = strtol(argv[++i], NULL, 10);
            if (v <= 0) {
                fprintf(stderr, "ringmesh-bench: %s needs a positive number\n", a);
                return 1;
            }
            if (!strcmp(a, "--reps")) g_opts.reps = (int)v;
            else g_opts.iters = v;
        } else if (a[0] == '-') {
            fprintf(stderr, "ringmesh-bench: unknown option %s\n", a);
            usage(stderr);
            return 1;
        } else {
            int hit = 0;
            for (size_t b = 0; b < NBENCH; b++)
                if (matches(a, k_benches[b].name)) {
                    hit = 1;
                    if (!selected[b]) nsel++;
                    selected[b] = 1;
                }
            if (!hit) {
                fprintf(stderr, "ringmesh-bench: no benchmark named '%s' (try --list)\n", a);
                return 1;
            }
        }
    }
    if (nsel == 0) {
        usage(stderr);
        return 1;
    }
    for (size_t b = 0; b < NBENCH; b++) need_mpi |= selected[b] && k_benches[b].needs_mpi;
    if ((need_mpi || launched_by_mpirun()) && bench_mpi_start() != 0) {
        fprintf(stderr, "ringmesh-bench: MPI_Init_thread failed\n");
        return 1;
    }
    for (size_t b = 0; b < NBENCH; b++) {
        if (!selected[b]) continue;
        if (k_benches[b].needs_mpi || g_mpi.rank == 0) bench_progress("running %s", k_benches[b].name);
        rc |= k_benches[b].fn();
        bench_barrier();
    }
    bench_mpi_stop();
    return rc;
}
