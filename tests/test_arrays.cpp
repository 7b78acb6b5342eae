// test_arrays.cpp - the ARRAY field kind and declared field defaults.
//
// ARRAY: set / view without copying; the wire form against msgpack-c's bytes
// of numpy's {"__ndarray__": bin, "dtype": str, "shape": [...]} (what the
// reference library writes); round trips of every dtype at ranks 0..3 and
// empty; what setters, the decoder and validation refuse.
// Defaults: RK_DEFAULT values at creation, for keys missing on the wire,
// overridden by keys present (nil included); descriptors with a default the
// kind cannot have are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "msgpack_ref.h"
#include "ringmesh/ringmesh.h"

namespace {

#define GRID(F)                  \
    F(Grid, label, STR, _)       \
    F(Grid, f32, ARRAY, F32)     \
    F(Grid, f64, ARRAY, F64)     \
    F(Grid, i8, ARRAY, I8)       \
    F(Grid, i16, ARRAY, I16)     \
    F(Grid, i32, ARRAY, I32)     \
    F(Grid, i64, ARRAY, I64)     \
    F(Grid, u8, ARRAY, U8)       \
    F(Grid, u16, ARRAY, U16)     \
    F(Grid, u32, ARRAY, U32)     \
    F(Grid, u64, ARRAY, U64)     \
    F(Grid, flags, ARRAY, BOOL)
RK_MESSAGE_DECLARE(Grid, GRID)
RK_MESSAGE_DEFINE(Grid, GRID)

#define CALC(F)                                       \
    F(Calc, expression, STR, _)                       \
    F(Calc, operation, STR, RK_DEFAULT("sum"))        \
    F(Calc, success, BOOL, RK_DEFAULT(true))          \
    F(Calc, count, INT, RK_DEFAULT(-7))               \
    F(Calc, scale, FLOAT, RK_DEFAULT(1.5))            \
    F(Calc, big, UINT, RK_DEFAULT(UINT64_MAX))        \
    F(Calc, limit, OPT_INT, RK_DEFAULT(10))           \
    F(Calc, strict, OPT_BOOL, RK_DEFAULT(false))      \
    F(Calc, error, STR, _)
RK_MESSAGE_DECLARE(Calc, CALC)
RK_MESSAGE_DEFINE(Calc, CALC)

using rktest::Bytes;
using rktest::Mp;
using rktest::Owned;
using rktest::serialize;

template <class T> T *adopt(Owned<T> &o) { return o.release(); }

class Arrays : public ::testing::Test {
  protected:
    void SetUp() override
    {
        ASSERT_EQ(rk_registry_create(&reg_), RK_OK);
        ASSERT_EQ(rk_registry_add(reg_, Grid_type()), RK_OK);
        ASSERT_EQ(rk_registry_add(reg_, Calc_type()), RK_OK);
    }
    void TearDown() override { rk_registry_destroy(reg_); }

    rk_status_t decode_status(const Bytes &b)
    {
        rk_msg_t *m = nullptr;
        rk_status_t st = rk_msg_deserialize(reg_, b.data(), b.size(), 0, &m);
        rk_msg_free(m);
        return st;
    }
    template <class T> Owned<T> decode_ok(const Bytes &b)
    {
        rk_msg_t *m = nullptr;
        EXPECT_EQ(rk_msg_deserialize(reg_, b.data(), b.size(), 0, &m), RK_OK);
        if (m) EXPECT_EQ(rk_msg_validate(m), RK_OK);
        return Owned<T>(reinterpret_cast<T *>(m));
    }
    // A Grid map whose field "f32" holds what @p value writes.
    template <class Fn> Bytes grid_with(Fn value)
    {
        Mp mp;
        mp.map(2).str("f32");
        value(mp);
        mp.str("__type__").str("Grid");
        return mp.bytes();
    }
    // msgpack-c's bytes of numpy's reference form of an array.
    static void ndarray(Mp &mp, const void *data, size_t n, const char *dtype, std::vector<uint64_t> shape)
    {
        mp.map(3).str("__ndarray__").bin(data, n).str("dtype").str(dtype).str("shape").arr(shape.size());
        for (uint64_t e : shape) mp.u(e);
    }

