/*
 * runtime.c - the runtime object, the kernel directory, send/receive and topics.
 *
 * The directory is an open-addressing hash of kernel entries keyed by
 * kernel_id, guarded by a reader-writer lock: sends only read it; kernels are
 * added at launch or when a peer announces one. Entries are never removed
 * before rk_runtime_destroy (see runtime_internal.h), so send paths may use an
 * entry after dropping the lock.
 */
#include "util/log.h"
#include "msg/msg_internal.h"
#include "route/router.h"
#include "runtime/runtime_internal.h"
#include "util/spin.h"
#include "util/timeutil.h"
#include "runtime/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SEND_TIMEOUT_US (30LL * 1000000)
#define DEFAULT_CREDITS 64
#define OUTBOX_DEFAULT 1024

#define RK__STR(x) #x
#define RK__VERSION(a, b, c) RK__STR(a) "." RK__STR(b) "." RK__STR(c)
const char *rk_version(void) { return RK__VERSION(RINGMESH_VERSION_MAJOR, RINGMESH_VERSION_MINOR, RINGMESH_VERSION_PATCH); }

static dir_table_t *dir_new(uint32_t cap, dir_table_t *older);
static void dir_free(dir_table_t *t);

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

/* The fields that are set: named in field_mask, or nonzero (zero means the default). */
static uint64_t runtime_params_mask(const rk_runtime_params_t *p)
{
    uint64_t m = p->field_mask;
    if (p->transport) m |= RK_RUNTIME_FIELD_TRANSPORT;
    if (p->send_timeout_us) m |= RK_RUNTIME_FIELD_SEND_TIMEOUT;
    if (p->max_message) m |= RK_RUNTIME_FIELD_MAX_MESSAGE;
    if (p->credits) m |= RK_RUNTIME_FIELD_CREDITS;
    if (p->mpi_comm) m |= RK_RUNTIME_FIELD_MPI_COMM;
    if (p->gpu) m |= RK_RUNTIME_FIELD_GPU;
    return m;
}

static void apply_params(rk_runtime_t *rt, const rk_runtime_params_t *p)
{
    rt->params.transport = RK_TRANSPORT_LOCAL;
    rt->params.send_timeout_us = DEFAULT_SEND_TIMEOUT_US;
    rt->params.max_message = RK_CODEC_MAX_DEFAULT;
    rt->params.credits = DEFAULT_CREDITS;
    rt->params.mpi_comm = NULL;
    rt->params.gpu = -1;
    if (!p) return;
    uint64_t m = runtime_params_mask(p);
    rt->params.field_mask = m;
    if (m & RK_RUNTIME_FIELD_TRANSPORT) rt->params.transport = p->transport;
    if (m & RK_RUNTIME_FIELD_SEND_TIMEOUT) rt->params.send_timeout_us = p->send_timeout_us;
    if (m & RK_RUNTIME_FIELD_MAX_MESSAGE) rt->params.max_message = p->max_message;
    if (m & RK_RUNTIME_FIELD_CREDITS) rt->params.credits = p->credits;
    if (m & RK_RUNTIME_FIELD_MPI_COMM) rt->params.mpi_comm = p->mpi_comm;
    if (m & RK_RUNTIME_FIELD_GPU) rt->params.gpu = p->gpu;
}

