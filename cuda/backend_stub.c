/*
 * backend_stub.c - the CUDA backend when the library is built without nvcc:
 * no GPU is ever usable, and the reason says why.
 */
#include "backend.h"

int rk_cuda_device_count(const char **why)
{
    if (why) *why = "ringmesh was built without the CUDA backend";
    return 0;
}

int rk_cuda_compiled(void) { return 0; }
