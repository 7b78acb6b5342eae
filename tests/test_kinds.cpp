// test_kinds.cpp - the field kinds of the seed's data model added in 0.3:
// OPT_UUID (`UUID | None`), OPT_DATETIME (`datetime | None`) and UINT (the
// full 0..2^64-1 range, also as a LIST / TUPLE / DICT element).
//
// Round trips for each kind; our bytes against msgpack-c's (the reference
// library writes UUID as {"__uuid_bin__": bin 16}, None as nil, datetimes as
// isoformat strings and integers in their smallest form, exactly as msgpack-c
// packs them); reference bytes decoded (nil, every UUID spelling, uint64
// values >= 2^63); what a UINT field refuses.
#include <gtest/gtest.h>
#include <msgpack.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "msgpack_ref.h"
#include "ringmesh/ringmesh.h"
extern "C" {
#include "msg/schema.h" // internal, C linkage
}

namespace {

#define NEW_KINDS(F)                     \
    F(NewKinds, ou, OPT_UUID, _)         \
    F(NewKinds, od, OPT_DATETIME, _)     \
    F(NewKinds, n, UINT, _)              \
    F(NewKinds, ln, LIST, UINT)          \
    F(NewKinds, tn, TUPLE, UINT)         \
    F(NewKinds, dn, DICT, UINT)          \
    F(NewKinds, id, UUID, _)             \
    F(NewKinds, when, DATETIME, _)
RK_MESSAGE_DECLARE(NewKinds, NEW_KINDS)
RK_MESSAGE_DEFINE(NewKinds, NEW_KINDS)

using rktest::Bytes;
using rktest::Mp;
using rktest::Owned;
using rktest::serialize;

rk_uuid_t uuid_of(uint8_t seed)
{
    rk_uuid_t u;
    for (int i = 0; i < 16; i++) u.bytes[i] = (uint8_t)(seed + 3 * i);
    return u;
}

std::string iso(int64_t us)
{
    char s[40];
    rk_datetime_format(us, s);
    return s;
}

NewKinds *fresh()
{
    NewKinds *m = nullptr;
    EXPECT_EQ(NewKinds_new(&m), RK_OK);
    if (m) m->hdr.message_id = uuid_of(0x11);
    return m;
}

const uint64_t kEdges[] = {0,
                           127,
                           128,
                           255,
                           256,
                           65535,
                           65536,
                           (UINT64_C(1) << 32) - 1,
                           UINT64_C(1) << 32,
                           (UINT64_C(1) << 63) - 1,
                           UINT64_C(1) << 63,
                           UINT64_MAX - 1,
                           UINT64_MAX};
const size_t kNumEdges = sizeof kEdges / sizeof kEdges[0];

class Kinds : public ::testing::Test {
  protected:
    void SetUp() override
    {
        ASSERT_EQ(rk_registry_create(&reg_), RK_OK);
        ASSERT_EQ(rk_registry_add(reg_, NewKinds_type()), RK_OK);
    }
    void TearDown() override { rk_registry_destroy(reg_); }

    rk_status_t decode_status(const Bytes &b)
    {
        rk_msg_t *m = nullptr;
        rk_status_t st = rk_msg_deserialize(reg_, b.data(), b.size(), 0, &m);
        rk_msg_free(m);
        return st;
    }
    Owned<NewKinds> decode_ok(const Bytes &b)
    {
        rk_msg_t *m = nullptr;
        EXPECT_EQ(rk_msg_deserialize(reg_, b.data(), b.size(), 0, &m), RK_OK);
        if (m) {
            EXPECT_EQ(rk_msg_validate(m), RK_OK);
            EXPECT_NE(NewKinds_cast(m), nullptr);
        }
        return Owned<NewKinds>(reinterpret_cast<NewKinds *>(m));
    }
    // Serialize, decode (by registry and by type) and check equality and byte-identical re-encoding.
    Owned<NewKinds> round_trip(const NewKinds *m)
    {
        Bytes wire = serialize(m);
        Owned<NewKinds> back = decode_ok(wire);
        if (!back) return back;
        EXPECT_TRUE(rk_msg_equal(&m->hdr, &back->hdr));
        EXPECT_EQ(serialize(back.get()), wire);
        rk_msg_t *as = nullptr;
        EXPECT_EQ(rk_msg_deserialize_as(NewKinds_type(), wire.data(), wire.size(), 0, &as), RK_OK);
        EXPECT_TRUE(as && rk_msg_equal(&m->hdr, as));
        rk_msg_free(as);
        return back;
    }
    // A NewKinds map whose field @p key holds the value written by @p value.
    template <class Fn> Bytes with(const std::string &key, Fn value)
    {
        Mp mp;
        mp.map(2).str(key);
        value(mp);
        mp.str("__type__").str("NewKinds");
        return mp.bytes();
    }

