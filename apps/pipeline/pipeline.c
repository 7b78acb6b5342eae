/*
 * pipeline.c - ringmesh-pipeline: a streaming signal-processing pipeline of
 * four ring kernels, source -> window -> filter -> sink, placed on any ranks.
 *
 * The source streams the data set (built in, or --input FILE) as RawBatch
 * messages (a LIST of FLOAT per batch); window adds the rolling mean and
 * standard deviation of the W samples before each value (StatBatch); filter
 * flags anomalies (|x - mean| > k * std) and reduces each batch to a
 * BatchSummary; sink folds the summaries into global totals and, on the end
 * marker, emits a PipelineResult that the main thread of its rank receives
 * with rk_receive(rt, "sink", ...). The result is broadcast to every rank and
 * rank 0 prints it; --verify recomputes everything serially on rank 0 with
 * the same functions (signal.c) and compares.
 *
 * Key ideas: each stage has exactly one upstream sender and all data uses one
 * priority, so the runtime's per-(sender, priority) FIFO order is the stream
 * order; every message carries a sequence number that each stage checks. End
 * of stream is an in-band marker (last = true, start = records sent, seq =
 * batches sent) that each stage forwards after its data and cross-checks.
 * Errors seen anywhere travel downstream in the `errors` field.
 */
#define _POSIX_C_SOURCE 200809L
#include "filter_body.h"
#include "messages.h"
#include "signal.h"
#include "../common/app_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages (declared in messages.h) ---------------------------------------------- */

RK_MESSAGE_DEFINE(RawBatch, RAW_BATCH)
RK_MESSAGE_DEFINE(StatBatch, STAT_BATCH)
RK_MESSAGE_DEFINE(BatchSummary, BATCH_SUMMARY)
RK_MESSAGE_DEFINE(PipelineStart, PIPELINE_START)
RK_MESSAGE_DEFINE(PipelineResult, PIPELINE_RESULT)

/* ---- configuration ----------------------------------------------------------------- */

enum { ST_SOURCE, ST_WINDOW, ST_FILTER, ST_SINK, NSTAGES };
static const char *const stage_id[NSTAGES] = {"source", "window", "filter", "sink"};

#define NFIRST 5 /* anomalies listed in the summary */
#define SPIKE_COUNT_MAX 100000000LL /* larger built-in data sets skip the spike count */

typedef struct config {
    long long records; /* -1: not given */
    long long batch, window, seed, queue;
    long long drop_batch; /* testing aid: window drops this batch (-1: none) */
    double threshold, progress_s, timeout_s;
    const char *input, *place_arg;
    bool verify;
    int place[NSTAGES];
    char host[NSTAGES][APP_HOST_MAX]; /* the node of each stage's rank */
    sig_data_t data; /* --input, loaded where needed */
} config_t;

/* What the sink's rank learns and broadcasts (plain data: same binary everywhere). */
typedef struct outcome {
    int ok;
    char why[160];
    sig_agg_t agg;
    long long errors;
    double wall_s;
    int nfirst;
    long long first_index[NFIRST];
    double first_value[NFIRST];
} outcome_t;

/* One kernel's state; the kernel thread owns it, except `done`. */
typedef struct stage {
    const config_t *cfg;
    int which;
    long long next_seq, records, errors;
    sig_window_t win;          /* window */
    double *mean, *std;        /* window: scratch */
    sig_agg_t agg;             /* sink */
    int nfirst;                /* sink */
    int64_t first_index[NFIRST];
    double first_value[NFIRST];
    _Atomic long long done;    /* sink: records aggregated, read by the main thread */
} stage_t;

