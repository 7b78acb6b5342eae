/* interop_types.h - the message types of the Python interop test (tests/interop/reference.py
 * declares the same dataclasses, with the same names and field order). interop.cpp defines them. */
#ifndef RINGMESH_INTEROP_TYPES_H
#define RINGMESH_INTEROP_TYPES_H

#include "ringmesh/message.h"

/* One ARRAY field per dtype, and one (`none`) that is never set: None on the wire. */
#define INTEROP_ARRAYS(F)             \
    F(Arrays, f32, ARRAY, F32)        \
    F(Arrays, f64, ARRAY, F64)        \
    F(Arrays, i8, ARRAY, I8)          \
    F(Arrays, i16, ARRAY, I16)        \
    F(Arrays, i32, ARRAY, I32)        \
    F(Arrays, i64, ARRAY, I64)        \
    F(Arrays, u8, ARRAY, U8)          \
    F(Arrays, u16, ARRAY, U16)        \
    F(Arrays, u32, ARRAY, U32)        \
    F(Arrays, u64, ARRAY, U64)        \
    F(Arrays, flags, ARRAY, BOOL)     \
    F(Arrays, none, ARRAY, F32)
RK_MESSAGE_DECLARE(Arrays, INTEROP_ARRAYS)

/* Declared defaults, the same as the dataclass defaults of reference.py's Defaults. */
#define INTEROP_DEFAULTS(F)                                     \
    F(Defaults, expression, STR, _)                             \
    F(Defaults, operation, STR, RK_DEFAULT("sum"))              \
    F(Defaults, success, BOOL, RK_DEFAULT(true))                \
    F(Defaults, count, INT, RK_DEFAULT(-7))                     \
    F(Defaults, scale, FLOAT, RK_DEFAULT(1.5))                  \
    F(Defaults, big, UINT, RK_DEFAULT(18446744073709551615ull)) \
    F(Defaults, limit, OPT_INT, RK_DEFAULT(10))                 \
    F(Defaults, error, STR, _)
RK_MESSAGE_DECLARE(Defaults, INTEROP_DEFAULTS)

/* A nil-able UUID and a string, each set or nil, and a nil-able datetime (nil unless
 * optids_when: the reference encoder cannot pack a datetime). */
#define INTEROP_OPTIDS(F)              \
    F(OptIds, ref, OPT_UUID, _)        \
    F(OptIds, label, STR, _)           \
    F(OptIds, when, OPT_DATETIME, _)
RK_MESSAGE_DECLARE(OptIds, INTEROP_OPTIDS)

/* An item of Nests.parts (declared before Nests). */
#define INTEROP_PART(F)             \
    F(Part, name, STR, _)           \
    F(Part, weight, FLOAT, _)
RK_MESSAGE_DECLARE(Part, INTEROP_PART)

/* Lists of lists of each element kind, one with zero rows, one nil, and a list of Parts. */
#define INTEROP_NESTS(F)                \
    F(Nests, grid, LIST_LIST, FLOAT)    \
    F(Nests, ids, LIST_LIST, INT)       \
    F(Nests, words, LIST_LIST, STR)     \
    F(Nests, empty, LIST_LIST, INT)     \
    F(Nests, none, LIST_LIST, FLOAT)    \
    F(Nests, parts, LIST_MSG, Part)
RK_MESSAGE_DECLARE(Nests, INTEROP_NESTS)

#endif /* RINGMESH_INTEROP_TYPES_H */
