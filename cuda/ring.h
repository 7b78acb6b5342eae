/*
 * ring.h - the host<->device queue protocol, one header of portable C used by
 * both backends: host C (host tests, the host backend) and CUDA device code.
 *
 * A ring is a single-producer single-consumer queue of fixed-size slots laid
 * out in ONE block (header then slots, no pointers), so it can live in mapped
 * pinned host memory or device memory and be addressed from both sides.
 * Invariant: 0 <= head - tail <= capacity. The producer writes a slot, then
 * publishes it with a release store of head; the consumer reads head with
 * acquire, copies the slot, then frees it with a release store of tail.
 * Every shared index access goes through RK_RING_LOAD / RK_RING_STORE: the
 * GCC/Clang __atomic builtins on the host, cuda::atomic_ref with system scope
 * on the device (system-scope release is twice as fast as
 * __threadfence_system on an H100; see ../shared/gpu/README.md).
 * head, tail and stop sit on separate 64-byte lines so the two sides never
 * share a written cache line.
 */
#ifndef RK_CUDA_RING_H
#define RK_CUDA_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define RK_RING_API static inline __host__ __device__
#else
#define RK_RING_API static inline
#endif

#if defined(__CUDA_ARCH__)
#include <cuda/atomic>
#define RK_RING_LOAD(p) \
    (cuda::atomic_ref<uint64_t, cuda::thread_scope_system>(*(p)).load(cuda::memory_order_acquire))
#define RK_RING_STORE(p, v) \
    (cuda::atomic_ref<uint64_t, cuda::thread_scope_system>(*(p)).store((v), cuda::memory_order_release))
#else
#define RK_RING_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define RK_RING_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#endif

#define RK_RING_MAGIC 0x524b5247u /* "RKRG" */
#define RK_RING_SLOT_HDR 8u       /* len u32 + priority u32 before each payload */

typedef struct rk_ring {
    uint32_t magic;
    uint32_t capacity;  /* slots, a power of two */
    uint32_t slot_size; /* bytes per slot including RK_RING_SLOT_HDR, multiple of 8 */
    uint32_t reserved;
    uint8_t pad0[48];
    uint64_t head; /* written by the producer only */
    uint8_t pad1[56];
    uint64_t tail; /* written by the consumer only */
    uint8_t pad2[56];
    uint64_t stop; /* written by the host: nonzero asks the consumer loop to finish */
    uint8_t pad3[56];
} rk_ring_t;

/** Bytes for a ring of @p capacity slots (power of two) of @p slot_size bytes (0 if invalid). */
RK_RING_API size_t rk_ring_bytes(uint32_t capacity, uint32_t slot_size)
{
    if (capacity == 0 || (capacity & (capacity - 1)) || slot_size <= RK_RING_SLOT_HDR || slot_size % 8) return 0;
    return sizeof(rk_ring_t) + (size_t)capacity * slot_size;
}

/** Initialise a ring in @p mem (rk_ring_bytes long, 64-byte aligned). Not concurrent. */
RK_RING_API rk_ring_t *rk_ring_init(void *mem, uint32_t capacity, uint32_t slot_size)
{
    rk_ring_t *r = (rk_ring_t *)mem;
    if (!mem || rk_ring_bytes(capacity, slot_size) == 0) return NULL;
    memset(r, 0, sizeof *r);
    r->capacity = capacity;
    r->slot_size = slot_size;
    r->magic = RK_RING_MAGIC;
    return r;
}

RK_RING_API uint8_t *rk_ring_slot(rk_ring_t *r, uint64_t index)
{
    return (uint8_t *)(r + 1) + (size_t)(index & (r->capacity - 1)) * r->slot_size;
}

/** Write a slot header: payload length and priority. */
RK_RING_API void rk_ring_slot_header(uint8_t *slot, uint32_t len, uint32_t priority)
{
    memcpy(slot, &len, 4);
    memcpy(slot + 4, &priority, 4);
}

/** Largest payload a slot holds. */
RK_RING_API uint32_t rk_ring_payload_max(const rk_ring_t *r) { return r->slot_size - RK_RING_SLOT_HDR; }

/** Slots in use, as seen by either side (a snapshot). */
RK_RING_API uint64_t rk_ring_size(rk_ring_t *r) { return RK_RING_LOAD(&r->head) - RK_RING_LOAD(&r->tail); }

/**
 * Producer: reserve the next slot. Returns its payload area, or NULL when the
 * ring is full. Fill it, then call rk_ring_publish.
 */
