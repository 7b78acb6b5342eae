/*
 * route/deliver.c - the receiving side of data frames: decode, hand to the
 * kernel's mailbox (or outbox, or the waiting future), queue deliveries that
 * find the mailbox full by priority, and return credits as they complete.
 */
#include "route/router_internal.h"

/* ---- receiving ----------------------------------------------------------- */

static void owe_credit(router_t *r, flow_t *f)
{
    uint32_t threshold = r->credits_init / 2 ? r->credits_init / 2 : 1;
    if (!f || ++f->to_return < threshold) return;
    uint8_t buf[RK_FRAME_HDR + RK_FRAME_NAME_MAX];
    frame_t cf = {0};
    cf.kind = FRAME_CREDIT;
    cf.priority = f->kind; /* which flow the credits belong to */
    cf.name_len = f->name_len;
    cf.src_rank = (uint32_t)r->boot.rank;
    cf.aux = f->to_return;
    frame_write(buf, &cf, f->name, NULL);
    if (tp_send_frame(r, f->peer, buf, frame_size(f->name_len, 0)) == RK_OK) f->to_return = 0;
}

/* Try one delivery without waiting: RK_OK (done, or failed and reported) or RK_ERR_TIMEOUT (full). */
static rk_status_t try_deliver(router_t *r, flow_t *f, delivery_t *d)
{
    int src = f->peer;
    rk_status_t st;

    if (d->to_outbox) {
        st = rk_host_put_output(r->rt, d->k, d->msg);
        if (st == RK_ERR_TIMEOUT && r->draining) st = RK_ERR_FULL; /* in destroy: nobody reads outputs any more */
        if (st == RK_ERR_FULL || st == RK_ERR_DROPPED) { /* the output queue's own strategy refused it */
            rk_host_output_dropped(r->rt, d->k, d->msg, st);
            rk_msg_free(d->msg);
            if (d->credit) owe_credit(r, f);
            return RK_OK;
        }
    } else {
        st = rk_host_deliver(d->k, d->msg);
        report_evictions_locked(r); /* a DROP_OLDEST inbox may have evicted a queued message */
    }
    if (st == RK_ERR_TIMEOUT) return st;
    if (st != RK_OK) {
        if (st == RK_ERR_FULL || st == RK_ERR_DROPPED || (d->msg->flags & RK_MSGF_CALL)) {
            rk_refusal_t ref; /* the sender hears of it; a call's future fails */
            rk_refusal_of(d->k, d->msg, st, &ref);
            refuse_locked(r, &ref);
        }
        if (st != RK_ERR_FULL && st != RK_ERR_DROPPED) {
            r->undeliverable++;
            r->peers[src].stats.undeliverable++;
            RK_WARN("message from rank %d for kernel '%s' not delivered: %s", src, rk_host_kernel_id(d->k), rk_status_str(st));
        }
        rk_msg_free(d->msg);
    }
    if (d->credit) owe_credit(r, f);
    return RK_OK;
}

/*
 * Queue a delivery waiting for mailbox room: highest priority first, FIFO
 * within a priority (so one sender's messages of one priority keep their
 * order), and an urgent message is not stuck behind bulk that waits too.
 */
static void pend_push(flow_t *p, delivery_t *d)
{
    delivery_t **at = &p->pend_head;
    int prio = d->msg->priority;
    if (p->pend_tail && p->pend_tail->msg->priority >= prio) at = &p->pend_tail->next; /* the common case */
    else
        while (*at && (*at)->msg->priority >= prio) at = &(*at)->next;
    d->next = *at;
    *at = d;
    if (!d->next) p->pend_tail = d;
}

/* Deliver now if nothing from this source waits, else queue behind it. */
static void deliver_or_queue(router_t *r, flow_t *f, struct kernel *k, rk_msg_t *msg, int to_outbox, int credit)
{
    delivery_t d = {NULL, k, msg, to_outbox, credit, NULL, msg->priority}, *q;

    /* deliver now when nothing waits, or when it outranks everything that waits */
    if ((!f->pend_head || msg->priority > f->pend_head->msg->priority) && try_deliver(r, f, &d) == RK_OK) return;
    q = malloc(sizeof *q);
    if (!q) {
        RK_ERROR("no memory to queue a message for '%s'; dropped", rk_host_kernel_id(k));
        r->undeliverable++;
        rk_msg_free(msg);
        if (credit) owe_credit(r, f);
        return;
    }
    *q = d;
    if (!to_outbox && (q->waits_on = rk_host_kernel_wait_box(k))) /* lower puts leave the room to it */
        rk_mailbox_waiter(q->waits_on, q->prio, 1);
    pend_push(f, q);
}