static const char usage_text[] =
    "Usage: mpirun -n N ringmesh-pipeline [OPTIONS]\n"
    "\n"
    "A streaming signal-processing pipeline of four ring kernels:\n"
    "  source -> window -> filter -> sink\n"
    "source  streams the records in batches (a LIST of FLOAT per message);\n"
    "window  computes the rolling mean and standard deviation of the W samples\n"
    "        before each record, carried across batches;\n"
    "filter  flags anomalies, |x - mean| > k * std once the window is full, and\n"
    "        reduces each batch to a summary; a device body: it runs as a\n"
    "        persistent GPU kernel where a GPU is usable, else the same C on\n"
    "        the host;\n"
    "sink    aggregates: records, anomalies, mean / stddev / min / max of the\n"
    "        signal, sum of the rolling means and an order-sensitive checksum.\n"
    "\n"
    "Data (default): a built-in deterministic data set, an offset multi-sine with\n"
    "Gaussian noise and rare injected spikes, from a fixed-seed hash.\n"
    "\n"
    "Options:\n"
    "  --records N       records to stream (default 1000000, 1..1e12); with\n"
    "                    --input, use at most the first N records of the file\n"
    "  --seed S          seed of the built-in data set (default 42, >= 0)\n"
    "  --input FILE      read the records from FILE instead: one number per line\n"
    "                    or CSV 'index,value' lines; blank lines and '#' comments\n"
    "                    are skipped; a bad line is an error naming its number\n"
    "  --batch B         records per message (default 1024, 1..2048: messages\n"
    "                    stay under 64 KiB)\n"
    "  --window W        rolling window length in samples (default 64, 1..1000000)\n"
    "  --threshold K     anomaly threshold in standard deviations (default 4, > 0)\n"
    "  --place S,W,F,K   rank of source, window, filter and sink (default: stage i\n"
    "                    on the i-th rank ordered by node, then by rank, so the\n"
    "                    stages spread over the job's nodes; on one node rank\n"
    "                    i % N; printed as 'placement')\n"
    "  --queue Q         mailbox capacity of each stage in messages (default 64,\n"
    "                    1..65536)\n"
    "  --progress S      the sink prints a progress line every S seconds (default\n"
    "                    2, 0 = off)\n"
    "  --timeout S       give up when no record reaches the sink for S seconds\n"
    "                    (default 120, 1..86400)\n"
    "  --verify          recompute everything serially on rank 0 (same math, no\n"
    "                    kernels) and compare: counts and checksum exact, floats\n"
    "                    within a relative 1e-9; prints VERIFY OK or VERIFY FAILED\n"
    "  --drop-batch I    testing aid: the window stage silently drops batch I, so\n"
    "                    the stages' checks and --verify must report the loss\n"
    "  -h, --help        show this help and exit\n"
    "\n"
    "Environment: RINGMESH_TRANSPORT=ucx|mpi (default ucx); RINGMESH_LOG=info shows\n"
    "the runtime's log (e.g. where the filter kernel runs: GPU or host).\n"
    "Exit status: 0 success, 1 pipeline error or VERIFY FAILED, 2 bad usage or a\n"
    "bad input file.\n"
    "Example: mpirun -n 4 ringmesh-pipeline --records 2000000 --verify\n";

/* ---- options -------------------------------------------------------------------------- */

/* Parse "s,w,f,k" into four ranks (format only; the range needs the job size). */
static bool parse_place(const char *s, int place[NSTAGES])
{
    for (int i = 0; i < NSTAGES; i++) {
        char *end;
        long v;
        if (*s < '0' || *s > '9') return false;
        v = strtol(s, &end, 10);
        if (v > 1000000 || (i < NSTAGES - 1 ? *end != ',' : *end != '\0')) return false;
        place[i] = (int)v;
        s = end + 1;
    }
    return true;
}

/* Returns -1 to go on, else the exit code (help printed, or a usage error). */
static int parse_options(int argc, char **argv, config_t *c)
{
    const char *prog = app_prog_name(argv[0]);
    const app_opt_t opts[] = {
        {"records", APP_OPT_INT, &c->records, 1, 1000000000000LL, 0, 0},
        {"seed", APP_OPT_INT, &c->seed, 0, INT64_MAX, 0, 0},
        {"input", APP_OPT_STR, &c->input, 0, 0, 0, 0},
        {"batch", APP_OPT_INT, &c->batch, 1, SIG_MAX_BATCH, 0, 0},
        {"window", APP_OPT_INT, &c->window, 1, SIG_MAX_WINDOW, 0, 0},
        {"threshold", APP_OPT_DOUBLE, &c->threshold, 0, 0, 1e-9, 1e9},
        {"place", APP_OPT_STR, &c->place_arg, 0, 0, 0, 0},
        {"queue", APP_OPT_INT, &c->queue, 1, 65536, 0, 0},
        {"progress", APP_OPT_DOUBLE, &c->progress_s, 0, 0, 0, 3600},
        {"timeout", APP_OPT_DOUBLE, &c->timeout_s, 0, 0, 1, 86400},
        {"verify", APP_OPT_FLAG, &c->verify, 0, 0, 0, 0},
        {"drop-batch", APP_OPT_INT, &c->drop_batch, 0, INT64_MAX, 0, 0},
        {NULL, APP_OPT_FLAG, NULL, 0, 0, 0, 0},
    };
    app_args_t args;

    memset(c, 0, sizeof *c);
    c->records = -1;
    c->batch = 1024;
    c->window = 64;
    c->seed = 42;
    c->queue = 64;
    c->threshold = 4;
    c->progress_s = 2;
    c->timeout_s = 120;
    c->drop_batch = -1;
    if (!app_parse_options(argc, argv, opts, false, &args)) return APP_EXIT_USAGE;
    bool help = args.help;
    app_args_free(&args);
    if (help) {
        fputs(usage_text, stdout);
        return APP_EXIT_OK;
    }
    for (int i = 0; i < NSTAGES; i++) c->place[i] = -1;
    if (c->place_arg && !parse_place(c->place_arg, c->place)) {
        app_usage_error(prog, "invalid value '%s' for --place: expected four ranks 'S,W,F,K', e.g. 0,1,1,0",
                        c->place_arg);
        return APP_EXIT_USAGE;
    }
    return -1;
}

