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

static const struct {
    const char *name, *meaning;
} vars[] = {
    {"RINGMESH_TRANSPORT", "ucx (default) or mpi: how ranks talk"},
    {"RINGMESH_PEER_ERRORS", "UCX peer error handling: unset = to other machines only (shared-memory lanes on this one; a dead rank here is found by its process), 1 = on every endpoint, 0 = on none"},
    {"RINGMESH_HEARTBEAT_TIMEOUT_S", "a rank on another machine that sent nothing (not even a heartbeat, sent every 250 ms) for this long is taken as dead (default 10)"},
    {"RINGMESH_DESTROY_TIMEOUT_S", "rk_runtime_destroy waits this long for every accepted message to be delivered and every kernel to drain (default 60); then it stops and reports what was not delivered"},
    {"RINGMESH_BATCH_BYTES", "largest batch of frames sent to one peer in one transport message (default 65536; 0 or 1 = no batching)"},
    {"RINGMESH_POLL_US", "microseconds a waiting kernel drives the transport before sleeping (default 50; 0 = never; renewed while a >= 64 KiB transfer is under way, up to 20x; widened, up to 20x, after messages that came just after it)"},
    {"RINGMESH_SPINNERS", "threads of a rank that may spin-wait before spin-waits yield the CPU every ~2 us (default: the rank's share of the CPUs)"},
    {"RINGMESH_LOG", "error, warn (default), info or debug; lines are rank-prefixed"},
    {"RINGMESH_STATS", "1: print per-kernel and per-peer tables at rk_runtime_destroy"},
    {"RINGMESH_TRACE", "FILE.json: record send/enqueue/dequeue/reply events, merged on rank 0 (Perfetto)"},
    {"RINGMESH_TRACE_MAX", "events kept per rank when tracing (default 262144); more are counted as lost"},
};

static void usage(void)
{
    puts("Usage: ringmesh-info [--help]\n\n"
         "Prints the ringmesh version, build options (CUDA compiled in or not), the\n"
         "transports available, whether UCX supports CUDA memory (GPUDirect), the GPUs\n"
         "seen, the MPI library, and every RINGMESH_* environment variable with its\n"
         "current value and meaning. Runs without a GPU and without mpirun.");
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
    puts("environment");
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].name);
        printf("  %-24s = %-8s %s\n", vars[i].name, v ? v : "(unset)", vars[i].meaning);
    }
    return 0;
}
