/*
 * msg/mpread.h - the msgpack reader of the decoder (msg/decode.c): one value
 * header at a time, every length checked against the end of the input before
 * a byte is touched. Static functions, included by decode.c only: the decoder's
 * innermost loop stays in its translation unit, as before the split.
 */
#ifndef RK_MSG_MPREAD_H
#define RK_MSG_MPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ringmesh/status.h"

/* ======================================================================
 * Reading msgpack: one value header at a time, bounds-checked
 * ====================================================================== */

typedef enum mp_kind {
    MP_NIL,
    MP_BOOL,
    MP_UINT, /* a non-negative integer (any int encoding) */
    MP_NINT, /* a negative integer */
    MP_FLOAT,
    MP_STR,
    MP_BIN,
    MP_EXT,
    MP_ARRAY,
    MP_MAP
} mp_kind_t;

/* One value header. STR/BIN/EXT include their payload; ARRAY/MAP only the count. */
typedef struct mp_val {
    mp_kind_t kind;
    uint32_t len;        /* STR/BIN/EXT: bytes, ARRAY: elements, MAP: pairs */
    const uint8_t *data; /* STR/BIN/EXT payload, inside the input */
    union {
        uint64_t u;
        int64_t i;
        double f;
        bool b;
    } v;
} mp_val_t;

typedef struct reader {
    const uint8_t *p, *end;
} reader_t;

static size_t rd_left(const reader_t *r) { return (size_t)(r->end - r->p); }

static uint64_t load_be(const uint8_t *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++) x = x << 8 | p[i]; /* compilers fuse this into a bswap */
    return x;
}

/* Read an @p n-byte big-endian unsigned integer. */
static rk_status_t rd_be(reader_t *r, int n, uint64_t *out)
{
    if (rd_left(r) < (size_t)n) return RK_ERR_TRUNCATED;
    *out = load_be(r->p, n);
    r->p += n;
    return RK_OK;
}

static rk_status_t rd_payload(reader_t *r, mp_val_t *o, mp_kind_t kind, uint64_t len)
{
    if (len > rd_left(r)) return RK_ERR_TRUNCATED;
    o->kind = kind;
    o->len = (uint32_t)len;
    o->data = r->p;
    r->p += len;
    return RK_OK;
}

/* str/bin/ext/array/map with a 1, 2 or 4 byte length. */
static rk_status_t rd_sized(reader_t *r, mp_val_t *o, mp_kind_t kind, int lenbytes)
{
    uint64_t n, ext_type;
    rk_status_t st = rd_be(r, lenbytes, &n);
    if (st != RK_OK) return st;
    if (kind == MP_ARRAY || kind == MP_MAP) {
        o->kind = kind;
        o->len = (uint32_t)n;
        return RK_OK;
    }
    if (kind == MP_EXT && (st = rd_be(r, 1, &ext_type)) != RK_OK) return st;
    return rd_payload(r, o, kind, n);
}

static rk_status_t rd_number(reader_t *r, mp_val_t *o, uint8_t c)
{
    static const int width[] = {1, 2, 4, 8};
    uint64_t x;
    rk_status_t st;

    if (c == 0xca || c == 0xcb) {
        if ((st = rd_be(r, c == 0xca ? 4 : 8, &x)) != RK_OK) return st;
        o->kind = MP_FLOAT;
        if (c == 0xca) {
            uint32_t x32 = (uint32_t)x;
            float f;
            memcpy(&f, &x32, 4);
            o->v.f = f;
        } else {
            memcpy(&o->v.f, &x, 8);
        }
        return RK_OK;
    }
    int idx = c >= 0xd0 ? c - 0xd0 : c - 0xcc, n = width[idx];
    if ((st = rd_be(r, n, &x)) != RK_OK) return st;
    if (c >= 0xd0 && n < 8 && (x >> (8 * n - 1))) x |= ~UINT64_C(0) << (8 * n); /* sign-extend */
    o->kind = c >= 0xd0 && (int64_t)x < 0 ? MP_NINT : MP_UINT;
    o->v.u = x;
    return RK_OK;
}

