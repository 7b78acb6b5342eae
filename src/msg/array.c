/*
 * msg/array.c - ARRAY values: the dtype table, the record an ARRAY view
 * points to, and reading / checking one.
 *
 * An ARRAY field is a rk_view_t {off, len}: off (8-aligned, 0 = nil) points
 * to a record in the block's tail, len is the element bytes. The record is
 * ndim (u32), a zero word, ndim extents (u64), then the elements in C order,
 * little-endian, exactly the bytes of numpy's `tobytes()`:
 *
 *   off: | ndim u32 | 0 u32 | shape[0] u64 | ... | shape[ndim-1] u64 | elements (len bytes) |
 */
#include "msg/msg_internal.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtypes[RK_DTYPE_COUNT_] = {
    [RK_DTYPE_NONE] = {NULL, 0},      [RK_DTYPE_BOOL] = {"bool", 1},     [RK_DTYPE_I8] = {"int8", 1},
    [RK_DTYPE_I16] = {"int16", 2},    [RK_DTYPE_I32] = {"int32", 4},     [RK_DTYPE_I64] = {"int64", 8},
    [RK_DTYPE_U8] = {"uint8", 1},     [RK_DTYPE_U16] = {"uint16", 2},    [RK_DTYPE_U32] = {"uint32", 4},
    [RK_DTYPE_U64] = {"uint64", 8},   [RK_DTYPE_F32] = {"float32", 4},   [RK_DTYPE_F64] = {"float64", 8},
};

size_t rk_dtype_size(rk_dtype_t dtype)
{
    return (unsigned)dtype < RK_DTYPE_COUNT_ ? dtypes[dtype].size : 0;
}

const char *rk_dtype_name(rk_dtype_t dtype)
{
    return (unsigned)dtype < RK_DTYPE_COUNT_ ? dtypes[dtype].name : NULL;
}

rk_dtype_t rk_dtype_named(const void *name, size_t len)
{
    for (int d = RK_DTYPE_BOOL; d < RK_DTYPE_COUNT_; d++)
        if (rk_name_is(dtypes[d].name, name, len)) return (rk_dtype_t)d;
    return RK_DTYPE_NONE;
}

rk_status_t rk_array_size(rk_dtype_t dtype, uint32_t ndim, const uint64_t *shape, uint64_t *count, size_t *nbytes)
{
    uint64_t n = 1, bytes;
    size_t esz = rk_dtype_size(dtype);

    if (!esz || ndim > RK_ARRAY_MAX_DIMS || (ndim && !shape)) return RK_ERR_INVALID;
    for (uint32_t i = 0; i < ndim; i++)
        if (__builtin_mul_overflow(n, shape[i], &n)) return RK_ERR_TOO_LARGE;
    if (__builtin_mul_overflow(n, (uint64_t)esz, &bytes) || bytes > UINT32_MAX / 4) return RK_ERR_TOO_LARGE;
    *count = n;
    *nbytes = (size_t)bytes;
    return RK_OK;
}

int rk_bools_ok(const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++)
        if (b[i] > 1) return 0;
    return 1;
}

rk_status_t rk_array_append(rk_msg_t **root, uint32_t ndim, const uint64_t *shape, const void *data, size_t nbytes,
                            uint32_t *off)
{
    uint32_t head[2] = {ndim, 0};
    rk_status_t st = rk_msg_reserve(root, RK_ARRAY_REC(ndim) + nbytes, off);
    if (st != RK_OK) return st;
    char *rec = (char *)*root + *off;
    memcpy(rec, head, sizeof head);
    if (ndim) memcpy(rec + 8, shape, 8 * (size_t)ndim);
    if (nbytes) memcpy(rec + RK_ARRAY_REC(ndim), data, nbytes);
    return RK_OK;
}

rk_status_t rk_array_read(const void *blk, size_t size, rk_view_t v, rk_dtype_t dtype, rk_array_t *out)
{
    const char *rec = (const char *)blk + v.off;
    uint32_t ndim;

    memset(out, 0, sizeof *out);
    out->dtype = dtype;
    if (v.off == 0) return RK_OK; /* nil */
    if (v.off % 8 || (size_t)v.off + 8 > size) return RK_ERR_MALFORMED;
    memcpy(&ndim, rec, 4);
    if (ndim > RK_ARRAY_MAX_DIMS || (size_t)v.off + RK_ARRAY_REC(ndim) + v.len > size) return RK_ERR_MALFORMED;
    memcpy(out->shape, rec + 8, 8 * (size_t)ndim);
    out->ndim = ndim;
    if (rk_array_size(dtype, ndim, out->shape, &out->count, &out->nbytes) != RK_OK || out->nbytes != v.len)
        return RK_ERR_MALFORMED;
    out->data = rec + RK_ARRAY_REC(ndim);
    if (dtype == RK_DTYPE_BOOL && !rk_bools_ok(out->data, out->nbytes)) return RK_ERR_MALFORMED;
    return RK_OK;
}

rk_status_t rk_msg_get_array(const rk_msg_t *msg, size_t field_offset, rk_array_t *out)
{
    const rk_field_t *f;
    rk_view_t v;

    if (!msg || !out || msg->magic != RK_MSG_MAGIC || !msg->type) return RK_ERR_INVALID;
    f = rk_field_at(msg->type, field_offset);
    if (!f || f->kind != RK_KIND_ARRAY) return RK_ERR_INVALID;
    memcpy(&v, (const char *)msg + f->offset, sizeof v);
    return rk_array_read(msg, msg->size, v, f->dtype, out) == RK_OK ? RK_OK : RK_ERR_MALFORMED;
}
