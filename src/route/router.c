/*
 * router.c - cross-rank delivery with per-peer credits, sequence numbers and
 * highest-priority-first sending.
 *
 * Sending a data frame needs a credit for its destination rank. With a credit
 * and nothing queued the frame goes straight to the transport; otherwise it
 * waits in that peer's outgoing priority queue (a bounded rk_mailbox, so BLOCK
 * senders wait there), which the progress loop drains highest priority first
 * as credits return. Every frame to a peer carries the next sequence number;
 * the receiver processes frames strictly in sequence (holding early ones), so
 * transport reordering never reorders messages of one (sender, priority).
 *
 * Batching: when a flush finds several frames ready for one peer, it packs
 * them, in exactly the order it would have sent them one by one (highest
 * priority first, each with its own credit and the next sequence number),
 * into one FRAME_BATCH transport message of at most RINGMESH_BATCH_BYTES
 * (default 65536; 0 or 1 turns batching off). A lone frame still goes out
 * as itself, straight from its block. The receiver splits a batch and
 * processes every frame as if it had arrived alone.
 *
 * Receiving never blocks the progress loop: a message whose kernel mailbox is
 * full waits in that source's FIFO of pending deliveries (bounded by the
 * credits), and the credit goes back only once it is delivered. So a slow
 * kernel pushes back on its senders instead of growing memory.
 *
 * Shutdown (router_drain): nothing a sender was told is accepted may be lost
 * because ranks part. Once every rank is in rk_runtime_destroy, the ranks
 * run rounds of a termination detection (Mattern's four-counter method):
 * each rank waits until it is locally quiet (its active kernels idle with
 * empty mailboxes, no frame queued for credits, no delivery waiting for
 * room), then sends every peer a ROUND frame with the data frames it has
 * sent to and received from the live peers. A ROUND frame leaves after
 * every data frame queued before it on the same link, so it is ordered after
 * all data on each flow. When two consecutive rounds find every rank quiet
 * and the same totals sent and received, no message is in flight anywhere,
 * and the kernels may stop.
 *
 * Locking: r->lock serializes the transport and all peer state. Messages are
 * encoded and decoded outside the lock where possible.
 */
#include "route/router.h"

#include "route/frame.h"
#include "route/liveness.h"
#include "util/log.h"
#include "queue/mailbox_hook.h"
#include "msg/schema.h"
#include "msg/msg_internal.h"
#include "util/spin.h"
#include "util/timeutil.h"
#include "transport/transport.h"

#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTQ_PER_CREDIT 4
#define RESERVE_CREDITS 8 /* per flow, for frames above RK_PRIORITY_DEFAULT once the credits are spent */
#define BATCH_BYTES_DEFAULT 65536
#define BATCH_BYTES_MAX (64u << 20)
#define TAKE_MIN (64 * 1024) /* frames this large leave in their own buffer, handed to the transport */
#define WAIT_LIMIT_US (120LL * 1000000) /* sync / shutdown waits give up after this */

#define RK_FRAME_FIELDS(F) F(rk_frame_msg, data, BYTES, _)
RK_MESSAGE_DECLARE(rk_frame_msg, RK_FRAME_FIELDS)
RK_MESSAGE_DEFINE(rk_frame_msg, RK_FRAME_FIELDS)

typedef struct held_frame { /* arrived ahead of sequence */
    struct held_frame *next;
    uint32_t seq;
    size_t len;
    uint8_t data[];
} held_frame_t;

typedef struct delivery { /* a decoded message waiting for mailbox room */
    struct delivery *next;
    struct kernel *k;
    rk_msg_t *msg;
    int to_outbox;
    int credit; /* return a credit when this one is done */
    rk_mailbox_t *waits_on; /* the inbox it is registered with as a waiting put (rk_mailbox_waiter), or NULL */
    int prio;
} delivery_t;

/* A delivery that leaves the wait list withdraws its registration. */
static void delivery_done(delivery_t *d)
{
    if (d->waits_on) rk_mailbox_waiter(d->waits_on, d->prio, -1);
    d->waits_on = NULL;
}

/*
 * A flow is one (peer rank, frame kind, kernel or topic) stream. Credits are
 * counted per flow, within the pair of ranks: a kernel that stops draining
 * holds back only the flows into it, never another kernel's traffic between
 * the same two ranks, so pipelines that cross back and forth between ranks
 * cannot deadlock on a shared credit pool. Flows live until shutdown.
 */
typedef struct flow {
    struct flow *peer_next, *hash_next;
    int peer;
    uint8_t kind;
    uint16_t name_len;
    char name[RK_FRAME_NAME_MAX + 1];
    uint32_t credits;           /* sending: frames we may still send */
    uint32_t reserve;           /* sending: of RESERVE_CREDITS, those left for frames above the default priority */
    rk_mailbox_t *outq;         /* sending: frames waiting for credits, by priority */
    uint32_t to_return;         /* receiving: credits owed to the peer */
    delivery_t *pend_head, *pend_tail; /* receiving: waiting for mailbox room */
} flow_t;

#define FLOW_BUCKETS 1024

typedef struct peer {
    uint32_t send_seq, recv_seq;
    held_frame_t *held;
    flow_t *flows;
    uint32_t sync_seen, fin_seen;
    uint64_t data_sent, data_recv;  /* data frames to / from this peer (shutdown's counting) */
    uint32_t round_seen;            /* the peer's latest ROUND report */
    uint64_t round_sent[2], round_recv[2]; /* its totals in rounds of each parity */
    uint8_t round_quiet[2];
    rk_peer_stats_t stats;
    uint64_t batches_sent, batched_frames; /* batches sent and the frames inside them */
} peer_t;

typedef struct reported { /* a type name whose layout difference was logged */
    struct reported *next;
    char name[];
} reported_t;

typedef struct layout { /* a peer's type layout, compared at the end of rk_runtime_sync */
    struct layout *next;
    int src;
    size_t len;
    char *name;
    uint8_t bytes[];
} layout_t;

typedef struct fetch { /* a buffer fetch waiting for its reply */
    struct fetch *next;
    uint32_t token;
    void *dst;
    size_t cap, *len;
    rk_status_t st;
    int done;
} fetch_t;

