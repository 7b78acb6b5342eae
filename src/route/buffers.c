/*
 * route/buffers.c - buffers across ranks: a peer asks for a buffer by id.
 *
 * With a transport that has RMA (UCX), the reader sends FRAME_BUF_RGET; the
 * owner lends the buffer (it stays put, even if released, until the reader is
 * done), registers its memory once (kept while the memory lives) and answers
 * FRAME_BUF_KEY: address, size, lend id, memory type, packed remote key. The
 * reader pulls the bytes with one get straight into the caller's memory and
 * sends FRAME_BUF_DONE. A dead reader's loans are returned when its failure
 * is seen. Otherwise (MPI transport, RINGMESH_RMA=0, memory that cannot be
 * registered) the owner answers FRAME_BUF_DATA with the newest bytes (a
 * device-dirty buffer staged to host first).
 */
#include "route/router_internal.h"

#include <sched.h>

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
void serve_buffer(router_t *r, int src, const char *name, uint32_t token)
{
    buf_reply_t b = {r, src, token, name, RK_OK};
    char *end = NULL;
    uint64_t id = strtoull(name, &end, 16);
    rk_status_t st = end && *end == '\0' ? rk_buffer_read(r->rt, id, reply_bytes, &b) : RK_ERR_NOT_FOUND;
    if (st != RK_OK) send_buf_data(r, src, name, token, st, NULL, 0);
}

#define KEY_HDR 24 /* BUF_KEY payload: address u64, size u64, lend id u32, memory type u32, then the key */

/* The registration of @p l's memory, made on first use. Caller holds r->lock. */
static reg_t *reg_for(router_t *r, const rk_host_lend_t *l)
{
    for (reg_t *g = r->regs; g; g = g->next)
        if (g->base == l->base && g->cap == l->cap && g->device == l->device) return g;
    reg_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    if (r->ops->mem_register(r->tp, l->base, l->cap, l->device ? RK_TP_MEM_CUDA : RK_TP_MEM_HOST, &g->mem, &g->rkey,
                             &g->rkey_len) != RK_OK) {
        free(g);
        if (!l->device) { /* host memory cannot be read remotely here: stop trying */
            RK_WARN("buffers: the transport cannot register host memory; remote fetches are sent by the owner");
            r->rma = 0;
        }
        return NULL;
    }
    g->base = l->base;
    g->cap = l->cap;
    g->device = l->device;
    g->next = r->regs;
    r->regs = g;
    return g;
}

void serve_buffer_rma(router_t *r, int src, const char *name, uint32_t token)
{
    rk_host_lend_t l;
    char *end = NULL;
    uint64_t id = strtoull(name, &end, 16);
    reg_t *g;
    lend_t *ln;
    uint8_t *buf;
    size_t nl = strlen(name);

    if (!end || *end != '\0' || !r->ops->mem_register || !r->rma ||
        rk_host_buffer_lend(r->rt, id, r->ops->cuda_memory(r->tp), &l) != RK_OK) {
        serve_buffer(r, src, name, token); /* the staged answer (or the error) */
        return;
    }
    g = reg_for(r, &l);
    ln = g ? calloc(1, sizeof *ln) : NULL;
    buf = ln ? malloc(frame_size(nl, KEY_HDR + g->rkey_len)) : NULL;
    if (!buf) {
        free(ln);
        rk_host_buffer_return(r->rt, l.buf);
        serve_buffer(r, src, name, token);
        return;
    }
    ln->id = ++r->next_lend ? r->next_lend : ++r->next_lend; /* never 0 */
    ln->peer = src;
    ln->buf = l.buf;
    r->peers[src].stats.buffers_lent++;
    ln->next = r->lends;
    r->lends = ln;
    uint8_t *pay = buf + RK_FRAME_HDR + nl;
    frame_t f = {0};
    f.kind = FRAME_BUF_KEY;
    f.name_len = (uint16_t)nl;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = token;
    f.payload_len = (uint32_t)(KEY_HDR + g->rkey_len);
    frame_write_hdr(buf, &f);
    memcpy(buf + RK_FRAME_HDR, name, nl);
    frame_put64(pay, (uint64_t)(uintptr_t)l.addr);
    frame_put64(pay + 8, l.size);
    frame_put32(pay + 16, ln->id);
    frame_put32(pay + 20, (uint32_t)l.device);
    memcpy(pay + KEY_HDR, g->rkey, g->rkey_len);
    tp_send_frames(r, src, buf, frame_size(nl, KEY_HDR + g->rkey_len), 1, 1);
}

void offer_fetch(router_t *r, int src, const frame_t *f)
{
    for (fetch_t *x = r->fetches; x; x = x->next) {
        if (x->token != f->aux || x->done || x->offered) continue;
        if (f->payload_len < KEY_HDR || f->payload_len - KEY_HDR > RK_TP_RKEY_MAX ||
            !(x->rkey = malloc(f->payload_len - KEY_HDR + 1))) {
            bad_frame(r, src, "buffer key", RK_ERR_DECODE);
            x->st = RK_ERR_DECODE;
            x->done = 1;
            if (f->payload_len >= KEY_HDR) send_ctrl(r, src, FRAME_BUF_DONE, NULL, 0, frame_get32(f->payload + 16));
            return;
        }
        x->raddr = frame_get64(f->payload);
        x->rsize = frame_get64(f->payload + 8);
        x->lend_id = frame_get32(f->payload + 16);
        x->rkey_len = f->payload_len - KEY_HDR;
        memcpy(x->rkey, f->payload + KEY_HDR, x->rkey_len);
        x->offered = 1; /* the fetching thread starts the read, outside the transport's callback */
        return;
    }
    /* nobody waits for it (timed out): give the loan back at once */
    if (f->payload_len >= KEY_HDR) send_ctrl(r, src, FRAME_BUF_DONE, NULL, 0, frame_get32(f->payload + 16));
}

