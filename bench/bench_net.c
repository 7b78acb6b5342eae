/*
 * bench_net.c - two-rank benchmarks: pingpong (one-way latency) and rate
 * (one-way streaming), each interleaved with its baselines in the same run.
 *
 * pingpong: kernel "pp.a" on rank 0 sends a BenchBlob (payload = a BYTES
 * field of the given size) with rk_ctx_send_to to kernel "pp.b" on rank 1,
 * which forwards what it received straight back with rk_ctx_send_to; pp.a
 * times the round trip and halves it. Kernel to kernel, so every hop is the
 * full ringmesh path: encode, router, transport, the peer's progress thread,
 * decode, mailbox, the kernel thread's wake-up. Baselines: a raw UCX AM
 * ping-pong (raw_ucx.c) and MPI_Send / MPI_Recv, same sizes, same ranks; and
 * the wire-format floor: the raw UCX AM ping-pong carrying the message's
 * msgpack encoding (what ringmesh's wire format, DESIGN, puts in a frame),
 * encoded before every send and decoded after every receive with ringmesh's
 * codec, and nothing else of ringmesh: the cost of the format alone.
 *
 * rate: the application on rank 0 rk_send's 64-byte-payload BenchBlobs to a
 * counting kernel on rank 1, then an end marker the kernel answers; the time
 * runs from the first send to that answer. Baseline: raw UCX AM streaming of
 * 64-byte messages with at most 64 sends incomplete, then a 1-byte ack; and
 * its wire-format floor: the same stream of encoded BenchBlobs, each encoded
 * by the sender and decoded (and checked in order) by the receiver.
 */
#include "bench_types.h"
#include "bench_util.h"
#include "raw_ucx.h"

#include <mpi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PP_A "pp.a"
#define PP_B "pp.b"
#define RATE_SINK "rate.sink"
#define RATE_SIZE 64
#define RATE_WINDOW 64
#define NSIZES 5

static const long k_sizes[NSIZES] = {64, 1024, 16 << 10, 256 << 10, 1 << 20};

/* ---- the wire-format floor (raw UCX AM + ringmesh's codec) -------------- */

typedef struct wire {
    rk_registry_t *reg;
    rk_buf_t enc[2 * RATE_WINDOW]; /* rate: more than the sends that may be in flight */
    int64_t next;              /* rate receiver: the seq expected next */
    BenchBlob *got;            /* pingpong: the message decoded last */
    int bad;
} wire_t;

static void wire_init(wire_t *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < 2 * RATE_WINDOW; i++) rk_buf_init(&w->enc[i]);
    BENCH_CHECK(rk_registry_create(&w->reg));
    BENCH_CHECK(rk_registry_add(w->reg, BenchBlob_type()));
}

static void wire_fini(wire_t *w)
{
    for (int i = 0; i < 2 * RATE_WINDOW; i++) rk_buf_free(&w->enc[i]);
    rk_registry_destroy(w->reg);
}

/* Decode what raw UCX received as ringmesh would (the type resolved by name). */
static BenchBlob *wire_decode(wire_t *w, const void *data, size_t len)
{
    rk_msg_t *m = NULL;
    BENCH_CHECK(rk_msg_deserialize(w->reg, data, len, 0, &m));
    if (m->type != BenchBlob_type()) bench_die("wire floor: decoded the wrong type", RK_ERR_TYPE);
    return (BenchBlob *)m;
}

/* ---- pingpong ------------------------------------------------------------ */

typedef struct pp_shared {
    BenchBlob *msgs[NSIZES]; /* rank 0: one ping per size (owned here) */
    double *lat;             /* one-way latencies (us) of the last block */
    long n;                  /* iterations of the current block */
    int size_idx;
    atomic_int failed;
} pp_shared_t;

