/*
 * route/send.c - the sending side: a flow per (peer, kind, kernel or topic)
 * with its credits and a priority queue of frames waiting for them; flushing a
 * peer sends the ready frames highest priority first, packed into batches.
 */
#include "route/router_internal.h"

RK_MESSAGE_DEFINE(rk_frame_msg, RK_FRAME_FIELDS)

static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static pthread_key_t buf_key;

static void buf_release(void *b)
{
    rk_buf_free(b);
    free(b);
}

static void buf_key_init(void) { pthread_key_create(&buf_key, buf_release); }

/* Free the calling thread's encode buffer now. */
void payload_buf_drop(void)
{
    pthread_once(&buf_once, buf_key_init);
    rk_buf_t *b = pthread_getspecific(buf_key);
    if (b) {
        pthread_setspecific(buf_key, NULL);
        buf_release(b);
    }
}

/* This thread's encode buffer: reused for every frame, freed when the thread exits. */
static rk_buf_t *payload_buf(void)
{
    rk_buf_t *b;
    pthread_once(&buf_once, buf_key_init);
    b = pthread_getspecific(buf_key);
    if (!b && (b = malloc(sizeof *b)) != NULL) {
        rk_buf_init(b);
        pthread_setspecific(buf_key, b);
    }
    return b;
}

/* ---- sending ------------------------------------------------------------- */

/*
 * Send @p len bytes holding @p nframes sequenced frames: one frame, or a batch
 * whose header gets the first frame's number (its inner frames are numbered
 * already). Counts them and advances the peer's sequence on success. With
 * @p take the bytes are a malloc'd buffer handed over to the transport (freed
 * on every outcome).
 */
rk_status_t tp_send_frames(router_t *r, int dest, uint8_t *bytes, size_t len, uint32_t nframes, int take)
{
    peer_t *p = &r->peers[dest];
    rk_status_t st;
    if (r->closing) {
        if (take) free(bytes);
        return RK_ERR_TERMINATED;
    }
    frame_set_seq(bytes, p->send_seq);
    if (!take) {
        st = r->ops->send(r->tp, dest, bytes, len);
    } else if (r->ops->send_take) {
        st = r->ops->send_take(r->tp, dest, bytes, len);
    } else {
        st = r->ops->send(r->tp, dest, bytes, len);
        free(bytes);
    }
    if (st == RK_OK) {
        p->send_seq += nframes;
        p->stats.frames_sent += nframes;
        p->stats.bytes_sent += len;
    }
    else if (st == RK_ERR_PEER) mark_failed(r, dest);
    return st;
}

rk_status_t tp_send_frame(router_t *r, int dest, uint8_t *frame, size_t len)
{
    return tp_send_frames(r, dest, frame, len, 1, 0);
}

/* Send a control frame now (no credit). Caller holds r->lock. */
rk_status_t send_ctrl(router_t *r, int dest, uint8_t kind, const char *name, size_t name_len, uint32_t aux)
{
    uint8_t buf[RK_FRAME_HDR + RK_FRAME_NAME_MAX];
    frame_t f = {0};
    if (name_len > RK_FRAME_NAME_MAX) return RK_ERR_INVALID;
    f.kind = kind;
    f.name_len = (uint16_t)name_len;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = aux;
    frame_write(buf, &f, name, NULL);
    return tp_send_frame(r, dest, buf, frame_size(name_len, 0));
}

/* The flow for (peer, kind, name), created on first use. Caller holds r->lock. */
flow_t *get_flow(router_t *r, int peer, uint8_t kind, const char *name, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)peer ^ ((uint64_t)kind << 32);
    flow_t *f;

    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
    for (f = r->buckets[h % FLOW_BUCKETS]; f; f = f->hash_next)
        if (f->peer == peer && f->kind == kind && f->name_len == len && memcmp(f->name, name, len) == 0) return f;
    if (len > RK_FRAME_NAME_MAX || !(f = calloc(1, sizeof *f))) return NULL;
    if (rk_mailbox_create(r->credits_init * OUTQ_PER_CREDIT, RK_BP_BLOCK, &f->outq) != RK_OK) {
        free(f);
        return NULL;
    }
    f->peer = peer;
    f->kind = kind;
    f->name_len = (uint16_t)len;
    memcpy(f->name, name, len);
    f->credits = r->credits_init;
    f->reserve = RESERVE_CREDITS;
    f->hash_next = r->buckets[h % FLOW_BUCKETS];
    r->buckets[h % FLOW_BUCKETS] = f;
    f->peer_next = r->peers[peer].flows;
    r->peers[peer].flows = f;
    return f;
}

