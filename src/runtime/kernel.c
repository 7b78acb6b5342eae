/*
 * kernel.c - ring kernel lifecycle and the context a kernel body loops on.
 *
 * State machine (k->lock guards transitions, readers load k->state atomically):
 *   CREATED -> LAUNCHED -> ACTIVE <-> DEACTIVATED -> TERMINATING -> TERMINATED
 * (LAUNCHED, ACTIVE and DEACTIVATED may all terminate). Every transition
 * kicks the inbox so a body blocked in receive re-checks the state at once.
 * A kernel never loses a message silently: what is still queued when its
 * thread has exited is counted, logged and returned as "undelivered"; a
 * queued request of a call fails its future instead of leaving it waiting.
 *
 * Supervision: a body that returns while the kernel is not terminating (or
 * after rk_ctx_fail) has failed. Under RK_RESTART_ON_FAILURE it is called
 * again on the same thread, mailbox and messages kept, up to max_restarts
 * times; then, or under RK_RESTART_NEVER, the kernel is FAILED: new messages
 * are refused with RK_ERR_FAILED, queued requests and waiting futures fail,
 * an event is raised and the other ranks are told.
 */
#include "cuda/backend.h"
#include "util/idset.h"
#include "util/log.h"
#include "queue/mailbox_hook.h"
#include "msg/msg_internal.h"
#include "route/router.h"
#include "runtime/runtime_internal.h"
#include "util/spin.h"
#include "util/timeutil.h"
#include "runtime/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CAPACITY 1024
#define RECEIVE_SLICE_US 100000 /* re-check state at least this often */

const char *rk_kernel_state_str(rk_kernel_state_t s)
{
    static const char *names[] = {"CREATED",     "LAUNCHED",   "ACTIVE", "DEACTIVATED",
                                  "TERMINATING", "TERMINATED", "FAILED"};
    return (unsigned)s <= RK_STATE_FAILED ? names[s] : "UNKNOWN";
}

/* ---- allocation ---------------------------------------------------------- */

uint64_t rk_kernel_params_mask(const rk_kernel_params_t *p)
{
    uint64_t m = p->field_mask;
    if (p->arg) m |= RK_KERNEL_FIELD_ARG;
    if (p->capacity) m |= RK_KERNEL_FIELD_CAPACITY;
    if (p->strategy) m |= RK_KERNEL_FIELD_STRATEGY;
    if (p->out_capacity) m |= RK_KERNEL_FIELD_OUT_CAPACITY;
    if (p->backend) m |= RK_KERNEL_FIELD_BACKEND;
    if (p->dedup_window) m |= RK_KERNEL_FIELD_DEDUP;
    if (p->device) m |= RK_KERNEL_FIELD_DEVICE;
    if (p->forward_to) m |= RK_KERNEL_FIELD_FORWARD;
    if (p->restart || p->max_restarts) m |= RK_KERNEL_FIELD_RESTART;
    if (p->on_message) m |= RK_KERNEL_FIELD_ON_MESSAGE;
    return m;
}

/* The fields that are set (rk_kernel_params_mask), the others at their defaults (zero). */
static void copy_params(rk_kernel_params_t *dst, const rk_kernel_params_t *p)
{
    uint64_t m = rk_kernel_params_mask(p);
    memset(dst, 0, sizeof *dst);
    dst->field_mask = m;
    dst->kernel_id = p->kernel_id;
    dst->fn = p->fn;
    if (m & RK_KERNEL_FIELD_ARG) dst->arg = p->arg;
    if (m & RK_KERNEL_FIELD_CAPACITY) dst->capacity = p->capacity;
    if (m & RK_KERNEL_FIELD_STRATEGY) dst->strategy = p->strategy;
    if (m & RK_KERNEL_FIELD_OUT_CAPACITY) dst->out_capacity = p->out_capacity;
    if (m & RK_KERNEL_FIELD_BACKEND) dst->backend = p->backend;
    if (m & RK_KERNEL_FIELD_DEDUP) dst->dedup_window = p->dedup_window;
    if (m & RK_KERNEL_FIELD_DEVICE) dst->device = p->device;
    if (m & RK_KERNEL_FIELD_FORWARD) dst->forward_to = p->forward_to;
    if (m & RK_KERNEL_FIELD_RESTART) {
        dst->restart = p->restart;
        dst->max_restarts = p->max_restarts;
    }
    if (m & RK_KERNEL_FIELD_ON_MESSAGE) dst->on_message = p->on_message;
}

/*
 * The body of a handler kernel: the receive loop every kernel would write,
 * once. The message is freed after the handler returns; the loop ends when
 * the kernel must stop (terminate, destroy, rk_ctx_fail).
 */
