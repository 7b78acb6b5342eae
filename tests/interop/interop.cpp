// interop.cpp - ringmesh-interop, the C side of the live Python interop test (run.sh).
//
//   ringmesh-interop write DIR   write one <case>.msgpack per case with rk_msg_serialize
//   ringmesh-interop check DIR   decode reference.py's files of the same cases, check every
//                                value, and check that re-encoding gives the same bytes
//
// The cases, ids, priorities and element values are those of reference.py's build().
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "interop_types.h"
#include "ringmesh/ringmesh.h"

RK_MESSAGE_DEFINE(Arrays, INTEROP_ARRAYS)
RK_MESSAGE_DEFINE(Defaults, INTEROP_DEFAULTS)
RK_MESSAGE_DEFINE(OptIds, INTEROP_OPTIDS)
RK_MESSAGE_DEFINE(Part, INTEROP_PART)
RK_MESSAGE_DEFINE(Nests, INTEROP_NESTS)

namespace {

[[noreturn]] void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("ringmesh-interop: FAIL: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(1);
}

void ok(rk_status_t st, const char *what)
{
    if (st != RK_OK) fail("%s: %s", what, rk_status_str(st));
}

// (name, priority); the case number is the position + 1 (as reference.py's CASES).
struct Case {
    const char *name;
    int priority;
};
const Case kCases[] = {{"arrays_rank0", 0},  {"arrays_rank1", 1},   {"arrays_rank2", 127},
                       {"arrays_rank3", 255}, {"arrays_empty", 128}, {"defaults_v2", 200},
                       {"defaults_v1", 17},   {"optids_set", 64},    {"optids_nil", 3},
                       {"nests_lists", 42},   {"nests_parts", 250},  {"optids_when", 99}};
// Written here only (the reference encoder cannot pack Part items or a datetime): reference.py
// checks their values, and does not write them, so check skips their missing files.
const char *const kCOnly[] = {"nests_parts", "optids_when"};

struct Shape {
    const char *name;
    uint32_t ndim;
    uint64_t dims[3];
};
const Shape kShapes[] = {{"arrays_rank0", 0, {0, 0, 0}}, {"arrays_rank1", 1, {5, 0, 0}},
                         {"arrays_rank2", 2, {2, 3, 0}}, {"arrays_rank3", 3, {2, 3, 4}},
                         {"arrays_empty", 1, {0, 0, 0}}};
const char *const kLabelSet = "caf\xc3\xa9 \xe2\x9c\x93"; // "café ✓"
// optids_when: `when` in microseconds since the epoch, 2026-11-25T11:43:40.123456+00:00 on the
// wire (reference.py's WHEN_US / WHEN_ISO); nil in every other OptIds case.
const int64_t kWhenUs = INT64_C(1795607020123456);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
bool c_only(const char *name)
{
    for (const char *c : kCOnly)
        if (!std::strcmp(c, name)) return true;
    return false;
}

// nests_lists: reference.py's GRID, IDS and WORDS (the middle row of each empty).
const double kGrid0[] = {1.5, -2.25, 0.1, 1e300, -0.0}, kGrid2[] = {7.0};
const double *const kGrid[] = {kGrid0, nullptr, kGrid2};
const size_t kGridLens[] = {COUNT(kGrid0), 0, COUNT(kGrid2)};
const int64_t kIds0[] = {0,      1,     -1,          127,        128,        -32,       -33,
                         255,    256,   -129,        65535,      65536,      -32769,    INT64_C(4294967295),
                         INT64_C(4294967296), INT64_C(-2147483649), INT64_MIN, INT64_MAX},
              kIds2[] = {42};
const int64_t *const kIds[] = {kIds0, nullptr, kIds2};
const size_t kIdsLens[] = {COUNT(kIds0), 0, COUNT(kIds2)};
const char *const kWords0[] = {"", "a", kLabelSet},
                  *const kWords2[] = {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", // "日本語"
                                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};    // 32 x: str8
const char *const *const kWords[] = {kWords0, nullptr, kWords2};
const size_t kWordsLens[] = {COUNT(kWords0), 0, COUNT(kWords2)};
// nests_parts: reference.py's PARTS (name, weight, message_id number, priority, correlation).
struct PartSpec {
    const char *name;
    double weight;
    int id;
    int priority;
    bool corr;
};
const PartSpec kParts[] = {{"bolt", 0.25, 101, 7, false}, {"nut \xe2\x9c\x93", -3.5, 102, 200, true}};

const Shape *shape_of(const char *name)
{
    for (const Shape &s : kShapes)
        if (!std::strcmp(s.name, name)) return &s;
    return nullptr;
}

uint64_t count_of(const Shape &s)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < s.ndim; d++) n *= s.dims[d];
    return n;
}

