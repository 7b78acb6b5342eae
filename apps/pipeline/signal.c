/*
 * signal.c - data set, rolling statistics, anomaly filter and aggregation of
 * ringmesh-pipeline (see signal.h for the stages).
 *
 * Key ideas: the built-in data set is counter-based (sample i depends only on
 * (seed, i) through a splitmix64 hash), so any stage or rank can produce any
 * range of it; the sliding window keeps Welford's mean/M2 with an O(1) update
 * per sample and recomputes them exactly once every W slides, so rounding
 * drift stays bounded over arbitrarily long streams.
 */
#define _POSIX_C_SOURCE 200809L
#include "signal.h"
#include "filter_body.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586
#define SPIKE_ONE_IN 2000u

/* ---- source ------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Uniform in (0, 1) from 53 random bits. */
static double unit(uint64_t h) { return ((double)(h >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

static uint64_t sample_hash(uint64_t seed, long long index, uint64_t stream)
{
    return splitmix64(splitmix64(seed ^ (stream * 0xd1b54a32d192ed03ull)) ^ (uint64_t)index);
}

bool sig_is_spike(uint64_t seed, long long index)
{
    return sample_hash(seed, index, 3) % SPIKE_ONE_IN == 0;
}

double sig_generate(uint64_t seed, long long index)
{
    double t = (double)index;
    double u1 = unit(sample_hash(seed, index, 1)), u2 = unit(sample_hash(seed, index, 2));
    double noise = 0.25 * sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2); /* Box-Muller */
    double v = 10.0 + 2.0 * sin(TWO_PI * t / 20000.0) + 1.0 * sin(TWO_PI * t / 7000.0 + 0.5) +
               0.5 * sin(TWO_PI * t / 2500.0 + 1.3) + noise;

    if (sig_is_spike(seed, index)) {
        uint64_t h = sample_hash(seed, index, 4);
        double mag = 2.0 + 4.0 * unit(h); /* 2..6, i.e. 8..24 noise sigmas */
        v += (h & 1) ? mag : -mag;
    }
    return v;
}

void sig_generate_batch(uint64_t seed, long long start, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++) out[i] = sig_generate(seed, start + (long long)i);
}

static bool data_push(sig_data_t *d, double v)
{
    if (d->n == d->cap) {
        size_t ncap = d->cap ? 2 * d->cap : 4096;
        double *nv = realloc(d->v, ncap * sizeof *nv);
        if (!nv) return false;
        d->v = nv;
        d->cap = ncap;
    }
    d->v[d->n++] = v;
    return true;
}

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    return s;
}

/* Parse a finite number spanning [s, end-of-field); *rest gets what follows. */
static bool parse_num(const char *s, double *v, const char **rest)
{
    char *end;
    s = skip_blank(s);
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || (errno == ERANGE && fabs(*v) > 1) || !isfinite(*v)) return false;
    *rest = skip_blank(end);
    return true;
}

/* One line: "value" or "index,value". Returns NULL or why it is bad. */
static const char *parse_line(const char *line, double *value)
{
    const char *rest;
    double first;

    if (!parse_num(line, &first, &rest)) return "expected a number or 'index,value'";
    if (*rest == '\0') {
        *value = first;
        return NULL;
    }
    if (*rest != ',') return "unexpected text after the number";
    if (first != floor(first) || fabs(first) > 9e15) return "the index before ',' is not an integer";
    if (!parse_num(rest + 1, value, &rest)) return "expected a number after ','";
    if (*rest != '\0') return "unexpected text after the value";
    return NULL;
}

bool sig_load_file(const char *path, sig_data_t *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    long long lineno = 0;
    bool ok = true;

    memset(out, 0, sizeof *out);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    while (ok && getline(&line, &cap, f) >= 0) {
        const char *s = skip_blank(line), *why;
        double v;
        lineno++;
        if (*s == '\0' || *s == '#') continue;
        why = parse_line(s, &v);
        if (why) snprintf(err, errlen, "%s:%lld: %s", path, lineno, why);
        else if (!data_push(out, v)) {
            why = "out of memory";
            snprintf(err, errlen, "%s: out of memory", path);
        }
        ok = why == NULL;
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        ok = false;
    }
    if (ok && out->n == 0) {
        snprintf(err, errlen, "%s: no data (every line blank or a comment)", path);
        ok = false;
    }
    free(line);
    fclose(f);
    if (!ok) sig_data_free(out);
    return ok;
}

