/*
 * signal.h - the math of ringmesh-pipeline, shared by its ring kernels and
 * by the serial reference run of --verify.
 *
 * Key idea: every number the pipeline reports comes from these functions, so
 * the distributed run and the serial run on rank 0 differ only in how the
 * batches travel (messages between ranks vs. a plain loop). Any loss,
 * duplication, reordering or corruption on the way changes the checksum, the
 * counts or the statistics.
 *
 * Stages:
 *   source  sig_generate / sig_load_file   -> values x[i]
 *   window  sig_window_process             -> trailing mean[i], std[i]: the
 *           statistics of the W samples before x[i] (fewer at the start),
 *           carried across batch boundaries by sig_window_t
 *   filter  sig_filter_reduce              -> anomaly flags (|x - mean| >
 *           k * std, only once the trailing window is full) and one
 *           sig_partial_t per batch
 *   sink    sig_agg_add                    -> global totals (sig_agg_t)
 */
#ifndef RINGMESH_PIPELINE_SIGNAL_H
#define RINGMESH_PIPELINE_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIG_MAX_BATCH 2048 /* keeps the largest message (3 float lists) under 64 KiB */
#define SIG_MAX_WINDOW 1000000

/* ---- source ------------------------------------------------------------- */

/** Sample @p index of the built-in data set: offset + three sines + noise + rare spikes. */
double sig_generate(uint64_t seed, long long index);
/** True when sample @p index carries an injected spike. */
bool sig_is_spike(uint64_t seed, long long index);
/** Fill @p out with samples [start, start + n). */
void sig_generate_batch(uint64_t seed, long long start, size_t n, double *out);

/** Values read from a file. */
typedef struct sig_data {
    double *v;
    size_t n, cap;
} sig_data_t;

/**
 * Read @p path: one number per line, or CSV "index,value" lines (index an
 * integer). Blank lines and lines starting with '#' are skipped. On error
 * returns false and writes "FILE:LINE: why" (or the system error) to @p err.
 */
bool sig_load_file(const char *path, sig_data_t *out, char *err, size_t errlen);
void sig_data_free(sig_data_t *d);

/* ---- window --------------------------------------------------------------- */

typedef struct sig_window {
    int w;             /* window length */
    double *ring;      /* the last min(count, w) samples */
    int count, head;   /* samples in the ring; next slot to overwrite */
    int since_exact;   /* slides since the last exact recomputation */
    double mean, m2;   /* of the samples in the ring (Welford) */
} sig_window_t;

bool sig_window_init(sig_window_t *s, int w);
void sig_window_free(sig_window_t *s);
/** For each x[i]: mean[i], std[i] of the window before it (0, 0 when empty), then add x[i]. */
void sig_window_process(sig_window_t *s, const double *x, size_t n, double *mean, double *std);

/* ---- filter ---------------------------------------------------------------- */

/** What the filter reduces one batch to. */
typedef struct sig_partial {
    long long n, anomalies;
    double mean, m2;   /* of the batch's values (two-pass) */
    double min, max;
    double mean_sum;   /* sum of the rolling means */
    uint64_t checksum; /* FNV-1a over every value's bits and its anomaly flag */
} sig_partial_t;

/**
 * Flag and reduce one batch whose first sample has global index @p start.
 * Writes the global indices and values of the anomalies to @p aidx / @p aval
 * (room for @p n entries each; either may be NULL).
 */
void sig_filter_reduce(const double *x, const double *mean, const double *std, size_t n, long long start, int w,
                       double k, sig_partial_t *out, long long *aidx, double *aval);

/* ---- sink ------------------------------------------------------------------- */

typedef struct sig_agg {
    long long records, batches, anomalies;
    double mean, m2, min, max, mean_sum;
    uint64_t checksum;
} sig_agg_t;

void sig_agg_init(sig_agg_t *a);
/** Fold one batch's partial into the totals (order matters for the checksum). */
void sig_agg_add(sig_agg_t *a, const sig_partial_t *p);
/** Population standard deviation of every value. */
double sig_agg_std(const sig_agg_t *a);

/* ---- serial reference ---------------------------------------------------------- */

/**
 * The whole pipeline as one loop over batches of @p batch: values from @p data
 * when non-NULL, else generated from @p seed for @p records samples.
 * Returns false only when out of memory.
 */
bool sig_serial_run(const sig_data_t *data, uint64_t seed, long long records, int batch, int w, double k,
                    sig_agg_t *out);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_PIPELINE_SIGNAL_H */
