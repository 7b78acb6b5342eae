/**
 * @file ringmesh/message.h
 * @brief Typed, immutable messages as one relocatable block.
 *
 * A message type is declared once with an X-macro field list; that yields a C
 * struct whose first member is the common header (rk_msg_t) and a static
 * descriptor (rk_msg_type_t) used by validation and the msgpack codec.
 *
 * Key invariant: a message is ONE contiguous block. Variable-length fields
 * (str, bytes, list, tuple, dict, nested message) are rk_view_t {off, len}
 * pairs whose offset is relative to the start of the block that holds them, so
 * a block can be copied anywhere (mailbox, pinned memory, GPU) with a memcpy.
 * A view with off == 0 is nil (offset 0 is the header, never data).
 *
 * Declaring a type (header):
 * @code{.c}
 *   #define WORK_REQUEST(F)              \
 *       F(WorkRequest, data, LIST, FLOAT) \
 *       F(WorkRequest, operation, STR, _)
 *   RK_MESSAGE_DECLARE(WorkRequest, WORK_REQUEST)
 * @endcode
 * Defining its descriptor (exactly one .c file):
 * @code{.c}
 *   RK_MESSAGE_DEFINE(WorkRequest, WORK_REQUEST)
 * @endcode
 *
 * Field kinds (third argument) and their C member types:
 *   INT int64_t, FLOAT double, BOOL bool, STR/BYTES rk_view_t,
 *   OPT_INT rk_opt_int_t, OPT_FLOAT rk_opt_float_t, OPT_BOOL rk_opt_bool_t
 *   (nil-able scalars), UUID rk_uuid_t, DATETIME int64_t (microseconds since
 *   the Unix epoch, UTC), OPT_UUID rk_opt_uuid_t, OPT_DATETIME
 *   rk_opt_datetime_t (nil-able UUID and DATETIME: None on the Python side),
 *   UINT uint64_t (0..2^64-1), LIST/TUPLE/DICT rk_view_t (fourth argument:
 *   element kind INT UINT FLOAT BOOL STR BYTES UUID DATETIME; dict keys are
 *   strings), MSG rk_view_t (fourth argument: the nested message type name),
 *   ARRAY rk_view_t (fourth argument: the element dtype BOOL I8 I16 I32 I64 U8
 *   U16 U32 U64 F32 F64; read with rk_msg_get_array or T_get_<field>),
 *   LIST_LIST rk_view_t (a list of lists; fourth argument: the element kind,
 *   as for LIST), LIST_MSG rk_view_t (a list of messages; fourth argument: the
 *   nested type name); T_get_<field>(m, i, ...) reads item i, `len` the count.
 *
 * Declared defaults: for INT UINT FLOAT BOOL DATETIME STR OPT_INT OPT_FLOAT
 * OPT_BOOL the fourth argument may be RK_DEFAULT(value) instead of `_`, e.g.
 * `F(Resp, success, BOOL, RK_DEFAULT(true))`, `F(Req, op, STR, RK_DEFAULT("sum"))`.
 * The default is the field's value in a new message (T_new, rk_msg_create)
 * and when the key is missing on the wire (an older sender's version of the
 * type), as a Python dataclass default is. Without one, a field starts zero /
 * nil. A message_id missing on the wire becomes a fresh UUIDv4 (nested
 * messages: nil), a missing
 * priority 128.
 *
 * Ownership: a message made by rk_msg_create(), rk_msg_copy(),
 * rk_msg_deserialize(), rk_receive() or rk_ctx_receive() belongs to the caller
 * and is freed with rk_msg_free(). Sending never takes it: rk_send() and the
 * rk_ctx_* senders copy.
 *
 * Thread safety: the functions here are thread-safe as long as no two threads
 * use the same message at the same time while one of them modifies it (the
 * setters, rk_msg_set_priority(), rk_msg_set_correlation(), rk_msg_free()).
 * A message that is no longer modified may be read by any number of threads.
 */
#ifndef RINGMESH_MESSAGE_H
#define RINGMESH_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringmesh/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A 16-byte UUID in RFC 4122 byte order. All-zero is the nil UUID. */
typedef struct rk_uuid {
    uint8_t bytes[16]; /**< the 16 bytes, most significant first */
} rk_uuid_t;

/** A view of variable-length data inside a message block; off == 0 means nil. */
typedef struct rk_view {
    uint32_t off; /**< byte offset from the start of the containing block */
    uint32_t len; /**< bytes for str/bytes (str excludes its NUL), elements for list/dict */
} rk_view_t;

/** A nil-able integer (field kind OPT_INT). */
typedef struct rk_opt_int {
    int64_t value; /**< the value when has is true */
    bool has; /**< false: the field is nil */
} rk_opt_int_t;
/** A nil-able double (field kind OPT_FLOAT). */
typedef struct rk_opt_float {
    double value; /**< the value when has is true */
    bool has;     /**< false: the field is nil */
} rk_opt_float_t;
/** A nil-able bool (field kind OPT_BOOL). */
typedef struct rk_opt_bool {
    bool value; /**< the value when has is true */
    bool has;   /**< false: the field is nil */
} rk_opt_bool_t;

/** A nil-able UUID (field kind OPT_UUID): `UUID | None` on the Python side. */
typedef struct rk_opt_uuid {
    rk_uuid_t value; /**< the value when has is true */
    bool has;        /**< false: the field is nil */
} rk_opt_uuid_t;
/** A nil-able datetime (field kind OPT_DATETIME): `datetime | None` on the Python side. */
typedef struct rk_opt_datetime {
    int64_t value; /**< microseconds since the Unix epoch, UTC, when has is true */
    bool has;      /**< false: the field is nil */
} rk_opt_datetime_t;