void sig_data_free(sig_data_t *d)
{
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* ---- window --------------------------------------------------------------- */

bool sig_window_init(sig_window_t *s, int w)
{
    memset(s, 0, sizeof *s);
    s->w = w;
    s->ring = calloc((size_t)w, sizeof *s->ring);
    return s->ring != NULL;
}

void sig_window_free(sig_window_t *s)
{
    free(s->ring);
    memset(s, 0, sizeof *s);
}

/* Two-pass mean and M2 of the full ring: the periodic exact reset. */
static void window_recompute(sig_window_t *s)
{
    double sum = 0, m2 = 0;
    for (int i = 0; i < s->count; i++) sum += s->ring[i];
    s->mean = sum / s->count;
    for (int i = 0; i < s->count; i++) m2 += (s->ring[i] - s->mean) * (s->ring[i] - s->mean);
    s->m2 = m2;
    s->since_exact = 0;
}

static void window_add(sig_window_t *s, double x)
{
    if (s->count < s->w) { /* filling: Welford insert */
        double delta = x - s->mean;
        s->ring[s->count++] = x;
        s->mean += delta / s->count;
        s->m2 += delta * (x - s->mean);
        s->head = s->count % s->w;
        return;
    }
    double old = s->ring[s->head], mean0 = s->mean; /* full: slide old -> x */
    s->ring[s->head] = x;
    s->head = (s->head + 1) % s->w;
    s->mean = mean0 + (x - old) / s->w;
    s->m2 += (x - old) * (x - s->mean + old - mean0);
    if (++s->since_exact >= s->w) window_recompute(s);
}

void sig_window_process(sig_window_t *s, const double *x, size_t n, double *mean, double *std)
{
    for (size_t i = 0; i < n; i++) {
        mean[i] = s->count ? s->mean : 0.0;
        std[i] = s->count ? sqrt(fmax(s->m2, 0.0) / s->count) : 0.0;
        window_add(s, x[i]);
    }
}

/* ---- filter ---------------------------------------------------------------- */

void sig_filter_reduce(const double *x, const double *mean, const double *std, size_t n, long long start, int w,
                       double k, sig_partial_t *out, long long *aidx, double *aval)
{
    sig_filter_core(x, mean, std, n, start, w, k, out, aidx, aval); /* filter_body.h: the device body's math */
}

/* ---- sink ------------------------------------------------------------------- */

void sig_agg_init(sig_agg_t *a)
{
    memset(a, 0, sizeof *a);
    a->min = INFINITY;
    a->max = -INFINITY;
    a->checksum = SIG_FNV_OFFSET;
}

void sig_agg_add(sig_agg_t *a, const sig_partial_t *p)
{
    long long n = a->records + p->n;
    if (p->n > 0) { /* Chan et al.: merge two (n, mean, M2) */
        double delta = p->mean - a->mean;
        a->mean += delta * (double)p->n / (double)n;
        a->m2 += p->m2 + delta * delta * (double)a->records * (double)p->n / (double)n;
        a->min = fmin(a->min, p->min);
        a->max = fmax(a->max, p->max);
    }
    a->records = n;
    a->batches++;
    a->anomalies += p->anomalies;
    a->mean_sum += p->mean_sum;
    a->checksum = sig_fnv_bytes(a->checksum, &p->checksum, sizeof p->checksum);
}

double sig_agg_std(const sig_agg_t *a) { return a->records ? sqrt(fmax(a->m2, 0.0) / (double)a->records) : 0.0; }

/* ---- serial reference ---------------------------------------------------------- */

bool sig_serial_run(const sig_data_t *data, uint64_t seed, long long records, int batch, int w, double k,
                    sig_agg_t *out)
{
    double *x = malloc((size_t)batch * sizeof *x), *mean = malloc((size_t)batch * sizeof *mean);
    double *sd = malloc((size_t)batch * sizeof *sd);
    sig_window_t win;
    bool ok = x && mean && sd && sig_window_init(&win, w);

    sig_agg_init(out);
    for (long long start = 0; ok && start < records; start += batch) {
        size_t n = (size_t)(records - start < batch ? records - start : batch);
        sig_partial_t p;
        if (data) memcpy(x, data->v + start, n * sizeof *x);
        else sig_generate_batch(seed, start, n, x);
        sig_window_process(&win, x, n, mean, sd);
        sig_filter_reduce(x, mean, sd, n, start, w, k, &p, NULL, NULL);
        sig_agg_add(out, &p);
    }
    if (ok) sig_window_free(&win);
    free(x);
    free(mean);
    free(sd);
    return ok;
}
