/*
 * fuzz_decode.c - libFuzzer target for the msgpack message decoder.
 *
 * Any input must decode to a valid block or fail with a decoder status, never
 * crash or leak. Whatever decodes must survive serialize -> deserialize equal
 * (rk_msg_equal) and re-encode to identical bytes; anything else aborts.
 * Built with -DFUZZ_GEN_SEEDS it is instead a program that writes the seed
 * corpus (fuzz/run.sh --seeds).
 */
#include "ringmesh/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The same types as tests/test_codec.cpp, so seeds and failures carry over. */
#include "codec_types.h"
RK_MESSAGE_DECLARE(Inner, INNER)
RK_MESSAGE_DEFINE(Inner, INNER)
RK_MESSAGE_DECLARE(Every, EVERY)
RK_MESSAGE_DEFINE(Every, EVERY)
RK_MESSAGE_DECLARE(Ping, PING)
RK_MESSAGE_DEFINE(Ping, PING)
RK_MESSAGE_DECLARE(Shapes, SHAPES)
RK_MESSAGE_DEFINE(Shapes, SHAPES)
RK_MESSAGE_DECLARE(Node, NODE)
RK_MESSAGE_DEFINE(Node, NODE)

#ifndef FUZZ_GEN_SEEDS

static rk_registry_t *registry(void)
{
    static rk_registry_t *reg;
    if (!reg) {
        const rk_msg_type_t *types[] = {Inner_type(), Every_type(), Ping_type(), Node_type(), Shapes_type()};
        if (rk_registry_create(&reg) != RK_OK) abort();
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (rk_registry_add(reg, types[i]) != RK_OK) abort();
    }
    return reg;
}

static int decoder_status(rk_status_t st)
{
    return st == RK_ERR_DECODE || st == RK_ERR_TRUNCATED || st == RK_ERR_TYPE || st == RK_ERR_PRIORITY ||
           st == RK_ERR_TOO_LARGE;
}

/* A decoded message must re-encode, decode equal and re-encode to the same bytes. */
static void check_round_trip(const rk_msg_t *m)
{
    rk_buf_t a, b;
    rk_msg_t *back = NULL;

    rk_buf_init(&a);
    rk_buf_init(&b);
    if (rk_msg_validate(m) != RK_OK || rk_msg_serialize(m, &a) != RK_OK) abort();
    if (rk_msg_deserialize(registry(), a.data, a.len, 0, &back) != RK_OK) abort();
    if (!rk_msg_equal(m, back) || rk_msg_serialize(back, &b) != RK_OK) abort();
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) abort();
    rk_msg_free(back);
    rk_buf_free(&a);
    rk_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rk_msg_t *m = NULL, *as = NULL;
    rk_status_t st = rk_msg_deserialize(registry(), data, size, 1u << 20, &m);

    if (st != RK_OK) {
        if (m || !decoder_status(st)) abort();
        return 0;
    }
    check_round_trip(m);
    /* Decoding for the known type agrees with decoding through the registry (an input
     * without a message_id gets a fresh one in each decode: compared apart). */
    if (rk_msg_deserialize_as(m->type, data, size, 1u << 20, &as) != RK_OK) abort();
    as->message_id = m->message_id;
    if (!rk_msg_equal(m, as)) abort();
    rk_msg_free(as);
    rk_msg_free(m);
    return 0;
}

#else /* FUZZ_GEN_SEEDS: write fuzz/corpus/decode */

static void write_seed(const char *dir, const char *name, const rk_msg_t *m)
{
    char path[512];
    rk_buf_t buf;
    FILE *f;

    rk_buf_init(&buf);
    if (rk_msg_serialize(m, &buf) != RK_OK) abort();
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(buf.data, 1, buf.len, f) != buf.len || fclose(f) != 0) abort();
    rk_buf_free(&buf);
}

static void ok(rk_status_t st)
{
    if (st != RK_OK) abort();
}