/** Element types of ARRAY fields (numpy's dtype names on the wire: "bool", "int8" .. "float64"). */
typedef enum rk_dtype {
    RK_DTYPE_NONE = 0, /**< not an array */
    RK_DTYPE_BOOL,     /**< bool, one byte 0 or 1 ("bool") */
    RK_DTYPE_I8,       /**< int8_t ("int8") */
    RK_DTYPE_I16,      /**< int16_t ("int16") */
    RK_DTYPE_I32,      /**< int32_t ("int32") */
    RK_DTYPE_I64,      /**< int64_t ("int64") */
    RK_DTYPE_U8,       /**< uint8_t ("uint8") */
    RK_DTYPE_U16,      /**< uint16_t ("uint16") */
    RK_DTYPE_U32,      /**< uint32_t ("uint32") */
    RK_DTYPE_U64,      /**< uint64_t ("uint64") */
    RK_DTYPE_F32,      /**< float ("float32") */
    RK_DTYPE_F64,      /**< double ("float64") */
    RK_DTYPE_COUNT_    /**< number of dtypes (not a dtype) */
} rk_dtype_t;

/** The most dimensions an ARRAY value may have. */
#define RK_ARRAY_MAX_DIMS 8

/**
 * A read-only view of an ARRAY value inside a message (no copy): @p data
 * points into the block (8-byte aligned, C order, little-endian elements) and
 * is valid while the message lives and is not modified. A nil value has
 * data NULL, ndim 0 and count 0.
 */
typedef struct rk_array {
    rk_dtype_t dtype;                   /**< the field's element dtype */
    uint32_t ndim;                      /**< dimensions, 0..RK_ARRAY_MAX_DIMS (0: a scalar array of one element) */
    uint64_t shape[RK_ARRAY_MAX_DIMS];  /**< extent per dimension (first ndim used) */
    uint64_t count;                     /**< elements: the product of the extents (1 when ndim is 0) */
    size_t nbytes;                      /**< count * element size */
    const void *data;                   /**< the elements, or NULL when the value is nil */
} rk_array_t;

/** Bytes per element of @p dtype (0 for RK_DTYPE_NONE or an unknown value). */
size_t rk_dtype_size(rk_dtype_t dtype);
/** numpy's name of @p dtype ("float32"), or NULL for an unknown value. */
const char *rk_dtype_name(rk_dtype_t dtype);

/** A field's declared default (RK_DEFAULT in the declaration); set is 0 without one. */
typedef struct rk_default {
    uint32_t set; /**< 1 when the field has a declared default */
    int64_t i;    /**< INT, DATETIME, OPT_INT; BOOL and OPT_BOOL as 0 / 1 */
    uint64_t u;   /**< UINT */
    double f;     /**< FLOAT, OPT_FLOAT */
    const char *s; /**< STR (UTF-8, no NUL) */
} rk_default_t;

/** A byte string given to a setter (elements of a BYTES list or dict). */
typedef struct rk_blob {
    const void *data; /**< the bytes (may be NULL when len is 0) */
    size_t len;       /**< number of bytes */
} rk_blob_t;

/** One value of a dict entry, by element kind. */
typedef union rk_value {
    int64_t i;   /**< INT, DATETIME */
    double f;    /**< FLOAT */
    bool b;      /**< BOOL */
    rk_view_t v; /**< STR, BYTES */
    rk_uuid_t u; /**< UUID */
    uint64_t n;  /**< UINT */
} rk_value_t;

/** A dict entry as stored in the block: a string key and a value. */
typedef struct rk_dict_entry {
    rk_view_t key;    /**< the key string (a STR view into the same block) */
    uint32_t pad_;    /**< reserved, zero */
    uint32_t pad2_;   /**< reserved, zero */
    rk_value_t value; /**< the value, by the dict's element kind */
} rk_dict_entry_t;

/** Field kinds of the seed's type table (the C member type of each is in the file comment). */
typedef enum rk_kind {
    RK_KIND_NONE = 0,   /**< no kind: the element kind of a non-container field */
    RK_KIND_INT,        /**< int64_t */
    RK_KIND_FLOAT,      /**< double */
    RK_KIND_BOOL,       /**< bool */
    RK_KIND_STR,        /**< UTF-8 string without NUL bytes (rk_view_t, NUL-terminated in the block) */
    RK_KIND_BYTES,      /**< byte string (rk_view_t) */
    RK_KIND_OPT_INT,    /**< nil-able int64_t (rk_opt_int_t) */
    RK_KIND_OPT_FLOAT,  /**< nil-able double (rk_opt_float_t) */
    RK_KIND_OPT_BOOL,   /**< nil-able bool (rk_opt_bool_t) */
    RK_KIND_UUID,       /**< rk_uuid_t */
    RK_KIND_DATETIME,   /**< int64_t microseconds since the Unix epoch, UTC */
    RK_KIND_LIST,       /**< list of one element kind (rk_view_t; len = elements) */
    RK_KIND_TUPLE,      /**< like LIST, a tuple on the Python side */
    RK_KIND_DICT,       /**< string-keyed dict of one element kind (rk_view_t over rk_dict_entry_t) */
    RK_KIND_MSG,        /**< nested message of a declared type (rk_view_t over its block) */
    RK_KIND_OPT_UUID,   /**< nil-able UUID (rk_opt_uuid_t) */
    RK_KIND_OPT_DATETIME, /**< nil-able DATETIME (rk_opt_datetime_t) */
    RK_KIND_UINT,       /**< uint64_t, the full range 0..2^64-1 */
    RK_KIND_ARRAY,      /**< n-dimensional array of one dtype (rk_view_t; rk_msg_get_array reads it) */
    RK_KIND_LIST_LIST,  /**< list of lists of one element kind (rk_view_t over rk_view_t rows) */
    RK_KIND_LIST_MSG,   /**< list of messages of one declared type (rk_view_t over rk_view_t blocks) */
    RK_KIND_COUNT_      /**< number of kinds (not a kind) */
} rk_kind_t;

