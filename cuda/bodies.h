/*
 * bodies.h - example device bodies, written once in portable C and compiled
 * both as host C (host backend, tests) and as CUDA (bodies.cu instantiates
 * the persistent GPU kernels). They read and write relocatable message blocks
 * in place: views are offsets, so no pointer fix-up is needed on the device.
 */
#ifndef RK_CUDA_BODIES_H
#define RK_CUDA_BODIES_H

#include <string.h>

#include "ringmesh/device.h"
#include "ringmesh/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A vector of doubles to scale; the body fills `sum` with the scaled sum. */
#define RK_VECTOR_FIELDS(F)            \
    F(RkVector, values, LIST, FLOAT)   \
    F(RkVector, scale, FLOAT, _)       \
    F(RkVector, sum, FLOAT, _)
RK_MESSAGE_DECLARE(RkVector, RK_VECTOR_FIELDS)

/** The GPU launcher of rk_body_scale_sum (NULL when built without CUDA). */
rk_device_launch_fn rk_example_scale_launcher(void);

#ifdef __cplusplus
}
#endif

/* values[i] *= scale; sum = sum of the scaled values. Output = the input block, updated. */
RK_DEVICE_BODY static inline uint32_t rk_body_scale_sum(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap,
                                                        void *state)
{
    RkVector *v = (RkVector *)out;
    double *x, sum = 0;
    (void)state;
    if (len > cap || len < sizeof(RkVector)) return 0;
    memcpy(out, in, len);
    if (v->values.off == 0) return len;
    /* never trust the block: in bounds, past the struct, 8-aligned (a GPU faults on a misaligned double) */
    if ((uint64_t)v->values.off + (uint64_t)v->values.len * 8 > len || v->values.off < sizeof(RkVector) ||
        v->values.off % 8)
        return 0;
    x = (double *)(out + v->values.off);
    for (uint32_t i = 0; i < v->values.len; i++) {
        x[i] *= v->scale;
        sum += x[i];
    }
    v->sum = sum;
    return len;
}

#endif
