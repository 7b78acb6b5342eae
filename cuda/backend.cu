/*
 * backend.cu - run-time GPU detection for the CUDA backend. cudaGetDeviceCount
 * fails cleanly (no crash) when there is no driver or no device, which is how
 * a CUDA build falls back to the host backend on CI machines.
 */
#include "backend.h"

#include <cuda_runtime.h>

extern "C" int rk_cuda_device_count(const char **why)
{
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        if (why) *why = cudaGetErrorString(err);
        cudaGetLastError(); /* clear the sticky error */
        return 0;
    }
    if (n == 0 && why) *why = "no CUDA device visible";
    return n;
}

extern "C" int rk_cuda_compiled(void) { return 1; }