// UUIDs of reference.py: message_id(n), correlation(n), ref_id(n).
rk_uuid_t message_id(int n)
{
    rk_uuid_t u;
    for (int i = 0; i < 16; i++) u.bytes[i] = (uint8_t)(i * 0x11);
    u.bytes[15] = (uint8_t)n; // UUID(int=0x00112233445566778899aabbccddee00 + n)
    return u;
}
rk_uuid_t correlation(int n)
{
    rk_uuid_t u;
    for (int i = 0; i < 16; i++) u.bytes[i] = (uint8_t)(0xa5 ^ (i * 17 + n));
    return u;
}
rk_uuid_t ref_id(int n)
{
    rk_uuid_t u;
    for (int i = 0; i < 16; i++) u.bytes[i] = (uint8_t)(n * 31 + i * 7);
    return u;
}

// The elements of every Arrays field, as reference.py's element(): x = flat index + case number.
constexpr size_t kMax = 24;
struct Values {
    float f32[kMax];
    double f64[kMax];
    int8_t i8[kMax];
    int16_t i16[kMax];
    int32_t i32[kMax];
    int64_t i64[kMax];
    uint8_t u8[kMax];
    uint16_t u16[kMax];
    uint32_t u32[kMax];
    uint64_t u64[kMax];
    bool flags[kMax];
};
void fill(Values *v, uint64_t count, int n)
{
    const uint64_t K = UINT64_C(0x9E3779B97F4A7C15);
    for (uint64_t i = 0; i < count; i++) {
        int64_t x = (int64_t)i + n;
        uint64_t u = (uint64_t)x * K;
        v->f32[i] = (float)((double)x / 3.0 - 1.0);
        v->f64[i] = (double)(x - 5) / 7.0;
        v->i8[i] = (int8_t)(x * 11 % 256 - 128);
        v->i16[i] = (int16_t)(x * 2731 % 65536 - 32768);
        v->i32[i] = (int32_t)(x * 123456789 % INT64_C(4294967296) - INT64_C(2147483648));
        v->i64[i] = x % 2 ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
        v->u8[i] = (uint8_t)(x * 11 % 256);
        v->u16[i] = (uint16_t)(x * 2731 % 65536);
        v->u32[i] = (uint32_t)(x * 123456789 % INT64_C(4294967296));
        v->u64[i] = u;
        v->flags[i] = x % 3 == 0;
    }
}

