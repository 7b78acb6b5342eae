/*
 * filter_body.h - the filter stage of ringmesh-pipeline as a device body
 * (ringmesh/device.h): portable C compiled as host C (the host backend, the
 * serial reference of --verify) and as CUDA (filter.cu: the persistent GPU
 * kernel). One StatBatch block in, one BatchSummary block out, no state.
 *
 * sig_filter_core is the arithmetic of sig_filter_reduce (signal.h); the
 * serial reference calls the same function, and filter.cu is compiled with
 * --fmad=false, so a GPU run reproduces the host's numbers bit for bit.
 */
#ifndef RINGMESH_PIPELINE_FILTER_BODY_H
#define RINGMESH_PIPELINE_FILTER_BODY_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "messages.h"
#include "ringmesh/device.h"
#include "signal.h"

#define SIG_FNV_OFFSET 1469598103934665603ull
#define SIG_FNV_PRIME 1099511628211ull

RK_DEVICE_BODY static inline uint64_t sig_fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * SIG_FNV_PRIME;
    return h;
}

/* See sig_filter_reduce in signal.h. */
RK_DEVICE_BODY static inline void sig_filter_core(const double *x, const double *mean, const double *std, size_t n,
                                                  long long start, int w, double k, sig_partial_t *out,
                                                  long long *aidx, double *aval)
{
    double sum = 0, m2 = 0, mean_sum = 0, lo = INFINITY, hi = -INFINITY;
    uint64_t h = sig_fnv_bytes(SIG_FNV_OFFSET, &start, sizeof start);
    long long anomalies = 0;

    for (size_t i = 0; i < n; i++) {
        long long idx = start + (long long)i;
        unsigned char flag = idx >= w && std[i] > 0 && fabs(x[i] - mean[i]) > k * std[i];
        if (flag) {
            if (aidx) aidx[anomalies] = idx;
            if (aval) aval[anomalies] = x[i];
            anomalies++;
        }
        sum += x[i];
        mean_sum += mean[i];
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
        h = sig_fnv_bytes(sig_fnv_bytes(h, &x[i], sizeof x[i]), &flag, 1);
    }
    out->n = (long long)n;
    out->mean = n ? sum / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) m2 += (x[i] - out->mean) * (x[i] - out->mean);
    out->m2 = m2;
    out->min = lo;
    out->max = hi;
    out->mean_sum = mean_sum;
    out->anomalies = anomalies;
    out->checksum = h;
}

/* A LIST of @p n 8-byte elements lies inside the @p len-byte block, aligned. */
RK_DEVICE_BODY static inline int pipeline_view_ok(rk_view_t v, uint32_t n, uint32_t len, uint32_t min_off)
{
    if (v.len != n) return 0;
    if (n == 0) return 1;
    return v.off >= min_off && v.off % 8 == 0 && (uint64_t)v.off + 8ull * n <= len;
}

/*
 * The filter: flag anomalies in one StatBatch and reduce it to a
 * BatchSummary (the anomalies' indices and values as two lists after the
 * struct). The header is the input's with `type` left NULL: the runtime fills
 * in BatchSummary (rk_device_kernel_t::out_type), since code on a GPU cannot
 * know a host descriptor's address. A malformed batch is never trusted: it
 * becomes a summary of no records with `errors` raised by one, so the sink
 * reports it.
 */
RK_DEVICE_BODY static inline uint32_t pipeline_filter_body(const uint8_t *in, uint32_t len, uint8_t *out,
                                                           uint32_t cap, void *state)
{
    const StatBatch *b = (const StatBatch *)in;
    BatchSummary *o = (BatchSummary *)out;
    const uint32_t lists = (uint32_t)((sizeof(BatchSummary) + 7) & ~(size_t)7);
    sig_partial_t p;
    uint32_t n;
    int ok;

    (void)state;
    if (len < sizeof(StatBatch) || cap < lists) return 0;
    n = b->values.len;
    ok = n <= SIG_MAX_BATCH && b->window >= 1 && b->window <= SIG_MAX_WINDOW && b->threshold > 0 &&
         b->start >= 0 && b->start <= INT64_MAX - SIG_MAX_BATCH && /* global indices never overflow */
         pipeline_view_ok(b->values, n, len, sizeof(StatBatch)) &&
         pipeline_view_ok(b->means, n, len, sizeof(StatBatch)) &&
         pipeline_view_ok(b->stds, n, len, sizeof(StatBatch)) && lists + 16ull * n <= cap;
    memset(out, 0, lists);
    o->hdr = b->hdr;
    o->hdr.type = NULL;
    o->seq = b->seq;
    o->start = b->start;
    uint8_t last_byte; /* the block's bytes are not trusted to hold a valid bool */
    memcpy(&last_byte, &b->last, 1);
    o->last = last_byte != 0;
    o->errors = b->errors;
    o->hdr.size = lists;
    if (!ok) {
        if (o->errors < INT64_MAX) o->errors += 1;
        return lists;
    }
    long long *aidx = (long long *)(out + lists);
    double *aval = (double *)(out + lists + 8u * n);
    const double *x = n ? (const double *)(in + b->values.off) : NULL;
    const double *mean = n ? (const double *)(in + b->means.off) : NULL;
    const double *sd = n ? (const double *)(in + b->stds.off) : NULL;
    sig_filter_core(x, mean, sd, n, b->start, (int)b->window, b->threshold, &p, aidx, aval);
    const uint32_t na = (uint32_t)p.anomalies;
    double *packed = (double *)(out + lists + 8u * na); /* values right after the indices */
    for (uint32_t i = 0; i < na; i++) packed[i] = aval[i];  /* packed <= aval: a forward copy is safe */
    o->count = p.n;
    o->anomalies = p.anomalies;
    o->mean = p.mean;
    o->m2 = p.m2;
    o->min = p.min;
    o->max = p.max;
    o->mean_sum = p.mean_sum;
    o->checksum = (int64_t)p.checksum;
    if (na) {
        o->anomaly_index.off = lists;
        o->anomaly_index.len = na;
        o->anomaly_value.off = lists + 8u * na;
        o->anomaly_value.len = na;
    }
    o->hdr.size = lists + 16u * na;
    return o->hdr.size;
}

#endif