    rk_registry_t *reg_ = nullptr;
};

Grid *new_grid()
{
    Grid *g = nullptr;
    EXPECT_EQ(Grid_new(&g), RK_OK);
    return g;
}

} // namespace

// ---- ARRAY ------------------------------------------------------------------

TEST_F(Arrays, SetAndViewWithoutCopying)
{
    Owned<Grid> g(new_grid());
    ASSERT_TRUE(g);
    rk_array_t a;
    EXPECT_EQ(Grid_get_f32(g.get(), &a), nullptr); // a new message: nil
    EXPECT_EQ(a.ndim, 0u);
    EXPECT_EQ(a.count, 0u);
    EXPECT_EQ(a.dtype, RK_DTYPE_F32);

    const float v[6] = {0.5f, -1, 2, 3.25f, 4, 5};
    const uint64_t shape[2] = {2, 3};
    Grid *p = adopt(g);
    ASSERT_EQ(Grid_set_f32(&p, v, 2, shape), RK_OK);
    g.reset(p);
    const float *data = Grid_get_f32(g.get(), &a);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(a.ndim, 2u);
    EXPECT_EQ(a.shape[0], 2u);
    EXPECT_EQ(a.shape[1], 3u);
    EXPECT_EQ(a.count, 6u);
    EXPECT_EQ(a.nbytes, sizeof v);
    EXPECT_EQ(memcmp(data, v, sizeof v), 0);
    // the view points into the block, 8-aligned: no copy
    const char *blk = reinterpret_cast<const char *>(g.get());
    EXPECT_GT(reinterpret_cast<const char *>(data), blk);
    EXPECT_LE(reinterpret_cast<const char *>(data) + sizeof v, blk + g->hdr.size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 8, 0u);
    EXPECT_EQ(rk_msg_validate(&g->hdr), RK_OK);
    // the generic call agrees
    rk_array_t b;
    ASSERT_EQ(rk_msg_get_array(&g->hdr, offsetof(Grid, f32), &b), RK_OK);
    EXPECT_EQ(b.data, a.data);
    EXPECT_EQ(rk_msg_get_array(&g->hdr, offsetof(Grid, label), &b), RK_ERR_INVALID); // not an ARRAY
}

