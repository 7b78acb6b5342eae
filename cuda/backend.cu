/*
 * backend.cu - the CUDA backend's host side: detection, binding, mapped
 * pinned rings and persistent-kernel launch. cudaGetDeviceCount fails cleanly
 * (no crash) when there is no driver or device, which is how a CUDA build
 * falls back to the host backend on CI machines. Rings live in mapped pinned
 * host memory (cudaHostAllocMapped): both sides address the same bytes, the
 * host with plain atomics and the device with system-scope atomic_ref.
 */
#include "backend.h"

#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

extern "C" int rk_cuda_device_count(const char **why)
{
    int n = 0;
    /* Persistent kernels never return, and with CUDA's default lazy module
     * loading a kernel first launched while one of them runs waits for it
     * forever (a second ring kernel, a launch-per-message baseline). Load
     * every kernel at initialisation unless the user chose otherwise; this
     * is the first CUDA call the runtime makes, before the driver reads it. */
    setenv("CUDA_MODULE_LOADING", "EAGER", 0);
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

extern "C" int rk_cuda_bind(int preferred, int local_rank, const char **why)
{
    int n = rk_cuda_device_count(why);
    int dev;
    if (n <= 0) return -1;
    dev = preferred >= 0 ? preferred : (local_rank < 0 ? 0 : local_rank % n);
    if (dev >= n) {
        if (why) *why = "requested GPU index is not visible";
        return -1;
    }
    if (cudaSetDevice(dev) != cudaSuccess) {
        if (why) *why = "cudaSetDevice failed";
        cudaGetLastError();
        return -1;
    }
    return dev;
}

extern "C" rk_status_t rk_cuda_rings_create(int device, size_t ring_bytes, rk_cuda_rings_t *out)
{
    cudaStream_t s;
    memset(out, 0, sizeof *out);
    out->device = device;
    if (cudaSetDevice(device) != cudaSuccess) goto fail;
    if (cudaHostAlloc(&out->in_host, ring_bytes, cudaHostAllocMapped) != cudaSuccess) goto fail;
    if (cudaHostAlloc(&out->out_host, ring_bytes, cudaHostAllocMapped) != cudaSuccess) goto fail;
    memset(out->in_host, 0, ring_bytes);
    memset(out->out_host, 0, ring_bytes);
    if (cudaHostGetDevicePointer(&out->in_dev, out->in_host, 0) != cudaSuccess) goto fail;
    if (cudaHostGetDevicePointer(&out->out_dev, out->out_host, 0) != cudaSuccess) goto fail;
    if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess) goto fail;
    out->stream = s;
    return RK_OK;
fail:
    cudaGetLastError();
    rk_cuda_rings_destroy(out);
    return RK_ERR_UNSUPPORTED;
}

extern "C" rk_status_t rk_cuda_start(rk_cuda_rings_t *r, rk_device_launch_fn launch)
{
    if (!launch) return RK_ERR_INVALID;
    cudaSetDevice(r->device);
    return launch(r->in_dev, r->out_dev, r->stream);
}

extern "C" rk_status_t rk_cuda_wait(rk_cuda_rings_t *r)
{
    cudaError_t err = cudaStreamSynchronize((cudaStream_t)r->stream);
    return err == cudaSuccess ? RK_OK : RK_ERR_TRANSPORT;
}

extern "C" rk_status_t rk_cuda_check(rk_cuda_rings_t *r, const char **why)
{
    cudaError_t err = cudaStreamQuery((cudaStream_t)r->stream);
    if (err == cudaErrorNotReady) return RK_OK;
    if (err == cudaSuccess) {
        if (why) *why = "the kernel returned";
        return RK_ERR_TERMINATED;
    }
    if (why) *why = cudaGetErrorString(err);
    return RK_ERR_TRANSPORT;
}

extern "C" void rk_cuda_rings_destroy(rk_cuda_rings_t *r)
{
    if (r->stream) cudaStreamDestroy((cudaStream_t)r->stream);
    if (r->in_host) cudaFreeHost(r->in_host);
    if (r->out_host) cudaFreeHost(r->out_host);
    memset(r, 0, sizeof *r);
}

extern "C" rk_status_t rk_cuda_buffer_alloc(int device, size_t size, void **dev, void **pinned_host)
{
    *dev = *pinned_host = NULL;
    if (cudaSetDevice(device) != cudaSuccess || cudaMalloc(dev, size ? size : 1) != cudaSuccess) goto fail;
    if (cudaMallocHost(pinned_host, size ? size : 1) != cudaSuccess) goto fail;
    memset(*pinned_host, 0, size);
    if (cudaMemset(*dev, 0, size) != cudaSuccess) goto fail;
    return RK_OK;
fail:
    cudaGetLastError();
    rk_cuda_buffer_free(*dev, *pinned_host);
    *dev = *pinned_host = NULL;
    return RK_ERR_UNSUPPORTED;
}

extern "C" void rk_cuda_buffer_free(void *dev, void *pinned_host)
{
    if (dev) cudaFree(dev);
    if (pinned_host) cudaFreeHost(pinned_host);
}

extern "C" rk_status_t rk_cuda_copy(void *dst, const void *src, size_t size, int to_device)
{
    cudaError_t e = cudaMemcpy(dst, src, size, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost);
    return e == cudaSuccess ? RK_OK : RK_ERR_TRANSPORT;
}
