/*
 * ringmesh_info.c - ringmesh-info: what this build and this machine offer.
 * Version, build options, transports, UCX memory types (GPUDirect), GPUs,
 * the MPI library, and every RINGMESH_* variable with its value and meaning.
 * Needs no GPU and no MPI launcher (it does not call MPI_Init).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#include "../cuda/backend.h"
#include "ringmesh/ringmesh.h"

/* Every RINGMESH_* variable: name, what applies when it is unset, meaning.
 * The README's configuration table lists the same ones. */
struct env_var {
    const char *name, *unset, *meaning;
};

/* Read by the library (any program linked with it) and by ringmesh-bench. */
static const struct env_var lib_vars[] = {
    {"RINGMESH_TRANSPORT", "ucx", "ucx or mpi: how ranks talk (runtimes created with RK_TRANSPORT_AUTO)"},
    {"RINGMESH_PEER_ERRORS", "remote only", "UCX peer error handling: unset = towards other machines only, 1 = every endpoint, 0 = none"},
    {"RINGMESH_HEARTBEAT_TIMEOUT_S", "10", "seconds of silence after which a rank on another machine is taken as dead"},
    {"RINGMESH_DESTROY_TIMEOUT_S", "60", "seconds rk_runtime_destroy drains before it returns RK_ERR_TIMEOUT"},
    {"RINGMESH_BATCH_BYTES", "65536", "largest batch of frames to one peer in one transport message (0 or 1 = no batching)"},
    {"RINGMESH_RMA", "1", "0: a remote buffer fetch gets the bytes sent by the owner (default with UCX: read in place by RMA)"},
    {"RINGMESH_COMPACT", "1", "0: send every message in the reference msgpack form (default: a type with the same layout on both ranks travels as its block)"},
    {"RINGMESH_POLL_US", "50", "microseconds a waiting kernel drives the transport before sleeping (adapts; 0 = never)"},
    {"RINGMESH_SPINNERS", "CPU share", "spinning threads per rank above which spin-waits yield the CPU"},
    {"RINGMESH_LOG", "warn", "error, warn, info or debug; lines are rank-prefixed"},
    {"RINGMESH_STATS", "off", "set (not 0): per-kernel, per-peer and call tables on stderr at rk_runtime_destroy"},
    {"RINGMESH_TRACE", "off", "FILE.json: one Chrome/Perfetto trace of every rank, written at rk_runtime_destroy"},
    {"RINGMESH_TRACE_MAX", "262144", "trace events kept per rank; more are counted as lost"},
    {"RINGMESH_BENCH_UCX_INFO", "off", "set: ringmesh-bench prints the raw UCX baseline endpoint's lanes"},
};

/* Read by the job and test scripts (slurm/, scripts/), not by the library. */
static const struct env_var script_vars[] = {
    {"RINGMESH_BIN", "build/bin", "slurm jobs, slurm-local.sh: the ringmesh-* binaries (a directory or one binary)"},
    {"RINGMESH_ROOT", "job script dir", "slurm jobs: the source tree, when the job cannot find it"},
    {"RINGMESH_APP_ARGS", "none", "slurm jobs: extra application arguments"},
    {"RINGMESH_SRUN_ARGS", "none", "slurm jobs: extra srun arguments"},
    {"RINGMESH_MPIRUN_ARGS", "none", "slurm jobs: extra mpirun arguments"},
    {"RINGMESH_GPUS_PER_TASK", "none", "slurm jobs: srun --gpus-per-task=N"},
    {"RINGMESH_GPU_BIND", "none", "slurm jobs: local = each task keeps the GPU at its node-local rank"},
    {"RINGMESH_SLURM_SIM_NODES", "1", "slurm jobs, tests only: a one-node job whose tasks appear to be on K nodes"},
    {"RINGMESH_STAGES", "all", "test-all.sh: the stages to run (deps build test asan tsan fuzz valgrind install docs mpich slurm)"},
    {"RINGMESH_SKIP_SLURM", "0", "test-all.sh: 1 = no Slurm install, no Slurm stage"},
    {"RINGMESH_FUZZ_SECONDS", "60", "test-all.sh: seconds per fuzz target"},
    {"RINGMESH_VALGRIND_FILTER", "built-in list", "valgrind-mpi.sh: the GoogleTest filter run under memcheck"},
    {"RINGMESH_SLURM_OUT", "new /tmp dir", "slurm-local.sh: directory for the job outputs (kept)"},
    {"RINGMESH_SLURM_TIMEOUT", "600", "slurm-local.sh: seconds per job"},
    {"RINGMESH_SLURM_FORCE", "0", "slurm-local.sh: 1 = replace a slurm.conf it did not write"},
    {"RINGMESH_SLURM_CPUS", "max(nproc,N,4)", "slurm-local.sh: CPUs the local node advertises"},
    {"RINGMESH_SLURM_PIPELINE_ARGS", "APP_ARGS", "slurm-local.sh: pipeline arguments"},
    {"RINGMESH_SLURM_PUBSUB_ARGS", "APP_ARGS", "slurm-local.sh: pubsub arguments"},
    {"RINGMESH_MPICH_LABEL", "mpi", "mpich-test.sh: the ctest label to run"},
    {"RINGMESH_MPICH_CUDA", "OFF", "mpich-test.sh: build the CUDA backend"},
    {"RINGMESH_MPICH_CMAKE_ARGS", "none", "mpich-test.sh: extra cmake arguments"},
    {"RINGMESH_MPICH_CTEST_ARGS", "none", "mpich-test.sh: extra ctest arguments"},
};

#define UCX_PREFIX "RINGMESH_UCX_"

extern char **environ;