TEST_F(Arrays, WireFormIsNumpysReferenceForm)
{
    Owned<Grid> g(new_grid());
    ASSERT_TRUE(g);
    g->hdr.message_id = rk_uuid_t{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    const int16_t v[6] = {1, -2, 300, -400, 5, 6};
    const uint64_t shape[3] = {1, 2, 3};
    const bool flags[1] = {true};
    Grid *p = adopt(g);
    ASSERT_EQ(Grid_set_i16(&p, v, 3, shape), RK_OK);
    ASSERT_EQ(Grid_set_flags(&p, flags, 0, nullptr), RK_OK); // rank 0: one element
    g.reset(p);

    Mp mp; // what the reference writes: fields in order, nil for unset ones, then the header
    mp.map(16).str("label").nil().str("f32").nil().str("f64").nil().str("i8").nil().str("i16");
    ndarray(mp, v, sizeof v, "int16", {1, 2, 3});
    mp.str("i32").nil().str("i64").nil().str("u8").nil().str("u16").nil().str("u32").nil().str("u64").nil();
    mp.str("flags");
    ndarray(mp, flags, 1, "bool", {});
    mp.str("message_id").uuid_map(g->hdr.message_id).str("priority").i(128).str("correlation_id").nil();
    mp.str("__type__").str("Grid");
    EXPECT_EQ(serialize(g.get()), mp.bytes());
}

TEST_F(Arrays, EveryDtypeRoundTripsAtRanksZeroToThreeAndEmpty)
{
    const std::vector<std::vector<uint64_t>> shapes = {{}, {5}, {2, 3}, {2, 3, 4}, {0}, {3, 0, 2}};
    for (const auto &shape : shapes) {
        uint64_t n = 1;
        for (uint64_t e : shape) n *= e;
        std::vector<uint64_t> raw(n + 1);
        for (uint64_t i = 0; i < n; i++) raw[i] = 0x0102030405060708ull * (i + 1) ^ (i << 60);
        std::vector<uint8_t> bools(n + 1);
        for (uint64_t i = 0; i < n; i++) bools[i] = (uint8_t)(i % 3 == 0);
        Owned<Grid> g(new_grid());
        ASSERT_TRUE(g);
        Grid *p = adopt(g);
        const uint64_t *sh = shape.empty() ? nullptr : shape.data();
        uint32_t nd = (uint32_t)shape.size();
        ASSERT_EQ(Grid_set_f32(&p, (const float *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_f64(&p, (const double *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_i8(&p, (const int8_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_i16(&p, (const int16_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_i32(&p, (const int32_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_i64(&p, (const int64_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_u8(&p, (const uint8_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_u16(&p, (const uint16_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_u32(&p, (const uint32_t *)raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_u64(&p, raw.data(), nd, sh), RK_OK);
        ASSERT_EQ(Grid_set_flags(&p, (const bool *)(const void *)bools.data(), nd, sh), RK_OK);
        g.reset(p);
        Bytes wire = serialize(g.get());
        Owned<Grid> back = decode_ok<Grid>(wire);
        ASSERT_TRUE(back);
        EXPECT_TRUE(rk_msg_equal(&g->hdr, &back->hdr));
        EXPECT_EQ(serialize(back.get()), wire);
        rk_array_t a;
        const double *d = Grid_get_f64(back.get(), &a);
        ASSERT_NE(d, nullptr) << "shape rank " << shape.size();
        EXPECT_EQ(a.ndim, nd);
        EXPECT_EQ(a.count, n);
        for (uint32_t i = 0; i < nd; i++) EXPECT_EQ(a.shape[i], shape[i]);
        EXPECT_EQ(memcmp(d, raw.data(), n * 8), 0);
        EXPECT_EQ(memcmp(Grid_get_flags(back.get(), nullptr), bools.data(), n), 0);
    }
}

TEST_F(Arrays, SettersRefuseWhatCannotBeAnArray)
{
    Owned<Grid> g(new_grid());
    ASSERT_TRUE(g);
    Grid *p = adopt(g);
    const float v[4] = {1, 2, 3, 4};
    const uint64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
    const uint64_t huge[2] = {UINT64_MAX / 2, 4};
    const uint8_t two[2] = {1, 2};
    rk_msg_t **mp = reinterpret_cast<rk_msg_t **>(&p);
    EXPECT_EQ(rk_msg_set_array(mp, offsetof(Grid, f32), RK_DTYPE_F64, 1, shape + 8, v), RK_ERR_TYPE);
    EXPECT_EQ(rk_msg_set_array(mp, offsetof(Grid, label), RK_DTYPE_F32, 1, shape + 8, v), RK_ERR_TYPE);
    EXPECT_EQ(Grid_set_f32(&p, v, 9, shape), RK_ERR_INVALID); // 9 dimensions
    EXPECT_EQ(Grid_set_f32(&p, nullptr, 1, shape + 8), RK_ERR_INVALID);
    EXPECT_EQ(Grid_set_f32(&p, v, 2, nullptr), RK_ERR_INVALID);
    EXPECT_EQ(Grid_set_f32(&p, v, 2, huge), RK_ERR_TOO_LARGE); // the byte count overflows
    EXPECT_EQ(Grid_set_flags(&p, (const bool *)(const void *)two, 1, shape + 7), RK_OK);
    const uint64_t n2[1] = {2};
    EXPECT_EQ(Grid_set_flags(&p, (const bool *)(const void *)two, 1, n2), RK_ERR_INVALID); // a bool byte 2
    EXPECT_EQ(Grid_set_f32(&p, v, 8, shape), RK_OK);
    g.reset(p);
    EXPECT_EQ(rk_msg_validate(&g->hdr), RK_OK);
    p = adopt(g);
    EXPECT_EQ(RK_SET_NIL(&p, Grid, f32), RK_OK);
    g.reset(p);
    EXPECT_EQ(Grid_get_f32(g.get(), nullptr), nullptr);
}

TEST_F(Arrays, DecoderRefusesWrongDtypeShapeAndSizes)
{
    const float v[4] = {1, 2, 3, 4};
    const uint8_t two[2] = {1, 2};
    // accepted: keys in another order
    Bytes ok = grid_with([&](Mp &mp) {
        mp.map(3).str("shape").arr(2).u(2).u(2).str("dtype").str("float32").str("__ndarray__").bin(v, sizeof v);
    });
    Owned<Grid> g = decode_ok<Grid>(ok);
    ASSERT_TRUE(g);
    rk_array_t a;
    ASSERT_NE(Grid_get_f32(g.get(), &a), nullptr);
    EXPECT_EQ(a.count, 4u);

    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { ndarray(mp, v, 16, "float64", {2}); })), RK_ERR_TYPE);
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { ndarray(mp, v, 16, "float16", {8}); })), RK_ERR_TYPE);
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { ndarray(mp, v, 16, ">f4", {4}); })), RK_ERR_TYPE);
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { ndarray(mp, v, 16, "float32", {3}); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { ndarray(mp, v, 7, "float32", {2}); })), RK_ERR_DECODE); // odd size
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { ndarray(mp, v, 16, "float32", {1, 1, 1, 1, 1, 1, 1, 1, 4}); })),
              RK_ERR_DECODE); // 9 dimensions
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) {
                  mp.map(3).str("__ndarray__").bin(v, 16).str("dtype").str("float32").str("shape").arr(1).i(-4);
              })),
              RK_ERR_DECODE);
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) {
                  mp.map(3).str("__ndarray__").bin(v, 16).str("dtype").str("float32").str("shape").arr(2).u(UINT64_MAX).u(4);
              })),
              RK_ERR_DECODE); // the element count overflows
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { mp.map(2).str("__ndarray__").bin(v, 16).str("dtype").str("float32"); })),
              RK_ERR_DECODE); // no shape
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) {
                  mp.map(3).str("__ndarray__").bin(v, 16).str("__ndarray__").bin(v, 16).str("dtype").str("float32");
              })),
              RK_ERR_DECODE); // a key twice
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) { mp.arr(4).f(1).f(2).f(3).f(4); })), RK_ERR_DECODE); // a list
    EXPECT_EQ(decode_status(grid_with([&](Mp &mp) {
                  mp.map(3).str("__ndarray__").str("abcd").str("dtype").str("float32").str("shape").arr(1).u(1);
              })),
              RK_ERR_DECODE); // data as str
    Bytes bad_bool;
    {
        Mp mp;
        mp.map(2).str("flags");
        ndarray(mp, two, 2, "bool", {2});
        mp.str("__type__").str("Grid");
        bad_bool = mp.bytes();
    }
    EXPECT_EQ(decode_status(bad_bool), RK_ERR_DECODE);
}