/*
 * The flow with credits whose next queued frame has the highest priority.
 * Queue heads are only compared (rk_mailbox_peek, a lock each) when more than
 * one flow to @p dest has both credits and frames; the common single stream
 * is told apart by the lock-free sizes.
 */
/*
 * May a frame of priority @p prio go now? With a credit, or, above the default
 * priority, with one of the flow's reserve credits: an urgent message does not
 * wait for the credits that bulk ahead of it spent (the receiver's memory
 * bound grows by RESERVE_CREDITS frames per flow).
 */
static int flow_may_send(const flow_t *f, int prio)
{
    return f->credits > 0 || (f->reserve > 0 && prio > RK_PRIORITY_DEFAULT);
}

/*
 * May a new frame of priority @p prio skip the flow's queue? When nothing is
 * queued and it may send; or, above the default priority, with a reserve
 * credit when everything queued has a lower priority (so the order within
 * its priority holds): an urgent message does not wait behind bulk that waits
 * for credits, even when that bulk fills the queue. Only on a complete view of
 * the queue: senders put into it outside the router lock, and a put another
 * thread has reserved but not yet published hides everything queued behind it,
 * an older frame of this sender at this priority included (it would be
 * overtaken). Caller holds r->lock.
 */
static int may_go_now(flow_t *f, int prio)
{
    const rk_msg_t *head;
    if (rk_mailbox_size(f->outq) == 0) return flow_may_send(f, prio);
    if (prio <= RK_PRIORITY_DEFAULT || (f->credits == 0 && f->reserve == 0)) return 0;
    return rk_mailbox_peek_all(f->outq, &head) == RK_OK && head->priority < prio;
}

static void spend_credit(flow_t *f)
{
    if (f->credits > 0) f->credits--;
    else f->reserve--;
}

static flow_t *best_ready_flow(router_t *r, int dest)
{
    flow_t *best = NULL, *only = NULL;
    int best_prio = -1, ready = 0;
    for (flow_t *f = r->peers[dest].flows; f && ready < 2; f = f->peer_next) {
        if (rk_mailbox_size(f->outq) == 0) continue;
        if (f->credits > 0) {
            only = f;
            ready++;
        } else if (f->reserve > 0) {
            ready = 2; /* only its head's priority tells: compare heads */
        }
    }
    if (ready < 2) return only;
    for (flow_t *f = r->peers[dest].flows; f; f = f->peer_next) {
        const rk_msg_t *head;
        if ((f->credits == 0 && f->reserve == 0) || rk_mailbox_peek(f->outq, &head) != RK_OK) continue;
        if (!flow_may_send(f, head->priority)) continue;
        if (head->priority > best_prio) {
            best = f;
            best_prio = head->priority;
        }
    }
    return best;
}

/* The encoded frame inside a rk_frame_msg block. */
static uint8_t *queued_frame(rk_msg_t *m, size_t *len)
{
    rk_frame_msg *fm = (rk_frame_msg *)m;
    *len = fm->data.len;
    return (uint8_t *)m + fm->data.off;
}

/* Send one queued frame as itself and free its block. Caller holds r->lock. */
static void send_lone(router_t *r, int dest, rk_msg_t *m)
{
    size_t len;
    uint8_t *bytes = queued_frame(m, &len);
    rk_status_t st = tp_send_frame(r, dest, bytes, len);
    if (st != RK_OK) RK_ERROR("send to rank %d failed: %s; frame lost", dest, rk_status_str(st));
    rk_msg_free(m);
}

/*
 * The frames one flush has taken for one transport send: either one lone
 * frame (still in its block, sent as itself if nothing joins it) or an open
 * batch in r->batch_buf (n frames after the header, the first one numbered
 * with the peer's next sequence number).
 */
typedef struct gather {
    rk_msg_t *lone;
    size_t used; /* bytes of the open batch, header included */
    uint32_t n;
    uint8_t top; /* highest priority inside */
} gather_t;

static void batch_append(router_t *r, int dest, gather_t *g, rk_msg_t *m)
{
    size_t len;
    uint8_t *bytes = queued_frame(m, &len);
    if (g->n == 0) g->used = RK_FRAME_HDR;
    frame_set_seq(bytes, r->peers[dest].send_seq + g->n);
    memcpy(r->batch_buf + g->used, bytes, len);
    g->used += len;
    g->n++;
    if (m->priority > g->top) g->top = m->priority;
    rk_msg_free(m);
}

