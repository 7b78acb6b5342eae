/*
 * msg/codec.c - the msgpack wire form of messages (pydotcompute-compatible):
 * buffers and the encoder; the decoder is msg/decode.c, dates msg/datetime.c.
 *
 * Encoding walks a validated block and writes msgpack straight into the
 * caller's reusable rk_buf_t. Decoding is one streaming pass over the
 * bytes that writes each field directly into a new block: no msgpack object
 * tree, no allocation but the block itself. Key invariants: the reader checks
 * every length against the end of the input before touching a byte, and the
 * decoder addresses the block only by offset, re-deriving pointers after each
 * append, because appending may move the block.
 */
#include "msg/msg_internal.h"
#include "msg/wire.h"
#include "ringmesh/codec.h"

#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Buffers
 * ====================================================================== */

void rk_buf_init(rk_buf_t *b)
{
    if (!b) return;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void rk_buf_free(rk_buf_t *b)
{
    if (!b) return;
    free(b->data);
    rk_buf_init(b);
}

static int buf_grow(rk_buf_t *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    uint8_t *p;

    if (extra > SIZE_MAX / 4 - b->len) return -1;
    while (cap < b->len + extra) cap *= 2;
    p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* ======================================================================
 * Encoding
 *
 * Every piece is written straight into the rk_buf_t: w_room makes room for
 * the most a piece can take (one capacity check), the encoder writes the
 * bytes in place and w_done moves the length. Fixed byte runs (a key, the
 * UUID map, the header tail) are copied as runs. The encodings are the
 * smallest ones, as msgpack-c and Python choose them (float64 for floats,
 * str8 for 32..255-byte strings, bin for bytes).
 * ====================================================================== */


/* Room for @p n more bytes of @p b: where to write them, or NULL without memory. */
static inline uint8_t *w_room(rk_buf_t *b, size_t n)
{
    if (n > b->cap - b->len && buf_grow(b, n)) return NULL;
    return b->data + b->len;
}

/* The bytes up to @p p are written. */
static inline int w_done(rk_buf_t *b, uint8_t *p)
{
    b->len = (size_t)(p - b->data);
    return 0;
}

static int w_byte(rk_buf_t *b, uint8_t c)
{
    uint8_t *p = w_room(b, 1);
    if (!p) return -1;
    *p++ = c;
    return w_done(b, p);
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
    return p + n;
}

/* The header codes of a sized family: fix form (0 = none) below fixmax, then 8, 16, 32-bit lengths. */
typedef struct head_fmt {
    uint8_t fix, fixmax, c8, c16, c32;
} head_fmt_t;

static const head_fmt_t F_STR = {0xa0, 32, 0xd9, 0xda, 0xdb}, F_BIN = {0, 0, 0xc4, 0xc5, 0xc6},
                        F_ARRAY = {0x90, 16, 0, 0xdc, 0xdd}, F_MAP = {0x80, 16, 0, 0xde, 0xdf};

/* A str / bin / array / map header for @p len (< 2^32): at most 5 bytes. */
static uint8_t *enc_head(uint8_t *p, const head_fmt_t *f, size_t len)
{
    if (len < f->fixmax) {
        *p++ = (uint8_t)(f->fix | len);
        return p;
    }
    if (f->c8 && len < 256) {
        *p++ = f->c8;
        return put_be(p, len, 1);
    }
    if (len < 65536) {
        *p++ = f->c16;
        return put_be(p, len, 2);
    }
    *p++ = f->c32;
    return put_be(p, len, 4);
}

static int pack_head(rk_buf_t *b, const head_fmt_t *f, size_t len)
{
    uint8_t *p = w_room(b, 5);
    return p ? w_done(b, enc_head(p, f, len)) : -1;
}

/* The smallest unsigned encoding, as msgpack_pack_uint64 and Python choose it (at most 9 bytes). */
static inline uint8_t *enc_u64(uint8_t *p, uint64_t u)
{
    if (u < 128) return *p++ = (uint8_t)u, p;
    if (u < 256) return *p++ = 0xcc, put_be(p, u, 1);
    if (u < 65536) return *p++ = 0xcd, put_be(p, u, 2);
    if (u < (UINT64_C(1) << 32)) return *p++ = 0xce, put_be(p, u, 4);
    return *p++ = 0xcf, put_be(p, u, 8);
}

/* The smallest integer encoding, as msgpack_pack_int64 and Python choose it (at most 9 bytes). */
static uint8_t *enc_i64(uint8_t *p, int64_t v)
{
    if (v >= 0) return enc_u64(p, (uint64_t)v);
    if (v >= -32) return *p++ = (uint8_t)(int8_t)v, p;
    if (v >= -128) return *p++ = 0xd0, put_be(p, (uint64_t)v, 1);
    if (v >= -32768) return *p++ = 0xd1, put_be(p, (uint64_t)v, 2);
    if (v >= INT32_MIN) return *p++ = 0xd2, put_be(p, (uint64_t)v, 4);
    return *p++ = 0xd3, put_be(p, (uint64_t)v, 8);
}

static uint8_t *enc_f64(uint8_t *p, double f)
{
    uint64_t x;
    memcpy(&x, &f, 8);
    *p++ = 0xcb;
    return put_be(p, x, 8);
}

static int pack_i64(rk_buf_t *b, int64_t v)
{
    uint8_t *p = w_room(b, 9);
    return p ? w_done(b, enc_i64(p, v)) : -1;
}

static int pack_u64(rk_buf_t *b, uint64_t v)
{
    uint8_t *p = w_room(b, 9);
    return p ? w_done(b, enc_u64(p, v)) : -1;
}

static int pack_f64(rk_buf_t *b, double f)
{
    uint8_t *p = w_room(b, 9);
    return p ? w_done(b, enc_f64(p, f)) : -1;
}

static int pack_bool(rk_buf_t *b, int v) { return w_byte(b, v ? 0xc3 : 0xc2); }

/* A str or bin of @p len bytes at @p s. */
static int pack_raw(rk_buf_t *b, const head_fmt_t *f, const void *s, size_t len)
{
    uint8_t *p = len <= UINT32_MAX ? w_room(b, len + 5) : NULL;
    if (!p) return -1;
    p = enc_head(p, f, len);
    if (len) memcpy(p, s, len);
    return w_done(b, p + len);
}

static uint8_t *enc_uuid(uint8_t *p, const rk_uuid_t *u)
{
    memcpy(p, UUID_MAP_HEAD, 16);
    memcpy(p + 16, u->bytes, 16);
    return p + 32;
}

static int pack_uuid(rk_buf_t *b, const rk_uuid_t *u)
{
    uint8_t *p = w_room(b, 32);
    return p ? w_done(b, enc_uuid(p, u)) : -1;
}

/* A DATETIME as its isoformat string. */
static int pack_datetime(rk_buf_t *b, int64_t us)
{
    char iso[40];
    rk_datetime_format(us, iso);
    return pack_raw(b, &F_STR, iso, strlen(iso));
}

/* A STR or BYTES view of @p blk (nil when off == 0). */
static int pack_view(rk_buf_t *b, const void *blk, const char *p, int is_str)
{
    rk_view_t v;
    memcpy(&v, p, sizeof v);
    if (!v.off) return w_byte(b, 0xc0);
    return pack_raw(b, is_str ? &F_STR : &F_BIN, (const char *)blk + v.off, v.len);
}

/* One value of @p kind stored at @p p (a field or a list / dict element). */
static int pack_elem(rk_buf_t *b, const void *blk, rk_kind_t kind, const char *p)
{
    int64_t i;
    uint64_t n;
    double f;
    rk_uuid_t u;

    switch (kind) {
    case RK_KIND_INT: memcpy(&i, p, 8); return pack_i64(b, i);
    case RK_KIND_UINT: memcpy(&n, p, 8); return pack_u64(b, n);
    case RK_KIND_FLOAT: memcpy(&f, p, 8); return pack_f64(b, f);
    case RK_KIND_BOOL: return pack_bool(b, *(const unsigned char *)p);
    case RK_KIND_STR: return pack_view(b, blk, p, 1);
    case RK_KIND_BYTES: return pack_view(b, blk, p, 0);
    case RK_KIND_UUID: memcpy(&u, p, sizeof u); return pack_uuid(b, &u);
    case RK_KIND_DATETIME: memcpy(&i, p, 8); return pack_datetime(b, i);
    default: return -1;
    }
}

/* A nil-able field: present, exactly as a field of its base kind; None: nil. */
static int pack_opt(rk_buf_t *b, rk_kind_t kind, const char *p)
{
    rk_kind_t base;
    size_t has_off, size;
    if (!rk_opt_layout(kind, &base, &has_off, &size)) return -1;
    return p[has_off] ? pack_elem(b, NULL, base, p) : w_byte(b, 0xc0);
}

/* INT / UINT / FLOAT / BOOL list elements, encoded straight into the buffer (one loop per kind). */
static int pack_numbers(rk_buf_t *b, rk_kind_t kind, const char *src, uint32_t n)
{
    uint8_t *p = w_room(b, (size_t)n * 9);
    uint64_t x;
    double f;

    if (!p) return -1;
    switch (kind) {
    case RK_KIND_BOOL:
        for (uint32_t i = 0; i < n; i++, src += sizeof(bool)) *p++ = *(const unsigned char *)src ? 0xc3 : 0xc2;
        break;
    case RK_KIND_FLOAT:
        for (uint32_t i = 0; i < n; i++, src += 8) {
            memcpy(&f, src, 8);
            p = enc_f64(p, f);
        }
        break;
    case RK_KIND_UINT:
        for (uint32_t i = 0; i < n; i++, src += 8) {
            memcpy(&x, src, 8);
            p = enc_u64(p, x);
        }
        break;
    default:
        for (uint32_t i = 0; i < n; i++, src += 8) {
            memcpy(&x, src, 8);
            p = enc_i64(p, (int64_t)x);
        }
        break;
    }
    return w_done(b, p);
}

static int pack_list(rk_buf_t *b, const rk_msg_t *m, const rk_field_t *f, rk_view_t v)
{
    size_t esz = rk_elem_size(f->elem);
    const char *base = (const char *)m + v.off;

    if (pack_head(b, &F_ARRAY, v.len)) return -1;
    if (f->elem == RK_KIND_INT || f->elem == RK_KIND_UINT || f->elem == RK_KIND_FLOAT || f->elem == RK_KIND_BOOL)
        return pack_numbers(b, f->elem, base, v.len);
    for (uint32_t i = 0; i < v.len; i++)
        if (pack_elem(b, m, f->elem, base + (size_t)i * esz)) return -1;
    return 0;
}

static int pack_dict(rk_buf_t *b, const rk_msg_t *m, const rk_field_t *f, rk_view_t v)
{
    if (pack_head(b, &F_MAP, v.len)) return -1;
    for (uint32_t i = 0; i < v.len; i++) {
        const char *e = (const char *)m + v.off + (size_t)i * sizeof(rk_dict_entry_t);
        if (pack_view(b, m, e + offsetof(rk_dict_entry_t, key), 1) ||
            pack_elem(b, m, f->elem, e + offsetof(rk_dict_entry_t, value)))
            return -1;
    }
    return 0;
}

/* An ARRAY as numpy's reference form: {"__ndarray__": bin, "dtype": str, "shape": [extents]}. */
static int pack_array(rk_buf_t *b, const rk_msg_t *m, const rk_field_t *f, rk_view_t v)
{
    static const uint8_t k_nd[13] = {0x83, 0xab, '_', '_', 'n', 'd', 'a', 'r', 'r', 'a', 'y', '_', '_'};
    static const uint8_t k_dtype[6] = {0xa5, 'd', 't', 'y', 'p', 'e'}, k_shape[6] = {0xa5, 's', 'h', 'a', 'p', 'e'};
    const char *name = rk_dtype_name(f->dtype);
    size_t name_len = strlen(name);
    rk_array_t a;
    uint8_t *p;

    if (rk_array_read(m, m->size, v, f->dtype, &a) != RK_OK) return -1;
    if (!(p = w_room(b, sizeof k_nd))) return -1;
    memcpy(p, k_nd, sizeof k_nd);
    w_done(b, p + sizeof k_nd);
    if (pack_raw(b, &F_BIN, a.data, a.nbytes)) return -1;
    if (!(p = w_room(b, sizeof k_dtype + 1 + name_len + sizeof k_shape + 1 + 9 * RK_ARRAY_MAX_DIMS))) return -1;
    memcpy(p, k_dtype, sizeof k_dtype);
    p = enc_head(p + sizeof k_dtype, &F_STR, name_len);
    memcpy(p, name, name_len);
    p += name_len;
    memcpy(p, k_shape, sizeof k_shape);
    p = enc_head(p + sizeof k_shape, &F_ARRAY, a.ndim);
    for (uint32_t i = 0; i < a.ndim; i++) p = enc_u64(p, a.shape[i]);
    return w_done(b, p);
}

static int pack_block(rk_buf_t *b, const rk_msg_t *m);

/* LIST_LIST: an array of rows (each as a LIST); LIST_MSG: an array of message maps. */
static int pack_items(rk_buf_t *b, const rk_msg_t *m, const rk_field_t *f, rk_view_t v)
{
    if (pack_head(b, &F_ARRAY, v.len)) return -1;
    for (uint32_t i = 0; i < v.len; i++) {
        rk_view_t item;
        memcpy(&item, (const char *)m + v.off + (size_t)i * sizeof item, sizeof item);
        if (f->kind == RK_KIND_LIST_LIST ? pack_list(b, m, f, item)
                                         : pack_block(b, (const rk_msg_t *)((const char *)m + item.off)))
            return -1;
    }
    return 0;
}

static int pack_field(rk_buf_t *b, const rk_msg_t *m, const rk_field_t *f)
{
    const char *p = (const char *)m + f->offset;
    rk_view_t v;

    switch (f->kind) {
    case RK_KIND_OPT_INT:
    case RK_KIND_OPT_FLOAT:
    case RK_KIND_OPT_BOOL:
    case RK_KIND_OPT_UUID:
    case RK_KIND_OPT_DATETIME: return pack_opt(b, f->kind, p);
    case RK_KIND_LIST:
    case RK_KIND_TUPLE:
    case RK_KIND_DICT:
    case RK_KIND_MSG:
    case RK_KIND_ARRAY:
    case RK_KIND_LIST_LIST:
    case RK_KIND_LIST_MSG:
        memcpy(&v, p, sizeof v);
        if (!v.off) return w_byte(b, 0xc0);
        if (f->kind == RK_KIND_LIST_LIST || f->kind == RK_KIND_LIST_MSG) return pack_items(b, m, f, v);
        if (f->kind == RK_KIND_DICT) return pack_dict(b, m, f, v);
        if (f->kind == RK_KIND_ARRAY) return pack_array(b, m, f, v);
        if (f->kind == RK_KIND_MSG) return pack_block(b, (const rk_msg_t *)((const char *)m + v.off));
        return pack_list(b, m, f, v);
    default: return pack_elem(b, m, f->kind, p);
    }
}

/* message_id, priority, correlation_id, then "__type__": the type's name, in one piece. */
static int pack_header(rk_buf_t *b, const rk_msg_t *m)
{
    size_t name_len = strlen(m->type->name);
    uint8_t *p = w_room(b, 128 + name_len); /* 11 + 32 + 9 + 9 + 15 + 32 + 9 + 2 + name */

    if (!p) return -1;
    memcpy(p, K_MID, sizeof K_MID);
    p = enc_uuid(p + sizeof K_MID, &m->message_id);
    memcpy(p, K_PRIO, sizeof K_PRIO);
    p = enc_i64(p + sizeof K_PRIO, m->priority);
    memcpy(p, K_CORR, sizeof K_CORR);
    p += sizeof K_CORR;
    if (rk_uuid_is_nil(&m->correlation_id)) *p++ = 0xc0;
    else p = enc_uuid(p, &m->correlation_id);
    memcpy(p, K_TYPE, sizeof K_TYPE);
    p = enc_head(p + sizeof K_TYPE, &F_STR, name_len);
    memcpy(p, m->type->name, name_len);
    return w_done(b, p + name_len);
}

/* User fields in declaration order, then the header, then `__type__` last. */
static int pack_block(rk_buf_t *b, const rk_msg_t *m)
{
    const rk_msg_type_t *t = m->type;

    if (pack_head(b, &F_MAP, (size_t)t->nfields + 4)) return -1;
    for (uint32_t i = 0; i < t->nfields; i++) {
        const char *name = t->fields[i].name;
        if (pack_raw(b, &F_STR, name, strlen(name)) || pack_field(b, m, &t->fields[i])) return -1;
    }
    return pack_header(b, m);
}

rk_status_t rk_msg_encode_after(const rk_msg_t *msg, rk_buf_t *out, size_t reserve)
{
    out->len = 0;
    if (reserve > out->cap && buf_grow(out, reserve)) return RK_ERR_NOMEM;
    out->len = reserve;
    if (pack_block(out, msg)) {
        out->len = 0;
        return RK_ERR_NOMEM;
    }
    return RK_OK;
}

rk_status_t rk_msg_serialize(const rk_msg_t *msg, rk_buf_t *out)
{
    if (!msg || !out) return RK_ERR_INVALID;
    out->len = 0;
    if (rk_msg_validate(msg) != RK_OK) return RK_ERR_MALFORMED;
    return rk_msg_encode_after(msg, out, 0);
}
