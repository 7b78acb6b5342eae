/*
 * bench_types.c - descriptors of the benchmark message types and makers.
 */
#include "bench_types.h"

#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

RK_MESSAGE_DEFINE(WorkRequest, BENCH_WORK_REQUEST)
RK_MESSAGE_DEFINE(Tensor, BENCH_TENSOR)
RK_MESSAGE_DEFINE(BenchNum, BENCH_NUM)
RK_MESSAGE_DEFINE(BenchBlob, BENCH_BLOB)

rk_status_t bench_register_types(rk_runtime_t *rt)
{
    rk_status_t st = rk_runtime_register_type(rt, WorkRequest_type());
    if (st == RK_OK) st = rk_runtime_register_type(rt, BenchNum_type());
    if (st == RK_OK) st = rk_runtime_register_type(rt, BenchBlob_type());
    return st;
}

BenchNum *bench_make_num(int64_t seq, double value)
{
    rk_msg_t *m;
    BENCH_CHECK(rk_msg_create(BenchNum_type(), 0, &m));
    BenchNum *n = (BenchNum *)m;
    n->seq = seq;
    n->value = value;
    return n;
}

BenchBlob *bench_make_blob(int64_t seq, size_t size)
{
    rk_msg_t *m;
    BenchBlob *b;
    uint8_t *data = malloc(size ? size : 1);
    if (!data) bench_die("bench_make_blob", RK_ERR_NOMEM);
    for (size_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 131u + 7u);
    BENCH_CHECK(rk_msg_create(BenchBlob_type(), size + 16, &m));
    b = (BenchBlob *)m;
    BENCH_CHECK(RK_SET_BYTES(&b, BenchBlob, payload, data, size));
    b->seq = seq;
    free(data);
    return b;
}

void bench_echo_body(rk_ctx_t *ctx, void *arg)
{
    (void)arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        const BenchNum *req = (const BenchNum *)m;
        BenchNum *rep = bench_make_num(req->seq, req->value * 2);
        if (rk_ctx_reply(ctx, m, &rep->hdr) != RK_OK) fprintf(stderr, "[bench] echo: a reply failed\n");
        rk_msg_free(&rep->hdr);
        rk_msg_free(m);
    }
}
