/*
 * message.c - creating, growing, validating and comparing message blocks.
 *
 * A block is [rk_msg_t header | user fields | tail]. Setters append to the
 * tail (8-byte aligned) and store an rk_view_t {off, len} in the field, so the
 * block never holds a raw pointer and stays relocatable. Growing reallocates
 * through the pool and updates the caller's pointer (the setters take T **).
 */
#include "msg/msg_internal.h"
#include "msg/pool.h"

#include <stdlib.h>
#include <string.h>

size_t rk_elem_size(rk_kind_t kind)
{
    switch (kind) {
    case RK_KIND_INT:
    case RK_KIND_UINT:
    case RK_KIND_FLOAT:
    case RK_KIND_DATETIME: return 8;
    case RK_KIND_BOOL: return sizeof(bool);
    case RK_KIND_STR:
    case RK_KIND_BYTES: return sizeof(rk_view_t);
    case RK_KIND_UUID: return sizeof(rk_uuid_t);
    default: return 0;
    }
}

const rk_field_t *rk_field_at(const rk_msg_type_t *type, size_t off)
{
    for (uint32_t i = 0; i < type->nfields; i++)
        if (type->fields[i].offset == off) return &type->fields[i];
    return NULL;
}

rk_status_t rk_msg_alloc(const rk_msg_type_t *type, size_t tail, rk_msg_t **out)
{
    size_t base = RK_ALIGN8(type->struct_size), usable;
    uint8_t cls;
    rk_msg_t *m;

    if (base + tail > UINT32_MAX / 2) return RK_ERR_TOO_LARGE;
    m = rk_pool_alloc(base + tail, &cls, &usable);
    if (!m) return RK_ERR_NOMEM;
    memset(m, 0, base);
    m->magic = RK_MSG_MAGIC;
    m->size = (uint32_t)base;
    m->capacity = (uint32_t)(usable > UINT32_MAX ? UINT32_MAX : usable);
    m->pool_class = cls;
    m->priority = RK_PRIORITY_DEFAULT;
    m->type = type;
    m->src_rank = -1;
    *out = m;
    return RK_OK;
}

rk_status_t rk_msg_create(const rk_msg_type_t *type, size_t tail_hint, rk_msg_t **out)
{
    rk_status_t st;
    if (!type || !out || type->struct_size < sizeof(rk_msg_t)) return RK_ERR_INVALID;
    st = rk_msg_alloc(type, tail_hint, out);
    if (st != RK_OK) return st;
    rk_uuid_generate(&(*out)->message_id);
    if (type->ndefaults && (st = rk_defaults_apply(out, 0, type)) != RK_OK) {
        rk_msg_free(*out);
        *out = NULL;
    }
    return st;
}

void rk_msg_free(rk_msg_t *msg)
{
    if (!msg || msg->capacity == 0) return; /* nested blocks belong to their parent */
    msg->magic = 0;
    rk_pool_free(msg, msg->pool_class);
}

rk_status_t rk_msg_copy(const rk_msg_t *msg, rk_msg_t **out)
{
    size_t usable;
    uint8_t cls;
    rk_msg_t *m;

    if (!msg || !out || msg->magic != RK_MSG_MAGIC) return RK_ERR_INVALID;
    m = rk_pool_alloc(msg->size, &cls, &usable);
    if (!m) return RK_ERR_NOMEM;
    memcpy(m, msg, msg->size);
    m->capacity = (uint32_t)(usable > UINT32_MAX ? UINT32_MAX : usable);
    m->pool_class = cls;
    *out = m;
    return RK_OK;
}

rk_status_t rk_msg_set_priority(rk_msg_t *msg, int priority)
{
    if (!msg) return RK_ERR_INVALID;
    if (priority < 0 || priority > 255) return RK_ERR_PRIORITY;
    msg->priority = (uint8_t)priority;
    return RK_OK;
}

rk_status_t rk_msg_set_correlation(rk_msg_t *msg, const rk_uuid_t *correlation_id)
{
    if (!msg || !correlation_id) return RK_ERR_INVALID;
    msg->correlation_id = *correlation_id;
    return RK_OK;
}

