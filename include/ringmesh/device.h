/**
 * @file ringmesh/device.h
 * @brief Ring kernels whose body runs on a GPU, or on the host through the same protocol.
 */
/*
 * ringmesh/device.h - ring kernels whose body runs on a GPU (or, where there
 * is none, on the host through the very same queue protocol).
 *
 * A device body is portable C written once: it reads one message block and
 * writes at most one output block. Message blocks are relocatable (views are
 * offsets), so the body reads fields exactly as host code does, e.g.
 * RK_LIST(m, values, double). Mark it RK_DEVICE_BODY so nvcc compiles it for
 * both sides; instantiate the persistent GPU kernel for it in a .cu file with
 * RK_DEVICE_KERNEL(name, body), and hand both to the kernel params.
 *
 * The host mailbox stays the priority authority: the runtime feeds the
 * device's input ring (a few slots deep) highest priority first and turns
 * the output ring's entries into the kernel's outputs (rk_receive, replies).
 * The output header is rewritten by the runtime: a fresh message_id, and as
 * correlation_id the message_id the body left in the block (the request's,
 * when the body copies its input header).
 */
#ifndef RINGMESH_DEVICE_H
#define RINGMESH_DEVICE_H

#include <stdint.h>

#include "ringmesh/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__CUDACC__)
#define RK_DEVICE_BODY __host__ __device__
#else
#define RK_DEVICE_BODY
#endif

/**
 * A device body: @p in is one message block of @p in_len bytes; write the
 * output block into @p out (at most @p out_cap bytes) and return its size, or
 * 0 for no output. @p state is the kernel's user state (device memory on the
 * GPU backend: NULL there unless the launcher sets it).
 */
typedef uint32_t (*rk_device_body_fn)(const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_cap,
                                      void *state);

/** Start the persistent GPU kernel serving @p in_ring -> @p out_ring (device addresses). */
typedef rk_status_t (*rk_device_launch_fn)(void *in_ring, void *out_ring, void *stream);

/** How a kernel runs its body on a device. */
typedef struct rk_device_kernel {
    rk_device_body_fn host_body;  /**< the body compiled as host C (required) */
    rk_device_launch_fn launch;   /**< made by RK_DEVICE_KERNEL; NULL = host backend only */
    uint32_t ring_slots;          /**< input/output ring depth (power of two); default 4 */
    uint32_t slot_size;           /**< bytes per slot (largest message + 8); default 4096 */
    void *host_state;             /**< passed to host_body */
    /** Type of the output blocks when it differs from the input's (else NULL). */
    const struct rk_msg_type *out_type;
} rk_device_kernel_t;

/* RK_DEVICE_KERNEL(name, body) is defined in <ringmesh/device_kernel.cuh> (installed
 * beside this header; cuda/device_kernel.cuh in the source tree) for .cu files. */

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_DEVICE_H */
