/*
 * pubsub.c - ringmesh-pubsub: one publisher, K subscriber kernels per rank.
 *
 * Rank 0 publishes N Event messages to a topic with rk_publish, with mixed
 * priorities (about 25% high 200, 50% normal 128, 25% low 32, drawn from a
 * fixed-seed hash of the event number). Every rank runs K subscriber kernels,
 * all subscribed with rk_subscribe; each counts the events per priority class
 * and checks per-sender ordering within a priority: the event's sequence
 * number within its (sender, class) must grow by exactly one each time. The
 * results are gathered to rank 0 (MPI_Igather) and printed as a table.
 *
 * Key idea: the runtime only orders messages of one sender at one priority,
 * and a kernel serves higher priorities first, so one end marker is not enough
 * to know the stream is over: the publisher ends each class with its own
 * marker (at that class's priority, carrying the class's event count), and a
 * subscriber is done once it has seen all three markers, at which point every
 * event of every class is behind it.
 */
#define _POSIX_C_SOURCE 200809L
#include "../common/app_util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT(F)                   \
    F(Event, sender, INT, _)       \
    F(Event, seq, INT, _)          \
    F(Event, class_seq, INT, _)    \
    F(Event, payload, FLOAT, _)    \
    F(Event, end, BOOL, _)         \
    F(Event, expected, INT, _)
RK_MESSAGE_DECLARE(Event, EVENT)
RK_MESSAGE_DEFINE(Event, EVENT)

enum { CL_HIGH, CL_NORMAL, CL_LOW, NCLASSES };
static const int class_prio[NCLASSES] = {200, 128, 32};
static const char *const class_name[NCLASSES] = {"high", "normal", "low"};

#define MAX_SENDERS 1 /* rank 0 publishes; other senders count as errors */

typedef struct options {
    long long events, subscribers;
    double timeout_s;
    const char *topic;
    bool verify;
} options_t;

/* One subscriber kernel's tallies; written by its thread, read after `done`. */
typedef struct sub {
    char id[64];
    long long count[NCLASSES], next_seq[NCLASSES], expected[NCLASSES];
    long long out_of_order, foreign, markers;
    double done_at; /* app_now() when the last marker arrived */
    atomic_int done;
} sub_t;

/* One row of the gathered table (plain int64s: MPI_LONG_LONG). */
enum { ROW_RANK, ROW_INDEX, ROW_HIGH, ROW_NORMAL, ROW_LOW, ROW_TOTAL, ROW_OOO, ROW_DONE, ROW_FOREIGN, ROW_US, NROW };

static const char usage_text[] =
    "Usage: mpirun -n N ringmesh-pubsub [OPTIONS]\n"
    "\n"
    "Rank 0 publishes events to a topic with mixed priorities (about 25% high\n"
    "200, 50% normal 128, 25% low 32); every rank runs K subscriber kernels that\n"
    "count the events per priority class and check that each sender's events\n"
    "arrive in order within a priority. Each class ends with its own end\n"
    "marker. The counts are gathered to rank 0 and printed as a table:\n"
    "subscriber, rank, high / normal / low, total, out-of-order.\n"
    "\n"
    "Options:\n"
    "  --events N         events to publish (default 10000, 1..1000000000)\n"
    "  --subscribers K    subscriber kernels per rank (default 2, 1..256)\n"
    "  --topic NAME       topic name (default \"events\", at most 63 bytes)\n"
    "  --timeout S        how long a rank waits for its subscribers to see the\n"
    "                     end of the stream (default 120 s, 1..86400)\n"
    "  --verify           check that every subscriber received exactly N events,\n"
    "                     the expected count per class, nothing out of order;\n"
    "                     prints VERIFY OK or VERIFY FAILED\n"
    "  -h, --help         show this help and exit\n"
    "\n"
    "Environment: RINGMESH_TRANSPORT=ucx|mpi (default ucx), RINGMESH_LOG=info.\n"
    "Exit status: 0 success, 1 a publish failed, a subscriber timed out or\n"
    "VERIFY FAILED, 2 bad usage.\n"
    "Example: mpirun -n 4 ringmesh-pubsub --events 100000 --subscribers 3 --verify\n";

/* ---- the event stream ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The class of event @p i: 25% high, 50% normal, 25% low. */
static int event_class(long long i)
{
    unsigned r = (unsigned)(mix64((uint64_t)i) & 3u);
    return r == 0 ? CL_HIGH : r == 3 ? CL_LOW : CL_NORMAL;
}

