/*
 * fuzz_device.c - libFuzzer target for the device-body path: the ring server
 * (cuda/ring.h) and the device bodies on arbitrary slot contents.
 *
 * Input: byte 0 picks the body (even: rk_body_scale_sum, the example; odd:
 * pipeline_filter_body, ringmesh-pipeline's filter), byte 1 the output slot
 * size (64 .. 8192 bytes), the rest is one input slot as a producer wrote
 * it: the 8-byte header (length, priority) then the payload, which the
 * fuzzer controls entirely, length field included. Both rings are malloc'd
 * at their exact size, so ASan catches any read or write past a slot. The
 * server must consume the entry; an output must fit its slot and state its
 * length. Built and run by fuzz/run_device.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../apps/pipeline/filter_body.h"
#include "../cuda/bodies.h"
#include "../cuda/ring.h"

#define IN_SLOT 8192u

static uint32_t scale(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *s)
{
    return rk_body_scale_sum(in, len, out, cap, s);
}

static uint32_t filter(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *s)
{
    return pipeline_filter_body(in, len, out, cap, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint32_t out_slot = 64u + 8u * ((uint32_t)data[1] * 4u); /* 64 .. 8224, a multiple of 8 */
    rk_ring_body_fn body = (data[0] & 1) ? filter : scale;
    size_t in_bytes = rk_ring_bytes(1, IN_SLOT), out_bytes = rk_ring_bytes(1, out_slot);
    uint8_t *in_mem = aligned_alloc(64, (in_bytes + 63) / 64 * 64);
    uint8_t *out_mem = aligned_alloc(64, (out_bytes + 63) / 64 * 64);
    rk_ring_t *in = rk_ring_init(in_mem, 1, IN_SLOT), *out = rk_ring_init(out_mem, 1, out_slot);
    rk_ring_server_t s;
    size_t n = size - 2 < IN_SLOT ? size - 2 : IN_SLOT;

    if (!in || !out) abort();
    memcpy(rk_ring_slot(in, 0), data + 2, n); /* header and payload exactly as given */
    in->head = 1;
    rk_ring_server_init(&s, in, out);
    if (rk_ring_server_serve(&s, in, out, body, NULL) != 1) abort(); /* an entry and room: it must be consumed */
    uint32_t len = 0, prio = 0;
    if (rk_ring_front(out, &len, &prio)) {
        if (len == 0 || len > rk_ring_payload_max(out)) abort();
        rk_ring_pop(out);
    }
    if (rk_ring_size(in) != 0) abort();
    free(in_mem);
    free(out_mem);
    return 0;
}

#ifdef FUZZ_GEN_SEEDS
/* fuzz/run_device.sh --seeds: well-formed entries for both bodies into fuzz/corpus/device. */
#include <stdio.h>

static void put(const char *dir, const char *name, uint8_t which, const void *block, uint32_t len)
{
    char path[512];
    uint8_t buf[2 + 8 + IN_SLOT];
    uint32_t prio = 128;
    FILE *f;
    buf[0] = which;
    buf[1] = 200; /* a large output slot */
    memcpy(buf + 2, &len, 4);
    memcpy(buf + 6, &prio, 4);
    memcpy(buf + 10, block, len);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, 10 + len, f) != 10 + len) abort();
    fclose(f);
}

int main(int argc, char **argv)
{
    static uint64_t block[IN_SLOT / 8];
    const char *dir = argc > 1 ? argv[1] : ".";
    RkVector *v = (RkVector *)block;
    StatBatch *b = (StatBatch *)block;
    uint32_t n = 40;

    memset(block, 0, sizeof block);
    v->hdr.magic = RK_MSG_MAGIC;
    v->values.off = (sizeof(RkVector) + 7) / 8 * 8;
    v->values.len = 8;
    v->scale = 2;
    for (uint32_t i = 0; i < 8; i++) ((double *)((uint8_t *)block + v->values.off))[i] = i;
    put(dir, "vector", 0, block, v->values.off + 64);

    memset(block, 0, sizeof block);
    b->hdr.magic = RK_MSG_MAGIC;
    b->seq = 3;
    b->start = 100;
    b->window = 8;
    b->threshold = 1.5;
    uint32_t off = (sizeof(StatBatch) + 7) / 8 * 8;
    double *x = (double *)((uint8_t *)block + off), *m = x + n, *sd = m + n;
    for (uint32_t i = 0; i < n; i++) {
        x[i] = (i % 9 == 0) ? 50.0 : 1.0 + 0.1 * i;
        m[i] = 1.0;
        sd[i] = 0.5;
    }
    b->values.off = off;
    b->means.off = off + 8 * n;
    b->stds.off = off + 16 * n;
    b->values.len = b->means.len = b->stds.len = n;
    put(dir, "statbatch", 1, block, off + 24 * n);
    b->last = true;
    b->values.len = b->means.len = b->stds.len = 0;
    b->values.off = b->means.off = b->stds.off = 0;
    put(dir, "statbatch-last", 1, block, off);
    return 0;
}
#endif
