/*
 * msg_internal.h - helpers shared by message.c and the codec: field lookup,
 * element sizes and appending raw bytes to a block's tail.
 */
#ifndef RK_MSG_INTERNAL_H
#define RK_MSG_INTERNAL_H

#include "ringmesh/codec.h"
#include "ringmesh/message.h"

#include <stddef.h>

/*
 * Reply-to marks in the header's internal fields (rk_msg_t::flags and
 * reserved2_), set by the runtime, never by users: a request of rk_call /
 * rk_ask carries RK_MSGF_CALL and the caller's rank; the call's id is the
 * request's message_id, or its correlation_id once RK_MSGF_FWD says the
 * request was forwarded (rk_ctx_send_to) on the call's behalf. An answer
 * carries RK_MSGF_REPLY and goes to the caller's future, never to an outbox.
 * Between ranks the marks travel in a data frame's aux field (rk_wire_aux).
 */
#define RK_MSGF_CALL 0x01u
#define RK_MSGF_FWD 0x02u
#define RK_MSGF_REPLY 0x04u
#define RK_MSGF_MASK 0x07u
#define RK_WIRE_RANK_MAX 0xffffffu /* reply ranks travel in 24 bits */

static inline int32_t rk_msg_reply_rank(const rk_msg_t *m) { return (int32_t)m->reserved2_; }
/** The id of the call @p m belongs to (CALL messages only). */
static inline const rk_uuid_t *rk_msg_call_id(const rk_msg_t *m)
{
    return (m->flags & RK_MSGF_FWD) ? &m->correlation_id : &m->message_id;
}
static inline void rk_msg_mark(rk_msg_t *m, uint8_t flags, int32_t reply_rank)
{
    m->flags = flags;
    m->reserved2_ = (uint32_t)reply_rank;
}
/** The marks as a data frame's aux word: flags in the top byte, reply rank below. */
static inline uint32_t rk_wire_aux(const rk_msg_t *m)
{
    return (uint32_t)(m->flags & RK_MSGF_MASK) << 24 | (m->reserved2_ & RK_WIRE_RANK_MAX);
}
/** Apply a data frame's aux word to a decoded message (unknown bits ignored). */
static inline void rk_wire_aux_apply(rk_msg_t *m, uint32_t aux)
{
    rk_msg_mark(m, (uint8_t)((aux >> 24) & RK_MSGF_MASK), (int32_t)(aux & RK_WIRE_RANK_MAX));
}

/** A copy of @p msg made at rank @p src_rank carrying the marks @p flags / @p reply_rank and, unless NULL, @p corr. */
static inline rk_status_t rk_msg_copy_marked(const rk_msg_t *msg, int32_t src_rank, uint8_t flags, int32_t reply_rank,
                                             const rk_uuid_t *corr, rk_msg_t **out)
{
    rk_status_t st = rk_msg_copy(msg, out);
    if (st != RK_OK) return st;
    (*out)->src_rank = src_rank;
    rk_msg_mark(*out, flags, flags ? reply_rank : 0);
    if (corr) (*out)->correlation_id = *corr;
    return RK_OK;
}

#define RK_MSG_MAX_DEPTH 8     /* nesting of messages inside messages */
#define RK_ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

/** Is the NUL-terminated @p name exactly the @p len bytes at @p bytes (a key or type name off the wire)? */
static inline int rk_name_is(const char *name, const void *bytes, size_t len)
{
    const char *k = (const char *)bytes;
    for (size_t i = 0; i < len; i++)
        if (name[i] != k[i] || name[i] == '\0') return 0;
    return name[len] == '\0';
}
/** Call @p fn for every registered type (no rk_registry_add may run meanwhile); returns how many. */
size_t rk_registry_each(const rk_registry_t *reg, void (*fn)(void *arg, const rk_msg_type_t *type), void *arg);
/** Bytes one element of @p kind occupies in a list (0 for kinds not allowed there). */
size_t rk_elem_size(rk_kind_t kind);
/**
 * A nil-able kind's layout: the value, of kind *@p base, at offset 0 of its
 * struct, then the `has` flag at *@p has_off; *@p size is the struct's size.
 * Returns 0 (nothing set) for a kind that is not nil-able.
 */