/* Driver on rank 0: on each command (a BenchNum naming the size), runs one block and answers. */
static void pp_a_body(rk_ctx_t *ctx, void *arg)
{
    pp_shared_t *sh = arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *cmd, *back;
        if (rk_ctx_receive(ctx, 100000, &cmd) != RK_OK) continue;
        if (cmd->type != BenchNum_type()) { /* a stray pong: never expected */
            rk_msg_free(cmd);
            continue;
        }
        BenchBlob *ping = sh->msgs[sh->size_idx];
        for (long i = 0; i < sh->n && !atomic_load(&sh->failed); i++) {
            ping->seq = i;
            int64_t t0 = bench_now_ns();
            rk_status_t st = rk_ctx_send_to(ctx, PP_B, &ping->hdr);
            if (st == RK_OK) st = rk_ctx_receive(ctx, 20000000, &back);
            if (st != RK_OK) {
                fprintf(stderr, "[bench] pingpong: ping %ld failed: %s\n", i, rk_status_str(st));
                atomic_store(&sh->failed, 1);
                break;
            }
            sh->lat[i] = (double)(bench_now_ns() - t0) / 2e3;
            if (back->type != BenchBlob_type() || ((BenchBlob *)back)->seq != i ||
                ((BenchBlob *)back)->payload.len != ping->payload.len)
                atomic_store(&sh->failed, 1);
            rk_msg_free(back);
        }
        BenchNum *done = bench_make_num(0, 0);
        rk_ctx_reply(ctx, cmd, &done->hdr);
        rk_msg_free(&done->hdr);
        rk_msg_free(cmd);
    }
}

/* Echo on rank 1: forward every ping back to pp.a. */
static void pp_b_body(rk_ctx_t *ctx, void *arg)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_status_t st = rk_ctx_send_to(ctx, PP_A, m);
        if (st != RK_OK) fprintf(stderr, "[bench] pingpong: pong failed: %s\n", rk_status_str(st));
        rk_msg_free(m);
    }
}

static long pp_iters(long base, long size)
{
    long n = size >= (1 << 20) ? base / 10 : size >= (256 << 10) ? base / 4 : base;
    return n < 10 ? 10 : n;
}

/* ringmesh block (rank 0 drives through pp.a; rank 1 just waits). Returns p50, sets *p99. */
static double pp_ringmesh(rk_runtime_t *rt, pp_shared_t *sh, int si, long n, double *p99)
{
    double p50 = 0;
    if (g_mpi.rank == 0) {
        BenchNum *cmd = bench_make_num(si, (double)n);
        rk_msg_t *done;
        sh->size_idx = si;
        sh->n = n;
        BENCH_CHECK(rk_send(rt, PP_A, &cmd->hdr));
        BENCH_CHECK(rk_receive(rt, PP_A, 120000000, &done));
        rk_msg_free(done);
        rk_msg_free(&cmd->hdr);
        if (atomic_load(&sh->failed)) bench_die("pingpong (ringmesh)", RK_ERR_TRANSPORT);
        *p99 = bench_percentile(sh->lat, (size_t)n, 99);
        p50 = bench_percentile(sh->lat, (size_t)n, 50);
    }
    bench_barrier();
    return p50;
}

static double pp_raw_ucx(raw_ucx_t *u, const void *buf, long size, long n, double *lat, double *p99)
{
    uint64_t base = raw_ucx_received(u);
    bench_barrier();
    for (long i = 0; i < n; i++) {
        if (g_mpi.rank == 0) {
            int64_t t0 = bench_now_ns();
            raw_ucx_send(u, buf, (size_t)size);
            raw_ucx_wait_received(u, base + (uint64_t)i + 1);
            lat[i] = (double)(bench_now_ns() - t0) / 2e3;
        } else {
            raw_ucx_wait_received(u, base + (uint64_t)i + 1);
            raw_ucx_send(u, buf, (size_t)size);
        }
    }
    if (g_mpi.rank != 0) return 0;
    *p99 = bench_percentile(lat, (size_t)n, 99);
    return bench_percentile(lat, (size_t)n, 50);
}

