/*
 * bench_gpu.c - the gpu-* benchmarks. They are measured by the CUDA program
 * ringmesh-gpu-bench (cuda/tools/gpu_bench.cu, installed beside this one):
 * this runs it and passes its JSON lines through, so `ringmesh-bench gpu-*`
 * gives the GPU figures in the same format. Where the library was built
 * without CUDA, the program is missing, or no GPU is usable, one "skipped"
 * line says why.
 */
#include "../cuda/backend.h"
#include "bench_util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_gpu_bench(const char *name, const char *only)
{
    const char *why = NULL;
    char exe[PATH_MAX], cmd[PATH_MAX + 64], line[1024];
    ssize_t n;
    FILE *p;
    int status;

    if (g_mpi.rank != 0) return 0;
    if (!rk_cuda_compiled()) {
        bench_skip(name, "built without the CUDA backend (nvcc not found at configure time)");
        return 0;
    }
    if (rk_cuda_device_count(&why) <= 0) {
        snprintf(line, sizeof line, "no GPU: %s", why ? why : "none found");
        bench_skip(name, line);
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        bench_skip(name, "cannot locate ringmesh-gpu-bench (readlink /proc/self/exe failed)");
        return 0;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) slash[1] = '\0';
    snprintf(cmd, sizeof cmd, "'%sringmesh-gpu-bench' --only %s %ld", exe, only, bench_iters(10000, 200));
    bench_progress("%s: running %s", name, cmd);
    fflush(stdout);
    p = popen(cmd, "r");
    if (!p) {
        bench_skip(name, "cannot run ringmesh-gpu-bench");
        return 0;
    }
    while (fgets(line, sizeof line, p)) fputs(line, stdout);
    fflush(stdout);
    status = pclose(p);
    if (status == -1 || !WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 77)) {
        fprintf(stderr, "ringmesh-bench: %s: ringmesh-gpu-bench failed (status %d)\n", name, status);
        return 1;
    }
    return 0;
}

int bench_gpu_roundtrip(void) { return run_gpu_bench("gpu-roundtrip", "host"); }
int bench_gpu_k2k(void) { return run_gpu_bench("gpu-k2k", "k2k"); }
