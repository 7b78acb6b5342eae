/*
 * msg/compact.c - the compact form of a message between ringmesh ranks: the
 * message block itself. A block is relocatable (its variable-length data is
 * addressed by offsets from the block's start), so a rank whose type has the
 * same layout (rk_type_block_hash: name, fields, kinds, offsets, struct size,
 * byte order) can take the bytes as they are: no keys, no per-field work.
 *
 *   0 0xC1 (a byte msgpack never uses) | 1 version 1 | 2 reserved u16 0
 *   4 layout hash u32 LE | 8 the block (its header's size field = its length)
 *
 * The receiver copies the block into a block of its own, replaces the header's
 * local fields (magic, capacity, pool class, type, source rank) and validates
 * it like any block: every view inside it, strings NUL-terminated, bools 0 or
 * 1. Types with nested messages travel in the reference form (a nested block's
 * header names its type by address).
 */
#include "msg/msg_internal.h"
#include "msg/schema.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define COMPACT_MARK 0xC1
#define COMPACT_VERSION 1

static uint32_t fnv(uint32_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

uint32_t rk_type_block_hash(const rk_msg_type_t *t)
{
    uint8_t layout[RK_SCHEMA_MAX];
    const uint32_t order = 0x01020304u, hdr = (uint32_t)sizeof(rk_msg_t);
    uint32_t h = 2166136261u;

    if (!t || t->struct_size < sizeof(rk_msg_t)) return 0;
    for (uint32_t i = 0; i < t->nfields; i++)
        if (t->fields[i].kind == RK_KIND_MSG || t->fields[i].kind == RK_KIND_LIST_MSG) return 0;
    h = fnv(h, t->name, strlen(t->name) + 1);
    h = fnv(h, layout, schema_encode(t, layout));
    h = fnv(h, &t->struct_size, sizeof t->struct_size);
    h = fnv(h, &order, sizeof order);
    h = fnv(h, &hdr, sizeof hdr);
    for (uint32_t i = 0; i < t->nfields; i++) h = fnv(h, &t->fields[i].offset, sizeof t->fields[i].offset);
    return h ? h : 1; /* 0 means "no compact form" */
}

rk_status_t rk_msg_encode_block_after(const rk_msg_t *msg, uint32_t hash, rk_buf_t *out, size_t reserve)
{
    size_t need = reserve + RK_COMPACT_HDR + msg->size;
    uint8_t *p;

    if (need > out->cap) {
        uint8_t *nd = realloc(out->data, need);
        if (!nd) return RK_ERR_NOMEM;
        out->data = nd;
        out->cap = need;
    }
    p = out->data + reserve;
    p[0] = COMPACT_MARK;
    p[1] = COMPACT_VERSION;
    p[2] = p[3] = 0;
    memcpy(p + 4, &hash, 4); /* little-endian hosts only: the hash covers the byte order */
    memcpy(p + RK_COMPACT_HDR, msg, msg->size);
    /* the header's local fields mean nothing elsewhere: zero them on the wire */
    uint8_t *w = p + RK_COMPACT_HDR; /* not aligned (after the frame header and name): bytes only */
    const int32_t no_rank = -1;
    memset(w + offsetof(rk_msg_t, type), 0, sizeof msg->type);
    memset(w + offsetof(rk_msg_t, capacity), 0, sizeof msg->capacity);
    memset(w + offsetof(rk_msg_t, pool_class), 0, sizeof msg->pool_class);
    memcpy(w + offsetof(rk_msg_t, src_rank), &no_rank, sizeof no_rank);
    out->len = need;
    return RK_OK;
}

int rk_payload_is_block(const void *data, size_t len, uint32_t *hash)
{
    const uint8_t *p = data;
    if (len < RK_COMPACT_HDR || p[0] != COMPACT_MARK) return 0;
    memcpy(hash, p + 4, 4);
    return 1;
}

rk_status_t rk_msg_decode_block(const rk_msg_type_t *t, const void *data, size_t len, size_t max_len,
                                rk_msg_t **out)
{
    const uint8_t *p = data;
    rk_msg_t head, *m;
    size_t n;
    rk_status_t st;

    *out = NULL;
    if (len < RK_COMPACT_HDR + sizeof(rk_msg_t) || p[0] != COMPACT_MARK) return RK_ERR_DECODE;
    if (p[1] != COMPACT_VERSION || p[2] || p[3]) return RK_ERR_DECODE;
    n = len - RK_COMPACT_HDR;
    if (n > max_len) return RK_ERR_TOO_LARGE;
    memcpy(&head, p + RK_COMPACT_HDR, sizeof head);
    if (head.magic != RK_MSG_MAGIC || head.size != n || n < t->struct_size || n > UINT32_MAX / 2)
        return RK_ERR_DECODE;
    st = rk_msg_alloc(t, n > RK_ALIGN8(t->struct_size) ? n - RK_ALIGN8(t->struct_size) : 0, &m);
    if (st != RK_OK) return st;
    uint32_t cap = m->capacity;
    uint8_t cls = m->pool_class;
    memcpy(m, p + RK_COMPACT_HDR, n);
    m->magic = RK_MSG_MAGIC;
    m->capacity = cap;
    m->pool_class = cls;
    m->type = t;
    m->src_rank = -1;
    m->flags = 0;
    m->reserved_ = 0;
    m->reserved2_ = 0;
    if (rk_msg_validate_block(m, n, t, 0) != RK_OK) {
        rk_msg_free(m);
        return RK_ERR_DECODE;
    }
    *out = m;
    return RK_OK;
}
