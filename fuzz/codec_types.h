/*
 * codec_types.h - the field lists of the codec's test message types, shared
 * by tests/test_codec.cpp and fuzz/fuzz_decode.c so seeds and failures carry
 * over. Field lists only: each user places RK_MESSAGE_DECLARE / _DEFINE.
 */
#ifndef RK_CODEC_TYPES_H
#define RK_CODEC_TYPES_H

#define INNER(F)            \
    F(Inner, label, STR, _) \
    F(Inner, count, INT, _)

/* Every field kind, every element kind, and nil values. */
#define EVERY(F)                      \
    F(Every, i, INT, _)               \
    F(Every, f, FLOAT, _)             \
    F(Every, flag, BOOL, _)           \
    F(Every, text, STR, _)            \
    F(Every, raw, BYTES, _)           \
    F(Every, oi, OPT_INT, _)          \
    F(Every, of, OPT_FLOAT, _)        \
    F(Every, ob, OPT_BOOL, _)         \
    F(Every, id, UUID, _)             \
    F(Every, when, DATETIME, _)       \
    F(Every, li, LIST, INT)           \
    F(Every, lf, LIST, FLOAT)         \
    F(Every, lb, LIST, BOOL)          \
    F(Every, ls, LIST, STR)           \
    F(Every, lby, LIST, BYTES)        \
    F(Every, lu, LIST, UUID)          \
    F(Every, ldt, LIST, DATETIME)     \
    F(Every, tup, TUPLE, FLOAT)       \
    F(Every, di, DICT, INT)           \
    F(Every, dfl, DICT, FLOAT)        \
    F(Every, dbo, DICT, BOOL)         \
    F(Every, ds, DICT, STR)           \
    F(Every, dby, DICT, BYTES)        \
    F(Every, du, DICT, UUID)          \
    F(Every, ddt, DICT, DATETIME)     \
    F(Every, inner, MSG, Inner)       \
    F(Every, nil_text, STR, _)        \
    F(Every, nil_list, LIST, INT)     \
    F(Every, nil_inner, MSG, Inner)   \
    F(Every, ou, OPT_UUID, _)         \
    F(Every, od, OPT_DATETIME, _)     \
    F(Every, n, UINT, _)              \
    F(Every, lui, LIST, UINT)         \
    F(Every, dui, DICT, UINT)         \
    F(Every, nil_ou, OPT_UUID, _)     \
    F(Every, nil_od, OPT_DATETIME, _)

/* ARRAY fields (a few dtypes), declared defaults, lists of lists and of messages. */
#define SHAPES(F)                               \
    F(Shapes, rows, LIST_LIST, INT)             \
    F(Shapes, words, LIST_LIST, STR)            \
    F(Shapes, items, LIST_MSG, Inner)           \
    F(Shapes, f32, ARRAY, F32)                  \
    F(Shapes, i16, ARRAY, I16)                  \
    F(Shapes, u64, ARRAY, U64)                  \
    F(Shapes, flags, ARRAY, BOOL)               \
    F(Shapes, op, STR, RK_DEFAULT("sum"))       \
    F(Shapes, ok, BOOL, RK_DEFAULT(true))       \
    F(Shapes, limit, OPT_INT, RK_DEFAULT(10))

#define PING(F)        \
    F(Ping, n, INT, _) \
    F(Ping, name, STR, _)

/* Nests itself: for depth limits. */
#define NODE(F)            \
    F(Node, level, INT, _) \
    F(Node, child, MSG, Node)

#endif