static void handler_loop(rk_ctx_t *ctx, void *arg)
{
    rk_message_fn fn = ctx->k->params.on_message;
    for (;;) {
        rk_msg_t *m = NULL;
        rk_status_t st = rk_ctx_receive(ctx, RECEIVE_SLICE_US, &m);
        if (st == RK_OK) {
            fn(ctx, m, arg);
            rk_msg_free(m);
        } else if (st != RK_ERR_TIMEOUT || rk_ctx_should_terminate(ctx)) {
            return; /* RK_ERR_TERMINATED: time to stop */
        }
    }
}

rk_status_t rk_kernel_alloc(rk_runtime_t *rt, const rk_kernel_params_t *p, kernel_t **out)
{
    kernel_t *k = calloc(1, sizeof *k);
    uint32_t cap = DEFAULT_CAPACITY;
    rk_backpressure_t bp = RK_BP_BLOCK;
    rk_status_t st;

    if (!k) return RK_ERR_NOMEM;
    copy_params(&k->params, p);
    if (k->params.capacity) cap = k->params.capacity;
    bp = k->params.strategy;
    memcpy(k->id, p->kernel_id, strlen(p->kernel_id) + 1);
    k->params.kernel_id = k->id;
    k->rt = rt;
    k->local = 1;
    k->home_rank = rt->rank;
    k->ctx.k = k;
    k->backend = RK_BACKEND_HOST;
    pthread_mutex_init(&k->lock, NULL);
    rk_cond_init_monotonic(&k->cv);
    if ((unsigned)bp > RK_BP_DROP_OLDEST || (unsigned)k->params.restart > RK_RESTART_ON_FAILURE) {
        rk_kernel_free(k);
        return RK_ERR_INVALID;
    }
    k->out_strategy = bp;
    st = rk_mailbox_create(cap, bp, &k->inbox);
    if (st == RK_OK && bp == RK_BP_DROP_OLDEST) rk_evictions_watch(k, k->inbox, 0);
    if (st == RK_OK) st = idset_init(&k->origins, RK_REQMAP_SIZE);
    if (st == RK_OK && k->params.dedup_window) st = idset_init(&k->dedup, k->params.dedup_window);
    if (st == RK_OK && (k->params.field_mask & RK_KERNEL_FIELD_DEVICE)) {
        if (!k->params.device || !k->params.device->host_body) st = RK_ERR_INVALID;
        else k->params.fn = rk_device_pump;
    }
    if (st == RK_OK && (k->params.field_mask & RK_KERNEL_FIELD_ON_MESSAGE)) {
        /* one body: a handler, not also a loop or a device body */
        if (!k->params.on_message || p->fn || k->params.device) st = RK_ERR_INVALID;
        else k->params.fn = handler_loop;
    }
    if (st == RK_OK && k->params.forward_to) {
        size_t n = strnlen(k->params.forward_to, RK_ID_MAX);
        if (!k->params.device || n == 0 || n >= RK_ID_MAX) st = RK_ERR_INVALID;
        else {
            memcpy(k->forward_to, k->params.forward_to, n + 1);
            k->params.forward_to = k->forward_to;
        }
    }
    if (st == RK_OK && k->params.backend != RK_BACKEND_HOST) {
        const char *why = NULL;
        if (k->params.backend > RK_BACKEND_AUTO) st = RK_ERR_INVALID;
        else if (rk_cuda_device_count(&why) > 0 && k->params.device) k->backend = RK_BACKEND_CUDA;
        else if (!k->params.device && k->params.backend == RK_BACKEND_CUDA) {
            RK_ERROR("kernel '%s': CUDA backend requested for a host body (a GPU runs only device bodies)", k->id);
            st = RK_ERR_UNSUPPORTED;
        } else if (!k->params.device && rk_cuda_device_count(&why) > 0)
            RK_INFO("kernel '%s': a GPU is present but the kernel has no device body; it runs on the host", k->id);
        else if (k->params.backend == RK_BACKEND_CUDA) {
            RK_ERROR("kernel '%s': CUDA backend requested but unavailable (%s)", k->id, why);
            st = RK_ERR_UNSUPPORTED;
        } else if (!__atomic_exchange_n(&rt->gpu_fallback_logged, 1, __ATOMIC_RELAXED)) {
            RK_WARN("no usable GPU (%s): kernels asking for backend AUTO run on the host backend", why);
        }
    }
    if (st != RK_OK) {
        rk_kernel_free(k);
        return st;
    }
    *out = k;
    return RK_OK;
}

