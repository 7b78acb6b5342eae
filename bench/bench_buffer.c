/*
 * bench_buffer.c - buffer-fetch: 2 ranks, rank 0 reads a unified buffer that
 * lives on rank 1, through the public API only, against raw UCX RMA reading
 * the same memory in the same run.
 *
 * Per size (1 MiB, 64 MiB): rank 1 rk_buffer_create's a buffer, fills its
 * host copy with a pattern, marks it host-dirty and sends its id to rank 0
 * (MPI). Rank 0 times `rk_buffer_fetch(rt, id, dst, cap, &len, timeout)` into
 * one preallocated destination, n times per repetition; rank 1's main thread
 * meanwhile sleeps in bench_barrier, so only the runtime's progress thread
 * serves the fetches (whatever path the library takes: an active-message
 * request and a staged reply, or RMA). Baseline, interleaved repetition by
 * repetition (the order alternates): rank 1 exposes the same host copy with
 * raw_ucx_expose (ucp_mem_map + ucp_rkey_pack, key unpacked on rank 0's
 * endpoint) and rank 0 times raw_ucx_get (ucp_get_nbx of the whole region,
 * busy-polled to completion) into the same destination. raw_ucx_expose finds
 * out whether that get is one-sided here: if so, rank 1 sleeps in
 * bench_barrier meanwhile, as in the ringmesh block; if UCX emulates it with
 * AM (as between ranks of one machine with UCX 1.13: no lane reads memory UCX
 * did not allocate), rank 1 progresses its raw worker, yielding the CPU when
 * idle, and "baseline_get" says "emulated over AM".
 *
 * Before each timed block the destination is poisoned, after it every byte is
 * checked against the pattern (bench_die on a mismatch). One line per size:
 * GB/s (10^9 bytes/s) = size * n / time of the block, medians over the
 * repetitions; ms per fetch alongside; ratio = ringmesh / raw (higher is
 * better).
 */
#include "bench_util.h"
#include "raw_ucx.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_TIMEOUT_US 60000000LL /* one fetch; generous for a loaded 2-core VM */
#define FETCH_POISON 0xee

typedef struct fetch_size {
    long size;  /* bytes, a multiple of 8 */
    long iters; /* fetches per repetition (about 0.1-0.2 s of raw UCX on a 2-core VM) */
} fetch_size_t;

static const fetch_size_t k_fetch_sizes[] = {
    {1L << 20, 200},
    {64L << 20, 8},
};
#define NFETCH (sizeof k_fetch_sizes / sizeof k_fetch_sizes[0])

/* The pattern: 64-bit words, different for every offset and every buffer size. */
static inline uint64_t pattern_word(size_t i, long size)
{
    return ((uint64_t)i + 1) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)size << 17);
}

static void pattern_fill(void *buf, long size)
{
    uint64_t *w = buf;
    for (size_t i = 0; i < (size_t)size / 8; i++) w[i] = pattern_word(i, size);
}

static void pattern_check(const void *buf, long size, const char *who)
{
    const uint64_t *w = buf;
    for (size_t i = 0; i < (size_t)size / 8; i++)
        if (w[i] != pattern_word(i, size)) {
            char where[160];
            snprintf(where, sizeof where, "buffer-fetch (%s, %ld bytes): wrong bytes at offset %zu", who, size,
                     i * 8);
            bench_die(where, RK_ERR_MALFORMED);
        }
}

/* ringmesh block: rank 0 fetches n times, rank 1's runtime serves. Returns the block's ns (rank 0). */
static double fetch_ringmesh(rk_runtime_t *rt, rk_buffer_id_t id, uint8_t *dst, size_t cap, long size, long n)
{
    double ns = 0;
    if (g_mpi.rank == 0) {
        memset(dst, FETCH_POISON, (size_t)size);
        int64_t t0 = bench_now_ns();
        for (long i = 0; i < n; i++) {
            size_t len = 0;
            BENCH_CHECK(rk_buffer_fetch(rt, id, dst, cap, &len, FETCH_TIMEOUT_US));
            if (len != (size_t)size) bench_die("buffer-fetch: rk_buffer_fetch gave the wrong length", RK_ERR_MALFORMED);
        }
        ns = (double)(bench_now_ns() - t0);
        pattern_check(dst, size, "ringmesh");
    }
    bench_barrier(); /* rank 1 sleeps here throughout */
    return ns;
}

