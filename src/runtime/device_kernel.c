/*
 * device_kernel.c - the host side of a device-body kernel (ringmesh/device.h).
 *
 * The kernel's thread pumps: it takes messages from the kernel's mailbox
 * highest priority first, copies each block into the shallow input ring, and
 * turns output-ring entries into outputs (rk_ctx_send). With the CUDA backend
 * a persistent GPU kernel serves the rings; with the host backend this thread
 * serves them itself with the same rk_ring_server_* code. The rings stay a few
 * slots deep, so the mailbox, not the ring, decides the order of work.
 * Output blocks are checked before they reach the runtime: size, a known
 * type descriptor, rk_msg_validate. A bad block is logged and counted.
 */
#include "cuda/backend.h"
#include "cuda/prio.h"
#include "util/log.h"
#include "runtime/runtime_internal.h"
#include "util/timeutil.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SLOTS 4
#define DEFAULT_SLOT_SIZE 4096
#define KNOWN_TYPES 8

typedef struct pump {
    kernel_t *k;
    const rk_device_kernel_t *dk;
    rk_ring_t *in, *out;
    void *mem;               /* host backend: both rings */
    rk_cuda_rings_t cuda;    /* CUDA backend */
    rk_ring_server_t server; /* host backend: this thread serves the rings */
    rk_prio_t *pool;         /* host backend: entries pulled from the input ring, served highest first */
    void *pool_mem;
    int on_gpu;
    int gpu_failed;          /* the GPU kernel stopped; its rings are served here */
    char why[128];           /* why the rings could not be opened */
    const rk_msg_type_t *types[KNOWN_TYPES]; /* descriptors an output may carry */
    uint32_t ntypes;
} pump_t;

static void remember_type(pump_t *p, const rk_msg_type_t *t)
{
    for (uint32_t i = 0; i < p->ntypes; i++)
        if (p->types[i] == t) return;
    if (p->ntypes < KNOWN_TYPES) p->types[p->ntypes++] = t;
}

static int known_type(const pump_t *p, const rk_msg_type_t *t)
{
    for (uint32_t i = 0; i < p->ntypes; i++)
        if (p->types[i] == t) return 1;
    return 0;
}

/* The host backend's priority pool (cuda/prio.h): four times the ring, so a batch is served by priority. */
static rk_status_t pool_open(pump_t *p)
{
    uint32_t cap = p->in->capacity * 4;
    size_t bytes = rk_prio_bytes(cap, p->in->slot_size);
    if (p->pool) return RK_OK;
    p->pool_mem = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
    p->pool = p->pool_mem ? rk_prio_init(p->pool_mem, cap, p->in->slot_size) : NULL;
    return p->pool ? RK_OK : RK_ERR_NOMEM;
}

static rk_status_t rings_open(pump_t *p, uint32_t slots, uint32_t slot_size)
{
    size_t bytes = rk_ring_bytes(slots, slot_size);
    const char *why = NULL;

    if (!bytes) return RK_ERR_INVALID;
    if (p->k->backend == RK_BACKEND_CUDA) {
        int dev = p->dk->launch ? rk_cuda_bind(p->k->rt->params.gpu, p->k->rt->local_rank, &why) : -1;
        if (!p->dk->launch) why = "the device body has no GPU launch function";
        if (dev >= 0 && rk_cuda_rings_create(dev, bytes, &p->cuda) == RK_OK) {
            p->in = rk_ring_init(p->cuda.in_host, slots, slot_size);
            p->out = rk_ring_init(p->cuda.out_host, slots, slot_size);
            if (rk_cuda_start(&p->cuda, p->dk->launch) == RK_OK) {
                p->on_gpu = 1;
                RK_INFO("kernel '%s': persistent kernel on GPU %d", p->k->id, dev);
                return RK_OK;
            }
            rk_cuda_rings_destroy(&p->cuda);
        }
        if (p->k->params.backend == RK_BACKEND_CUDA) { /* asked for a GPU: no silent fallback */
            snprintf(p->why, sizeof p->why, "GPU start failed (%s)", why ? why : "launch failed");
            return RK_ERR_UNSUPPORTED;
        }
        RK_WARN("kernel '%s': GPU start failed (%s); backend AUTO: serving on the host", p->k->id,
                why ? why : "launch failed");
        __atomic_store_n(&p->k->backend, RK_BACKEND_HOST, __ATOMIC_RELEASE);
    }
    p->mem = aligned_alloc(64, (2 * bytes + 63) / 64 * 64);
    if (!p->mem) return RK_ERR_NOMEM;
    p->in = rk_ring_init(p->mem, slots, slot_size);
    p->out = rk_ring_init((char *)p->mem + bytes, slots, slot_size);
    if (!p->in || !p->out) { /* cannot happen: bytes was checked */
        free(p->mem);
        return RK_ERR_INVALID;
    }
    rk_ring_server_init(&p->server, p->in, p->out);
    return pool_open(p);
}

