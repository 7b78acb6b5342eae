/*
 * backend.h - what the core needs from the CUDA backend: is a GPU usable?
 *
 * Built from cuda/backend.cu when nvcc is found, else from backend_stub.c.
 * The answer is decided at run time (driver present, a device visible), so a
 * CUDA build runs unchanged on a machine without a GPU.
 */
#ifndef RK_CUDA_BACKEND_H
#define RK_CUDA_BACKEND_H

#ifdef __cplusplus
extern "C" {
#endif

/** Number of usable GPUs (0 when none); @p why receives a static reason when 0. */
int rk_cuda_device_count(const char **why);
/** 1 when the library was built with the CUDA backend. */
int rk_cuda_compiled(void);

#ifdef __cplusplus
}
#endif
#endif