/*
 * Default placement and the range check; every rank decides the same. Stage i
 * goes to the i-th rank of the job's ranks ordered by node, then by rank, so
 * a job spanning several nodes uses them (-N 2 -n 8: nodes A, B, A, B); on
 * one node that is rank i % size.
 */
static bool resolve_place(config_t *c, int size, int rank)
{
    int order[1024];
    static char hosts[1024][APP_HOST_MAX];
    bool spread = size <= 1024 && app_node_order(size, order, hosts);
    for (int i = 0; i < NSTAGES; i++) {
        if (c->place[i] < 0) c->place[i] = spread ? order[i % size] : i % size;
        if (spread && c->place[i] >= 0 && c->place[i] < size)
            snprintf(c->host[i], sizeof c->host[i], "%s", hosts[c->place[i]]);
        if (c->place[i] >= size) {
            if (rank == 0)
                app_usage_error("ringmesh-pipeline", "--place %s: rank %d of stage '%s' does not exist (job of %d)",
                                c->place_arg ? c->place_arg : "", c->place[i], stage_id[i], size);
            return false;
        }
    }
    return true;
}

/*
 * Load --input where it is needed (the source's rank; rank 0 too for
 * --verify), agree on success, and learn the record count everywhere.
 */
static int prepare_data(config_t *c, int rank)
{
    char err[512] = "";
    long long bad = 0, n = c->records;
    bool need = c->input && (rank == c->place[ST_SOURCE] || (c->verify && rank == 0));

    if (!c->input) {
        if (c->records < 0) c->records = 1000000;
        return -1;
    }
    if (need && !sig_load_file(c->input, &c->data, err, sizeof err)) {
        bad = 1;
        if (rank == c->place[ST_SOURCE]) fprintf(stderr, "ringmesh-pipeline: %s\n", err);
    }
    if (app_allreduce_max(bad)) return APP_EXIT_USAGE;
    if (rank == c->place[ST_SOURCE]) n = c->records < 0 || (size_t)c->records > c->data.n ? (long long)c->data.n : c->records;
    app_bcast(&n, sizeof n, c->place[ST_SOURCE]);
    c->records = n;
    return -1;
}

/* ---- kernels ----------------------------------------------------------------------------- */

/* rk_ctx_send_to, retried while the receiver is merely full (a BLOCK timeout). */
static rk_status_t forward(rk_ctx_t *ctx, int to, const rk_msg_t *m)
{
    for (;;) {
        rk_status_t st = rk_ctx_send_to(ctx, stage_id[to], m);
        if (st != RK_ERR_TIMEOUT || rk_ctx_should_terminate(ctx)) return st;
    }
}

static void stage_error(stage_t *s, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->errors++;
    fprintf(stderr, "ringmesh-pipeline: %s: %s\n", stage_id[s->which], line);
}

/* Check a message's sequence number (data) or the end marker's totals. */
static void check_seq(stage_t *s, long long seq, long long start, bool last, long long n)
{
    if (last) {
        if (seq != s->next_seq) stage_error(s, "end marker after %lld batches, %lld received", seq, s->next_seq);
        if (start != s->records) stage_error(s, "end marker after %lld records, %lld received", start, s->records);
        return;
    }
    if (seq != s->next_seq) stage_error(s, "batch %lld arrived, %lld expected", seq, s->next_seq);
    if (start != s->records) stage_error(s, "batch starting at %lld arrived, %lld expected", start, s->records);
    s->next_seq = seq + 1;
    s->records = start + n;
}

