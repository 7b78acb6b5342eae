/*
 * event.c - events the application sees without polling counters
 * (rk_runtime_on_event): kernels that failed or restarted, peers that failed,
 * messages refused, evicted or not delivered.
 *
 * Events are raised wherever the runtime learns of them, often with a lock
 * held (the router's, a kernel's); so they are copied into a bounded queue
 * and a thread of their own calls the callback, which may then call back into
 * the runtime. The thread starts with the first callback registered; without
 * one, events are only counted. A full queue counts the event as lost.
 */
#include "util/log.h"
#include "runtime/runtime_internal.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define EVENT_QUEUE 4096

typedef struct queued_event {
    rk_event_t ev;
    char kernel[RK_ID_MAX];
    char reason[128];
} queued_event_t;

struct events {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    rk_event_fn fn;
    void *arg;
    queued_event_t *q; /* ring of EVENT_QUEUE */
    uint32_t head, n;
    int stop, started;
    pthread_t thread;
    uint64_t raised, lost;
};

rk_status_t rk_events_init(rk_runtime_t *rt)
{
    struct events *e = calloc(1, sizeof *e);
    if (!e) return RK_ERR_NOMEM;
    pthread_mutex_init(&e->lock, NULL);
    rk_cond_init_monotonic(&e->cv);
    rt->events = e;
    return RK_OK;
}

static void *event_main(void *arg)
{
    struct events *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (e->n == 0 && !e->stop) pthread_cond_wait(&e->cv, &e->lock);
        if (e->n == 0) break; /* stop, and everything delivered */
        queued_event_t one = e->q[e->head];
        e->head = (e->head + 1) % EVENT_QUEUE;
        e->n--;
        rk_event_fn fn = e->fn;
        void *fa = e->arg;
        pthread_mutex_unlock(&e->lock);
        one.ev.kernel_id = one.kernel;
        one.ev.reason = one.reason;
        if (fn) fn(&one.ev, fa);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

rk_status_t rk_runtime_on_event(rk_runtime_t *rt, rk_event_fn fn, void *arg)
{
    struct events *e;
    rk_status_t st = RK_OK;
    if (!rt || !rt->events) return RK_ERR_INVALID;
    e = rt->events;
    pthread_mutex_lock(&e->lock);
    if (fn && !e->q && !(e->q = calloc(EVENT_QUEUE, sizeof *e->q))) st = RK_ERR_NOMEM;
    if (st == RK_OK && fn && !e->started) {
        if (pthread_create(&e->thread, NULL, event_main, e) != 0) st = RK_ERR_NOMEM;
        else e->started = 1;
    }
    if (st == RK_OK) {
        e->fn = fn;
        e->arg = arg;
    }
    pthread_mutex_unlock(&e->lock);
    return st;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

void rk_event_raise(rk_runtime_t *rt, rk_event_kind_t kind, const char *kernel_id, int rank,
                    const rk_uuid_t *message_id, rk_status_t st, const char *reason)
{
    struct events *e = rt->events;
    if (!e) return;
    pthread_mutex_lock(&e->lock);
    e->raised++;
    if (!e->fn || !e->q) {
        pthread_mutex_unlock(&e->lock);
        return;
    }
    if (e->n == EVENT_QUEUE) {
        if (e->lost++ == 0) RK_WARN("event queue full (%d): further events are counted as lost", EVENT_QUEUE);
        pthread_mutex_unlock(&e->lock);
        return;
    }
    queued_event_t *q = &e->q[(e->head + e->n) % EVENT_QUEUE];
    memset(q, 0, sizeof *q);
    q->ev.kind = kind;
    q->ev.rank = rank;
    if (message_id) q->ev.message_id = *message_id;
    q->ev.status = st;
    copy_str(q->kernel, sizeof q->kernel, kernel_id);
    copy_str(q->reason, sizeof q->reason, reason);
    e->n++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->lock);
}

void rk_events_counts(rk_runtime_t *rt, uint64_t *raised, uint64_t *lost)
{
    struct events *e = rt->events;
    pthread_mutex_lock(&e->lock);
    *raised = e->raised;
    *lost = e->lost;
    pthread_mutex_unlock(&e->lock);
}

void rk_events_fini(rk_runtime_t *rt)
{
    struct events *e = rt->events;
    if (!e) return;
    pthread_mutex_lock(&e->lock);
    e->stop = 1;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->lock);
    if (e->started) pthread_join(e->thread, NULL); /* it delivers what is queued first */
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->cv);
    free(e->q);
    free(e);
    rt->events = NULL;
}