// The message of case c (number n) built with the typed helpers; the caller frees it.
rk_msg_t *build(const Case &c, int n)
{
    rk_msg_t *hdr;
    if (const Shape *s = shape_of(c.name)) {
        Arrays *m = nullptr;
        Values v;
        fill(&v, count_of(*s), n);
        ok(Arrays_new(&m), "Arrays_new");
        ok(Arrays_set_f32(&m, v.f32, s->ndim, s->dims), "set f32");
        ok(Arrays_set_f64(&m, v.f64, s->ndim, s->dims), "set f64");
        ok(Arrays_set_i8(&m, v.i8, s->ndim, s->dims), "set i8");
        ok(Arrays_set_i16(&m, v.i16, s->ndim, s->dims), "set i16");
        ok(Arrays_set_i32(&m, v.i32, s->ndim, s->dims), "set i32");
        ok(Arrays_set_i64(&m, v.i64, s->ndim, s->dims), "set i64");
        ok(Arrays_set_u8(&m, v.u8, s->ndim, s->dims), "set u8");
        ok(Arrays_set_u16(&m, v.u16, s->ndim, s->dims), "set u16");
        ok(Arrays_set_u32(&m, v.u32, s->ndim, s->dims), "set u32");
        ok(Arrays_set_u64(&m, v.u64, s->ndim, s->dims), "set u64");
        ok(Arrays_set_flags(&m, v.flags, s->ndim, s->dims), "set flags");
        hdr = &m->hdr;
        if (!std::strcmp(c.name, "arrays_rank3")) {
            rk_uuid_t corr = correlation(n);
            ok(rk_msg_set_correlation(hdr, &corr), "set correlation");
        }
    } else if (!std::strncmp(c.name, "defaults_", 9)) { // v1 too: ringmesh has only the full type
        Defaults *m = nullptr;
        ok(Defaults_new(&m), "Defaults_new");
        ok(Defaults_set_expression(&m, "2+2"), "set expression");
        hdr = &m->hdr;
    } else if (!std::strcmp(c.name, "nests_lists")) {
        Nests *m = nullptr;
        ok(Nests_new(&m), "Nests_new");
        ok(Nests_set_grid(&m, kGrid, kGridLens, COUNT(kGrid)), "set grid");
        ok(Nests_set_ids(&m, kIds, kIdsLens, COUNT(kIds)), "set ids");
        ok(Nests_set_words(&m, kWords, kWordsLens, COUNT(kWords)), "set words");
        ok(Nests_set_empty(&m, nullptr, nullptr, 0), "set empty"); // zero rows; `none` stays nil
        hdr = &m->hdr;
    } else if (!std::strcmp(c.name, "nests_parts")) {
        Nests *m = nullptr;
        Part *parts[COUNT(kParts)] = {};
        ok(Nests_new(&m), "Nests_new");
        for (size_t i = 0; i < COUNT(kParts); i++) {
            const PartSpec &p = kParts[i];
            ok(Part_new(&parts[i]), "Part_new");
            ok(Part_set_name(&parts[i], p.name), "set part name");
            parts[i]->weight = p.weight;
            parts[i]->hdr.message_id = message_id(p.id);
            ok(rk_msg_set_priority(&parts[i]->hdr, p.priority), "set part priority");
            rk_uuid_t corr = correlation(p.id);
            if (p.corr) ok(rk_msg_set_correlation(&parts[i]->hdr, &corr), "set part correlation");
        }
        ok(Nests_set_parts(&m, parts, COUNT(parts)), "set parts");
        for (Part *p : parts) rk_msg_free(&p->hdr);
        hdr = &m->hdr;
    } else {
        OptIds *m = nullptr;
        bool set = !std::strcmp(c.name, "optids_set"), when = !std::strcmp(c.name, "optids_when");
        ok(OptIds_new(&m), "OptIds_new");
        if (set) ok(OptIds_set_ref(&m, ref_id(n)), "set ref");
        ok(OptIds_set_label(&m, set ? kLabelSet : when ? "when" : ""), "set label");
        if (when) ok(OptIds_set_when(&m, kWhenUs), "set when");
        hdr = &m->hdr;
        if (set) {
            rk_uuid_t corr = correlation(n);
            ok(rk_msg_set_correlation(hdr, &corr), "set correlation");
        }
    }
    hdr->message_id = message_id(n);
    ok(rk_msg_set_priority(hdr, c.priority), "set priority");
    return hdr;
}

std::vector<uint8_t> encode(const rk_msg_t *m, const char *name)
{
    rk_buf_t b;
    rk_buf_init(&b);
    ok(rk_msg_serialize(m, &b), name);
    std::vector<uint8_t> out(b.data, b.data + b.len);
    rk_buf_free(&b);
    return out;
}

std::string hex(const std::vector<uint8_t> &v, size_t at)
{
    std::string s;
    char h[4];
    for (size_t i = at; i < v.size() && i < at + 16; i++) {
        std::snprintf(h, sizeof h, "%02x ", v[i]);
        s += h;
    }
    return s;
}

void same_bytes(const char *what, const std::vector<uint8_t> &got, const std::vector<uint8_t> &want)
{
    if (got == want) return;
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) i++;
    fail("%s: differ at offset %zu (ringmesh %zu bytes, python %zu): ringmesh %s/ python %s", what, i,
         got.size(), want.size(), hex(got, i).c_str(), hex(want, i).c_str());
}

