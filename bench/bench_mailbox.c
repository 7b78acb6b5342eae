/*
 * bench_mailbox.c - one producer thread -> one consumer thread through
 * rk_mailbox (BLOCK, capacity 1024) against a bare SPSC ring of the same
 * capacity (spsc_ring.h).
 *
 * Main figure ("recycled"): 2048 messages are created once and their pointers
 * are sent round and round; nobody writes a message after creation, so a
 * pointer may be in flight again while the consumer still reads its previous
 * trip's seq. This measures the queue alone. Second figure ("batch"): the
 * same, with the consumer taking up to BATCH messages per
 * rk_mailbox_get_batch call (the ring still pops one at a time: it has no lock
 * to amortize). Third figure ("created-freed"): the producer rk_msg_create's
 * every message and the consumer rk_msg_free's it, on both sides, so
 * allocation is in the loop too.
 */
#include "bench_types.h"
#include "bench_util.h"
#include "spsc_ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define CAPACITY 1024
#define POOL 2048
#define BATCH 32
#define STR_(x) #x
#define STR(x) STR_(x)

typedef enum { Q_MAILBOX, Q_MAILBOX_BATCH, Q_RING } queue_kind_t;

typedef struct mb_run {
    queue_kind_t kind;
    int alloc;       /* 1: create per message, consumer frees */
    long n;
    rk_mailbox_t *mb;
    spsc_ring_t ring;
    rk_msg_t **pool;
    atomic_int ready;
    atomic_int go;
    int64_t t_end;
    long long checksum;
} mb_run_t;

static void *consumer_main(void *arg)
{
    mb_run_t *r = arg;
    long long sum = 0;
    atomic_fetch_add(&r->ready, 1);
    while (!atomic_load(&r->go)) bench_relax();
    for (long i = 0; i < r->n;) {
        rk_msg_t *m[BATCH];
        uint32_t got = 1;
        if (r->kind == Q_MAILBOX) BENCH_CHECK(rk_mailbox_get(r->mb, RK_WAIT_FOREVER, &m[0]));
        else if (r->kind == Q_MAILBOX_BATCH) BENCH_CHECK(rk_mailbox_get_batch(r->mb, RK_WAIT_FOREVER, m, BATCH, &got));
        else m[0] = spsc_pop(&r->ring);
        for (uint32_t j = 0; j < got; j++) {
            sum += ((const BenchNum *)m[j])->seq;
            if (r->alloc) rk_msg_free(m[j]);
        }
        i += got;
    }
    r->t_end = bench_now_ns();
    r->checksum = sum;
    return NULL;
}

static rk_msg_t *next_msg(mb_run_t *r, long i)
{
    rk_msg_t *m;
    if (!r->alloc) return r->pool[i % POOL];
    BENCH_CHECK(rk_msg_create(BenchNum_type(), 0, &m));
    ((BenchNum *)m)->seq = i % POOL;
    return m;
}

/* One block of @p n messages; returns messages per second. */
static double run_block(queue_kind_t kind, int alloc, long n, rk_msg_t **pool)
{
    mb_run_t r = {0};
    pthread_t th;
    long long want = 0;
    int64_t t0;

    r.kind = kind;
    r.alloc = alloc;
    r.n = n;
    r.pool = pool;
    if (kind != Q_RING) BENCH_CHECK(rk_mailbox_create(CAPACITY, RK_BP_BLOCK, &r.mb));
    else if (spsc_init(&r.ring, CAPACITY)) bench_die("spsc_init", RK_ERR_NOMEM);
    if (pthread_create(&th, NULL, consumer_main, &r) != 0) bench_die("pthread_create", RK_ERR_NOMEM);
    while (atomic_load(&r.ready) < 1) bench_relax();
    t0 = bench_now_ns();
    atomic_store(&r.go, 1);
    for (long i = 0; i < n; i++) {
        rk_msg_t *m = next_msg(&r, i);
        if (kind != Q_RING) BENCH_CHECK(rk_mailbox_put(r.mb, m, RK_WAIT_FOREVER));
        else spsc_push(&r.ring, m);
    }
    pthread_join(th, NULL);
    for (long i = 0; i < n; i++) want += i % POOL;
    if (r.checksum != want) bench_die("mailbox benchmark: messages lost or duplicated", RK_ERR_MALFORMED);
    if (kind != Q_RING) rk_mailbox_destroy(r.mb);
    else spsc_fini(&r.ring);
    return (double)n / ((double)(r.t_end - t0) / 1e9);
}

int bench_mailbox(void)
{
    static const struct {
        queue_kind_t kind;
        int alloc;
        const char *label, *metric, *params;
    } modes[] = {
        {Q_MAILBOX, 0, "recycled", "msgs_per_s",
         "\"capacity\":1024,\"strategy\":\"BLOCK\",\"messages\":\"recycled\",\"take\":\"get\""},
        {Q_MAILBOX_BATCH, 0, "recycled, batch get", "msgs_per_s_batch",
         "\"capacity\":1024,\"strategy\":\"BLOCK\",\"messages\":\"recycled\",\"take\":\"get_batch\","
         "\"batch\":" STR(BATCH)},
        {Q_MAILBOX, 1, "created-freed", "msgs_per_s_alloc",
         "\"capacity\":1024,\"strategy\":\"BLOCK\",\"messages\":\"created-freed\",\"take\":\"get\""},
    };
    int reps = bench_reps(7, 3);
    long n = bench_iters(500000, 20000);
    rk_msg_t *pool[POOL];

    if (g_mpi.rank != 0) return 0;
    for (int i = 0; i < POOL; i++) pool[i] = &bench_make_num(i, 0.0)->hdr;
    for (size_t md = 0; md < sizeof modes / sizeof modes[0]; md++) {
        queue_kind_t kind = modes[md].kind;
        int alloc = modes[md].alloc;
        double *mb = calloc((size_t)reps, sizeof *mb), *ring = calloc((size_t)reps, sizeof *ring);
        if (!mb || !ring) bench_die("mailbox", RK_ERR_NOMEM);
        run_block(kind, alloc, n / 4 + 1, pool); /* warm-up */
        run_block(Q_RING, alloc, n / 4 + 1, pool);
        for (int r = 0; r < reps; r++) {
            bench_progress("mailbox (%s) rep %d/%d", modes[md].label, r + 1, reps);
            if (r % 2 == 0) {
                mb[r] = run_block(kind, alloc, n, pool);
                ring[r] = run_block(Q_RING, alloc, n, pool);
            } else {
                ring[r] = run_block(Q_RING, alloc, n, pool);
                mb[r] = run_block(kind, alloc, n, pool);
            }
        }
        bench_result_t res = {
            .name = "mailbox", .metric = modes[md].metric, .unit = "msg/s",
            .value = bench_median(mb, (size_t)reps), .baseline = "bare SPSC ring (C11 atomics)",
            .baseline_value = bench_median(ring, (size_t)reps), .better = BENCH_HIGHER_IS_BETTER,
            .size = (long)sizeof(BenchNum), .ranks = 1, .iterations = n, .reps = reps, .samples = mb,
            .baseline_samples = ring, .extra_params = modes[md].params};
        bench_emit(&res);
        bench_progress("mailbox %s: rk_mailbox %.2f M/s, SPSC ring %.2f M/s", res.metric, res.value / 1e6,
                       res.baseline_value / 1e6);
        free(mb);
        free(ring);
    }
    for (int i = 0; i < POOL; i++) rk_msg_free(pool[i]);
    return 0;
}