rk_status_t rk_msg_reserve(rk_msg_t **pm, size_t len, uint32_t *off)
{
    rk_msg_t *m = *pm, *n;
    size_t start = RK_ALIGN8(m->size), need = start + len, usable;
    uint8_t cls;

    if (m->capacity == 0) return RK_ERR_INVALID;
    if (need > UINT32_MAX / 2) return RK_ERR_TOO_LARGE;
    if (need > m->capacity) {
        size_t want = m->capacity * 2 > need ? m->capacity * 2 : need;
        n = rk_pool_alloc(want, &cls, &usable);
        if (!n) return RK_ERR_NOMEM;
        memcpy(n, m, m->size);
        n->capacity = (uint32_t)(usable > UINT32_MAX ? UINT32_MAX : usable);
        n->pool_class = cls;
        rk_msg_free(m);
        m = n;
        *pm = m;
    }
    memset((char *)m + m->size, 0, need - m->size);
    m->size = (uint32_t)need;
    *off = (uint32_t)start;
    return RK_OK;
}

/* The caller's message pointer: the typed setters pass a T ** as rk_msg_t **, so the
 * pointer object may really be a T *; it is read and written as bytes (no aliasing). */
rk_msg_t *rk_load_pp(rk_msg_t **msgpp)
{
    rk_msg_t *m;
    memcpy(&m, msgpp, sizeof m);
    return m;
}

void rk_store_pp(rk_msg_t **msgpp, rk_msg_t *m) { memcpy(msgpp, &m, sizeof m); }

rk_status_t rk_setter_field(rk_msg_t **msgpp, size_t field_offset, const rk_field_t **f)
{
    rk_msg_t *m;
    if (!msgpp) return RK_ERR_INVALID;
    m = rk_load_pp(msgpp);
    if (!m || m->magic != RK_MSG_MAGIC || !m->type || m->capacity == 0) return RK_ERR_INVALID;
    *f = rk_field_at(m->type, field_offset);
    return *f ? RK_OK : RK_ERR_INVALID;
}

static rk_view_t *field_view(rk_msg_t *m, const rk_field_t *f)
{
    return (rk_view_t *)((char *)m + f->offset);
}

/* Append bytes (plus a NUL when @p nul) and return its view. */
static rk_status_t append_bytes(rk_msg_t **pm, const void *data, size_t len, int nul, rk_view_t *v)
{
    uint32_t off;
    rk_status_t st;
    if (len > UINT32_MAX / 4) return RK_ERR_TOO_LARGE;
    st = rk_msg_reserve(pm, len + (nul ? 1 : 0), &off);
    if (st != RK_OK) return st;
    if (len) memcpy((char *)*pm + off, data, len);
    v->off = off;
    v->len = (uint32_t)len;
    return RK_OK;
}

/* Store @p data as the STR (NUL-terminated in the block) or BYTES field at @p field_offset. */
static rk_status_t set_blob(rk_msg_t **msgpp, size_t field_offset, rk_kind_t kind, const void *data, size_t len)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    rk_msg_t *m;
    rk_view_t v;

    if (st != RK_OK) return st;
    if (f->kind != kind) return RK_ERR_TYPE;
    if (!data && len) return RK_ERR_INVALID;
    m = rk_load_pp(msgpp);
    st = append_bytes(&m, data, len, kind == RK_KIND_STR, &v);
    rk_store_pp(msgpp, m);
    if (st == RK_OK) *field_view(m, f) = v;
    return st;
}

rk_status_t rk_msg_set_str(rk_msg_t **msgpp, size_t field_offset, const char *s, size_t len)
{
    if (!s) { /* nil, but only for a STR field */
        const rk_field_t *f;
        rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
        if (st != RK_OK) return st;
        return f->kind == RK_KIND_STR ? rk_msg_set_nil(msgpp, field_offset) : RK_ERR_TYPE;
    }
    if (len == RK_NTS) len = strlen(s);
    if (!rk_text_ok(s, len)) return RK_ERR_INVALID; /* well-formed UTF-8, no NUL */
    return set_blob(msgpp, field_offset, RK_KIND_STR, s, len);
}

rk_status_t rk_msg_set_bytes(rk_msg_t **msgpp, size_t field_offset, const void *data, size_t len)
{
    return set_blob(msgpp, field_offset, RK_KIND_BYTES, data, len);
}

