// test_codec.cpp - the msgpack wire format, the decoder's defences, datetimes
// and the type registry.
//
// Round trips prove encode/decode agree for every field kind; hand-built byte
// strings pin the pydotcompute wire format and exercise what a foreign encoder
// may send. ASan/UBSan builds of this file double as the leak and crash check
// for every error path.
#include <gtest/gtest.h>
#include <msgpack.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../fuzz/codec_types.h"
#include "msgpack_ref.h"
#include "ringmesh/ringmesh.h"

// ---- test message types ---------------------------------------------------
// In an anonymous namespace: every tests/test_*.cpp links into one binary, so
// these names must not clash with other suites' message types.
namespace {

RK_MESSAGE_DECLARE(Inner, INNER)
RK_MESSAGE_DEFINE(Inner, INNER)
RK_MESSAGE_DECLARE(Every, EVERY)
RK_MESSAGE_DEFINE(Every, EVERY)
RK_MESSAGE_DECLARE(Ping, PING)
RK_MESSAGE_DEFINE(Ping, PING)

// A second descriptor with the name "Ping" (registry duplicate test).
struct Ping2 {
    rk_msg_t hdr;
    double x;
};
static const rk_field_t ping_clone_fields[] = {{"x", RK_KIND_FLOAT, RK_KIND_NONE, (uint32_t)offsetof(Ping2, x), nullptr}};
static const rk_msg_type_t ping_clone = {"Ping", (uint32_t)sizeof(Ping2), 1, ping_clone_fields};

RK_MESSAGE_DECLARE(Node, NODE)
RK_MESSAGE_DEFINE(Node, NODE)

#define SCALARS(F)              \
    F(Scalars, i, INT, _)       \
    F(Scalars, f, FLOAT, _)     \
    F(Scalars, flag, BOOL, _)   \
    F(Scalars, text, STR, _)    \
    F(Scalars, raw, BYTES, _)   \
    F(Scalars, id, UUID, _)     \
    F(Scalars, when, DATETIME, _) \
    F(Scalars, of, OPT_FLOAT, _) \
    F(Scalars, ls, LIST, STR)   \
    F(Scalars, di, DICT, INT)   \
    F(Scalars, inner, MSG, Inner)
RK_MESSAGE_DECLARE(Scalars, SCALARS)
RK_MESSAGE_DEFINE(Scalars, SCALARS)

#define NUMS(F)              \
    F(Nums, li, LIST, INT)   \
    F(Nums, lf, LIST, FLOAT) \
    F(Nums, lb, TUPLE, BOOL)
RK_MESSAGE_DECLARE(Nums, NUMS)
RK_MESSAGE_DEFINE(Nums, NUMS)

} // namespace

// ---- helpers ----------------------------------------------------------------

namespace {

using rktest::Bytes;
using rktest::Mp;
using rktest::Owned;
using rktest::serialize;

template <class T> T *create(const rk_msg_type_t *type)
{
    rk_msg_t *m = nullptr;
    EXPECT_EQ(rk_msg_create(type, 0, &m), RK_OK);
    return reinterpret_cast<T *>(m);
}

rk_uuid_t uuid_of(uint8_t seed)
{
    rk_uuid_t u;
    for (int i = 0; i < 16; i++) u.bytes[i] = (uint8_t)(seed + i);
    return u;
}

// Every field set to a non-trivial value.
Every *make_every()
{
    Every *m = create<Every>(Every_type());
    m->i = -1234567890123LL;
    m->f = 3.25;
    m->flag = true;
    m->oi = {42, true};
    m->of = {-0.5, true};
    m->ob = {false, true};
    m->id = uuid_of(1);
    m->when = 1795607020123456LL; // 2026-11-25T11:43:40.123456
    EXPECT_EQ(RK_SET_STR(&m, Every, text, "héllo wörld"), RK_OK);
    const uint8_t raw[] = {0, 1, 2, 0xff, 0};
    EXPECT_EQ(RK_SET_BYTES(&m, Every, raw, raw, sizeof raw), RK_OK);
    const int64_t li[] = {0, -1, 127, 128, -33, INT64_MIN, INT64_MAX};
    EXPECT_EQ(RK_SET_LIST(&m, Every, li, li, 7), RK_OK);
    const double lf[] = {1.5, -2.0, 1e300, 0.0};
    EXPECT_EQ(RK_SET_LIST(&m, Every, lf, lf, 4), RK_OK);
    const bool lb[] = {true, false, true};
    EXPECT_EQ(RK_SET_LIST(&m, Every, lb, lb, 3), RK_OK);
    const std::string long_str(300, 'x'); // a str8 header
    const char *ls[] = {"a", "", long_str.c_str()};
    EXPECT_EQ(RK_SET_LIST(&m, Every, ls, ls, 3), RK_OK);
    const rk_blob_t lby[] = {{"ab", 2}, {"", 0}};
    EXPECT_EQ(RK_SET_LIST(&m, Every, lby, lby, 2), RK_OK);
    const rk_uuid_t lu[] = {uuid_of(7), uuid_of(9)};
    EXPECT_EQ(RK_SET_LIST(&m, Every, lu, lu, 2), RK_OK);
    const int64_t ldt[] = {0, -1, 1795607020000000LL};
    EXPECT_EQ(RK_SET_LIST(&m, Every, ldt, ldt, 3), RK_OK);
    const double tup[] = {1.0, 2.0};
    EXPECT_EQ(RK_SET_LIST(&m, Every, tup, tup, 2), RK_OK);
    const char *keys[] = {"one", "two", "three"};
    const int64_t di[] = {1, -2, 300000};
    EXPECT_EQ(RK_SET_DICT(&m, Every, di, keys, di, 3), RK_OK);
    const double dfl[] = {0.25, -8.5, 1e-9};
    EXPECT_EQ(RK_SET_DICT(&m, Every, dfl, keys, dfl, 3), RK_OK);
    const bool dbo[] = {true, false, true};
    EXPECT_EQ(RK_SET_DICT(&m, Every, dbo, keys, dbo, 3), RK_OK);
    const char *ds[] = {"uno", "", "tres"};
    EXPECT_EQ(RK_SET_DICT(&m, Every, ds, keys, ds, 3), RK_OK);
    const rk_blob_t dby[] = {{"\x00\x01", 2}, {"z", 1}, {"", 0}};
    EXPECT_EQ(RK_SET_DICT(&m, Every, dby, keys, dby, 3), RK_OK);
    const rk_uuid_t du[] = {uuid_of(20), uuid_of(40), uuid_of(60)};
    EXPECT_EQ(RK_SET_DICT(&m, Every, du, keys, du, 3), RK_OK);
    const int64_t ddt[] = {1, 2, 3};
    EXPECT_EQ(RK_SET_DICT(&m, Every, ddt, keys, ddt, 3), RK_OK);
    m->ou = {uuid_of(5), true};
    m->od = {1795607020123456LL, true};
    m->n = UINT64_MAX;
    const uint64_t lui[] = {0, 128, UINT64_MAX};
    EXPECT_EQ(RK_SET_LIST(&m, Every, lui, lui, 3), RK_OK);
    EXPECT_EQ(RK_SET_DICT(&m, Every, dui, keys, lui, 3), RK_OK);
    Inner *in = create<Inner>(Inner_type());
    in->count = 99;
    EXPECT_EQ(RK_SET_STR(&in, Inner, label, "inside"), RK_OK);
    EXPECT_EQ(rk_msg_set_priority(&in->hdr, 7), RK_OK);
    EXPECT_EQ(RK_SET_NESTED(&m, Every, inner, &in->hdr), RK_OK);
    rk_msg_free(&in->hdr);
    EXPECT_EQ(rk_msg_set_priority(&m->hdr, 200), RK_OK);
    rk_uuid_t corr = uuid_of(100);
    EXPECT_EQ(rk_msg_set_correlation(&m->hdr, &corr), RK_OK);
    return m;
}

class Codec : public ::testing::Test {
  protected:
    void SetUp() override
    {
        ASSERT_EQ(rk_registry_create(&reg_), RK_OK);
        for (const rk_msg_type_t *t : {Inner_type(), Every_type(), Ping_type(), Node_type(), Scalars_type()})
            ASSERT_EQ(rk_registry_add(reg_, t), RK_OK);
    }
    void TearDown() override { rk_registry_destroy(reg_); }