struct router {
    rk_runtime_t *rt;
    router_config_t cfg;
    rk_boot_t boot;
    const rk_transport_ops_t *ops;
    rk_transport_t *tp;
    pthread_mutex_t lock;
    peer_t *peers;
    flow_t *buckets[FLOW_BUCKETS];
    uint32_t credits_init;
    size_t batch_cap;   /* largest batch in bytes; 0 = batching off */
    uint8_t *batch_buf; /* batch_cap bytes, used under lock by flush_peer */
    uint32_t sync_epoch;
    int failed_peer;
    int busy; /* the transport had large transfers under way after the last progress call (atomic) */
    int dup_detected;
    int closing; /* FIN 2 sent: nothing more may go out (MPI may reuse the communicator) */
    int draining; /* router_drain runs: outputs nobody can read any more are not waited for */
    liveness_t *live; /* failure detection on every transport (liveness.c) */
    int schema_clash; /* a type's field has another kind on a peer: rk_runtime_sync says RK_ERR_TYPE */
    struct reported *reported; /* types whose difference was reported already */
    layout_t *layouts;         /* peers' layouts received, not yet compared */
    unsigned live_tick;
    pthread_t thread;
    int stop;
    uint64_t bad_frames, undeliverable;
    fetch_t *fetches;
    uint32_t next_token;
    char buffer_path[96];
};

static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static pthread_key_t buf_key;

static void buf_release(void *b)
{
    rk_buf_free(b);
    free(b);
}

static void buf_key_init(void) { pthread_key_create(&buf_key, buf_release); }

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

int router_rank(const router_t *r) { return r->boot.rank; }
int router_size(const router_t *r) { return r->boot.size; }
int router_local_rank(const router_t *r) { return r->boot.local_rank; }
int router_local_size(const router_t *r) { return r->boot.local_size; }
/* The first peer that failed, or -1 (written under the lock, read anywhere). */
static int failed_rank(router_t *r) { return __atomic_load_n(&r->failed_peer, __ATOMIC_RELAXED); }
int router_peer_failed(router_t *r, int rank) { return failed_rank(r) == rank; }

/* Remember @p rank as the failed peer (the first one only) and wake the senders
 * blocked towards it. Caller holds r->lock. */
static void mark_failed(router_t *r, int rank)
{
    if (failed_rank(r) >= 0 || r->peers[rank].fin_seen >= 2) return; /* a rank that said goodbye has not failed */
    __atomic_store_n(&r->failed_peer, rank, __ATOMIC_RELAXED);
    for (flow_t *f = r->peers[rank].flows; f; f = f->peer_next) rk_mailbox_close(f->outq);
    rk_host_peer_failed(r->rt, rank);
}
int router_busy(router_t *r) { return __atomic_load_n(&r->busy, __ATOMIC_RELAXED); }

/* ---- sending ------------------------------------------------------------- */

/*
 * Send @p len bytes holding @p nframes sequenced frames: one frame, or a batch
 * whose header gets the first frame's number (its inner frames are numbered
 * already). Counts them and advances the peer's sequence on success. With
 * @p take the bytes are a malloc'd buffer handed over to the transport (freed
 * on every outcome).
 */
static rk_status_t tp_send_frames(router_t *r, int dest, uint8_t *bytes, size_t len, uint32_t nframes, int take)
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

static rk_status_t tp_send_frame(router_t *r, int dest, uint8_t *frame, size_t len)
{
    return tp_send_frames(r, dest, frame, len, 1, 0);
}

/* Send a control frame now (no credit). Caller holds r->lock. */
static rk_status_t send_ctrl(router_t *r, int dest, uint8_t kind, const char *name, size_t name_len, uint32_t aux)
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
static flow_t *get_flow(router_t *r, int peer, uint8_t kind, const char *name, size_t len)
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
 * for credits, even when that bulk fills the queue. Caller holds r->lock.
 */