    rk_registry_t *reg_ = nullptr;
};

} // namespace

// ---- round trips ------------------------------------------------------------

TEST_F(Kinds, OptUuidRoundTripsPresentAndNil)
{
    Owned<NewKinds> m(fresh());
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->ou.has); // a new message: nil
    NewKinds *p = m.release();
    const rk_uuid_t a = uuid_of(0x40);
    ASSERT_EQ(NewKinds_set_ou(&p, a), RK_OK);
    m.reset(p);
    EXPECT_TRUE(m->ou.has);
    Owned<NewKinds> back = round_trip(m.get());
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->ou.has);
    EXPECT_TRUE(rk_uuid_equal(&back->ou.value, &a));

    // The nil UUID is a value, not None.
    m->ou = {rk_uuid_t{}, true};
    back = round_trip(m.get());
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->ou.has);
    EXPECT_TRUE(rk_uuid_is_nil(&back->ou.value));

    p = m.release();
    ASSERT_EQ(RK_SET_NIL(&p, NewKinds, ou), RK_OK);
    m.reset(p);
    EXPECT_FALSE(m->ou.has);
    back = round_trip(m.get());
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->ou.has);
    EXPECT_TRUE(rk_uuid_is_nil(&back->ou.value));
}

TEST_F(Kinds, OptDatetimeRoundTripsPresentAndNil)
{
    for (int64_t us : {(int64_t)0, (int64_t)-1, (int64_t)1795607020123456LL, INT64_MIN, INT64_MAX}) {
        Owned<NewKinds> m(fresh());
        ASSERT_TRUE(m);
        EXPECT_FALSE(m->od.has);
        NewKinds *p = m.release();
        ASSERT_EQ(NewKinds_set_od(&p, us), RK_OK);
        m.reset(p);
        Owned<NewKinds> back = round_trip(m.get());
        ASSERT_TRUE(back);
        EXPECT_TRUE(back->od.has);
        EXPECT_EQ(back->od.value, us);

        p = m.release();
        ASSERT_EQ(RK_SET_NIL(&p, NewKinds, od), RK_OK);
        m.reset(p);
        back = round_trip(m.get());
        ASSERT_TRUE(back);
        EXPECT_FALSE(back->od.has);
    }
}

TEST_F(Kinds, UintRoundTripsTheFullRange)
{
    for (uint64_t v : kEdges) {
        Owned<NewKinds> m(fresh());
        ASSERT_TRUE(m);
        NewKinds *p = m.release();
        ASSERT_EQ(NewKinds_set_n(&p, v), RK_OK);
        m.reset(p);
        Owned<NewKinds> back = round_trip(m.get());
        ASSERT_TRUE(back);
        EXPECT_EQ(back->n, v);
    }
}

TEST_F(Kinds, UintListsTuplesAndDictsRoundTrip)
{
    std::vector<std::string> names;
    std::vector<const char *> keys;
    for (size_t k = 0; k < kNumEdges; k++) names.push_back("k" + std::to_string(k));
    for (const std::string &s : names) keys.push_back(s.c_str());

    Owned<NewKinds> m(fresh());
    ASSERT_TRUE(m);
    NewKinds *p = m.release();
    ASSERT_EQ(NewKinds_set_ln(&p, kEdges, kNumEdges), RK_OK);
    ASSERT_EQ(NewKinds_set_tn(&p, kEdges + 9, 4), RK_OK);
    ASSERT_EQ(NewKinds_set_dn(&p, keys.data(), kEdges, kNumEdges), RK_OK);
    m.reset(p);
    ASSERT_EQ(rk_msg_validate(&m->hdr), RK_OK);
    Owned<NewKinds> back = round_trip(m.get());
    ASSERT_TRUE(back);
    ASSERT_EQ(back->ln.len, kNumEdges);
    ASSERT_EQ(back->tn.len, 4u);
    ASSERT_EQ(back->dn.len, kNumEdges);
    const uint64_t *ln = RK_LIST(back.get(), ln, uint64_t);
    const rk_dict_entry_t *dn = (const rk_dict_entry_t *)rk_view_ptr(back.get(), back->dn);
    for (size_t k = 0; k < kNumEdges; k++) {
        EXPECT_EQ(ln[k], kEdges[k]) << k;
        EXPECT_EQ(dn[k].value.n, kEdges[k]) << k;
        EXPECT_STREQ((const char *)rk_view_ptr(back.get(), dn[k].key), keys[k]);
    }
    EXPECT_EQ(RK_LIST(back.get(), tn, uint64_t)[3], UINT64_MAX);
}