TEST_F(Arrays, ValidationCatchesCorruptRecords)
{
    Owned<Grid> g(new_grid());
    ASSERT_TRUE(g);
    const int32_t v[4] = {1, 2, 3, 4};
    const uint64_t shape[2] = {2, 2};
    Grid *p = adopt(g);
    ASSERT_EQ(Grid_set_i32(&p, v, 2, shape), RK_OK);
    g.reset(p);
    ASSERT_EQ(rk_msg_validate(&g->hdr), RK_OK);
    char *rec = reinterpret_cast<char *>(g.get()) + g->i32.off;
    uint32_t nd = 9;
    memcpy(rec, &nd, 4); // more dimensions than allowed
    EXPECT_EQ(rk_msg_validate(&g->hdr), RK_ERR_MALFORMED);
    nd = 2;
    memcpy(rec, &nd, 4);
    uint64_t e = 3;
    memcpy(rec + 8, &e, 8); // a shape that does not match the bytes
    EXPECT_EQ(rk_msg_validate(&g->hdr), RK_ERR_MALFORMED);
    e = 2;
    memcpy(rec + 8, &e, 8);
    ASSERT_EQ(rk_msg_validate(&g->hdr), RK_OK);
    g->i32.off = 8; // inside the header
    EXPECT_EQ(rk_msg_validate(&g->hdr), RK_ERR_MALFORMED);
    g->i32.off = g->hdr.size - 4; // past the end
    EXPECT_EQ(rk_msg_validate(&g->hdr), RK_ERR_MALFORMED);
}

