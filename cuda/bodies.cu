/*
 * bodies.cu - the CUDA builds of the example bodies: one persistent kernel
 * per body (RK_DEVICE_KERNEL) and the launcher lookup the runtime uses.
 */
#include "bodies.h"
#include "device_kernel.cuh"

static __host__ __device__ uint32_t scale_sum(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *state)
{
    return rk_body_scale_sum(in, len, out, cap, state);
}

RK_DEVICE_KERNEL(rk_scale_sum, scale_sum)

extern "C" rk_device_launch_fn rk_example_scale_launcher(void) { return rk_scale_sum_launch; }
