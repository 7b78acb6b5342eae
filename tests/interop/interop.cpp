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
                       {"defaults_v1", 17},   {"optids_set", 64},    {"optids_nil", 3}};

struct Shape {
    const char *name;
    uint32_t ndim;
    uint64_t dims[3];
};
const Shape kShapes[] = {{"arrays_rank0", 0, {0, 0, 0}}, {"arrays_rank1", 1, {5, 0, 0}},
                         {"arrays_rank2", 2, {2, 3, 0}}, {"arrays_rank3", 3, {2, 3, 4}},
                         {"arrays_empty", 1, {0, 0, 0}}};
const char *const kLabelSet = "caf\xc3\xa9 \xe2\x9c\x93"; // "café ✓"

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
    } else {
        OptIds *m = nullptr;
        bool set = !std::strcmp(c.name, "optids_set");
        ok(OptIds_new(&m), "OptIds_new");
        if (set) ok(OptIds_set_ref(&m, ref_id(n)), "set ref");
        ok(OptIds_set_label(&m, set ? kLabelSet : ""), "set label");
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
    bool set = !std::strcmp(cs, "optids_set");
    rk_uuid_t ref = ref_id(n);
    if (m->ref.has != set || (set && !rk_uuid_equal(&m->ref.value, &ref)))
        fail("%s.ref: %s", cs, set ? "not the written UUID" : "not nil");
    if (!str_is(RK_STR(m, label), set ? kLabelSet : "")) fail("%s.label: not the written string", cs);
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
    for (size_t k = 0; k < sizeof kCases / sizeof kCases[0]; k++) {
        const Case &c = kCases[k];
        int n = (int)k + 1;
        std::vector<uint8_t> py = read_file(path_of(dir, c.name));
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