rk_status_t rk_runtime_create(const rk_runtime_params_t *params, rk_runtime_t **out)
{
    rk_runtime_t *rt;
    rk_status_t st;

    if (!out) return RK_ERR_INVALID;
    uint64_t set = params ? runtime_params_mask(params) : 0;
    if ((set & RK_RUNTIME_FIELD_TRANSPORT) &&
        (params->transport < RK_TRANSPORT_LOCAL || params->transport > RK_TRANSPORT_MPI))
        return RK_ERR_INVALID;
    if ((set & RK_RUNTIME_FIELD_CREDITS) && params->credits == 0) return RK_ERR_INVALID;
    if ((set & RK_RUNTIME_FIELD_MAX_MESSAGE) && params->max_message == 0) return RK_ERR_INVALID;
    rt = calloc(1, sizeof *rt);
    if (!rt) return RK_ERR_NOMEM;
    apply_params(rt, params);
    const char *poll = getenv("RINGMESH_POLL_US");
    rt->poll_ns = (poll && *poll ? atoll(poll) : 50) * 1000; /* 50 us: catches a reply on shm or TCP */
    if (rt->poll_ns < 0) rt->poll_ns = 0;
    rt->size = 1;
    pthread_rwlock_init(&rt->dir_lock, NULL);
    rt->dir = dir_new(64, NULL);
    st = rt->dir ? rk_registry_create(&rt->reg) : RK_ERR_NOMEM;
    if (st == RK_OK) st = rk_calls_init(rt);
    if (st == RK_OK) st = rk_events_init(rt);
    if (st == RK_OK) st = rk_buffers_init(rt);
    if (st == RK_OK) st = rk_trace_init(rt);
    if (st == RK_OK && rt->params.transport != RK_TRANSPORT_LOCAL) {
        router_config_t cfg = {rt->reg, rt->params.max_message, rt->poll_ns, rt->params.credits,
                               rt->params.transport, rt->params.mpi_comm};
        st = router_create(rt, &cfg, &rt->router);
        if (st == RK_OK) {
            rt->rank = router_rank(rt->router);
            rt->size = router_size(rt->router);
            rt->local_rank = router_local_rank(rt->router);
        }
    }
    if (st == RK_OK) rk_spin_set_share(rt->router ? router_local_size(rt->router) : 1);
    if (st != RK_OK) {
        rk_buffers_fini(rt);
        rk_calls_fini(rt);
        rk_events_fini(rt);
        rk_registry_destroy(rt->reg);
        dir_free(rt->dir);
        pthread_rwlock_destroy(&rt->dir_lock);
        free(rt);
        return st;
    }
    *out = rt;
    return RK_OK;
}

/* The local kernels in states in @p mask stop now (drain up to @p drain_us); returns the messages they left. */
static uint32_t stop_kernels(rk_runtime_t *rt, unsigned mask, int64_t drain_us)
{
    uint32_t left = 0;
    for (uint32_t i = 0; i < rt->dir->cap; i++) {
        kernel_t *k = rt->dir->slot[i];
        if (k && k->local && (mask & (1u << __atomic_load_n(&k->state, __ATOMIC_ACQUIRE))))
            left += rk_kernel_shutdown(k, drain_us);
    }
    return left;
}

/* Name the local kernels that are still busy (destroy's drain timed out). */
static void report_busy(rk_runtime_t *rt)
{
    for (uint32_t i = 0; i < rt->dir->cap; i++) {
        kernel_t *k = rt->dir->slot[i];
        rk_mailbox_stats_t st;
        if (!k || !k->local || __atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != RK_STATE_ACTIVE) continue;
        rk_mailbox_get_stats(k->inbox, &st);
        if (st.depth) RK_WARN("runtime destroy: kernel '%s' still had %u queued message(s)", k->id, st.depth);
    }
}

/*
 * Shutdown in three steps. (1) Every rank reaches destroy (router_quiesce);
 * from then on application calls are refused, while kernels keep serving
 * and sending. Kernels that cannot serve (never activated, or deactivated)
 * stop first: what waits for them is reported as not delivered. (2) The
 * drain: until no message is in flight anywhere and every kernel is idle
 * with an empty mailbox (router_drain across ranks), bounded by
 * $RINGMESH_DESTROY_TIMEOUT_S. (3) The kernels stop, then the router.
 */