static rk_status_t send_raw(rk_ctx_t *ctx, stage_t *s, long long seq, long long start, const double *x, size_t n,
                            bool last)
{
    RawBatch *b = NULL;
    rk_status_t st = RawBatch_new_sized(&b, n * sizeof *x + 16);
    if (st != RK_OK) return st;
    b->seq = seq;
    b->start = start;
    b->last = last;
    b->errors = s->errors;
    if (n) st = RawBatch_set_values(&b, x, n);
    if (st == RK_OK) st = forward(ctx, ST_WINDOW, &b->hdr);
    rk_msg_free(&b->hdr);
    return st;
}

/* Stream every record to `window`, then the end marker. */
static void source_stream(rk_ctx_t *ctx, stage_t *s)
{
    const config_t *c = s->cfg;
    double *x = malloc((size_t)c->batch * sizeof *x);
    long long seq = 0, start = 0;
    rk_status_t st = x ? RK_OK : RK_ERR_NOMEM;

    for (; st == RK_OK && start < c->records && !rk_ctx_should_terminate(ctx); seq++) {
        size_t n = (size_t)(c->records - start < c->batch ? c->records - start : c->batch);
        if (c->input) memcpy(x, c->data.v + start, n * sizeof *x);
        else sig_generate_batch((uint64_t)c->seed, start, n, x);
        st = send_raw(ctx, s, seq, start, x, n, false);
        if (st == RK_OK) start += (long long)n;
    }
    if (st != RK_OK) {
        s->errors++;
        fprintf(stderr, "ringmesh-pipeline: source: sending batch %lld failed: %s\n", seq, rk_status_str(st));
    }
    st = send_raw(ctx, s, seq, start, NULL, 0, true);
    if (st != RK_OK) fprintf(stderr, "ringmesh-pipeline: source: sending the end marker failed: %s\n", rk_status_str(st));
    free(x);
}

static void source_body(rk_ctx_t *ctx, void *arg)
{
    stage_t *s = arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = NULL;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        if (m->type == PipelineStart_type()) source_stream(ctx, s);
        rk_msg_free(m);
    }
}

static rk_status_t window_handle(rk_ctx_t *ctx, stage_t *s, const rk_msg_t *m)
{
    const RawBatch *in = RawBatch_cast(m);
    if (!in) return RK_ERR_TYPE;
    size_t n = in->values.len;
    const double *x = RK_LIST(in, values, double);
    StatBatch *out = NULL;
    rk_status_t st;

    if (n > SIG_MAX_BATCH || (n && !x)) {
        stage_error(s, "batch %lld has %lld values (bad size)", in->seq, (long long)n);
        return RK_OK;
    }
    check_seq(s, in->seq, in->start, in->last, (long long)n);
    sig_window_process(&s->win, x, n, s->mean, s->std);
    if (!in->last && in->seq == s->cfg->drop_batch) return RK_OK; /* --drop-batch */
    st = StatBatch_new_sized(&out, 3 * n * sizeof *x + 32);
    if (st != RK_OK) return st;
    out->seq = in->seq;
    out->start = in->start;
    out->last = in->last;
    out->errors = in->errors + s->errors;
    out->window = s->cfg->window;
    out->threshold = s->cfg->threshold;
    if (n) st = StatBatch_set_values(&out, x, n);
    if (n && st == RK_OK) st = StatBatch_set_means(&out, s->mean, n);
    if (n && st == RK_OK) st = StatBatch_set_stds(&out, s->std, n);
    if (st == RK_OK) st = forward(ctx, ST_FILTER, &out->hdr);
    rk_msg_free(&out->hdr);
    return st;
}