static void rings_close(pump_t *p)
{
    rk_ring_request_stop(p->in);
    if (p->on_gpu || p->gpu_failed) {
        rk_cuda_wait(&p->cuda);
        rk_cuda_rings_destroy(&p->cuda);
    }
    free(p->mem);
    free(p->pool_mem);
}

/* Move mailbox messages into the input ring while it has room. */
static int feed(pump_t *p, rk_ctx_t *ctx, int64_t wait_us)
{
    int n = 0;
    rk_msg_t *m;
    while (rk_ring_size(p->in) < p->in->capacity && rk_ctx_receive(ctx, n ? 0 : wait_us, &m) == RK_OK) {
        if (m->size > rk_ring_payload_max(p->in)) {
            RK_ERROR("kernel '%s': a %u-byte message exceeds the %u-byte device slot; dropped", p->k->id, m->size,
                     rk_ring_payload_max(p->in));
        } else {
            remember_type(p, m->type);
            rk_ring_push(p->in, m, m->size, m->priority);
            n++;
        }
        rk_msg_free(m);
    }
    return n;
}

/* Send or emit one output: to forward_to (waiting while it is full), else as the kernel's output. */
static void deliver(pump_t *p, rk_ctx_t *ctx, rk_msg_t *o)
{
    const char *to = p->k->params.forward_to;
    rk_status_t st;
    if (!to) {
        rk_ctx_send(ctx, o);
        return;
    }
    while ((st = rk_ctx_send_to(ctx, to, o)) == RK_ERR_TIMEOUT && !rk_ctx_should_terminate(ctx)) {
    }
    if (st != RK_OK) RK_ERROR("kernel '%s': forwarding an output to '%s' failed: %s", p->k->id, to, rk_status_str(st));
}

/*
 * Turn one output-ring entry into a message block and deliver it. A body
 * running on a GPU cannot know the host address of a type descriptor: when
 * it leaves `type` NULL, the kernel's out_type is filled in.
 */
static void emit_output(pump_t *p, rk_ctx_t *ctx, const uint8_t *bytes, uint32_t len)
{
    rk_msg_t *o, hdr;

    if (len < sizeof hdr) goto bad;
    memcpy(&hdr, bytes, sizeof hdr);
    if (!hdr.type) hdr.type = p->dk->out_type;
    if (hdr.magic != RK_MSG_MAGIC || !hdr.type || !known_type(p, hdr.type)) goto bad;
    if (rk_msg_create(hdr.type, len, &o) != RK_OK) return;
    uint32_t cap = o->capacity;
    uint8_t cls = o->pool_class;
    rk_uuid_t fresh = o->message_id;
    memcpy(o, bytes, len);
    o->type = hdr.type;
    o->size = len;
    o->capacity = cap;
    o->pool_class = cls;
    o->correlation_id = hdr.message_id;
    o->message_id = fresh;
    o->src_rank = -1;
    if (rk_msg_validate(o) == RK_OK) {
        deliver(p, ctx, o);
    } else {
        RK_ERROR("kernel '%s': the device body produced a malformed block; dropped", p->k->id);
    }
    rk_msg_free(o);
    return;
bad:
    RK_ERROR("kernel '%s': the device body produced an unreadable block (%u bytes); dropped", p->k->id, len);
}

