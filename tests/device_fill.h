// device_fill.h - write a unified buffer's device copy the way a kernel would:
// directly where the device copy is host memory (host backend), with
// cudaMemcpy where it is GPU memory (CUDA backend on a machine with a GPU).
#ifndef RK_TEST_DEVICE_FILL_H
#define RK_TEST_DEVICE_FILL_H

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringmesh/buffer.h"
#ifdef RINGMESH_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

// Fill the device copy with bytes[i] = f(i).
template <typename F>
void fill_device(rk_buffer_t *b, F f)
{
    const size_t n = rk_buffer_size(b);
    std::vector<char> bytes(n);
    for (size_t i = 0; i < n; i++) bytes[i] = f(i);
    if (!rk_buffer_on_gpu(b)) {
        memcpy(rk_buffer_device(b), bytes.data(), n);
        return;
    }
#ifdef RINGMESH_HAVE_CUDA
    ASSERT_EQ(cudaMemcpy(rk_buffer_device(b), bytes.data(), n, cudaMemcpyHostToDevice), cudaSuccess);
#else
    FAIL() << "a GPU buffer in a build without CUDA";
#endif
}

// The device copy's bytes, read back to the host.
inline std::vector<char> read_device(rk_buffer_t *b)
{
    std::vector<char> bytes(rk_buffer_size(b));
    if (!rk_buffer_on_gpu(b)) {
        memcpy(bytes.data(), rk_buffer_device(b), bytes.size());
    } else {
#ifdef RINGMESH_HAVE_CUDA
        EXPECT_EQ(cudaMemcpy(bytes.data(), rk_buffer_device(b), bytes.size(), cudaMemcpyDeviceToHost), cudaSuccess);
#else
        ADD_FAILURE() << "a GPU buffer in a build without CUDA";
#endif
    }
    return bytes;
}

#endif