/*
 * Write @p count input elements of @p kind (see message.h for the input
 * array types) into the block at @p dst_off with stride @p stride. Strings
 * and blobs are appended to the tail, which may move the block.
 */
rk_status_t rk_store_elems(rk_msg_t **pm, rk_kind_t kind, const void *elems, size_t count, uint32_t dst_off,
                           size_t stride)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t at = dst_off + (uint32_t)(i * stride);
        rk_view_t v;
        rk_status_t st;
        switch (kind) {
        case RK_KIND_INT:
        case RK_KIND_UINT:
        case RK_KIND_DATETIME:
        case RK_KIND_FLOAT: memcpy((char *)*pm + at, (const char *)elems + i * 8, 8); break;
        case RK_KIND_BOOL: {
            bool b = ((const bool *)elems)[i] ? true : false;
            memcpy((char *)*pm + at, &b, sizeof b);
            break;
        }
        case RK_KIND_UUID: memcpy((char *)*pm + at, (const rk_uuid_t *)elems + i, 16); break;
        case RK_KIND_STR: {
            const char *s = ((const char *const *)elems)[i];
            if (!s || !rk_text_ok(s, strlen(s))) return RK_ERR_INVALID;
            st = append_bytes(pm, s, strlen(s), 1, &v);
            if (st != RK_OK) return st;
            memcpy((char *)*pm + at, &v, sizeof v);
            break;
        }
        case RK_KIND_BYTES: {
            const rk_blob_t *b = (const rk_blob_t *)elems + i;
            if (!b->data && b->len) return RK_ERR_INVALID;
            st = append_bytes(pm, b->data, b->len, 0, &v);
            if (st != RK_OK) return st;
            memcpy((char *)*pm + at, &v, sizeof v);
            break;
        }
        default: return RK_ERR_TYPE;
        }
    }
    return RK_OK;
}

rk_status_t rk_msg_set_list(rk_msg_t **msgpp, size_t field_offset, const void *elems, size_t count)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    size_t esz;
    uint32_t off;
    rk_msg_t *m;

    if (st != RK_OK) return st;
    if (f->kind != RK_KIND_LIST && f->kind != RK_KIND_TUPLE) return RK_ERR_TYPE;
    if (!elems && count) return RK_ERR_INVALID;
    esz = rk_elem_size(f->elem);
    if (!esz) return RK_ERR_TYPE;
    if (count > (UINT32_MAX / 4) / esz) return RK_ERR_TOO_LARGE;
    m = rk_load_pp(msgpp);
    st = rk_msg_reserve(&m, count * esz, &off);
    if (st == RK_OK) st = rk_store_elems(&m, f->elem, elems, count, off, esz);
    rk_store_pp(msgpp, m);
    if (st != RK_OK) return st;
    field_view(m, f)->off = off;
    field_view(m, f)->len = (uint32_t)count;
    return RK_OK;
}

rk_status_t rk_msg_set_dict(rk_msg_t **msgpp, size_t field_offset, const char *const *keys,
                            const void *values, size_t count)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    size_t esz;
    uint32_t off;
    rk_msg_t *m;

    if (st != RK_OK) return st;
    if (f->kind != RK_KIND_DICT) return RK_ERR_TYPE;
    if ((!keys || !values) && count) return RK_ERR_INVALID;
    esz = rk_elem_size(f->elem);
    if (!esz) return RK_ERR_TYPE;
    if (count > (UINT32_MAX / 4) / sizeof(rk_dict_entry_t)) return RK_ERR_TOO_LARGE;
    m = rk_load_pp(msgpp);
    st = rk_msg_reserve(&m, count * sizeof(rk_dict_entry_t), &off);
    for (size_t i = 0; st == RK_OK && i < count; i++) {
        uint32_t at = off + (uint32_t)(i * sizeof(rk_dict_entry_t));
        const void *val = (const char *)values + i * (f->elem == RK_KIND_STR ? sizeof(char *)
                                                     : f->elem == RK_KIND_BYTES ? sizeof(rk_blob_t)
                                                                                : esz);
        rk_view_t kv;
        if (!keys[i] || !rk_text_ok(keys[i], strlen(keys[i]))) {
            st = RK_ERR_INVALID;
            break;
        }
        st = append_bytes(&m, keys[i], strlen(keys[i]), 1, &kv);
        if (st != RK_OK) break;
        memcpy((char *)m + at + offsetof(rk_dict_entry_t, key), &kv, sizeof kv);
        st = rk_store_elems(&m, f->elem, val, 1, at + (uint32_t)offsetof(rk_dict_entry_t, value), esz);
    }
    rk_store_pp(msgpp, m);
    if (st != RK_OK) return st;
    field_view(m, f)->off = off;
    field_view(m, f)->len = (uint32_t)count;
    return RK_OK;
}