struct rk_msg_type;

/** One field of a message type's descriptor. */
typedef struct rk_field {
    const char *name;                /**< the wire key */
    rk_kind_t kind;                  /**< the field's kind */
    rk_kind_t elem;                  /**< element kind of LIST/TUPLE/DICT, else NONE */
    uint32_t offset;                 /**< offsetof the member in the struct */
    const struct rk_msg_type *(*nested)(void); /**< MSG: the nested type */
    rk_dtype_t dtype;                /**< ARRAY: the element dtype, else RK_DTYPE_NONE */
    rk_default_t def;                /**< the declared default, if any */
} rk_field_t;

/** A message type's descriptor; generated by RK_MESSAGE_DEFINE. */
typedef struct rk_msg_type {
    const char *name;          /**< the `__type__` name on the wire */
    uint32_t struct_size;      /**< sizeof the generated struct */
    uint32_t nfields;          /**< user fields, in declaration order */
    const rk_field_t *fields;  /**< nfields descriptors, in declaration order */
    uint32_t ndefaults;        /**< fields with a declared default (counted by RK_MESSAGE_DEFINE) */
} rk_msg_type_t;

/** rk_msg_t::magic of every valid block: "RKM1". */
#define RK_MSG_MAGIC 0x524b4d31u /* "RKM1" */
/** The priority of a new message (0 is the lowest, 255 the highest). */
#define RK_PRIORITY_DEFAULT 128
#define RK_NTS ((size_t)-1) /**< "NUL-terminated": length argument for C strings */

/**
 * The common header: the first member of every message struct (64 bytes).
 * message_id is a random UUIDv4 made at creation, priority 0..255 (higher is
 * served first), correlation_id is nil or the message_id of the request this
 * message answers.
 */
typedef struct rk_msg {
    uint32_t magic;     /**< RK_MSG_MAGIC */
    uint32_t size;      /**< bytes of the block in use (header, body, tail) */
    uint32_t capacity;  /**< bytes allocated; 0 for a nested block */
    uint8_t pool_class; /**< internal: allocator size class */
    uint8_t flags;      /**< internal */
    uint8_t priority;   /**< 0..255, default 128 */
    uint8_t reserved_;  /**< reserved, zero */
    const rk_msg_type_t *type; /**< descriptor (host address; not used on device) */
    rk_uuid_t message_id;      /**< random UUIDv4 given at creation (kept by copies and the wire) */
    rk_uuid_t correlation_id; /**< nil = none */
    int32_t src_rank;         /**< rank the message arrived from; -1 = made here */
    uint32_t reserved2_;      /**< reserved, zero */
} rk_msg_t;

/* ---- X-macro machinery ------------------------------------------------ */
/* RK__* names are internal helpers of RK_MESSAGE_DECLARE / RK_MESSAGE_DEFINE. */
#define RK__CT_INT int64_t
#define RK__CT_FLOAT double
#define RK__CT_BOOL bool
#define RK__CT_STR rk_view_t
#define RK__CT_BYTES rk_view_t
#define RK__CT_OPT_INT rk_opt_int_t
#define RK__CT_OPT_FLOAT rk_opt_float_t
#define RK__CT_OPT_BOOL rk_opt_bool_t
#define RK__CT_UUID rk_uuid_t
#define RK__CT_DATETIME int64_t
#define RK__CT_LIST rk_view_t
#define RK__CT_TUPLE rk_view_t
#define RK__CT_DICT rk_view_t
#define RK__CT_MSG rk_view_t
#define RK__CT_OPT_UUID rk_opt_uuid_t
#define RK__CT_OPT_DATETIME rk_opt_datetime_t
#define RK__CT_UINT uint64_t
#define RK__CT_ARRAY rk_view_t
#define RK__CT_LIST_LIST rk_view_t
#define RK__CT_LIST_MSG rk_view_t

#define RK__ELEM_INT(e) RK_KIND_NONE
#define RK__ELEM_FLOAT(e) RK_KIND_NONE
#define RK__ELEM_BOOL(e) RK_KIND_NONE
#define RK__ELEM_STR(e) RK_KIND_NONE
#define RK__ELEM_BYTES(e) RK_KIND_NONE
#define RK__ELEM_OPT_INT(e) RK_KIND_NONE
#define RK__ELEM_OPT_FLOAT(e) RK_KIND_NONE
#define RK__ELEM_OPT_BOOL(e) RK_KIND_NONE
#define RK__ELEM_UUID(e) RK_KIND_NONE
#define RK__ELEM_DATETIME(e) RK_KIND_NONE
#define RK__ELEM_LIST(e) RK_KIND_##e
#define RK__ELEM_TUPLE(e) RK_KIND_##e
#define RK__ELEM_DICT(e) RK_KIND_##e
#define RK__ELEM_MSG(e) RK_KIND_NONE
#define RK__ELEM_OPT_UUID(e) RK_KIND_NONE
#define RK__ELEM_OPT_DATETIME(e) RK_KIND_NONE
#define RK__ELEM_UINT(e) RK_KIND_NONE
#define RK__ELEM_ARRAY(e) RK_KIND_NONE
#define RK__ELEM_LIST_LIST(e) RK_KIND_##e
#define RK__ELEM_LIST_MSG(e) RK_KIND_NONE