// ---- our bytes against the reference encoder's ------------------------------

TEST_F(Kinds, EncodesExactlyLikeMsgpackC)
{
    const rk_uuid_t a = uuid_of(0x20), b = uuid_of(0x60);
    const int64_t when = 1795607020123456LL, od = 86400000000LL + 5;
    const char *keys[] = {"x", "y", "z"};
    const uint64_t dvals[] = {1, UINT64_C(1) << 63, 300};

    // Present values.
    Owned<NewKinds> m(fresh());
    ASSERT_TRUE(m);
    NewKinds *p = m.release();
    ASSERT_EQ(NewKinds_set_ou(&p, a), RK_OK);
    ASSERT_EQ(NewKinds_set_od(&p, od), RK_OK);
    ASSERT_EQ(NewKinds_set_n(&p, UINT64_MAX), RK_OK);
    ASSERT_EQ(NewKinds_set_ln(&p, kEdges, kNumEdges), RK_OK);
    ASSERT_EQ(NewKinds_set_tn(&p, kEdges, 3), RK_OK);
    ASSERT_EQ(NewKinds_set_dn(&p, keys, dvals, 3), RK_OK);
    ASSERT_EQ(NewKinds_set_id(&p, b), RK_OK);
    ASSERT_EQ(NewKinds_set_when(&p, when), RK_OK);
    m.reset(p);
    ASSERT_EQ(rk_msg_set_priority(&m->hdr, 200), RK_OK);
    ASSERT_EQ(rk_msg_set_correlation(&m->hdr, &b), RK_OK);

    Mp ref;
    ref.map(12).str("ou").uuid_map(a).str("od").str(iso(od)).str("n").u(UINT64_MAX).str("ln").arr(kNumEdges);
    for (uint64_t v : kEdges) ref.u(v);
    ref.str("tn").arr(3).u(kEdges[0]).u(kEdges[1]).u(kEdges[2]);
    ref.str("dn").map(3).str("x").u(1).str("y").u(UINT64_C(1) << 63).str("z").u(300);
    ref.str("id").uuid_map(b).str("when").str(iso(when));
    ref.str("message_id").uuid_map(uuid_of(0x11)).str("priority").i(200);
    ref.str("correlation_id").uuid_map(b).str("__type__").str("NewKinds");
    EXPECT_EQ(serialize(m.get()), ref.bytes());
    EXPECT_EQ(iso(od), "1970-01-02T00:00:00.000005+00:00");

    // Absent values: None is nil, the UUID and DATETIME kinds still write a value.
    Owned<NewKinds> empty(fresh());
    ASSERT_TRUE(empty);
    Mp nil;
    nil.map(12).str("ou").nil().str("od").nil().str("n").u(0).str("ln").nil().str("tn").nil().str("dn").nil();
    nil.str("id").uuid_map(rk_uuid_t{}).str("when").str(iso(0));
    nil.str("message_id").uuid_map(uuid_of(0x11)).str("priority").i(128);
    nil.str("correlation_id").nil().str("__type__").str("NewKinds");
    EXPECT_EQ(serialize(empty.get()), nil.bytes());
}