    rk_status_t decode(const Bytes &b, rk_msg_t **out, size_t max_len = 0)
    {
        return rk_msg_deserialize(reg_, b.data(), b.size(), max_len, out);
    }
    // Decode expecting success; the result is freed by the caller's Owned.
    template <class T> Owned<T> decode_ok(const Bytes &b)
    {
        rk_msg_t *m = nullptr;
        EXPECT_EQ(decode(b, &m), RK_OK);
        if (m) {
            EXPECT_EQ(rk_msg_validate(m), RK_OK);
        }
        return Owned<T>(reinterpret_cast<T *>(m));
    }
    rk_status_t decode_status(const Bytes &b)
    {
        rk_msg_t *m = nullptr;
        rk_status_t st = decode(b, &m);
        rk_msg_free(m);
        return st;
    }

    rk_registry_t *reg_ = nullptr;
};

// A Scalars map whose field @p key holds the value written by @p value.
template <class Fn> Bytes scalars_with(const std::string &key, Fn value)
{
    Mp mp;
    mp.map(2).str(key);
    value(mp);
    mp.str("__type__").str("Scalars");
    return mp.bytes();
}

} // namespace

// ---- round trips ----------------------------------------------------------------

TEST_F(Codec, RoundTripsEveryFieldKind)
{
    Owned<Every> m(make_every());
    Bytes wire = serialize(m.get());

    Owned<Every> back = decode_ok<Every>(wire);
    ASSERT_TRUE(back);
    EXPECT_TRUE(rk_msg_equal(&m->hdr, &back->hdr));
    EXPECT_EQ(back->hdr.type, Every_type());
    EXPECT_STREQ(RK_STR(back.get(), text), "héllo wörld");
    EXPECT_EQ(RK_LIST(back.get(), li, int64_t)[5], INT64_MIN);
    const Inner *in = RK_NESTED(back.get(), inner, Inner);
    ASSERT_NE(in, nullptr);
    EXPECT_EQ(in->count, 99);
    EXPECT_EQ(in->hdr.priority, 7);
    EXPECT_EQ(in->hdr.capacity, 0u);
    EXPECT_TRUE(rk_view_is_nil(back->nil_text));
    EXPECT_TRUE(rk_view_is_nil(back->nil_list));
    EXPECT_TRUE(rk_view_is_nil(back->nil_inner));
    EXPECT_TRUE(back->ou.has);
    EXPECT_TRUE(back->od.has);
    EXPECT_FALSE(back->nil_ou.has);
    EXPECT_FALSE(back->nil_od.has);
    EXPECT_EQ(back->n, UINT64_MAX);
    EXPECT_EQ(RK_LIST(back.get(), lui, uint64_t)[2], UINT64_MAX);

    rk_msg_t *as = nullptr;
    ASSERT_EQ(rk_msg_deserialize_as(Every_type(), wire.data(), wire.size(), 0, &as), RK_OK);
    EXPECT_TRUE(rk_msg_equal(&m->hdr, as));
    EXPECT_EQ(serialize(as), wire); // re-encoding is byte-identical
    rk_msg_free(as);
}

TEST_F(Codec, RoundTripsZeroNilAndEmptyValues)
{
    Owned<Every> fresh(create<Every>(Every_type()));
    Owned<Every> back = decode_ok<Every>(serialize(fresh.get()));
    ASSERT_TRUE(back);
    EXPECT_TRUE(rk_msg_equal(&fresh->hdr, &back->hdr));
    EXPECT_FALSE(back->oi.has);
    EXPECT_TRUE(rk_view_is_nil(back->text));

    Every *e = create<Every>(Every_type());
    EXPECT_EQ(RK_SET_STR(&e, Every, text, ""), RK_OK);
    EXPECT_EQ(RK_SET_BYTES(&e, Every, raw, "", 0), RK_OK);
    EXPECT_EQ(RK_SET_LIST(&e, Every, li, nullptr, 0), RK_OK);
    EXPECT_EQ(RK_SET_DICT(&e, Every, ds, nullptr, nullptr, 0), RK_OK);
    Owned<Every> empty(e);
    Owned<Every> back2 = decode_ok<Every>(serialize(empty.get()));
    ASSERT_TRUE(back2);
    EXPECT_TRUE(rk_msg_equal(&empty->hdr, &back2->hdr));
    EXPECT_FALSE(rk_view_is_nil(back2->text)); // empty is not nil
    EXPECT_FALSE(rk_view_is_nil(back2->li));
    EXPECT_EQ(back2->li.len, 0u);
    EXPECT_FALSE(rk_view_is_nil(back2->ds));
}

