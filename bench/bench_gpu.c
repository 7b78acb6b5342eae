/*
 * bench_gpu.c - placeholders for the GPU benchmarks. They ask the library's
 * CUDA detection whether a GPU is usable and print a "skipped" line saying
 * why not; the CUDA backend does not run kernel bodies on the device yet, so
 * even with a GPU there is nothing GPU-specific to time.
 */
#include "../cuda/backend.h"
#include "bench_util.h"

#include <stdio.h>

static int gpu_placeholder(const char *name)
{
    const char *why = NULL;
    char line[256];
    int n;

    if (g_mpi.rank != 0) return 0;
    n = rk_cuda_device_count(&why);
    if (n <= 0)
        snprintf(line, sizeof line, "no GPU: %s", why ? why : "rk_cuda_device_count() found none");
    else
        snprintf(line, sizeof line,
                 "%d GPU(s) found, but ringmesh's CUDA backend does not run kernel bodies on the device yet "
                 "(placeholder)", n);
    bench_skip(name, line);
    return 0;
}

int bench_gpu_roundtrip(void) { return gpu_placeholder("gpu-roundtrip"); }
int bench_gpu_throughput(void) { return gpu_placeholder("gpu-throughput"); }
