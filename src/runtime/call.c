/*
 * call.c - requests whose replies come back to their caller: rk_call, rk_ask
 * and futures; and refusals (REJECT, DROP_OLDEST, a failed kernel) reported
 * to the rank that sent the message and to the rank that waits for its reply.
 *
 * Every pending future is in a table keyed by its request's message_id (64
 * shards, each a mutex and chained buckets). A request carries RK_MSGF_CALL
 * and the caller's rank (msg_internal.h); the kernel's answer carries
 * RK_MSGF_REPLY with correlation_id = the call's id, and on the caller's rank
 * goes to rk_call_complete, never to an outbox: it completes exactly the
 * future of that id, or, when there is none (freed, timed out), is dropped and
 * counted. Completion happens under the shard lock, and a future leaves the
 * table under that lock, so a freed future is never completed and a reply is
 * never handed to anyone else.
 *
 * A waiter spins for the runtime's polling window (driving the transport when
 * there is one, as rk_receive does), then sleeps on the future's condition
 * variable; with a transport it wakes every 50 us to drive it and to notice a
 * failed peer.
 */
#include "util/log.h"
#include "queue/mailbox_hook.h"
#include "msg/msg_internal.h"
#include "route/router.h"
#include "runtime/runtime_internal.h"
#include "util/spin.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define BUCKETS 256
#define WAKE_US 50 /* a sleeping waiter drives the transport this often */

struct rk_future {
    rk_future_t *next; /* bucket chain (shard lock) */
    rk_runtime_t *rt;
    const kernel_t *k; /* the kernel the request went to */
    int home;          /* its rank */
    rk_uuid_t id;
    int linked;        /* in the table (shard lock) */
    int orphan;        /* the runtime is gone: no table to leave */
    int done;          /* reply or st final (release store under the shard lock) */
    int sleeping;      /* a waiter sleeps on cv (shard lock) */
    int taken;         /* the reply was handed out */
    rk_status_t st;
    rk_msg_t *reply;
    pthread_cond_t cv;
};

typedef struct shard {
    pthread_mutex_t lock;
    rk_future_t *b[BUCKETS];
} __attribute__((aligned(64))) shard_t;

struct calls {
    shard_t s[SHARDS];
    uint64_t calls, replies, late, failed; /* atomics */
};

static shard_t *shard_of(struct calls *c, const rk_uuid_t *id, rk_future_t ***bucket)
{
    uint64_t h;
    memcpy(&h, id->bytes, sizeof h); /* message ids are random (UUIDv4) */
    h ^= h >> 29;
    shard_t *s = &c->s[h % SHARDS];
    *bucket = &s->b[(h / SHARDS) % BUCKETS];
    return s;
}

rk_status_t rk_calls_init(rk_runtime_t *rt)
{
    struct calls *c = aligned_alloc(64, sizeof *c);
    if (!c) return RK_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    for (int i = 0; i < SHARDS; i++) pthread_mutex_init(&c->s[i].lock, NULL);
    rt->calls = c;
    return RK_OK;
}

/*
 * Set the outcome and wake the waiter. Caller holds the shard lock; f is
 * unlinked. The done store is the last touch of f: a waiter that sees it may
 * free f at once (a sleeping waiter cannot run before the lock is released).
 */
static void settle(rk_future_t *f, rk_status_t st, rk_msg_t *reply)
{
    f->st = st;
    f->reply = reply;
    if (f->sleeping) pthread_cond_signal(&f->cv);
    __atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
}