TEST_F(Codec, RoundTripsExtremeNumbers)
{
    for (double f : {0.0, -0.0, 1e-308, -1e308, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min()}) {
        for (int64_t i : {INT64_MIN, INT64_MAX, (int64_t)-1, (int64_t)0, (int64_t)-32, (int64_t)-33,
                          (int64_t)255, (int64_t)65536}) {
            Owned<Every> m(create<Every>(Every_type()));
            m->f = f;
            m->i = i;
            m->when = i;
            Owned<Every> back = decode_ok<Every>(serialize(m.get()));
            ASSERT_TRUE(back);
            EXPECT_TRUE(rk_msg_equal(&m->hdr, &back->hdr)) << f << " " << i;
            EXPECT_EQ(std::signbit(back->f), std::signbit(f));
        }
    }
}

TEST_F(Codec, RoundTripsLongStringsAndBytes)
{
    for (size_t len : {31u, 32u, 62u, 63u, 255u, 256u, 65535u, 65536u, 70000u}) {
        std::string s(len, 'q');
        Ping *p = create<Ping>(Ping_type());
        ASSERT_EQ(RK_SET_STR(&p, Ping, name, s.c_str()), RK_OK);
        Owned<Ping> m(p);
        Bytes wire = serialize(m.get());
        rk_msg_t *back = nullptr;
        ASSERT_EQ(rk_msg_deserialize_as(Ping_type(), wire.data(), wire.size(), 0, &back), RK_OK) << len;
        EXPECT_TRUE(rk_msg_equal(&m->hdr, back));
        EXPECT_EQ(reinterpret_cast<Ping *>(back)->name.len, len);
        rk_msg_free(back);

        Every *e = create<Every>(Every_type());
        ASSERT_EQ(RK_SET_BYTES(&e, Every, raw, s.data(), len), RK_OK);
        Owned<Every> eb(e);
        Owned<Every> back2 = decode_ok<Every>(serialize(eb.get()));
        ASSERT_TRUE(back2);
        EXPECT_TRUE(rk_msg_equal(&eb->hdr, &back2->hdr));
    }
}

// Numeric lists are encoded without msgpack-c's packer: their bytes must still
// be exactly what msgpack_pack_int64 / _double / _true write.
TEST_F(Codec, EncodesNumbersExactlyLikeMsgpackC)
{
    std::vector<int64_t> ints;
    for (int64_t edge : {(int64_t)0, (int64_t)1 << 7, (int64_t)1 << 8, (int64_t)1 << 15, (int64_t)1 << 16,
                         (int64_t)1 << 31, (int64_t)1 << 32, (int64_t)1 << 62})
        for (int64_t d : {(int64_t)-1, (int64_t)0, (int64_t)1}) {
            ints.push_back(edge + d);
            ints.push_back(-(edge + d));
        }
    for (int64_t v : {INT64_MIN, INT64_MAX, (int64_t)-32, (int64_t)-33, (int64_t)-129}) ints.push_back(v);
    const double floats[] = {0.0, -0.0, 1.5, -1e300, std::numeric_limits<double>::infinity()};
    const bool bools[] = {true, false, true};

    Nums *n = create<Nums>(Nums_type());
    ASSERT_EQ(RK_SET_LIST(&n, Nums, li, ints.data(), ints.size()), RK_OK);
    ASSERT_EQ(RK_SET_LIST(&n, Nums, lf, floats, 5), RK_OK);
    ASSERT_EQ(RK_SET_LIST(&n, Nums, lb, bools, 3), RK_OK);
    Owned<Nums> m(n);
    m->hdr.message_id = uuid_of(3);

    Mp mp;
    mp.map(7).str("li").arr(ints.size());
    for (int64_t v : ints) mp.i(v);
    mp.str("lf").arr(5);
    for (double f : floats) mp.f(f);
    mp.str("lb").arr(3).b(true).b(false).b(true);
    mp.str("message_id").uuid_map(uuid_of(3)).str("priority").i(128).str("correlation_id").nil();
    mp.str("__type__").str("Nums");
    Bytes wire = serialize(m.get());
    EXPECT_EQ(wire, mp.bytes());

    rk_msg_t *back = nullptr;
    ASSERT_EQ(rk_msg_deserialize_as(Nums_type(), wire.data(), wire.size(), 0, &back), RK_OK);
    EXPECT_TRUE(rk_msg_equal(&m->hdr, back));
    rk_msg_free(back);
}

// Every sized header at each of its widths (fix / 8 / 16 / 32-bit lengths of
// str, bin, array and map), plus nil, bool, float, UUID and datetime values:
// the bytes must be exactly what msgpack-c's packer writes.
TEST_F(Codec, EncodesEveryHeaderWidthExactlyLikeMsgpackC)
{
    const std::pair<size_t, size_t> cases[] = {{0, 0},         {31, 15},        {32, 16},         {255, 255},
                                               {256, 65535},   {65535, 65536},  {65536, 70000}};
    for (auto [len, n] : cases) {
        std::string text(len, 't');
        std::vector<const char *> strs(n, "s");
        std::vector<const char *> keys(n, "k");
        std::vector<int64_t> vals(n, 7);
        Scalars *sc = create<Scalars>(Scalars_type());
        ASSERT_EQ(rk_msg_set_str(reinterpret_cast<rk_msg_t **>(&sc), offsetof(Scalars, text), text.data(), len), RK_OK);
        ASSERT_EQ(RK_SET_BYTES(&sc, Scalars, raw, text.data(), len), RK_OK);
        ASSERT_EQ(RK_SET_LIST(&sc, Scalars, ls, strs.data(), n), RK_OK);
        ASSERT_EQ(RK_SET_DICT(&sc, Scalars, di, keys.data(), vals.data(), n), RK_OK);
        Owned<Scalars> m(sc);
        m->i = -129;
        m->f = 2.5;
        m->flag = true;
        m->id = uuid_of(9);
        m->when = 1234567890123456;
        m->hdr.message_id = uuid_of(1);
        m->hdr.correlation_id = uuid_of(2);
        m->hdr.priority = 200;
        char iso[40];
        rk_datetime_format(m->when, iso);

        Mp mp;
        mp.map(15).str("i").i(-129).str("f").f(2.5).str("flag").b(true).str("text").str(text);
        mp.str("raw").bin(text.data(), len).str("id").uuid_map(uuid_of(9)).str("when").str(iso);
        mp.str("of").nil().str("ls").arr(n);
        for (size_t k = 0; k < n; k++) mp.str("s");
        mp.str("di").map(n);
        for (size_t k = 0; k < n; k++) mp.str("k").i(7);
        mp.str("inner").nil();
        mp.str("message_id").uuid_map(uuid_of(1)).str("priority").i(200);
        mp.str("correlation_id").uuid_map(uuid_of(2)).str("__type__").str("Scalars");
        EXPECT_EQ(serialize(m.get()), mp.bytes()) << "string length " << len << ", " << n << " elements";
    }
}