/* Pingpong receiver of the wire floor: decode the message where it landed. */
static void wire_keep(void *arg, const void *data, size_t len)
{
    wire_t *w = arg;
    w->got = wire_decode(w, data, len);
}

/* The wire-format floor: rank 0 encodes the ping, rank 1 decodes it and encodes it back. */
static double pp_raw_wire(raw_ucx_t *u, wire_t *w, BenchBlob *ping, long n, double *lat, double *p99)
{
    uint64_t base = raw_ucx_received(u);
    rk_buf_t *b = &w->enc[0];
    raw_ucx_on_recv(u, wire_keep, w);
    bench_barrier();
    for (long i = 0; i < n; i++) {
        if (g_mpi.rank == 0) {
            int64_t t0 = bench_now_ns();
            ping->seq = i;
            BENCH_CHECK(rk_msg_serialize(&ping->hdr, b));
            raw_ucx_send(u, b->data, b->len);
            raw_ucx_wait_received(u, base + (uint64_t)i + 1);
            BenchBlob *back = w->got;
            lat[i] = (double)(bench_now_ns() - t0) / 2e3;
            if (back->seq != i || back->payload.len != ping->payload.len) w->bad = 1;
            rk_msg_free(&back->hdr);
        } else {
            raw_ucx_wait_received(u, base + (uint64_t)i + 1);
            BenchBlob *m = w->got;
            BENCH_CHECK(rk_msg_serialize(&m->hdr, b));
            raw_ucx_send(u, b->data, b->len);
            rk_msg_free(&m->hdr);
        }
    }
    raw_ucx_on_recv(u, NULL, NULL);
    if (w->bad) bench_die("pingpong (wire floor): a pong differs from its ping", RK_ERR_MALFORMED);
    if (g_mpi.rank != 0) return 0;
    *p99 = bench_percentile(lat, (size_t)n, 99);
    return bench_percentile(lat, (size_t)n, 50);
}

static double pp_mpi(void *sbuf, void *rbuf, long size, long n, double *lat, double *p99)
{
    MPI_Comm comm = *(MPI_Comm *)bench_comm();
    bench_barrier();
    for (long i = 0; i < n; i++) {
        if (g_mpi.rank == 0) {
            int64_t t0 = bench_now_ns();
            MPI_Send(sbuf, (int)size, MPI_BYTE, 1, 7, comm);
            MPI_Recv(rbuf, (int)size, MPI_BYTE, 1, 7, comm, MPI_STATUS_IGNORE);
            lat[i] = (double)(bench_now_ns() - t0) / 2e3;
        } else {
            MPI_Recv(rbuf, (int)size, MPI_BYTE, 0, 7, comm, MPI_STATUS_IGNORE);
            MPI_Send(sbuf, (int)size, MPI_BYTE, 0, 7, comm);
        }
    }
    if (g_mpi.rank != 0) return 0;
    *p99 = bench_percentile(lat, (size_t)n, 99);
    return bench_percentile(lat, (size_t)n, 50);
}

/* One pingpong line: medians of the per-repetition p50s (and p99s) of ringmesh and a baseline. */
static void pp_emit(long size, long n, int reps, const double *rk, const double *rk99, const char *baseline,
                    const double *base, const double *base99, const char *detail)
{
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"p99_us\":%.2f,\"baseline_p99_us\":%.2f,\"path\":\"kernel->kernel\",\"baseline_detail\":\"%s\"",
             bench_median(rk99, (size_t)reps), bench_median(base99, (size_t)reps), detail);
    bench_result_t res = {.name = "pingpong", .metric = "one_way_latency_p50_us", .unit = "us",
                          .value = bench_median(rk, (size_t)reps), .baseline = baseline,
                          .baseline_value = bench_median(base, (size_t)reps), .better = BENCH_LOWER_IS_BETTER,
                          .size = size, .ranks = 2, .iterations = n, .reps = reps,
                          .transport = bench_transport_name(), .extra = extra, .samples = rk,
                          .baseline_samples = base};
    bench_emit(&res);
}

