/*
 * bench_util.h - what every benchmark shares: options, clocks, statistics,
 * JSON result lines and the MPI helpers of multi-rank benchmarks.
 *
 * Results go to stdout as one JSON object per line, printed by rank 0 only;
 * progress goes to stderr. A ratio is always oriented so that > 1 means
 * ringmesh did better than the baseline (see bench_emit).
 */
#ifndef RK_BENCH_UTIL_H
#define RK_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ringmesh/ringmesh.h"

/** Command-line options shared by all benchmarks. */
typedef struct bench_opts {
    int quick;      /* tiny iteration counts: a smoke test, not a measurement */
    int reps;       /* repetitions (0 = the benchmark's default) */
    long iters;     /* iterations per repetition (0 = default) */
    int verbose;    /* progress to stderr */
    int ucx_err_peer; /* raw UCX baseline endpoints with peer error handling, like ringmesh */
    long only_size;   /* pingpong, buffer-fetch: run this size only (0 = all) */
    long credits;     /* ringmesh runtime credits per flow (0 = the library's default) */
} bench_opts_t;

extern bench_opts_t g_opts;

/** MPI state: rank 0 of 1 when MPI was not initialized. */
typedef struct bench_mpi {
    int inited;
    int rank, size;
} bench_mpi_t;

extern bench_mpi_t g_mpi;

static inline int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/** Repetitions / iterations: the user's, else quick_v under --quick, else def. */
int bench_reps(int def, int quick_v);
long bench_iters(long def, long quick_v);

/** Sort @p v in place and return the value at percentile @p p (0..100, nearest rank). */
double bench_percentile(double *v, size_t n, double p);
/** Median of @p n values (copies; @p v is left untouched). */
double bench_median(const double *v, size_t n);

/** How the ratio of a result line is computed (">1 means ringmesh is better"). */
typedef enum bench_better {
    BENCH_HIGHER_IS_BETTER, /* ratio = value / baseline_value (throughputs) */
    BENCH_LOWER_IS_BETTER   /* ratio = baseline_value / value (times, latencies) */
} bench_better_t;

/** One result line. baseline == NULL: no baseline fields. extra: more "k":v pairs or NULL. */
typedef struct bench_result {
    const char *name, *metric, *unit;
    double value;
    const char *baseline; /* what the baseline is */
    double baseline_value;
    bench_better_t better;
    long size;            /* message / payload bytes, or -1 */
    int ranks;
    long iterations;      /* per repetition */
    int reps;
    const char *transport; /* "local", "ucx", "mpi" or NULL */
    const char *extra_params; /* raw JSON members added to "params", e.g. "\"messages\":\"recycled\"" */
    const char *extra;        /* raw JSON members added to the object */
    /* Optional: the per-repetition values behind the medians (reps of each; the
     * baseline's rep i ran next to ringmesh's rep i). bench_emit then adds
     * "spread": {"value": [min, max], "baseline_value": [...], "ratio": [...]}. */
    const double *samples, *baseline_samples;
} bench_result_t;

/** Print one result as a JSON line on rank 0's stdout (flushed). */
void bench_emit(const bench_result_t *r);
/** Print {"name":..., "skipped": why} on rank 0. */
void bench_skip(const char *name, const char *why);
/** 1 (and a skip line for @p name) unless this run has exactly 2 ranks. */
int bench_need_two_ranks(const char *name);
/** Progress message to stderr (rank 0 only; --quiet silences it). */
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Transport name ringmesh will pick for RK_TRANSPORT_AUTO ($RINGMESH_TRANSPORT, else ucx). */
const char *bench_transport_name(void);

/** Barrier over all ranks that sleeps instead of spinning (MPI_Ibarrier + nanosleep). */
void bench_barrier(void);
/** MPI_Init_thread(MULTIPLE) and a private communicator; -1 on failure. */
int bench_mpi_start(void);
/** Barrier, free the communicator, MPI_Finalize. */
void bench_mpi_stop(void);
/** First part of MPI_Get_library_version ("Open MPI v4.1.4"), JSON-safe. */
void bench_mpi_version(char *out, size_t cap);
/** The benchmark's private communicator (an MPI_Comm *, as void * to keep mpi.h out). */
void *bench_comm(void);

/** A runtime with the distributed transport picked by $RINGMESH_TRANSPORT (AUTO). */
rk_status_t bench_runtime_dist(rk_runtime_t **out);

/** Fail loudly: print where and why to stderr, then abort the job. */
void bench_die(const char *where, rk_status_t st) __attribute__((noreturn));
#define BENCH_CHECK(call)                                   \
    do {                                                    \
        rk_status_t st_ = (call);                           \
        if (st_ != RK_OK) bench_die(#call, st_);            \
    } while (0)

/* The benchmarks: each runs on every rank (rank-0-only ones make the others wait). */
int bench_codec(void);
int bench_mailbox(void);
int bench_local_rr(void);
int bench_call(void);
int bench_pingpong(void);
int bench_rate(void);
int bench_buffer_fetch(void);
int bench_pipeline(void);
int bench_gpu_roundtrip(void);
int bench_gpu_k2k(void);

#endif