/* Send what has been gathered: the lone frame as itself, or the batch. Caller holds r->lock. */
static void gather_send(router_t *r, int dest, gather_t *g)
{
    if (g->lone) {
        send_lone(r, dest, g->lone);
    } else if (g->n) {
        peer_t *p = &r->peers[dest];
        frame_t b = {0};
        rk_status_t st;
        b.kind = FRAME_BATCH;
        b.priority = g->top;
        b.src_rank = (uint32_t)r->boot.rank;
        b.aux = g->n;
        b.payload_len = (uint32_t)(g->used - RK_FRAME_HDR);
        frame_write_hdr(r->batch_buf, &b); /* seq: tp_send_frames writes the first frame's (informational) */
        st = tp_send_frames(r, dest, r->batch_buf, g->used, g->n, 0);
        if (st == RK_OK) {
            p->batches_sent++;
            p->batched_frames += g->n;
        } else {
            RK_ERROR("send to rank %d failed: %s; %u frames lost", dest, rk_status_str(st), g->n);
        }
    }
    g->lone = NULL;
    g->used = 0;
    g->n = 0;
    g->top = 0;
}

/* Take @p m into the gather: join the batch if it fits, else send what is gathered first. */
static void gather_add(router_t *r, int dest, gather_t *g, rk_msg_t *m)
{
    size_t len, lone_len = 0;
    queued_frame(m, &len);
    if (!r->batch_buf || RK_FRAME_HDR + len > r->batch_cap) { /* batching off, or too large to share */
        gather_send(r, dest, g);
        send_lone(r, dest, m);
        return;
    }
    if (g->lone) queued_frame(g->lone, &lone_len);
    if (g->lone && RK_FRAME_HDR + lone_len + len <= r->batch_cap) { /* a second frame: open a batch */
        rk_msg_t *first = g->lone;
        g->lone = NULL;
        batch_append(r, dest, g, first);
        batch_append(r, dest, g, m);
        return;
    }
    if (g->n && g->used + len <= r->batch_cap) {
        batch_append(r, dest, g, m);
        return;
    }
    gather_send(r, dest, g);
    g->lone = m;
}

/*
 * Send queued frames to @p dest, highest priority first, while credits last;
 * frames taken in one go share transport messages (batches) up to batch_cap.
 * Caller holds r->lock.
 */
void flush_peer(router_t *r, int dest)
{
    flow_t *f;
    rk_msg_t *m;
    gather_t g = {0};
    while ((f = best_ready_flow(r, dest)) != NULL && rk_mailbox_try_get(f->outq, &m) == RK_OK) {
        spend_credit(f);
        gather_add(r, dest, &g, m);
    }
    gather_send(r, dest, &g);
}

/*
 * Encode a data frame (header, name, msgpack payload) into this thread's
 * buffer; the message was validated by the caller. Sent from there when it
 * can go at once, copied into a queued block otherwise.
 */
static rk_status_t encode_frame(router_t *r, int dest, uint8_t kind, const char *name, size_t name_len,
                                const rk_msg_t *msg, rk_buf_t **out, int *compact)
{
    frame_t f = {0};
    size_t head = frame_size(name_len, 0);
    rk_buf_t *pb = payload_buf();
    /* the block itself when the peer has the same layout of its type, else the reference form */
    const compact_type_t *c = r->compact ? compact_for_peer(r, dest, msg->type) : NULL;
    rk_status_t st = !pb  ? RK_ERR_NOMEM
                     : c ? rk_msg_encode_block_after(msg, c->hash, pb, head)
                         : rk_msg_encode_after(msg, pb, head);
    *compact = c != NULL;

    if (st != RK_OK) return st;
    if (pb->len - head > r->cfg.max_message) return RK_ERR_TOO_LARGE;
    f.kind = kind;
    f.priority = msg->priority;
    f.name_len = (uint16_t)name_len;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = kind == FRAME_PUBLISH ? 0 : rk_wire_aux(msg); /* reply-to marks (msg_internal.h) */
    f.payload_len = (uint32_t)(pb->len - head);
    frame_write_hdr(pb->data, &f);
    if (name_len) memcpy(pb->data + RK_FRAME_HDR, name, name_len);
    *out = pb;
    return RK_OK;
}