static int skip_size(int si) { return g_opts.only_size > 0 && g_opts.only_size != k_sizes[si]; }

int bench_pingpong(void)
{
    enum { P_RK, P_UCX, P_MPI, P_WIRE, NPHASES };
    int reps = bench_reps(5, 3);
    long base_n = bench_iters(1000, 30);
    long maxn = pp_iters(base_n, 64);
    pp_shared_t sh;
    rk_runtime_t *rt;
    raw_ucx_t *u;
    rk_kernel_params_t kp = {0};
    double *lat, *res[NPHASES][NSIZES], *res99[NPHASES][NSIZES];
    uint8_t *sbuf, *rbuf;
    const char *desc;
    char mpi_desc[128], wire_desc[320];
    BenchBlob *wire_ping[NSIZES] = {0};
    wire_t w;

    if (bench_need_two_ranks("pingpong")) return 0;
    if (g_opts.only_size > 0) {
        int known = 0;
        for (int s = 0; s < NSIZES; s++) known |= k_sizes[s] == g_opts.only_size;
        if (!known) {
            bench_skip("pingpong", "--size must be one of 64, 1024, 16384, 262144, 1048576");
            return 1;
        }
    }
    bench_mpi_version(mpi_desc, sizeof mpi_desc);
    memset(&sh, 0, sizeof sh);
    lat = calloc((size_t)maxn, sizeof *lat);
    sh.lat = calloc((size_t)maxn, sizeof *sh.lat);
    sbuf = malloc((size_t)k_sizes[NSIZES - 1]);
    rbuf = malloc((size_t)k_sizes[NSIZES - 1]);
    if (!lat || !sh.lat || !sbuf || !rbuf) bench_die("pingpong", RK_ERR_NOMEM);
    memset(sbuf, 0x5a, (size_t)k_sizes[NSIZES - 1]);
    for (int p = 0; p < NPHASES; p++)
        for (int s = 0; s < NSIZES; s++) {
            res[p][s] = calloc((size_t)reps, sizeof(double));
            res99[p][s] = calloc((size_t)reps, sizeof(double));
        }

    BENCH_CHECK(bench_runtime_dist(&rt));
    BENCH_CHECK(bench_register_types(rt));
    kp.field_mask = RK_KERNEL_FIELD_ARG;
    kp.kernel_id = g_mpi.rank == 0 ? PP_A : PP_B;
    kp.fn = g_mpi.rank == 0 ? pp_a_body : pp_b_body;
    kp.arg = &sh;
    wire_init(&w);
    if (g_mpi.rank == 0)
        for (int s = 0; s < NSIZES; s++) {
            sh.msgs[s] = bench_make_blob(0, (size_t)k_sizes[s]);
            wire_ping[s] = bench_make_blob(0, (size_t)k_sizes[s]);
        }
    BENCH_CHECK(rk_kernel_start(rt, &kp));
    BENCH_CHECK(rk_runtime_sync(rt));
    /* room for the largest size's encoding too (the wire floor) */
    if (raw_ucx_open((size_t)k_sizes[NSIZES - 1] + 4096, g_opts.ucx_err_peer, &u))
        bench_die("raw_ucx_open", RK_ERR_TRANSPORT);
    desc = raw_ucx_describe(u);
    snprintf(wire_desc, sizeof wire_desc, "%s, carrying the message's msgpack encoding, encoded and decoded every hop",
             desc);
    bench_progress("pingpong: ringmesh over %s; baseline %s", bench_transport_name(), desc);

    for (int s = 0; s < NSIZES; s++) { /* warm-up: every path, every size */
        double d;
        if (skip_size(s)) continue;
        long n = pp_iters(base_n, k_sizes[s]) / 4 + 2;
        pp_ringmesh(rt, &sh, s, n, &d);
        pp_raw_ucx(u, sbuf, k_sizes[s], n, lat, &d);
        pp_mpi(sbuf, rbuf, k_sizes[s], n, lat, &d);
        pp_raw_wire(u, &w, wire_ping[s], n, lat, &d);
    }
    for (int r = 0; r < reps; r++) {
        bench_progress("pingpong rep %d/%d", r + 1, reps);
        for (int s = 0; s < NSIZES; s++) {
            long n = pp_iters(base_n, k_sizes[s]);
            if (skip_size(s)) continue;
            for (int k = 0; k < NPHASES; k++) { /* rotate the order from rep to rep */
                int p = (k + r) % NPHASES;
                double *v = &res[p][s][r], *v99 = &res99[p][s][r];
                if (p == P_RK) *v = pp_ringmesh(rt, &sh, s, n, v99);
                else if (p == P_UCX) *v = pp_raw_ucx(u, sbuf, k_sizes[s], n, lat, v99);
                else if (p == P_MPI) *v = pp_mpi(sbuf, rbuf, k_sizes[s], n, lat, v99);
                else *v = pp_raw_wire(u, &w, wire_ping[s], n, lat, v99);
            }
        }
    }
    for (int s = 0; s < NSIZES; s++) {
        long n = pp_iters(base_n, k_sizes[s]);
        if (skip_size(s)) continue;
        pp_emit(k_sizes[s], n, reps, res[P_RK][s], res99[P_RK][s], "raw UCX AM", res[P_UCX][s], res99[P_UCX][s],
                desc);
        pp_emit(k_sizes[s], n, reps, res[P_RK][s], res99[P_RK][s], "MPI_Send/MPI_Recv", res[P_MPI][s],
                res99[P_MPI][s], mpi_desc);
        pp_emit(k_sizes[s], n, reps, res[P_RK][s], res99[P_RK][s], "raw UCX AM + wire format", res[P_WIRE][s],
                res99[P_WIRE][s], wire_desc);
        if (g_mpi.rank == 0)
            bench_progress("pingpong %7ld B: ringmesh %.2f us, raw UCX %.2f us, MPI %.2f us, raw UCX + wire format %.2f us",
                           k_sizes[s], bench_median(res[P_RK][s], (size_t)reps),
                           bench_median(res[P_UCX][s], (size_t)reps), bench_median(res[P_MPI][s], (size_t)reps),
                           bench_median(res[P_WIRE][s], (size_t)reps));
    }

    raw_ucx_close(u);
    BENCH_CHECK(rk_kernel_terminate(rt, kp.kernel_id, 1000000, NULL));
    BENCH_CHECK(rk_runtime_destroy(rt));
    for (int s = 0; s < NSIZES; s++) {
        rk_msg_free(sh.msgs[s] ? &sh.msgs[s]->hdr : NULL);
        rk_msg_free(wire_ping[s] ? &wire_ping[s]->hdr : NULL);
    }
    wire_fini(&w);
    for (int p = 0; p < NPHASES; p++)
        for (int s = 0; s < NSIZES; s++) {
            free(res[p][s]);
            free(res99[p][s]);
        }
    free(lat);
    free(sh.lat);
    free(sbuf);
    free(rbuf);
    return 0;
}

