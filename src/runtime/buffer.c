/*
 * buffer.c - unified buffers: host and device copies, a dirty state, a pool,
 * and lookup by job-wide id for remote fetches.
 *
 * Invariant: a live buffer is in the runtime's table under its id; a released
 * one is not, and sits in the pool (same size class) until reused with a new
 * id. The table lock is held while a peer's staged fetch copies the bytes;
 * a buffer lent for a peer's RMA read (lent > 0) keeps its memory until the
 * reader returns it: released meanwhile, it leaves the table at once and
 * goes to the pool when the last loan comes back. Memory that is freed is
 * first forgotten by the router (its transport registration is dropped).
 */
#include "cuda/backend.h"
#include "util/log.h"
#include "route/router.h"
#include "runtime/runtime_internal.h"

#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16
#define TABLE_MIN 64

struct rk_buffer {
    rk_runtime_t *rt;
    rk_buffer_id_t id;
    size_t size, cap;
    rk_buffer_state_t state;
    void *host, *dev;
    int on_gpu;
    uint32_t lent;  /* loans to peers reading it by RMA */
    int released;   /* released while lent: pooled when the last loan returns */
    struct rk_buffer *pool_next;
};

struct buffer_table {
    pthread_mutex_t lock;
    rk_buffer_t **slots; /* open addressing by id, NULL = empty */
    uint32_t cap, count;
    uint64_t serial;
    rk_buffer_t *pool;
    uint32_t pooled;
};

static uint32_t id_hash(rk_buffer_id_t id) { return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32); }

rk_status_t rk_buffers_init(rk_runtime_t *rt)
{
    struct buffer_table *t = calloc(1, sizeof *t);
    if (!t) return RK_ERR_NOMEM;
    t->slots = calloc(TABLE_MIN, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return RK_ERR_NOMEM;
    }
    t->cap = TABLE_MIN;
    pthread_mutex_init(&t->lock, NULL);
    rt->buffers = t;
    return RK_OK;
}

static void buffer_free_memory(rk_buffer_t *b)
{
    if (b->rt && b->rt->router) { /* its transport registrations go first */
        router_forget_memory(b->rt->router, b->host);
        router_forget_memory(b->rt->router, b->dev);
    }
    if (b->on_gpu) rk_cuda_buffer_free(b->dev, b->host);
    else {
        free(b->host);
        free(b->dev);
    }
    free(b);
}

void rk_buffers_fini(rk_runtime_t *rt)
{
    struct buffer_table *t = rt->buffers;
    uint32_t live = 0;
    if (!t) return;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i]) {
            buffer_free_memory(t->slots[i]);
            live++;
        }
    while (t->pool) {
        rk_buffer_t *b = t->pool;
        t->pool = b->pool_next;
        buffer_free_memory(b);
    }
    if (live) RK_INFO("runtime destroy: freed %u unreleased buffer(s)", live);
    free(t->slots);
    pthread_mutex_destroy(&t->lock);
    free(t);
    rt->buffers = NULL;
}

static int64_t slot_of(struct buffer_table *t, rk_buffer_id_t id)
{
    uint32_t mask = t->cap - 1;
    for (uint32_t i = id_hash(id) & mask, n = 0; n < t->cap; n++, i = (i + 1) & mask) {
        if (!t->slots[i]) return -1;
        if (t->slots[i]->id == id) return i;
    }
    return -1;
}

