/*
 * filter.cu - the CUDA build of the pipeline's filter stage: the persistent
 * GPU kernel for pipeline_filter_body (filter_body.h), compiled for the same
 * architectures as the library. Built with --fmad=false (apps/CMakeLists.txt)
 * so that the GPU's sums are the host's sums bit for bit and --verify holds.
 */
#include "device_kernel.cuh"
#include "filter_body.h"

static __host__ __device__ uint32_t filter(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap, void *state)
{
    return pipeline_filter_body(in, len, out, cap, state);
}

RK_DEVICE_KERNEL(pipeline_filter, filter)

extern "C" rk_device_launch_fn pipeline_filter_launcher(void) { return pipeline_filter_launch; }
