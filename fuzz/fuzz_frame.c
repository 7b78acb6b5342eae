/*
 * fuzz_frame.c - libFuzzer target for the router's wire frame parser,
 * batches included.
 *
 * Any byte string either fails frame_parse with a status, or parses into
 * fields whose name and payload lie inside the input; re-encoding a parsed
 * frame must give back exactly the input bytes (the format has no slack).
 * A batch must split into exactly `aux` inner frames, each inside the input,
 * each parsing alone to the same fields, and re-assembling them behind the
 * batch header must give back the input.
 *
 * Second pass: the input is also wrapped, as is, as the payload of a batch
 * header (count from the first byte), so the splitter sees arbitrary payloads
 * without the fuzzer having to discover the outer header first.
 */
#include "route/frame.h"

#include <stdlib.h>
#include <string.h>

static void check_inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    if (n && (p < data || p + n > data + size)) abort();
}

/* Re-encode one parsed (non-batch) frame and compare with its bytes. */
static void check_roundtrip(const frame_t *f, const uint8_t *data, size_t size)
{
    uint8_t *again = malloc(size ? size : 1);
    if (!again) return;
    frame_write(again, f, f->name, f->payload);
    if (memcmp(again, data, size) != 0) abort();
    free(again);
}

static void check_frame(const uint8_t *data, size_t size)
{
    frame_t f, sub, alone;
    const uint8_t *raw;
    size_t off = 0, raw_len, end = 0;
    uint32_t n = 0;
    rk_status_t st;
    uint8_t *again;

    if (frame_parse(data, size, &f) != RK_OK) return;
    check_inside((const uint8_t *)f.name, f.name_len, data, size);
    check_inside(f.payload, f.payload_len, data, size);
    if (f.kind != FRAME_BATCH) {
        check_roundtrip(&f, data, size);
        return;
    }
    if (f.name_len != 0 || f.aux == 0) abort();
    again = malloc(size);
    if (!again) return;
    frame_write_hdr(again, &f);
    end = RK_FRAME_HDR;
    while ((st = frame_batch_next(&f, &off, &sub, &raw, &raw_len)) == RK_OK) {
        check_inside(raw, raw_len, data, size);
        check_inside((const uint8_t *)sub.name, sub.name_len, raw, raw_len);
        check_inside(sub.payload, sub.payload_len, raw, raw_len);
        if (sub.kind == FRAME_BATCH || sub.src_rank != f.src_rank) abort();
        if (frame_parse(raw, raw_len, &alone) != RK_OK || alone.seq != sub.seq || alone.kind != sub.kind) abort();
        check_roundtrip(&sub, raw, raw_len);
        if (end + raw_len > size) abort();
        memcpy(again + end, raw, raw_len);
        end += raw_len;
        n++;
    }
    if (st != RK_ERR_NOT_FOUND || n != f.aux || end != size || memcmp(again, data, size) != 0) abort();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    frame_t b = {0};
    uint8_t *wrapped;

    check_frame(data, size);
    /* The input as a batch payload. */
    wrapped = malloc(RK_FRAME_HDR + size);
    if (!wrapped) return 0;
    b.kind = FRAME_BATCH;
    b.src_rank = 3;
    b.aux = size ? (uint32_t)(data[0] % 8) + 1 : 1;
    b.payload_len = (uint32_t)size;
    frame_write_hdr(wrapped, &b);
    if (size) memcpy(wrapped + RK_FRAME_HDR, data, size);
    check_frame(wrapped, RK_FRAME_HDR + size);
    free(wrapped);
    return 0;
}