rk_status_t rk_msg_embed(rk_msg_t **root, const rk_msg_t *child, uint32_t *off)
{
    rk_status_t st = rk_msg_reserve(root, child->size, off);
    if (st != RK_OK) return st;
    rk_msg_t *copy = (rk_msg_t *)((char *)*root + *off);
    memcpy(copy, child, child->size);
    copy->capacity = 0; /* owned by the parent block */
    copy->pool_class = 0;
    return RK_OK;
}

rk_status_t rk_msg_set_nested(rk_msg_t **msgpp, size_t field_offset, const rk_msg_t *child)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    rk_msg_t *m;
    uint32_t off;

    if (st != RK_OK) return st;
    if (f->kind != RK_KIND_MSG) return RK_ERR_TYPE;
    if (!child) return rk_msg_set_nil(msgpp, field_offset);
    if (rk_msg_validate_block(child, child->size, f->nested ? f->nested() : NULL, 1) != RK_OK)
        return RK_ERR_MALFORMED;
    m = rk_load_pp(msgpp);
    st = rk_msg_embed(&m, child, &off);
    rk_store_pp(msgpp, m);
    if (st != RK_OK) return st;
    field_view(m, f)->off = off;
    field_view(m, f)->len = child->size;
    return RK_OK;
}

rk_status_t rk_msg_set_array(rk_msg_t **msgpp, size_t field_offset, rk_dtype_t dtype, uint32_t ndim,
                             const uint64_t *shape, const void *data)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    uint64_t count;
    size_t nbytes;
    uint32_t off;
    rk_msg_t *m;

    if (st != RK_OK) return st;
    if (f->kind != RK_KIND_ARRAY || dtype != f->dtype) return RK_ERR_TYPE;
    if ((st = rk_array_size(dtype, ndim, shape, &count, &nbytes)) != RK_OK) return st;
    if (!data && nbytes) return RK_ERR_INVALID;
    if (dtype == RK_DTYPE_BOOL && !rk_bools_ok(data, nbytes)) return RK_ERR_INVALID;
    m = rk_load_pp(msgpp);
    st = rk_array_append(&m, ndim, shape, data, nbytes, &off);
    rk_store_pp(msgpp, m);
    if (st != RK_OK) return st;
    field_view(m, f)->off = off;
    field_view(m, f)->len = (uint32_t)nbytes;
    return RK_OK;
}

rk_status_t rk_msg_set_nil(rk_msg_t **msgpp, size_t field_offset)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    char *p;

    if (st != RK_OK) return st;
    p = (char *)rk_load_pp(msgpp) + f->offset;
    switch (f->kind) {
    case RK_KIND_STR:
    case RK_KIND_BYTES:
    case RK_KIND_LIST:
    case RK_KIND_TUPLE:
    case RK_KIND_DICT:
    case RK_KIND_ARRAY:
    case RK_KIND_LIST_LIST:
    case RK_KIND_LIST_MSG:
    case RK_KIND_MSG: memset(p, 0, sizeof(rk_view_t)); return RK_OK;
    default: {
        rk_kind_t base;
        size_t has_off, size;
        if (!rk_opt_layout(f->kind, &base, &has_off, &size)) return RK_ERR_TYPE;
        memset(p, 0, size);
        return RK_OK;
    }
    }
}

/* ---- validation ---------------------------------------------------------- */

/* A view's data [off, off + bytes) must lie in the tail of a block of @p size. */
static int view_ok(const rk_msg_t *m, rk_view_t v, size_t bytes, size_t size)
{
    if (v.off == 0) return 1;
    if (v.off < m->type->struct_size) return 0;
    return (size_t)v.off + bytes <= size;
}