/* Unlink the loan at *@p pp and give the buffer back. Caller holds r->lock. */
static void lend_return(router_t *r, lend_t **pp)
{
    lend_t *ln = *pp;
    *pp = ln->next;
    rk_host_buffer_return(r->rt, ln->buf);
    free(ln);
}

/* Unlink the registration at *@p pp and release it. Caller holds r->lock. */
static void reg_release(router_t *r, reg_t **pp)
{
    reg_t *g = *pp;
    *pp = g->next;
    r->ops->mem_deregister(r->tp, g->mem);
    free(g);
}

void lend_done(router_t *r, int src, uint32_t id)
{
    for (lend_t **pp = &r->lends; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id && (*pp)->peer == src) {
            lend_return(r, pp);
            return;
        }
    bad_frame(r, src, "unknown buffer loan", RK_ERR_DECODE);
}

void buffers_drop(router_t *r, int peer, int all)
{
    for (lend_t **pp = &r->lends; *pp;) {
        if (peer >= 0 && (*pp)->peer != peer) pp = &(*pp)->next;
        else lend_return(r, pp);
    }
    while (all && r->regs) reg_release(r, &r->regs);
}

void router_forget_memory(router_t *r, void *addr)
{
    if (!r || !addr) return;
    pthread_mutex_lock(&r->lock);
    for (reg_t **pp = &r->regs; *pp;) {
        if ((*pp)->base != addr) pp = &(*pp)->next;
        else reg_release(r, pp);
    }
    pthread_mutex_unlock(&r->lock);
}

/*
 * Read an offered buffer into the caller's memory (r->lock held on entry and
 * exit; the transport is driven meanwhile). Once the read has started it is
 * waited for: the caller's memory must not be written after we return. A peer
 * that fails meanwhile completes it with an error; after 10 s more it is left.
 */
static rk_status_t read_offer(router_t *r, int rank, fetch_t *x)
{
    int *done = calloc(1, sizeof *done);
    rk_status_t *st = calloc(1, sizeof *st), out;
    int64_t give_up = 0;

    *x->len = (size_t)x->rsize;
    if (x->rsize > x->cap) out = RK_ERR_TOO_LARGE;
    else if (!done || !st) out = RK_ERR_NOMEM;
    else out = r->ops->get(r->tp, rank, x->dst, (size_t)x->rsize, x->raddr, x->rkey, x->rkey_len, done, st);
    while (out == RK_OK && !*done) {
        progress_locked(r);
        if (*done) break;
        if (failed_rank(r) == rank) {
            if (!give_up) give_up = rk_mono_ns() + 10000000000LL;
            if (rk_mono_ns() > give_up) {
                RK_ERROR("a read from failed rank %d did not finish; its completion is abandoned", rank);
                return RK_ERR_PEER; /* done / st stay allocated: the transport may still write them */
            }
        }
        pthread_mutex_unlock(&r->lock);
        sched_yield();
        pthread_mutex_lock(&r->lock);
    }
    if (out == RK_OK) out = *st;
    if (out == RK_OK) r->peers[rank].stats.buffers_read++;
    if (failed_rank(r) != rank) send_ctrl(r, rank, FRAME_BUF_DONE, NULL, 0, x->lend_id);
    free(done);
    free(st);
    return out;
}

void complete_fetch(router_t *r, const frame_t *f)
{
    for (fetch_t *x = r->fetches; x; x = x->next) {
        if (x->token != f->aux || x->done) continue;
        x->st = (rk_status_t)(-(int)f->priority);
        if (x->st == RK_OK) {
            *x->len = f->payload_len;
            if (f->payload_len > x->cap) x->st = RK_ERR_TOO_LARGE;
            else memcpy(x->dst, f->payload, f->payload_len);
        }
        if (x->st == RK_OK && f->src_rank < (uint32_t)r->boot.size) r->peers[f->src_rank].stats.buffers_copied++;
        x->done = 1;
        return;
    }
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
    uint8_t kind = r->rma && r->ops->get ? FRAME_BUF_RGET : FRAME_BUF_GET;
    st = failed_rank(r) == rank ? RK_ERR_PEER : send_ctrl(r, rank, kind, name, strlen(name), x.token);
    pthread_mutex_unlock(&r->lock);
    for (int done = 0; st == RK_OK && !done;) {
        pthread_mutex_lock(&r->lock);
        progress_locked(r);
        if (x.offered && !x.done) {
            x.st = read_offer(r, rank, &x);
            x.done = 1;
        }
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
    if (x.offered && !x.done && failed_rank(r) != rank) /* offered as we gave up: return the loan */
        send_ctrl(r, rank, FRAME_BUF_DONE, NULL, 0, x.lend_id);
    pthread_mutex_unlock(&r->lock);
    free(x.rkey);
    return st;
}
