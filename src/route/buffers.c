/*
 * route/buffers.c - buffers across ranks: a peer asks for a buffer by id,
 * the owner replies with its newest bytes (staged to host first).
 */
#include "route/router_internal.h"

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