/* The end marker reached the sink: emit the totals to this rank's main thread. */
static rk_status_t sink_finish(rk_ctx_t *ctx, stage_t *s, long long upstream_errors)
{
    PipelineResult *r = NULL;
    rk_status_t st = PipelineResult_new_sized(&r, NFIRST * 16 + 32);
    if (st != RK_OK) return st;
    r->records = s->agg.records;
    r->batches = s->agg.batches;
    r->anomalies = s->agg.anomalies;
    r->mean = s->agg.mean;
    r->m2 = s->agg.m2;
    r->min = s->agg.min;
    r->max = s->agg.max;
    r->mean_sum = s->agg.mean_sum;
    r->checksum = (int64_t)s->agg.checksum;
    r->errors = upstream_errors + s->errors;
    if (s->nfirst) st = PipelineResult_set_first_index(&r, s->first_index, (size_t)s->nfirst);
    if (s->nfirst && st == RK_OK) st = PipelineResult_set_first_value(&r, s->first_value, (size_t)s->nfirst);
    if (st == RK_OK) st = rk_ctx_send(ctx, &r->hdr);
    rk_msg_free(&r->hdr);
    return st;
}

static rk_status_t sink_handle(rk_ctx_t *ctx, stage_t *s, const rk_msg_t *m)
{
    const BatchSummary *in = BatchSummary_cast(m);
    if (!in) return RK_ERR_TYPE;
    const long long *ai = RK_LIST(in, anomaly_index, long long);
    const double *av = RK_LIST(in, anomaly_value, double);
    size_t na = in->anomaly_index.len;
    sig_partial_t p = {in->count, in->anomalies, in->mean, in->m2, in->min, in->max, in->mean_sum,
                       (uint64_t)in->checksum};

    if (in->count < 0 || in->count > SIG_MAX_BATCH || (long long)na != in->anomalies || in->anomaly_value.len != na) {
        stage_error(s, "batch %lld: bad summary (%lld anomalies listed)", in->seq, (long long)na);
        return RK_OK;
    }
    check_seq(s, in->seq, in->start, in->last, in->count);
    if (in->last) return sink_finish(ctx, s, in->errors);
    sig_agg_add(&s->agg, &p);
    for (size_t i = 0; i < na && s->nfirst < NFIRST; i++, s->nfirst++) {
        s->first_index[s->nfirst] = ai[i];
        s->first_value[s->nfirst] = av[i];
    }
    atomic_store(&s->done, s->agg.records);
    return RK_OK;
}

typedef rk_status_t (*handler_fn)(rk_ctx_t *ctx, stage_t *s, const rk_msg_t *m);

/* The loop of window, filter and sink: one message type in, one handler. */
static void run_stage(rk_ctx_t *ctx, stage_t *s, const rk_msg_type_t *want, handler_fn handle)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = NULL;
        rk_status_t st;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        if (m->type != want) {
            stage_error(s, "unexpected %s message", m->type ? m->type->name : "untyped");
        } else if ((st = handle(ctx, s, m)) != RK_OK) {
            s->errors++;
            fprintf(stderr, "ringmesh-pipeline: %s: cannot forward a batch: %s\n", stage_id[s->which],
                    rk_status_str(st));
        }
        rk_msg_free(m);
    }
}

static void window_body(rk_ctx_t *ctx, void *arg) { run_stage(ctx, arg, RawBatch_type(), window_handle); }
static void sink_body(rk_ctx_t *ctx, void *arg) { run_stage(ctx, arg, BatchSummary_type(), sink_handle); }

/* The filter has no host function: it is a device body (filter_body.h) run by the runtime. */
static const rk_kernel_fn stage_fn[NSTAGES] = {source_body, window_body, NULL, sink_body};

#ifdef RINGMESH_HAVE_CUDA
rk_device_launch_fn pipeline_filter_launcher(void); /* filter.cu */
#else
static rk_device_launch_fn pipeline_filter_launcher(void) { return NULL; }
#endif

/* Largest StatBatch / BatchSummary block for batches of @p batch records, plus the slot header. */
static uint32_t filter_slot_size(long long batch)
{
    size_t in = sizeof(StatBatch) + 3 * 8 * (size_t)batch, out = sizeof(BatchSummary) + 8 + 16 * (size_t)batch;
    size_t slot = (in > out ? in : out) + 8 + 64;
    return (uint32_t)((slot + 7) / 8 * 8);
}

/* ---- setup ------------------------------------------------------------------------------- */

static bool stage_init(stage_t *s, const config_t *c, int which)
{
    memset(s, 0, sizeof *s);
    s->cfg = c;
    s->which = which;
    sig_agg_init(&s->agg);
    atomic_init(&s->done, 0);
    if (which == ST_WINDOW) {
        s->mean = malloc(SIG_MAX_BATCH * sizeof *s->mean);
        s->std = malloc(SIG_MAX_BATCH * sizeof *s->std);
        return s->mean && s->std && sig_window_init(&s->win, (int)c->window);
    }
    return true;
}