void rk_kernel_free(kernel_t *k)
{
    if (!k) return;
    while (k->retired) {
        retired_box_t *b = k->retired;
        k->retired = b->next;
        rk_mailbox_destroy(b->mb);
        free(b);
    }
    if (k->local) {
        rk_mailbox_destroy(k->inbox);
        pthread_mutex_destroy(&k->lock);
        pthread_cond_destroy(&k->cv);
        idset_free(&k->origins);
        idset_free(&k->dedup);
    }
    rk_mailbox_destroy(k->outbox);
    free(k);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void set_state(kernel_t *k, int s)
{
    __atomic_store_n(&k->state, s, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&k->cv);
    rk_mailbox_kick(k->inbox);
}

/*
 * Close the inbox and empty it: a request of a call fails its future with
 * @p st (here or on the caller's rank); other messages are counted. Returns
 * how many messages were never processed.
 */
static uint32_t drain_refused(kernel_t *k, rk_status_t st)
{
    rk_msg_t *m;
    uint32_t left = 0;
    rk_mailbox_close(k->inbox);
    for (;;) {
        rk_status_t got = rk_mailbox_try_get(k->inbox, &m);
        if (got == RK_ERR_TIMEOUT) continue; /* a pending kick */
        if (got != RK_OK) break;              /* empty (and closed) */
        if (m->flags & RK_MSGF_CALL) {
            rk_refusal_t ref;
            rk_refusal_of(k, m, st, &ref);
            rk_refusal_report(k->rt, &ref);
        }
        rk_msg_free(m);
        left++;
    }
    return left;
}

/* The body failed for good (kernel thread): FAILED, queued requests and waiting futures fail, everyone is told. */
static void kernel_failed(kernel_t *k, const char *reason)
{
    rk_runtime_t *rt = k->rt;
    pthread_mutex_lock(&k->lock);
    snprintf(k->fail_reason, sizeof k->fail_reason, "%s", reason);
    set_state(k, RK_STATE_FAILED);
    pthread_mutex_unlock(&k->lock);
    uint32_t left = drain_refused(k, RK_ERR_FAILED);
    RK_ERROR("kernel '%s' failed: %s (%u queued message(s) not processed)", k->id, reason, left);
    rk_calls_fail_kernel(rt, k, RK_ERR_FAILED);
    rk_event_raise(rt, RK_EVENT_KERNEL_FAILED, k->id, rt->rank, NULL, RK_ERR_FAILED, reason);
    if (rt->router && !__atomic_load_n(&rt->shutting_down, __ATOMIC_ACQUIRE)) router_announce_gone(rt->router, k, 1);
}

static void *kernel_main(void *arg)
{
    kernel_t *k = arg;
    rk_trace_set_current_kernel(k);
    for (;;) {
        k->params.fn(&k->ctx, k->params.arg);
        int failed = __atomic_load_n(&k->fail_requested, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) >= RK_STATE_TERMINATING) break; /* asked to stop */
        const char *why = failed ? k->fail_reason : "body returned";
        if (k->params.restart == RK_RESTART_ON_FAILURE && k->restarts < k->params.max_restarts) {
            __atomic_store_n(&k->restarts, k->restarts + 1, __ATOMIC_RELAXED);
            RK_WARN("kernel '%s': %s; restart %u of %u", k->id, why, k->restarts, k->params.max_restarts);
            rk_event_raise(k->rt, RK_EVENT_KERNEL_RESTARTED, k->id, k->rt->rank, NULL, RK_OK, why);
            k->cur_flags = 0;
            if (k->holding) { /* what the failed run held is done with */
                k->holding = 0;
                __atomic_store_n(&k->served, k->served + 1, __ATOMIC_RELEASE);
            }
            __atomic_store_n(&k->fail_requested, 0, __ATOMIC_RELEASE);
            continue;
        }
        char reason[sizeof k->fail_reason];
        snprintf(reason, sizeof reason, "%s", why);
        kernel_failed(k, reason);
        break;
    }
    return NULL;
}

/* Look up a local kernel and apply @p from_mask -> @p to under its lock. */
static rk_status_t transition(rk_runtime_t *rt, const char *id, unsigned from_mask, int to, kernel_t **out)
{
    kernel_t *k;
    rk_status_t st = RK_OK;

    if (!rt || !id) return RK_ERR_INVALID;
    k = rk_dir_find(rt, id);
    if (!k) return RK_ERR_NOT_FOUND;
    if (!k->local) return RK_ERR_INVALID; /* lifecycle calls are made on the home rank */
    pthread_mutex_lock(&k->lock);
    if (!(from_mask & (1u << k->state))) {
        RK_DEBUG("kernel '%s': %s -> %s refused", id, rk_kernel_state_str(k->state), rk_kernel_state_str(to));
        st = RK_ERR_STATE;
    } else if (to == RK_STATE_LAUNCHED) {
        if (pthread_create(&k->thread, NULL, kernel_main, k) != 0) st = RK_ERR_NOMEM;
        else {
            k->thread_started = 1;
            set_state(k, to);
        }
    } else {
        set_state(k, to);
    }
    pthread_mutex_unlock(&k->lock);
    if (out) *out = k;
    return st;
}

