/*
 * bench_util.c - statistics, JSON result lines and MPI helpers shared by the
 * benchmarks. Only rank 0 prints results; every rank may print progress.
 */
#include "bench_util.h"

#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bench_opts_t g_opts = {0, 0, 0, 1, 0, 0, 0};
bench_mpi_t g_mpi = {0, 0, 1};
static MPI_Comm g_comm = MPI_COMM_NULL;

int bench_reps(int def, int quick_v)
{
    if (g_opts.reps > 0) return g_opts.reps;
    return g_opts.quick ? quick_v : def;
}

long bench_iters(long def, long quick_v)
{
    if (g_opts.iters > 0) return g_opts.iters;
    return g_opts.quick ? quick_v : def;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double p)
{
    size_t i;
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    i = (size_t)ceil(p / 100.0 * (double)n);
    if (i > 0) i--;
    if (i >= n) i = n - 1;
    return v[i];
}

double bench_median(const double *v, size_t n)
{
    double *c, m;
    if (n == 0) return NAN;
    c = malloc(n * sizeof *c);
    if (!c) return NAN;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

/* A JSON number: finite values only (JSON has no NaN); null otherwise. */
static void put_num(FILE *f, double v)
{
    if (!isfinite(v)) fputs("null", f);
    else if (fabs(v) >= 1e6) fprintf(f, "%.0f", v);
    else if (fabs(v) >= 100) fprintf(f, "%.1f", v);
    else fprintf(f, "%.4g", v);
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static double rep_ratio(const bench_result_t *r, int i)
{
    return r->better == BENCH_HIGHER_IS_BETTER ? r->samples[i] / r->baseline_samples[i]
                                               : r->baseline_samples[i] / r->samples[i];
}

/* ,"spread":{...}: min and max over the repetitions, and of the per-repetition ratios. */
static void put_spread(FILE *f, const bench_result_t *r)
{
    double lo = INFINITY, hi = -INFINITY, blo = INFINITY, bhi = -INFINITY, rlo = INFINITY, rhi = -INFINITY;
    for (int i = 0; i < r->reps; i++) {
        lo = fmin(lo, r->samples[i]);
        hi = fmax(hi, r->samples[i]);
        if (r->baseline && r->baseline_samples) {
            double q = rep_ratio(r, i);
            blo = fmin(blo, r->baseline_samples[i]);
            bhi = fmax(bhi, r->baseline_samples[i]);
            if (isfinite(q)) {
                rlo = fmin(rlo, q);
                rhi = fmax(rhi, q);
            }
        }
    }
    fputs(",\"spread\":{\"value\":[", f);
    put_num(f, lo);
    fputc(',', f);
    put_num(f, hi);
    fputc(']', f);
    if (r->baseline && r->baseline_samples) {
        fputs(",\"baseline_value\":[", f);
        put_num(f, blo);
        fputc(',', f);
        put_num(f, bhi);
        fputs("],\"ratio\":[", f);
        if (isfinite(rlo)) fprintf(f, "%.4g,%.4g", rlo, rhi);
        else fputs("null,null", f);
        fputc(']', f);
    }
    fputc('}', f);
}

void bench_emit(const bench_result_t *r)
{
    FILE *f = stdout;
    if (g_mpi.rank != 0) return;
    fputs("{\"name\":", f);
    put_str(f, r->name);
    fputs(",\"metric\":", f);
    put_str(f, r->metric);
    fputs(",\"value\":", f);
    put_num(f, r->value);
    fputs(",\"unit\":", f);
    put_str(f, r->unit);
    if (r->baseline) {
        double ratio = r->better == BENCH_HIGHER_IS_BETTER ? r->value / r->baseline_value
                                                           : r->baseline_value / r->value;
        fputs(",\"baseline\":", f);
        put_str(f, r->baseline);
        fputs(",\"baseline_value\":", f);
        put_num(f, r->baseline_value);
        fputs(",\"ratio\":", f);
        if (isfinite(ratio)) fprintf(f, "%.4g", ratio);
        else fputs("null", f);
    }
    fputs(",\"params\":{", f);
    fprintf(f, "\"size\":");
    if (r->size >= 0) fprintf(f, "%ld", r->size);
    else fputs("null", f);
    fprintf(f, ",\"ranks\":%d,\"iterations\":%ld,\"reps\":%d", r->ranks, r->iterations, r->reps);
    if (r->transport) {
        fputs(",\"transport\":", f);
        put_str(f, r->transport);
    }
    if (g_opts.quick) fputs(",\"quick\":true", f);
    if (g_opts.credits > 0 && r->transport && strcmp(r->transport, "local") != 0)
        fprintf(f, ",\"credits\":%ld", g_opts.credits);
    if (r->extra_params) fprintf(f, ",%s", r->extra_params);
    fputc('}', f);
    if (r->extra) fprintf(f, ",%s", r->extra);
    if (r->samples && r->reps > 0) put_spread(f, r);
    fputs("}\n", f);
    fflush(f);
}

void bench_skip(const char *name, const char *why)
{
    if (g_mpi.rank != 0) return;
    fputs("{\"name\":", stdout);
    put_str(stdout, name);
    fputs(",\"skipped\":", stdout);
    put_str(stdout, why);
    fprintf(stdout, ",\"params\":{\"ranks\":%d}}\n", g_mpi.size);
    fflush(stdout);
}

void bench_progress(const char *fmt, ...)
{
    va_list ap;
    char line[512];
    if (!g_opts.verbose || g_mpi.rank != 0) return; /* rank 0 speaks for the job */
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g_mpi.size > 1) fprintf(stderr, "[bench %d/%d] %s\n", g_mpi.rank, g_mpi.size, line);
    else fprintf(stderr, "[bench] %s\n", line);
}

const char *bench_transport_name(void)
{
    const char *env = getenv("RINGMESH_TRANSPORT");
    return env && *env ? env : "ucx";
}

void *bench_comm(void) { return &g_comm; }

void bench_mpi_version(char *out, size_t cap)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    size_t i;
    MPI_Get_library_version(v, &len);
    for (i = 0; i + 1 < cap && v[i] && v[i] != ',' && v[i] != '\n' && v[i] != '"'; i++) out[i] = v[i];
    out[i] = '\0';
}