int retry_pending(router_t *r)
{
    int n = 0;
    for (int s = 0; s < r->boot.size; s++) {
        for (flow_t *p = r->peers[s].flows; p; p = p->peer_next) {
            while (p->pend_head && try_deliver(r, p, p->pend_head) == RK_OK) {
                delivery_t *d = p->pend_head;
                delivery_done(d);
                p->pend_head = d->next;
                if (!p->pend_head) p->pend_tail = NULL;
                free(d);
                n++;
            }
        }
    }
    return n;
}

/* One copy per local subscriber, each queued like any message; one credit for the frame. */
static void deliver_publication(router_t *r, flow_t *f, const char *topic, rk_msg_t *msg)
{
    struct kernel **subs = NULL;
    uint32_t n = 0, local = 0, done = 0;

    if (rk_topic_snapshot(r->rt, topic, &subs, &n) != RK_OK) n = 0;
    for (uint32_t i = 0; i < n; i++) local += rk_host_kernel_local(subs[i]) ? 1 : 0;
    for (uint32_t i = 0; i < n; i++) {
        rk_msg_t *copy;
        if (!rk_host_kernel_local(subs[i])) continue;
        if (rk_msg_copy(msg, &copy) != RK_OK) {
            r->undeliverable++;
            RK_ERROR("no memory for a publication copy on topic '%s'", topic);
            if (++done == local) owe_credit(r, f);
            continue;
        }
        deliver_or_queue(r, f, subs[i], copy, 0, ++done == local);
    }
    if (local == 0) owe_credit(r, f);
    free(subs);
    rk_msg_free(msg);
}

void bad_frame(router_t *r, int src, const char *what, rk_status_t st)
{
    r->bad_frames++;
    if (src >= 0 && src < r->boot.size) r->peers[src].stats.frames_unreadable++;
    RK_WARN("unreadable frame from rank %d (%s: %s); counted and skipped (%llu so far)", src, what,
            rk_status_str(st), (unsigned long long)r->bad_frames);
}

void handle_data(router_t *r, int src, const frame_t *f)
{
    char name[RK_FRAME_NAME_MAX + 1];
    rk_msg_t *msg;
    struct kernel *k;
    rk_status_t st;

    flow_t *fl = get_flow(r, src, f->kind, f->name, f->name_len);

    r->peers[src].data_recv++;
    memcpy(name, f->name, f->name_len);
    name[f->name_len] = '\0';
    uint32_t hash;
    if (rk_payload_is_block(f->payload, f->payload_len, &hash)) { /* the compact form (msg/compact.c) */
        const rk_msg_type_t *t = compact_local_type(r, hash);
        st = t ? rk_msg_decode_block(t, f->payload, f->payload_len, r->cfg.max_message, &msg) : RK_ERR_TYPE;
        if (st == RK_OK) r->peers[src].stats.compact_received++;
    } else {
        st = rk_msg_deserialize(r->cfg.reg, f->payload, f->payload_len, r->cfg.max_message, &msg);
    }
    if (st != RK_OK) {
        rk_refusal_t ref = {0}; /* the sender hears of it (an event there); its id is inside what failed */
        bad_frame(r, src, "message payload", st);
        memcpy(ref.kernel, name, f->name_len < RK_ID_MAX ? f->name_len + 1 : RK_ID_MAX);
        ref.kernel[RK_ID_MAX - 1] = '\0';
        ref.src_rank = src;
        ref.st = st;
        if (f->kind != FRAME_PUBLISH) nack_to(r, src, &ref);
        owe_credit(r, fl);
        return;
    }
    msg->src_rank = src;
    rk_wire_aux_apply(msg, f->aux);
    if ((msg->flags & RK_MSGF_CALL) && rk_msg_reply_rank(msg) >= r->boot.size) {
        bad_frame(r, src, "reply rank", RK_ERR_DECODE);
        rk_msg_free(msg);
        owe_credit(r, fl);
        return;
    }
    if (!fl) {
        RK_ERROR("no memory for a flow from rank %d; message for '%s' dropped", src, name);
        r->undeliverable++;
        rk_msg_free(msg);
        return;
    }
    if (f->kind == FRAME_PUBLISH) {
        deliver_publication(r, fl, name, msg);
        return;
    }
    if (f->kind == FRAME_OUTPUT && (msg->flags & RK_MSGF_REPLY)) { /* an answer: to its future, never queued */
        rk_call_complete(r->rt, msg);
        owe_credit(r, fl);
        return;
    }
    k = rk_host_find(r->rt, name);
    if (!k || (f->kind == FRAME_MSG && !rk_host_kernel_local(k))) {
        r->undeliverable++;
        r->peers[src].stats.undeliverable++;
        RK_WARN("message from rank %d for unknown kernel '%s' dropped", src, name);
        rk_msg_free(msg);
        owe_credit(r, fl);
        return;
    }
    deliver_or_queue(r, fl, k, msg, f->kind == FRAME_OUTPUT, 1);
}