/*
 * The persistent kernel stopped (a fault, or the GPU context died): say so
 * once and serve the same rings on this thread from here on. The rings are
 * host memory, so nothing queued is lost; an entry the kernel had answered
 * but not yet released is answered a second time.
 */
static void gpu_watch(pump_t *p)
{
    const char *why = NULL;
    if (rk_cuda_check(&p->cuda, &why) == RK_OK) return;
    RK_ERROR("kernel '%s': the GPU kernel stopped (%s); serving on the host from now on", p->k->id,
             why ? why : "unknown");
    p->on_gpu = 0;
    p->gpu_failed = 1;
    __atomic_store_n(&p->k->backend, RK_BACKEND_HOST, __ATOMIC_RELEASE); /* what rk_kernel_backend says now */
    rk_ring_server_init(&p->server, p->in, p->out);
    if (pool_open(p) != RK_OK) RK_ERROR("kernel '%s': no memory for the priority pool", p->k->id);
}

static int drain(pump_t *p, rk_ctx_t *ctx)
{
    uint32_t len;
    const uint8_t *b;
    int n = 0;
    while ((b = rk_ring_front(p->out, &len, NULL)) != NULL) {
        emit_output(p, ctx, b, len);
        rk_ring_pop(p->out);
        n++;
    }
    return n;
}

void rk_device_pump(rk_ctx_t *ctx, void *arg)
{
    pump_t p;
    uint32_t slots, slot_size;

    memset(&p, 0, sizeof p);
    p.k = ctx->k;
    p.dk = p.k->params.device;
    slots = p.dk->ring_slots ? p.dk->ring_slots : DEFAULT_SLOTS;
    slot_size = p.dk->slot_size ? p.dk->slot_size : DEFAULT_SLOT_SIZE;
    if (p.dk->out_type) remember_type(&p, p.dk->out_type);
    rk_status_t st = rings_open(&p, slots, slot_size);
    if (st != RK_OK) {
        if (!p.why[0])
            snprintf(p.why, sizeof p.why, "cannot create device rings (slots %u, slot size %u): %s", slots, slot_size,
                     rk_status_str(st));
        RK_ERROR("kernel '%s': %s", p.k->id, p.why);
        rk_ctx_fail(ctx, p.why); /* FAILED with the reason, callers told */
        return;
    }
    for (int idle = 0;;) {
        uint32_t pooled = p.pool ? p.pool->count : 0; /* pulled from the input ring, not yet served */
        int busy = rk_ring_size(p.in) != 0 || rk_ring_size(p.out) != 0 || pooled; /* never sleep with work queued */
        int n = feed(&p, ctx, busy ? 0 : 2000);
        if (!p.on_gpu)
            while (p.pool ? rk_prio_serve(p.pool, &p.server, p.in, p.out, p.dk->host_body, p.dk->host_state)
                          : rk_ring_server_serve(&p.server, p.in, p.out, p.dk->host_body, p.dk->host_state))
                n++;
        n += drain(&p, ctx);
        pooled = p.pool ? p.pool->count : 0;
        __atomic_store_n(&p.k->device_inflight, (uint32_t)(rk_ring_size(p.in) + rk_ring_size(p.out)) + pooled,
                         __ATOMIC_RELEASE);
        if (n) {
            idle = 0;
            continue;
        }
        if (rk_ctx_should_terminate(ctx) && rk_ring_size(p.in) == 0 && rk_ring_size(p.out) == 0 && !pooled) break;
        if (++idle > 64) sched_yield();
        if (p.on_gpu && idle % 4096 == 0) gpu_watch(&p);
    }
    rings_close(&p);
}