// ---- declared defaults ----------------------------------------------------------

TEST_F(Arrays, DefaultsAtCreation)
{
    Calc *c = nullptr;
    ASSERT_EQ(Calc_new(&c), RK_OK);
    Owned<Calc> m(c);
    EXPECT_EQ(m->expression.off, 0u); // no default: nil
    EXPECT_STREQ(RK_STR(m.get(), operation), "sum");
    EXPECT_TRUE(m->success);
    EXPECT_EQ(m->count, -7);
    EXPECT_EQ(m->scale, 1.5);
    EXPECT_EQ(m->big, UINT64_MAX);
    EXPECT_TRUE(m->limit.has);
    EXPECT_EQ(m->limit.value, 10);
    EXPECT_TRUE(m->strict.has);
    EXPECT_FALSE(m->strict.value);
    EXPECT_EQ(m->error.off, 0u);
    EXPECT_EQ(rk_msg_validate(&m->hdr), RK_OK);
    const rk_field_t *f = &Calc_type()->fields[1];
    EXPECT_EQ(f->def.set, 1u);
    EXPECT_STREQ(f->def.s, "sum");
    EXPECT_EQ(Calc_type()->fields[0].def.set, 0u);
    EXPECT_EQ(Calc_type()->ndefaults, 7u);
    EXPECT_EQ(Grid_type()->ndefaults, 0u);
    rk_msg_type_t miscounted = *Calc_type();
    miscounted.ndefaults = 6;
    EXPECT_EQ(rk_registry_add(reg_, &miscounted), RK_ERR_INVALID);
}

TEST_F(Arrays, DefaultsForKeysMissingOnTheWire)
{
    Mp v1; // an older version of Calc: only the expression
    v1.map(2).str("expression").str("2+2").str("__type__").str("Calc");
    Owned<Calc> m = decode_ok<Calc>(v1.bytes());
    ASSERT_TRUE(m);
    EXPECT_STREQ(RK_STR(m.get(), expression), "2+2");
    EXPECT_STREQ(RK_STR(m.get(), operation), "sum");
    EXPECT_TRUE(m->success);
    EXPECT_EQ(m->count, -7);
    EXPECT_EQ(m->scale, 1.5);
    EXPECT_EQ(m->big, UINT64_MAX);
    EXPECT_TRUE(m->limit.has && m->limit.value == 10);
    EXPECT_TRUE(m->strict.has && !m->strict.value);
    EXPECT_FALSE(rk_uuid_is_nil(&m->hdr.message_id)); // fresh, as uuid4 would be
    EXPECT_EQ(m->hdr.priority, RK_PRIORITY_DEFAULT);

    // Keys that are present win over defaults, nil included.
    Mp v2;
    v2.map(6).str("operation").nil().str("success").b(false).str("count").i(3).str("limit").nil();
    v2.str("strict").b(true).str("__type__").str("Calc");
    m = decode_ok<Calc>(v2.bytes());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->operation.off, 0u);
    EXPECT_FALSE(m->success);
    EXPECT_EQ(m->count, 3);
    EXPECT_FALSE(m->limit.has);
    EXPECT_TRUE(m->strict.has && m->strict.value);
    EXPECT_EQ(m->scale, 1.5);

    // A message made here with its defaults and the decoded v1 are equal, and re-encode alike.
    Calc *c = nullptr;
    ASSERT_EQ(Calc_new(&c), RK_OK);
    ASSERT_EQ(Calc_set_expression(&c, "2+2"), RK_OK);
    Owned<Calc> made(c);
    m = decode_ok<Calc>(v1.bytes());
    ASSERT_TRUE(m);
    made->hdr.message_id = m->hdr.message_id;
    EXPECT_TRUE(rk_msg_equal(&made->hdr, &m->hdr));
    EXPECT_EQ(serialize(made.get()), serialize(m.get()));
}

