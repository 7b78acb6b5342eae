/*
 * msg/decode.c - msgpack bytes into a message block: one streaming pass that
 * writes each field directly into a new block, no msgpack object tree, no
 * allocation but the block itself. The reader checks every length against the
 * end of the input before touching a byte; the decoder addresses the block
 * only by offset, re-deriving pointers after each append (appending may move
 * the block).
 */
#include "msg/msg_internal.h"
#include "msg/mpread.h"
#include "msg/wire.h"
#include "ringmesh/codec.h"

#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Decoding into a block
 * ====================================================================== */

typedef struct dec {
    reader_t r;
    rk_msg_t *m; /* the root block; may move on every append */
} dec_t;

static char *dec_at(dec_t *d, uint32_t off) { return (char *)d->m + off; }

/* Append bytes (+ NUL) to the block; the view is relative to the block at @p base. */
static rk_status_t dec_append(dec_t *d, uint32_t base, const void *src, uint32_t len, int nul,
                              rk_view_t *v)
{
    uint32_t off;
    rk_status_t st = rk_msg_reserve(&d->m, (size_t)len + (nul ? 1 : 0), &off);
    if (st != RK_OK) return st;
    if (len) memcpy(dec_at(d, off), src, len);
    v->off = off - base;
    v->len = len;
    return RK_OK;
}

static rk_status_t val_i64(const mp_val_t *v, int64_t *out)
{
    if (v->kind == MP_NINT || (v->kind == MP_UINT && v->v.u <= (uint64_t)INT64_MAX)) {
        *out = v->v.i;
        return RK_OK;
    }
    return RK_ERR_DECODE;
}

/* UINT: any non-negative integer, 0..2^64-1 (a negative one or a float is refused). */
static rk_status_t val_u64(const mp_val_t *v, uint64_t *out)
{
    if (v->kind != MP_UINT) return RK_ERR_DECODE;
    *out = v->v.u;
    return RK_OK;
}

/* Floats, and integers too (Python sends 3 for 3.0). */
static rk_status_t val_f64(const mp_val_t *v, double *out)
{
    switch (v->kind) {
    case MP_FLOAT: *out = v->v.f; return RK_OK;
    case MP_UINT: *out = (double)v->v.u; return RK_OK;
    case MP_NINT: *out = (double)v->v.i; return RK_OK;
    default: return RK_ERR_DECODE;
    }
}

static rk_status_t val_bool(const mp_val_t *v, bool *out)
{
    if (v->kind != MP_BOOL) return RK_ERR_DECODE;
    *out = v->v.b;
    return RK_OK;
}

static rk_status_t val_datetime(const mp_val_t *v, int64_t *out)
{
    if (v->kind != MP_STR || rk_datetime_parse((const char *)v->data, v->len, out) != RK_OK)
        return RK_ERR_DECODE;
    return RK_OK;
}

/* {"__uuid_bin__": bin16} or pydotcompute's older {"__uuid__": "<36 chars>"}. */
static rk_status_t uuid_from_map(reader_t *r, uint32_t pairs, rk_uuid_t *u)
{
    mp_val_t k, v;
    rk_status_t st;

    if (pairs != 1) return RK_ERR_DECODE;
    if ((st = rd_val(r, &k)) != RK_OK || (st = rd_val(r, &v)) != RK_OK) return st;
    if (k.kind != MP_STR) return RK_ERR_DECODE;
    if (KEY_IS(&k, "__uuid_bin__") && v.kind == MP_BIN && v.len == 16) {
        memcpy(u->bytes, v.data, 16);
        return RK_OK;
    }
    if (KEY_IS(&k, "__uuid__") && v.kind == MP_STR &&
        rk_uuid_parse((const char *)v.data, v.len, u) == RK_OK)
        return RK_OK;
    return RK_ERR_DECODE;
}

/* The 32-byte {"__uuid_bin__": bin 16} map our encoder writes, at @p p: 1 and its UUID in *@p u, else 0. */
static int uuid_map_at(const uint8_t *p, rk_uuid_t *u)
{
    if (memcmp(p, UUID_MAP_HEAD, 16) != 0) return 0;
    memcpy(u->bytes, p + 16, 16);
    return 1;
}