static void stage_free(stage_t *s)
{
    sig_window_free(&s->win);
    free(s->mean);
    free(s->std);
}

static rk_status_t register_types(rk_runtime_t *rt)
{
    const rk_msg_type_t *types[] = {RawBatch_type(), StatBatch_type(), BatchSummary_type(), PipelineStart_type(),
                                    PipelineResult_type()};
    rk_status_t st = RK_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && st == RK_OK; i++)
        st = rk_runtime_register_type(rt, types[i]);
    return st;
}

/* Register types, start this rank's kernels, then the collective sync. */
static rk_status_t launch(rk_runtime_t *rt, const config_t *c, stage_t stages[NSTAGES])
{
    rk_status_t st = register_types(rt);
    int rank = rk_runtime_rank(rt);
    static rk_device_kernel_t filter_dk; /* read by the runtime while the kernel lives */

    filter_dk.host_body = pipeline_filter_body;
    filter_dk.launch = pipeline_filter_launcher();
    filter_dk.slot_size = filter_slot_size(c->batch);
    filter_dk.out_type = BatchSummary_type();

    for (int i = 0; i < NSTAGES && st == RK_OK; i++) {
        rk_kernel_params_t kp;
        if (c->place[i] != rank) continue;
        memset(&kp, 0, sizeof kp);
        kp.kernel_id = stage_id[i];
        kp.fn = stage_fn[i];
        kp.arg = &stages[i];
        kp.capacity = (uint32_t)c->queue;
        kp.field_mask = RK_KERNEL_FIELD_ARG | RK_KERNEL_FIELD_CAPACITY;
        if (i == ST_FILTER) { /* a device body: on a GPU when one is usable, else the same C here */
            kp.field_mask |= RK_KERNEL_FIELD_DEVICE | RK_KERNEL_FIELD_FORWARD | RK_KERNEL_FIELD_BACKEND;
            kp.device = &filter_dk;
            kp.forward_to = stage_id[ST_SINK];
            kp.backend = RK_BACKEND_AUTO;
        }
        st = rk_kernel_start(rt, &kp);
    }
    if (st == RK_OK) st = rk_runtime_sync(rt);
    return st;
}

/* ---- running -------------------------------------------------------------------------------- */

static void print_progress(const config_t *c, long long done, double t0, double *last_t, long long *last_done)
{
    double now = app_now(), dt = now - *last_t;
    printf("[sink] %lld / %lld records (%.1f%%), %.0f records/s, %.1f s\n", done, c->records,
           c->records ? 100.0 * (double)done / (double)c->records : 100.0,
           dt > 0 ? (double)(done - *last_done) / dt : 0.0, now - t0);
    fflush(stdout);
    *last_t = now;
    *last_done = done;
}

static void take_result(const PipelineResult *r, outcome_t *o)
{
    const long long *fi = RK_LIST(r, first_index, long long);
    const double *fv = RK_LIST(r, first_value, double);

    o->agg.records = r->records;
    o->agg.batches = r->batches;
    o->agg.anomalies = r->anomalies;
    o->agg.mean = r->mean;
    o->agg.m2 = r->m2;
    o->agg.min = r->min;
    o->agg.max = r->max;
    o->agg.mean_sum = r->mean_sum;
    o->agg.checksum = (uint64_t)r->checksum;
    o->errors = r->errors;
    o->nfirst = r->first_index.len <= NFIRST && r->first_value.len == r->first_index.len ? (int)r->first_index.len : 0;
    for (int i = 0; i < o->nfirst; i++) {
        o->first_index[i] = fi[i];
        o->first_value[i] = fv[i];
    }
    o->ok = 1;
}