TEST_F(Codec, RoundTripsEveryPriority)
{
    for (int p = 0; p <= 255; p++) {
        Owned<Ping> m(create<Ping>(Ping_type()));
        ASSERT_EQ(rk_msg_set_priority(&m->hdr, p), RK_OK);
        Owned<Ping> back = decode_ok<Ping>(serialize(m.get()));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->hdr.priority, p);
    }
}

// ---- wire format ----------------------------------------------------------------

// Ping{n=5, name="hi"}, priority 200: pins key order, the UUID map form, a nil
// correlation_id and `__type__` last, exactly as pydotcompute writes it.
TEST_F(Codec, WritesPydotcomputeWireFormat)
{
    Ping *p = create<Ping>(Ping_type());
    p->n = 5;
    ASSERT_EQ(RK_SET_STR(&p, Ping, name, "hi"), RK_OK);
    Owned<Ping> m(p);
    ASSERT_EQ(rk_msg_set_priority(&m->hdr, 200), RK_OK);
    m->hdr.message_id = uuid_of(0xa0);

    Bytes expect = {0x86, 0xa1, 'n', 0x05, 0xa4, 'n', 'a', 'm', 'e', 0xa2, 'h', 'i'};
    const char *mid = "\xaamessage_id\x81\xac__uuid_bin__\xc4\x10";
    expect.insert(expect.end(), mid, mid + strlen(mid));
    for (int i = 0; i < 16; i++) expect.push_back((uint8_t)(0xa0 + i));
    const char *tail = "\xa8priority\xcc\xc8\xae" "correlation_id\xc0\xa8__type__\xa4Ping";
    expect.insert(expect.end(), tail, tail + strlen(tail));
    EXPECT_EQ(serialize(m.get()), expect);
}

TEST_F(Codec, WritesCorrelationIdAsUuidMapAndTypesLikePython)
{
    Owned<Scalars> m(create<Scalars>(Scalars_type()));
    m->hdr.message_id = uuid_of(1);
    rk_uuid_t corr = uuid_of(2);
    ASSERT_EQ(rk_msg_set_correlation(&m->hdr, &corr), RK_OK);
    m->i = 300;
    m->f = 1.5;
    m->when = 86400000000LL + 5; // 1970-01-02T00:00:00.000005+00:00

    // The same map built independently: ints minimal, floats as float64,
    // nil views as nil, datetime as an isoformat string.
    Mp mp;
    mp.map(15).str("i").i(300).str("f").f(1.5).str("flag").b(false).str("text").nil();
    mp.str("raw").nil().str("id").uuid_map(rk_uuid_t{}).str("when").str("1970-01-02T00:00:00.000005+00:00");
    mp.str("of").nil().str("ls").nil().str("di").nil().str("inner").nil();
    mp.str("message_id").uuid_map(uuid_of(1)).str("priority").i(128);
    mp.str("correlation_id").uuid_map(uuid_of(2)).str("__type__").str("Scalars");
    EXPECT_EQ(serialize(m.get()), mp.bytes());
}

// The decoder reads the header as our encoder writes it in one run, and falls
// back key by key when any piece is spelled differently: every variant below
// must decode to the same message (ids, priority 200, correlation, type).
TEST_F(Codec, DecodesTheHeaderRunAndEveryOtherSpellingOfIt)
{
    auto build = [&](const Bytes &prio, bool corr_as_bin, bool type_str8, bool extra_type) {
        Mp mp;
        mp.map(extra_type ? 7 : 6).str("n").i(7).str("name").str("x");
        mp.str("message_id").uuid_map(uuid_of(1)).str("priority").raw(prio).str("correlation_id");
        if (corr_as_bin) mp.bin(uuid_of(2).bytes, 16);
        else mp.uuid_map(uuid_of(2));
        mp.str("__type__");
        if (type_str8) mp.raw(Bytes{0xd9, 4, 'P', 'i', 'n', 'g'});
        else mp.str("Ping");
        if (extra_type) mp.str("__type__").str("Ping");  // the last one wins, and it is the same
        return mp.bytes();
    };
    const Bytes cc{0xcc, 200}, cd{0xcd, 0, 200};
    const Bytes variants[] = {build(cc, false, false, false), build(cd, false, false, false),
                              build(cc, true, false, false),  build(cc, false, true, false),
                              build(cc, false, false, true)};
    for (size_t v = 0; v < 5; v++) {
        Owned<Ping> m = decode_ok<Ping>(variants[v]);
        ASSERT_TRUE(m) << "variant " << v;
        EXPECT_EQ(m->n, 7) << v;
        EXPECT_STREQ(RK_STR(m.get(), name), "x") << v;
        rk_uuid_t want1 = uuid_of(1), want2 = uuid_of(2);
        EXPECT_TRUE(rk_uuid_equal(&m->hdr.message_id, &want1)) << v;
        EXPECT_TRUE(rk_uuid_equal(&m->hdr.correlation_id, &want2)) << v;
        EXPECT_EQ(m->hdr.priority, 200) << v;
    }
    // Our own encoder's bytes are the first variant exactly.
    Ping *p = create<Ping>(Ping_type());
    ASSERT_EQ(RK_SET_STR(&p, Ping, name, "x"), RK_OK);
    Owned<Ping> mine(p);
    mine->n = 7;
    mine->hdr.message_id = uuid_of(1);
    mine->hdr.correlation_id = uuid_of(2);
    mine->hdr.priority = 200;
    EXPECT_EQ(serialize(mine.get()), variants[0]);
    // A priority above 255 is refused on either path.
    EXPECT_EQ(decode_status(build(Bytes{0xcd, 1, 0}, false, false, false)), RK_ERR_PRIORITY);
}