/* Every UUID form: the map, a bare bin 16, 36/32-char text, nil (the nil UUID). */
static rk_status_t val_uuid(reader_t *r, const mp_val_t *v, rk_uuid_t *u)
{
    switch (v->kind) {
    case MP_NIL: memset(u, 0, sizeof *u); return RK_OK;
    case MP_MAP:
        /* Fast path: the {"__uuid_bin__": bin 16} every ringmesh and pydotcompute encoder
         * writes, its fixmap byte just read (a map16 of one pair does not match and falls through). */
        if (v->len == 1 && rd_left(r) >= 31 && uuid_map_at(r->p - 1, u)) {
            r->p += 31;
            return RK_OK;
        }
        return uuid_from_map(r, v->len, u);
    case MP_BIN:
        if (v->len != 16) return RK_ERR_DECODE;
        memcpy(u->bytes, v->data, 16);
        return RK_OK;
    case MP_STR:
        return rk_uuid_parse((const char *)v->data, v->len, u) == RK_OK ? RK_OK : RK_ERR_DECODE;
    default: return RK_ERR_DECODE;
    }
}

/* Store one non-nil value of @p kind at block offset @p dst (a field or an element). */
static rk_status_t store_elem(dec_t *d, uint32_t base, rk_kind_t kind, const mp_val_t *v, uint32_t dst)
{
    union {
        int64_t i;
        uint64_t n;
        double f;
        bool b;
        rk_uuid_t u;
        rk_view_t w;
    } x;
    size_t n = 8;
    rk_status_t st;

    switch (kind) {
    case RK_KIND_INT: st = val_i64(v, &x.i); break;
    case RK_KIND_UINT: st = val_u64(v, &x.n); break;
    case RK_KIND_FLOAT: st = val_f64(v, &x.f); break;
    case RK_KIND_BOOL:
        n = sizeof x.b;
        st = val_bool(v, &x.b);
        break;
    case RK_KIND_DATETIME: st = val_datetime(v, &x.i); break;
    case RK_KIND_UUID:
        n = sizeof x.u;
        st = val_uuid(&d->r, v, &x.u);
        break;
    case RK_KIND_STR:
        if (v->kind != MP_STR || !rk_text_ok(v->data, v->len)) return RK_ERR_DECODE; /* UTF-8, NUL-free */
        st = dec_append(d, base, v->data, v->len, 1, &x.w);
        break;
    case RK_KIND_BYTES:
        if (v->kind != MP_BIN) return RK_ERR_DECODE;
        st = dec_append(d, base, v->data, v->len, 0, &x.w);
        break;
    default: return RK_ERR_DECODE;
    }
    if (st == RK_OK) memcpy(dec_at(d, dst), &x, n);
    return st;
}

static rk_status_t dec_elem(dec_t *d, uint32_t base, rk_kind_t kind, uint32_t dst)
{
    mp_val_t v;
    rk_status_t st = rd_val(&d->r, &v);
    return st != RK_OK ? st : store_elem(d, base, kind, &v, dst);
}

static rk_status_t store_nil_view(dec_t *d, uint32_t dst)
{
    memset(dec_at(d, dst), 0, sizeof(rk_view_t));
    return RK_OK;
}

static void store_view(dec_t *d, uint32_t dst, uint32_t off, uint32_t len)
{
    rk_view_t w = {off, len};
    memcpy(dec_at(d, dst), &w, sizeof w);
}

/* A nil-able field: nil is None; anything else is read as a field of its base kind would be. */
static rk_status_t dec_opt(dec_t *d, rk_kind_t kind, const mp_val_t *v, uint32_t dst)
{
    rk_kind_t base;
    size_t has_off, size;
    rk_status_t st;

    if (!rk_opt_layout(kind, &base, &has_off, &size)) return RK_ERR_DECODE;
    memset(dec_at(d, dst), 0, size);
    if (v->kind == MP_NIL) return RK_OK;
    st = store_elem(d, 0, base, v, dst); /* scalars only: nothing is appended, the block stays */
    if (st == RK_OK) *(bool *)dec_at(d, dst + (uint32_t)has_off) = true;
    return st;
}

