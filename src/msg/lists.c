/*
 * msg/lists.c - LIST_LIST and LIST_MSG fields: a list of rows of one element
 * kind, or a list of messages of one type.
 *
 * Both are a rk_view_t {off, len} over `len` item views (8-aligned, none nil):
 * a LIST_LIST item is a row laid out as a LIST value, a LIST_MSG item a nested
 * block laid out as a MSG value (capacity 0: owned by the parent). Every view
 * is relative to the block that holds the field.
 */
#include "msg/msg_internal.h"

#include <string.h>

/* Reserve the item views of a LIST_LIST / LIST_MSG field: *at is their offset. */
static rk_status_t reserve_items(rk_msg_t **pm, size_t count, uint32_t *at)
{
    if (count > (UINT32_MAX / 4) / sizeof(rk_view_t)) return RK_ERR_TOO_LARGE;
    return rk_msg_reserve(pm, count * sizeof(rk_view_t), at);
}

static void put_view(rk_msg_t *m, uint32_t at, uint32_t off, uint32_t len)
{
    rk_view_t v = {off, len};
    memcpy((char *)m + at, &v, sizeof v);
}

rk_status_t rk_msg_set_rows(rk_msg_t **msgpp, size_t field_offset, const void *const *rows, const size_t *lens,
                            size_t count)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    size_t esz;
    uint32_t at;
    rk_msg_t *m;

    if (st != RK_OK) return st;
    if (f->kind != RK_KIND_LIST_LIST || !(esz = rk_elem_size(f->elem))) return RK_ERR_TYPE;
    if (count && (!rows || !lens)) return RK_ERR_INVALID;
    for (size_t i = 0; i < count; i++) {
        if (!rows[i] && lens[i]) return RK_ERR_INVALID;
        if (lens[i] > (UINT32_MAX / 4) / esz) return RK_ERR_TOO_LARGE;
    }
    m = rk_load_pp(msgpp);
    st = reserve_items(&m, count, &at);
    for (size_t i = 0; st == RK_OK && i < count; i++) {
        uint32_t off;
        if ((st = rk_msg_reserve(&m, lens[i] * esz, &off)) != RK_OK) break;
        if ((st = rk_store_elems(&m, f->elem, rows[i], lens[i], off, esz)) != RK_OK) break;
        put_view(m, at + (uint32_t)(i * sizeof(rk_view_t)), off, (uint32_t)lens[i]);
    }
    rk_store_pp(msgpp, m);
    if (st != RK_OK) return st;
    put_view(m, f->offset, at, (uint32_t)count);
    return RK_OK;
}

rk_status_t rk_msg_set_items(rk_msg_t **msgpp, size_t field_offset, const rk_msg_t *const *items, size_t count)
{
    const rk_field_t *f;
    rk_status_t st = rk_setter_field(msgpp, field_offset, &f);
    const rk_msg_type_t *nt;
    uint32_t at;
    rk_msg_t *m;

    if (st != RK_OK) return st;
    if (f->kind != RK_KIND_LIST_MSG) return RK_ERR_TYPE;
    nt = f->nested ? f->nested() : NULL;
    if (count && !items) return RK_ERR_INVALID;
    for (size_t i = 0; i < count; i++) {
        if (!items[i]) return RK_ERR_INVALID;
        if (rk_msg_validate_block(items[i], items[i]->size, nt, 1) != RK_OK) return RK_ERR_MALFORMED;
    }
    m = rk_load_pp(msgpp);
    st = reserve_items(&m, count, &at);
    for (size_t i = 0; st == RK_OK && i < count; i++) {
        uint32_t off;
        if ((st = rk_msg_embed(&m, items[i], &off)) != RK_OK) break;
        put_view(m, at + (uint32_t)(i * sizeof(rk_view_t)), off, items[i]->size);
    }
    rk_store_pp(msgpp, m);
    if (st != RK_OK) return st;
    put_view(m, f->offset, at, (uint32_t)count);
    return RK_OK;
}

const void *rk_msg_get_item(const rk_msg_t *msg, size_t field_offset, size_t i, size_t *len)
{
    const rk_field_t *f;
    rk_view_t v, item;

    if (len) *len = 0;
    if (!msg || msg->magic != RK_MSG_MAGIC || !msg->type) return NULL;
    f = rk_field_at(msg->type, field_offset);
    if (!f || (f->kind != RK_KIND_LIST_LIST && f->kind != RK_KIND_LIST_MSG)) return NULL;
    memcpy(&v, (const char *)msg + f->offset, sizeof v);
    if (v.off == 0 || i >= v.len || (size_t)v.off + (i + 1) * sizeof item > msg->size) return NULL;
    memcpy(&item, (const char *)msg + v.off + i * sizeof item, sizeof item);
    if (item.off == 0 || item.off >= msg->size) return NULL;
    if (len) *len = f->kind == RK_KIND_LIST_LIST ? item.len : 1;
    return (const char *)msg + item.off;
}