template <class E>
void same_array(const char *cs, const char *field, const E *got, const rk_array_t &view, rk_dtype_t dtype,
                const E *want, const Shape &s)
{
    if (!got && count_of(s)) fail("%s.%s: nil (or not readable), expected an array", cs, field);
    if (view.dtype != dtype) fail("%s.%s: dtype %s, expected %s", cs, field, rk_dtype_name(view.dtype),
                                  rk_dtype_name(dtype));
    if (view.ndim != s.ndim) fail("%s.%s: ndim %u, expected %u", cs, field, view.ndim, s.ndim);
    for (uint32_t d = 0; d < s.ndim; d++)
        if (view.shape[d] != s.dims[d])
            fail("%s.%s: shape[%u] %" PRIu64 ", expected %" PRIu64, cs, field, d, view.shape[d], s.dims[d]);
    if (view.count != count_of(s)) fail("%s.%s: %" PRIu64 " elements, expected %" PRIu64, cs, field,
                                        view.count, count_of(s));
    for (uint64_t i = 0; i < view.count; i++) // bitwise: floats must be the same bits
        if (std::memcmp(&got[i], &want[i], sizeof(E)))
            fail("%s.%s: element %" PRIu64 " differs", cs, field, i);
}

void check_arrays(const char *cs, const Arrays *m, int n, const Shape &s)
{
    Values v;
    fill(&v, count_of(s), n);
#define SAME_ARRAY(field, DT)                                                       \
    {                                                                               \
        rk_array_t view;                                                            \
        const auto *got = Arrays_get_##field(m, &view);                             \
        same_array(cs, #field, got, view, RK_DTYPE_##DT, v.field, s);               \
    }
    SAME_ARRAY(f32, F32) SAME_ARRAY(f64, F64) SAME_ARRAY(i8, I8) SAME_ARRAY(i16, I16)
    SAME_ARRAY(i32, I32) SAME_ARRAY(i64, I64) SAME_ARRAY(u8, U8) SAME_ARRAY(u16, U16)
    SAME_ARRAY(u32, U32) SAME_ARRAY(u64, U64) SAME_ARRAY(flags, BOOL)
#undef SAME_ARRAY
    rk_array_t view;
    if (Arrays_get_none(m, &view) || view.data) fail("%s.none: not nil", cs);
}

bool str_is(const char *got, const char *want) { return got && !std::strcmp(got, want); }

void check_defaults(const char *cs, const Defaults *m)
{
    if (!str_is(RK_STR(m, expression), "2+2")) fail("%s.expression: not \"2+2\"", cs);
    if (!str_is(RK_STR(m, operation), "sum")) fail("%s.operation: not the default \"sum\"", cs);
    if (m->success != true) fail("%s.success: not the default true", cs);
    if (m->count != -7) fail("%s.count: %" PRId64 ", expected the default -7", cs, m->count);
    if (m->scale != 1.5) fail("%s.scale: %g, expected the default 1.5", cs, m->scale);
    if (m->big != UINT64_MAX) fail("%s.big: %" PRIu64 ", expected the default 2^64-1", cs, m->big);
    if (!m->limit.has || m->limit.value != 10) fail("%s.limit: expected the default 10", cs);
    if (RK_STR(m, error)) fail("%s.error: \"%s\", expected nil", cs, RK_STR(m, error));
}

void check_optids(const char *cs, const OptIds *m, int n)
{
    bool set = !std::strcmp(cs, "optids_set"), when = !std::strcmp(cs, "optids_when");
    rk_uuid_t ref = ref_id(n);
    if (m->ref.has != set || (set && !rk_uuid_equal(&m->ref.value, &ref)))
        fail("%s.ref: %s", cs, set ? "not the written UUID" : "not nil");
    if (!str_is(RK_STR(m, label), set ? kLabelSet : when ? "when" : ""))
        fail("%s.label: not the written string", cs);
    if (m->when.has != when || (when && m->when.value != kWhenUs))
        fail("%s.when: %s", cs, when ? "not the written datetime" : "not nil");
}

bool same_elem(const Nests *, double got, double want) { return !std::memcmp(&got, &want, sizeof got); }
bool same_elem(const Nests *, int64_t got, int64_t want) { return got == want; }
bool same_elem(const Nests *m, rk_view_t got, const char *want)
{
    return str_is((const char *)rk_view_ptr(m, got), want);
}

// A LIST_LIST field read with its getter against the rows written (floats: the same bits).
template <class Get, class E>
void same_rows(const char *cs, const char *field, const Nests *m, rk_view_t v, Get get, const E *const *rows,
               const size_t *lens, size_t count)
{
    if (rk_view_is_nil(v) || v.len != count)
        fail("%s.%s: %s%u rows, expected %zu", cs, field, rk_view_is_nil(v) ? "nil, " : "", v.len, count);
    for (size_t i = 0; i < count; i++) {
        size_t len = 0;
        const auto *row = get(m, i, &len);
        if (!row || len != lens[i]) fail("%s.%s[%zu]: %zu elements, expected %zu", cs, field, i, len, lens[i]);
        for (size_t j = 0; j < len; j++)
            if (!same_elem(m, row[j], rows[i][j])) fail("%s.%s[%zu][%zu] differs", cs, field, i, j);
    }
}

void check_nests(const char *cs, const Nests *m)
{
    if (!std::strcmp(cs, "nests_lists")) {
        same_rows(cs, "grid", m, m->grid, Nests_get_grid, kGrid, kGridLens, COUNT(kGrid));
        same_rows(cs, "ids", m, m->ids, Nests_get_ids, kIds, kIdsLens, COUNT(kIds));
        same_rows(cs, "words", m, m->words, Nests_get_words, kWords, kWordsLens, COUNT(kWords));
        if (rk_view_is_nil(m->empty) || m->empty.len) fail("%s.empty: not a list of zero rows", cs);
        if (!rk_view_is_nil(m->parts)) fail("%s.parts: not nil", cs);
    } else {
        for (rk_view_t v : {m->grid, m->ids, m->words, m->empty})
            if (!rk_view_is_nil(v)) fail("%s: a list of lists is set, expected nil", cs);
        if (m->parts.len != COUNT(kParts)) fail("%s.parts: %u items, expected %zu", cs, m->parts.len, COUNT(kParts));
        for (size_t i = 0; i < COUNT(kParts); i++) {
            const Part *p = Nests_get_parts(m, i);
            rk_uuid_t id = message_id(kParts[i].id), corr = correlation(kParts[i].id), nil = {};
            if (!p || !str_is(RK_STR(p, name), kParts[i].name) || p->weight != kParts[i].weight ||
                !rk_uuid_equal(&p->hdr.message_id, &id) || p->hdr.priority != kParts[i].priority ||
                !rk_uuid_equal(&p->hdr.correlation_id, kParts[i].corr ? &corr : &nil))
                fail("%s.parts[%zu]: not the written Part", cs, i);
        }
    }
    if (!rk_view_is_nil(m->none)) fail("%s.none: not nil", cs);
}

std::string path_of(const char *dir, const char *name) { return std::string(dir) + "/" + name + ".msgpack"; }

int write_all(const char *dir)
{
    for (size_t k = 0; k < sizeof kCases / sizeof kCases[0]; k++) {
        rk_msg_t *m = build(kCases[k], (int)k + 1);
        std::vector<uint8_t> bytes = encode(m, kCases[k].name);
        std::string path = path_of(dir, kCases[k].name);
        FILE *f = std::fopen(path.c_str(), "wb");
        if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f))
            fail("cannot write %s", path.c_str());
        std::printf("ringmesh write: %s (%zu bytes)\n", kCases[k].name, bytes.size());
        rk_msg_free(m);
    }
    return 0;
}