/* ---- rate ---------------------------------------------------------------- */

typedef struct rate_sink {
    long count;
    atomic_int bad;
} rate_sink_t;

/* Count messages; answer the end marker (seq = -expected) and start over. */
static void rate_sink_body(rk_ctx_t *ctx, void *arg)
{
    rate_sink_t *s = arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        int64_t seq = ((BenchBlob *)m)->seq;
        if (seq >= 0) {
            if (seq != s->count) atomic_store(&s->bad, 1);
            s->count++;
        } else {
            BenchNum *ack = bench_make_num(s->count, 0);
            if (-seq != s->count) atomic_store(&s->bad, 1);
            ack->value = atomic_load(&s->bad);
            s->count = 0;
            BENCH_CHECK(rk_ctx_reply(ctx, m, &ack->hdr));
            rk_msg_free(&ack->hdr);
        }
        rk_msg_free(m);
    }
}

static double rate_ringmesh(rk_runtime_t *rt, BenchBlob *msg, long n)
{
    double r = 0;
    if (g_mpi.rank == 0) {
        rk_msg_t *ack;
        int64_t t0 = bench_now_ns();
        for (long i = 0; i < n; i++) {
            msg->seq = i;
            BENCH_CHECK(rk_send(rt, RATE_SINK, &msg->hdr));
        }
        msg->seq = -n;
        BENCH_CHECK(rk_send(rt, RATE_SINK, &msg->hdr));
        BENCH_CHECK(rk_receive(rt, RATE_SINK, 120000000, &ack));
        r = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
        if (((BenchNum *)ack)->seq != n || ((BenchNum *)ack)->value != 0)
            bench_die("rate: messages lost, duplicated or reordered", RK_ERR_MALFORMED);
        rk_msg_free(ack);
    }
    bench_barrier();
    return r;
}

