/*
 * bench_pipeline.c - messages per second through a 4-stage pipeline whose
 * stage i runs on rank i % size (1, 2 or 4 ranks), with a counting sink on
 * rank 0.
 *
 * The application on rank 0 rk_send's a fixed number of small BenchNum
 * messages to stage 0, then an end marker; each stage forwards what it gets
 * with rk_ctx_send_to; the sink checks the count when the marker arrives and
 * emits an output the application waits for. Throughput = messages / (first
 * send .. that output). The figure of interest is how it scales from 1 to 4
 * ranks (see README: 2 cores, so 4 ranks oversubscribe them). Baseline, from
 * 2 ranks on: the same 4 stages and sink all on rank 0 in the same job (the
 * other ranks present but idle), run interleaved with the distributed one, so
 * the ratio separates the cost of the cross-rank hops from that of the extra
 * processes.
 */
#include "bench_types.h"
#include "bench_util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NSTAGES 4

/* A pipeline: its stage ids in order and its sink. */
typedef struct pipe_ids {
    const char *stage[NSTAGES];
    const char *sink;
} pipe_ids_t;

static const pipe_ids_t k_spread = {{"pipe.s0", "pipe.s1", "pipe.s2", "pipe.s3"}, "pipe.sink"};
static const pipe_ids_t k_local = {{"pipe.l0", "pipe.l1", "pipe.l2", "pipe.l3"}, "pipe.lsink"};

typedef struct stage_arg {
    const char *next;
} stage_arg_t;

static void stage_body(rk_ctx_t *ctx, void *arg)
{
    const stage_arg_t *a = arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_status_t st = rk_ctx_send_to(ctx, a->next, m);
        if (st != RK_OK) fprintf(stderr, "[bench] pipeline: %s -> %s: %s\n", rk_ctx_kernel_id(ctx), a->next,
                                 rk_status_str(st));
        rk_msg_free(m);
    }
}

typedef struct sink_state {
    long count;
    int bad;
} sink_state_t;

static void sink_body(rk_ctx_t *ctx, void *arg)
{
    sink_state_t *s = arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        int64_t seq = ((BenchNum *)m)->seq;
        if (seq >= 0) {
            if (seq != s->count) s->bad = 1; /* one sender, one priority: order is kept */
            s->count++;
        } else {
            BenchNum *done = bench_make_num(s->count, s->bad || -seq != s->count);
            s->count = 0;
            s->bad = 0;
            BENCH_CHECK(rk_ctx_send(ctx, &done->hdr)); /* an output on this rank (0) */
            rk_msg_free(&done->hdr);
        }
        rk_msg_free(m);
    }
}

/* One block of @p n messages through pipeline @p p; returns messages / s on rank 0 (0 elsewhere). */
static double run_block(rk_runtime_t *rt, const pipe_ids_t *p, long n)
{
    double r = 0;
    if (g_mpi.rank == 0) {
        BenchNum *msg = bench_make_num(0, 1.0);
        rk_msg_t *done;
        int64_t t0 = bench_now_ns();
        for (long i = 0; i < n; i++) {
            msg->seq = i;
            BENCH_CHECK(rk_send(rt, p->stage[0], &msg->hdr));
        }
        msg->seq = -n;
        BENCH_CHECK(rk_send(rt, p->stage[0], &msg->hdr));
        BENCH_CHECK(rk_receive(rt, p->sink, 120000000, &done));
        r = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
        if (((BenchNum *)done)->seq != n || ((BenchNum *)done)->value != 0)
            bench_die("pipeline: messages lost, duplicated or reordered", RK_ERR_MALFORMED);
        rk_msg_free(done);
        rk_msg_free(&msg->hdr);
    }
    bench_barrier();
    return r;
}

