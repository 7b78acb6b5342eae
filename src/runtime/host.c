/*
 * runtime/host.c - the runtime's side of route/host.h: what a frame from a
 * peer means for this rank's directory, kernels and events. The router calls
 * these; nothing here calls the router.
 */
#include "route/host.h"
#include "msg/msg_internal.h"
#include "runtime/runtime_internal.h"

const char *rk_host_kernel_id(const struct kernel *k) { return k->id; }
int rk_host_kernel_home(const struct kernel *k) { return k->home_rank; }
int rk_host_kernel_local(const struct kernel *k) { return k->local; }
int rk_host_kernel_out_strategy(const struct kernel *k) { return k->out_strategy; }

rk_mailbox_t *rk_host_kernel_wait_box(struct kernel *k)
{
    return k->local && k->params.strategy == RK_BP_BLOCK ? __atomic_load_n(&k->inbox, __ATOMIC_ACQUIRE) : NULL;
}

struct kernel *rk_host_find(rk_runtime_t *rt, const char *id) { return rk_dir_find(rt, id); }

rk_status_t rk_host_learn_kernel(rk_runtime_t *rt, const char *id, int rank, int out_strategy)
{
    kernel_t *k = NULL;
    if (rk_dir_add_remote(rt, id, rank, &k) == RK_ERR_EXISTS) return RK_ERR_EXISTS;
    if (k && !k->local) {
        if (out_strategy >= 0) k->out_strategy = out_strategy;
        __atomic_store_n(&k->state, RK_STATE_CREATED, __ATOMIC_RELEASE); /* live (again) */
    }
    return RK_OK;
}

void rk_host_kernel_gone(rk_runtime_t *rt, const char *id, int rank, int failed)
{
    kernel_t *k = rk_dir_find(rt, id);
    if (!k || k->local || k->home_rank != rank) return;
    __atomic_store_n(&k->state, failed ? RK_STATE_FAILED : RK_STATE_TERMINATED, __ATOMIC_RELEASE);
    if (failed) { /* its callers here stop waiting */
        rk_calls_fail_kernel(rt, k, RK_ERR_FAILED);
        rk_event_raise(rt, RK_EVENT_KERNEL_FAILED, k->id, rank, NULL, RK_ERR_FAILED, "");
    }
}

void rk_host_learn_sub(rk_runtime_t *rt, const char *topic, const char *kernel, int rank)
{
    kernel_t *k = NULL;
    if (rk_dir_add_remote(rt, kernel, rank, &k) == RK_OK || k) rk_topic_add(rt, topic, k);
}

void rk_host_forget_sub(rk_runtime_t *rt, const char *topic, const char *kernel)
{
    kernel_t *k = rk_dir_find(rt, kernel);
    if (k) rk_topic_remove(rt, topic, k);
}

rk_status_t rk_host_deliver(struct kernel *k, rk_msg_t *msg) { return rk_deliver_local(k, msg, 0); }

rk_status_t rk_host_put_output(rk_runtime_t *rt, struct kernel *k, rk_msg_t *msg)
{
    rk_mailbox_t *mb = rk_kernel_outbox(rt, k);
    return mb ? rk_put_traced(rt, k, mb, msg, 0) : RK_ERR_NOMEM;
}

void rk_host_output_dropped(rk_runtime_t *rt, struct kernel *k, const rk_msg_t *msg, rk_status_t st)
{
    __atomic_fetch_add(&k->out_dropped, 1, __ATOMIC_RELAXED);
    rk_event_raise(rt, RK_EVENT_OUTPUT_DROPPED, k->id, rt->rank, &msg->message_id, st, NULL);
}

void rk_host_refused_remote(rk_runtime_t *rt, const rk_refusal_t *r)
{
    kernel_t *k = rk_dir_find(rt, r->kernel);
    if (k && r->src_rank == rt->rank) {
        if (r->st == RK_ERR_FULL) __atomic_fetch_add(&k->remote_rejects, 1, __ATOMIC_RELAXED);
        else if (r->st == RK_ERR_DROPPED) __atomic_fetch_add(&k->remote_drops, 1, __ATOMIC_RELAXED);
    }
    rk_refusal_local(rt, r);
}

void rk_host_ranked(rk_runtime_t *rt, int rank) { rt->rank = rank; }

void rk_host_peer_failed(rk_runtime_t *rt, int rank)
{
    rk_event_raise(rt, RK_EVENT_PEER_FAILED, "", rank, NULL, RK_ERR_PEER, "rank failed");
}

void rk_host_each_type(rk_runtime_t *rt, void (*fn)(void *arg, const rk_msg_type_t *t), void *arg)
{
    pthread_rwlock_rdlock(&rt->dir_lock); /* no type is registered meanwhile */
    rk_registry_each(rt->reg, fn, arg);
    pthread_rwlock_unlock(&rt->dir_lock);
}