/* The sink's rank: wait for the result, printing progress; gives up after a stall. */
static void await_result(rk_runtime_t *rt, const config_t *c, stage_t *sink, double t0, outcome_t *o)
{
    double last_t = t0, next = t0 + c->progress_s, change_t = t0;
    long long last_done = 0, seen = 0;

    for (;;) {
        double now = app_now(), until = c->progress_s > 0 ? next : now + 0.5;
        rk_msg_t *m = NULL;
        rk_status_t st = rk_receive(rt, stage_id[ST_SINK], (int64_t)(fmax(until - now, 0.001) * 1e6), &m);
        if (st == RK_OK) {
            const PipelineResult *res = PipelineResult_cast(m);
            bool done = res != NULL;
            if (done) take_result(res, o);
            rk_msg_free(m);
            if (done) break;
            continue;
        }
        if (st != RK_ERR_TIMEOUT) {
            snprintf(o->why, sizeof o->why, "waiting for the sink: %s", rk_status_str(st));
            break;
        }
        now = app_now();
        long long done = atomic_load(&sink->done);
        if (done != seen) {
            seen = done;
            change_t = now;
        } else if (now - change_t > c->timeout_s) {
            snprintf(o->why, sizeof o->why, "no record reached the sink for %.0f s (%lld of %lld done)",
                     c->timeout_s, done, c->records);
            break;
        }
        if (c->progress_s > 0 && now >= next) {
            print_progress(c, done, t0, &last_t, &last_done);
            while (next <= now) next += c->progress_s;
        }
    }
    o->wall_s = app_now() - t0;
}

/* Kick off the stream and wait for its end; every rank returns the same outcome. */
static void run(rk_runtime_t *rt, const config_t *c, stage_t stages[NSTAGES], outcome_t *o)
{
    int rank = rk_runtime_rank(rt);
    double t0;

    memset(o, 0, sizeof *o);
    app_barrier();
    t0 = app_now();
    if (rank == c->place[ST_SOURCE]) {
        PipelineStart *go = NULL;
        rk_status_t st = PipelineStart_new(&go);
        if (st == RK_OK) {
            go->records = c->records;
            st = rk_send(rt, stage_id[ST_SOURCE], &go->hdr);
            rk_msg_free(&go->hdr);
        }
        if (st != RK_OK) fprintf(stderr, "ringmesh-pipeline: cannot start the source: %s\n", rk_status_str(st));
    }
    if (rank == c->place[ST_SINK]) await_result(rt, c, &stages[ST_SINK], t0, o);
    app_bcast(o, sizeof *o, c->place[ST_SINK]);
}

/* ---- report ------------------------------------------------------------------------------------ */

static void print_header(const config_t *c, int size)
{
    printf("ringmesh-pipeline: source -> window -> filter -> sink on %d rank(s), transport %s\n", size,
           app_transport_name());
    printf("  placement      source@%d (%s) window@%d (%s) filter@%d (%s) sink@%d (%s)\n", c->place[0], c->host[0],
           c->place[1], c->host[1], c->place[2], c->host[2], c->place[3], c->host[3]);
    if (c->input) {
        printf("  data           %s, %lld records\n", c->input, c->records);
    } else {
        printf("  data           built-in multi-sine + noise + spikes, %lld records, seed %lld", c->records, c->seed);
        if (c->records <= SPIKE_COUNT_MAX) { /* counting is O(records) on rank 0 */
            long long spikes = 0;
            for (long long i = 0; i < c->records; i++) spikes += sig_is_spike((uint64_t)c->seed, i);
            printf(" (%lld spikes injected)", spikes);
        }
        printf("\n");
    }
    printf("  parameters     batch %lld, window %lld, threshold %g sigma\n", c->batch, c->window, c->threshold);
}

static void print_outcome(const outcome_t *o)
{
    const sig_agg_t *a = &o->agg;
    printf("results\n");
    printf("  records        %lld in %lld batches\n", a->records, a->batches);
    printf("  anomalies      %lld", a->anomalies);
    for (int i = 0; i < o->nfirst; i++) printf("%s#%lld (%.3f)", i ? ", " : "   first: ", o->first_index[i], o->first_value[i]);
    printf("\n  mean           %.10g\n", a->mean);
    printf("  stddev         %.10g\n", sig_agg_std(a));
    printf("  min / max      %.10g / %.10g\n", a->min, a->max);
    printf("  sum of rolling means %.12g\n", a->mean_sum);
    printf("  checksum       0x%016" PRIx64 "\n", a->checksum);
    printf("  errors         %lld\n", o->errors);
    printf("time\n  wall           %.3f s\n  throughput     %.0f records/s\n", o->wall_s,
           o->wall_s > 0 ? (double)a->records / o->wall_s : 0.0);
}

static int compare_count(const char *what, long long got, long long want)
{
    if (got == want) return 0;
    printf("VERIFY FAILED: %s %lld, serial reference %lld\n", what, got, want);
    return 1;
}