bool exists(const std::string &path)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (f) std::fclose(f);
    return f != nullptr;
}

std::vector<uint8_t> read_file(const std::string &path)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) fail("cannot read %s", path.c_str());
    std::vector<uint8_t> out;
    uint8_t buf[4096];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + got);
    std::fclose(f);
    return out;
}

int check_all(const char *dir)
{
    rk_registry_t *reg = nullptr;
    ok(rk_registry_create(&reg), "rk_registry_create");
    ok(rk_registry_add(reg, Arrays_type()), "register Arrays");
    ok(rk_registry_add(reg, Defaults_type()), "register Defaults");
    ok(rk_registry_add(reg, OptIds_type()), "register OptIds");
    ok(rk_registry_add(reg, Part_type()), "register Part");
    ok(rk_registry_add(reg, Nests_type()), "register Nests");
    for (size_t k = 0; k < sizeof kCases / sizeof kCases[0]; k++) {
        const Case &c = kCases[k];
        int n = (int)k + 1;
        std::string path = path_of(dir, c.name);
        if (c_only(c.name) && !exists(path)) { // reference.py does not write it
            std::printf("ringmesh check: %s: skipped (written by ringmesh only)\n", c.name);
            continue;
        }
        std::vector<uint8_t> py = read_file(path);
        rk_msg_t *got = nullptr;
        rk_status_t st = rk_msg_deserialize(reg, py.data(), py.size(), 0, &got);
        if (st != RK_OK) fail("%s: rk_msg_deserialize: %s", c.name, rk_status_str(st));
        rk_uuid_t id = message_id(n), corr = correlation(n), nil = {};
        bool has_corr = !std::strcmp(c.name, "arrays_rank3") || !std::strcmp(c.name, "optids_set");
        if (!rk_uuid_equal(&got->message_id, &id)) fail("%s.message_id: not the written one", c.name);
        if (got->priority != c.priority) fail("%s.priority: %u, expected %d", c.name, got->priority, c.priority);
        if (!rk_uuid_equal(&got->correlation_id, has_corr ? &corr : &nil))
            fail("%s.correlation_id: %s", c.name, has_corr ? "not the written one" : "not nil");
        if (const Shape *s = shape_of(c.name)) {
            const Arrays *a = Arrays_cast(got);
            if (!a) fail("%s: decoded as %s, expected Arrays", c.name, got->type->name);
            check_arrays(c.name, a, n, *s);
        } else if (const Defaults *d = Defaults_cast(got)) {
            check_defaults(c.name, d); // defaults_v1: the missing keys are the declared defaults
        } else if (const OptIds *o = OptIds_cast(got)) {
            check_optids(c.name, o, n);
        } else if (const Nests *t = Nests_cast(got)) {
            check_nests(c.name, t);
        } else {
            fail("%s: decoded as %s", c.name, got->type->name);
        }
        // The same message built here must be equal and encode the same; re-encoding what was
        // decoded must give Python's bytes back (defaults_v1: ours has the keys v1 lacks).
        rk_msg_t *want = build(c, n);
        if (!rk_msg_equal(got, want)) fail("%s: decoded message differs from the one built here", c.name);
        std::vector<uint8_t> again = encode(got, c.name), ours = encode(want, c.name);
        same_bytes(c.name, again, ours);
        if (std::strcmp(c.name, "defaults_v1")) same_bytes(c.name, again, py);
        std::printf("ringmesh check: %s: values ok, %s (%zu bytes)\n", c.name,
                    std::strcmp(c.name, "defaults_v1") ? "re-encoding identical"
                                                        : "defaults filled, re-encoding has every key",
                    py.size());
        rk_msg_free(want);
        rk_msg_free(got);
    }
    rk_registry_destroy(reg);
    std::printf("ringmesh check: PASSED (%zu cases)\n", sizeof kCases / sizeof kCases[0]);
    return 0;
}

void usage(FILE *to)
{
    std::fputs("usage: ringmesh-interop write DIR | check DIR\n"
               "  write DIR  write one <case>.msgpack per interop case (rk_msg_serialize)\n"
               "  check DIR  decode tests/interop/reference.py's files, check every value and\n"
               "             that re-encoding gives the same bytes\n",
               to);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc == 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc == 3 && !std::strcmp(argv[1], "write")) return write_all(argv[2]);
    if (argc == 3 && !std::strcmp(argv[1], "check")) return check_all(argv[2]);
    usage(stderr);
    return 2;
}
