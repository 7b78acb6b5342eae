/*
 * trace.c - bounded per-rank event buffers, merged into one Chrome/Perfetto
 * trace file on rank 0 at shutdown (see trace.h).
 */
#include "runtime/trace.h"

#include "util/log.h"
#include "route/router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_EVENTS (1u << 18)

typedef struct trace_event {
    int64_t ts_ns;       /* CLOCK_REALTIME, so ranks on different nodes line up */
    const kernel_t *k;   /* where it happened (NULL = application thread) */
    rk_uuid_t id;
    uint8_t kind, priority;
} trace_event_t;

struct trace {
    char path[1024];
    uint64_t next, cap, lost;
    trace_event_t *ev;
};

rk_status_t rk_trace_init(rk_runtime_t *rt)
{
    const char *path = getenv("RINGMESH_TRACE"), *max = getenv("RINGMESH_TRACE_MAX");
    trace_t *t;

    if (!path || !*path) return RK_OK;
    t = calloc(1, sizeof *t);
    if (!t) return RK_ERR_NOMEM;
    snprintf(t->path, sizeof t->path, "%s", path);
    t->cap = max && atoll(max) > 0 ? (uint64_t)atoll(max) : DEFAULT_MAX_EVENTS;
    t->ev = calloc(t->cap, sizeof *t->ev);
    if (!t->ev) {
        free(t);
        return RK_ERR_NOMEM;
    }
    rt->trace = t;
    return RK_OK;
}

static _Thread_local const kernel_t *current_kernel;

const kernel_t *rk_trace_current_kernel(void) { return current_kernel; }
void rk_trace_set_current_kernel(const kernel_t *k) { current_kernel = k; }

void rk_trace_event(rk_runtime_t *rt, trace_kind_t kind, const kernel_t *k, const rk_uuid_t *id, uint8_t priority)
{
    trace_t *t = rt->trace;
    struct timespec ts;
    uint64_t i = __atomic_fetch_add(&t->next, 1, __ATOMIC_RELAXED);
    if (i >= t->cap) {
        __atomic_fetch_add(&t->lost, 1, __ATOMIC_RELAXED);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    t->ev[i].ts_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    t->ev[i].k = k;
    t->ev[i].id = *id;
    t->ev[i].kind = (uint8_t)kind;
    t->ev[i].priority = priority;
}

/* A growable string. */
typedef struct text {
    char *s;
    size_t len, cap;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = (t->cap ? t->cap * 2 : 1 << 16) + (size_t)n;
        char *ns = realloc(t->s, ncap);
        if (!ns) return;
        t->s = ns;
        t->cap = ncap;
    }
}

/* Thread id of a kernel on this rank: 0 = application, then kernels by first appearance. */
static int tid_of(const kernel_t **seen, int *nseen, const kernel_t *k)
{
    if (!k) return 0;
    for (int i = 0; i < *nseen; i++)
        if (seen[i] == k) return i + 1;
    if (*nseen < 1023) seen[(*nseen)++] = k;
    return *nseen;
}

static const char *kind_name[] = {"send", "enqueue", "dequeue", "reply"};

/* This rank's events as comma-separated trace-event objects. */
static void render(rk_runtime_t *rt, text_t *out)
{
    trace_t *t = rt->trace;
    const kernel_t *seen[1024];
    int nseen = 0, rank = rt->rank;
    uint64_t n = t->next < t->cap ? t->next : t->cap;

    put(out, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":\"rank %d\"}},", rank, rank);
    put(out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"application\"}},", rank);
    for (uint64_t i = 0; i < n; i++) {
        const trace_event_t *e = &t->ev[i];
        int before = nseen, tid = tid_of(seen, &nseen, e->k);
        char id[37];
        double us = (double)e->ts_ns / 1000.0;
        rk_uuid_format(&e->id, id);
        if (nseen != before)
            put(out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}},", rank,
                tid, e->k->id);
        put(out,
            "{\"name\":\"%s\",\"cat\":\"ringmesh\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":0.1,\"pid\":%d,\"tid\":%d,"
            "\"args\":{\"message_id\":\"%s\",\"priority\":%u,\"kernel\":\"%s\",\"rank\":%d}},",
            kind_name[e->kind], us, rank, tid, id, e->priority, e->k ? e->k->id : "", rank);
        if (e->kind == TRACE_SEND || e->kind == TRACE_REPLY)
            put(out, "{\"name\":\"message\",\"cat\":\"flow\",\"ph\":\"s\",\"id\":\"%s\",\"ts\":%.3f,\"pid\":%d,\"tid\":%d},",
                id, us, rank, tid);
        else if (e->kind == TRACE_DEQUEUE || e->kind == TRACE_ENQUEUE)
            put(out,
                "{\"name\":\"message\",\"cat\":\"flow\",\"ph\":\"%s\",\"bp\":\"e\",\"id\":\"%s\",\"ts\":%.3f,\"pid\":%d,"
                "\"tid\":%d},",
                e->kind == TRACE_DEQUEUE ? "f" : "t", id, us, rank, tid);
    }
}

static rk_status_t write_file(const char *path, const char *body, size_t len, uint64_t lost)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        RK_ERROR("trace: cannot write %s", path);
        return RK_ERR_INVALID;
    }
    if (len && body[len - 1] == ',') len--; /* the last object's comma */
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"ringmesh\",\"events_lost\":", f);
    fprintf(f, "%llu},\"traceEvents\":[", (unsigned long long)lost);
    fwrite(body, 1, len, f);
    fputs("]}\n", f);
    return fclose(f) == 0 ? RK_OK : RK_ERR_INVALID;
}

rk_status_t rk_trace_finish(rk_runtime_t *rt)
{
    trace_t *t = rt->trace;
    text_t mine = {0};
    rk_status_t st = RK_OK;
    char *all = NULL;
    size_t total = 0;
    uint64_t lost;

    if (!t) return RK_OK;
    render(rt, &mine);
    lost = t->lost;
    if (rt->router) {
        st = router_gather_to_root(rt->router, mine.s ? mine.s : "", mine.len, &all, &total, &lost);
    } else {
        all = mine.s;
        total = mine.len;
        mine.s = NULL;
    }
    if (st == RK_OK && rt->rank == 0) {
        st = write_file(t->path, all ? all : "", total, lost);
        if (st == RK_OK) RK_INFO("trace: wrote %s (%llu events lost to the bound)", t->path, (unsigned long long)lost);
    }
    if (lost && rt->rank == 0) RK_WARN("trace: %llu event(s) beyond RINGMESH_TRACE_MAX were not kept", (unsigned long long)lost);
    free(all);
    free(mine.s);
    free(t->ev);
    free(t);
    rt->trace = NULL;
    return st;
}
