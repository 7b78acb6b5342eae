/*
 * bench_call.c - rk_call round trip against the stream path it replaces.
 *
 * An echo kernel answers each BenchNum with rk_ctx_reply. The same kernel is
 * driven two ways, alternated repetition by repetition in one run: rk_call
 * (a future per request, the reply matched by correlation_id) and the stream
 * path, rk_send then rk_receive (the local-rr / pingpong reply path). The
 * baseline is that stream path, so the ratio is what per-request replies cost.
 * One rank (LOCAL transport, on rank 0) always; with exactly 2 ranks also
 * across ranks (the kernel on rank 1, the caller on rank 0).
 */
#include "bench_types.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>

#define KID "call.echo"

/* @p n sequential round trips, by rk_call (@p by_call) or rk_send + rk_receive; latencies (us) into @p lat. */
static void round_trips(rk_runtime_t *rt, long n, int by_call, double *lat)
{
    for (long i = 0; i < n; i++) {
        BenchNum *req = bench_make_num(i, (double)i);
        rk_msg_t *rep;
        int64_t t0 = bench_now_ns();
        if (by_call) {
            BENCH_CHECK(rk_call(rt, KID, &req->hdr, 10000000, &rep));
        } else {
            BENCH_CHECK(rk_send(rt, KID, &req->hdr));
            BENCH_CHECK(rk_receive(rt, KID, 10000000, &rep));
        }
        lat[i] = (double)(bench_now_ns() - t0) / 1e3;
        if (((BenchNum *)rep)->seq != i) bench_die("call: a reply to another request", RK_ERR_MALFORMED);
        rk_msg_free(rep);
        rk_msg_free(&req->hdr);
    }
}

/* Alternate the two ways for @p reps repetitions (caller side) and emit the p50 line. */
static void measure(rk_runtime_t *rt, int ranks, const char *transport)
{
    int reps = bench_reps(7, 3);
    long n = bench_iters(5000, 300);
    double *lat = calloc((size_t)n, sizeof *lat), *call = calloc((size_t)reps, sizeof *call),
           *stream = calloc((size_t)reps, sizeof *stream);
    if (!lat || !call || !stream) bench_die("call", RK_ERR_NOMEM);
    round_trips(rt, n / 4 + 1, 1, lat); /* warm-up, both ways */
    round_trips(rt, n / 4 + 1, 0, lat);
    for (int r = 0; r < reps; r++) {
        bench_progress("call (%d rank%s) rep %d/%d", ranks, ranks > 1 ? "s" : "", r + 1, reps);
        int first = r & 1; /* which way goes first alternates */
        for (int w = 0; w < 2; w++) {
            int by_call = w == 0 ? first : !first;
            round_trips(rt, n, by_call, lat);
            (by_call ? call : stream)[r] = bench_percentile(lat, (size_t)n, 50);
        }
    }
    bench_result_t res = {.name = "call", .metric = "round_trip_p50_us", .unit = "us",
                          .value = bench_median(call, (size_t)reps),
                          .baseline = "rk_send + rk_receive round trip to the same kernel, same run",
                          .baseline_value = bench_median(stream, (size_t)reps), .better = BENCH_LOWER_IS_BETTER,
                          .size = (long)sizeof(BenchNum), .ranks = ranks, .iterations = n, .reps = reps,
                          .transport = transport, .samples = call, .baseline_samples = stream};
    bench_emit(&res);
    bench_progress("call (%d rank%s): rk_call p50 %.2f us, rk_send + rk_receive p50 %.2f us", ranks,
                   ranks > 1 ? "s" : "", res.value, res.baseline_value);
    free(lat);
    free(call);
    free(stream);
}

static void start_echo(rk_runtime_t *rt)
{
    rk_kernel_params_t kp = {0};
    kp.kernel_id = KID;
    kp.fn = bench_echo_body;
    BENCH_CHECK(rk_kernel_start(rt, &kp));
}

int bench_call(void)
{
    rk_runtime_t *rt;
    if (g_mpi.rank == 0) {
        BENCH_CHECK(rk_runtime_create(NULL, &rt)); /* one rank: LOCAL transport */
        BENCH_CHECK(bench_register_types(rt));
        start_echo(rt);
        measure(rt, 1, "local");
        BENCH_CHECK(rk_runtime_destroy(rt));
    }
    if (g_mpi.size != 2) {
        if (g_mpi.size > 2) bench_skip("call", "the 2-rank part needs exactly 2 ranks");
        else bench_progress("call: run under mpirun -n 2 for the 2-rank part");
        return 0;
    }
    bench_barrier();
    BENCH_CHECK(bench_runtime_dist(&rt));
    BENCH_CHECK(bench_register_types(rt));
    if (g_mpi.rank == 1) start_echo(rt);
    BENCH_CHECK(rk_runtime_sync(rt));
    if (g_mpi.rank == 0) measure(rt, 2, bench_transport_name());
    bench_barrier();
    BENCH_CHECK(rk_runtime_destroy(rt));
    return 0;
}