// Each UINT width at its edges: exactly msgpack_pack_uint64's bytes, and the same
// as msgpack_pack_int64's for values up to INT64_MAX (the INT kind's form).
TEST_F(Kinds, EncodesEveryUintWidthLikeMsgpackC)
{
    for (uint64_t v : kEdges) {
        Owned<NewKinds> m(fresh());
        ASSERT_TRUE(m);
        m->n = v;
        Mp ref, as_int;
        ref.map(12).str("ou").nil().str("od").nil().str("n").u(v);
        as_int.map(12).str("ou").nil().str("od").nil().str("n");
        if (v <= (uint64_t)INT64_MAX) as_int.i((int64_t)v);
        else as_int.u(v);
        for (Mp *mp : {&ref, &as_int}) {
            mp->str("ln").nil().str("tn").nil().str("dn").nil();
            mp->str("id").uuid_map(rk_uuid_t{}).str("when").str(iso(0));
            mp->str("message_id").uuid_map(uuid_of(0x11)).str("priority").i(128);
            mp->str("correlation_id").nil().str("__type__").str("NewKinds");
        }
        Bytes wire = serialize(m.get());
        EXPECT_EQ(wire, ref.bytes()) << v;
        EXPECT_EQ(wire, as_int.bytes()) << v;
    }
}

// ---- the reference's bytes decoded --------------------------------------------

TEST_F(Kinds, DecodesNilAsNone)
{
    Mp mp;
    mp.map(5).str("ou").nil().str("od").nil().str("ln").nil().str("dn").nil().str("__type__").str("NewKinds");
    Owned<NewKinds> m = decode_ok(mp.bytes());
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->ou.has);
    EXPECT_FALSE(m->od.has);
    EXPECT_TRUE(rk_view_is_nil(m->ln));
    EXPECT_TRUE(rk_view_is_nil(m->dn));

    // A message without the keys: None as well.
    Mp bare;
    bare.map(1).str("__type__").str("NewKinds");
    Owned<NewKinds> b = decode_ok(bare.bytes());
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->ou.has);
    EXPECT_FALSE(b->od.has);
    EXPECT_EQ(b->n, 0u);
}

