/*
 * bench_local.c - request -> kernel -> reply on one rank (LOCAL transport).
 *
 * A host kernel answers each BenchNum request with rk_ctx_reply; the
 * application does rk_send then rk_receive. Reported: round-trip latency
 * p50 / p99 (one request in flight), sequential round trips per second, and
 * messages per second through the one kernel with 64 requests in flight.
 * There is no baseline run here: the ratios compare with the seed's
 * *published* Python figures (21 us p50 request-reply, 76K msg/s per actor),
 * which were measured elsewhere on other hardware.
 */
#include "bench_types.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>

#define PUBLISHED_P50_US 21.0
#define PUBLISHED_MSGS_PER_S 76000.0
#define WINDOW 64
#define KID "rr.echo"

static void take_reply(rk_runtime_t *rt, int64_t want_seq)
{
    rk_msg_t *out;
    BENCH_CHECK(rk_receive(rt, KID, 10000000, &out));
    if (want_seq >= 0 && ((BenchNum *)out)->seq != want_seq) bench_die("local-rr: reply out of order", RK_ERR_MALFORMED);
    rk_msg_free(out);
}

/* One request at a time; per-iteration latencies (us) into @p lat; returns round trips / s. */
static double sequential(rk_runtime_t *rt, long n, double *lat)
{
    int64_t start = bench_now_ns();
    for (long i = 0; i < n; i++) {
        BenchNum *req = bench_make_num(i, (double)i);
        int64_t t0 = bench_now_ns();
        BENCH_CHECK(rk_send(rt, KID, &req->hdr));
        take_reply(rt, i);
        lat[i] = (double)(bench_now_ns() - t0) / 1e3;
        rk_msg_free(&req->hdr);
    }
    return (double)n / ((double)(bench_now_ns() - start) / 1e9);
}

/* WINDOW requests in flight; returns requests answered per second. */
static double windowed(rk_runtime_t *rt, long n)
{
    BenchNum *req = bench_make_num(0, 1.0);
    long sent = 0, got = 0;
    int64_t t0 = bench_now_ns();
    while (got < n) {
        while (sent < n && sent - got < WINDOW) {
            req->seq = sent++;
            BENCH_CHECK(rk_send(rt, KID, &req->hdr));
        }
        take_reply(rt, got++);
    }
    double r = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
    rk_msg_free(&req->hdr);
    return r;
}

int bench_local_rr(void)
{
    int reps = bench_reps(7, 3);
    long n = bench_iters(5000, 300);
    rk_runtime_t *rt;
    rk_kernel_params_t kp = {0};
    double *lat, *p50, *p99, *rts, *win;
    char extra[160];

    if (g_mpi.rank != 0) return 0;
    lat = calloc((size_t)n, sizeof *lat);
    p50 = calloc((size_t)reps, sizeof *p50);
    p99 = calloc((size_t)reps, sizeof *p99);
    rts = calloc((size_t)reps, sizeof *rts);
    win = calloc((size_t)reps, sizeof *win);
    if (!lat || !p50 || !p99 || !rts || !win) bench_die("local-rr", RK_ERR_NOMEM);
    BENCH_CHECK(rk_runtime_create(NULL, &rt)); /* NULL params: LOCAL transport */
    BENCH_CHECK(bench_register_types(rt));
    kp.kernel_id = KID;
    kp.fn = bench_echo_body;
    BENCH_CHECK(rk_kernel_start(rt, &kp));
    sequential(rt, n / 4 + 1, lat); /* warm-up */
    windowed(rt, n / 4 + 1);
    for (int r = 0; r < reps; r++) {
        bench_progress("local-rr rep %d/%d", r + 1, reps);
        rts[r] = sequential(rt, n, lat);
        p99[r] = bench_percentile(lat, (size_t)n, 99);
        p50[r] = bench_percentile(lat, (size_t)n, 50);
        win[r] = windowed(rt, n);
    }
    BENCH_CHECK(rk_kernel_terminate(rt, KID, 1000000, NULL));
    BENCH_CHECK(rk_runtime_destroy(rt));

    snprintf(extra, sizeof extra, "\"baseline_measured\":false");
    bench_result_t res = {.name = "local-rr", .metric = "latency_p50_us", .unit = "us",
                          .value = bench_median(p50, (size_t)reps),
                          .baseline = "published Python seed figure (21 us p50; not measured here)",
                          .baseline_value = PUBLISHED_P50_US, .better = BENCH_LOWER_IS_BETTER,
                          .size = (long)sizeof(BenchNum), .ranks = 1, .iterations = n, .reps = reps,
                          .transport = "local", .extra = extra, .samples = p50};
    bench_emit(&res);
    res.metric = "latency_p99_us";
    res.value = bench_median(p99, (size_t)reps);
    res.samples = p99;
    res.baseline = NULL;
    res.extra = NULL;
    bench_emit(&res);
    res.metric = "round_trips_per_s";
    res.unit = "round trips/s";
    res.value = bench_median(rts, (size_t)reps);
    res.samples = rts;
    res.baseline = "published Python seed figure (76K msg/s per actor; not measured here)";
    res.baseline_value = PUBLISHED_MSGS_PER_S;
    res.better = BENCH_HIGHER_IS_BETTER;
    res.extra_params = "\"in_flight\":1";
    res.extra = extra;
    bench_emit(&res);
    res.metric = "msgs_per_s_per_actor";
    res.unit = "msg/s";
    res.value = bench_median(win, (size_t)reps);
    res.samples = win;
    res.extra_params = "\"in_flight\":64";
    bench_emit(&res);
    bench_progress("local-rr: p50 %.1f us, p99 %.1f us, %.0f rt/s, %.0f msg/s (64 in flight)",
                   bench_median(p50, (size_t)reps), bench_median(p99, (size_t)reps),
                   bench_median(rts, (size_t)reps), bench_median(win, (size_t)reps));
    free(lat);
    free(p50);
    free(p99);
    free(rts);
    free(win);
    return 0;
}