/*
 * The usual encodings of INT / UINT / FLOAT / BOOL list elements, read without the
 * generic reader; 0 leaves anything else (or a short input) to dec_elem.
 */
static int fast_number(reader_t *r, rk_kind_t kind, char *dst)
{
    const uint8_t *p = r->p;
    uint64_t x;

    if (p == r->end) return 0;
    if (kind == RK_KIND_FLOAT) {
        if (*p != 0xcb || rd_left(r) < 9) return 0;
        x = load_be(p + 1, 8);
        r->p += 9;
    } else if (kind == RK_KIND_INT || kind == RK_KIND_UINT) {
        if (*p >= 0x80 && (*p < 0xe0 || kind == RK_KIND_UINT)) return 0;
        x = (uint64_t)(int64_t)(int8_t)*p; /* positive fixint; negative fixint for INT only */
        r->p++;
    } else if (kind == RK_KIND_BOOL) {
        if (*p != 0xc2 && *p != 0xc3) return 0;
        *dst = *p == 0xc3;
        r->p++;
        return 1;
    } else {
        return 0;
    }
    memcpy(dst, &x, 8);
    return 1;
}

/* LIST / TUPLE: an array of elements, stored 8-aligned like rk_msg_set_list. */
static rk_status_t dec_list(dec_t *d, uint32_t base, const rk_field_t *f, const mp_val_t *v,
                            uint32_t dst)
{
    size_t esz = rk_elem_size(f->elem);
    uint32_t off;
    rk_status_t st;

    if (v->kind == MP_NIL) return store_nil_view(d, dst);
    if (v->kind != MP_ARRAY || !esz) return RK_ERR_DECODE;
    if (v->len > rd_left(&d->r)) return RK_ERR_TRUNCATED; /* each element takes a byte */
    if ((st = rk_msg_reserve(&d->m, (size_t)v->len * esz, &off)) != RK_OK) return st;
    for (uint32_t i = 0; i < v->len; i++) {
        uint32_t at = off + (uint32_t)(i * esz);
        if (!fast_number(&d->r, f->elem, dec_at(d, at)) && (st = dec_elem(d, base, f->elem, at)) != RK_OK)
            return st;
    }
    store_view(d, dst, off - base, v->len);
    return RK_OK;
}

/* DICT: a map with string keys, stored as rk_dict_entry_t like rk_msg_set_dict. */
static rk_status_t dec_dict(dec_t *d, uint32_t base, const rk_field_t *f, const mp_val_t *v,
                            uint32_t dst)
{
    uint32_t off;
    rk_status_t st;

    if (v->kind == MP_NIL) return store_nil_view(d, dst);
    if (v->kind != MP_MAP || !rk_elem_size(f->elem)) return RK_ERR_DECODE;
    if (2 * (uint64_t)v->len > rd_left(&d->r)) return RK_ERR_TRUNCATED;
    st = rk_msg_reserve(&d->m, (size_t)v->len * sizeof(rk_dict_entry_t), &off);
    for (uint32_t i = 0; st == RK_OK && i < v->len; i++) {
        uint32_t e = off + i * (uint32_t)sizeof(rk_dict_entry_t);
        mp_val_t k;
        rk_view_t kv;
        if ((st = rd_val(&d->r, &k)) != RK_OK) break;
        if (k.kind != MP_STR || !rk_text_ok(k.data, k.len)) return RK_ERR_DECODE;
        if ((st = dec_append(d, base, k.data, k.len, 1, &kv)) != RK_OK) break;
        memcpy(dec_at(d, e + offsetof(rk_dict_entry_t, key)), &kv, sizeof kv);
        st = dec_elem(d, base, f->elem, e + (uint32_t)offsetof(rk_dict_entry_t, value));
    }
    if (st == RK_OK) store_view(d, dst, off - base, v->len);
    return st;
}