static void expected_counts(long long n, long long out[NCLASSES])
{
    memset(out, 0, NCLASSES * sizeof *out);
    for (long long i = 0; i < n; i++) out[event_class(i)]++;
}

/* ---- subscriber kernels ---------------------------------------------------------- */

static int class_of_priority(int prio)
{
    for (int c = 0; c < NCLASSES; c++)
        if (class_prio[c] == prio) return c;
    return -1;
}

static void on_event(sub_t *s, const Event *e)
{
    int c = class_of_priority(e->hdr.priority);

    if (c < 0 || e->sender < 0 || e->sender >= MAX_SENDERS) {
        s->foreign++;
        return;
    }
    if (e->class_seq != s->next_seq[c]) s->out_of_order++;
    s->next_seq[c] = e->class_seq + 1;
    if (!e->end) {
        s->count[c]++;
        return;
    }
    s->expected[c] = e->expected;
    if (++s->markers == NCLASSES) {
        s->done_at = app_now();
        atomic_store(&s->done, 1);
    }
}

static void subscriber_body(rk_ctx_t *ctx, void *arg)
{
    sub_t *s = arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = NULL;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        const Event *e = Event_cast(m);
        if (e) on_event(s, e);
        else s->foreign++;
        rk_msg_free(m);
    }
}

/* ---- publisher (rank 0) -------------------------------------------------------------- */

static rk_status_t publish_one(rk_runtime_t *rt, const char *topic, long long seq, long long class_seq, int c,
                               bool end, long long expected)
{
    Event *e = NULL;
    rk_status_t st = Event_new(&e);
    if (st != RK_OK) return st;
    e->sender = 0;
    e->seq = seq;
    e->class_seq = class_seq;
    e->payload = (double)seq * 0.5;
    e->end = end;
    e->expected = expected;
    st = rk_msg_set_priority(&e->hdr, class_prio[c]);
    if (st == RK_OK) st = rk_publish(rt, topic, &e->hdr);
    rk_msg_free(&e->hdr);
    return st;
}

/* Publish the events, then one end marker per class; returns the failures. */
static long long publish_all(rk_runtime_t *rt, const options_t *o)
{
    long long next[NCLASSES] = {0}, failures = 0;
    rk_status_t st, first = RK_OK;

    for (long long i = 0; i < o->events; i++) {
        int c = event_class(i);
        st = publish_one(rt, o->topic, i, next[c]++, c, false, 0);
        if (st != RK_OK && failures++ == 0) first = st;
    }
    for (int c = 0; c < NCLASSES; c++) {
        st = publish_one(rt, o->topic, o->events + c, next[c], c, true, next[c]);
        if (st != RK_OK && failures++ == 0) first = st;
    }
    if (failures)
        fprintf(stderr, "ringmesh-pubsub: %lld publish(es) failed, the first with %s\n", failures, rk_status_str(first));
    return failures;
}

/* ---- setup, waiting, gathering ---------------------------------------------------------- */

static rk_status_t launch(rk_runtime_t *rt, const options_t *o, sub_t *subs)
{
    int rank = rk_runtime_rank(rt);
    rk_status_t st = rk_runtime_register_type(rt, Event_type());

    for (long long k = 0; k < o->subscribers && st == RK_OK; k++) {
        rk_kernel_params_t kp;
        sub_t *s = &subs[k];
        snprintf(s->id, sizeof s->id, "sub-%d-%lld", rank, k);
        atomic_init(&s->done, 0);
        memset(&kp, 0, sizeof kp);
        kp.kernel_id = s->id;
        kp.fn = subscriber_body;
        kp.arg = s;
        kp.field_mask = RK_KERNEL_FIELD_ARG;
        st = rk_kernel_start(rt, &kp);
        if (st == RK_OK) st = rk_subscribe(rt, o->topic, s->id);
    }
    if (st == RK_OK) st = rk_runtime_sync(rt);
    return st;
}

/* Wait until every local subscriber saw all end markers (or the timeout). */
static bool wait_subscribers(const options_t *o, sub_t *subs)
{
    double end = app_now() + o->timeout_s;
    for (long long k = 0; k < o->subscribers; k++) {
        while (!atomic_load(&subs[k].done)) {
            if (app_now() > end) {
                fprintf(stderr, "ringmesh-pubsub: %s did not see the end of the stream within %.0f s\n", subs[k].id,
                        o->timeout_s);
                return false;
            }
            app_sleep_us(1000);
        }
    }
    return true;
}