int bench_mpi_start(void)
{
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) return -1;
    g_mpi.inited = 1;
    MPI_Comm_dup(MPI_COMM_WORLD, &g_comm);
    MPI_Comm_rank(g_comm, &g_mpi.rank);
    MPI_Comm_size(g_comm, &g_mpi.size);
    if (provided < MPI_THREAD_MULTIPLE && g_mpi.rank == 0)
        fprintf(stderr, "[bench] warning: MPI gives thread level %d, not MULTIPLE; baselines share MPI with "
                        "ringmesh's progress thread\n", provided);
    return 0;
}

void bench_mpi_stop(void)
{
    if (!g_mpi.inited) return;
    bench_barrier();
    MPI_Comm_free(&g_comm);
    MPI_Finalize();
    g_mpi.inited = 0;
}

void bench_barrier(void)
{
    MPI_Request req;
    int done = 0;
    if (!g_mpi.inited || g_mpi.size == 1) return;
    long nap_ns = 50000;
    MPI_Ibarrier(*(MPI_Comm *)bench_comm(), &req);
    for (long spins = 0; !done; spins++) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done && spins > 100) {
            /* Never steal a core from the measured ranks: a rank that waits here while
             * its kernels work (rate, pingpong, pipeline) naps, 50 us at first and up
             * to 1 ms, so it wakes ~1000 times a second rather than 20000. */
            struct timespec ts = {0, nap_ns};
            nanosleep(&ts, NULL);
            if (nap_ns < 1000000) nap_ns *= 2;
        }
    }
}

rk_status_t bench_runtime_dist(rk_runtime_t **out)
{
    rk_runtime_params_t p;
    memset(&p, 0, sizeof p);
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
    p.transport = RK_TRANSPORT_AUTO;
    if (g_opts.credits > 0) {
        p.field_mask |= RK_RUNTIME_FIELD_CREDITS;
        p.credits = (uint32_t)g_opts.credits;
    }
    return rk_runtime_create(&p, out);
}

void bench_die(const char *where, rk_status_t st)
{
    fprintf(stderr, "[bench %d] FAILED: %s: %s\n", g_mpi.rank, where, rk_status_str(st));
    fflush(stderr);
    if (g_mpi.inited && g_mpi.size > 1) MPI_Abort(MPI_COMM_WORLD, 2);
    exit(2);
}

int bench_need_two_ranks(const char *name)
{
    char why[160];
    if (g_mpi.size == 2) return 0;
    snprintf(why, sizeof why, "needs exactly 2 ranks (mpirun -n 2 ringmesh-bench %s); this run has %d", name,
             g_mpi.size);
    bench_skip(name, why);
    return 1;
}