TEST_F(Codec, ReusesTheCallersBuffer)
{
    Owned<Every> m(make_every());
    rk_buf_t buf;
    rk_buf_init(&buf);
    ASSERT_EQ(rk_msg_serialize(&m->hdr, &buf), RK_OK);
    size_t len = buf.len;
    uint8_t *data = buf.data;
    ASSERT_EQ(rk_msg_serialize(&m->hdr, &buf), RK_OK); // overwrites, does not append
    EXPECT_EQ(buf.len, len);
    EXPECT_EQ(buf.data, data);
    rk_buf_free(&buf);
    EXPECT_EQ(buf.data, nullptr);
    rk_buf_free(&buf); // idempotent
}

TEST_F(Codec, SerializeRejectsMalformedBlocks)
{
    Owned<Ping> m(create<Ping>(Ping_type()));
    rk_buf_t buf;
    rk_buf_init(&buf);
    m->name.off = 1u << 20; // points outside the block
    m->name.len = 3;
    EXPECT_EQ(rk_msg_serialize(&m->hdr, &buf), RK_ERR_MALFORMED);
    EXPECT_EQ(buf.len, 0u);
    m->name.off = 0;
    m->hdr.magic = 0;
    EXPECT_EQ(rk_msg_serialize(&m->hdr, &buf), RK_ERR_MALFORMED);
    m->hdr.magic = RK_MSG_MAGIC;
    EXPECT_EQ(rk_msg_serialize(nullptr, &buf), RK_ERR_INVALID);
    EXPECT_EQ(rk_msg_serialize(&m->hdr, nullptr), RK_ERR_INVALID);
    rk_buf_free(&buf);
}

// ---- what a foreign encoder may send ----------------------------------------

TEST_F(Codec, DecodesBareBinAndStringUuids)
{
    rk_uuid_t a = uuid_of(0x10), b = uuid_of(0x30), c = uuid_of(0x50);
    char b36[37], c36[37];
    rk_uuid_format(&b, b36);
    rk_uuid_format(&c, c36);
    std::string c32;
    for (char ch : std::string(c36))
        if (ch != '-') c32 += ch;

    Mp mp;
    mp.map(5).str("message_id").bin(a.bytes, 16).str("correlation_id").str(b36);
    mp.str("id").str(c32).str("priority").i(3).str("__type__").str("Scalars");
    Owned<Scalars> m = decode_ok<Scalars>(mp.bytes());
    ASSERT_TRUE(m);
    EXPECT_TRUE(rk_uuid_equal(&m->hdr.message_id, &a));
    EXPECT_TRUE(rk_uuid_equal(&m->hdr.correlation_id, &b));
    EXPECT_TRUE(rk_uuid_equal(&m->id, &c));
    EXPECT_EQ(m->hdr.priority, 3);

    Mp old; // pydotcompute's older {"__uuid__": "<36 chars>"} form
    old.map(2).str("id").map(1).str("__uuid__").str(c36).str("__type__").str("Scalars");
    Owned<Scalars> m2 = decode_ok<Scalars>(old.bytes());
    ASSERT_TRUE(m2);
    EXPECT_TRUE(rk_uuid_equal(&m2->id, &c));
}