rk_status_t rk_runtime_destroy(rk_runtime_t *rt)
{
    rk_status_t st = RK_OK;
    uint32_t left = 0;

    if (!rt) return RK_ERR_INVALID;
    if (rt->router) st = router_quiesce(rt->router); /* every rank reached destroy */
    __atomic_store_n(&rt->shutting_down, 1, __ATOMIC_RELEASE);
    left += stop_kernels(rt, 1u << RK_STATE_CREATED | 1u << RK_STATE_LAUNCHED | 1u << RK_STATE_DEACTIVATED, 0);
    const char *env = getenv("RINGMESH_DESTROY_TIMEOUT_S");
    double limit_s = env && *env ? atof(env) : 60.0;
    int64_t t0 = rk_mono_ns(), deadline = t0 + (int64_t)(limit_s * 1e9);
    uint32_t rounds = 0;
    rk_status_t dst = RK_OK;
    if (rt->router) {
        dst = router_drain(rt->router, rk_local_quiet, deadline, &rounds);
    } else {
        int quiet;
        while (!(quiet = rk_local_quiet(rt)) && rk_mono_ns() < deadline) usleep(50);
        if (!quiet) dst = RK_ERR_TIMEOUT;
    }
    if (dst != RK_OK) {
        RK_ERROR("runtime destroy: messages still in flight after %.1f s (RINGMESH_DESTROY_TIMEOUT_S): %s",
                 limit_s, rk_status_str(dst));
        report_busy(rt);
        if (st == RK_OK) st = dst;
    } else {
        RK_DEBUG("runtime destroy: drained in %.3f ms (%u round(s))", (double)(rk_mono_ns() - t0) / 1e6, rounds);
    }
    left += stop_kernels(rt, ~0u, 1000000);
    if (left) RK_WARN("runtime destroy: %u queued message(s) were never processed", left);
    const char *stats = getenv("RINGMESH_STATS");
    if (stats && strcmp(stats, "0") != 0) rk_runtime_print_stats(rt, stderr);
    rk_status_t tst = rk_trace_finish(rt);
    if (st == RK_OK) st = tst;
    if (rt->router) {
        rk_status_t st2 = router_destroy(rt->router, deadline);
        if (st == RK_OK) st = st2;
        rt->router = NULL; /* gone: freeing buffers below has no registrations to drop */
    }
    rk_calls_fini(rt);
    rk_events_fini(rt); /* the last events reach the callback first */
    for (uint32_t i = 0; i < rt->dir->cap; i++) rk_kernel_free(rt->dir->slot[i]);
    rk_buffers_fini(rt);
    for (uint32_t i = 0; i < rt->ntopics; i++) free(rt->topics[i].subs);
    free(rt->topics);
    dir_free(rt->dir);
    rk_registry_destroy(rt->reg);
    pthread_rwlock_destroy(&rt->dir_lock);
    free(rt);
    return st;
}

int rk_runtime_rank(const rk_runtime_t *rt) { return rt ? rt->rank : -1; }
int rk_runtime_size(const rk_runtime_t *rt) { return rt ? rt->size : 0; }
int rk_runtime_local_rank(const rk_runtime_t *rt) { return rt ? rt->local_rank : -1; }

rk_status_t rk_runtime_register_type(rk_runtime_t *rt, const rk_msg_type_t *type)
{
    if (!rt || !type) return RK_ERR_INVALID;
    pthread_rwlock_wrlock(&rt->dir_lock);
    rk_status_t st = rk_registry_add(rt->reg, type);
    pthread_rwlock_unlock(&rt->dir_lock);
    if (st == RK_ERR_EXISTS && rk_registry_find(rt->reg, type->name, strlen(type->name)) == type)
        st = RK_OK; /* registering the same descriptor twice is harmless */
    return st;
}

const rk_registry_t *rk_runtime_registry(const rk_runtime_t *rt) { return rt ? rt->reg : NULL; }

rk_status_t rk_runtime_sync(rk_runtime_t *rt)
{
    if (!rt) return RK_ERR_INVALID;
    return rt->router ? router_sync(rt->router) : RK_OK;
}

/* ---- directory ----------------------------------------------------------- */

static dir_table_t *dir_new(uint32_t cap, dir_table_t *older)
{
    dir_table_t *t = calloc(1, sizeof *t + cap * sizeof(kernel_t *));
    if (!t) return NULL;
    t->cap = cap;
    t->older = older;
    return t;
}

/* The table and every table it replaced (the kernels themselves are freed by the caller). */
static void dir_free(dir_table_t *t)
{
    while (t) {
        dir_table_t *older = t->older;
        free(t);
        t = older;
    }
}

/* The kernel with @p id, or NULL; takes no lock (see dir_table_t). */
kernel_t *rk_dir_find(rk_runtime_t *rt, const char *id)
{
    const dir_table_t *t = __atomic_load_n(&rt->dir, __ATOMIC_ACQUIRE);
    uint32_t mask = t->cap - 1, i = (uint32_t)hash_id(id) & mask;
    kernel_t *e;
    for (; (e = __atomic_load_n(&t->slot[i], __ATOMIC_ACQUIRE)) != NULL; i = (i + 1) & mask)
        if (strcmp(e->id, id) == 0) return e;
    return NULL;
}

