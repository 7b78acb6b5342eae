/*
 * backend_stub.c - the CUDA backend when the library is built without nvcc:
 * no GPU is ever usable, and every call says why.
 */
#include "backend.h"

#include <string.h>

static const char no_cuda[] = "ringmesh was built without the CUDA backend";

int rk_cuda_device_count(const char **why)
{
    if (why) *why = no_cuda;
    return 0;
}

int rk_cuda_compiled(void) { return 0; }

int rk_cuda_bind(int preferred, int local_rank, const char **why)
{
    if (why) *why = no_cuda;
    return -1;
}

rk_status_t rk_cuda_rings_create(int device, size_t ring_bytes, rk_cuda_rings_t *out)
{
    memset(out, 0, sizeof *out);
    return RK_ERR_UNSUPPORTED;
}

rk_status_t rk_cuda_start(rk_cuda_rings_t *r, rk_device_launch_fn launch) { return RK_ERR_UNSUPPORTED; }
rk_status_t rk_cuda_wait(rk_cuda_rings_t *r) { return RK_ERR_UNSUPPORTED; }
void rk_cuda_rings_destroy(rk_cuda_rings_t *r) {}
rk_status_t rk_cuda_check(rk_cuda_rings_t *r, const char **why)
{
    if (why) *why = "built without the CUDA backend";
    return RK_ERR_UNSUPPORTED;
}

rk_status_t rk_cuda_buffer_alloc(int device, size_t size, void **dev, void **pinned_host)
{
    *dev = *pinned_host = NULL;
    return RK_ERR_UNSUPPORTED;
}

void rk_cuda_buffer_free(void *dev, void *pinned_host) {}
rk_status_t rk_cuda_copy(void *dst, const void *src, size_t size, int to_device) { return RK_ERR_UNSUPPORTED; }
