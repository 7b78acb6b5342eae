/*
 * fuzz_compact.c - libFuzzer target for the compact form's decoder, the
 * message block another ringmesh rank sends as it is (src/msg/compact.c).
 *
 * Any byte string is offered as a compact payload of a type with every
 * kind a block may carry: lying sizes, views pointing outside the block,
 * unterminated strings, bools other than 0/1 and a wrong marker or version
 * must all come back RK_ERR_DECODE (or TOO_LARGE), never a read outside the
 * input (ASan). What decodes must validate, encode in the reference form and
 * survive a compact round trip unchanged.
 *   FUZZ_GEN_SEEDS: build as a program that writes seeds into argv[1].
 */
#include "msg/msg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAT(F)                                                                                       \
    F(FzFlat, a, INT, _) F(FzFlat, f, FLOAT, _) F(FzFlat, b, BOOL, _) F(FzFlat, s, STR, _)            \
    F(FzFlat, raw, BYTES, _) F(FzFlat, oi, OPT_INT, _) F(FzFlat, ob, OPT_BOOL, _) F(FzFlat, id, UUID, _) \
    F(FzFlat, xs, LIST, INT) F(FzFlat, names, TUPLE, STR) F(FzFlat, d, DICT, FLOAT)                 \
    F(FzFlat, ou, OPT_UUID, _) F(FzFlat, od, OPT_DATETIME, _) F(FzFlat, n, UINT, _) F(FzFlat, ns, LIST, UINT)
RK_MESSAGE_DECLARE(FzFlat, FLAT)
RK_MESSAGE_DEFINE(FzFlat, FLAT)

static void check_round_trip(const rk_msg_t *m, uint32_t hash)
{
    rk_buf_t buf, again;
    rk_msg_t *back = NULL;
    rk_buf_init(&buf);
    rk_buf_init(&again);
    if (rk_msg_validate(m) != RK_OK) abort();
    if (rk_msg_serialize(m, &again) != RK_OK) abort(); /* the reference form of what decoded */
    if (rk_msg_encode_block_after(m, hash, &buf, 0) != RK_OK) abort();
    if (rk_msg_decode_block(FzFlat_type(), buf.data, buf.len, 1 << 20, &back) != RK_OK) abort();
    if (!rk_msg_equal(m, back)) abort();
    rk_msg_free(back);
    rk_buf_free(&buf);
    rk_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exactly `size` bytes: ASan sees any overread */
    rk_msg_t *m = NULL;
    uint32_t hash = 0;
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (rk_payload_is_block(copy, size, &hash)) {
        rk_status_t st = rk_msg_decode_block(FzFlat_type(), copy, size, 1 << 20, &m);
        if (st == RK_OK) check_round_trip(m, hash);
        else if (m) abort();
        rk_msg_free(m);
    }
    free(copy);
    return 0;
}

#ifdef FUZZ_GEN_SEEDS
int main(int argc, char **argv)
{
    const int64_t xs[3] = {1, -2, 3};
    const char *const names[2] = {"a", "\xc3\xa9t\xc3\xa9"};
    const char *const keys[2] = {"k", "kk"};
    const double vals[2] = {0.5, -1};
    const uint64_t ns[2] = {0, UINT64_C(1) << 63};
    for (int i = 0; i < 3 && argc > 1; i++) {
        FzFlat *m = NULL;
        rk_buf_t buf;
        char path[512];
        if (FzFlat_new(&m) != RK_OK) return 1;
        m->a = 42 * i;
        m->b = i & 1;
        if (i > 0) {
            FzFlat_set_s(&m, "hello");
            FzFlat_set_raw(&m, "\x00\x01", 2);
            FzFlat_set_oi(&m, 7);
            FzFlat_set_xs(&m, xs, 3);
            FzFlat_set_ou(&m, m->hdr.message_id);
            FzFlat_set_od(&m, 1795607020123456);
            FzFlat_set_n(&m, UINT64_MAX);
            FzFlat_set_ns(&m, ns, 2);
        }
        if (i > 1) {
            FzFlat_set_names(&m, names, 2);
            FzFlat_set_d(&m, keys, vals, 2);
        }
        rk_buf_init(&buf);
        if (rk_msg_encode_block_after(&m->hdr, rk_type_block_hash(FzFlat_type()), &buf, 0) != RK_OK) return 1;
        snprintf(path, sizeof path, "%s/seed-%d", argv[1], i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf.data, 1, buf.len, f) != buf.len) return 1;
        fclose(f);
        rk_buf_free(&buf);
        rk_msg_free(&m->hdr);
    }
    return 0;
}
#endif