/* Start pipeline @p p's kernels that live here: stage i on rank i % @p spread_over, the sink on rank 0. */
static void start_pipeline(rk_runtime_t *rt, const pipe_ids_t *p, int spread_over, stage_arg_t *args,
                           sink_state_t *sink)
{
    for (int i = 0; i < NSTAGES; i++) {
        rk_kernel_params_t kp = {0};
        args[i].next = i + 1 < NSTAGES ? p->stage[i + 1] : p->sink;
        if (i % spread_over != g_mpi.rank) continue;
        kp.field_mask = RK_KERNEL_FIELD_ARG;
        kp.kernel_id = p->stage[i];
        kp.fn = stage_body;
        kp.arg = &args[i];
        BENCH_CHECK(rk_kernel_start(rt, &kp));
    }
    if (g_mpi.rank == 0) {
        rk_kernel_params_t kp = {0};
        kp.field_mask = RK_KERNEL_FIELD_ARG;
        kp.kernel_id = p->sink;
        kp.fn = sink_body;
        kp.arg = sink;
        BENCH_CHECK(rk_kernel_start(rt, &kp));
    }
}

int bench_pipeline(void)
{
    int reps = bench_reps(5, 3);
    long n = bench_iters(20000, 500);
    int baseline = g_mpi.size > 1; /* at 1 rank both placements are the same */
    rk_runtime_t *rt;
    stage_arg_t args[NSTAGES], largs[NSTAGES];
    sink_state_t sink = {0}, lsink = {0};
    double *v = calloc((size_t)reps, sizeof *v), *lv = calloc((size_t)reps, sizeof *lv);
    char extra[160];

    if (!v || !lv) bench_die("pipeline", RK_ERR_NOMEM);
    BENCH_CHECK(bench_runtime_dist(&rt));
    BENCH_CHECK(bench_register_types(rt));
    start_pipeline(rt, &k_spread, g_mpi.size, args, &sink);
    if (baseline) start_pipeline(rt, &k_local, 1, largs, &lsink);
    BENCH_CHECK(rk_runtime_sync(rt));
    run_block(rt, &k_spread, n / 4 + 1); /* warm-up */
    if (baseline) run_block(rt, &k_local, n / 4 + 1);
    for (int r = 0; r < reps; r++) { /* interleaved, alternating who goes first */
        bench_progress("pipeline (%d ranks) rep %d/%d", g_mpi.size, r + 1, reps);
        if (baseline && r % 2) lv[r] = run_block(rt, &k_local, n);
        v[r] = run_block(rt, &k_spread, n);
        if (baseline && r % 2 == 0) lv[r] = run_block(rt, &k_local, n);
    }
    snprintf(extra, sizeof extra, "\"stages\":%d,\"placement\":\"stage i on rank i %% %d, sink on rank 0\"",
             NSTAGES, g_mpi.size);
    bench_result_t res = {.name = "pipeline", .metric = "msgs_per_s", .unit = "msg/s",
                          .value = bench_median(v, (size_t)reps), .size = (long)sizeof(BenchNum),
                          .ranks = g_mpi.size, .iterations = n, .reps = reps, .transport = bench_transport_name(),
                          .extra_params = extra, .samples = v};
    if (baseline) {
        res.baseline = "same pipeline, all stages on rank 0 (other ranks idle)";
        res.baseline_value = bench_median(lv, (size_t)reps);
        res.better = BENCH_HIGHER_IS_BETTER;
        res.baseline_samples = lv;
    }
    bench_emit(&res);
    if (g_mpi.rank == 0) {
        if (baseline)
            bench_progress("pipeline (%d ranks): %.0f msg/s; all stages on rank 0: %.0f msg/s", g_mpi.size, res.value,
                           res.baseline_value);
        else
            bench_progress("pipeline (%d ranks): %.0f msg/s", g_mpi.size, res.value);
    }
    BENCH_CHECK(rk_runtime_destroy(rt)); /* terminates every kernel */
    free(v);
    free(lv);
    return 0;
}