RK_RING_API uint8_t *rk_ring_reserve(rk_ring_t *r)
{
    uint64_t head = r->head; /* only the producer writes head */
    if (head - RK_RING_LOAD(&r->tail) >= r->capacity) return NULL;
    return rk_ring_slot(r, head) + RK_RING_SLOT_HDR;
}

/** Producer: publish the reserved slot with @p len payload bytes. */
RK_RING_API void rk_ring_publish(rk_ring_t *r, uint32_t len, uint32_t priority)
{
    rk_ring_slot_header(rk_ring_slot(r, r->head), len, priority);
    RK_RING_STORE(&r->head, r->head + 1);
}

/** Producer: copy @p len bytes in as one entry. 1 on success, 0 when full or too long. */
RK_RING_API int rk_ring_push(rk_ring_t *r, const void *data, uint32_t len, uint32_t priority)
{
    uint8_t *p;
    if (len > rk_ring_payload_max(r)) return 0;
    p = rk_ring_reserve(r);
    if (!p) return 0;
    memcpy(p, data, len);
    rk_ring_publish(r, len, priority);
    return 1;
}

/** Consumer: the oldest entry's payload (NULL when empty); *len gets its length. */
RK_RING_API const uint8_t *rk_ring_front(rk_ring_t *r, uint32_t *len, uint32_t *priority)
{
    uint64_t tail = r->tail; /* only the consumer writes tail */
    const uint8_t *slot;
    if (RK_RING_LOAD(&r->head) == tail) return NULL;
    slot = rk_ring_slot(r, tail);
    memcpy(len, slot, 4);
    if (priority) memcpy(priority, slot + 4, 4);
    return slot + RK_RING_SLOT_HDR;
}

/** Consumer: release the entry returned by rk_ring_front. */
RK_RING_API void rk_ring_pop(rk_ring_t *r) { RK_RING_STORE(&r->tail, r->tail + 1); }

/** Consumer: copy the oldest entry out (at most @p cap bytes). 1 on success, 0 when empty, -1 too small. */
RK_RING_API int rk_ring_take(rk_ring_t *r, void *out, uint32_t cap, uint32_t *len, uint32_t *priority)
{
    const uint8_t *p = rk_ring_front(r, len, priority);
    if (!p) return 0;
    if (*len > cap) return -1;
    memcpy(out, p, *len);
    rk_ring_pop(r);
    return 1;
}

RK_RING_API void rk_ring_request_stop(rk_ring_t *r) { RK_RING_STORE(&r->stop, 1); }
RK_RING_API int rk_ring_stop_requested(rk_ring_t *r) { return RK_RING_LOAD(&r->stop) != 0; }

/** A device or host body: one input payload -> at most one output payload (see ringmesh/device.h). */
typedef uint32_t (*rk_ring_body_fn)(const uint8_t *, uint32_t, uint8_t *, uint32_t, void *);

/*
 * Cursors: one side's view of a ring for a loop that moves many entries. A
 * cursor caches the geometry and its own index and re-reads the other side's
 * index only when the cached value says empty (consumer) or full (producer):
 * on a GPU every read of mapped host memory crosses PCIe, so a loop must not
 * read more than it needs. A ring has one producer and one consumer; while a
 * cursor is in use its side's index is written only through it.
 */
typedef struct rk_ring_cursor {
    uint8_t *slots;
    uint64_t mine;   /* consumer: tail; producer: head */
    uint64_t theirs; /* the other side's index as last read */
    uint32_t mask, slot_size;
} rk_ring_cursor_t;

RK_RING_API void rk_ring_cursor_init(rk_ring_cursor_t *c, rk_ring_t *r, int producer)
{
    c->slots = (uint8_t *)(r + 1);
    c->mask = r->capacity - 1;
    c->slot_size = r->slot_size;
    uint64_t head = RK_RING_LOAD(&r->head), tail = RK_RING_LOAD(&r->tail);
    c->mine = producer ? head : tail;
    c->theirs = producer ? tail : head;
}

/** Consumer: the oldest slot (8-byte header, then the payload), or NULL when empty. */
RK_RING_API const uint8_t *rk_ring_cursor_front(rk_ring_cursor_t *c, rk_ring_t *r)
{
    if (c->theirs == c->mine) {
        c->theirs = RK_RING_LOAD(&r->head);
        if (c->theirs == c->mine) return NULL;
    }
    return c->slots + (size_t)(c->mine & c->mask) * c->slot_size;
}

/** Consumer: release the slot returned by rk_ring_cursor_front. */
RK_RING_API void rk_ring_cursor_pop(rk_ring_cursor_t *c, rk_ring_t *r) { RK_RING_STORE(&r->tail, ++c->mine); }

