/*
 * frame.c - encode and parse router frames (see frame.h for the layout).
 * Explicit little-endian byte order, so frames are portable between hosts.
 */
#include "route/frame.h"

#include <string.h>

void frame_write_hdr(uint8_t *out, const frame_t *f)
{
    frame_put32(out, RK_FRAME_MAGIC);
    out[4] = f->kind;
    out[5] = f->priority;
    out[6] = (uint8_t)f->name_len;
    out[7] = (uint8_t)(f->name_len >> 8);
    frame_put32(out + 8, f->seq);
    frame_put32(out + 12, f->src_rank);
    frame_put32(out + 16, f->aux);
    frame_put32(out + 20, f->payload_len);
}

void frame_write(uint8_t *out, const frame_t *f, const void *name, const void *payload)
{
    frame_write_hdr(out, f);
    if (f->name_len) memcpy(out + RK_FRAME_HDR, name, f->name_len);
    if (f->payload_len) memcpy(out + RK_FRAME_HDR + f->name_len, payload, f->payload_len);
}

void frame_set_seq(uint8_t *frame, uint32_t seq) { frame_put32(frame + 8, seq); }

static rk_status_t parse_one(const void *data, size_t len, frame_t *out);

rk_status_t frame_batch_next(const frame_t *batch, size_t *off, frame_t *sub, const uint8_t **raw, size_t *raw_len)
{
    const uint8_t *p;
    size_t left;
    uint64_t span;
    rk_status_t st;

    if (!batch || !off || !sub || batch->kind != FRAME_BATCH || *off > batch->payload_len) return RK_ERR_INVALID;
    left = batch->payload_len - *off;
    if (left == 0) return RK_ERR_NOT_FOUND;
    if (left < RK_FRAME_HDR) return RK_ERR_TRUNCATED;
    p = batch->payload + *off;
    span = frame_span(p);
    if (span > left) return RK_ERR_TRUNCATED;
    st = parse_one(p, (size_t)span, sub);
    if (st != RK_OK) return st;
    if (sub->kind == FRAME_BATCH) return RK_ERR_DECODE; /* batches never nest */
    if (raw) *raw = p;
    if (raw_len) *raw_len = (size_t)span;
    *off += (size_t)span;
    return RK_OK;
}

/* Walk a whole batch: every inner frame well formed and from the batch's rank, exactly aux of them, nothing left over. */
static rk_status_t check_batch(const frame_t *b)
{
    frame_t sub;
    size_t off = 0;
    uint32_t n = 0;
    rk_status_t st;

    if (b->name_len != 0 || b->aux == 0) return RK_ERR_DECODE;
    while ((st = frame_batch_next(b, &off, &sub, NULL, NULL)) == RK_OK)
        if (++n > b->aux || sub.src_rank != b->src_rank) return RK_ERR_DECODE;
    if (st != RK_ERR_NOT_FOUND) return st;
    return n == b->aux ? RK_OK : RK_ERR_DECODE;
}

rk_status_t frame_parse(const void *data, size_t len, frame_t *out)
{
    rk_status_t st = parse_one(data, len, out);
    if (st == RK_OK && out->kind == FRAME_BATCH) st = check_batch(out);
    return st;
}

static rk_status_t parse_one(const void *data, size_t len, frame_t *out)
{
    const uint8_t *p = data;

    if (!data || !out) return RK_ERR_INVALID;
    if (len < RK_FRAME_HDR) return RK_ERR_TRUNCATED;
    if (frame_get32(p) != RK_FRAME_MAGIC) return RK_ERR_DECODE;
    out->kind = p[4];
    out->priority = p[5];
    out->name_len = (uint16_t)(p[6] | p[7] << 8);
    out->seq = frame_get32(p + 8);
    out->src_rank = frame_get32(p + 12);
    out->aux = frame_get32(p + 16);
    out->payload_len = frame_get32(p + 20);
    if (out->kind == 0 || out->kind >= FRAME_KIND_MAX_) return RK_ERR_DECODE;
    if (out->name_len > RK_FRAME_NAME_MAX) return RK_ERR_DECODE;
    if ((uint64_t)RK_FRAME_HDR + out->name_len + out->payload_len != len)
        return (uint64_t)RK_FRAME_HDR + out->name_len + out->payload_len > len ? RK_ERR_TRUNCATED : RK_ERR_DECODE;
    if (!frame_has_payload(out->kind) && out->payload_len) return RK_ERR_DECODE;
    if (frame_is_data(out->kind) && out->name_len == 0) return RK_ERR_DECODE;
    out->name = (const char *)p + RK_FRAME_HDR;
    out->payload = p + RK_FRAME_HDR + out->name_len;
    return RK_OK;
}