/* A copy of an encoded frame as a rk_frame_msg block, for a flow's out-queue. */
static rk_status_t frame_block(const rk_buf_t *pb, uint8_t priority, rk_msg_t **out)
{
    rk_frame_msg *fm;
    rk_msg_t *m;
    uint32_t off;
    rk_status_t st = rk_msg_alloc(rk_frame_msg_type(), pb->len + 8, &m);

    if (st != RK_OK) return st;
    st = rk_msg_reserve(&m, pb->len, &off);
    if (st != RK_OK) {
        rk_msg_free(m);
        return st;
    }
    memcpy((uint8_t *)m + off, pb->data, pb->len);
    fm = (rk_frame_msg *)m;
    fm->data.off = off;
    fm->data.len = (uint32_t)pb->len;
    m->priority = priority;
    *out = m;
    return RK_OK;
}

static rk_status_t send_data(router_t *r, int dest, uint8_t kind, const char *name, size_t name_len,
                             const rk_msg_t *msg, int64_t timeout_us)
{
    flow_t *f;
    rk_msg_t *m;
    rk_buf_t *pb;
    rk_status_t st;

    if (dest < 0 || dest >= r->boot.size || dest == r->boot.rank) return RK_ERR_INVALID;
    if (router_peer_failed(r, dest)) return RK_ERR_PEER;
    if (name_len > RK_FRAME_NAME_MAX) return RK_ERR_INVALID;
    int compact = 0;
    st = encode_frame(r, dest, kind, name, name_len, msg, &pb, &compact);
    if (st != RK_OK) return st;
    pthread_mutex_lock(&r->lock);
    r->peers[dest].stats.compact_sent += (uint64_t)compact;
    f = get_flow(r, dest, kind, name, name_len);
    if (!f) {
        pthread_mutex_unlock(&r->lock);
        return RK_ERR_NOMEM;
    }
    if (may_go_now(f, msg->priority)) { /* fast path: straight out of the thread's buffer */
        uint8_t *bytes = pb->data;
        size_t len = pb->len;
        int take = len >= TAKE_MIN;
        if (take) rk_buf_init(pb); /* a large frame: the transport takes the buffer instead of a copy */
        st = tp_send_frames(r, dest, bytes, len, 1, take);
        if (st == RK_OK) {
            spend_credit(f);
            r->peers[dest].data_sent++;
        }
        pthread_mutex_unlock(&r->lock);
        return st;
    }
    r->peers[dest].stats.credit_waits++;
    pthread_mutex_unlock(&r->lock);
    st = frame_block(pb, msg->priority, &m);
    if (st != RK_OK) return st;
    st = rk_mailbox_put(f->outq, m, 0);
    if (st == RK_ERR_TIMEOUT && timeout_us != 0 && r->cfg.poll_ns > 0) {
        /* The queue is full: drive the transport for a while (returned credits flush the
         * queue from here) instead of sleeping at once and waiting for the progress thread. */
        int64_t until = rk_mono_ns() + r->cfg.poll_ns;
        rk_spin_begin();
        for (unsigned i = 1; st == RK_ERR_TIMEOUT; i++) {
            router_poll_round(r, i);
            st = rk_mailbox_put(f->outq, m, 0);
            if (i % 16 == 0 && rk_mono_ns() >= until) break; /* the clock is read every 16 rounds */
        }
        rk_spin_end();
    }
    if (st == RK_ERR_TIMEOUT && timeout_us != 0)
        st = rk_mailbox_put(f->outq, m, timeout_us); /* BLOCK: wait for room behind the credits */
    if (st != RK_OK) {
        rk_msg_free(m);
        return st == RK_ERR_TERMINATED ? RK_ERR_PEER : st;
    }
    pthread_mutex_lock(&r->lock);
    r->peers[dest].data_sent++;
    flush_peer(r, dest);
    pthread_mutex_unlock(&r->lock);
    return RK_OK;
}

rk_status_t router_send(router_t *r, struct kernel *k, const rk_msg_t *msg, int64_t timeout_us)
{
    return send_data(r, rk_host_kernel_home(k), FRAME_MSG, rk_host_kernel_id(k), strlen(rk_host_kernel_id(k)), msg, timeout_us);
}

rk_status_t router_send_output(router_t *r, struct kernel *k, int rank, const rk_msg_t *msg, int64_t timeout_us)
{
    return send_data(r, rank, FRAME_OUTPUT, rk_host_kernel_id(k), strlen(rk_host_kernel_id(k)), msg, timeout_us);
}

rk_status_t router_publish(router_t *r, int rank, const char *topic, const rk_msg_t *msg, int64_t timeout_us)
{
    return send_data(r, rank, FRAME_PUBLISH, topic, strlen(topic), msg, timeout_us);
}