#define BIT(s) (1u << (s))

rk_status_t rk_kernel_launch(rk_runtime_t *rt, const char *kernel_id)
{
    return transition(rt, kernel_id, BIT(RK_STATE_CREATED), RK_STATE_LAUNCHED, NULL);
}

rk_status_t rk_kernel_activate(rk_runtime_t *rt, const char *kernel_id)
{
    return transition(rt, kernel_id, BIT(RK_STATE_LAUNCHED) | BIT(RK_STATE_DEACTIVATED), RK_STATE_ACTIVE, NULL);
}

rk_status_t rk_kernel_deactivate(rk_runtime_t *rt, const char *kernel_id)
{
    return transition(rt, kernel_id, BIT(RK_STATE_ACTIVE), RK_STATE_DEACTIVATED, NULL);
}

rk_status_t rk_kernel_start(rk_runtime_t *rt, const rk_kernel_params_t *params)
{
    rk_status_t st = rk_kernel_create(rt, params);
    if (st == RK_OK) st = rk_kernel_launch(rt, params->kernel_id);
    if (st == RK_OK) st = rk_kernel_activate(rt, params->kernel_id);
    return st;
}

/* Join the thread and free what is left; the kernel is TERMINATING on entry. */
/* Join the kernel's thread once, whoever asks first (terminate, destroy, create again). */
static void join_once(kernel_t *k)
{
    pthread_mutex_lock(&k->lock);
    int started = k->thread_started;
    k->thread_started = 0;
    pthread_mutex_unlock(&k->lock);
    if (started) pthread_join(k->thread, NULL);
}

void rk_kernel_reap(kernel_t *k)
{
    if (k->local && __atomic_load_n(&k->state, __ATOMIC_ACQUIRE) == RK_STATE_FAILED) join_once(k);
}

static uint32_t finish(kernel_t *k)
{
    uint32_t left;
    join_once(k);
    if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) == RK_STATE_FAILED) return 0; /* told everyone already */
    left = drain_refused(k, RK_ERR_TERMINATED);
    if (left) RK_WARN("kernel '%s' terminated with %u unprocessed message(s)", k->id, left);
    pthread_mutex_lock(&k->lock);
    set_state(k, RK_STATE_TERMINATED);
    pthread_mutex_unlock(&k->lock);
    rk_calls_fail_kernel(k->rt, k, RK_ERR_TERMINATED); /* the body is gone: no reply will come */
    if (k->rt->router && !__atomic_load_n(&k->rt->shutting_down, __ATOMIC_ACQUIRE))
        router_announce_gone(k->rt->router, k, 0); /* senders elsewhere now get RK_ERR_TERMINATED */
    return left;
}

static void begin_terminate(kernel_t *k, int was_active, int64_t drain_timeout_us)
{
    k->draining = was_active && drain_timeout_us != 0;
    k->drain_deadline_ns = drain_timeout_us < 0 ? INT64_MAX : rk_mono_ns() + drain_timeout_us * 1000;
}

rk_status_t rk_kernel_terminate(rk_runtime_t *rt, const char *kernel_id, int64_t drain_timeout_us,
                                uint32_t *undelivered)
{
    kernel_t *k;
    rk_status_t st;
    int was;

    if (!rt || !kernel_id) return RK_ERR_INVALID;
    k = rk_dir_find(rt, kernel_id);
    if (!k) return RK_ERR_NOT_FOUND;
    if (!k->local) return RK_ERR_INVALID;
    pthread_mutex_lock(&k->lock);
    was = k->state;
    if (was == RK_STATE_FAILED) { /* join the thread of a failed body; it stays FAILED */
        pthread_mutex_unlock(&k->lock);
        finish(k);
        if (undelivered) *undelivered = 0;
        return RK_OK;
    }
    if (was != RK_STATE_LAUNCHED && was != RK_STATE_ACTIVE && was != RK_STATE_DEACTIVATED) {
        pthread_mutex_unlock(&k->lock);
        return RK_ERR_STATE;
    }
    begin_terminate(k, was == RK_STATE_ACTIVE, drain_timeout_us);
    set_state(k, RK_STATE_TERMINATING);
    pthread_mutex_unlock(&k->lock);
    st = RK_OK;
    uint32_t left = finish(k);
    if (undelivered) *undelivered = left;
    return st;
}

uint32_t rk_kernel_shutdown(kernel_t *k, int64_t drain_timeout_us)
{
    int was;
    pthread_mutex_lock(&k->lock);
    was = k->state;
    if (was == RK_STATE_TERMINATED) {
        pthread_mutex_unlock(&k->lock);
        return 0;
    }
    if (was != RK_STATE_TERMINATING && was != RK_STATE_FAILED) {
        begin_terminate(k, was == RK_STATE_ACTIVE, drain_timeout_us);
        set_state(k, RK_STATE_TERMINATING);
    }
    pthread_mutex_unlock(&k->lock);
    return finish(k);
}