/* The value whose first byte @p c (already consumed) is not a one-byte form rd_val reads in line. */
static rk_status_t rd_val_rest(reader_t *r, mp_val_t *o, uint8_t c)
{
    if (c >= 0xe0) {
        o->kind = MP_NINT;
        o->v.i = (int8_t)c;
        return RK_OK;
    }
    if (c >= 0x90 && c <= 0x9f) {
        o->kind = MP_ARRAY;
        o->len = c & 0x0f;
        return RK_OK;
    }
    switch (c) {
    case 0xc2:
    case 0xc3: o->kind = MP_BOOL; o->v.b = c == 0xc3; return RK_OK;
    case 0xc4: case 0xc5: case 0xc6: return rd_sized(r, o, MP_BIN, 1 << (c - 0xc4));
    case 0xc7: case 0xc8: case 0xc9: return rd_sized(r, o, MP_EXT, 1 << (c - 0xc7));
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        if (!rd_left(r)) return RK_ERR_TRUNCATED;
        r->p++; /* fixext: a type byte, then 1 << (c - 0xd4) bytes */
        return rd_payload(r, o, MP_EXT, 1u << (c - 0xd4));
    case 0xd9: case 0xda: case 0xdb: return rd_sized(r, o, MP_STR, 1 << (c - 0xd9));
    case 0xdc: case 0xdd: return rd_sized(r, o, MP_ARRAY, c == 0xdc ? 2 : 4);
    case 0xde: case 0xdf: return rd_sized(r, o, MP_MAP, c == 0xde ? 2 : 4);
    case 0xc1: return RK_ERR_DECODE; /* never used */
    default: return rd_number(r, o, c);
    }
}

/* One value header (the common one-byte forms in line: fixint, fixmap, fixstr, nil). */
static inline rk_status_t rd_val(reader_t *r, mp_val_t *o)
{
    uint8_t c;
    if (r->p >= r->end) return RK_ERR_TRUNCATED;
    c = *r->p++;
    if (c <= 0x7f) {
        o->kind = MP_UINT;
        o->v.u = c;
        return RK_OK;
    }
    if (c <= 0x8f) {
        o->kind = MP_MAP;
        o->len = c & 0x0f;
        return RK_OK;
    }
    if (c >= 0xa0 && c <= 0xbf) return rd_payload(r, o, MP_STR, c & 0x1f);
    if (c == 0xc0) {
        o->kind = MP_NIL;
        return RK_OK;
    }
    return rd_val_rest(r, o, c);
}

/* Skip what follows a container header already read (iteratively: no recursion). */
static rk_status_t rd_skip_rest(reader_t *r, const mp_val_t *head)
{
    uint64_t pending = head->kind == MP_ARRAY ? head->len : head->kind == MP_MAP ? 2 * (uint64_t)head->len : 0;
    mp_val_t v;
    while (pending) {
        if (pending > rd_left(r)) return RK_ERR_TRUNCATED; /* every value takes a byte */
        rk_status_t st = rd_val(r, &v);
        if (st != RK_OK) return st;
        pending--;
        if (v.kind == MP_ARRAY) pending += v.len;
        else if (v.kind == MP_MAP) pending += 2 * (uint64_t)v.len;
    }
    return RK_OK;
}

static rk_status_t rd_skip(reader_t *r)
{
    mp_val_t v;
    rk_status_t st = rd_val(r, &v);
    return st != RK_OK ? st : rd_skip_rest(r, &v);
}

/* Does the key equal the string literal @p lit? (Constant-size memcmp: inlined.) */
#define KEY_IS(k, lit) ((k)->len == sizeof(lit) - 1 && memcmp((k)->data, lit, sizeof(lit) - 1) == 0)

#endif