static int compare_float(const char *what, double got, double want)
{
    if (app_close(got, want, 1e-9)) return 0;
    printf("VERIFY FAILED: %s %.17g, serial reference %.17g\n", what, got, want);
    return 1;
}

/* Rank 0: recompute serially and compare; returns true on a match. */
static bool verify(const config_t *c, const outcome_t *o)
{
    sig_agg_t ref;
    double t0 = app_now();
    int bad = 0;

    if (!sig_serial_run(c->input ? &c->data : NULL, (uint64_t)c->seed, c->records, (int)c->batch, (int)c->window,
                        c->threshold, &ref)) {
        printf("VERIFY FAILED: out of memory for the serial reference\n");
        return false;
    }
    bad += compare_count("records", o->agg.records, ref.records);
    bad += compare_count("batches", o->agg.batches, ref.batches);
    bad += compare_count("anomalies", o->agg.anomalies, ref.anomalies);
    bad += compare_count("errors", o->errors, 0);
    if (o->agg.checksum != ref.checksum) {
        printf("VERIFY FAILED: checksum 0x%016" PRIx64 ", serial reference 0x%016" PRIx64 "\n", o->agg.checksum,
               ref.checksum);
        bad++;
    }
    bad += compare_float("mean", o->agg.mean, ref.mean);
    bad += compare_float("stddev", sig_agg_std(&o->agg), sig_agg_std(&ref));
    bad += compare_float("min", o->agg.min, ref.min);
    bad += compare_float("max", o->agg.max, ref.max);
    bad += compare_float("sum of rolling means", o->agg.mean_sum, ref.mean_sum);
    if (!bad)
        printf("VERIFY OK: serial reference on rank 0 (%.3f s) agrees: counts and checksum exact, floats within a "
               "relative 1e-9\n",
               app_now() - t0);
    return bad == 0;
}

/* Rank 0: print everything; the exit code. */
static int report(const config_t *c, const outcome_t *o)
{
    int rc = APP_EXIT_OK;
    if (!o->ok) {
        fprintf(stderr, "ringmesh-pipeline: FAILED: %s\n", o->why[0] ? o->why : "no result");
        if (c->verify) printf("VERIFY FAILED: the pipeline did not complete\n");
        return APP_EXIT_FAIL;
    }
    print_outcome(o);
    if (o->errors) {
        fprintf(stderr, "ringmesh-pipeline: %lld error(s) in the pipeline (see above)\n", o->errors);
        rc = APP_EXIT_FAIL;
    }
    if (c->verify && !verify(c, o)) rc = APP_EXIT_FAIL;
    fflush(stdout);
    return rc;
}

/* ---- main ----------------------------------------------------------------------------------------- */

/* Everything between app_start and app_finish; the stages outlive it (kernels use them). */
static int run_job(rk_runtime_t *rt, config_t *c, stage_t stages[NSTAGES])
{
    int rank = rk_runtime_rank(rt), size = rk_runtime_size(rt), rc;
    outcome_t o;
    rk_status_t st;
    bool ok = true;

    if (!resolve_place(c, size, rank)) return APP_EXIT_USAGE;
    if ((rc = prepare_data(c, rank)) >= 0) return rc;
    for (int i = 0; i < NSTAGES; i++) ok = stage_init(&stages[i], c, i) && ok;
    st = ok ? launch(rt, c, stages) : RK_ERR_NOMEM;
    if (app_allreduce_max(st != RK_OK)) {
        if (st != RK_OK) fprintf(stderr, "ringmesh-pipeline: setup failed on rank %d: %s\n", rank, rk_status_str(st));
        return APP_EXIT_FAIL;
    }
    if (rank == 0) print_header(c, size);
    fflush(stdout);
    run(rt, c, stages, &o);
    return rank == 0 ? report(c, &o) : APP_EXIT_OK;
}

int main(int argc, char **argv)
{
    config_t c;
    stage_t stages[NSTAGES];
    rk_runtime_t *rt = NULL;
    int rc = parse_options(argc, argv, &c);

    if (rc >= 0) return rc;
    if (!app_start(&argc, &argv, &rt)) return APP_EXIT_FAIL;
    memset(stages, 0, sizeof stages);
    rc = run_job(rt, &c, stages);
    if (!app_finish(rt) && rc == APP_EXIT_OK) rc = APP_EXIT_FAIL;
    for (int i = 0; i < NSTAGES; i++) stage_free(&stages[i]);
    sig_data_free(&c.data);
    return rc;
}