#define RK__NEST_INT(e) NULL
#define RK__NEST_FLOAT(e) NULL
#define RK__NEST_BOOL(e) NULL
#define RK__NEST_STR(e) NULL
#define RK__NEST_BYTES(e) NULL
#define RK__NEST_OPT_INT(e) NULL
#define RK__NEST_OPT_FLOAT(e) NULL
#define RK__NEST_OPT_BOOL(e) NULL
#define RK__NEST_UUID(e) NULL
#define RK__NEST_DATETIME(e) NULL
#define RK__NEST_LIST(e) NULL
#define RK__NEST_TUPLE(e) NULL
#define RK__NEST_DICT(e) NULL
#define RK__NEST_MSG(e) e##_type
#define RK__NEST_OPT_UUID(e) NULL
#define RK__NEST_OPT_DATETIME(e) NULL
#define RK__NEST_UINT(e) NULL
#define RK__NEST_ARRAY(e) NULL
#define RK__NEST_LIST_LIST(e) NULL
#define RK__NEST_LIST_MSG(e) e##_type

/*
 * The descriptor's tail per kind: dtype, then the declared default. The
 * fourth argument is `_` (no default) or RK_DEFAULT(v); kinds without
 * defaults refuse RK_DEFAULT at compile time (RK__DV*_RK_DEFAULT undefined).
 */
/** Declare a field's default value in the fourth column (see the file comment). */
#define RK_DEFAULT(v) RK_DEFAULT(v)
#define RK__DV0 {0, 0, 0, 0.0, NULL}
#define RK__DVI__ RK__DV0
#define RK__DVI_RK_DEFAULT(v) {1, (int64_t)(v), 0, 0.0, NULL}
#define RK__DVB__ RK__DV0
#define RK__DVB_RK_DEFAULT(v) {1, (v) ? 1 : 0, 0, 0.0, NULL}
#define RK__DVU__ RK__DV0
#define RK__DVU_RK_DEFAULT(v) {1, 0, (uint64_t)(v), 0.0, NULL}
#define RK__DVF__ RK__DV0
#define RK__DVF_RK_DEFAULT(v) {1, 0, 0, (double)(v), NULL}
#define RK__DVS__ RK__DV0
#define RK__DVS_RK_DEFAULT(v) {1, 0, 0, 0.0, (v)}
#define RK__DVX__ RK__DV0
/* 1 for a field with RK_DEFAULT, else 0: RK_MESSAGE_DEFINE counts them into ndefaults. */
#define RK__HV__ 0
#define RK__HV_RK_DEFAULT(v) 1
#define RK__HAS_INT(e) RK__HV_##e
#define RK__HAS_FLOAT(e) RK__HV_##e
#define RK__HAS_BOOL(e) RK__HV_##e
#define RK__HAS_STR(e) RK__HV_##e
#define RK__HAS_BYTES(e) 0
#define RK__HAS_OPT_INT(e) RK__HV_##e
#define RK__HAS_OPT_FLOAT(e) RK__HV_##e
#define RK__HAS_OPT_BOOL(e) RK__HV_##e
#define RK__HAS_UUID(e) 0
#define RK__HAS_DATETIME(e) RK__HV_##e
#define RK__HAS_LIST(e) 0
#define RK__HAS_TUPLE(e) 0
#define RK__HAS_DICT(e) 0
#define RK__HAS_MSG(e) 0
#define RK__HAS_OPT_UUID(e) 0
#define RK__HAS_OPT_DATETIME(e) 0
#define RK__HAS_UINT(e) RK__HV_##e
#define RK__HAS_ARRAY(e) 0
#define RK__HAS_LIST_LIST(e) 0
#define RK__HAS_LIST_MSG(e) 0
#define RK__NDEF(T, name, kind, elem) +RK__HAS_##kind(elem)
#define RK__TAIL_INT(e) RK_DTYPE_NONE, RK__DVI_##e
#define RK__TAIL_FLOAT(e) RK_DTYPE_NONE, RK__DVF_##e
#define RK__TAIL_BOOL(e) RK_DTYPE_NONE, RK__DVB_##e
#define RK__TAIL_STR(e) RK_DTYPE_NONE, RK__DVS_##e
#define RK__TAIL_BYTES(e) RK_DTYPE_NONE, RK__DVX_##e
#define RK__TAIL_OPT_INT(e) RK_DTYPE_NONE, RK__DVI_##e
#define RK__TAIL_OPT_FLOAT(e) RK_DTYPE_NONE, RK__DVF_##e
#define RK__TAIL_OPT_BOOL(e) RK_DTYPE_NONE, RK__DVB_##e
#define RK__TAIL_UUID(e) RK_DTYPE_NONE, RK__DVX_##e
#define RK__TAIL_DATETIME(e) RK_DTYPE_NONE, RK__DVI_##e
#define RK__TAIL_LIST(e) RK_DTYPE_NONE, RK__DV0
#define RK__TAIL_TUPLE(e) RK_DTYPE_NONE, RK__DV0
#define RK__TAIL_DICT(e) RK_DTYPE_NONE, RK__DV0
#define RK__TAIL_MSG(e) RK_DTYPE_NONE, RK__DV0
#define RK__TAIL_OPT_UUID(e) RK_DTYPE_NONE, RK__DVX_##e
#define RK__TAIL_OPT_DATETIME(e) RK_DTYPE_NONE, RK__DVX_##e
#define RK__TAIL_UINT(e) RK_DTYPE_NONE, RK__DVU_##e
#define RK__TAIL_ARRAY(e) RK_DTYPE_##e, RK__DV0
#define RK__TAIL_LIST_LIST(e) RK_DTYPE_NONE, RK__DV0
#define RK__TAIL_LIST_MSG(e) RK_DTYPE_NONE, RK__DV0