/* Remove @p f from its bucket. Caller holds the shard lock. */
static void unlink_future(rk_future_t **bucket, rk_future_t *f)
{
    for (rk_future_t **pp = bucket; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    f->linked = 0;
}

/* Find, unlink and return the pending future @p id. Caller holds the shard lock. */
static rk_future_t *take_pending(rk_future_t **bucket, const rk_uuid_t *id)
{
    for (rk_future_t *f = *bucket; f; f = f->next)
        if (rk_uuid_equal(&f->id, id)) {
            unlink_future(bucket, f);
            return f;
        }
    return NULL;
}

void rk_calls_fini(rk_runtime_t *rt)
{
    struct calls *c = rt->calls;
    uint32_t pending = 0;
    if (!c) return;
    for (int i = 0; i < SHARDS; i++) {
        shard_t *s = &c->s[i];
        pthread_mutex_lock(&s->lock);
        for (int b = 0; b < BUCKETS; b++)
            while (s->b[b]) {
                rk_future_t *f = s->b[b];
                unlink_future(&s->b[b], f);
                f->orphan = 1;
                settle(f, RK_ERR_TERMINATED, NULL);
                pending++;
            }
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_destroy(&s->lock);
    }
    if (pending) RK_WARN("runtime destroy: %u pending call(s) ended with RK_ERR_TERMINATED", pending);
    free(c);
    rt->calls = NULL;
}

void rk_call_complete(rk_runtime_t *rt, rk_msg_t *reply)
{
    struct calls *c = rt->calls;
    rk_future_t **bucket;
    shard_t *s = shard_of(c, &reply->correlation_id, &bucket);

    rk_msg_mark(reply, 0, 0); /* the caller's message now: no routing marks */
    pthread_mutex_lock(&s->lock);
    rk_future_t *f = take_pending(bucket, &reply->correlation_id);
    if (f) { /* counted before the waiter can see it */
        __atomic_fetch_add(&c->replies, 1, __ATOMIC_RELAXED);
        settle(f, RK_OK, reply);
    }
    pthread_mutex_unlock(&s->lock);
    if (f) return;
    uint64_t n = __atomic_fetch_add(&c->late, 1, __ATOMIC_RELAXED);
    if (n < 10) {
        char id[37];
        rk_uuid_format(&reply->correlation_id, id);
        RK_INFO("reply to call %s arrived after its future was freed or timed out: dropped (counted)", id);
    }
    rk_msg_free(reply);
}

void rk_call_fail(rk_runtime_t *rt, const rk_uuid_t *id, rk_status_t st)
{
    struct calls *c = rt->calls;
    rk_future_t **bucket;
    shard_t *s = shard_of(c, id, &bucket);
    pthread_mutex_lock(&s->lock);
    rk_future_t *f = take_pending(bucket, id);
    if (f) {
        __atomic_fetch_add(&c->failed, 1, __ATOMIC_RELAXED);
        settle(f, st, NULL);
    }
    pthread_mutex_unlock(&s->lock);
}

void rk_calls_fail_kernel(rk_runtime_t *rt, const kernel_t *k, rk_status_t st)
{
    struct calls *c = rt->calls;
    for (int i = 0; i < SHARDS; i++) {
        shard_t *s = &c->s[i];
        pthread_mutex_lock(&s->lock);
        for (int b = 0; b < BUCKETS; b++)
            for (rk_future_t *f = s->b[b], *next; f; f = next) {
                next = f->next;
                if (f->k != k) continue;
                unlink_future(&s->b[b], f);
                __atomic_fetch_add(&c->failed, 1, __ATOMIC_RELAXED);
                settle(f, st, NULL);
            }
        pthread_mutex_unlock(&s->lock);
    }
}

rk_status_t rk_runtime_get_call_stats(rk_runtime_t *rt, rk_call_stats_t *out)
{
    if (!rt || !out || !rt->calls) return RK_ERR_INVALID;
    memset(out, 0, sizeof *out);
    out->calls = __atomic_load_n(&rt->calls->calls, __ATOMIC_RELAXED);
    out->replies = __atomic_load_n(&rt->calls->replies, __ATOMIC_RELAXED);
    out->late_replies = __atomic_load_n(&rt->calls->late, __ATOMIC_RELAXED);
    out->failed = __atomic_load_n(&rt->calls->failed, __ATOMIC_RELAXED);
    rk_events_counts(rt, &out->events, &out->events_lost);
    return RK_OK;
}

/* ---- asking and waiting ---------------------------------------------------- */

/* Leave the table if still there (abandoned: a later reply is dropped and counted); free what f holds. */
static void future_release(rk_future_t *f)
{
    if (!f->orphan && !__atomic_load_n(&f->done, __ATOMIC_ACQUIRE)) {
        rk_future_t **bucket;
        shard_t *s = shard_of(f->rt->calls, &f->id, &bucket);
        pthread_mutex_lock(&s->lock); /* also waits for a completer still settling it */
        if (f->linked) unlink_future(bucket, f);
        pthread_mutex_unlock(&s->lock);
    }
    rk_msg_free(f->reply);
    pthread_cond_destroy(&f->cv);
}

/* Send @p request as a call whose reply completes @p f (zeroed; heap for rk_ask, stack for rk_call). */
static rk_status_t ask_into(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *request, rk_future_t *f)
{
    struct calls *c = rt->calls;
    rk_future_t **bucket;
    kernel_t *k;
    rk_status_t st = rk_send_check(rt, kernel_id, request, &k);

    if (st != RK_OK) return st;
    if ((uint32_t)rt->rank > RK_WIRE_RANK_MAX) return RK_ERR_UNSUPPORTED;
    f->rt = rt;
    f->k = k;
    f->home = k->home_rank;
    f->id = request->message_id;
    rk_cond_init_monotonic(&f->cv);
    shard_t *s = shard_of(c, &f->id, &bucket);
    pthread_mutex_lock(&s->lock);
    for (rk_future_t *o = *bucket; o; o = o->next)
        if (rk_uuid_equal(&o->id, &f->id)) st = RK_ERR_EXISTS;
    if (st == RK_OK) { /* in the table before the request leaves: its reply may come at once */
        f->next = *bucket;
        *bucket = f;
        f->linked = 1;
    }
    pthread_mutex_unlock(&s->lock);
    if (st == RK_OK) st = rk_send_marked(rt, k, request, RK_MSGF_CALL, rt->rank, NULL, rt->params.send_timeout_us);
    if (st != RK_OK) {
        future_release(f); /* out of the table again */
        return st;
    }
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
    return RK_OK;
}

rk_status_t rk_ask(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *request, rk_future_t **future)
{
    rk_future_t *f;
    rk_status_t st;
    if (future) *future = NULL;
    if (!rt || !kernel_id || !request || !future) return RK_ERR_INVALID;
    if (!(f = calloc(1, sizeof *f))) return RK_ERR_NOMEM;
    st = ask_into(rt, kernel_id, request, f);
    if (st != RK_OK) free(f);
    else *future = f;
    return st;
}

bool rk_future_ready(const rk_future_t *f) { return f && __atomic_load_n(&f->done, __ATOMIC_ACQUIRE); }
const rk_uuid_t *rk_future_id(const rk_future_t *f) { return f ? &f->id : NULL; }

/* The future's outcome, once done. */
static rk_status_t outcome(rk_future_t *f, rk_msg_t **reply)
{
    if (f->st == RK_OK) {
        *reply = f->reply;
        f->reply = NULL;
        f->taken = 1;
    }
    return f->st;
}

rk_status_t rk_future_wait(rk_future_t *f, int64_t timeout_us, rk_msg_t **reply)
{
    if (!f || !reply) return RK_ERR_INVALID;
    *reply = NULL;
    if (f->taken) return RK_ERR_STATE;
    if (__atomic_load_n(&f->done, __ATOMIC_ACQUIRE)) return outcome(f, reply);
    if (f->orphan) return RK_ERR_TERMINATED;

    rk_runtime_t *rt = f->rt;
    router_t *r = rt->router;
    int remote_home = r && f->home != rt->rank;
    int64_t start = rk_mono_ns(), end = timeout_us < 0 ? INT64_MAX : start + timeout_us * 1000;
    int64_t spin_until = start + rt->poll_ns;
    if (spin_until > end) spin_until = end;

    /* spin: the reply of a kernel that is running comes within microseconds */
    rk_spin_begin();
    for (unsigned i = 1; !__atomic_load_n(&f->done, __ATOMIC_ACQUIRE); i++) {
        if (r) router_poll_round(r, i);
        else rk_spin_round(i);
        if (i % 16 == 0 && rk_mono_ns() >= spin_until) break;
    }
    rk_spin_end();

    rk_future_t **bucket;
    shard_t *s = shard_of(rt->calls, &f->id, &bucket);
    while (!__atomic_load_n(&f->done, __ATOMIC_ACQUIRE)) {
        if (remote_home && router_peer_failed(r, f->home)) {
            rk_call_fail(rt, &f->id, RK_ERR_PEER); /* unless it completed meanwhile */
            break;
        }
        int64_t now = rk_mono_ns();
        if (now >= end) return RK_ERR_TIMEOUT;
        int64_t wake = end;
        if (r && now + WAKE_US * 1000 < wake) wake = now + WAKE_US * 1000;
        struct timespec dl = rk_deadline(wake == INT64_MAX ? 100000 : (wake - now) / 1000);
        pthread_mutex_lock(&s->lock);
        if (!f->done) {
            f->sleeping = 1;
            pthread_cond_timedwait(&f->cv, &s->lock, &dl);
            f->sleeping = 0;
        }
        pthread_mutex_unlock(&s->lock);
        if (r) router_progress(r);
    }
    return outcome(f, reply);
}

void rk_future_free(rk_future_t *f)
{
    if (!f) return;
    future_release(f);
    free(f);
}

rk_status_t rk_call(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *request, int64_t timeout_us,
                    rk_msg_t **reply)
{
    rk_future_t f; /* on the stack: a call allocates nothing of its own */
    rk_status_t st;
    if (reply) *reply = NULL;
    if (!rt || !kernel_id || !request || !reply) return RK_ERR_INVALID;
    memset(&f, 0, sizeof f);
    st = ask_into(rt, kernel_id, request, &f);
    if (st != RK_OK) return st;
    st = rk_future_wait(&f, timeout_us, reply);
    future_release(&f);
    return st;
}

/* ---- refusals --------------------------------------------------------------- */

void rk_refusal_of(const kernel_t *k, const rk_msg_t *m, rk_status_t st, rk_refusal_t *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->kernel, k->id, sizeof out->kernel);
    out->message_id = m->message_id;
    out->flags = m->flags & RK_MSGF_MASK;
    if (out->flags & RK_MSGF_CALL) {
        out->call_id = *rk_msg_call_id(m);
        out->reply_rank = rk_msg_reply_rank(m);
    }
    out->src_rank = m->src_rank < 0 ? k->rt->rank : m->src_rank;
    out->st = st;
}