TEST_F(Codec, RejectsMalformedUuids)
{
    uint8_t fifteen[15] = {0};
    EXPECT_EQ(decode_status(scalars_with("id", [&](Mp &m) { m.bin(fifteen, 15); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(scalars_with("id", [](Mp &m) { m.str("not-a-uuid"); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(scalars_with("id", [](Mp &m) { m.i(5); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(scalars_with("id", [&](Mp &m) { m.map(1).str("__uuid_bin__").bin(fifteen, 15); })),
              RK_ERR_DECODE);
    EXPECT_EQ(decode_status(scalars_with("id", [](Mp &m) { m.map(2).str("a").i(1).str("b").i(2); })),
              RK_ERR_DECODE);
    EXPECT_EQ(decode_status(scalars_with("message_id", [](Mp &m) { m.f(1.0); })), RK_ERR_DECODE);
}

TEST_F(Codec, IgnoresUnknownKeys)
{
    Mp mp;
    mp.map(6).str("zzz").map(2).str("deep").arr(3).i(1).map(1).nil().nil().nil().str("x").f(2.0);
    mp.str("i").i(7).str("ext").raw({0xd6, 0x01, 1, 2, 3, 4}).str("__future__").bin("abc", 3);
    mp.str("lst").arr(2).str("a").b(true).str("__type__").str("Scalars");
    Owned<Scalars> m = decode_ok<Scalars>(mp.bytes());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->i, 7);
}

TEST_F(Codec, DefaultsMissingKeys)
{
    Mp mp;
    mp.map(1).str("__type__").str("Every");
    Owned<Every> m = decode_ok<Every>(mp.bytes());
    ASSERT_TRUE(m);
    Owned<Every> again = decode_ok<Every>(mp.bytes());
    Owned<Every> fresh(create<Every>(Every_type()));
    // a missing message_id is a fresh UUIDv4, as the reference's uuid4 default factory makes it
    EXPECT_FALSE(rk_uuid_is_nil(&m->hdr.message_id));
    EXPECT_EQ(m->hdr.message_id.bytes[6] >> 4, 4);
    EXPECT_EQ(m->hdr.message_id.bytes[8] >> 6, 2);
    EXPECT_FALSE(rk_uuid_equal(&m->hdr.message_id, &again->hdr.message_id));
    fresh->hdr.message_id = m->hdr.message_id;
    EXPECT_TRUE(rk_msg_equal(&m->hdr, &fresh->hdr));
    EXPECT_EQ(m->hdr.priority, RK_PRIORITY_DEFAULT);
    EXPECT_EQ(m->hdr.src_rank, -1);
}

TEST_F(Codec, DecodesKeysInAnyOrderAndLastTypeWins)
{
    Mp mp; // __type__ first (slow path), duplicate key: the last value wins
    mp.map(5).str("__type__").str("Inner").str("count").i(1).str("__type__").str("Ping");
    mp.str("n").i(9).str("n").i(10);
    Owned<Ping> m = decode_ok<Ping>(mp.bytes());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->hdr.type, Ping_type());
    EXPECT_EQ(m->n, 10);
}

TEST_F(Codec, AcceptsIntegersAndFloat32ForFloatFields)
{
    Owned<Scalars> a = decode_ok<Scalars>(scalars_with("f", [](Mp &m) { m.i(3); }));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->f, 3.0);
    Owned<Scalars> b = decode_ok<Scalars>(scalars_with("f", [](Mp &m) { m.i(-40000); }));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->f, -40000.0);
    Owned<Scalars> c = decode_ok<Scalars>(scalars_with("f", [](Mp &m) { m.f32(0.5f); }));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->f, 0.5);
    Owned<Scalars> d = decode_ok<Scalars>(scalars_with("of", [](Mp &m) { m.u(UINT64_MAX); }));
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->of.has);
    EXPECT_EQ(d->of.value, 18446744073709551615.0);
}

TEST_F(Codec, RejectsPriorityOutOfRange)
{
    auto with_priority = [](auto put) {
        Mp mp;
        mp.map(2).str("priority");
        put(mp);
        mp.str("__type__").str("Ping");
        return mp.bytes();
    };
    EXPECT_EQ(decode_status(with_priority([](Mp &m) { m.i(256); })), RK_ERR_PRIORITY);
    EXPECT_EQ(decode_status(with_priority([](Mp &m) { m.i(-1); })), RK_ERR_PRIORITY);
    EXPECT_EQ(decode_status(with_priority([](Mp &m) { m.u(UINT64_MAX); })), RK_ERR_PRIORITY);
    EXPECT_EQ(decode_status(with_priority([](Mp &m) { m.str("high"); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with_priority([](Mp &m) { m.i(255); })), RK_OK);
    EXPECT_EQ(decode_status(with_priority([](Mp &m) { m.i(0); })), RK_OK);
}

TEST_F(Codec, RejectsUnknownOrMissingType)
{
    Mp unknown, missing, not_str;
    unknown.map(1).str("__type__").str("Nope");
    missing.map(1).str("n").i(1);
    not_str.map(1).str("__type__").i(1);
    EXPECT_EQ(decode_status(unknown.bytes()), RK_ERR_TYPE);
    EXPECT_EQ(decode_status(missing.bytes()), RK_ERR_TYPE);
    EXPECT_EQ(decode_status(not_str.bytes()), RK_ERR_TYPE);

    Owned<Ping> p(create<Ping>(Ping_type()));
    Bytes wire = serialize(p.get());
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_msg_deserialize_as(Inner_type(), wire.data(), wire.size(), 0, &out), RK_ERR_TYPE);
    EXPECT_EQ(rk_msg_deserialize_as(Ping_type(), missing.bytes().data(), missing.bytes().size(), 0, &out),
              RK_ERR_TYPE);
    EXPECT_EQ(out, nullptr);
}

TEST_F(Codec, RejectsNestedMessageOfAnotherType)
{
    Mp mp;
    mp.map(2).str("inner").map(1).str("__type__").str("Ping").str("__type__").str("Scalars");
    EXPECT_EQ(decode_status(mp.bytes()), RK_ERR_TYPE);
    Mp untagged; // a nested map without `__type__` takes the field's type
    untagged.map(2).str("inner").map(1).str("count").i(4).str("__type__").str("Scalars");
    Owned<Scalars> m = decode_ok<Scalars>(untagged.bytes());
    ASSERT_TRUE(m);
    const Inner *in = RK_NESTED(m.get(), inner, Inner);
    ASSERT_NE(in, nullptr);
    EXPECT_EQ(in->count, 4);
    EXPECT_EQ(in->hdr.type, Inner_type());
}

// ---- hostile input ------------------------------------------------------------

TEST_F(Codec, ReportsTruncationAtEveryPrefix)
{
    Owned<Every> m(make_every());
    Bytes wire = serialize(m.get());
    for (size_t n = 0; n < wire.size(); n++) {
        Bytes prefix(wire.begin(), wire.begin() + n);
        rk_msg_t *out = nullptr;
        ASSERT_EQ(decode(prefix, &out), RK_ERR_TRUNCATED) << "prefix " << n;
        ASSERT_EQ(rk_msg_deserialize_as(Every_type(), prefix.data(), n, 0, &out), RK_ERR_TRUNCATED);
        ASSERT_EQ(out, nullptr);
    }
}

TEST_F(Codec, RejectsGarbageAndTrailingBytes)
{
    EXPECT_EQ(decode_status({0xc1}), RK_ERR_DECODE);
    EXPECT_EQ(decode_status({0x93, 1, 2, 3}), RK_ERR_DECODE);  // an array, not a map
    EXPECT_EQ(decode_status({0x81, 0x01, 0x02}), RK_ERR_DECODE); // an int key
    Owned<Ping> p(create<Ping>(Ping_type()));
    Bytes wire = serialize(p.get());
    wire.push_back(0xc0);
    EXPECT_EQ(decode_status(wire), RK_ERR_DECODE);
    wire.pop_back();
    wire.insert(wire.begin(), 0xc0);
    EXPECT_EQ(decode_status(wire), RK_ERR_DECODE);
    uint8_t huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(decode_status(Bytes(huge_map, huge_map + sizeof huge_map)), RK_ERR_TRUNCATED);
    rk_msg_t *out = nullptr;
    EXPECT_EQ(rk_msg_deserialize(reg_, nullptr, 4, 0, &out), RK_ERR_INVALID);
    EXPECT_EQ(rk_msg_deserialize(nullptr, wire.data(), wire.size(), 0, &out), RK_ERR_INVALID);
    EXPECT_EQ(rk_msg_deserialize(reg_, wire.data(), wire.size(), 0, nullptr), RK_ERR_INVALID);
}

// Random mutations of a valid encoding never crash, leak or yield an invalid block.
TEST_F(Codec, SurvivesRandomMutations)
{
    Owned<Every> m(make_every());
    const Bytes wire = serialize(m.get());
    std::mt19937 rng(12345);
    for (int iter = 0; iter < 20000; iter++) {
        Bytes b = wire;
        int edits = 1 + (int)(rng() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rng() % b.size();
            switch (rng() % 3) {
            case 0: b[at] = (uint8_t)rng(); break;
            case 1: b.erase(b.begin() + (long)at); break;
            default: b.insert(b.begin() + (long)at, (uint8_t)rng()); break;
            }
        }
        rk_msg_t *out = nullptr;
        rk_status_t st = decode(b, &out);
        if (st == RK_OK) {
            ASSERT_EQ(rk_msg_validate(out), RK_OK);
            Bytes again = serialize(out);
            rk_msg_t *back = nullptr;
            ASSERT_EQ(decode(again, &back), RK_OK);
            EXPECT_TRUE(rk_msg_equal(out, back));
            rk_msg_free(back);
            rk_msg_free(out);
        } else {
            ASSERT_TRUE(st == RK_ERR_DECODE || st == RK_ERR_TRUNCATED || st == RK_ERR_TYPE ||
                        st == RK_ERR_PRIORITY)
                << rk_status_str(st);
            ASSERT_EQ(out, nullptr);
        }
    }
}

TEST_F(Codec, RejectsWrongTypedFields)
{
    auto bad = [&](const std::string &key, auto put) { return decode_status(scalars_with(key, put)); };
    EXPECT_EQ(bad("i", [](Mp &m) { m.str("5"); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("i", [](Mp &m) { m.f(5.0); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("i", [](Mp &m) { m.nil(); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("i", [](Mp &m) { m.u((uint64_t)INT64_MAX + 1); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("f", [](Mp &m) { m.b(true); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("flag", [](Mp &m) { m.i(1); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("text", [](Mp &m) { m.bin("ab", 2); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("text", [](Mp &m) { m.str(std::string("a\0b", 3)); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("raw", [](Mp &m) { m.str("ab"); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("when", [](Mp &m) { m.str("yesterday"); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("when", [](Mp &m) { m.i(0); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("of", [](Mp &m) { m.str("1.0"); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("ls", [](Mp &m) { m.map(0); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("ls", [](Mp &m) { m.arr(2).str("a").i(1); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("ls", [](Mp &m) { m.arr(1).nil(); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("di", [](Mp &m) { m.arr(0); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("di", [](Mp &m) { m.map(1).i(1).i(1); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("di", [](Mp &m) { m.map(1).str("k").str("v"); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("inner", [](Mp &m) { m.arr(0); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("inner", [](Mp &m) { m.map(1).str("count").str("x"); }), RK_ERR_DECODE);
    EXPECT_EQ(bad("i", [](Mp &m) { m.raw({0xd4, 0x00, 0x01}); }), RK_ERR_DECODE);
}

TEST_F(Codec, RejectsOversizedInput)
{
    Owned<Every> m(make_every());
    Bytes wire = serialize(m.get());
    rk_msg_t *out = nullptr;
    EXPECT_EQ(decode(wire, &out, wire.size() - 1), RK_ERR_TOO_LARGE);
    EXPECT_EQ(rk_msg_deserialize_as(Every_type(), wire.data(), wire.size(), 10, &out), RK_ERR_TOO_LARGE);
    EXPECT_EQ(out, nullptr);
    ASSERT_EQ(decode(wire, &out, wire.size()), RK_OK);
    rk_msg_free(out);

    Bytes big(RK_CODEC_MAX_DEFAULT + 1, 0xc0); // the default limit applies with max_len 0
    EXPECT_EQ(decode(big, &out), RK_ERR_TOO_LARGE);
}

// Node{level, child: Node} chains: the root plus RK_MSG_MAX_DEPTH (8) nested levels decode.
static Bytes node_chain(int nested)
{
    Mp mp;
    for (int lvl = 0; lvl <= nested; lvl++) {
        mp.map(lvl < nested ? 3 : 2).str("level").i(lvl).str("__type__").str("Node");
        if (lvl < nested) mp.str("child");
    }
    return mp.bytes();
}

TEST_F(Codec, DecodesNestingUpToMaxDepth)
{
    Owned<Node> m = decode_ok<Node>(node_chain(8));
    ASSERT_TRUE(m);
    const Node *n = m.get();
    int depth = 0;
    while (!rk_view_is_nil(n->child)) {
        n = RK_NESTED(n, child, Node);
        depth++;
        EXPECT_EQ(n->level, depth);
    }
    EXPECT_EQ(depth, 8);
    Owned<Node> back = decode_ok<Node>(serialize(m.get()));
    ASSERT_TRUE(back);
    EXPECT_TRUE(rk_msg_equal(&m->hdr, &back->hdr));

    EXPECT_EQ(decode_status(node_chain(9)), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(node_chain(200)), RK_ERR_DECODE);
}

TEST_F(Codec, DecodesConcurrentlyWithASharedRegistry)
{
    Owned<Every> m(make_every());
    const Bytes wire = serialize(m.get());
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; i++) {
                rk_msg_t *out = nullptr;
                if (rk_msg_deserialize(reg_, wire.data(), wire.size(), 0, &out) == RK_OK &&
                    rk_msg_equal(out, &m->hdr))
                    ok[t]++;
                rk_msg_free(out);
            }
        });
    }
    for (auto &th : threads) th.join();
    for (int n : ok) EXPECT_EQ(n, 500);
}

// ---- datetimes ----------------------------------------------------------------

static std::string fmt(int64_t us)
{
    char out[40];
    rk_datetime_format(us, out);
    return out;
}

static int64_t parse(const std::string &s, rk_status_t expect = RK_OK)
{
    int64_t us = -42;
    EXPECT_EQ(rk_datetime_parse(s.data(), s.size(), &us), expect) << s;
    return us;
}

TEST(Datetime, FormatsLikePythonIsoformat)
{
    EXPECT_EQ(fmt(0), "1970-01-01T00:00:00+00:00");
    EXPECT_EQ(fmt(1795607020123456LL), "2026-11-25T11:43:40.123456+00:00");
    EXPECT_EQ(fmt(1795607020000000LL), "2026-11-25T11:43:40+00:00");
    EXPECT_EQ(fmt(1795607020000010LL), "2026-11-25T11:43:40.000010+00:00");
    EXPECT_EQ(fmt(-1), "1969-12-31T23:59:59.999999+00:00");
    EXPECT_EQ(fmt(951782400000000LL), "2000-02-29T00:00:00+00:00");
    EXPECT_EQ(fmt(-62135596800000000LL), "0001-01-01T00:00:00+00:00");
    EXPECT_EQ(fmt(253402300799999999LL), "9999-12-31T23:59:59.999999+00:00");
}

TEST(Datetime, ParsesOffsetsSeparatorsAndFractions)
{
    const int64_t t = 1795607020123456LL;
    EXPECT_EQ(parse("2026-11-25T11:43:40.123456+00:00"), t);
    EXPECT_EQ(parse("2026-11-25T11:43:40.123456Z"), t);
    EXPECT_EQ(parse("2026-11-25T11:43:40.123456"), t); // naive: UTC
    EXPECT_EQ(parse("2026-11-25 11:43:40.123456"), t);
    EXPECT_EQ(parse("2026-11-25T17:13:40.123456+05:30"), t);
    EXPECT_EQ(parse("2026-11-25T03:43:40.123456-08:00"), t);
    EXPECT_EQ(parse("2026-11-25T03:43:40.123456-0800"), t);
    EXPECT_EQ(parse("2026-11-25T11:43:40.1"), t - 23456);
    EXPECT_EQ(parse("2026-11-25T11:43:40.12"), t - 3456);
    EXPECT_EQ(parse("2026-11-25T11:43:40"), t - 123456);
    EXPECT_EQ(parse("2026-11-25T11:43"), t - 40123456);
    EXPECT_EQ(parse("2026-11-25"), t - (11 * 3600 + 43 * 60 + 40) * 1000000LL - 123456);
    EXPECT_EQ(parse("1970-01-01T00:00:00+01:00"), -3600000000LL);
}

TEST(Datetime, RejectsMalformedStrings)
{
    for (const char *s : {"", "2026", "2026-11", "2026-1-25", "2026-13-01", "2026-02-29", "2026-11-31",
                          "2026-11-25T24:00:00", "2026-11-25T11:60:00", "2026-11-25T11:43:60",
                          "2026-11-25T11:43:40.", "2026-11-25T11:43:40.1234567", "2026-11-25X11:43:40",
                          "2026-11-25T11:43:40+24:00", "2026-11-25T11:43:40+05:3", "2026-11-25T11:43:40Zjunk",
                          "2026-11-25T11:43:40 ", "+12345678-01-01", "2026-11-25T1:43"})
        parse(s, RK_ERR_DECODE);
    int64_t us;
    EXPECT_EQ(rk_datetime_parse(nullptr, 0, &us), RK_ERR_INVALID);
}

TEST(Datetime, RoundTripsEveryInt64)
{
    std::mt19937_64 rng(7);
    std::vector<int64_t> cases = {INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 0, -1, 1};
    for (int i = 0; i < 20000; i++) cases.push_back((int64_t)rng() >> (rng() % 64));
    for (int64_t us : cases) {
        std::string s = fmt(us);
        ASSERT_LT(s.size(), 40u);
        ASSERT_EQ(parse(s), us) << s;
    }
    EXPECT_EQ(parse("2000-02-29T00:00:00"), 951782400000000LL); // leap day
}

// ---- registry ---------------------------------------------------------------------

TEST(Registry, RejectsDuplicateName)
{
    rk_registry_t *reg;
    ASSERT_EQ(rk_registry_create(&reg), RK_OK);
    EXPECT_EQ(rk_registry_add(reg, Ping_type()), RK_OK);
    EXPECT_EQ(rk_registry_add(reg, Ping_type()), RK_OK); // the same descriptor again is fine
    EXPECT_EQ(rk_registry_add(reg, &ping_clone), RK_ERR_EXISTS);
    EXPECT_EQ(rk_registry_find(reg, "Ping", 4), Ping_type());
    EXPECT_EQ(rk_registry_find(reg, "PingX", 4), Ping_type()); // length-delimited
    EXPECT_EQ(rk_registry_find(reg, "Pin", 3), nullptr);
    EXPECT_EQ(rk_registry_find(reg, "Inner", 5), nullptr);
    EXPECT_EQ(rk_registry_add(reg, nullptr), RK_ERR_INVALID);
    rk_registry_destroy(reg);
}

TEST(Registry, RejectsDescriptorsTheCodecCannotHandle)
{
    static const rk_field_t shadow[] = {{"priority", RK_KIND_INT, RK_KIND_NONE, sizeof(rk_msg_t), nullptr}};
    static const rk_field_t no_elem[] = {{"l", RK_KIND_LIST, RK_KIND_NONE, sizeof(rk_msg_t), nullptr}};
    static const rk_field_t no_nested[] = {{"m", RK_KIND_MSG, RK_KIND_NONE, sizeof(rk_msg_t), nullptr}};
    const uint32_t size = sizeof(rk_msg_t) + 8;
    const rk_msg_type_t bad[] = {{"Shadow", size, 1, shadow},
                                 {"NoElem", size, 1, no_elem},
                                 {"NoNested", size, 1, no_nested},
                                 {"Small", 8, 0, nullptr},
                                 {"", size, 0, nullptr}};
    rk_registry_t *reg;
    ASSERT_EQ(rk_registry_create(&reg), RK_OK);
    for (const rk_msg_type_t &t : bad) EXPECT_EQ(rk_registry_add(reg, &t), RK_ERR_INVALID) << t.name;
    rk_registry_destroy(reg);
}

TEST(Registry, GrowsAndFindsEveryType)
{
    std::vector<std::string> names;
    std::vector<rk_msg_type_t> types(500);
    for (int i = 0; i < 500; i++) names.push_back("Type" + std::to_string(i));
    rk_registry_t *reg;
    ASSERT_EQ(rk_registry_create(&reg), RK_OK);
    for (int i = 0; i < 500; i++) {
        types[i] = rk_msg_type_t{names[i].c_str(), (uint32_t)sizeof(rk_msg_t), 0, nullptr};
        ASSERT_EQ(rk_registry_add(reg, &types[i]), RK_OK);
    }
    for (int i = 0; i < 500; i++)
        EXPECT_EQ(rk_registry_find(reg, names[i].data(), names[i].size()), &types[i]);
    EXPECT_EQ(rk_registry_find(reg, "Type500", 7), nullptr);
    rk_registry_destroy(reg);
}