/* C element types of ARRAY fields, by dtype. */
#define RK__AT_BOOL bool
#define RK__AT_I8 int8_t
#define RK__AT_I16 int16_t
#define RK__AT_I32 int32_t
#define RK__AT_I64 int64_t
#define RK__AT_U8 uint8_t
#define RK__AT_U16 uint16_t
#define RK__AT_U32 uint32_t
#define RK__AT_U64 uint64_t
#define RK__AT_F32 float
#define RK__AT_F64 double

/* Element types of LIST/TUPLE/DICT values, by element kind. */
/** Internal: the element type of a STR list, for the typed setters. */
typedef const char *rk__cstr_t;
#define RK__ET_INT int64_t
#define RK__ET_FLOAT double
#define RK__ET_BOOL bool
#define RK__ET_STR rk__cstr_t
#define RK__ET_BYTES rk_blob_t
#define RK__ET_UUID rk_uuid_t
#define RK__ET_DATETIME int64_t
#define RK__ET_UINT uint64_t
/* Element types as stored in the block (rows of LIST_LIST), by element kind. */
#define RK__ST_INT int64_t
#define RK__ST_FLOAT double
#define RK__ST_BOOL bool
#define RK__ST_STR rk_view_t
#define RK__ST_BYTES rk_view_t
#define RK__ST_UUID rk_uuid_t
#define RK__ST_DATETIME int64_t
#define RK__ST_UINT uint64_t

/* A scalar field's setter: stores @p v (the block does not move). */
#define RK__SET_SCALAR(T, name, ctype)                                    \
    static inline rk_status_t T##_set_##name(T **m, ctype v)              \
    {                                                                     \
        if (!m || !*m) return RK_ERR_INVALID;                             \
        (*m)->name = v;                                                   \
        return RK_OK;                                                     \
    }
/* A nil-able scalar's setter: stores @p v and marks it present (nil: rk_msg_set_nil). */
#define RK__SET_OPT(T, name, ctype)                                       \
    static inline rk_status_t T##_set_##name(T **m, ctype v)              \
    {                                                                     \
        if (!m || !*m) return RK_ERR_INVALID;                             \
        (*m)->name.value = v;                                             \
        (*m)->name.has = true;                                            \
        return RK_OK;                                                     \
    }
#define RK__SET_INT(T, name, e) RK__SET_SCALAR(T, name, int64_t)
#define RK__SET_FLOAT(T, name, e) RK__SET_SCALAR(T, name, double)
#define RK__SET_BOOL(T, name, e) RK__SET_SCALAR(T, name, bool)
#define RK__SET_UUID(T, name, e) RK__SET_SCALAR(T, name, rk_uuid_t)
#define RK__SET_DATETIME(T, name, e) RK__SET_SCALAR(T, name, int64_t)
#define RK__SET_OPT_INT(T, name, e) RK__SET_OPT(T, name, int64_t)
#define RK__SET_OPT_FLOAT(T, name, e) RK__SET_OPT(T, name, double)
#define RK__SET_OPT_BOOL(T, name, e) RK__SET_OPT(T, name, bool)
#define RK__SET_OPT_UUID(T, name, e) RK__SET_OPT(T, name, rk_uuid_t)
#define RK__SET_OPT_DATETIME(T, name, e) RK__SET_OPT(T, name, int64_t)
#define RK__SET_UINT(T, name, e) RK__SET_SCALAR(T, name, uint64_t)
#define RK__SET_STR(T, name, e)                                                   \
    static inline rk_status_t T##_set_##name(T **m, const char *s)                \
    {                                                                             \
        return rk_msg_set_str((rk_msg_t **)(void *)m, offsetof(T, name), s, RK_NTS); \
    }
#define RK__SET_BYTES(T, name, e)                                                     \
    static inline rk_status_t T##_set_##name(T **m, const void *d, size_t n)          \
    {                                                                                 \
        return rk_msg_set_bytes((rk_msg_t **)(void *)m, offsetof(T, name), d, n);     \
    }
#define RK__SET_LIST(T, name, e)                                                       \
    static inline rk_status_t T##_set_##name(T **m, const RK__ET_##e *elems, size_t n) \
    {                                                                                  \
        return rk_msg_set_list((rk_msg_t **)(void *)m, offsetof(T, name), elems, n);   \
    }
#define RK__SET_TUPLE(T, name, e) RK__SET_LIST(T, name, e)
#define RK__SET_DICT(T, name, e)                                                                         \
    static inline rk_status_t T##_set_##name(T **m, const char *const *keys, const RK__ET_##e *values, \
                                             size_t n)                                                  \
    {                                                                                                   \
        return rk_msg_set_dict((rk_msg_t **)(void *)m, offsetof(T, name), keys, values, n);             \
    }
#define RK__SET_MSG(T, name, e)                                                                       \
    static inline rk_status_t T##_set_##name(T **m, const e *child)                                   \
    {                                                                                                 \
        return rk_msg_set_nested((rk_msg_t **)(void *)m, offsetof(T, name), child ? &child->hdr : NULL); \
    }