/* The local kernel @p kernel_id for a query with output @p out: RK_OK, NOT_FOUND, or INVALID. */
static rk_status_t local_kernel(rk_runtime_t *rt, const char *kernel_id, const void *out, kernel_t **k)
{
    if (!rt || !kernel_id || !out) return RK_ERR_INVALID;
    *k = rk_dir_find(rt, kernel_id);
    if (!*k) return RK_ERR_NOT_FOUND;
    return (*k)->local ? RK_OK : RK_ERR_INVALID;
}

rk_status_t rk_kernel_state(rk_runtime_t *rt, const char *kernel_id, rk_kernel_state_t *out)
{
    kernel_t *k;
    rk_status_t st = local_kernel(rt, kernel_id, out, &k);
    if (st == RK_OK) *out = (rk_kernel_state_t)__atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
    return st;
}

rk_status_t rk_kernel_backend(rk_runtime_t *rt, const char *kernel_id, rk_backend_t *out)
{
    kernel_t *k;
    rk_status_t st = local_kernel(rt, kernel_id, out, &k);
    if (st == RK_OK) *out = (rk_backend_t)__atomic_load_n(&k->backend, __ATOMIC_ACQUIRE);
    return st;
}

rk_status_t rk_kernel_get_stats(rk_runtime_t *rt, const char *kernel_id, rk_kernel_stats_t *out)
{
    kernel_t *k;
    if (!rt || !kernel_id || !out) return RK_ERR_INVALID;
    k = rk_dir_find(rt, kernel_id);
    if (!k) return RK_ERR_NOT_FOUND;
    memset(out, 0, sizeof *out);
    if (k->local) rk_mailbox_get_stats(k->inbox, &out->inbox);
    out->processed = __atomic_load_n(&k->processed, __ATOMIC_RELAXED);
    out->sent = __atomic_load_n(&k->sent, __ATOMIC_RELAXED);
    out->duplicates = __atomic_load_n(&k->duplicates, __ATOMIC_RELAXED);
    out->remote_drops = __atomic_load_n(&k->remote_drops, __ATOMIC_RELAXED);
    out->remote_rejects = __atomic_load_n(&k->remote_rejects, __ATOMIC_RELAXED);
    out->out_dropped = __atomic_load_n(&k->out_dropped, __ATOMIC_RELAXED);
    out->restarts = __atomic_load_n(&k->restarts, __ATOMIC_RELAXED);
    return RK_OK;
}

/* Idle with an empty mailbox: every message it took is served, nothing is queued or on its device. */
static int kernel_quiet(kernel_t *k)
{
    int s = __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
    if (s != RK_STATE_ACTIVE && s != RK_STATE_TERMINATING) return 1; /* serves nothing: what waits is undeliverable */
    uint64_t served = __atomic_load_n(&k->served, __ATOMIC_ACQUIRE); /* before the mailbox: a take after it shows */
    rk_mailbox_stats_t st;
    if (__atomic_load_n(&k->device_inflight, __ATOMIC_ACQUIRE)) return 0;
    rk_mailbox_get_stats(__atomic_load_n(&k->inbox, __ATOMIC_ACQUIRE), &st);
    return st.depth == 0 && st.dequeued == served;
}

int rk_local_quiet(rk_runtime_t *rt)
{
    const dir_table_t *t = __atomic_load_n(&rt->dir, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < t->cap; i++) {
        kernel_t *k = __atomic_load_n(&t->slot[i], __ATOMIC_ACQUIRE);
        if (k && k->local && !kernel_quiet(k)) return 0;
    }
    return 1;
}

rk_status_t rk_kernel_failure(rk_runtime_t *rt, const char *kernel_id, char *buf, size_t len)
{
    kernel_t *k;
    if (!rt || !kernel_id || !buf || len == 0) return RK_ERR_INVALID;
    k = rk_dir_find(rt, kernel_id);
    if (!k) return RK_ERR_NOT_FOUND;
    if (!k->local) return RK_ERR_INVALID;
    if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != RK_STATE_FAILED) return RK_ERR_STATE;
    snprintf(buf, len, "%s", k->fail_reason);
    return RK_OK;
}