/*
 * ARRAY: numpy's {"__ndarray__": bin, "dtype": str, "shape": [extents]} (keys
 * in any order, no others), the field's dtype, a byte count that matches the
 * shape; stored as the record msg/array.c describes.
 */
static rk_status_t dec_array(dec_t *d, uint32_t base, const rk_field_t *f, const mp_val_t *v, uint32_t dst)
{
    const uint8_t *bytes = NULL;
    uint32_t nbytes = 0, ndim = 0, off;
    uint64_t shape[RK_ARRAY_MAX_DIMS], count;
    size_t want;
    int seen = 0; /* bits: 1 data, 2 dtype, 4 shape */
    rk_dtype_t dt = RK_DTYPE_NONE;
    rk_status_t st;

    if (v->kind == MP_NIL) return store_nil_view(d, dst);
    if (v->kind != MP_MAP || v->len != 3) return RK_ERR_DECODE;
    for (uint32_t i = 0; i < 3; i++) {
        mp_val_t k, x;
        if ((st = rd_val(&d->r, &k)) != RK_OK || (st = rd_val(&d->r, &x)) != RK_OK) return st;
        if (k.kind != MP_STR) return RK_ERR_DECODE;
        if (KEY_IS(&k, "__ndarray__") && x.kind == MP_BIN && !(seen & 1)) {
            bytes = x.data;
            nbytes = x.len;
            seen |= 1;
        } else if (KEY_IS(&k, "dtype") && x.kind == MP_STR && !(seen & 2)) {
            dt = rk_dtype_named(x.data, x.len);
            if (dt != f->dtype) return RK_ERR_TYPE; /* another dtype (or one ringmesh has not) */
            seen |= 2;
        } else if (KEY_IS(&k, "shape") && x.kind == MP_ARRAY && x.len <= RK_ARRAY_MAX_DIMS && !(seen & 4)) {
            ndim = x.len;
            for (uint32_t j = 0; j < ndim; j++) {
                mp_val_t e;
                if ((st = rd_val(&d->r, &e)) != RK_OK) return st;
                if (e.kind != MP_UINT) return RK_ERR_DECODE;
                shape[j] = e.v.u;
            }
            seen |= 4;
        } else {
            return RK_ERR_DECODE;
        }
    }
    if ((st = rk_array_size(dt, ndim, shape, &count, &want)) != RK_OK) return RK_ERR_DECODE;
    if (want != nbytes || (dt == RK_DTYPE_BOOL && !rk_bools_ok(bytes, nbytes))) return RK_ERR_DECODE;
    if ((st = rk_array_append(&d->m, ndim, shape, bytes, nbytes, &off)) != RK_OK) return st;
    store_view(d, dst, off - base, nbytes);
    return RK_OK;
}

static rk_status_t dec_map(dec_t *d, uint32_t base, const rk_msg_type_t *t, uint32_t pairs, int depth);

/* A nested message: its block is built in place at the end of the root block. */
static rk_status_t dec_nested(dec_t *d, uint32_t base, const rk_field_t *f, const mp_val_t *v,
                              uint32_t dst, int depth)
{
    const rk_msg_type_t *nt = f->nested ? f->nested() : NULL;
    rk_msg_t hdr;
    uint32_t off, size;
    rk_status_t st;

    if (v->kind == MP_NIL) return store_nil_view(d, dst);
    if (v->kind != MP_MAP || depth + 1 > RK_MSG_MAX_DEPTH) return RK_ERR_DECODE;
    if (!nt || nt->struct_size < sizeof(rk_msg_t)) return RK_ERR_DECODE;
    if ((st = rk_msg_reserve(&d->m, RK_ALIGN8(nt->struct_size), &off)) != RK_OK) return st;
    memset(&hdr, 0, sizeof hdr);
    hdr.magic = RK_MSG_MAGIC;
    hdr.priority = RK_PRIORITY_DEFAULT;
    hdr.type = nt;
    hdr.src_rank = -1; /* capacity 0: owned by the parent block */
    memcpy(dec_at(d, off), &hdr, sizeof hdr);
    if ((st = dec_map(d, off, nt, v->len, depth + 1)) != RK_OK) return st;
    size = d->m->size - off;
    memcpy(dec_at(d, off + offsetof(rk_msg_t, size)), &size, sizeof size);
    store_view(d, dst, off - base, size);
    return RK_OK;
}

