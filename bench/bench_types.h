/*
 * bench_types.h - the message types the benchmarks send (defined once in
 * bench_types.c).
 */
#ifndef RK_BENCH_TYPES_H
#define RK_BENCH_TYPES_H

#include "ringmesh/ringmesh.h"

/* The codec's WorkRequest-like message: 16 floats, a short string, the header. */
#define BENCH_WORK_REQUEST(F)              \
    F(WorkRequest, data, LIST, FLOAT)      \
    F(WorkRequest, operation, STR, _)
RK_MESSAGE_DECLARE(WorkRequest, BENCH_WORK_REQUEST)

/* The codec's array message: a 16x16 float32 ARRAY and a short string. */
#define BENCH_TENSOR(F)             \
    F(Tensor, grid, ARRAY, F32)     \
    F(Tensor, name, STR, _)
RK_MESSAGE_DECLARE(Tensor, BENCH_TENSOR)

/* A small request / reply for round trips and pipelines. */
#define BENCH_NUM(F)             \
    F(BenchNum, seq, INT, _)     \
    F(BenchNum, value, FLOAT, _)
RK_MESSAGE_DECLARE(BenchNum, BENCH_NUM)

/* A message carrying @c payload bytes (pingpong, rate). */
#define BENCH_BLOB(F)             \
    F(BenchBlob, seq, INT, _)     \
    F(BenchBlob, payload, BYTES, _)
RK_MESSAGE_DECLARE(BenchBlob, BENCH_BLOB)

/** Register every benchmark type with @p rt. */
rk_status_t bench_register_types(rk_runtime_t *rt);
/** A BenchNum (caller frees with rk_msg_free). */
BenchNum *bench_make_num(int64_t seq, double value);
/** A kernel body answering each BenchNum with rk_ctx_reply: same seq, value * 2. */
void bench_echo_body(rk_ctx_t *ctx, void *arg);
/** A BenchBlob with @p size payload bytes (caller frees with rk_msg_free). */
BenchBlob *bench_make_blob(int64_t seq, size_t size);

#endif