rk_status_t rk_kernel_revive(kernel_t *old, kernel_t *fresh)
{
    int s = __atomic_load_n(&old->state, __ATOMIC_ACQUIRE);
    retired_box_t *box;
    if (s != RK_STATE_TERMINATED && s != RK_STATE_FAILED) return RK_ERR_EXISTS;
    pthread_mutex_lock(&old->lock);
    if (old->thread_started || !(box = malloc(sizeof *box))) { /* not reaped yet (rk_kernel_reap) */
        pthread_mutex_unlock(&old->lock);
        return old->thread_started ? RK_ERR_STATE : RK_ERR_NOMEM;
    }
    box->mb = old->inbox;
    box->next = old->retired;
    old->retired = box;
    old->params = fresh->params;
    old->params.kernel_id = old->id;
    memcpy(old->forward_to, fresh->forward_to, sizeof old->forward_to);
    if (old->params.forward_to) old->params.forward_to = old->forward_to;
    old->backend = fresh->backend;
    old->out_strategy = fresh->out_strategy;
    idset_free(&old->dedup);
    old->dedup = fresh->dedup;
    memset(&fresh->dedup, 0, sizeof fresh->dedup);
    old->draining = 0;
    old->poll_win_ns = 0;
    old->cur_flags = 0;
    old->holding = 0;
    __atomic_store_n(&old->served, 0, __ATOMIC_RELEASE); /* counts the new mailbox's messages */
    old->fail_requested = 0;
    old->fail_reason[0] = '\0';
    __atomic_store_n(&old->restarts, 0, __ATOMIC_RELAXED);
    if (fresh->inbox && old->out_strategy == RK_BP_DROP_OLDEST) rk_evictions_watch(old, fresh->inbox, 0);
    __atomic_store_n(&old->inbox, fresh->inbox, __ATOMIC_RELEASE); /* before the state: senders load it after */
    fresh->inbox = NULL;
    set_state(old, RK_STATE_CREATED);
    pthread_mutex_unlock(&old->lock);
    rk_kernel_free(fresh);
    return RK_OK;
}

/* ---- context ------------------------------------------------------------- */

bool rk_ctx_should_terminate(rk_ctx_t *ctx)
{
    kernel_t *k = ctx->k;
    if (__atomic_load_n(&k->fail_requested, __ATOMIC_RELAXED)) return true;
    if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) < RK_STATE_TERMINATING) return false;
    if (!k->draining) return true;
    return rk_mailbox_size(k->inbox) == 0 || rk_mono_ns() >= k->drain_deadline_ns;
}

/* Remember where a request from another rank came from, for replies sent with rk_ctx_send. */
static void remember_origin(kernel_t *k, const rk_msg_t *m)
{
    if (m->src_rank >= 0 && m->src_rank != k->rt->rank) idset_put(&k->origins, &m->message_id, m->src_rank);
}

/* Wait while LAUNCHED or DEACTIVATED; returns the state seen last. */
static int wait_active(kernel_t *k, int64_t timeout_us)
{
    int s = __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
    if (s != RK_STATE_LAUNCHED && s != RK_STATE_DEACTIVATED) return s;
    pthread_mutex_lock(&k->lock);
    if (timeout_us != 0 && (k->state == RK_STATE_LAUNCHED || k->state == RK_STATE_DEACTIVATED)) {
        struct timespec dl = rk_deadline(timeout_us < 0 ? RECEIVE_SLICE_US : timeout_us);
        pthread_cond_timedwait(&k->cv, &k->lock, &dl);
    }
    s = k->state;
    pthread_mutex_unlock(&k->lock);
    return s;
}

/*
 * Take the next message. In a distributed runtime the waiting kernel thread
 * first drives the transport itself for a short while (DESIGN: no relay hop
 * on the hot path): a frame for this kernel is then decoded and taken by the
 * thread that will process it. After poll_ns without a message it sleeps on
 * the mailbox and the progress thread delivers, so idle kernels do not burn a
 * core; while a large transfer is under way the window is renewed (up to
 * RK_POLL_BUSY_WINDOWS of them): a 256 KiB reply takes longer than one window
 * to arrive, and a kernel asleep when it lands waits for a wake-up. The window
 * itself adapts (rk_poll_next_window): widened when messages come just after
 * it, back to poll_ns while they come within it.
 */
static rk_status_t take(kernel_t *k, int64_t timeout_us, rk_msg_t **out)
{
    router_t *r = k->rt->router;
    int64_t base = k->rt->poll_ns;
    if (r && timeout_us != 0 && base > 0) {
        int64_t win = k->poll_win_ns > base ? k->poll_win_ns : base;
        int64_t start = rk_mono_ns(), until = start + win;
        rk_status_t st;
        rk_spin_begin();
        for (unsigned i = 1; (st = rk_mailbox_try_get(k->inbox, out)) == RK_ERR_EMPTY; i++) {
            router_poll_round(r, i);
            if (i % 16 == 0) { /* the clock is read every 16 rounds */
                int64_t now = rk_mono_ns();
                until = rk_poll_until(start, now, until, router_busy(r), base);
                if (now >= until) break;
            }
        }
        rk_spin_end();
        if (st == RK_OK) k->poll_win_ns = rk_poll_next_window(win, base, 0, 0);
        if (st != RK_ERR_EMPTY) return st; /* a message, a kick (state change) or closed */
        st = rk_mailbox_get(k->inbox, timeout_us, out);
        if (st == RK_OK) k->poll_win_ns = rk_poll_next_window(win, base, rk_mono_ns() - start, 1);
        return st;
    }
    return rk_mailbox_get(k->inbox, timeout_us, out);
}