/* ARRAY: set from (data, ndim, shape) of the field's dtype; get a view (and the typed data). */
#define RK__SET_ARRAY(T, name, e)                                                                     \
    static inline rk_status_t T##_set_##name(T **m, const RK__AT_##e *data, uint32_t ndim,          \
                                             const uint64_t *shape)                                   \
    {                                                                                                 \
        return rk_msg_set_array((rk_msg_t **)(void *)m, offsetof(T, name), RK_DTYPE_##e, ndim, shape, data); \
    }                                                                                                 \
    static inline const RK__AT_##e *T##_get_##name(const T *m, rk_array_t *view)                    \
    {                                                                                                 \
        rk_array_t a;                                                                                 \
        if (!view) view = &a;                                                                         \
        if (rk_msg_get_array(&m->hdr, offsetof(T, name), view) != RK_OK) return NULL;                \
        return (const RK__AT_##e *)view->data;                                                        \
    }
/* LIST_LIST: set from (rows, lens, count); get row i (its length in *len). */
#define RK__SET_LIST_LIST(T, name, e)                                                                  \
    static inline rk_status_t T##_set_##name(T **m, const RK__ET_##e *const *rows, const size_t *lens, \
                                             size_t count)                                             \
    {                                                                                                  \
        return rk_msg_set_rows((rk_msg_t **)(void *)m, offsetof(T, name), (const void *const *)rows,  \
                               lens, count);                                                           \
    }                                                                                                  \
    static inline const RK__ST_##e *T##_get_##name(const T *m, size_t i, size_t *len)                  \
    {                                                                                                  \
        return (const RK__ST_##e *)rk_msg_get_item(&m->hdr, offsetof(T, name), i, len);                \
    }
/* LIST_MSG: set from (items, count); get item i. */
#define RK__SET_LIST_MSG(T, name, e)                                                                  \
    static inline rk_status_t T##_set_##name(T **m, const e *const *items, size_t count)              \
    {                                                                                                 \
        return rk_msg_set_items((rk_msg_t **)(void *)m, offsetof(T, name),                            \
                                (const rk_msg_t *const *)(const void *)items, count);                 \
    }                                                                                                 \
    static inline const e *T##_get_##name(const T *m, size_t i)                                       \
    {                                                                                                 \
        return (const e *)rk_msg_get_item(&m->hdr, offsetof(T, name), i, NULL);                       \
    }
#define RK__SETTER(T, name, kind, elem) RK__SET_##kind(T, name, elem)

#define RK__MEMBER(T, name, kind, elem) RK__CT_##kind name;
#define RK__FIELD(T, name, kind, elem) \
    {#name, RK_KIND_##kind, RK__ELEM_##kind(elem), (uint32_t)offsetof(T, name), RK__NEST_##kind(elem), \
     RK__TAIL_##kind(elem)},

/**
 * Declare struct T (header first), its descriptor accessor T_type() and its
 * typed helpers: T_new(T **out) (T_new_sized(out, tail_hint) reserves room), T_cast(const rk_msg_t *m) (NULL when @p m is
 * not a T) and a setter per field, T_set_<field>(T **m, ...): a scalar takes
 * its value, STR a C string, BYTES (data, len), LIST/TUPLE (elements, count),
 * DICT (keys, values, count), MSG a pointer to the nested type, ARRAY
 * (data, ndim, shape) of the field's dtype, LIST_LIST (rows, lens, count),
 * LIST_MSG (items, count); an ARRAY field also gets
 * T_get_<field>(const T *m, rk_array_t *view), the typed elements or NULL
 * when nil (view, when not NULL, receives the shape), LIST_LIST and LIST_MSG
 * fields T_get_<field>(m, i, ...) (rk_msg_get_item). The setters
 * take the address of the caller's pointer (a setter may move the block), so
 * passing a `T *` or another type does not compile (C compilers other than
 * GCC >= 14 / Clang >= 16 need -Werror=incompatible-pointer-types, which the
 * ringmesh CMake package and pkg-config file add).
 * A nested MSG field's type must be declared before T.
 * @param T      the type name (also its `__type__` name on the wire)
 * @param FIELDS an X-macro list: FIELDS(F) expands to F(T, name, KIND, ELEM) per field
 */
#define RK_MESSAGE_DECLARE(T, FIELDS)                                                          \
    typedef struct T {                                                                         \
        rk_msg_t hdr;                                                                          \
        FIELDS(RK__MEMBER)                                                                     \
    } T;                                                                                       \
    const rk_msg_type_t *T##_type(void);                                                       \
    /** A new T (rk_msg_create: fresh message_id, priority 128, fields default / zero / nil). */ \
    static inline rk_status_t T##_new(T **out)                                                 \
    {                                                                                          \
        return rk_msg_create(T##_type(), 0, (rk_msg_t **)(void *)out);                         \
    }                                                                                          \
    /** T_new with @p tail_hint bytes reserved for variable-length fields. */                 \
    static inline rk_status_t T##_new_sized(T **out, size_t tail_hint)                         \
    {                                                                                          \
        return rk_msg_create(T##_type(), tail_hint, (rk_msg_t **)(void *)out);                 \
    }                                                                                          \
    /** @p m as a T, or NULL when it is not one (NULL included). */                          \
    static inline const T *T##_cast(const rk_msg_t *m)                                         \
    {                                                                                          \
        return m && m->type == T##_type() ? (const T *)(const void *)m : NULL;                 \
    }                                                                                          \
    FIELDS(RK__SETTER)

/**
 * Define the descriptor of T; place in exactly one translation unit.
 * The descriptor is static and immutable: T_type() is thread-safe.
 */
#define RK_MESSAGE_DEFINE(T, FIELDS)                                            \
    static const rk_field_t T##_fields_[] = {FIELDS(RK__FIELD)};                \
    static const rk_msg_type_t T##_desc_ = {                                    \
        #T, (uint32_t)sizeof(T), (uint32_t)(sizeof(T##_fields_) / sizeof(rk_field_t)), \
        T##_fields_, (uint32_t)(0 FIELDS(RK__NDEF))};                                                           \
    const rk_msg_type_t *T##_type(void) { return &T##_desc_; }

/* ---- creating and freeing ---------------------------------------------- */

/**
 * Create a message of type @p type: header filled (fresh UUIDv4 message_id,
 * priority 128, nil correlation_id), every field its declared default, else
 * zero / nil.
 * @param type      the descriptor, e.g. WorkRequest_type()
 * @param tail_hint bytes to reserve for variable-length fields (0 is fine).
 * @param out       receives the message (cast to T * to set its fields)
 * @return RK_OK, RK_ERR_INVALID (also: a STR default that is not UTF-8 text),
 * RK_ERR_NOMEM, RK_ERR_TOO_LARGE.
 * Ownership: *out is the caller's; free with rk_msg_free(). Thread-safe.
 */
rk_status_t rk_msg_create(const rk_msg_type_t *type, size_t tail_hint, rk_msg_t **out);

/**
 * Free a message from rk_msg_create/rk_msg_copy/receive/deserialize. NULL is a no-op.
 * Never free a block that a mailbox still owns, a nested block, or a message twice.
 */
void rk_msg_free(rk_msg_t *msg);

/**
 * Deep copy (one memcpy of the used block), message_id included.
 * Caller frees the copy with rk_msg_free.
 * @return RK_OK, RK_ERR_INVALID (NULL or not a message), RK_ERR_NOMEM.
 */
rk_status_t rk_msg_copy(const rk_msg_t *msg, rk_msg_t **out);

/** Set the priority; RK_ERR_PRIORITY when outside 0..255 (message unchanged). */
rk_status_t rk_msg_set_priority(rk_msg_t *msg, int priority);

/** Set the correlation_id (nil UUID clears it). RK_ERR_INVALID for a NULL argument. */
rk_status_t rk_msg_set_correlation(rk_msg_t *msg, const rk_uuid_t *correlation_id);

/**
 * Check a block: magic, sizes, every view inside the block, strings
 * NUL-terminated, element kinds, nested blocks recursively. RK_ERR_MALFORMED
 * when any check fails. Every send and enqueue calls this.
 */
rk_status_t rk_msg_validate(const rk_msg_t *msg);

/**
 * True when both messages have the same type, priority, message_id,
 * correlation_id and field values (variable-length fields compared by
 * content, not by offset). src_rank and the block layout are not compared.
 */
bool rk_msg_equal(const rk_msg_t *a, const rk_msg_t *b);

/* ---- setting variable-length fields ------------------------------------
 * Setters append to the block's tail and may move the block: they take the
 * address of the caller's message pointer and update it. Prefer the typed
 * setters RK_MESSAGE_DECLARE generates (T_set_<field>(T **m, ...)) or the
 * RK_SET_* macros: both refuse, at compile time, a pointer of the wrong type
 * or level. A field set twice leaves its first value as unused tail bytes.
 * @p field_offset is offsetof(T, field); RK_SET_* macros compute it.
 * Element arrays for LIST/TUPLE/DICT values by element kind: INT/DATETIME
 * int64_t[], UINT uint64_t[], FLOAT double[], BOOL bool[], STR const char *[],
 * BYTES rk_blob_t[], UUID rk_uuid_t[].
 * Common errors: RK_ERR_INVALID (NULL, not a top-level message made by
 * rk_msg_create/copy, or no field at @p field_offset), RK_ERR_TYPE (the field
 * has another kind), RK_ERR_NOMEM, RK_ERR_TOO_LARGE. On error *msgpp is still
 * the caller's valid message.
 */
/**
 * Set a STR field to @p len bytes of @p s (RK_NTS: up to its NUL).
 * RK_ERR_INVALID when the string contains a NUL byte.
 */
rk_status_t rk_msg_set_str(rk_msg_t **msgpp, size_t field_offset, const char *s, size_t len);
/** Set a BYTES field to @p len bytes at @p data (NULL only with len 0). */
rk_status_t rk_msg_set_bytes(rk_msg_t **msgpp, size_t field_offset, const void *data, size_t len);
/** Set a LIST or TUPLE field to @p count elements of its element kind, copied from @p elems. */
rk_status_t rk_msg_set_list(rk_msg_t **msgpp, size_t field_offset, const void *elems, size_t count);
/** Set a DICT field to @p count entries: string keys[i] with the value values[i] of its element kind. */
rk_status_t rk_msg_set_dict(rk_msg_t **msgpp, size_t field_offset, const char *const *keys,
                            const void *values, size_t count);
/**
 * Copy the message @p child into a MSG field (NULL sets it to nil).
 * RK_ERR_MALFORMED when @p child fails validation or is not the field's type.
 */
rk_status_t rk_msg_set_nested(rk_msg_t **msgpp, size_t field_offset, const rk_msg_t *child);
/**
 * Set an ARRAY field of dtype @p dtype to @p ndim dimensions of extents
 * @p shape (NULL when ndim is 0: one element), copying the elements from
 * @p data (C order). RK_ERR_TYPE when @p dtype is not the field's;
 * RK_ERR_INVALID for ndim > RK_ARRAY_MAX_DIMS, NULL data with elements, or
 * BOOL elements other than 0 / 1; RK_ERR_TOO_LARGE when the byte count
 * overflows or exceeds a block.
 */
rk_status_t rk_msg_set_array(rk_msg_t **msgpp, size_t field_offset, rk_dtype_t dtype, uint32_t ndim,
                             const uint64_t *shape, const void *data);
/**
 * A view of the ARRAY field at @p field_offset of @p msg (no copy; see
 * rk_array_t). A nil field gives data NULL. RK_ERR_INVALID for a NULL
 * argument or a field that is not an ARRAY.
 */
rk_status_t rk_msg_get_array(const rk_msg_t *msg, size_t field_offset, rk_array_t *out);
/**
 * Set a LIST_LIST field to @p count rows: row i is lens[i] elements of the
 * field's element kind at rows[i] (the element arrays of rk_msg_set_list).
 * RK_ERR_INVALID for a NULL row with elements.
 */
rk_status_t rk_msg_set_rows(rk_msg_t **msgpp, size_t field_offset, const void *const *rows, const size_t *lens,
                            size_t count);
/**
 * Set a LIST_MSG field to copies of @p count messages of the field's type.
 * RK_ERR_INVALID for a NULL item; RK_ERR_MALFORMED when one fails
 * validation or has another type.
 */
rk_status_t rk_msg_set_items(rk_msg_t **msgpp, size_t field_offset, const rk_msg_t *const *items, size_t count);
/**
 * Item @p i of a LIST_LIST or LIST_MSG field (no copy): a row's first element
 * (its element count in *@p len when not NULL), or a nested message. NULL
 * when the field is nil, @p i is out of range, or the field is of another kind.
 */
const void *rk_msg_get_item(const rk_msg_t *msg, size_t field_offset, size_t i, size_t *len);
/** Set a STR/BYTES/LIST/TUPLE/DICT/MSG/ARRAY/LIST_LIST/LIST_MSG/OPT_* field to nil. */
rk_status_t rk_msg_set_nil(rk_msg_t **msgpp, size_t field_offset);

/*
 * RK__PP(pp, T): @p pp as rk_msg_t **, when it is a T ** and nothing else (a
 * compile error otherwise, in C through _Generic, in C++ through the template).
 */
#ifdef __cplusplus
extern "C++" {
template <class T> static inline rk_msg_t **rk__msgpp(T **pp) { return reinterpret_cast<rk_msg_t **>(pp); }
}
#define RK__PP(pp, T) rk__msgpp<T>(pp)
#else
#define RK__PP(pp, T) _Generic((pp), T **: (rk_msg_t **)(void *)(pp))
#endif

/** rk_msg_set_str() of a C string, by field name: RK_SET_STR(&req, WorkRequest, operation, "sum"). */
#define RK_SET_STR(pp, T, field, s) rk_msg_set_str(RK__PP(pp, T), offsetof(T, field), (s), RK_NTS)
/** rk_msg_set_bytes() by field name. */
#define RK_SET_BYTES(pp, T, field, d, n) rk_msg_set_bytes(RK__PP(pp, T), offsetof(T, field), (d), (n))
/** rk_msg_set_list() by field name. */
#define RK_SET_LIST(pp, T, field, e, n) rk_msg_set_list(RK__PP(pp, T), offsetof(T, field), (e), (n))
/** rk_msg_set_dict() by field name. */
#define RK_SET_DICT(pp, T, field, k, v, n) rk_msg_set_dict(RK__PP(pp, T), offsetof(T, field), (k), (v), (n))
/** rk_msg_set_nested() by field name. */
#define RK_SET_NESTED(pp, T, field, c) rk_msg_set_nested(RK__PP(pp, T), offsetof(T, field), (c))
/** rk_msg_set_array() by field name: RK_SET_ARRAY(&m, T, field, RK_DTYPE_F32, ndim, shape, data). */
#define RK_SET_ARRAY(pp, T, field, dt, nd, sh, d) \
    rk_msg_set_array(RK__PP(pp, T), offsetof(T, field), (dt), (nd), (sh), (d))
/** rk_msg_set_nil() by field name. */
#define RK_SET_NIL(pp, T, field) rk_msg_set_nil(RK__PP(pp, T), offsetof(T, field))

/* ---- reading variable-length fields ------------------------------------ */

/** Pointer to a view's data inside @p block (NULL when nil). */
static inline const void *rk_view_ptr(const void *block, rk_view_t v)
{
    return v.off ? (const void *)((const char *)block + v.off) : NULL;
}
/** True when the view is nil (no value). */
static inline bool rk_view_is_nil(rk_view_t v) { return v.off == 0; }

/** The string of a STR view (NUL-terminated), or NULL when nil. */
#define RK_STR(m, field) ((const char *)rk_view_ptr((m), (m)->field))
/** Typed element pointer of a LIST/TUPLE view: RK_LIST(m, data, double). */
#define RK_LIST(m, field, ctype) ((const ctype *)rk_view_ptr((m), (m)->field))
/** A nested message: RK_NESTED(m, inner, Inner). */
#define RK_NESTED(m, field, T) ((const T *)rk_view_ptr((m), (m)->field))

/* ---- UUIDs and time ------------------------------------------------------ */

/** A fresh random UUIDv4 (thread-safe, no lock). */
void rk_uuid_generate(rk_uuid_t *out);
/** True when all 16 bytes are zero. */
bool rk_uuid_is_nil(const rk_uuid_t *u);
/** True when both UUIDs have the same bytes. */
bool rk_uuid_equal(const rk_uuid_t *a, const rk_uuid_t *b);
/** Canonical 36-char form plus NUL into @p out (37 bytes). */
void rk_uuid_format(const rk_uuid_t *u, char out[37]);
/** Parse the 36-char form (with dashes) or 32 hex digits; RK_ERR_INVALID otherwise. */
rk_status_t rk_uuid_parse(const char *s, size_t len, rk_uuid_t *out);

/** Microseconds since the Unix epoch, UTC, now. */
int64_t rk_time_now_us(void);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_MESSAGE_H */