TEST_F(Arrays, DescriptorsWithImpossibleDefaultsAreRefused)
{
    struct Raw {
        rk_msg_t hdr;
        rk_view_t s;
        bool b;
        rk_view_t l;
    };
    rk_field_t bad_text[] = {{"s", RK_KIND_STR, RK_KIND_NONE, (uint32_t)offsetof(Raw, s), nullptr, RK_DTYPE_NONE,
                              {1, 0, 0, 0.0, "bad \xff utf-8"}}};
    rk_field_t bad_bool[] = {{"b", RK_KIND_BOOL, RK_KIND_NONE, (uint32_t)offsetof(Raw, b), nullptr, RK_DTYPE_NONE,
                              {1, 2, 0, 0.0, nullptr}}};
    rk_field_t on_list[] = {{"l", RK_KIND_LIST, RK_KIND_INT, (uint32_t)offsetof(Raw, l), nullptr, RK_DTYPE_NONE,
                             {1, 1, 0, 0.0, nullptr}}};
    rk_field_t no_dtype[] = {{"l", RK_KIND_ARRAY, RK_KIND_NONE, (uint32_t)offsetof(Raw, l), nullptr, RK_DTYPE_NONE,
                              {0, 0, 0, 0.0, nullptr}}};
    rk_field_t bad_dtype[] = {{"l", RK_KIND_ARRAY, RK_KIND_NONE, (uint32_t)offsetof(Raw, l), nullptr,
                               (rk_dtype_t)99, {0, 0, 0, 0.0, nullptr}}};
    for (rk_field_t *f : {bad_text, bad_bool, on_list, no_dtype, bad_dtype}) {
        rk_msg_type_t t = {"Raw", (uint32_t)sizeof(Raw), 1, f, f->def.set};
        EXPECT_EQ(rk_registry_add(reg_, &t), RK_ERR_INVALID) << f->name;
    }
    rk_msg_type_t t = {"Raw", (uint32_t)sizeof(Raw), 1, bad_text, 1};
    rk_msg_t *m = nullptr;
    EXPECT_EQ(rk_msg_create(&t, 0, &m), RK_ERR_INVALID); // its default is not text
    EXPECT_EQ(m, nullptr);
}

// ---- lists of lists and lists of messages -------------------------------------------