static Every *make_every(void)
{
    static const int64_t li[] = {0, -1, 127, 128, -33, 1 << 20, INT64_MIN};
    static const double lf[] = {1.5, -2.0, 1e300};
    static const bool lb[] = {true, false};
    static const char *ls[] = {"a", "", "longer string"};
    static const rk_blob_t lby[] = {{"ab", 2}, {"", 0}};
    static const char *keys[] = {"one", "two"};
    static const int64_t ints[] = {1, 1795607020123456};
    static const char *strs[] = {"uno", "dos"};
    rk_uuid_t uuids[2];
    rk_msg_t *raw;
    Every *m;
    Inner *in;

    ok(rk_msg_create(Every_type(), 0, &raw));
    m = (Every *)raw;
    m->i = -1234567890123;
    m->f = 3.25;
    m->flag = true;
    m->oi.value = 42;
    m->oi.has = true;
    m->ob.has = true;
    rk_uuid_generate(&m->id);
    rk_uuid_generate(&uuids[0]);
    rk_uuid_generate(&uuids[1]);
    m->when = 1795607020123456; /* 2026-11-25T11:43:40.123456+00:00 */
    ok(RK_SET_STR(&m, Every, text, "h\xc3\xa9llo"));
    ok(RK_SET_BYTES(&m, Every, raw, "\x00\x01\xff", 3));
    ok(RK_SET_LIST(&m, Every, li, li, 7));
    ok(RK_SET_LIST(&m, Every, lf, lf, 3));
    ok(RK_SET_LIST(&m, Every, lb, lb, 2));
    ok(RK_SET_LIST(&m, Every, ls, ls, 3));
    ok(RK_SET_LIST(&m, Every, lby, lby, 2));
    ok(RK_SET_LIST(&m, Every, lu, uuids, 2));
    ok(RK_SET_LIST(&m, Every, ldt, ints, 2));
    ok(RK_SET_LIST(&m, Every, tup, lf, 2));
    ok(RK_SET_DICT(&m, Every, di, keys, ints, 2));
    ok(RK_SET_DICT(&m, Every, dfl, keys, lf, 2));
    ok(RK_SET_DICT(&m, Every, dbo, keys, lb, 2));
    ok(RK_SET_DICT(&m, Every, ds, keys, strs, 2));
    ok(RK_SET_DICT(&m, Every, dby, keys, lby, 2));
    ok(RK_SET_DICT(&m, Every, du, keys, uuids, 2));
    ok(RK_SET_DICT(&m, Every, ddt, keys, ints, 2));
    static const uint64_t uints[] = {128, UINT64_MAX};
    ok(RK_SET_LIST(&m, Every, lui, uints, 2));
    ok(RK_SET_DICT(&m, Every, dui, keys, uints, 2));
    ok(Every_set_ou(&m, uuids[1]));
    ok(Every_set_od(&m, 1795607020123456));
    ok(Every_set_n(&m, UINT64_C(1) << 63));
    ok(rk_msg_create(Inner_type(), 0, &raw));
    in = (Inner *)raw;
    in->count = 7;
    ok(RK_SET_STR(&in, Inner, label, "inside"));
    ok(RK_SET_NESTED(&m, Every, inner, &in->hdr));
    rk_msg_free(&in->hdr);
    ok(rk_msg_set_correlation(&m->hdr, &uuids[0]));
    return m;
}

static rk_msg_t *make_chain(int depth)
{
    rk_msg_t *raw, *child = NULL;
    for (int lvl = depth; lvl >= 0; lvl--) {
        Node *n;
        ok(rk_msg_create(Node_type(), 0, &raw));
        n = (Node *)raw;
        n->level = lvl;
        if (child) ok(RK_SET_NESTED(&n, Node, child, child));
        rk_msg_free(child);
        child = &n->hdr;
    }
    return child;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/decode";
    rk_msg_t *raw;
    Every *e = make_every();
    Ping *p;

    write_seed(dir, "every.msgpack", &e->hdr);
    rk_msg_free(&e->hdr);
    ok(rk_msg_create(Every_type(), 0, &raw));
    write_seed(dir, "every_nil.msgpack", raw);
    e = (Every *)raw;
    ok(RK_SET_STR(&e, Every, text, ""));
    ok(RK_SET_LIST(&e, Every, li, NULL, 0));
    ok(RK_SET_DICT(&e, Every, ds, NULL, NULL, 0));
    write_seed(dir, "every_empty.msgpack", &e->hdr);
    rk_msg_free(&e->hdr);
    ok(rk_msg_create(Ping_type(), 0, &raw));
    p = (Ping *)raw;
    p->n = 5;
    ok(RK_SET_STR(&p, Ping, name, "hi"));
    ok(rk_msg_set_priority(&p->hdr, 200));
    write_seed(dir, "ping.msgpack", &p->hdr);
    rk_msg_free(&p->hdr);
    {
        static const float f32[6] = {1, -2.5f, 3, 4, 5, 6};
        static const int16_t i16[4] = {-1, 2, 300, -32768};
        static const uint64_t u64[2] = {1, UINT64_MAX};
        static const bool flags[3] = {true, false, true};
        const uint64_t s23[2] = {2, 3}, s4[1] = {4}, s3[1] = {3};
        Shapes *sh;
        ok(Shapes_new(&sh));
        ok(Shapes_set_f32(&sh, f32, 2, s23));
        ok(Shapes_set_i16(&sh, i16, 1, s4));
        ok(Shapes_set_u64(&sh, u64, 0, NULL));
        ok(Shapes_set_flags(&sh, flags, 1, s3));
        static const int64_t r0[3] = {1, -2, 300};
        const int64_t *rows[2] = {r0, NULL};
        const size_t lens[2] = {3, 0}, wl[1] = {2};
        static const char *w0[2] = {"x", "yz"};
        const char *const *words[1] = {w0};
        ok(Shapes_set_rows(&sh, rows, lens, 2));
        ok(Shapes_set_words(&sh, words, wl, 1));
        rk_msg_t *in_raw;
        ok(rk_msg_create(Inner_type(), 0, &in_raw));
        Inner *in = (Inner *)in_raw;
        in->count = 3;
        ok(Inner_set_label(&in, "item"));
        const Inner *items[2] = {in, in};
        ok(Shapes_set_items(&sh, items, 2));
        rk_msg_free(&in->hdr);
        write_seed(dir, "shapes.msgpack", &sh->hdr);
        rk_msg_free(&sh->hdr);
    }
    raw = make_chain(8);
    write_seed(dir, "node_depth8.msgpack", raw);
    rk_msg_free(raw);
    return 0;
}

#endif