/*
 * raw UCX block: rank 0 gets n times. Rank 1 sleeps in bench_barrier, as in
 * the ringmesh block, where the get is one-sided; where UCX emulates it with
 * AM, rank 1's worker must serve it: rank 1 progresses (yielding when idle)
 * until rank 0 says done.
 */
static double fetch_raw(raw_ucx_t *u, uint8_t *dst, long size, long n)
{
    static const char done = 1;
    uint64_t base = raw_ucx_received(u);
    int onesided = raw_ucx_get_onesided(u);
    double ns = 0;
    bench_barrier();
    if (g_mpi.rank == 0) {
        memset(dst, FETCH_POISON, (size_t)size);
        int64_t t0 = bench_now_ns();
        for (long i = 0; i < n; i++) raw_ucx_get(u, dst, (size_t)size);
        ns = (double)(bench_now_ns() - t0);
        if (!onesided) raw_ucx_send(u, &done, 1);
        pattern_check(dst, size, "raw UCX get");
    } else if (!onesided) {
        raw_ucx_serve_until_received(u, base + 1);
    }
    if (onesided) bench_barrier();
    return ns;
}

static int skip_fetch_size(size_t s) { return g_opts.only_size > 0 && g_opts.only_size != k_fetch_sizes[s].size; }

int bench_buffer_fetch(void)
{
    MPI_Comm comm = *(MPI_Comm *)bench_comm();
    int reps = bench_reps(5, 3);
    long maxsize = 0;
    rk_runtime_t *rt;
    raw_ucx_t *u;
    uint8_t *dst = NULL;
    double *rk_ns, *raw_ns, *rk_gbs, *raw_gbs;
    int any = 0;

    if (bench_need_two_ranks("buffer-fetch")) return 0;
    for (size_t s = 0; s < NFETCH; s++)
        if (!skip_fetch_size(s)) {
            any = 1;
            if (k_fetch_sizes[s].size > maxsize) maxsize = k_fetch_sizes[s].size;
        }
    if (!any) {
        bench_skip("buffer-fetch", "--size is not one of its sizes (1048576, 67108864)");
        return 0;
    }
    rk_ns = calloc((size_t)reps, sizeof *rk_ns);
    raw_ns = calloc((size_t)reps, sizeof *raw_ns);
    rk_gbs = calloc((size_t)reps, sizeof *rk_gbs);
    raw_gbs = calloc((size_t)reps, sizeof *raw_gbs);
    if (!rk_ns || !raw_ns || !rk_gbs || !raw_gbs) bench_die("buffer-fetch", RK_ERR_NOMEM);
    if (g_mpi.rank == 0) { /* the destination, preallocated and faulted in */
        if (!(dst = malloc((size_t)maxsize))) bench_die("buffer-fetch: destination", RK_ERR_NOMEM);
        memset(dst, FETCH_POISON, (size_t)maxsize);
    }

    BENCH_CHECK(bench_runtime_dist(&rt));
    BENCH_CHECK(rk_runtime_sync(rt));
    if (raw_ucx_open(64, g_opts.ucx_err_peer, &u)) bench_die("raw_ucx_open", RK_ERR_TRANSPORT);
    bench_progress("buffer-fetch: ringmesh over %s (%s); baseline %s", bench_transport_name(),
                   rk_buffer_remote_path(rt), raw_ucx_describe(u));

    for (size_t s = 0; s < NFETCH; s++) {
        long size = k_fetch_sizes[s].size, n = bench_iters(k_fetch_sizes[s].iters, 3);
        rk_buffer_t *b = NULL;
        uint64_t id = 0;
        char extra[768], params[96];

        if (skip_fetch_size(s)) continue;
        if (g_mpi.rank == 1) {
            BENCH_CHECK(rk_buffer_create(rt, (size_t)size, &b));
            pattern_fill(rk_buffer_host(b), size);
            BENCH_CHECK(rk_buffer_mark_host_dirty(b));
            id = rk_buffer_id(b);
            MPI_Send(&id, 1, MPI_UINT64_T, 0, 11, comm);
        } else {
            MPI_Recv(&id, 1, MPI_UINT64_T, 1, 11, comm, MPI_STATUS_IGNORE);
        }
        /* the baseline reads the very same bytes: the buffer's host copy on rank 1 */
        raw_ucx_expose(u, g_mpi.rank == 1 ? rk_buffer_host(b) : NULL, g_mpi.rank == 1 ? (size_t)size : 0);
        bench_progress("buffer-fetch %ld B: raw UCX get %s", size, raw_ucx_get_mode(u));

        fetch_ringmesh(rt, id, dst, (size_t)maxsize, size, n / 4 + 1); /* warm-up, both paths */
        fetch_raw(u, dst, size, n / 4 + 1);
        for (int r = 0; r < reps; r++) {
            bench_progress("buffer-fetch %ld B rep %d/%d", size, r + 1, reps);
            for (int k = 0; k < 2; k++) /* alternate the order from rep to rep */
                if ((k + r) % 2 == 0) rk_ns[r] = fetch_ringmesh(rt, id, dst, (size_t)maxsize, size, n);
                else raw_ns[r] = fetch_raw(u, dst, size, n);
            rk_gbs[r] = (double)size * (double)n / rk_ns[r]; /* bytes per ns = GB/s */
            raw_gbs[r] = (double)size * (double)n / raw_ns[r];
        }

        snprintf(params, sizeof params, "\"timeout_us\":%lld", (long long)FETCH_TIMEOUT_US);
        snprintf(extra, sizeof extra,
                 "\"ms_per_fetch\":%.4g,\"baseline_ms_per_fetch\":%.4g,"
                 "\"path\":\"rk_buffer_fetch on rank 0 of a HOST_DIRTY buffer owned by rank 1\","
                 "\"ringmesh_remote_path\":\"%s\",\"baseline_get\":\"%s\",\"baseline_detail\":\"%s, ucp_get_nbx %s\"",
                 bench_median(rk_ns, (size_t)reps) / 1e6 / (double)n,
                 bench_median(raw_ns, (size_t)reps) / 1e6 / (double)n, rk_buffer_remote_path(rt),
                 raw_ucx_get_onesided(u) ? "one-sided" : "emulated over AM", raw_ucx_describe(u), raw_ucx_get_mode(u));
        bench_result_t res = {.name = "buffer-fetch", .metric = "fetch_GB_per_s", .unit = "GB/s",
                              .value = bench_median(rk_gbs, (size_t)reps),
                              .baseline = "raw UCX RMA (ucp_get_nbx)",
                              .baseline_value = bench_median(raw_gbs, (size_t)reps),
                              .better = BENCH_HIGHER_IS_BETTER, .size = size, .ranks = 2, .iterations = n,
                              .reps = reps, .transport = bench_transport_name(), .extra_params = params,
                              .extra = extra, .samples = rk_gbs, .baseline_samples = raw_gbs};
        bench_emit(&res);
        bench_progress("buffer-fetch %8ld B: ringmesh %.3f GB/s (%.3f ms), raw UCX get %.3f GB/s (%.3f ms)", size,
                       res.value, bench_median(rk_ns, (size_t)reps) / 1e6 / (double)n, res.baseline_value,
                       bench_median(raw_ns, (size_t)reps) / 1e6 / (double)n);

        raw_ucx_expose(u, NULL, 0); /* unmapped before the buffer goes back to the runtime */
        bench_barrier();
        if (b) BENCH_CHECK(rk_buffer_release(b));
    }

    raw_ucx_close(u);
    BENCH_CHECK(rk_runtime_destroy(rt));
    free(dst);
    free(rk_ns);
    free(raw_ns);
    free(rk_gbs);
    free(raw_gbs);
    return 0;
}