namespace {

#define POINT(F) F(Point, x, INT, _) F(Point, tag, STR, RK_DEFAULT("p"))
RK_MESSAGE_DECLARE(Point, POINT)
RK_MESSAGE_DEFINE(Point, POINT)

#define SHAPE(F)                         \
    F(Shape, rows, LIST_LIST, FLOAT)     \
    F(Shape, words, LIST_LIST, STR)      \
    F(Shape, points, LIST_MSG, Point)    \
    F(Shape, none, LIST_MSG, Point)
RK_MESSAGE_DECLARE(Shape, SHAPE)
RK_MESSAGE_DEFINE(Shape, SHAPE)

Point *point(int64_t x, const char *tag)
{
    Point *p = nullptr;
    EXPECT_EQ(Point_new(&p), RK_OK);
    if (p) p->x = x;
    if (p && tag) EXPECT_EQ(Point_set_tag(&p, tag), RK_OK);
    return p;
}

class Nested : public ::testing::Test {
  protected:
    void SetUp() override
    {
        ASSERT_EQ(rk_registry_create(&reg_), RK_OK);
        ASSERT_EQ(rk_registry_add(reg_, Shape_type()), RK_OK);
        ASSERT_EQ(rk_registry_add(reg_, Point_type()), RK_OK);
    }
    void TearDown() override { rk_registry_destroy(reg_); }
    rk_status_t decode(const Bytes &b, rk_msg_t **out) { return rk_msg_deserialize(reg_, b.data(), b.size(), 0, out); }
    rk_registry_t *reg_ = nullptr;
};

Owned<Shape> full_shape()
{
    Shape *s = nullptr;
    EXPECT_EQ(Shape_new(&s), RK_OK);
    const double r0[3] = {1.5, -2, 3}, r2[1] = {4};
    const double *rows[3] = {r0, nullptr, r2};
    const size_t lens[3] = {3, 0, 1};
    EXPECT_EQ(Shape_set_rows(&s, rows, lens, 3), RK_OK);
    const char *w0[2] = {"a", "b\xc3\xa9"}, *w1[1] = {""};
    const char *const *words[2] = {w0, w1};
    const size_t wl[2] = {2, 1};
    EXPECT_EQ(Shape_set_words(&s, words, wl, 2), RK_OK);
    Owned<Point> a(point(1, "first")), b(point(-2, nullptr));
    const Point *items[2] = {a.get(), b.get()};
    EXPECT_EQ(Shape_set_points(&s, items, 2), RK_OK);
    return Owned<Shape>(s);
}

} // namespace

TEST_F(Nested, ListsOfListsAndOfMessagesReadBack)
{
    Owned<Shape> s = full_shape();
    ASSERT_TRUE(s);
    ASSERT_EQ(rk_msg_validate(&s->hdr), RK_OK);
    EXPECT_EQ(s->rows.len, 3u);
    size_t n = 9;
    const double *r0 = Shape_get_rows(s.get(), 0, &n);
    ASSERT_NE(r0, nullptr);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(r0[0], 1.5);
    EXPECT_EQ(r0[2], 3);
    EXPECT_NE(Shape_get_rows(s.get(), 1, &n), nullptr); // an empty row is not nil
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(Shape_get_rows(s.get(), 2, &n)[0], 4);
    EXPECT_EQ(Shape_get_rows(s.get(), 3, &n), nullptr); // out of range
    const rk_view_t *w = Shape_get_words(s.get(), 0, &n);
    ASSERT_NE(w, nullptr);
    EXPECT_STREQ((const char *)rk_view_ptr(s.get(), w[1]), "b\xc3\xa9");
    EXPECT_EQ(s->points.len, 2u);
    const Point *p1 = Shape_get_points(s.get(), 1);
    ASSERT_NE(p1, nullptr);
    EXPECT_EQ(p1->x, -2);
    EXPECT_STREQ(RK_STR(p1, tag), "p"); // the item's own default
    EXPECT_STREQ(RK_STR(Shape_get_points(s.get(), 0), tag), "first");
    EXPECT_EQ(Shape_get_none(s.get(), 0), nullptr); // nil
}