static int str_ok(const rk_msg_t *m, rk_view_t v, size_t size, int is_str)
{
    if (v.off == 0) return 1;
    if (!view_ok(m, v, (size_t)v.len + (is_str ? 1 : 0), size)) return 0;
    if (!is_str) return 1;
    const char *s = (const char *)m + v.off;
    return s[v.len] == '\0' && memchr(s, 0, v.len) == NULL;
}

static int bool_ok(const void *p)
{
    unsigned char c;
    memcpy(&c, p, 1);
    return c <= 1;
}

static int elem_ok(const rk_msg_t *m, rk_kind_t kind, const char *p, size_t size)
{
    rk_view_t v;
    switch (kind) {
    case RK_KIND_BOOL: return bool_ok(p);
    case RK_KIND_STR:
    case RK_KIND_BYTES:
        memcpy(&v, p, sizeof v);
        return v.off != 0 && str_ok(m, v, size, kind == RK_KIND_STR);
    default: return 1;
    }
}

/* A LIST / TUPLE (@p dict 0) or DICT (1) view of @p elem elements (nil is fine). */
static int elems_ok(const rk_msg_t *m, rk_kind_t elem, int dict, rk_view_t v, size_t size)
{
    size_t esz = rk_elem_size(elem);
    if (!esz) return 0;
    if (v.off == 0) return 1;
    size_t stride = dict ? sizeof(rk_dict_entry_t) : esz;
    if ((size_t)v.len > size / stride || !view_ok(m, v, (size_t)v.len * stride, size)) return 0;
    if (v.off % 8) return 0;
    if (!dict && elem != RK_KIND_BOOL && elem != RK_KIND_STR && elem != RK_KIND_BYTES) return 1; /* any bits are a value */
    for (uint32_t i = 0; i < v.len; i++) {
        const char *e = (const char *)m + v.off + (size_t)i * stride;
        if (dict) {
            rk_view_t k;
            memcpy(&k, e + offsetof(rk_dict_entry_t, key), sizeof k);
            if (k.off == 0 || !str_ok(m, k, size, 1)) return 0;
            e += offsetof(rk_dict_entry_t, value);
        }
        if (!elem_ok(m, elem, e, size)) return 0;
    }
    return 1;
}

/* A MSG view: a nested block of @p f's type inside the block (nil is fine). */
static int nested_ok(const rk_msg_t *m, const rk_field_t *f, rk_view_t v, size_t size, int depth)
{
    if (v.off == 0) return 1;
    if (v.off % 8 || v.len < sizeof(rk_msg_t) || !view_ok(m, v, v.len, size)) return 0;
    const rk_msg_t *child = (const rk_msg_t *)((const char *)m + v.off);
    return rk_msg_validate_block(child, v.len, f->nested ? f->nested() : NULL, depth + 1) == RK_OK;
}

/* LIST_LIST / LIST_MSG: an 8-aligned array of item views, none nil, each a row / a nested block. */
static int items_ok(const rk_msg_t *m, const rk_field_t *f, rk_view_t v, size_t size, int depth)
{
    if (v.off == 0) return 1;
    if (v.off % 8 || (size_t)v.len > size / sizeof v || !view_ok(m, v, (size_t)v.len * sizeof v, size)) return 0;
    for (uint32_t i = 0; i < v.len; i++) {
        rk_view_t item;
        memcpy(&item, (const char *)m + v.off + (size_t)i * sizeof item, sizeof item);
        if (item.off == 0) return 0;
        if (f->kind == RK_KIND_LIST_LIST ? !elems_ok(m, f->elem, 0, item, size) : !nested_ok(m, f, item, size, depth))
            return 0;
    }
    return 1;
}