/* LIST_LIST: an array of arrays (rows as dec_list stores them); LIST_MSG: an array of maps. */
static rk_status_t dec_items(dec_t *d, uint32_t base, const rk_field_t *f, const mp_val_t *v, uint32_t dst, int depth)
{
    uint32_t at;
    rk_status_t st;

    if (v->kind == MP_NIL) return store_nil_view(d, dst);
    if (v->kind != MP_ARRAY) return RK_ERR_DECODE;
    if (v->len > rd_left(&d->r)) return RK_ERR_TRUNCATED; /* each item takes a byte */
    if ((st = rk_msg_reserve(&d->m, (size_t)v->len * sizeof(rk_view_t), &at)) != RK_OK) return st;
    for (uint32_t i = 0; i < v->len; i++) {
        uint32_t item = at + i * (uint32_t)sizeof(rk_view_t);
        mp_val_t x;
        if ((st = rd_val(&d->r, &x)) != RK_OK) return st;
        if (f->kind == RK_KIND_LIST_LIST) {
            if (x.kind != MP_ARRAY) return RK_ERR_DECODE; /* a row is a list, never nil */
            st = dec_list(d, base, f, &x, item);
        } else {
            if (x.kind != MP_MAP) return RK_ERR_DECODE; /* an item is a message, never nil */
            st = dec_nested(d, base, f, &x, item, depth);
        }
        if (st != RK_OK) return st;
    }
    store_view(d, dst, at - base, v->len);
    return RK_OK;
}

static rk_status_t dec_field(dec_t *d, uint32_t base, const rk_field_t *f, int depth)
{
    uint32_t dst = base + f->offset;
    mp_val_t v;
    rk_status_t st = rd_val(&d->r, &v);

    if (st != RK_OK) return st;
    switch (f->kind) {
    case RK_KIND_STR:
    case RK_KIND_BYTES:
        if (v.kind == MP_NIL) return store_nil_view(d, dst);
        return store_elem(d, base, f->kind, &v, dst);
    case RK_KIND_OPT_INT:
    case RK_KIND_OPT_FLOAT:
    case RK_KIND_OPT_BOOL:
    case RK_KIND_OPT_UUID:
    case RK_KIND_OPT_DATETIME: return dec_opt(d, f->kind, &v, dst);
    case RK_KIND_LIST:
    case RK_KIND_TUPLE: return dec_list(d, base, f, &v, dst);
    case RK_KIND_DICT: return dec_dict(d, base, f, &v, dst);
    case RK_KIND_MSG: return dec_nested(d, base, f, &v, dst, depth);
    case RK_KIND_ARRAY: return dec_array(d, base, f, &v, dst);
    case RK_KIND_LIST_LIST:
    case RK_KIND_LIST_MSG: return dec_items(d, base, f, &v, dst, depth);
    default: return store_elem(d, base, f->kind, &v, dst);
    }
}

static rk_status_t dec_priority(dec_t *d, uint32_t base)
{
    mp_val_t v;
    rk_status_t st = rd_val(&d->r, &v);
    uint8_t p;

    if (st != RK_OK) return st;
    if (v.kind == MP_NINT || (v.kind == MP_UINT && v.v.u > 255)) return RK_ERR_PRIORITY;
    if (v.kind != MP_UINT) return RK_ERR_DECODE;
    p = (uint8_t)v.v.u;
    memcpy(dec_at(d, base + offsetof(rk_msg_t, priority)), &p, 1);
    return RK_OK;
}

static rk_status_t dec_header_uuid(dec_t *d, uint32_t dst)
{
    mp_val_t v;
    rk_uuid_t u;
    rk_status_t st = rd_val(&d->r, &v);
    if (st == RK_OK) st = val_uuid(&d->r, &v, &u);
    if (st == RK_OK) memcpy(dec_at(d, dst), &u, sizeof u);
    return st;
}