/** Producer: the next free slot (write the payload after its 8-byte header), or NULL when full. */
RK_RING_API uint8_t *rk_ring_cursor_reserve(rk_ring_cursor_t *c, rk_ring_t *r)
{
    if (c->mine - c->theirs > c->mask) {
        c->theirs = RK_RING_LOAD(&r->tail);
        if (c->mine - c->theirs > c->mask) return NULL;
    }
    return c->slots + (size_t)(c->mine & c->mask) * c->slot_size;
}

/** Producer: publish the reserved slot; its header (length, priority) must already be written. */
RK_RING_API void rk_ring_cursor_publish(rk_ring_cursor_t *c, rk_ring_t *r) { RK_RING_STORE(&r->head, ++c->mine); }

/*
 * The serving side of a ring pair (the persistent kernel, or the host
 * backend's loop): a consumer cursor on `in` and a producer cursor on `out`.
 */
typedef struct rk_ring_server {
    rk_ring_cursor_t in, out;
} rk_ring_server_t;

RK_RING_API void rk_ring_server_init(rk_ring_server_t *s, rk_ring_t *in, rk_ring_t *out)
{
    rk_ring_cursor_init(&s->in, in, 0);
    rk_ring_cursor_init(&s->out, out, 1);
}

/** The next input slot when there is one and room for its output; else NULL. */
RK_RING_API const uint8_t *rk_ring_server_next(rk_ring_server_t *s, rk_ring_t *in, rk_ring_t *out)
{
    const uint8_t *slot = rk_ring_cursor_front(&s->in, in);
    return slot && rk_ring_cursor_reserve(&s->out, out) ? slot : NULL;
}

/** The output slot the current entry's result goes to (valid after rk_ring_server_next). */
RK_RING_API uint8_t *rk_ring_server_out_slot(const rk_ring_server_t *s)
{
    return s->out.slots + (size_t)(s->out.mine & s->out.mask) * s->out.slot_size;
}

/** Publish the output slot when @p produced (its header written), then release the input slot. */
RK_RING_API void rk_ring_server_finish(rk_ring_server_t *s, rk_ring_t *in, rk_ring_t *out, int produced)
{
    if (produced) rk_ring_cursor_publish(&s->out, out);
    rk_ring_cursor_pop(&s->in, in); /* after the output: an empty input means the work is visible */
}

/*
 * Run @p body on the input slot @p slot (from rk_ring_server_next), writing
 * into @p out_slot. The length in the slot header is checked against the
 * slot, the body's result against the output slot, so neither a corrupt entry
 * nor an overrunning body writes out of bounds. Returns the output length (0 =
 * nothing to publish); the output header (length, the input's priority) is written.
 */
RK_RING_API uint32_t rk_ring_run_body(const uint8_t *slot, uint32_t in_slot, uint8_t *out_slot, uint32_t out_slot_size,
                                      rk_ring_body_fn body, void *state)
{
    uint32_t len, prio, n;
    memcpy(&len, slot, 4);
    memcpy(&prio, slot + 4, 4);
    if (len > in_slot - RK_RING_SLOT_HDR) return 0;
    n = body(slot + RK_RING_SLOT_HDR, len, out_slot + RK_RING_SLOT_HDR, out_slot_size - RK_RING_SLOT_HDR, state);
    if (n > out_slot_size - RK_RING_SLOT_HDR) return 0; /* a body that overran its slot produces nothing */
    if (n) rk_ring_slot_header(out_slot, n, prio);
    return n;
}

/** Serve one entry through @p s. 1 when an entry was consumed, 0 when the input is empty or the output full. */
RK_RING_API int rk_ring_server_serve(rk_ring_server_t *s, rk_ring_t *in, rk_ring_t *out, rk_ring_body_fn body,
                                     void *state)
{
    const uint8_t *slot = rk_ring_server_next(s, in, out);
    if (!slot) return 0;
    uint32_t n = rk_ring_run_body(slot, s->in.slot_size, rk_ring_server_out_slot(s), s->out.slot_size, body, state);
    rk_ring_server_finish(s, in, out, n != 0);
    return 1;
}

/*
 * Serve one entry without a cached server (a fresh one per call): run @p body
 * on the oldest input entry and publish its output (if any), keeping the
 * input's priority. Returns 1 when an entry was consumed, 0 when the input is
 * empty or the output ring is full.
 */
RK_RING_API int rk_ring_serve_one(rk_ring_t *in, rk_ring_t *out, rk_ring_body_fn body, void *state)
{
    rk_ring_server_t s;
    rk_ring_server_init(&s, in, out);
    return rk_ring_server_serve(&s, in, out, body, state);
}

#endif /* RK_CUDA_RING_H */