static int field_ok(const rk_msg_t *m, const rk_field_t *f, size_t size, int depth)
{
    const char *p = (const char *)m + f->offset;
    rk_view_t v;

    switch (f->kind) {
    case RK_KIND_BOOL: return bool_ok(p);
    case RK_KIND_OPT_INT:
    case RK_KIND_OPT_FLOAT:
    case RK_KIND_OPT_BOOL:
    case RK_KIND_OPT_UUID:
    case RK_KIND_OPT_DATETIME: {
        rk_kind_t base;
        size_t has_off, sz;
        rk_opt_layout(f->kind, &base, &has_off, &sz);
        return bool_ok(p + has_off) && (base != RK_KIND_BOOL || bool_ok(p));
    }
    case RK_KIND_STR:
    case RK_KIND_BYTES: memcpy(&v, p, sizeof v); return str_ok(m, v, size, f->kind == RK_KIND_STR);
    case RK_KIND_LIST:
    case RK_KIND_TUPLE:
    case RK_KIND_DICT: memcpy(&v, p, sizeof v); return elems_ok(m, f->elem, f->kind == RK_KIND_DICT, v, size);
    case RK_KIND_LIST_LIST:
    case RK_KIND_LIST_MSG: memcpy(&v, p, sizeof v); return items_ok(m, f, v, size, depth);
    case RK_KIND_ARRAY: {
        rk_array_t a;
        memcpy(&v, p, sizeof v);
        if (v.off && v.off < m->type->struct_size) return 0;
        return rk_array_read(m, size, v, f->dtype, &a) == RK_OK;
    }
    case RK_KIND_MSG: memcpy(&v, p, sizeof v); return nested_ok(m, f, v, size, depth);
    default: return 1;
    }
}

rk_status_t rk_msg_validate_block(const rk_msg_t *m, size_t limit, const rk_msg_type_t *expect,
                                  int depth)
{
    if (!m) return RK_ERR_INVALID;
    if (depth > RK_MSG_MAX_DEPTH) return RK_ERR_MALFORMED;
    if (limit < sizeof(rk_msg_t) || m->magic != RK_MSG_MAGIC || !m->type) return RK_ERR_MALFORMED;
    if (expect && m->type != expect && strcmp(m->type->name, expect->name) != 0) return RK_ERR_MALFORMED;
    if (m->size > limit || m->size < m->type->struct_size) return RK_ERR_MALFORMED;
    if (m->capacity && m->capacity < m->size) return RK_ERR_MALFORMED;
    for (uint32_t i = 0; i < m->type->nfields; i++)
        if (!field_ok(m, &m->type->fields[i], m->size, depth)) return RK_ERR_MALFORMED;
    return RK_OK;
}

rk_status_t rk_msg_validate(const rk_msg_t *msg)
{
    if (!msg) return RK_ERR_INVALID;
    if (msg->magic != RK_MSG_MAGIC) return RK_ERR_MALFORMED;
    return rk_msg_validate_block(msg, msg->capacity ? msg->capacity : msg->size, NULL, 0);
}

/* ---- equality ------------------------------------------------------------ */

static bool view_bytes_equal(const rk_msg_t *a, rk_view_t va, const rk_msg_t *b, rk_view_t vb)
{
    if ((va.off == 0) != (vb.off == 0)) return false;
    if (va.off == 0) return true;
    return va.len == vb.len && memcmp((const char *)a + va.off, (const char *)b + vb.off, va.len) == 0;
}

static bool elem_equal(rk_kind_t kind, const rk_msg_t *a, const char *pa, const rk_msg_t *b,
                       const char *pb)
{
    rk_view_t va, vb;
    switch (kind) {
    case RK_KIND_STR:
    case RK_KIND_BYTES:
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        return view_bytes_equal(a, va, b, vb);
    case RK_KIND_FLOAT: {
        double x, y;
        memcpy(&x, pa, 8);
        memcpy(&y, pb, 8);
        return x == y || (x != x && y != y); /* NaN equals NaN for round trips */
    }
    default: return memcmp(pa, pb, rk_elem_size(kind)) == 0;
    }
}

/* Two LIST / TUPLE (@p dict 0) or DICT (1) views of @p elem elements. */
static bool elems_equal(rk_kind_t elem, int dict, const rk_msg_t *a, rk_view_t va, const rk_msg_t *b, rk_view_t vb)
{
    size_t stride = dict ? sizeof(rk_dict_entry_t) : rk_elem_size(elem);
    if ((va.off == 0) != (vb.off == 0) || va.len != vb.len) return false;
    for (uint32_t i = 0; va.off && i < va.len; i++) {
        const char *ea = (const char *)a + va.off + i * stride;
        const char *eb = (const char *)b + vb.off + i * stride;
        if (dict) {
            if (!elem_equal(RK_KIND_STR, a, ea, b, eb)) return false;
            ea += offsetof(rk_dict_entry_t, value);
            eb += offsetof(rk_dict_entry_t, value);
        }
        if (!elem_equal(elem, a, ea, b, eb)) return false;
    }
    return true;
}