static rk_status_t table_insert(struct buffer_table *t, rk_buffer_t *b)
{
    if ((t->count + 1) * 2 > t->cap) {
        uint32_t ncap = t->cap * 2;
        rk_buffer_t **ns = calloc(ncap, sizeof *ns);
        if (!ns) return RK_ERR_NOMEM;
        for (uint32_t i = 0; i < t->cap; i++) {
            if (!t->slots[i]) continue;
            uint32_t j = id_hash(t->slots[i]->id) & (ncap - 1);
            while (ns[j]) j = (j + 1) & (ncap - 1);
            ns[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    uint32_t j = id_hash(b->id) & (t->cap - 1);
    while (t->slots[j]) j = (j + 1) & (t->cap - 1);
    t->slots[j] = b;
    t->count++;
    return RK_OK;
}

/* Remove slot @p i and re-place the rest of its probe run (linear probing delete). */
static void table_remove(struct buffer_table *t, uint32_t i)
{
    uint32_t mask = t->cap - 1;
    t->slots[i] = NULL;
    t->count--;
    for (uint32_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        rk_buffer_t *b = t->slots[j];
        t->slots[j] = NULL;
        t->count--;
        table_insert(t, b);
    }
}

static rk_status_t buffer_alloc_memory(rk_runtime_t *rt, size_t cap, rk_buffer_t *b)
{
    const char *why = NULL;
    if (rk_cuda_device_count(&why) > 0) {
        int dev = rt->params.gpu >= 0 ? rt->params.gpu : 0;
        if (rk_cuda_buffer_alloc(dev, cap, &b->dev, &b->host) == RK_OK) {
            b->on_gpu = 1;
            return RK_OK;
        }
    }
    b->host = calloc(1, cap ? cap : 1);
    b->dev = calloc(1, cap ? cap : 1);
    return b->host && b->dev ? RK_OK : RK_ERR_NOMEM;
}

rk_status_t rk_buffer_create(rk_runtime_t *rt, size_t size, rk_buffer_t **out)
{
    struct buffer_table *t;
    rk_buffer_t *b = NULL, **pp;
    size_t cap = 64;
    rk_status_t st;

    if (!rt || !out || size == 0 || size > ((size_t)1 << 34)) return RK_ERR_INVALID;
    t = rt->buffers;
    while (cap < size) cap <<= 1;
    pthread_mutex_lock(&t->lock);
    for (pp = &t->pool; *pp; pp = &(*pp)->pool_next)
        if ((*pp)->cap == cap) {
            b = *pp;
            *pp = b->pool_next;
            t->pooled--;
            break;
        }
    pthread_mutex_unlock(&t->lock);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return RK_ERR_NOMEM;
        b->cap = cap;
        st = buffer_alloc_memory(rt, cap, b);
        if (st != RK_OK) {
            buffer_free_memory(b);
            return st;
        }
    } else {
        memset(b->host, 0, size);
        if (b->on_gpu) rk_cuda_copy(b->dev, b->host, size, 1);
        else memset(b->dev, 0, size);
    }
    b->rt = rt;
    b->size = size;
    b->state = RK_BUF_CLEAN;
    b->pool_next = NULL;
    pthread_mutex_lock(&t->lock);
    b->id = ((uint64_t)(rt->rank + 1) << 40) | (++t->serial & ((1ull << 40) - 1));
    st = table_insert(t, b);
    pthread_mutex_unlock(&t->lock);
    if (st != RK_OK) {
        buffer_free_memory(b);
        return st;
    }
    *out = b;
    return RK_OK;
}

rk_status_t rk_buffer_release(rk_buffer_t *b)
{
    struct buffer_table *t;
    int64_t i;
    if (!b) return RK_ERR_INVALID;
    t = b->rt->buffers;
    pthread_mutex_lock(&t->lock);
    i = slot_of(t, b->id);
    if (i < 0) {
        pthread_mutex_unlock(&t->lock);
        return RK_ERR_NOT_FOUND; /* released twice */
    }
    table_remove(t, (uint32_t)i);
    b->id = 0;
    if (b->lent) { /* a peer is reading it: pooled when the last loan returns */
        b->released = 1;
        b = NULL;
    } else if (t->pooled < POOL_MAX) {
        b->pool_next = t->pool;
        t->pool = b;
        t->pooled++;
        b = NULL;
    }
    pthread_mutex_unlock(&t->lock);
    if (b) buffer_free_memory(b);
    return RK_OK;
}

rk_buffer_id_t rk_buffer_id(const rk_buffer_t *b) { return b ? b->id : 0; }
size_t rk_buffer_size(const rk_buffer_t *b) { return b ? b->size : 0; }
/*
 * State changes take the table lock, which the runtime also holds while it
 * serves a peer's fetch (rk_buffer_read): so what the owner wrote before a
 * mark or a sync happens-before the bytes a later fetch reads, and a fetch
 * never sees the state half-way through a sync.
 */
static pthread_mutex_t *table_lock(const rk_buffer_t *b) { return &b->rt->buffers->lock; }

rk_buffer_state_t rk_buffer_state(const rk_buffer_t *b)
{
    rk_buffer_state_t s;
    if (!b) return RK_BUF_CLEAN;
    pthread_mutex_lock(table_lock(b));
    s = b->state;
    pthread_mutex_unlock(table_lock(b));
    return s;
}

void *rk_buffer_host(rk_buffer_t *b) { return b ? b->host : NULL; }
void *rk_buffer_device(rk_buffer_t *b) { return b ? b->dev : NULL; }
int rk_buffer_on_gpu(const rk_buffer_t *b) { return b ? b->on_gpu : 0; }

/* Mark @p side dirty unless the other side already is. */
static rk_status_t mark_dirty(rk_buffer_t *b, rk_buffer_state_t side)
{
    rk_status_t st = RK_OK;
    rk_buffer_state_t other = side == RK_BUF_HOST_DIRTY ? RK_BUF_DEVICE_DIRTY : RK_BUF_HOST_DIRTY;
    if (!b) return RK_ERR_INVALID;
    pthread_mutex_lock(table_lock(b));
    if (b->state == other) st = RK_ERR_STATE;
    else b->state = side;
    pthread_mutex_unlock(table_lock(b));
    return st;
}

rk_status_t rk_buffer_mark_host_dirty(rk_buffer_t *b) { return mark_dirty(b, RK_BUF_HOST_DIRTY); }
rk_status_t rk_buffer_mark_device_dirty(rk_buffer_t *b) { return mark_dirty(b, RK_BUF_DEVICE_DIRTY); }

/* Copy the newer side over the older one. Caller holds the table lock. */
static rk_status_t sync_locked(rk_buffer_t *b)
{
    rk_status_t st = RK_OK;
    if (b->state == RK_BUF_CLEAN) return RK_OK;
    int to_device = b->state == RK_BUF_HOST_DIRTY;
    void *dst = to_device ? b->dev : b->host;
    const void *src = to_device ? b->host : b->dev;
    if (b->on_gpu) st = rk_cuda_copy(dst, src, b->size, to_device);
    else memcpy(dst, src, b->size);
    if (st == RK_OK) b->state = RK_BUF_CLEAN;
    return st;
}

rk_status_t rk_buffer_sync(rk_buffer_t *b)
{
    rk_status_t st;
    if (!b) return RK_ERR_INVALID;
    pthread_mutex_lock(table_lock(b));
    st = sync_locked(b);
    pthread_mutex_unlock(table_lock(b));
    return st;
}

rk_status_t rk_buffer_find(rk_runtime_t *rt, rk_buffer_id_t id, rk_buffer_t **out)
{
    struct buffer_table *t;
    int64_t i;
    if (!rt || !out) return RK_ERR_INVALID;
    t = rt->buffers;
    pthread_mutex_lock(&t->lock);
    i = slot_of(t, id);
    *out = i >= 0 ? t->slots[i] : NULL;
    pthread_mutex_unlock(&t->lock);
    return i >= 0 ? RK_OK : RK_ERR_NOT_FOUND;
}

/*
 * Live buffer @p id with its newest bytes where a reader will look: the device
 * copy when @p device_ok and it is not older (*@p dev = 1), else the host copy,
 * staged from the device first when that is newer. Caller holds the table lock.
 */
static rk_status_t newest_locked(struct buffer_table *t, rk_buffer_id_t id, int device_ok, rk_buffer_t **out, int *dev)
{
    int64_t i = slot_of(t, id);
    if (i < 0) return RK_ERR_NOT_FOUND;
    rk_buffer_t *b = t->slots[i];
    *dev = device_ok && b->on_gpu && b->state != RK_BUF_HOST_DIRTY;
    *out = b;
    return !*dev && b->state == RK_BUF_DEVICE_DIRTY ? sync_locked(b) : RK_OK; /* stage device -> host */
}

rk_status_t rk_buffer_read(rk_runtime_t *rt, rk_buffer_id_t id, rk_buffer_reader_fn fn, void *arg)
{
    struct buffer_table *t = rt->buffers;
    rk_buffer_t *b;
    int dev;

    pthread_mutex_lock(&t->lock);
    rk_status_t st = newest_locked(t, id, 0, &b, &dev);
    if (st == RK_OK) fn(arg, b->host, b->size);
    pthread_mutex_unlock(&t->lock);
    return st;
}

rk_status_t rk_host_buffer_lend(rk_runtime_t *rt, rk_buffer_id_t id, int device_ok, rk_host_lend_t *out)
{
    struct buffer_table *t = rt->buffers;
    rk_buffer_t *b;
    int dev;

    pthread_mutex_lock(&t->lock);
    rk_status_t st = newest_locked(t, id, device_ok, &b, &dev);
    if (st == RK_OK) {
        out->addr = out->base = dev ? b->dev : b->host;
        out->size = b->size;
        out->cap = b->cap;
        out->device = dev;
        out->buf = b;
        b->lent++;
    }
    pthread_mutex_unlock(&t->lock);
    return st;
}

void rk_host_buffer_return(rk_runtime_t *rt, void *buf)
{
    struct buffer_table *t = rt->buffers;
    rk_buffer_t *b = buf;

    pthread_mutex_lock(&t->lock);
    if (b->lent && --b->lent == 0 && b->released) { /* pooled even past POOL_MAX: freeing needs the router */
        b->released = 0;
        b->pool_next = t->pool;
        t->pool = b;
        t->pooled++;
    }
    pthread_mutex_unlock(&t->lock);
}

typedef struct copy_out {
    void *dst;
    size_t cap, *len;
    rk_status_t st;
} copy_out_t;

static void copy_bytes(void *arg, const void *bytes, size_t size)
{
    copy_out_t *c = arg;
    *c->len = size;
    if (size > c->cap) c->st = RK_ERR_TOO_LARGE;
    else memcpy(c->dst, bytes, size);
}

rk_status_t rk_buffer_fetch(rk_runtime_t *rt, rk_buffer_id_t id, void *dst, size_t cap, size_t *len,
                            int64_t timeout_us)
{
    int owner;
    size_t dummy;
    if (!rt || (!dst && cap) || id == 0) return RK_ERR_INVALID;
    if (!len) len = &dummy;
    owner = (int)(id >> 40) - 1;
    if (owner < 0 || owner >= rt->size) return RK_ERR_NOT_FOUND;
    if (owner == rt->rank) {
        copy_out_t c = {dst, cap, len, RK_OK};
        rk_status_t st = rk_buffer_read(rt, id, copy_bytes, &c);
        return st != RK_OK ? st : c.st;
    }
    return router_fetch_buffer(rt->router, owner, id, dst, cap, len, timeout_us);
}

const char *rk_buffer_remote_path(rk_runtime_t *rt)
{
    if (!rt || !rt->router) return "local only (no distributed transport)";
    return router_buffer_path(rt->router);
}