static double rate_raw_ucx(raw_ucx_t *u, const void *buf, long n)
{
    static const char ack = 1;
    uint64_t base = raw_ucx_received(u);
    double r = 0;
    bench_barrier();
    if (g_mpi.rank == 0) {
        int64_t t0 = bench_now_ns();
        for (long i = 0; i < n; i++) raw_ucx_send_window(u, buf, RATE_SIZE, RATE_WINDOW);
        raw_ucx_flush(u);
        raw_ucx_wait_received(u, base + 1);
        r = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
    } else {
        raw_ucx_wait_received(u, base + (uint64_t)n);
        raw_ucx_send(u, &ack, 1);
    }
    return r;
}

/* Rate receiver of the wire floor: decode every message as it lands, check its order. */
static void wire_on_recv(void *arg, const void *data, size_t len)
{
    wire_t *w = arg;
    BenchBlob *m = wire_decode(w, data, len);
    if (m->seq != w->next++) w->bad = 1;
    rk_msg_free(&m->hdr);
}

static double rate_raw_wire(raw_ucx_t *u, wire_t *w, BenchBlob *msg, long n)
{
    static const char ack = 1;
    uint64_t base = raw_ucx_received(u);
    double r = 0;
    w->next = 0;
    if (g_mpi.rank == 1) raw_ucx_on_recv(u, wire_on_recv, w);
    bench_barrier();
    if (g_mpi.rank == 0) {
        int64_t t0 = bench_now_ns();
        for (long i = 0; i < n; i++) {
            rk_buf_t *b = &w->enc[i % (2 * RATE_WINDOW)];
            msg->seq = i;
            BENCH_CHECK(rk_msg_serialize(&msg->hdr, b));
            raw_ucx_send_window(u, b->data, b->len, RATE_WINDOW);
        }
        raw_ucx_flush(u);
        raw_ucx_wait_received(u, base + 1);
        r = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
    } else {
        raw_ucx_wait_received(u, base + (uint64_t)n);
        raw_ucx_on_recv(u, NULL, NULL);
        if (w->bad || w->next != n) bench_die("rate (wire floor): messages lost or reordered", RK_ERR_MALFORMED);
        raw_ucx_send(u, &ack, 1);
    }
    return r;
}