static rk_event_kind_t refusal_event(rk_status_t st)
{
    return st == RK_ERR_FULL ? RK_EVENT_REFUSED : st == RK_ERR_DROPPED ? RK_EVENT_DROPPED : RK_EVENT_UNDELIVERED;
}

int rk_refusal_local(rk_runtime_t *rt, const rk_refusal_t *r)
{
    int elsewhere = 0;
    if (r->src_rank == rt->rank)
        rk_event_raise(rt, refusal_event(r->st), r->kernel, rt->rank, &r->message_id, r->st, NULL);
    else
        elsewhere = 1;
    if (r->flags & RK_MSGF_CALL) {
        if (r->reply_rank == rt->rank) rk_call_fail(rt, &r->call_id, r->st);
        else elsewhere = 1;
    }
    return elsewhere;
}

void rk_refusal_report(rk_runtime_t *rt, const rk_refusal_t *r)
{
    if (rk_refusal_local(rt, r) && rt->router) router_nack(rt->router, r);
}

/* ---- evictions ------------------------------------------------------------------ */

#define EVICT_MAX 8
static _Thread_local struct {
    int n;
    rk_refusal_t r[EVICT_MAX];
} evicted;

static void on_evict_inbox(void *arg, const rk_msg_t *victim)
{
    if (evicted.n < EVICT_MAX) rk_refusal_of(arg, victim, RK_ERR_DROPPED, &evicted.r[evicted.n++]);
}

static void on_evict_outbox(void *arg, const rk_msg_t *victim)
{
    kernel_t *k = arg;
    __atomic_fetch_add(&k->out_dropped, 1, __ATOMIC_RELAXED);
    rk_event_raise(k->rt, RK_EVENT_OUTPUT_DROPPED, k->id, k->rt->rank, &victim->message_id, RK_ERR_DROPPED, NULL);
}

void rk_evictions_watch(kernel_t *k, rk_mailbox_t *mb, int outbox)
{
    rk_mailbox_set_evict_hook(mb, outbox ? on_evict_outbox : on_evict_inbox, k);
}

void rk_evictions_each(void (*report)(void *arg, const rk_refusal_t *r), void *arg)
{
    rk_refusal_t one;
    while (evicted.n > 0) { /* a report may not put again, but take each out before it runs */
        one = evicted.r[0];
        memmove(evicted.r, evicted.r + 1, (size_t)(--evicted.n) * sizeof one);
        report(arg, &one);
    }
}