static void fill_rows(int rank, const options_t *o, sub_t *subs, double t0, long long *rows)
{
    for (long long k = 0; k < o->subscribers; k++) {
        const sub_t *s = &subs[k];
        long long *r = rows + k * NROW;
        bool done = atomic_load(&s->done);
        r[ROW_RANK] = rank;
        r[ROW_INDEX] = k;
        r[ROW_HIGH] = s->count[CL_HIGH];
        r[ROW_NORMAL] = s->count[CL_NORMAL];
        r[ROW_LOW] = s->count[CL_LOW];
        r[ROW_TOTAL] = s->count[CL_HIGH] + s->count[CL_NORMAL] + s->count[CL_LOW];
        r[ROW_OOO] = s->out_of_order;
        r[ROW_DONE] = done;
        r[ROW_FOREIGN] = s->foreign;
        r[ROW_US] = done ? (long long)((s->done_at - t0) * 1e6) : -1;
    }
}

/* Gather every rank's rows to rank 0 (NULL elsewhere). */
static long long *gather_rows(int rank, int size, const options_t *o, const long long *mine)
{
    int n = (int)o->subscribers * NROW;
    long long *all = rank == 0 ? malloc((size_t)n * (size_t)size * sizeof *all) : NULL;
    MPI_Request req;

    if (rank == 0 && !all) {
        fprintf(stderr, "ringmesh-pubsub: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, APP_EXIT_FAIL);
    }
    MPI_Igather(mine, n, MPI_LONG_LONG, all, n, MPI_LONG_LONG, 0, MPI_COMM_WORLD, &req);
    app_wait_request(&req);
    return all;
}

/* ---- report (rank 0) ---------------------------------------------------------------------- */

static void print_table(const options_t *o, int size, const long long *rows, const long long expect[NCLASSES],
                        double publish_s)
{
    long long nrows = o->subscribers * size, slowest = 0;
    char id[64];

    printf("ringmesh-pubsub: %lld events to topic '%s', %lld subscriber(s) on each of %d rank(s), transport %s\n",
           o->events, o->topic, o->subscribers, size, app_transport_name());
    printf("published:");
    for (int c = 0; c < NCLASSES; c++) printf(" %s %lld (priority %d)%s", class_name[c], expect[c], class_prio[c], c + 1 < NCLASSES ? "," : "");
    printf(" in %.3f s\n", publish_s);
    printf("%-14s %5s %10s %10s %10s %10s %13s\n", "subscriber", "rank", "high", "normal", "low", "total",
           "out-of-order");
    for (long long i = 0; i < nrows; i++) {
        const long long *r = rows + i * NROW;
        snprintf(id, sizeof id, "sub-%lld-%lld", r[ROW_RANK], r[ROW_INDEX]);
        printf("%-14s %5lld %10lld %10lld %10lld %10lld %13lld%s\n", id, r[ROW_RANK], r[ROW_HIGH], r[ROW_NORMAL],
               r[ROW_LOW], r[ROW_TOTAL], r[ROW_OOO], r[ROW_DONE] ? "" : "  (no end marker)");
        if (r[ROW_US] > slowest) slowest = r[ROW_US];
    }
    printf("delivered to all %lld subscribers in %.3f s (%.0f events/s per subscriber, %.0f deliveries/s)\n", nrows,
           (double)slowest * 1e-6, slowest ? (double)o->events / ((double)slowest * 1e-6) : 0.0,
           slowest ? (double)(o->events * nrows) / ((double)slowest * 1e-6) : 0.0);
}

static bool verify_rows(const options_t *o, int size, const long long *rows, const long long expect[NCLASSES],
                        long long publish_failures)
{
    long long nrows = o->subscribers * size, bad = 0;
    for (long long i = 0; i < nrows; i++) {
        const long long *r = rows + i * NROW;
        bool ok = r[ROW_DONE] && r[ROW_TOTAL] == o->events && r[ROW_OOO] == 0 && r[ROW_FOREIGN] == 0 &&
                  r[ROW_HIGH] == expect[CL_HIGH] && r[ROW_NORMAL] == expect[CL_NORMAL] && r[ROW_LOW] == expect[CL_LOW];
        if (ok) continue;
        bad++;
        printf("VERIFY sub-%lld-%lld: total %lld of %lld, %lld out of order, %lld foreign, end %s\n", r[ROW_RANK],
               r[ROW_INDEX], r[ROW_TOTAL], o->events, r[ROW_OOO], r[ROW_FOREIGN], r[ROW_DONE] ? "seen" : "missing");
    }
    if (publish_failures) printf("VERIFY: %lld publish(es) failed\n", publish_failures);
    if (bad || publish_failures) {
        printf("VERIFY FAILED: %lld of %lld subscribers wrong\n", bad, nrows);
        return false;
    }
    printf("VERIFY OK: all %lld subscribers received exactly %lld events (%lld / %lld / %lld per class), none out "
           "of order\n",
           nrows, o->events, expect[CL_HIGH], expect[CL_NORMAL], expect[CL_LOW]);
    return true;
}

/* ---- main ------------------------------------------------------------------------------------- */

static int parse_options(int argc, char **argv, options_t *o)
{
    const app_opt_t opts[] = {
        {"events", APP_OPT_INT, &o->events, 1, 1000000000, 0, 0},
        {"subscribers", APP_OPT_INT, &o->subscribers, 1, 256, 0, 0},
        {"topic", APP_OPT_STR, &o->topic, 0, 0, 0, 0},
        {"timeout", APP_OPT_DOUBLE, &o->timeout_s, 0, 0, 1, 86400},
        {"verify", APP_OPT_FLAG, &o->verify, 0, 0, 0, 0},
        {NULL, APP_OPT_FLAG, NULL, 0, 0, 0, 0},
    };
    app_args_t args;
    bool help;

    memset(o, 0, sizeof *o);
    o->events = 10000;
    o->subscribers = 2;
    o->timeout_s = 120;
    o->topic = "events";
    if (!app_parse_options(argc, argv, opts, false, &args)) return APP_EXIT_USAGE;
    help = args.help;
    app_args_free(&args);
    if (help) {
        fputs(usage_text, stdout);
        return APP_EXIT_OK;
    }
    if (strlen(o->topic) > 63) {
        app_usage_error(app_prog_name(argv[0]), "--topic: name longer than 63 bytes");
        return APP_EXIT_USAGE;
    }
    return -1;
}

static int run_job(rk_runtime_t *rt, const options_t *o, sub_t *subs)
{
    int rank = rk_runtime_rank(rt), size = rk_runtime_size(rt), rc = APP_EXIT_OK;
    long long expect[NCLASSES], failures = 0, *rows = NULL, *all = NULL;
    double t0, publish_s = 0;
    rk_status_t st = launch(rt, o, subs);

    if (app_allreduce_max(st != RK_OK)) {
        if (st != RK_OK) fprintf(stderr, "ringmesh-pubsub: setup failed on rank %d: %s\n", rank, rk_status_str(st));
        return APP_EXIT_FAIL;
    }
    rows = calloc((size_t)o->subscribers * NROW, sizeof *rows);
    if (!rows) MPI_Abort(MPI_COMM_WORLD, APP_EXIT_FAIL);
    app_barrier();
    t0 = app_now();
    if (rank == 0) {
        failures = publish_all(rt, o);
        publish_s = app_now() - t0;
    }
    if (!wait_subscribers(o, subs)) rc = APP_EXIT_FAIL;
    fill_rows(rank, o, subs, t0, rows);
    all = gather_rows(rank, size, o, rows);
    if (rank == 0) {
        expected_counts(o->events, expect);
        print_table(o, size, all, expect, publish_s);
        if (o->verify && !verify_rows(o, size, all, expect, failures)) rc = APP_EXIT_FAIL;
        if (failures) rc = APP_EXIT_FAIL;
        for (long long i = 0; i < o->subscribers * size; i++)
            if (!all[i * NROW + ROW_DONE]) rc = APP_EXIT_FAIL;
        fflush(stdout);
    }
    free(rows);
    free(all);
    return rc;
}

int main(int argc, char **argv)
{
    options_t o;
    rk_runtime_t *rt = NULL;
    sub_t *subs;
    int rc = parse_options(argc, argv, &o);

    if (rc >= 0) return rc;
    subs = calloc((size_t)o.subscribers, sizeof *subs);
    if (!subs) {
        fprintf(stderr, "ringmesh-pubsub: out of memory\n");
        return APP_EXIT_FAIL;
    }
    if (!app_start(&argc, &argv, &rt)) {
        free(subs);
        return APP_EXIT_FAIL;
    }
    rc = run_job(rt, &o, subs);
    if (!app_finish(rt) && rc == APP_EXIT_OK) rc = APP_EXIT_FAIL;
    free(subs); /* after the runtime: the kernels use it until then */
    return rc;
}