/* Put @p e in the first free slot of its chain in @p t (release: readers see it whole). */
static void dir_place(dir_table_t *t, kernel_t *e)
{
    uint32_t mask = t->cap - 1, i = (uint32_t)hash_id(e->id) & mask;
    while (t->slot[i]) i = (i + 1) & mask;
    __atomic_store_n(&t->slot[i], e, __ATOMIC_RELEASE);
}

/* Caller holds dir_lock for writing. A bigger table is filled before it is published. */
static rk_status_t insert_locked(rk_runtime_t *rt, kernel_t *k)
{
    dir_table_t *t = rt->dir;
    if ((rt->nkernels + 1) * 2 > t->cap) {
        dir_table_t *nt = dir_new(t->cap * 2, t);
        if (!nt) return RK_ERR_NOMEM;
        for (uint32_t i = 0; i < t->cap; i++)
            if (t->slot[i]) dir_place(nt, t->slot[i]);
        __atomic_store_n(&rt->dir, nt, __ATOMIC_RELEASE);
        t = nt;
    }
    dir_place(t, k);
    rt->nkernels++;
    return RK_OK;
}

static int id_ok(const char *id)
{
    size_t n;
    if (!id) return 0;
    n = strlen(id);
    return n > 0 && n < RK_ID_MAX;
}

rk_status_t rk_dir_add_remote(rk_runtime_t *rt, const char *id, int rank, kernel_t **out)
{
    kernel_t *k;
    rk_status_t st = RK_OK;

    if (!id_ok(id)) return RK_ERR_INVALID;
    pthread_rwlock_wrlock(&rt->dir_lock);
    k = rk_dir_find(rt, id);
    if (k) {
        if (k->home_rank != rank) {
            RK_ERROR("kernel '%s' launched on rank %d and on rank %d: duplicate kernel_id", id,
                     k->home_rank, rank);
            __atomic_store_n(&k->claimed_twice, 1, __ATOMIC_RELEASE); /* sends to it fail from now on */
            st = RK_ERR_EXISTS;
        }
    } else if (!(k = calloc(1, sizeof *k))) {
        st = RK_ERR_NOMEM;
    } else {
        memcpy(k->id, id, strlen(id) + 1);
        k->home_rank = rank;
        k->rt = rt;
        st = insert_locked(rt, k);
        if (st != RK_OK) {
            free(k);
            k = NULL;
        }
    }
    pthread_rwlock_unlock(&rt->dir_lock);
    if (out) *out = k;
    return st;
}