/* A message taken for the body: false (and freed) when dedup saw its id before. */
static bool accept_taken(kernel_t *k, rk_msg_t *m)
{
    if (k->dedup.window && !rk_uuid_is_nil(&m->message_id) && idset_find(&k->dedup, &m->message_id, NULL)) {
        __atomic_fetch_add(&k->duplicates, 1, __ATOMIC_RELAXED);
        rk_msg_free(m);
        __atomic_store_n(&k->served, k->served + 1, __ATOMIC_RELEASE);
        return false;
    }
    k->holding = 1;
    /* a message freed room that one from another rank waits for: let it in now (the progress thread may be asleep) */
    if (k->rt->router && rk_mailbox_top_waiter(k->inbox) >= 0) router_progress(k->rt->router);
    if (k->dedup.window) idset_put(&k->dedup, &m->message_id, 0);
    remember_origin(k, m);
    k->cur_flags = m->flags & (RK_MSGF_CALL | RK_MSGF_FWD);
    if (k->cur_flags & RK_MSGF_CALL) { /* the call this request belongs to: replies and forwards follow it */
        k->cur_reply_rank = rk_msg_reply_rank(m);
        k->cur_call = *rk_msg_call_id(m);
        k->cur_msg = m->message_id;
    }
    __atomic_fetch_add(&k->processed, 1, __ATOMIC_RELAXED);
    RK_TRACE(k->rt, TRACE_DEQUEUE, k, m);
    return true;
}

rk_status_t rk_ctx_receive(rk_ctx_t *ctx, int64_t timeout_us, rk_msg_t **out)
{
    kernel_t *k;
    int64_t end_ns;
    int s0;

    if (!ctx || !out) return RK_ERR_INVALID;
    k = ctx->k;
    if (k->holding) { /* the body is done with what it took last */
        k->holding = 0;
        __atomic_store_n(&k->served, k->served + 1, __ATOMIC_RELEASE);
    }
    /* Fast path, no clock read: an active kernel with a message waiting takes it. */
    s0 = __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
    if (s0 == RK_STATE_ACTIVE)
        while (rk_mailbox_try_get(k->inbox, out) == RK_OK)
            if (accept_taken(k, *out)) return RK_OK;
    end_ns = timeout_us < 0 ? INT64_MAX : rk_mono_ns() + timeout_us * 1000;
    for (;;) {
        int64_t left_us = timeout_us < 0 ? RECEIVE_SLICE_US : (end_ns - rk_mono_ns()) / 1000;
        int s;
        rk_status_t st;

        if (rk_ctx_should_terminate(ctx)) return RK_ERR_TERMINATED;
        if (left_us < 0) left_us = 0;
        s = wait_active(k, left_us);
        if (s == RK_STATE_ACTIVE || (s == RK_STATE_TERMINATING && k->draining)) {
            st = take(k, left_us > RECEIVE_SLICE_US ? RECEIVE_SLICE_US : left_us, out);
            if (st == RK_OK) {
                if (!accept_taken(k, *out)) continue;
                return RK_OK;
            }
            if (st != RK_ERR_TIMEOUT && st != RK_ERR_EMPTY) return st;
        }
        if (timeout_us >= 0 && rk_mono_ns() >= end_ns) return RK_ERR_TIMEOUT;
    }
}

/* The rank an output goes to: the origin of the request it answers, else here. */
static int output_rank(kernel_t *k, const rk_msg_t *msg)
{
    int32_t rank;
    if (rk_uuid_is_nil(&msg->correlation_id)) return k->rt->rank;
    return idset_remove_get(&k->origins, &msg->correlation_id, &rank) ? rank : k->rt->rank;
}

/*
 * Count an output's outcome: sent, or (refused, timed out, peer gone) counted
 * in out_dropped and raised as an event, never dropped silently. Returns @p st.
 */
static rk_status_t output_done(kernel_t *k, const rk_msg_t *msg, int rank, rk_status_t st)
{
    if (st == RK_OK) {
        __atomic_fetch_add(&k->sent, 1, __ATOMIC_RELAXED);
    } else if (st != RK_ERR_NOMEM && st != RK_ERR_TOO_LARGE) {
        __atomic_fetch_add(&k->out_dropped, 1, __ATOMIC_RELAXED);
        rk_event_raise(k->rt, RK_EVENT_OUTPUT_DROPPED, k->id, rank, &msg->message_id, st, NULL);
    }
    return st;
}