static int may_go_now(flow_t *f, int prio)
{
    const rk_msg_t *head;
    if (rk_mailbox_size(f->outq) == 0) return flow_may_send(f, prio);
    if (prio <= RK_PRIORITY_DEFAULT || (f->credits == 0 && f->reserve == 0)) return 0;
    return rk_mailbox_peek(f->outq, &head) != RK_OK || head->priority < prio;
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
static void flush_peer(router_t *r, int dest)
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
static rk_status_t encode_frame(router_t *r, uint8_t kind, const char *name, size_t name_len, const rk_msg_t *msg,
                                rk_buf_t **out)
{
    frame_t f = {0};
    size_t head = frame_size(name_len, 0);
    rk_buf_t *pb = payload_buf();
    rk_status_t st = pb ? rk_msg_encode_after(msg, pb, head) : RK_ERR_NOMEM;

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
    st = encode_frame(r, kind, name, name_len, msg, &pb);
    if (st != RK_OK) return st;
    pthread_mutex_lock(&r->lock);
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

static rk_status_t ctrl_all_locked(router_t *r, uint8_t kind, const char *name, size_t name_len, uint32_t aux)
{
    rk_status_t st = RK_OK;
    for (int i = 0; i < r->boot.size; i++) {
        if (i == r->boot.rank || i == failed_rank(r)) continue;
        rk_status_t s = send_ctrl(r, i, kind, name, name_len, aux);
        if (s != RK_OK && st == RK_OK) st = s;
    }
    return st;
}

static rk_status_t ctrl_all(router_t *r, uint8_t kind, const char *name, size_t name_len, uint32_t aux)
{
    pthread_mutex_lock(&r->lock);
    rk_status_t st = ctrl_all_locked(r, kind, name, name_len, aux);
    pthread_mutex_unlock(&r->lock);
    return st;
}

void router_announce_gone(router_t *r, const struct kernel *k, int failed)
{
    ctrl_all(r, FRAME_GONE, rk_host_kernel_id(k), strlen(rk_host_kernel_id(k)), failed ? 1 : 0);
}

/* NACK payload: message_id, call_id, flags, 3 zero bytes, reply_rank, src_rank (little-endian). */
#define NACK_PAYLOAD 44

static void nack_to(router_t *r, int dest, const rk_refusal_t *ref)
{
    uint8_t buf[RK_FRAME_HDR + RK_ID_MAX + NACK_PAYLOAD], pl[NACK_PAYLOAD] = {0};
    frame_t f = {0};
    size_t nl = strnlen(ref->kernel, RK_ID_MAX - 1);
    if (dest < 0 || dest >= r->boot.size || dest == r->boot.rank || dest == failed_rank(r)) return;
    memcpy(pl, ref->message_id.bytes, 16);
    memcpy(pl + 16, ref->call_id.bytes, 16);
    pl[32] = ref->flags;
    frame_put32(pl + 36, (uint32_t)ref->reply_rank);
    frame_put32(pl + 40, (uint32_t)ref->src_rank);
    f.kind = FRAME_NACK;
    f.name_len = (uint16_t)nl;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = (uint32_t)(-(int)ref->st);
    f.payload_len = NACK_PAYLOAD;
    frame_write(buf, &f, ref->kernel, pl);
    tp_send_frame(r, dest, buf, frame_size(nl, NACK_PAYLOAD));
}

/* Tell the sender and, for a call, the caller (once each). Caller holds r->lock. */
static void nack_locked(router_t *r, const rk_refusal_t *ref)
{
    nack_to(r, ref->src_rank, ref);
    if ((ref->flags & RK_MSGF_CALL) && ref->reply_rank != ref->src_rank) nack_to(r, ref->reply_rank, ref);
}

void router_nack(router_t *r, const rk_refusal_t *ref)
{
    pthread_mutex_lock(&r->lock);
    nack_locked(r, ref);
    pthread_mutex_unlock(&r->lock);
}

/* A refusal learnt here under r->lock: this rank's part, then the other ranks'. */
static void refuse_locked(router_t *r, const rk_refusal_t *ref)
{
    if (rk_refusal_local(r->rt, ref)) nack_locked(r, ref);
}

static void refuse_one_locked(void *r, const rk_refusal_t *ref) { refuse_locked(r, ref); }

/* Evictions the last put on this thread caused (DROP_OLDEST). Caller holds r->lock. */
static void report_evictions_locked(router_t *r) { rk_evictions_each(refuse_one_locked, r); }

rk_status_t router_inject_raw(router_t *r, int dest, const void *data, size_t len, int sequenced)
{
    uint8_t *copy = malloc(len ? len : 1);
    rk_status_t st;
    if (!copy) return RK_ERR_NOMEM;
    memcpy(copy, data, len);
    pthread_mutex_lock(&r->lock);
    st = sequenced && len >= RK_FRAME_HDR ? tp_send_frame(r, dest, copy, len) : r->ops->send(r->tp, dest, copy, len);
    if (st == RK_OK && sequenced && len >= RK_FRAME_HDR && frame_is_data(copy[4]))
        r->peers[dest].data_sent++; /* the receiver counts it: shutdown's totals must agree */
    pthread_mutex_unlock(&r->lock);
    free(copy);
    return st;
}

void router_report_dup(router_t *r, const char *id, int rank)
{
    pthread_mutex_lock(&r->lock);
    send_ctrl(r, rank, FRAME_DUP, id, strlen(id), 0);
    pthread_mutex_unlock(&r->lock);
}

rk_status_t router_announce_kernel(router_t *r, const struct kernel *k)
{
    return ctrl_all(r, FRAME_KERNEL, rk_host_kernel_id(k), strlen(rk_host_kernel_id(k)), (uint32_t)rk_host_kernel_out_strategy(k));
}

/* FRAME_SUB / FRAME_UNSUB to every peer: name = "topic\0kernel", aux = the kernel's home. */
static rk_status_t announce_topic(router_t *r, uint8_t kind, const char *topic, const struct kernel *k)
{
    char name[2 * RK_ID_MAX];
    size_t tl = strlen(topic), kl = strlen(rk_host_kernel_id(k));
    memcpy(name, topic, tl);
    name[tl] = '\0';
    memcpy(name + tl + 1, rk_host_kernel_id(k), kl);
    return ctrl_all(r, kind, name, tl + 1 + kl, (uint32_t)rk_host_kernel_home(k));
}

rk_status_t router_announce_unsub(router_t *r, const char *topic, const struct kernel *k)
{
    return announce_topic(r, FRAME_UNSUB, topic, k);
}

rk_status_t router_announce_sub(router_t *r, const char *topic, const struct kernel *k)
{
    return announce_topic(r, FRAME_SUB, topic, k);
}

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

static int retry_pending(router_t *r)
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

static void bad_frame(router_t *r, int src, const char *what, rk_status_t st)
{
    r->bad_frames++;
    if (src >= 0 && src < r->boot.size) r->peers[src].stats.frames_unreadable++;
    RK_WARN("unreadable frame from rank %d (%s: %s); counted and skipped (%llu so far)", src, what,
            rk_status_str(st), (unsigned long long)r->bad_frames);
}

static void handle_data(router_t *r, int src, const frame_t *f)
{
    char name[RK_FRAME_NAME_MAX + 1];
    rk_msg_t *msg;
    struct kernel *k;
    rk_status_t st;

    flow_t *fl = get_flow(r, src, f->kind, f->name, f->name_len);

    r->peers[src].data_recv++;
    memcpy(name, f->name, f->name_len);
    name[f->name_len] = '\0';
    st = rk_msg_deserialize(r->cfg.reg, f->payload, f->payload_len, r->cfg.max_message, &msg);
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

typedef struct buf_reply {
    router_t *r;
    int dest;
    uint32_t token;
    const char *name;
    rk_status_t st;
} buf_reply_t;

static void send_buf_data(router_t *r, int dest, const char *name, uint32_t token, rk_status_t status,
                          const void *bytes, size_t size)
{
    frame_t f = {0};
    size_t nl = strlen(name), total = frame_size(nl, size);
    uint8_t *buf;
    if (size > UINT32_MAX - 1024 || !(buf = malloc(total))) {
        RK_ERROR("buffer %s (%zu bytes) is too large to send", name, size);
        if (size) send_buf_data(r, dest, name, token, RK_ERR_TOO_LARGE, NULL, 0);
        return;
    }
    f.kind = FRAME_BUF_DATA;
    f.priority = (uint8_t)(-status);
    f.name_len = (uint16_t)nl;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = token;
    f.payload_len = (uint32_t)size;
    frame_write(buf, &f, name, bytes);
    tp_send_frames(r, dest, buf, total, 1, 1);
}

static void reply_bytes(void *arg, const void *bytes, size_t size)
{
    buf_reply_t *b = arg;
    send_buf_data(b->r, b->dest, b->name, b->token, RK_OK, bytes, size);
}

/* A peer asks for one of our buffers: send the newest bytes (device data staged to host first). */
static void serve_buffer(router_t *r, int src, const char *name, uint32_t token)
{
    buf_reply_t b = {r, src, token, name, RK_OK};
    char *end = NULL;
    uint64_t id = strtoull(name, &end, 16);
    rk_status_t st = end && *end == '\0' ? rk_buffer_read(r->rt, id, reply_bytes, &b) : RK_ERR_NOT_FOUND;
    if (st != RK_OK) send_buf_data(r, src, name, token, st, NULL, 0);
}

static void complete_fetch(router_t *r, const frame_t *f)
{
    for (fetch_t *x = r->fetches; x; x = x->next) {
        if (x->token != f->aux || x->done) continue;
        x->st = (rk_status_t)(-(int)f->priority);
        if (x->st == RK_OK) {
            *x->len = f->payload_len;
            if (f->payload_len > x->cap) x->st = RK_ERR_TOO_LARGE;
            else memcpy(x->dst, f->payload, f->payload_len);
        }
        x->done = 1;
        return;
    }
}

#define ROUND_PAYLOAD 17 /* data frames sent (u64), received (u64), quiet (u8), little-endian */

/* Has the difference of type @p name been reported? Marks it when not. Caller holds r->lock. */
static int reported_before(router_t *r, const char *name)
{
    for (reported_t *x = r->reported; x; x = x->next)
        if (strcmp(x->name, name) == 0) return 1;
    reported_t *x = malloc(sizeof *x + strlen(name) + 1);
    if (x) {
        strcpy(x->name, name);
        x->next = r->reported;
        r->reported = x;
    }
    return 0;
}

/* A peer's layout of type @p name: compared with ours, a difference reported once per type. */
static void compare_type(router_t *r, int src, const char *name, const uint8_t *layout, size_t len)
{
    char why[160];
    const rk_msg_type_t *ours = rk_registry_find(r->cfg.reg, name, strlen(name));
    if (!ours) return; /* not a type this rank receives */
    schema_diff_t d = schema_compare(ours, layout, len, why, sizeof why);
    if (d == SCHEMA_BAD) {
        bad_frame(r, src, "type layout", RK_ERR_DECODE);
        return;
    }
    if (d == SCHEMA_CLASH) r->schema_clash = 1;
    if (d == SCHEMA_SAME || reported_before(r, name)) return;
    if (d == SCHEMA_CLASH)
        RK_ERROR("message type '%s' differs between rank %d (here) and rank %d: %s; its messages cannot be read "
                 "across these ranks",
                 name, r->boot.rank, src, why);
    else
        RK_WARN("message type '%s' differs between rank %d (here) and rank %d: %s (messages still decode: missing "
                "fields take their defaults, unknown ones are ignored)",
                name, r->boot.rank, src, why);
}

typedef struct type_frames { /* every registered type's layout as a FRAME_TYPE, back to back */
    router_t *r;
    uint8_t *buf;
    size_t len, cap;
} type_frames_t;

/* Append one type's layout frame (rk_registry_each callback; no router lock held). */
static void add_type_frame(void *arg, const rk_msg_type_t *t)
{
    type_frames_t *tf = arg;
    uint8_t layout[RK_SCHEMA_MAX];
    frame_t f = {0};
    size_t nl = strlen(t->name), need;
    if (nl > RK_FRAME_NAME_MAX) return;
    f.kind = FRAME_TYPE;
    f.name_len = (uint16_t)nl;
    f.src_rank = (uint32_t)tf->r->boot.rank;
    f.payload_len = (uint32_t)schema_encode(t, layout);
    need = frame_size(nl, f.payload_len);
    if (tf->len + need > tf->cap) {
        size_t cap = (tf->len + need) * 2;
        uint8_t *nb = realloc(tf->buf, cap);
        if (!nb) return;
        tf->buf = nb;
        tf->cap = cap;
    }
    frame_write(tf->buf + tf->len, &f, t->name, layout);
    tf->len += need;
}

/* Send the collected layout frames to every live peer. Caller holds r->lock. */
static void send_type_frames(router_t *r, const type_frames_t *tf)
{
    for (size_t at = 0; at < tf->len;) {
        size_t len = (size_t)frame_span(tf->buf + at);
        for (int i = 0; i < r->boot.size; i++)
            if (i != r->boot.rank && i != failed_rank(r)) tp_send_frame(r, i, tf->buf + at, len);
        at += len;
    }
}

static void handle_ctrl(router_t *r, int src, const frame_t *f)
{
    char name[RK_FRAME_NAME_MAX + 1];
    peer_t *p = &r->peers[src];

    memcpy(name, f->name, f->name_len);
    name[f->name_len] = '\0';
    switch (f->kind) {
    case FRAME_KERNEL:
        if (rk_host_learn_kernel(r->rt, name, src, f->aux <= RK_BP_DROP_OLDEST ? (int)f->aux : -1) ==
            RK_ERR_EXISTS) {
            r->dup_detected = 1; /* both owners learn it: here, and the peer through DUP */
            send_ctrl(r, src, FRAME_DUP, f->name, f->name_len, 0);
        }
        break;
    case FRAME_DUP:
        RK_ERROR("kernel_id '%s' is also launched on rank %d: duplicate kernel_id", name, src);
        r->dup_detected = 1;
        break;
    case FRAME_SUB: {
        size_t tl = strnlen(name, f->name_len);
        if (tl >= f->name_len || tl == 0 || tl >= RK_ID_MAX) {
            bad_frame(r, src, "subscription", RK_ERR_DECODE);
            break;
        }
        rk_host_learn_sub(r->rt, name, name + tl + 1, (int)f->aux);
        break;
    }
    case FRAME_UNSUB: {
        size_t tl = strnlen(name, f->name_len);
        if (tl >= f->name_len || tl == 0 || tl >= RK_ID_MAX) {
            bad_frame(r, src, "unsubscription", RK_ERR_DECODE);
            break;
        }
        rk_host_forget_sub(r->rt, name, name + tl + 1);
        break;
    }
    case FRAME_CREDIT: {
        flow_t *fl = get_flow(r, src, f->priority, f->name, f->name_len);
        if (fl) { /* the reserve is refilled first */
            uint32_t back = RESERVE_CREDITS - fl->reserve < f->aux ? RESERVE_CREDITS - fl->reserve : f->aux;
            fl->reserve += back;
            fl->credits += f->aux - back;
        }
        flush_peer(r, src);
        break;
    }
    case FRAME_NACK: {
        rk_refusal_t ref = {0};
        const uint8_t *pl = f->payload;
        if (f->payload_len != NACK_PAYLOAD || f->name_len == 0 || f->name_len >= RK_ID_MAX) {
            bad_frame(r, src, "refusal", RK_ERR_DECODE);
            break;
        }
        memcpy(ref.kernel, name, f->name_len + 1);
        memcpy(ref.message_id.bytes, pl, 16);
        memcpy(ref.call_id.bytes, pl + 16, 16);
        ref.flags = pl[32] & RK_MSGF_MASK;
        ref.reply_rank = (int32_t)frame_get32(pl + 36);
        ref.src_rank = (int32_t)frame_get32(pl + 40);
        ref.st = (rk_status_t)(-(int32_t)f->aux);
        rk_host_refused_remote(r->rt, &ref); /* counters, the event or the future here; nothing passed on */
        break;
    }
    case FRAME_SYNC:
        if (f->aux > p->sync_seen) p->sync_seen = f->aux;
        break;
    case FRAME_FIN:
        if (f->aux > p->fin_seen) p->fin_seen = f->aux;
        break;
    case FRAME_BUF_GET: serve_buffer(r, src, name, f->aux); break;
    case FRAME_GONE:
        rk_host_kernel_gone(r->rt, name, src, f->aux == 1);
        break;
    case FRAME_BUF_DATA: complete_fetch(r, f); break;
    case FRAME_TYPE: { /* kept: this rank may still be registering its own types */
        layout_t *l = malloc(sizeof *l + f->payload_len + f->name_len + 1);
        if (!l) break;
        l->src = src;
        l->len = f->payload_len;
        memcpy(l->bytes, f->payload, f->payload_len);
        l->name = (char *)l->bytes + f->payload_len;
        memcpy(l->name, name, f->name_len + 1);
        l->next = r->layouts;
        r->layouts = l;
        break;
    }
    case FRAME_ROUND: {
        const uint8_t *pl = f->payload;
        if (f->payload_len != ROUND_PAYLOAD || f->aux == 0) {
            bad_frame(r, src, "shutdown round", RK_ERR_DECODE);
            break;
        }
        p->round_sent[f->aux & 1] = frame_get64(pl);
        p->round_recv[f->aux & 1] = frame_get64(pl + 8);
        p->round_quiet[f->aux & 1] = pl[16];
        if (f->aux > p->round_seen) p->round_seen = f->aux;
        break;
    }
    default: break;
    }
}

static void handle_frame(router_t *r, int src, const frame_t *f)
{
    if (frame_is_data(f->kind)) handle_data(r, src, f);
    else handle_ctrl(r, src, f);
}

/* One frame, alone or out of a batch (r->lock held): process in sequence, hold early ones. */
static void on_sequenced(router_t *r, int src, frame_t f, const void *data, size_t len)
{
    peer_t *p = &r->peers[src];
    p->stats.frames_received++;
    p->stats.bytes_received += len;
    if (f.seq != p->recv_seq) {
        held_frame_t *h, **at;
        if ((int32_t)(f.seq - p->recv_seq) < 0) {
            bad_frame(r, src, "duplicate sequence number", RK_ERR_DECODE);
            return;
        }
        h = malloc(sizeof *h + len);
        if (!h) {
            RK_ERROR("no memory to hold an early frame from rank %d", src);
            return;
        }
        h->seq = f.seq;
        h->len = len;
        memcpy(h->data, data, len);
        for (at = &p->held; *at && (int32_t)((*at)->seq - f.seq) < 0; at = &(*at)->next) {
        }
        h->next = *at;
        *at = h;
        return;
    }
    handle_frame(r, src, &f);
    p->recv_seq++;
    while (p->held && p->held->seq == p->recv_seq) {
        held_frame_t *h = p->held;
        p->held = h->next;
        if (frame_parse(h->data, h->len, &f) == RK_OK) handle_frame(r, src, &f);
        p->recv_seq++;
        free(h);
    }
}

/* Transport callback (r->lock held): check the frame; a batch is split into its frames. */
static void on_frame(void *arg, int src, const void *data, size_t len)
{
    router_t *r = arg;
    frame_t f, sub;
    const uint8_t *raw;
    size_t off = 0, raw_len;
    rk_status_t st = frame_parse(data, len, &f); /* a batch is checked whole: all or nothing */

    if (st != RK_OK) {
        bad_frame(r, src, len > 4 && ((const uint8_t *)data)[4] == FRAME_BATCH ? "batch" : "frame header", st);
        return;
    }
    if (src < 0 || src >= r->boot.size || f.src_rank != (uint32_t)src) {
        bad_frame(r, src, "frame source", RK_ERR_DECODE);
        return;
    }
    if (r->live) liveness_heard(r->live, src, rk_mono_ns());
    if (f.kind != FRAME_BATCH) {
        on_sequenced(r, src, f, data, len);
        return;
    }
    r->peers[src].stats.bytes_received += RK_FRAME_HDR;
    while (frame_batch_next(&f, &off, &sub, &raw, &raw_len) == RK_OK) on_sequenced(r, src, sub, raw, raw_len);
}

/* ---- progress ------------------------------------------------------------ */

/* A heartbeat to a peer on another machine (liveness.c). Caller holds r->lock. */
static int ping_peer(void *arg, int peer)
{
    router_t *r = arg;
    if (peer == failed_rank(r)) return -1;
    return send_ctrl(r, peer, FRAME_PING, NULL, 0, 0) == RK_OK ? 0 : -1;
}

static int progress_locked(router_t *r)
{
    int n = r->ops->progress(r->tp);
    int busy = r->ops->transferring && r->ops->transferring(r->tp) > 0;
    if (busy != __atomic_load_n(&r->busy, __ATOMIC_RELAXED)) /* written on change only: senders read this line */
        __atomic_store_n(&r->busy, busy, __ATOMIC_RELAXED);
    int failed = r->ops->failed_peer(r->tp);
    if (failed >= 0) mark_failed(r, failed);
    if (r->live && (++r->live_tick & 15) == 0 && !r->closing) { /* a dead peer, whatever the transport says */
        failed = liveness_check(r->live, rk_mono_ns(), ping_peer, r);
        if (failed >= 0) mark_failed(r, failed);
    }
    return n + retry_pending(r);
}

void router_poll_round(router_t *r, unsigned i)
{
    if (router_progress(r) == 0) rk_spin_round(i);
}

int router_progress(router_t *r)
{
    int n = 0;
    if (pthread_mutex_trylock(&r->lock) != 0) return 0;
    n = progress_locked(r);
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void unlock_mutex(void *m) { pthread_mutex_unlock(m); }
static void lock_mutex(void *m) { pthread_mutex_lock(m); }

/*
 * Work that needs retrying without a network event: deliveries waiting for
 * mailbox room, or queued frames that have credits. Frames queued for want of
 * credits need none: the credits arrive over the network, which wakes the wait.
 */
static int has_backlog(router_t *r)
{
    int busy = 0;
    pthread_mutex_lock(&r->lock);
    for (int s = 0; s < r->boot.size && !busy; s++)
        for (flow_t *f = r->peers[s].flows; f && !busy; f = f->peer_next)
            busy = f->pend_head != NULL || ((f->credits > 0 || f->reserve > 0) && rk_mailbox_size(f->outq) != 0);
    pthread_mutex_unlock(&r->lock);
    return busy;
}

static void *progress_main(void *arg)
{
    router_t *r = arg;
    int idle = 0;
    prctl(PR_SET_TIMERSLACK, 1000UL); /* short sleeps stay short (default slack is 50 us) */
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&r->lock);
        int n = progress_locked(r);
        for (int i = 0; i < r->boot.size; i++)
            if (i != r->boot.rank) flush_peer(r, i);
        int sending = r->ops->pending(r->tp) > 0; /* the transport is not thread-safe: ask under the lock */
        pthread_mutex_unlock(&r->lock);
        if (n) {
            idle = 0;
            continue;
        }
        if (++idle < 64) {
            sched_yield(); /* stay responsive right after traffic */
        } else if (sending && !r->ops->wait) {
            sched_yield(); /* MPI completes large sends only while we call into it */
        } else if (r->ops->wait && !has_backlog(r)) {
            pthread_mutex_lock(&r->lock); /* sleep until the network has something for us */
            r->ops->wait(r->tp, 10, unlock_mutex, lock_mutex, &r->lock);
            pthread_mutex_unlock(&r->lock);
        } else {
            usleep(idle < 1024 ? 20 : 100); /* deliveries wait for mailbox room: retry soon */
        }
    }
    return NULL;
}

static int all_fin(router_t *r, uint32_t phase);

/* Progress until @p done(r, arg) or the wait limit / a failed peer. */
static rk_status_t wait_until(router_t *r, int (*done)(router_t *, uint32_t), uint32_t arg, const char *what,
                              int64_t end)
{
    int64_t next_note = rk_mono_ns() + 10000000000LL;
    int forever = done == all_fin && arg == 1; /* ranks may reach shutdown hours apart */
    for (;;) {
        pthread_mutex_lock(&r->lock);
        progress_locked(r);
        int ok = done(r, arg);
        pthread_mutex_unlock(&r->lock);
        if (ok) return RK_OK;
        if (failed_rank(r) >= 0 && done != all_fin) { /* shutdown goes on among the survivors */
            RK_ERROR("%s: rank %d failed", what, failed_rank(r));
            return RK_ERR_PEER;
        }
        if (forever && rk_mono_ns() > next_note) {
            RK_INFO("%s: still waiting for other ranks", what);
            next_note = rk_mono_ns() + 10000000000LL;
        }
        if (!forever && rk_mono_ns() > end) {
            RK_ERROR("%s: gave up", what);
            return RK_ERR_TIMEOUT;
        }
        usleep(50);
    }
}

static rk_status_t wait_for(router_t *r, int (*done)(router_t *, uint32_t), uint32_t arg, const char *what)
{
    return wait_until(r, done, arg, what, rk_mono_ns() + WAIT_LIMIT_US * 1000);
}

static int all_synced(router_t *r, uint32_t epoch)
{
    for (int i = 0; i < r->boot.size; i++)
        if (i != r->boot.rank && r->peers[i].sync_seen < epoch) return 0;
    return 1;
}

static int all_fin(router_t *r, uint32_t phase)
{
    for (int i = 0; i < r->boot.size; i++)
        if (i != r->boot.rank && i != failed_rank(r) && r->peers[i].fin_seen < phase) return 0;
    return 1;
}

/*
 * Nothing queued for credits towards a live peer (flushed first) and, with
 * @p with_pending, no delivery from one waiting for mailbox room. Caller
 * holds r->lock.
 */
static int flows_idle(router_t *r, uint32_t with_pending)
{
    for (int i = 0; i < r->boot.size; i++) {
        if (i == r->boot.rank || i == failed_rank(r)) continue;
        flush_peer(r, i);
        for (flow_t *f = r->peers[i].flows; f; f = f->peer_next)
            if (rk_mailbox_size(f->outq) || (with_pending && f->pend_head)) return 0;
    }
    return 1;
}

/*
 * Two rounds, so that sync works as a barrier for the directory: after round
 * one this rank has every announcement made before the peers' calls; after
 * round two every rank has them, so no peer can start sending traffic that
 * this rank's kernels would forward to a kernel they do not know yet.
 */
rk_status_t router_sync(router_t *r)
{
    uint32_t round;
    rk_status_t st = RK_OK;
    type_frames_t tf = {r, NULL, 0, 0};
    rk_host_each_type(r->rt, add_type_frame, &tf); /* never with r->lock held */
    pthread_mutex_lock(&r->lock);
    round = r->sync_epoch;
    r->sync_epoch += 2;
    send_type_frames(r, &tf); /* layouts first: compared before the sync completes */
    pthread_mutex_unlock(&r->lock);
    free(tf.buf);
    for (uint32_t i = 1; i <= 2 && st == RK_OK; i++) {
        st = ctrl_all(r, FRAME_SYNC, NULL, 0, round + i);
        if (st == RK_OK) st = wait_for(r, all_synced, round + i, "rk_runtime_sync");
        if (i == 1) { /* every peer's layouts came before its first SYNC: compare them with ours */
            pthread_mutex_lock(&r->lock);
            while (r->layouts) {
                layout_t *l = r->layouts;
                r->layouts = l->next;
                compare_type(r, l->src, l->name, l->bytes, l->len);
                free(l);
            }
            pthread_mutex_unlock(&r->lock);
        }
    }
    if (st == RK_OK && r->dup_detected) st = RK_ERR_EXISTS;
    if (st == RK_OK && r->schema_clash) st = RK_ERR_TYPE;
    return st;
}

rk_status_t router_fetch_buffer(router_t *r, int rank, uint64_t id, void *dst, size_t cap, size_t *len,
                                int64_t timeout_us)
{
    fetch_t x = {0}, **pp;
    char name[24];
    int64_t end = timeout_us < 0 ? INT64_MAX : rk_mono_ns() + timeout_us * 1000;
    rk_status_t st;

    snprintf(name, sizeof name, "%016llx", (unsigned long long)id);
    x.dst = dst;
    x.cap = cap;
    x.len = len;
    pthread_mutex_lock(&r->lock);
    x.token = ++r->next_token;
    x.next = r->fetches;
    r->fetches = &x;
    st = failed_rank(r) == rank ? RK_ERR_PEER : send_ctrl(r, rank, FRAME_BUF_GET, name, strlen(name), x.token);
    pthread_mutex_unlock(&r->lock);
    for (int done = 0; st == RK_OK && !done;) {
        pthread_mutex_lock(&r->lock);
        progress_locked(r);
        done = x.done;
        pthread_mutex_unlock(&r->lock);
        if (done) st = x.st;
        else if (failed_rank(r) == rank) st = RK_ERR_PEER;
        else if (rk_mono_ns() > end) st = RK_ERR_TIMEOUT;
        else usleep(20);
    }
    pthread_mutex_lock(&r->lock);
    for (pp = &r->fetches; *pp; pp = &(*pp)->next)
        if (*pp == &x) {
            *pp = x.next;
            break;
        }
    pthread_mutex_unlock(&r->lock);
    return st;
}

const char *router_buffer_path(router_t *r) { return r->buffer_path; }

void router_peer_stats(router_t *r, int peer, rk_peer_stats_t *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->peers[peer].stats;
    pthread_mutex_unlock(&r->lock);
}

void router_batch_stats(router_t *r, int peer, uint64_t *batches, uint64_t *frames)
{
    pthread_mutex_lock(&r->lock);
    *batches = r->peers[peer].batches_sent;
    *frames = r->peers[peer].batched_frames;
    pthread_mutex_unlock(&r->lock);
}

size_t router_batch_bytes(const router_t *r) { return r->batch_cap; }

rk_status_t router_gather_to_root(router_t *r, const char *mine, size_t len, char **all, size_t *total,
                                  uint64_t *count)
{
    void *joined = NULL;
    rk_status_t st;
    pthread_mutex_lock(&r->lock); /* the progress thread also calls MPI (MPI transport) */
    st = rk_boot_gatherv(&r->boot, mine, len, &joined, total);
    *count = rk_boot_sum_to_root(&r->boot, *count);
    pthread_mutex_unlock(&r->lock);
    *all = joined;
    return st;
}

/* ---- life ---------------------------------------------------------------- */

static const rk_transport_ops_t *pick_transport(rk_transport_kind_t kind)
{
    const char *env = getenv("RINGMESH_TRANSPORT");
    const char *name = kind == RK_TRANSPORT_MPI ? "mpi" : "ucx";
    if (kind == RK_TRANSPORT_AUTO && env && *env) name = env;
    return rk_transport_find(name);
}

rk_status_t router_create(rk_runtime_t *rt, const router_config_t *cfg, router_t **out)
{
    router_t *r = calloc(1, sizeof *r);
    rk_status_t st;

    if (!r) return RK_ERR_NOMEM;
    r->rt = rt;
    r->cfg = *cfg;
    r->failed_peer = -1;
    r->credits_init = cfg->credits;
    {
        const char *env = getenv("RINGMESH_BATCH_BYTES");
        unsigned long long cap = BATCH_BYTES_DEFAULT;
        if (env && *env) cap = strtoull(env, NULL, 0);
        if (cap > BATCH_BYTES_MAX) cap = BATCH_BYTES_MAX;
        r->batch_cap = cap > 1 ? (size_t)cap : 0;
        if (r->batch_cap && !(r->batch_buf = malloc(r->batch_cap))) r->batch_cap = 0;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->ops = pick_transport(cfg->transport);
    if (!r->ops) {
        RK_ERROR("unknown transport '%s' (RINGMESH_TRANSPORT): use ucx or mpi", getenv("RINGMESH_TRANSPORT"));
        free(r);
        return RK_ERR_INVALID;
    }
    st = rk_boot_init(cfg->mpi_comm, &r->boot);
    if (st != RK_OK) {
        free(r);
        return st;
    }
    rk_log_set_rank(r->boot.rank);
    r->peers = calloc((size_t)r->boot.size, sizeof *r->peers);
    st = r->peers ? RK_OK : RK_ERR_NOMEM;
    if (st == RK_OK) st = r->ops->create(&r->boot, on_frame, r, &r->tp);
    if (st == RK_OK) st = liveness_create(&r->boot, &r->live);
    if (st == RK_OK) {
        RK_INFO("rank %d/%d (node-local %d) on %s", r->boot.rank, r->boot.size, r->boot.local_rank,
                r->ops->describe(r->tp));
        rk_host_ranked(rt, r->boot.rank); /* kernels created from here on know their home */
        snprintf(r->buffer_path, sizeof r->buffer_path, "%s",
                 r->ops->cuda_memory(r->tp) ? "GPUDirect available (transport registers CUDA memory); staged path in use"
                                            : "staged through pinned host memory (transport has no CUDA memory support)");
        RK_INFO("device buffers across ranks: %s", r->buffer_path);
        if (pthread_create(&r->thread, NULL, progress_main, r) != 0) st = RK_ERR_NOMEM;
    }
    if (st != RK_OK) {
        if (r->tp) r->ops->destroy(r->tp);
        liveness_destroy(r->live);
        free(r->batch_buf);
        free(r->peers);
        rk_boot_fini(&r->boot);
        free(r);
        return st;
    }
    *out = r;
    return RK_OK;
}

rk_status_t router_quiesce(router_t *r)
{
    rk_status_t st = ctrl_all(r, FRAME_FIN, NULL, 0, 1);
    return st == RK_OK ? wait_for(r, all_fin, 1, "shutdown (waiting for every rank)") : st;
}

static void send_round(router_t *r, uint32_t round, uint64_t sent, uint64_t recv, int quiet)
{
    uint8_t pl[ROUND_PAYLOAD], buf[RK_FRAME_HDR + ROUND_PAYLOAD];
    frame_t f = {0};
    frame_put64(pl, sent);
    frame_put64(pl + 8, recv);
    pl[16] = (uint8_t)quiet;
    f.kind = FRAME_ROUND;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = round;
    f.payload_len = ROUND_PAYLOAD;
    frame_write(buf, &f, NULL, pl);
    for (int i = 0; i < r->boot.size; i++)
        if (i != r->boot.rank && i != failed_rank(r)) tp_send_frame(r, i, buf, sizeof buf);
}

static int all_reported(router_t *r, uint32_t round)
{
    for (int i = 0; i < r->boot.size; i++)
        if (i != r->boot.rank && i != failed_rank(r) && r->peers[i].round_seen < round && r->peers[i].fin_seen < 2)
            return 0;
    return 1;
}

rk_status_t router_drain(router_t *r, int (*local_quiet)(rk_runtime_t *), int64_t deadline_ns, uint32_t *rounds)
{
    uint64_t prev_s = UINT64_MAX, prev_r = UINT64_MAX;
    for (uint32_t round = 1;; round++) {
        *rounds = round;
        int quiet = 0;
        uint64_t s = 0, rv = 0;
        /* 1. this rank quiet: its kernels idle with empty mailboxes, nothing queued or waiting */
        for (;;) {
            pthread_mutex_lock(&r->lock);
            r->draining = 1;
            progress_locked(r);
            quiet = flows_idle(r, 1) && local_quiet(r->rt);
            if (quiet || rk_mono_ns() >= deadline_ns) { /* 2. report, ordered after all data sent */
                for (int i = 0; i < r->boot.size; i++)
                    if (i != r->boot.rank && i != failed_rank(r)) {
                        s += r->peers[i].data_sent;
                        rv += r->peers[i].data_recv;
                    }
                send_round(r, round, s, rv, quiet);
            }
            pthread_mutex_unlock(&r->lock);
            if (quiet || rk_mono_ns() >= deadline_ns) break;
            usleep(50);
        }
        /* 3. every live peer's report of this round */
        int all_quiet = quiet, done;
        for (;;) {
            pthread_mutex_lock(&r->lock);
            progress_locked(r);
            done = all_reported(r, round);
            if (done)
                for (int i = 0; i < r->boot.size; i++) {
                    peer_t *p = &r->peers[i];
                    if (i == r->boot.rank || i == failed_rank(r)) continue;
                    if (p->round_seen < round) { /* it gave up and left (FIN 2): not quiet */
                        all_quiet = 0;
                        continue;
                    }
                    s += p->round_sent[round & 1];
                    rv += p->round_recv[round & 1];
                    all_quiet &= p->round_quiet[round & 1];
                }
            pthread_mutex_unlock(&r->lock);
            if (done) break;
            if (rk_mono_ns() >= deadline_ns) return RK_ERR_TIMEOUT;
            usleep(50);
        }
        /* 4. two rounds alike, everyone quiet, everything sent received: nothing in flight */
        if (all_quiet && s == rv && s == prev_s && rv == prev_r) return RK_OK;
        if (rk_mono_ns() >= deadline_ns) return RK_ERR_TIMEOUT;
        prev_s = all_quiet ? s : UINT64_MAX;
        prev_r = all_quiet ? rv : UINT64_MAX;
    }
}

static void free_peer(router_t *r, peer_t *p, int src)
{
    uint32_t lost = 0;
    while (p->flows) {
        flow_t *f = p->flows;
        p->flows = f->peer_next;
        while (f->pend_head) {
            delivery_t *d = f->pend_head;
            f->pend_head = d->next;
            delivery_done(d);
            rk_msg_free(d->msg);
            free(d);
            lost++;
        }
        lost += rk_mailbox_clear(f->outq);
        rk_mailbox_destroy(f->outq);
        free(f);
    }
    while (p->held) {
        held_frame_t *h = p->held;
        p->held = h->next;
        free(h);
        lost++;
    }
    if (lost) RK_WARN("shutdown: %u in-flight message(s) with rank %d were not delivered", lost, src);
}

rk_status_t router_destroy(router_t *r, int64_t deadline_ns)
{
    rk_status_t st, st2;
    int64_t grace = rk_mono_ns() + 2000000000LL; /* the final handshake gets 2 s even after the deadline */

    st = wait_until(r, flows_idle, 0, "shutdown (flushing outgoing messages)", deadline_ns);
    pthread_mutex_lock(&r->lock);
    st2 = ctrl_all_locked(r, FRAME_FIN, NULL, 0, 2); /* our last frame to every peer */
    r->closing = 1;
    pthread_mutex_unlock(&r->lock);
    if (st == RK_OK) st = st2;
    st2 = wait_until(r, all_fin, 2, "shutdown (final handshake)", deadline_ns > grace ? deadline_ns : grace);
    if (st == RK_OK) st = st2;
    __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
    pthread_join(r->thread, NULL);
    for (int spins = 0; r->ops->pending(r->tp) && spins < 100000; spins++) r->ops->progress(r->tp);
    if (failed_rank(r) < 0) rk_boot_barrier(&r->boot);
    if (r->bad_frames || r->undeliverable)
        RK_WARN("router: %llu unreadable frame(s), %llu undeliverable message(s)",
                (unsigned long long)r->bad_frames, (unsigned long long)r->undeliverable);
    if (st == RK_OK && failed_rank(r) >= 0) st = RK_ERR_PEER; /* the survivors finished; say that one died */
    r->ops->destroy(r->tp);
    liveness_destroy(r->live);
    while (r->reported) {
        reported_t *x = r->reported;
        r->reported = x->next;
        free(x);
    }
    while (r->layouts) {
        layout_t *l = r->layouts;
        r->layouts = l->next;
        free(l);
    }
    for (int i = 0; i < r->boot.size; i++) free_peer(r, &r->peers[i], i);
    free(r->peers);
    rk_boot_fini(&r->boot);
    pthread_mutex_destroy(&r->lock);
    free(r->batch_buf);
    pthread_once(&buf_once, buf_key_init);
    rk_buf_t *b = pthread_getspecific(buf_key); /* main threads run no key destructor */
    if (b) {
        pthread_setspecific(buf_key, NULL);
        buf_release(b);
    }
    free(r);
    return st;
}