static inline int rk_opt_layout(rk_kind_t kind, rk_kind_t *base, size_t *has_off, size_t *size)
{
#define RK__OPT(K, B, T)                                                                                            \
    case K: *base = B; *has_off = offsetof(T, has); *size = sizeof(T); return 1;
    *base = RK_KIND_NONE;
    *has_off = *size = 0;
    switch (kind) {
    RK__OPT(RK_KIND_OPT_INT, RK_KIND_INT, rk_opt_int_t)
    RK__OPT(RK_KIND_OPT_FLOAT, RK_KIND_FLOAT, rk_opt_float_t)
    RK__OPT(RK_KIND_OPT_BOOL, RK_KIND_BOOL, rk_opt_bool_t)
    RK__OPT(RK_KIND_OPT_UUID, RK_KIND_UUID, rk_opt_uuid_t)
    RK__OPT(RK_KIND_OPT_DATETIME, RK_KIND_DATETIME, rk_opt_datetime_t)
    default: return 0;
    }
#undef RK__OPT
}
/* ARRAY values (msg/array.c): the record at a view's offset is ndim, a zero word, the extents. */
#define RK_ARRAY_REC(ndim) (8u + 8u * (size_t)(ndim))
/** The dtype named @p len bytes at @p name ("float32"), or RK_DTYPE_NONE. */
rk_dtype_t rk_dtype_named(const void *name, size_t len);
/** Elements and bytes of an array (overflow-checked: RK_ERR_TOO_LARGE; bad dtype / ndim: RK_ERR_INVALID). */
rk_status_t rk_array_size(rk_dtype_t dtype, uint32_t ndim, const uint64_t *shape, uint64_t *count, size_t *nbytes);
/** Are all @p n bytes 0 or 1 (BOOL elements)? */
int rk_bools_ok(const void *data, size_t n);
/**
 * Append an ARRAY record (ndim, @p shape, then @p nbytes of @p data) to the
 * tail of *@p root (which may move); *@p off: its offset in the root block.
 */
rk_status_t rk_array_append(rk_msg_t **root, uint32_t ndim, const uint64_t *shape, const void *data, size_t nbytes,
                            uint32_t *off);
/**
 * Append a copy of the message @p child to the tail of *@p root (which may
 * move), owned by it (capacity 0); *@p off: its offset in the root block.
 */
rk_status_t rk_msg_embed(rk_msg_t **root, const rk_msg_t *child, uint32_t *off);
/** Read and check the ARRAY view @p v of the block @p blk of @p size bytes (RK_ERR_MALFORMED when off). */
rk_status_t rk_array_read(const void *blk, size_t size, rk_view_t v, rk_dtype_t dtype, rk_array_t *out);
/* Declared defaults (msg/defaults.c). */
/** May @p f have its default (kind allows one, BOOL 0/1, STR text)? 1 also without a default. */
int rk_default_ok(const rk_field_t *f);
/** Write @p t's declared defaults into the block at offset @p base of *@p root (STR ones append). */
rk_status_t rk_defaults_apply(rk_msg_t **root, uint32_t base, const rk_msg_type_t *t);
/* Setter plumbing shared by msg/message.c and msg/lists.c. */
/** The caller's message pointer behind a setter's T ** (read as bytes: it may really be a T *). */
rk_msg_t *rk_load_pp(rk_msg_t **msgpp);
/** Store @p m back through the setter's T **. */
void rk_store_pp(rk_msg_t **msgpp, rk_msg_t *m);
/** The field at @p field_offset of a top-level message a setter may change. */
rk_status_t rk_setter_field(rk_msg_t **msgpp, size_t field_offset, const rk_field_t **f);
/** Write @p count input elements of @p kind (message.h's element arrays) at @p dst_off, @p stride apart. */
rk_status_t rk_store_elems(rk_msg_t **pm, rk_kind_t kind, const void *elems, size_t count, uint32_t dst_off,
                           size_t stride);
/** STR text: well-formed UTF-8 without NUL bytes (msg/utf8.c). */
bool rk_text_ok(const void *data, size_t len);
/** The field of @p type at struct offset @p off, or NULL. */
const rk_field_t *rk_field_at(const rk_msg_type_t *type, size_t off);
/** Create a block with room for @p tail bytes after the struct. */
rk_status_t rk_msg_alloc(const rk_msg_type_t *type, size_t tail, rk_msg_t **out);
/**
 * Reserve @p len bytes (8-aligned start) at the end of *pm, growing it when
 * needed; *off receives the offset of the new bytes (zeroed).
 */
rk_status_t rk_msg_reserve(rk_msg_t **pm, size_t len, uint32_t *off);
/**
 * rk_msg_serialize without the validation (the caller validated @p msg): the
 * msgpack bytes start at offset @p reserve of @p out, whose first @p reserve
 * bytes are left for the caller to fill (a frame header).
 */
rk_status_t rk_msg_encode_after(const rk_msg_t *msg, rk_buf_t *out, size_t reserve);
/* The compact form between ringmesh ranks (msg/compact.c). */
#define RK_COMPACT_HDR 8
/** Hash of @p t's block layout (name, fields, offsets, sizes, byte order); 0: no compact form. */
uint32_t rk_type_block_hash(const rk_msg_type_t *t);
/** Write the compact form of @p msg (layout @p hash) at offset @p reserve of @p out. */
rk_status_t rk_msg_encode_block_after(const rk_msg_t *msg, uint32_t hash, rk_buf_t *out, size_t reserve);
/** Is @p data a compact form? Then *@p hash is its layout hash. */
int rk_payload_is_block(const void *data, size_t len, uint32_t *hash);
/** A compact form of type @p t into a new, validated block (RK_ERR_DECODE when anything is off). */
rk_status_t rk_msg_decode_block(const rk_msg_type_t *t, const void *data, size_t len, size_t max_len,
                                rk_msg_t **out);
/** Validate a block against @p limit bytes and its expected type (NULL: any). */
rk_status_t rk_msg_validate_block(const rk_msg_t *m, size_t limit, const rk_msg_type_t *expect,
                                  int depth);

#endif
