/*
 * route/router.c - cross-rank delivery with per-peer credits, sequence numbers and
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
#include "route/router_internal.h"

int router_rank(const router_t *r) { return r->boot.rank; }
int router_size(const router_t *r) { return r->boot.size; }
int router_local_rank(const router_t *r) { return r->boot.local_rank; }
int router_local_size(const router_t *r) { return r->boot.local_size; }
/* The first peer that failed, or -1 (written under the lock, read anywhere). */
int failed_rank(router_t *r) { return __atomic_load_n(&r->failed_peer, __ATOMIC_RELAXED); }
int router_peer_failed(router_t *r, int rank) { return failed_rank(r) == rank; }

/* Remember @p rank as the failed peer (the first one only) and wake the senders
 * blocked towards it. Caller holds r->lock. */
void mark_failed(router_t *r, int rank)
{
    if (failed_rank(r) >= 0 || r->peers[rank].fin_seen >= 2) return; /* a rank that said goodbye has not failed */
    __atomic_store_n(&r->failed_peer, rank, __ATOMIC_RELAXED);
    for (flow_t *f = r->peers[rank].flows; f; f = f->peer_next) rk_mailbox_close(f->outq);
    buffers_drop(r, rank, 0); /* what it was reading is ours again */
    rk_host_peer_failed(r->rt, rank);
}
int router_busy(router_t *r) { return __atomic_load_n(&r->busy, __ATOMIC_RELAXED); }

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

int progress_locked(router_t *r)
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
                compare_type(r, l->src, l->name, l->bytes, l->len, l->hash);
                free(l);
            }
            pthread_mutex_unlock(&r->lock);
        }
    }
    if (st == RK_OK && r->dup_detected) st = RK_ERR_EXISTS;
    if (st == RK_OK && r->schema_clash) st = RK_ERR_TYPE;
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
        const char *env = getenv("RINGMESH_COMPACT");
        r->compact = !(env && env[0] == '0');
        env = getenv("RINGMESH_RMA");
        r->rma = !(env && env[0] == '0');
    }
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
        int rma = r->rma && r->ops->get;
        snprintf(r->buffer_path, sizeof r->buffer_path, "%s",
                 rma && r->ops->cuda_memory(r->tp) ? "read by RMA (UCX get), device memory in place (GPUDirect)"
                 : rma ? "read by RMA (UCX get, emulated over AM by the owner where no lane reads its memory); device data staged to host first"
                       : "bytes sent by the owner, device data staged through pinned host memory first");
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
    buffers_drop(r, -1, 1); /* loans back to the runtime, registrations released */
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
    payload_buf_drop(); /* main threads run no key destructor */
    free(r);
    return st;
}