TEST_F(Nested, WireFormIsNestedArraysAndMapsAndRoundTrips)
{
    Owned<Shape> s = full_shape();
    ASSERT_TRUE(s);
    Bytes wire = serialize(s.get());
    Mp rows; // rows as the reference writes list[list[float]]
    rows.arr(3).arr(3).f(1.5).f(-2).f(3).arr(0).arr(1).f(4);
    Bytes r = rows.bytes();
    EXPECT_NE(std::search(wire.begin(), wire.end(), r.begin(), r.end()), wire.end());
    rk_msg_t *back = nullptr;
    ASSERT_EQ(decode(wire, &back), RK_OK);
    Owned<Shape> b(reinterpret_cast<Shape *>(back));
    EXPECT_EQ(rk_msg_validate(back), RK_OK);
    EXPECT_TRUE(rk_msg_equal(&s->hdr, back));
    EXPECT_EQ(serialize(b.get()), wire);
    // a changed element is told apart
    Shape *c = b.release();
    ((double *)(void *)((char *)c + ((rk_view_t *)(void *)((char *)c + c->rows.off))[0].off))[1] = 7;
    b.reset(c);
    EXPECT_FALSE(rk_msg_equal(&s->hdr, &b->hdr));
}

TEST_F(Nested, RefusalsAndValidation)
{
    Shape *s = nullptr;
    ASSERT_EQ(Shape_new(&s), RK_OK);
    Owned<Shape> own(s);
    s = own.release();
    const double *rows[1] = {nullptr};
    const size_t lens[1] = {2};
    EXPECT_EQ(Shape_set_rows(&s, rows, lens, 1), RK_ERR_INVALID); // a NULL row with elements
    const Point *items[1] = {nullptr};
    EXPECT_EQ(Shape_set_points(&s, items, 1), RK_ERR_INVALID);
    Shape *other = nullptr;
    ASSERT_EQ(Shape_new(&other), RK_OK);
    const rk_msg_t *wrong[1] = {&other->hdr};
    EXPECT_EQ(rk_msg_set_items(reinterpret_cast<rk_msg_t **>(&s), offsetof(Shape, points), wrong, 1),
              RK_ERR_MALFORMED); // a Shape is not a Point
    rk_msg_free(&other->hdr);
    EXPECT_EQ(rk_msg_set_rows(reinterpret_cast<rk_msg_t **>(&s), offsetof(Shape, points), nullptr, nullptr, 0),
              RK_ERR_TYPE);
    own.reset(s);

    // wire: a nil row, a row that is not a list, an item that is not a map
    Mp nil_row, flat, not_map;
    nil_row.map(2).str("rows").arr(1).nil().str("__type__").str("Shape");
    flat.map(2).str("rows").arr(2).f(1).f(2).str("__type__").str("Shape");
    not_map.map(2).str("points").arr(1).i(3).str("__type__").str("Shape");
    for (Mp *mp : {&nil_row, &flat, &not_map}) {
        rk_msg_t *m = nullptr;
        EXPECT_EQ(decode(mp->bytes(), &m), RK_ERR_DECODE);
        EXPECT_EQ(m, nullptr);
    }
    Mp items_ok; // an item without message_id stays nil; its missing tag takes the default
    items_ok.map(2).str("points").arr(1).map(1).str("x").i(9).str("__type__").str("Shape");
    rk_msg_t *m = nullptr;
    ASSERT_EQ(decode(items_ok.bytes(), &m), RK_OK);
    Owned<Shape> got(reinterpret_cast<Shape *>(m));
    const Point *p = Shape_get_points(got.get(), 0);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->x, 9);
    EXPECT_STREQ(RK_STR(p, tag), "p");
    EXPECT_TRUE(rk_uuid_is_nil(&p->hdr.message_id));

    // validation: a nil item view, a row outside the block
    Owned<Shape> v = full_shape();
    ASSERT_TRUE(v);
    rk_view_t *item = (rk_view_t *)(void *)((char *)v.get() + v->points.off);
    rk_view_t keep = item[0];
    item[0].off = 0;
    EXPECT_EQ(rk_msg_validate(&v->hdr), RK_ERR_MALFORMED);
    item[0] = keep;
    ASSERT_EQ(rk_msg_validate(&v->hdr), RK_OK);
    rk_view_t *row = (rk_view_t *)(void *)((char *)v.get() + v->rows.off);
    row[0].len = 1u << 30;
    EXPECT_EQ(rk_msg_validate(&v->hdr), RK_ERR_MALFORMED);
}