rk_mailbox_t *rk_kernel_outbox(rk_runtime_t *rt, kernel_t *k)
{
    rk_mailbox_t *mb = __atomic_load_n(&k->outbox, __ATOMIC_ACQUIRE), *fresh;
    uint32_t cap = OUTBOX_DEFAULT;

    if (mb) return mb;
    if (k->local && (k->params.field_mask & RK_KERNEL_FIELD_OUT_CAPACITY) && k->params.out_capacity)
        cap = k->params.out_capacity;
    if (rk_mailbox_create(cap, (rk_backpressure_t)k->out_strategy, &fresh) != RK_OK) return NULL;
    if (k->out_strategy == RK_BP_DROP_OLDEST) rk_evictions_watch(k, fresh, 1);
    if (!__atomic_compare_exchange_n(&k->outbox, &mb, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        rk_mailbox_destroy(fresh); /* another thread won the race */
        return mb;
    }
    return fresh;
}

rk_status_t rk_kernel_create(rk_runtime_t *rt, const rk_kernel_params_t *params)
{
    kernel_t *k;
    rk_status_t st;

    if (!rt || !params || !id_ok(params->kernel_id)) return RK_ERR_INVALID;
    if (!params->fn && !params->device && !params->on_message) return RK_ERR_INVALID;
    st = rk_kernel_alloc(rt, params, &k);
    if (st != RK_OK) return st;
    int other_home = -1;
    kernel_t *prev = rk_dir_find(rt, params->kernel_id);
    if (prev) rk_kernel_reap(prev); /* a failed body's thread is joined outside the directory lock */
    pthread_rwlock_wrlock(&rt->dir_lock);
    kernel_t *old = rk_dir_find(rt, params->kernel_id);
    if (old) other_home = old->home_rank;
    st = old ? RK_ERR_EXISTS : insert_locked(rt, k);
    if (old && old->local) {
        st = rk_kernel_revive(old, k); /* a TERMINATED or FAILED id, created again; frees k on success */
        if (st == RK_OK) {
            pthread_rwlock_unlock(&rt->dir_lock);
            return rt->router ? router_announce_kernel(rt->router, old) : RK_OK;
        }
    }
    pthread_rwlock_unlock(&rt->dir_lock);
    if (st != RK_OK) {
        if (st == RK_ERR_EXISTS) {
            RK_ERROR("kernel_id '%s' already exists on rank %d", params->kernel_id, other_home);
            if (rt->router && other_home != rt->rank) router_report_dup(rt->router, params->kernel_id, other_home);
        }
        rk_kernel_free(k);
        return st;
    }
    if (rt->router) st = router_announce_kernel(rt->router, k);
    return st;
}

rk_status_t rk_kernel_rank(rk_runtime_t *rt, const char *kernel_id, int *rank)
{
    kernel_t *k;
    if (!rt || !kernel_id || !rank) return RK_ERR_INVALID;
    k = rk_dir_find(rt, kernel_id);
    if (!k) return RK_ERR_NOT_FOUND;
    *rank = k->home_rank;
    return RK_OK;
}

/* ---- send / receive ---------------------------------------------------- */

/* Put into a mailbox and trace the enqueue (the id is copied first: once
 * queued, the message may be taken and freed by its consumer at once). */
rk_status_t rk_put_traced(rk_runtime_t *rt, const kernel_t *k, rk_mailbox_t *mb, rk_msg_t *msg, int64_t timeout_us)
{
    rk_uuid_t id;
    uint8_t prio;
    rk_status_t st;
#ifdef RK_NO_TRACE_HOOKS
    return rk_mailbox_put(mb, msg, timeout_us);
#endif
    if (!rt->trace) return rk_mailbox_put(mb, msg, timeout_us);
    id = msg->message_id;
    prio = msg->priority;
    st = rk_mailbox_put(mb, msg, timeout_us);
    if (st == RK_OK) rk_trace_event(rt, TRACE_ENQUEUE, k, &id, prio);
    return st;
}

rk_status_t rk_deliver_local(kernel_t *k, rk_msg_t *msg, int64_t timeout_us)
{
    rk_status_t st = rk_state_refusal(__atomic_load_n(&k->state, __ATOMIC_ACQUIRE));
    if (st != RK_OK) return st;
    /* the inbox is loaded after the state: a kernel created again publishes its new inbox first */
    rk_mailbox_t *inbox = __atomic_load_n(&k->inbox, __ATOMIC_ACQUIRE);
    st = rk_put_traced(k->rt, k, inbox, msg, timeout_us);
    if (st == RK_ERR_TERMINATED) st = rk_state_refusal(__atomic_load_n(&k->state, __ATOMIC_ACQUIRE));
    return st;
}

static void report_one(void *rt, const rk_refusal_t *r) { rk_refusal_report(rt, r); }

void rk_evictions_report(rk_runtime_t *rt) { rk_evictions_each(report_one, rt); }

static rk_status_t send_copy_local(rk_runtime_t *rt, kernel_t *k, const rk_msg_t *msg, uint8_t flags,
                                   int32_t reply_rank, const rk_uuid_t *corr, int64_t timeout_us)
{
    rk_msg_t *copy;
    rk_status_t st = rk_msg_copy_marked(msg, rt->rank, flags, reply_rank, corr, &copy);
    if (st != RK_OK) return st;
    st = rk_deliver_local(k, copy, timeout_us);
    if (st != RK_OK) rk_msg_free(copy);
    if (k->params.strategy == RK_BP_DROP_OLDEST) rk_evictions_report(rt);
    return st;
}

rk_status_t rk_send_marked(rk_runtime_t *rt, kernel_t *k, const rk_msg_t *msg, uint8_t flags, int32_t reply_rank,
                           const rk_uuid_t *corr, int64_t timeout_us)
{
    rk_msg_t *tmp;
    rk_status_t st;
    if (k->local) return send_copy_local(rt, k, msg, flags, reply_rank, corr, timeout_us);
    if ((msg->flags & RK_MSGF_MASK) == flags && rk_msg_reply_rank(msg) == (flags ? reply_rank : 0) &&
        (!corr || rk_uuid_equal(corr, &msg->correlation_id)))
        return router_send(rt->router, k, msg, timeout_us); /* the marks travel in the frame */
    st = rk_msg_copy_marked(msg, rt->rank, flags, reply_rank, corr, &tmp); /* other marks than msg has */
    if (st != RK_OK) return st;
    st = router_send(rt->router, k, tmp, timeout_us);
    rk_msg_free(tmp);
    return st;
}

/* Bad input gets its status and a log line (the first 20 per runtime; then a note that more were suppressed). */
static rk_status_t bad_input(rk_runtime_t *rt, rk_status_t st, const char *call, const char *kernel_id)
{
    uint32_t n = __atomic_fetch_add(&rt->bad_inputs, 1, __ATOMIC_RELAXED);
    if (n < 20) RK_WARN("%s to '%s': %s", call, kernel_id, rk_status_str(st));
    else if (n == 20) RK_WARN("more refused calls: further lines suppressed");
    return st;
}

rk_status_t rk_send_check(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *msg, kernel_t **out)
{
    kernel_t *k;
    rk_status_t st;

    if (__atomic_load_n(&rt->shutting_down, __ATOMIC_ACQUIRE) && !rk_trace_current_kernel())
        return bad_input(rt, RK_ERR_TERMINATED, "send", kernel_id); /* kernels go on sending through destroy's drain */
    st = rk_msg_validate(msg);
    if (st != RK_OK) return bad_input(rt, st, "send", kernel_id);
    if (msg->size > rt->params.max_message) return bad_input(rt, RK_ERR_TOO_LARGE, "send", kernel_id);
    k = rk_dir_find(rt, kernel_id);
    if (!k) return bad_input(rt, RK_ERR_NOT_FOUND, "send", kernel_id);
    if (__atomic_load_n(&k->claimed_twice, __ATOMIC_ACQUIRE)) return bad_input(rt, RK_ERR_EXISTS, "send", kernel_id);
    st = rk_state_refusal(__atomic_load_n(&k->state, __ATOMIC_ACQUIRE));
    if (st != RK_OK) return bad_input(rt, st, "send", kernel_id);
    *out = k;
    return RK_OK;
}

/*
 * The marks a send carries. From a kernel body serving a request of a call, a
 * message that is not that request itself carries the call on (FWD: the
 * call's id as correlation_id), so the last stage of a pipeline can answer the
 * original caller; the request itself keeps its own marks. Anything else
 * (application threads, bodies not serving a call) carries none.
 */
static uint8_t send_marks(const rk_msg_t *msg, int32_t *reply_rank, const rk_uuid_t **corr)
{
    const kernel_t *cur = rk_trace_current_kernel();
    *reply_rank = 0;
    *corr = NULL;
    if (!cur) return 0;
    if (msg->flags & RK_MSGF_CALL) {
        *reply_rank = rk_msg_reply_rank(msg);
        return msg->flags & (RK_MSGF_CALL | RK_MSGF_FWD);
    }
    if (!(cur->cur_flags & RK_MSGF_CALL)) return 0;
    *reply_rank = cur->cur_reply_rank;
    *corr = &cur->cur_call;
    return RK_MSGF_CALL | RK_MSGF_FWD;
}

rk_status_t rk_send_timeout(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *msg,
                            int64_t timeout_us)
{
    kernel_t *k;
    rk_status_t st;
    int32_t reply_rank;
    const rk_uuid_t *corr;

    if (!rt || !kernel_id || !msg) return RK_ERR_INVALID;
    st = rk_send_check(rt, kernel_id, msg, &k);
    if (st != RK_OK) return st;
    RK_TRACE(rt, TRACE_SEND, rk_trace_current_kernel(), msg);
    uint8_t flags = send_marks(msg, &reply_rank, &corr);
    return rk_send_marked(rt, k, msg, flags, reply_rank, corr, timeout_us);
}

rk_status_t rk_send(rk_runtime_t *rt, const char *kernel_id, const rk_msg_t *msg)
{
    if (!rt) return RK_ERR_INVALID;
    return rk_send_timeout(rt, kernel_id, msg, rt->params.send_timeout_us);
}

/*
 * Wait for an output coming from another rank: the waiting thread drives the
 * transport itself (no relay thread on the hot path), spinning briefly and
 * then sleeping in short slices so oversubscribed ranks still make progress.
 */
/* Outputs of a kernel on rank @p home: drive the transport while waiting; RK_ERR_PEER once that rank failed. */
static rk_status_t receive_remote(rk_runtime_t *rt, int home, rk_mailbox_t *mb, int64_t timeout_us, rk_msg_t **out)
{
    int64_t end = timeout_us < 0 ? INT64_MAX : rk_mono_ns() + timeout_us * 1000;
    for (int spin = 0;; spin++) {
        rk_status_t st = rk_mailbox_try_get(mb, out);
        if (st != RK_ERR_EMPTY) return st;
        if (router_peer_failed(rt->router, home)) return RK_ERR_PEER; /* what it sent before is taken first */
        if (router_progress(rt->router) > 0) spin = 0;
        if (rk_mono_ns() >= end) return RK_ERR_TIMEOUT;
        if (spin > 256) {
            int64_t left = (end - rk_mono_ns()) / 1000;
            st = rk_mailbox_get(mb, left < 50 ? (left < 0 ? 0 : left) : 50, out);
            if (st != RK_ERR_TIMEOUT) return st;
        }
    }
}

rk_status_t rk_receive(rk_runtime_t *rt, const char *kernel_id, int64_t timeout_us, rk_msg_t **out)
{
    kernel_t *k;
    rk_mailbox_t *mb;

    if (!rt || !kernel_id || !out) return RK_ERR_INVALID;
    if (__atomic_load_n(&rt->shutting_down, __ATOMIC_ACQUIRE)) return bad_input(rt, RK_ERR_TERMINATED, "receive", kernel_id);
    k = rk_dir_find(rt, kernel_id);
    if (!k) return bad_input(rt, RK_ERR_NOT_FOUND, "receive", kernel_id);
    mb = rk_kernel_outbox(rt, k);
    if (!mb) return RK_ERR_NOMEM;
    int ks = __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
    if (ks == RK_STATE_TERMINATED || ks == RK_STATE_FAILED) { /* what is left, then the end */
        rk_status_t st = rk_mailbox_try_get(mb, out);
        return st == RK_OK ? st : rk_state_refusal(ks);
    }
    rk_status_t st = !rt->router || k->home_rank == rt->rank ? rk_mailbox_get(mb, timeout_us, out)
                                                              : receive_remote(rt, k->home_rank, mb, timeout_us, out);
    if (st == RK_OK) RK_TRACE(rt, TRACE_DEQUEUE, NULL, *out);
    return st;
}

/* ---- topics -------------------------------------------------------------- */

static topic_t *topic_find_locked(rk_runtime_t *rt, const char *name)
{
    for (uint32_t i = 0; i < rt->ntopics; i++)
        if (strcmp(rt->topics[i].name, name) == 0) return &rt->topics[i];
    return NULL;
}

rk_status_t rk_topic_add(rk_runtime_t *rt, const char *topic, kernel_t *k)
{
    topic_t *t;
    rk_status_t st = RK_OK;

    pthread_rwlock_wrlock(&rt->dir_lock);
    t = topic_find_locked(rt, topic);
    if (!t) {
        if (rt->ntopics == rt->topics_cap) {
            uint32_t ncap = rt->topics_cap ? rt->topics_cap * 2 : 8;
            topic_t *nt = realloc(rt->topics, ncap * sizeof *nt);
            if (!nt) {
                st = RK_ERR_NOMEM;
                goto out;
            }
            rt->topics = nt;
            rt->topics_cap = ncap;
        }
        t = &rt->topics[rt->ntopics++];
        memset(t, 0, sizeof *t);
        memcpy(t->name, topic, strlen(topic) + 1);
    }
    for (uint32_t i = 0; i < t->n; i++)
        if (t->subs[i] == k) goto out; /* already subscribed */
    if (t->n == t->cap) {
        uint32_t ncap = t->cap ? t->cap * 2 : 4;
        kernel_t **ns = realloc(t->subs, ncap * sizeof *ns);
        if (!ns) {
            st = RK_ERR_NOMEM;
            goto out;
        }
        t->subs = ns;
        t->cap = ncap;
    }
    t->subs[t->n++] = k;
out:
    pthread_rwlock_unlock(&rt->dir_lock);
    return st;
}

rk_status_t rk_subscribe(rk_runtime_t *rt, const char *topic, const char *kernel_id)
{
    kernel_t *k;
    rk_status_t st;

    if (!rt || !id_ok(topic) || !kernel_id) return RK_ERR_INVALID;
    k = rk_dir_find(rt, kernel_id);
    if (!k) return RK_ERR_NOT_FOUND;
    st = rk_topic_add(rt, topic, k);
    if (st == RK_OK && rt->router) st = router_announce_sub(rt->router, topic, k);
    return st;
}

rk_status_t rk_topic_remove(rk_runtime_t *rt, const char *topic, const kernel_t *k)
{
    rk_status_t st = RK_ERR_NOT_FOUND;
    pthread_rwlock_wrlock(&rt->dir_lock);
    topic_t *t = topic_find_locked(rt, topic);
    for (uint32_t i = 0; t && i < t->n; i++)
        if (t->subs[i] == k) {
            memmove(&t->subs[i], &t->subs[i + 1], (t->n - i - 1) * sizeof *t->subs);
            t->n--;
            st = RK_OK;
            break;
        }
    pthread_rwlock_unlock(&rt->dir_lock);
    return st;
}

rk_status_t rk_unsubscribe(rk_runtime_t *rt, const char *topic, const char *kernel_id)
{
    kernel_t *k;
    rk_status_t st;

    if (!rt || !id_ok(topic) || !kernel_id) return RK_ERR_INVALID;
    k = rk_dir_find(rt, kernel_id);
    if (!k) return RK_ERR_NOT_FOUND;
    st = rk_topic_remove(rt, topic, k);
    if (st == RK_OK && rt->router) st = router_announce_unsub(rt->router, topic, k);
    return st;
}

rk_status_t rk_runtime_wait_kernel(rk_runtime_t *rt, const char *kernel_id, int64_t timeout_us)
{
    if (!rt || !id_ok(kernel_id)) return RK_ERR_INVALID;
    int64_t end = timeout_us < 0 ? INT64_MAX : rk_mono_ns() + timeout_us * 1000;
    for (;;) {
        kernel_t *k = rk_dir_find(rt, kernel_id);
        if (k && rk_state_refusal(__atomic_load_n(&k->state, __ATOMIC_ACQUIRE)) == RK_OK) return RK_OK;
        if (rk_mono_ns() >= end) return RK_ERR_TIMEOUT;
        if (rt->router) router_progress(rt->router);
        usleep(50);
    }
}

/* Snapshot the subscriber list so delivery runs without the directory lock. */
rk_status_t rk_topic_snapshot(rk_runtime_t *rt, const char *topic, kernel_t ***subs, uint32_t *n)
{
    topic_t *t;
    rk_status_t st = RK_OK;

    *subs = NULL;
    *n = 0;
    pthread_rwlock_rdlock(&rt->dir_lock);
    t = topic_find_locked(rt, topic);
    if (!t) {
        st = RK_ERR_NOT_FOUND;
    } else if (t->n) {
        *subs = malloc(t->n * sizeof **subs);
        if (!*subs) st = RK_ERR_NOMEM;
        else {
            memcpy(*subs, t->subs, t->n * sizeof **subs);
            *n = t->n;
        }
    }
    pthread_rwlock_unlock(&rt->dir_lock);
    return st;
}

rk_status_t rk_publish(rk_runtime_t *rt, const char *topic, const rk_msg_t *msg)
{
    kernel_t **subs;
    uint32_t n;
    rk_status_t st, first = RK_OK;

    if (!rt || !topic || !msg) return RK_ERR_INVALID;
    st = rk_msg_validate(msg);
    if (st != RK_OK) return st;
    st = rk_topic_snapshot(rt, topic, &subs, &n);
    if (st != RK_OK) return st;
    for (uint32_t i = 0; i < n; i++) { /* local subscribers: a copy each */
        if (!subs[i]->local) continue;
        st = send_copy_local(rt, subs[i], msg, 0, 0, NULL, rt->params.send_timeout_us);
        if (st != RK_OK && first == RK_OK) first = st;
    }
    if (rt->router) { /* one copy per remote rank that has subscribers */
        for (int r = 0; r < rt->size; r++) {
            if (r == rt->rank) continue;
            for (uint32_t i = 0; i < n; i++) {
                if (subs[i]->home_rank != r) continue;
                st = router_publish(rt->router, r, topic, msg, rt->params.send_timeout_us);
                if (st != RK_OK && first == RK_OK) first = st;
                break;
            }
        }
    }
    free(subs);
    return first;
}