static int known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof lib_vars / sizeof lib_vars[0]; i++)
        if (strlen(lib_vars[i].name) == len && !strncmp(lib_vars[i].name, name, len)) return 1;
    for (size_t i = 0; i < sizeof script_vars / sizeof script_vars[0]; i++)
        if (strlen(script_vars[i].name) == len && !strncmp(script_vars[i].name, name, len)) return 1;
    return 0;
}

static void print_var(const struct env_var *v)
{
    const char *set = getenv(v->name);
    char value[64];

    if (set) snprintf(value, sizeof value, "%s", set);
    else snprintf(value, sizeof value, "(%s)", v->unset);
    printf("  %-28s = %-16s %s\n", v->name, value, v->meaning);
}

/* Every RINGMESH_* variable, its value (or, in parentheses, what applies
 * unset) and meaning; then the RINGMESH_UCX_* settings and unknown names set. */
static void env_report(void)
{
    int ucx = 0;

    puts("environment        RINGMESH_* read by the library and ringmesh-bench (unset: the default in parentheses)");
    for (size_t i = 0; i < sizeof lib_vars / sizeof lib_vars[0]; i++) print_var(&lib_vars[i]);
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, UCX_PREFIX, strlen(UCX_PREFIX)) != 0) continue;
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        printf("  %-28.*s = %-16s UCX setting for ringmesh's own UCX context (overrides UCX_%.*s)\n", (int)(eq - *e),
               *e, eq + 1, (int)(eq - *e - strlen(UCX_PREFIX)), *e + strlen(UCX_PREFIX));
        ucx = 1;
    }
    if (!ucx)
        printf("  %-28s = %-16s %s\n", UCX_PREFIX "*", "(UCX_*)",
               "any UCX setting for ringmesh's own UCX context only, e.g. RINGMESH_UCX_TLS=tcp,self");
    puts("environment        RINGMESH_* read by the scripts in slurm/ and scripts/");
    for (size_t i = 0; i < sizeof script_vars / sizeof script_vars[0]; i++) print_var(&script_vars[i]);
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (strncmp(*e, "RINGMESH_", 9) != 0 || !strncmp(*e, UCX_PREFIX, strlen(UCX_PREFIX)) || !eq) continue;
        if (!known(*e, (size_t)(eq - *e)))
            printf("  %-28.*s = %-16s not read by ringmesh (misspelt?)\n", (int)(eq - *e), *e, eq + 1);
    }
}

static void usage(void)
{
    puts("Usage: ringmesh-info [--help]\n\n"
         "Prints the ringmesh version, build options (CUDA compiled in or not), the\n"
         "transports available, whether UCX supports CUDA memory (GPUDirect), the GPUs\n"
         "seen, the MPI library, and every RINGMESH_* environment variable with its\n"
         "current value (or the default, in parentheses) and meaning; a RINGMESH_*\n"
         "name that is set but read by nothing is flagged. Runs without a GPU and\n"
         "without mpirun.");
}

static void ucx_report(void)
{
    ucp_params_t p;
    ucp_config_t *cfg;
    ucp_context_h ctx;
    ucp_context_attr_t a;
    unsigned maj, min, rel;

    ucp_get_version(&maj, &min, &rel);
    printf("ucx                %u.%u.%u\n", maj, min, rel);
    memset(&p, 0, sizeof p);
    p.field_mask = UCP_PARAM_FIELD_FEATURES;
    p.features = UCP_FEATURE_AM;
    if (ucp_config_read(NULL, NULL, &cfg) != UCS_OK) return;
    if (ucp_init(&p, cfg, &ctx) != UCS_OK) {
        ucp_config_release(cfg);
        puts("ucx memory types   (UCX did not initialise)");
        return;
    }
    ucp_config_release(cfg);
    memset(&a, 0, sizeof a);
    a.field_mask = UCP_ATTR_FIELD_MEMORY_TYPES;
    if (ucp_context_query(ctx, &a) == UCS_OK) {
        printf("ucx memory types   host%s%s\n", a.memory_types & UCS_BIT(UCS_MEMORY_TYPE_CUDA) ? ", cuda" : "",
               a.memory_types & UCS_BIT(UCS_MEMORY_TYPE_CUDA_MANAGED) ? ", cuda-managed" : "");
        printf("gpudirect (ucx)    %s\n", a.memory_types & UCS_BIT(UCS_MEMORY_TYPE_CUDA)
                                              ? "yes: UCX registers CUDA memory (ringmesh still stages buffers)"
                                              : "no: device buffers cross ranks staged through pinned host memory");
    }
    ucp_cleanup(ctx);
}

int main(int argc, char **argv)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0, ngpu;
    const char *why = NULL;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        }
        fprintf(stderr, "ringmesh-info: unknown option '%s' (try --help)\n", argv[i]);
        return 2;
    }
    printf("ringmesh           %s (header %d.%d.%d)\n", rk_version(), RINGMESH_VERSION_MAJOR, RINGMESH_VERSION_MINOR,
           RINGMESH_VERSION_PATCH);
    printf("cuda backend       %s\n", rk_cuda_compiled() ? "compiled in" : "not compiled (built without nvcc)");
    ngpu = rk_cuda_device_count(&why);
    if (ngpu > 0) printf("gpus               %d visible\n", ngpu);
    else printf("gpus               none usable: %s\n", why ? why : "unknown");
    puts("transports         ucx (UCP active messages, default), mpi (point-to-point fallback)");
    ucx_report();
    MPI_Get_library_version(mpi, &len);
    for (int i = 0; i < len; i++)
        if (mpi[i] == '\n') mpi[i] = ' ';
    printf("mpi library        %.*s\n", len > 120 ? 120 : len, mpi);
    env_report();
    return 0;
}