/* The `__type__` of a map: seen, and its name (NULL when the value is not a string). */
typedef struct type_tag {
    const uint8_t *name;
    uint32_t len;
    int seen;
    int id_seen; /* the map had a message_id */
} type_tag_t;

static rk_status_t rd_type_tag(reader_t *r, type_tag_t *tag)
{
    mp_val_t v;
    rk_status_t st = rd_val(r, &v);

    if (st != RK_OK) return st;
    tag->seen = 1;
    tag->name = v.kind == MP_STR ? v.data : NULL;
    tag->len = v.kind == MP_STR ? v.len : 0;
    return rd_skip_rest(r, &v);
}

typedef enum meta_key { META_NONE, META_ID, META_PRIORITY, META_CORR, META_TYPE } meta_key_t;

/* Header keys (never user field names: the registry refuses those). */
static meta_key_t meta_key(const mp_val_t *k)
{
    if (KEY_IS(k, "message_id")) return META_ID;
    if (KEY_IS(k, "priority")) return META_PRIORITY;
    if (KEY_IS(k, "correlation_id")) return META_CORR;
    if (KEY_IS(k, "__type__")) return META_TYPE;
    return META_NONE;
}

static rk_status_t dec_meta(dec_t *d, uint32_t base, meta_key_t key, type_tag_t *tag)
{
    switch (key) {
    case META_ID: tag->id_seen = 1; return dec_header_uuid(d, base + (uint32_t)offsetof(rk_msg_t, message_id));
    case META_PRIORITY: return dec_priority(d, base);
    case META_CORR: return dec_header_uuid(d, base + (uint32_t)offsetof(rk_msg_t, correlation_id));
    case META_TYPE: return rd_type_tag(&d->r, tag);
    default: return rd_skip(&d->r); /* unknown keys are ignored */
    }
}

/* The field named by a key; tries the next declared field first (the usual order). */
static const rk_field_t *match_field(const rk_msg_type_t *t, uint32_t *next, const mp_val_t *k)
{
    if (*next < t->nfields && rk_name_is(t->fields[*next].name, k->data, k->len))
        return &t->fields[(*next)++];
    for (uint32_t i = 0; i < t->nfields; i++) {
        if (rk_name_is(t->fields[i].name, k->data, k->len)) {
            *next = i + 1;
            return &t->fields[i];
        }
    }
    return NULL;
}

/*
 * The four header pairs exactly as pack_header writes them (message_id as a
 * UUID map, priority as a fixint or uint8, correlation_id nil or a UUID map,
 * then "__type__": a str8/fixstr name), read as one run: 1 when taken (the
 * reader moved past them), 0 to leave them to the key-by-key path, in which
 * case nothing was written. Same result as that path for these bytes.
 */
static int fast_header(dec_t *d, uint32_t base, type_tag_t *tag)
{
    const uint8_t *p = d->r.p, *end = d->r.end;
    rk_uuid_t mid, corr;
    uint8_t prio;
    uint32_t n;

    if (end - p < (ptrdiff_t)(sizeof K_MID + 32 + sizeof K_PRIO + 1 + sizeof K_CORR + 1 + sizeof K_TYPE + 1) ||
        p[0] != (uint8_t)K_MID[0] || memcmp(p, K_MID, sizeof K_MID) != 0 || !uuid_map_at(p + sizeof K_MID, &mid))
        return 0;
    p += sizeof K_MID + 32;
    if (memcmp(p, K_PRIO, sizeof K_PRIO) != 0) return 0;
    p += sizeof K_PRIO;
    if (p[0] < 0x80) prio = *p++;
    else if (p[0] == 0xcc && end - p >= 2) prio = p[1], p += 2;
    else return 0;
    if (end - p < (ptrdiff_t)sizeof K_CORR + 1 || memcmp(p, K_CORR, sizeof K_CORR) != 0) return 0;
    p += sizeof K_CORR;
    if (p[0] == 0xc0) {
        memset(&corr, 0, sizeof corr);
        p++;
    } else if (end - p >= 32 && uuid_map_at(p, &corr)) {
        p += 32;
    } else {
        return 0;
    }
    if (end - p < (ptrdiff_t)sizeof K_TYPE + 1 || memcmp(p, K_TYPE, sizeof K_TYPE) != 0) return 0;
    p += sizeof K_TYPE;
    if ((p[0] & 0xe0) == 0xa0) n = *p++ & 0x1f;
    else if (p[0] == 0xd9 && end - p >= 2) n = p[1], p += 2;
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    tag->seen = 1;
    tag->id_seen = 1;
    tag->name = p;
    tag->len = n;
    memcpy(dec_at(d, base + (uint32_t)offsetof(rk_msg_t, message_id)), &mid, sizeof mid);
    memcpy(dec_at(d, base + (uint32_t)offsetof(rk_msg_t, priority)), &prio, 1);
    memcpy(dec_at(d, base + (uint32_t)offsetof(rk_msg_t, correlation_id)), &corr, sizeof corr);
    d->r.p = p + n;
    return 1;
}