/* Two nested blocks (MSG views). */
static bool nested_equal(const rk_msg_t *a, rk_view_t va, const rk_msg_t *b, rk_view_t vb)
{
    if ((va.off == 0) != (vb.off == 0)) return false;
    return va.off == 0 ||
           rk_msg_equal((const rk_msg_t *)((const char *)a + va.off), (const rk_msg_t *)((const char *)b + vb.off));
}

static bool field_equal(const rk_field_t *f, const rk_msg_t *a, const rk_msg_t *b)
{
    const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
    rk_view_t va, vb;

    switch (f->kind) {
    case RK_KIND_INT:
    case RK_KIND_UINT:
    case RK_KIND_FLOAT:
    case RK_KIND_BOOL:
    case RK_KIND_STR:
    case RK_KIND_BYTES:
    case RK_KIND_UUID:
    case RK_KIND_DATETIME: return elem_equal(f->kind, a, pa, b, pb);
    case RK_KIND_OPT_INT:
    case RK_KIND_OPT_FLOAT:
    case RK_KIND_OPT_BOOL:
    case RK_KIND_OPT_UUID:
    case RK_KIND_OPT_DATETIME: { /* both nil, or both present with equal values */
        rk_kind_t base;
        size_t has_off, sz;
        rk_opt_layout(f->kind, &base, &has_off, &sz);
        bool ha = pa[has_off] != 0, hb = pb[has_off] != 0;
        return ha == hb && (!ha || elem_equal(base, a, pa, b, pb));
    }
    case RK_KIND_LIST:
    case RK_KIND_TUPLE:
    case RK_KIND_DICT:
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        return elems_equal(f->elem, f->kind == RK_KIND_DICT, a, va, b, vb);
    case RK_KIND_LIST_LIST:
    case RK_KIND_LIST_MSG:
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        if ((va.off == 0) != (vb.off == 0) || va.len != vb.len) return false;
        for (uint32_t i = 0; va.off && i < va.len; i++) {
            rk_view_t ia, ib;
            memcpy(&ia, (const char *)a + va.off + (size_t)i * sizeof ia, sizeof ia);
            memcpy(&ib, (const char *)b + vb.off + (size_t)i * sizeof ib, sizeof ib);
            if (f->kind == RK_KIND_LIST_LIST ? !elems_equal(f->elem, 0, a, ia, b, ib) : !nested_equal(a, ia, b, ib))
                return false;
        }
        return true;
    case RK_KIND_ARRAY: { /* same shape, same bytes (validated blocks) */
        rk_array_t xa, xb;
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        if (rk_array_read(a, a->size, va, f->dtype, &xa) != RK_OK || rk_array_read(b, b->size, vb, f->dtype, &xb) != RK_OK)
            return false;
        if ((xa.data == NULL) != (xb.data == NULL) || xa.ndim != xb.ndim) return false;
        return memcmp(xa.shape, xb.shape, sizeof xa.shape) == 0 &&
               (xa.nbytes == 0 || memcmp(xa.data, xb.data, xa.nbytes) == 0);
    }
    case RK_KIND_MSG:
        memcpy(&va, pa, sizeof va);
        memcpy(&vb, pb, sizeof vb);
        return nested_equal(a, va, b, vb);
    default: return true;
    }
}

bool rk_msg_equal(const rk_msg_t *a, const rk_msg_t *b)
{
    if (!a || !b || !a->type || !b->type) return false;
    if (a->type != b->type && strcmp(a->type->name, b->type->name) != 0) return false;
    if (a->priority != b->priority || !rk_uuid_equal(&a->message_id, &b->message_id) ||
        !rk_uuid_equal(&a->correlation_id, &b->correlation_id))
        return false;
    for (uint32_t i = 0; i < a->type->nfields; i++)
        if (!field_equal(&a->type->fields[i], a, b)) return false;
    return true;
}