TEST_F(Kinds, DecodesEveryUuidSpellingIntoOptUuid)
{
    const rk_uuid_t a = uuid_of(0x33);
    char s36[37];
    rk_uuid_format(&a, s36);
    std::string s32;
    for (char ch : std::string(s36))
        if (ch != '-') s32 += ch;
    Bytes bin16 = with("ou", [&](Mp &m) { m.bin(a.bytes, 16); });
    Bytes map = with("ou", [&](Mp &m) { m.uuid_map(a); });
    Bytes text36 = with("ou", [&](Mp &m) { m.str(s36); });
    Bytes text32 = with("ou", [&](Mp &m) { m.str(s32); });
    Bytes old = with("ou", [&](Mp &m) { m.map(1).str("__uuid__").str(s36); });
    Bytes map16 = with("ou", [&](Mp &m) { m.raw({0xde, 0, 1}).str("__uuid_bin__").bin(a.bytes, 16); });
    int n = 0;
    for (const Bytes *b : {&bin16, &map, &text36, &text32, &old, &map16}) {
        Owned<NewKinds> m = decode_ok(*b);
        ASSERT_TRUE(m) << n;
        EXPECT_TRUE(m->ou.has) << n;
        EXPECT_TRUE(rk_uuid_equal(&m->ou.value, &a)) << n;
        n++;
    }
    uint8_t fifteen[15] = {0};
    EXPECT_EQ(decode_status(with("ou", [&](Mp &m) { m.bin(fifteen, 15); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("ou", [](Mp &m) { m.str("not-a-uuid"); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("ou", [](Mp &m) { m.i(0); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("ou", [](Mp &m) { m.b(false); })), RK_ERR_DECODE);
}

TEST_F(Kinds, DecodesIsoStringsIntoOptDatetime)
{
    Owned<NewKinds> m = decode_ok(with("od", [](Mp &mp) { mp.str("2026-11-25T11:43:40.123456+00:00"); }));
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->od.has);
    EXPECT_EQ(m->od.value, 1795607020123456LL);
    Owned<NewKinds> z = decode_ok(with("od", [](Mp &mp) { mp.str("2026-11-25T17:13:40.123456+05:30"); }));
    ASSERT_TRUE(z);
    EXPECT_EQ(z->od.value, 1795607020123456LL);
    EXPECT_EQ(decode_status(with("od", [](Mp &mp) { mp.str("yesterday"); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("od", [](Mp &mp) { mp.i(0); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("od", [](Mp &mp) { mp.b(true); })), RK_ERR_DECODE);
}

TEST_F(Kinds, DecodesUint64AtAndAbove2To63)
{
    for (uint64_t v : kEdges) {
        Owned<NewKinds> m = decode_ok(with("n", [&](Mp &mp) { mp.u(v); }));
        ASSERT_TRUE(m) << v;
        EXPECT_EQ(m->n, v);
    }
    // Lists, tuples and dicts of the reference's uint64s.
    Mp mp;
    mp.map(4).str("ln").arr(kNumEdges);
    for (uint64_t v : kEdges) mp.u(v);
    mp.str("tn").arr(2).u(UINT64_C(1) << 63).u(UINT64_MAX);
    mp.str("dn").map(2).str("big").u(UINT64_MAX).str("small").u(5);
    mp.str("__type__").str("NewKinds");
    Owned<NewKinds> m = decode_ok(mp.bytes());
    ASSERT_TRUE(m);
    ASSERT_EQ(m->ln.len, kNumEdges);
    for (size_t k = 0; k < kNumEdges; k++) EXPECT_EQ(RK_LIST(m.get(), ln, uint64_t)[k], kEdges[k]);
    EXPECT_EQ(RK_LIST(m.get(), tn, uint64_t)[0], UINT64_C(1) << 63);
    EXPECT_EQ(RK_LIST(m.get(), tn, uint64_t)[1], UINT64_MAX);
    const rk_dict_entry_t *dn = (const rk_dict_entry_t *)rk_view_ptr(m.get(), m->dn);
    ASSERT_EQ(m->dn.len, 2u);
    EXPECT_EQ(dn[0].value.n, UINT64_MAX);
    EXPECT_EQ(dn[1].value.n, 5u);

    // A non-negative value in a signed encoding (int8 .. int64) is still a UINT.
    for (const Bytes &signed_form : {Bytes{0xd0, 0x05}, Bytes{0xd1, 0x01, 0x00}, Bytes{0xd2, 0, 1, 0, 0},
                                     Bytes{0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}) {
        Owned<NewKinds> s = decode_ok(with("n", [&](Mp &w) { w.raw(signed_form); }));
        ASSERT_TRUE(s);
    }
}

TEST_F(Kinds, UintRefusesNegativesFloatsAndOtherTypes)
{
    for (int64_t v : {(int64_t)-1, (int64_t)-32, (int64_t)-33, (int64_t)-129, (int64_t)INT32_MIN, INT64_MIN}) {
        EXPECT_EQ(decode_status(with("n", [&](Mp &m) { m.i(v); })), RK_ERR_DECODE) << v;
        EXPECT_EQ(decode_status(with("ln", [&](Mp &m) { m.arr(2).u(1).i(v); })), RK_ERR_DECODE) << v;
        EXPECT_EQ(decode_status(with("dn", [&](Mp &m) { m.map(1).str("k").i(v); })), RK_ERR_DECODE) << v;
    }
    EXPECT_EQ(decode_status(with("n", [](Mp &m) { m.f(1.0); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("n", [](Mp &m) { m.raw({0xca, 0x3f, 0x80, 0, 0}); })), RK_ERR_DECODE); // float32
    EXPECT_EQ(decode_status(with("n", [](Mp &m) { m.nil(); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("n", [](Mp &m) { m.str("1"); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("n", [](Mp &m) { m.b(true); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("ln", [](Mp &m) { m.arr(1).f(2.0); })), RK_ERR_DECODE);
    EXPECT_EQ(decode_status(with("tn", [](Mp &m) { m.arr(1).nil(); })), RK_ERR_DECODE);
}

// ---- blocks: validation, equality, nil -------------------------------------

TEST_F(Kinds, ValidationEqualityAndNil)
{
    Owned<NewKinds> a(fresh()), b(fresh());
    ASSERT_TRUE(a && b);
    // None equals None whatever bytes the value holds.
    a->ou.value = uuid_of(1);
    a->od.value = 42;
    EXPECT_TRUE(rk_msg_equal(&a->hdr, &b->hdr));
    a->ou.has = true;
    EXPECT_FALSE(rk_msg_equal(&a->hdr, &b->hdr));
    b->ou = {uuid_of(1), true};
    EXPECT_TRUE(rk_msg_equal(&a->hdr, &b->hdr));
    b->ou.value.bytes[15] ^= 1;
    EXPECT_FALSE(rk_msg_equal(&a->hdr, &b->hdr));
    b->ou = a->ou;
    a->od.has = true;
    EXPECT_FALSE(rk_msg_equal(&a->hdr, &b->hdr));
    b->od = {42, true};
    EXPECT_TRUE(rk_msg_equal(&a->hdr, &b->hdr));
    b->n = UINT64_C(1) << 63;
    EXPECT_FALSE(rk_msg_equal(&a->hdr, &b->hdr));

    // has must be 0 or 1.
    EXPECT_EQ(rk_msg_validate(&a->hdr), RK_OK);
    std::memset(&a->ou.has, 2, 1);
    EXPECT_EQ(rk_msg_validate(&a->hdr), RK_ERR_MALFORMED);
    a->ou.has = true;
    std::memset(&a->od.has, 0xff, 1);
    EXPECT_EQ(rk_msg_validate(&a->hdr), RK_ERR_MALFORMED);
    a->od.has = false;
    EXPECT_EQ(rk_msg_validate(&a->hdr), RK_OK);

    // rk_msg_set_nil clears the OPT kinds; UINT has no nil.
    NewKinds *p = a.release();
    EXPECT_EQ(RK_SET_NIL(&p, NewKinds, ou), RK_OK);
    EXPECT_EQ(RK_SET_NIL(&p, NewKinds, od), RK_OK);
    EXPECT_EQ(RK_SET_NIL(&p, NewKinds, n), RK_ERR_TYPE);
    EXPECT_EQ(RK_SET_NIL(&p, NewKinds, ln), RK_OK);
    a.reset(p);
    EXPECT_FALSE(a->ou.has);
    EXPECT_FALSE(a->od.has);
    EXPECT_TRUE(rk_uuid_is_nil(&a->ou.value));
    EXPECT_EQ(a->od.value, 0);

    // The descriptor: kinds and element kinds as declared.
    const rk_msg_type_t *t = NewKinds_type();
    EXPECT_EQ(t->fields[0].kind, RK_KIND_OPT_UUID);
    EXPECT_EQ(t->fields[1].kind, RK_KIND_OPT_DATETIME);
    EXPECT_EQ(t->fields[2].kind, RK_KIND_UINT);
    EXPECT_EQ(t->fields[3].elem, RK_KIND_UINT);
    EXPECT_EQ(t->fields[5].elem, RK_KIND_UINT);
    // Existing kinds keep their numbers (they are in wire layouts).
    EXPECT_EQ((int)RK_KIND_MSG, 14);
    EXPECT_EQ((int)RK_KIND_OPT_UUID, 15);
    EXPECT_EQ((int)RK_KIND_OPT_DATETIME, 16);
    EXPECT_EQ((int)RK_KIND_UINT, 17);
}

// The layout compared at rk_runtime_sync names the new kinds in its account of a clash.
TEST(KindsSchema, NamesTheNewKindsInALayoutClash)
{
    uint8_t layout[RK_SCHEMA_MAX];
    size_t len = schema_encode(NewKinds_type(), layout);
    ASSERT_GT(len, 0u);
    char why[256];
    EXPECT_EQ(schema_compare(NewKinds_type(), layout, len, why, sizeof why), SCHEMA_SAME);

    struct Other {
        rk_msg_t hdr;
        rk_uuid_t x;
        int64_t y;
    };
    const rk_field_t as_uuid[] = {{"ou", RK_KIND_UUID, RK_KIND_NONE, (uint32_t)offsetof(Other, x), nullptr}};
    const rk_field_t as_int[] = {{"n", RK_KIND_INT, RK_KIND_NONE, (uint32_t)offsetof(Other, y), nullptr}};
    const rk_field_t as_list[] = {{"ln", RK_KIND_LIST, RK_KIND_INT, (uint32_t)offsetof(Other, y), nullptr}};
    const rk_msg_type_t a = {"NewKinds", (uint32_t)sizeof(Other), 1, as_uuid};
    const rk_msg_type_t b = {"NewKinds", (uint32_t)sizeof(Other), 1, as_int};
    const rk_msg_type_t c = {"NewKinds", (uint32_t)sizeof(Other), 1, as_list};
    EXPECT_EQ(schema_compare(&a, layout, len, why, sizeof why), SCHEMA_CLASH);
    EXPECT_STREQ(why, "field 'ou' is UUID here and OPT_UUID there");
    EXPECT_EQ(schema_compare(&b, layout, len, why, sizeof why), SCHEMA_CLASH);
    EXPECT_STREQ(why, "field 'n' is INT here and UINT there");
    EXPECT_EQ(schema_compare(&c, layout, len, why, sizeof why), SCHEMA_CLASH); // LIST of INT against LIST of UINT
}