/*
 * The body of a message map of @p pairs entries into the block at @p base.
 * The top-level map must name its type; a nested one may omit it. Declared
 * defaults are written first, so a key missing on the wire keeps its field's
 * default (a STR default present on the wire leaves its bytes unused in the
 * tail); a top-level message without a message_id gets a fresh UUIDv4.
 */
static rk_status_t dec_map(dec_t *d, uint32_t base, const rk_msg_type_t *t, uint32_t pairs, int depth)
{
    type_tag_t tag = {NULL, 0, 0, 0};
    uint32_t next = 0;
    rk_status_t st = rk_defaults_apply(&d->m, base, t);

    if (st != RK_OK) return st;

    for (uint32_t i = 0; i < pairs; i++) {
        mp_val_t k;
        const rk_field_t *f;
        if (pairs - i >= 4 && fast_header(d, base, &tag)) {
            i += 3; /* four pairs read */
            continue;
        }
        if ((st = rd_val(&d->r, &k)) != RK_OK) return st;
        if (k.kind != MP_STR) return RK_ERR_DECODE;
        meta_key_t meta = meta_key(&k);
        f = meta == META_NONE ? match_field(t, &next, &k) : NULL;
        st = f ? dec_field(d, base, f, depth) : dec_meta(d, base, meta, &tag);
        if (st != RK_OK) return st;
    }
    if (!tag.id_seen && depth == 0) { /* nested messages are ringmesh's: no id stays nil */
        rk_uuid_t id;
        rk_uuid_generate(&id);
        memcpy(dec_at(d, base + (uint32_t)offsetof(rk_msg_t, message_id)), &id, sizeof id);
    }
    if (!tag.seen) return depth == 0 ? RK_ERR_TYPE : RK_OK;
    return tag.name && rk_name_is(t->name, tag.name, tag.len) ? RK_OK : RK_ERR_TYPE;
}

/* Decode a whole input known to be of type @p t. */
static rk_status_t decode_root(const rk_msg_type_t *t, const uint8_t *data, size_t len, rk_msg_t **out)
{
    dec_t d = {{data, data + len}, NULL};
    mp_val_t v;
    rk_status_t st = rd_val(&d.r, &v);

    if (st != RK_OK) return st;
    if (v.kind != MP_MAP) return RK_ERR_DECODE;
    if ((st = rk_msg_alloc(t, len, &d.m)) != RK_OK) return st;
    st = dec_map(&d, 0, t, v.len, 0);
    if (st == RK_OK && d.r.p != d.r.end) st = RK_ERR_DECODE; /* trailing bytes */
    if (st != RK_OK) {
        rk_msg_free(d.m);
        return st;
    }
    *out = d.m;
    return RK_OK;
}

/*
 * Find the top-level `__type__` by walking the map (the last one wins, as in
 * Python). Also rejects garbage, truncation and trailing bytes.
 */