int bench_rate(void)
{
    int reps = bench_reps(5, 3);
    long n = bench_iters(100000, 3000);
    rk_runtime_t *rt;
    raw_ucx_t *u;
    rate_sink_t sink = {0};
    rk_kernel_params_t kp = {0};
    BenchBlob *msg = NULL;
    uint8_t buf[RATE_SIZE];
    double *rk, *ucx, *wire_r;
    char extra[384], wire_extra[480];
    wire_t w;

    if (bench_need_two_ranks("rate")) return 0;
    rk = calloc((size_t)reps, sizeof *rk);
    ucx = calloc((size_t)reps, sizeof *ucx);
    wire_r = calloc((size_t)reps, sizeof *wire_r);
    if (!rk || !ucx || !wire_r) bench_die("rate", RK_ERR_NOMEM);
    wire_init(&w);
    memset(buf, 0x5a, sizeof buf);
    BENCH_CHECK(bench_runtime_dist(&rt));
    BENCH_CHECK(bench_register_types(rt));
    if (g_mpi.rank == 1) {
        kp.field_mask = RK_KERNEL_FIELD_ARG;
        kp.kernel_id = RATE_SINK;
        kp.fn = rate_sink_body;
        kp.arg = &sink;
        BENCH_CHECK(rk_kernel_start(rt, &kp));
    } else {
        msg = bench_make_blob(0, RATE_SIZE);
    }
    BENCH_CHECK(rk_runtime_sync(rt));
    if (raw_ucx_open(4096, g_opts.ucx_err_peer, &u)) bench_die("raw_ucx_open", RK_ERR_TRANSPORT);

    rate_ringmesh(rt, msg, n / 4 + 1); /* warm-up */
    rate_raw_ucx(u, buf, n / 4 + 1);
    rate_raw_wire(u, &w, msg, n / 4 + 1);
    for (int r = 0; r < reps; r++) {
        bench_progress("rate rep %d/%d", r + 1, reps);
        for (int k = 0; k < 3; k++) { /* rotate the order from rep to rep */
            int p = (k + r) % 3;
            if (p == 0) rk[r] = rate_ringmesh(rt, msg, n);
            else if (p == 1) ucx[r] = rate_raw_ucx(u, buf, n);
            else wire_r[r] = rate_raw_wire(u, &w, msg, n);
        }
    }
    snprintf(extra, sizeof extra, "\"window\":%d,\"path\":\"app(rank 0)->kernel(rank 1)\",\"baseline_detail\":\"%s\"",
             RATE_WINDOW, raw_ucx_describe(u));
    bench_result_t res = {.name = "rate", .metric = "msgs_per_s", .unit = "msg/s",
                          .value = bench_median(rk, (size_t)reps), .baseline = "raw UCX AM (window 64)",
                          .baseline_value = bench_median(ucx, (size_t)reps), .better = BENCH_HIGHER_IS_BETTER,
                          .size = RATE_SIZE, .ranks = 2, .iterations = n, .reps = reps,
                          .transport = bench_transport_name(), .extra_params = extra, .samples = rk,
                          .baseline_samples = ucx};
    bench_emit(&res);
    snprintf(wire_extra, sizeof wire_extra,
             "\"window\":%d,\"path\":\"app(rank 0)->kernel(rank 1)\",\"baseline_detail\":\"%s, carrying "
             "the message's msgpack encoding, encoded by the sender and decoded by the receiver\"",
             RATE_WINDOW, raw_ucx_describe(u));
    bench_result_t wres = res;
    wres.baseline = "raw UCX AM + wire format (window 64)";
    wres.baseline_value = bench_median(wire_r, (size_t)reps);
    wres.baseline_samples = wire_r;
    wres.extra_params = wire_extra;
    bench_emit(&wres);
    if (g_mpi.rank == 0)
        bench_progress("rate: ringmesh %.0f msg/s, raw UCX AM %.0f msg/s, raw UCX AM + wire format %.0f msg/s",
                       res.value, res.baseline_value, wres.baseline_value);

    raw_ucx_close(u);
    if (g_mpi.rank == 1) BENCH_CHECK(rk_kernel_terminate(rt, RATE_SINK, 1000000, NULL));
    BENCH_CHECK(rk_runtime_destroy(rt));
    rk_msg_free(msg ? &msg->hdr : NULL);
    wire_fini(&w);
    free(rk);
    free(ucx);
    free(wire_r);
    return 0;
}