/* Answer a call: a copy marked REPLY with correlation_id @p call goes to the caller's future on @p rank. */
static rk_status_t emit_reply(kernel_t *k, const rk_msg_t *msg, const rk_uuid_t *call, int rank)
{
    rk_runtime_t *rt = k->rt;
    rk_msg_t *copy;
    rk_status_t st = rk_msg_validate(msg);

    if (st != RK_OK) return st;
    if (rank < 0 || rank >= rt->size) return RK_ERR_INVALID;
    RK_TRACE(rt, TRACE_REPLY, k, msg);
    st = rk_msg_copy_marked(msg, rt->rank, RK_MSGF_REPLY, 0, call, &copy);
    if (st != RK_OK) return st;
    if (rank == rt->rank) {
        rk_call_complete(rt, copy); /* takes it */
    } else {
        st = router_send_output(rt->router, k, rank, copy, rt->params.send_timeout_us);
        rk_msg_free(copy);
    }
    return output_done(k, msg, rank, st);
}

static rk_status_t emit(kernel_t *k, const rk_msg_t *msg, int rank)
{
    rk_runtime_t *rt = k->rt;
    rk_msg_t *copy;
    rk_mailbox_t *mb;
    rk_status_t st = rk_msg_validate(msg);

    if (st != RK_OK) return st;
    RK_TRACE(rt, TRACE_REPLY, k, msg);
    if (rank != rt->rank) {
        st = router_send_output(rt->router, k, rank, msg, rt->params.send_timeout_us);
    } else {
        mb = rk_kernel_outbox(rt, k);
        if (!mb) return RK_ERR_NOMEM;
        st = rk_msg_copy(msg, &copy);
        if (st != RK_OK) return st;
        copy->src_rank = rt->rank;
        int closing = __atomic_load_n(&rt->shutting_down, __ATOMIC_ACQUIRE); /* in destroy: nobody reads them */
        st = rk_put_traced(rt, k, mb, copy, closing ? 0 : rt->params.send_timeout_us);
        if (st == RK_ERR_TIMEOUT && closing) st = RK_ERR_FULL;
        if (st != RK_OK) rk_msg_free(copy);
    }
    return output_done(k, msg, rank, st);
}

rk_status_t rk_ctx_send(rk_ctx_t *ctx, const rk_msg_t *msg)
{
    kernel_t *k;
    if (!ctx || !msg) return RK_ERR_INVALID;
    k = ctx->k;
    if ((k->cur_flags & RK_MSGF_CALL) && !rk_uuid_is_nil(&msg->correlation_id) &&
        (rk_uuid_equal(&msg->correlation_id, &k->cur_call) || rk_uuid_equal(&msg->correlation_id, &k->cur_msg)))
        return emit_reply(k, msg, &k->cur_call, k->cur_reply_rank); /* answers the call being served */
    return emit(k, msg, output_rank(k, msg));
}

rk_status_t rk_ctx_reply(rk_ctx_t *ctx, const rk_msg_t *request, rk_msg_t *reply)
{
    int rank;
    if (!ctx || !request || !reply) return RK_ERR_INVALID;
    if (request->flags & RK_MSGF_CALL) {
        reply->correlation_id = *rk_msg_call_id(request);
        return emit_reply(ctx->k, reply, &reply->correlation_id, rk_msg_reply_rank(request));
    }
    reply->correlation_id = request->message_id;
    rank = request->src_rank < 0 ? ctx->k->rt->rank : request->src_rank;
    return emit(ctx->k, reply, rank);
}

rk_status_t rk_ctx_send_to(rk_ctx_t *ctx, const char *kernel_id, const rk_msg_t *msg)
{
    if (!ctx) return RK_ERR_INVALID;
    return rk_send(ctx->k->rt, kernel_id, msg);
}

void rk_ctx_fail(rk_ctx_t *ctx, const char *reason)
{
    if (!ctx) return;
    kernel_t *k = ctx->k;
    snprintf(k->fail_reason, sizeof k->fail_reason, "%s", reason && *reason ? reason : "rk_ctx_fail");
    __atomic_store_n(&k->fail_requested, 1, __ATOMIC_RELEASE);
    rk_mailbox_kick(k->inbox);
}

const char *rk_ctx_kernel_id(const rk_ctx_t *ctx) { return ctx ? ctx->k->id : NULL; }
rk_runtime_t *rk_ctx_runtime(rk_ctx_t *ctx) { return ctx ? ctx->k->rt : NULL; }
void *rk_ctx_arg(const rk_ctx_t *ctx) { return ctx ? ctx->k->params.arg : NULL; }