static rk_status_t scan_type(const uint8_t *data, size_t len, type_tag_t *tag)
{
    reader_t r = {data, data + len};
    mp_val_t v, k;
    rk_status_t st = rd_val(&r, &v);

    tag->seen = 0;
    if (st != RK_OK) return st;
    if (v.kind != MP_MAP) return RK_ERR_DECODE;
    for (uint32_t i = 0; i < v.len; i++) {
        if ((st = rd_val(&r, &k)) != RK_OK) return st;
        if (k.kind != MP_STR) return RK_ERR_DECODE;
        st = KEY_IS(&k, "__type__") ? rd_type_tag(&r, tag) : rd_skip(&r);
        if (st != RK_OK) return st;
    }
    if (r.p != r.end) return RK_ERR_DECODE;
    return tag->seen && tag->name ? RK_OK : RK_ERR_TYPE;
}

/*
 * Fast path: our encoder and pydotcompute both end with "__type__": "<Name>",
 * so the name can usually be read from the last bytes. Only a guess: the
 * decoder verifies it against the real `__type__` key.
 */
static const uint8_t *guess_type(const uint8_t *data, size_t len, uint32_t *name_len)
{
    static const uint8_t key[9] = {0xa8, '_', '_', 't', 'y', 'p', 'e', '_', '_'};
    for (size_t n = 1; n <= 255 && n + 11 <= len; n++) {
        const uint8_t *name = data + len - n;
        int fix = n <= 31 && name[-1] == (0xa0 | n) && memcmp(name - 10, key, 9) == 0;
        int s8 = n > 31 && name[-2] == 0xd9 && name[-1] == n && memcmp(name - 11, key, 9) == 0;
        if (fix || s8) {
            *name_len = (uint32_t)n;
            return name;
        }
    }
    return NULL;
}

static rk_status_t check_input(const void *data, size_t len, size_t max_len, rk_msg_t **out)
{
    if (!out || (!data && len)) return RK_ERR_INVALID;
    if (len > (max_len ? max_len : RK_CODEC_MAX_DEFAULT)) return RK_ERR_TOO_LARGE;
    return RK_OK;
}

/*
 * Decoding tries the type named by the input's last bytes first; when that
 * guess fails, a scan finds the real `__type__` and reports input errors in
 * the same precedence as a clean decode (truncation / garbage, then type).
 */
rk_status_t rk_msg_deserialize(const rk_registry_t *reg, const void *data, size_t len, size_t max_len,
                               rk_msg_t **out)
{
    const uint8_t *bytes = data, *guess;
    const rk_msg_type_t *tried = NULL, *t;
    type_tag_t tag;
    uint32_t glen;
    rk_status_t st = check_input(data, len, max_len, out), first = RK_OK;

    if (st != RK_OK) return st;
    if (!reg) return RK_ERR_INVALID;
    guess = guess_type(bytes, len, &glen);
    tried = guess ? rk_registry_find(reg, (const char *)guess, glen) : NULL;
    if (tried && (first = decode_root(tried, bytes, len, out)) == RK_OK) return RK_OK;
    if ((st = scan_type(bytes, len, &tag)) != RK_OK) return st;
    t = rk_registry_find(reg, (const char *)tag.name, tag.len);
    if (!t) return RK_ERR_TYPE;
    return t == tried ? first : decode_root(t, bytes, len, out);
}

rk_status_t rk_msg_deserialize_as(const rk_msg_type_t *type, const void *data, size_t len,
                                  size_t max_len, rk_msg_t **out)
{
    const uint8_t *bytes = data, *guess;
    type_tag_t tag;
    uint32_t glen;
    int guessed;
    rk_status_t st = check_input(data, len, max_len, out), first = RK_OK;

    if (st != RK_OK) return st;
    if (!type || !type->name || type->struct_size < sizeof(rk_msg_t)) return RK_ERR_INVALID;
    guess = guess_type(bytes, len, &glen);
    guessed = guess && rk_name_is(type->name, guess, glen);
    if (guessed && (first = decode_root(type, bytes, len, out)) == RK_OK) return RK_OK;
    if ((st = scan_type(bytes, len, &tag)) != RK_OK) return st;
    if (!rk_name_is(type->name, tag.name, tag.len)) return RK_ERR_TYPE;
    return guessed ? first : decode_root(type, bytes, len, out);
}
