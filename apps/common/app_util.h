/*
 * app_util.h - small helpers shared by the ringmesh example applications.
 *
 * Key idea: every app has the same skeleton (MPI_Init_thread(MULTIPLE),
 * rk_runtime_create with the AUTO transport, ..., rk_runtime_destroy,
 * MPI_Finalize) and the same command-line conventions: long options
 * "--name VALUE" or "--name=VALUE", "-h"/"--help", and exit code 2 with a
 * one-line message on stderr for a bad option. The option parser is table
 * driven and never touches MPI, so bad options are reported before MPI starts.
 */
#ifndef RINGMESH_APP_UTIL_H
#define RINGMESH_APP_UTIL_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "placement.h"
#include "ringmesh/ringmesh.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Exit codes shared by the apps. */
enum { APP_EXIT_OK = 0, APP_EXIT_FAIL = 1, APP_EXIT_USAGE = 2 };

typedef enum app_opt_kind {
    APP_OPT_FLAG = 0, /**< bool, no value */
    APP_OPT_INT,      /**< long long within [lo, hi] */
    APP_OPT_DOUBLE,   /**< finite double within [dlo, dhi] */
    APP_OPT_STR       /**< const char * pointing into argv */
} app_opt_kind_t;

/** One long option; the table ends with a NULL name. */
typedef struct app_opt {
    const char *name; /**< without the leading "--" */
    app_opt_kind_t kind;
    void *dest;       /**< bool *, long long *, double * or const char ** */
    long long lo, hi; /**< APP_OPT_INT range */
    double dlo, dhi;  /**< APP_OPT_DOUBLE range */
} app_opt_t;

/** What app_parse_options found besides the options themselves. */
typedef struct app_args {
    bool help;          /**< -h or --help was given */
    int npos;           /**< positional arguments (in pos[]) */
    const char **pos;   /**< malloc'd array of argv pointers; free with app_args_free */
} app_args_t;

/**
 * Parse argv against @p opts. Positional arguments are collected when
 * @p allow_pos, otherwise they are errors. "--" ends option parsing; an
 * argument "-" or one starting with '-' but not "--" (e.g. "-3 * 2") is
 * positional, except "-h". On error prints "<prog>: <why>" plus a hint to
 * stderr and returns false.
 */
bool app_parse_options(int argc, char **argv, const app_opt_t *opts, bool allow_pos, app_args_t *out);
void app_args_free(app_args_t *a);

/** Print "<prog>: <message>\nTry '<prog> --help'." on stderr. */
void app_usage_error(const char *prog, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** The program name for messages (basename of argv[0]). */
const char *app_prog_name(const char *argv0);

/**
 * MPI_Init_thread(MULTIPLE) then rk_runtime_create(AUTO transport).
 * On failure prints why on stderr, finalizes MPI as needed and returns false.
 */
bool app_start(int *argc, char ***argv, rk_runtime_t **rt);

/** rk_runtime_destroy (collective) then MPI_Finalize; returns false when destroy reported an error. */
bool app_finish(rk_runtime_t *rt);

/** Seconds on a monotonic clock. */
double app_now(void);

/** Sleep @p us microseconds. */
void app_sleep_us(long us);

/** Wait for a non-blocking MPI request by polling with short sleeps (no busy CPU on shared cores). */
void app_wait_request(MPI_Request *req);

/** Non-busy MPI_Barrier / MPI_Bcast / MPI_Allreduce(LOR/MAX/SUM) on MPI_COMM_WORLD. */
void app_barrier(void);
void app_bcast(void *buf, int bytes, int root);
/**
 * Collective: every rank's node name (MPI_Get_processor_name) into
 * @p hosts[size] and the ranks ordered by node, then by rank, into
 * @p order[size] (placement.h). False when MPI fails (then rank order).
 */
bool app_node_order(int size, int *order, char (*hosts)[APP_HOST_MAX]);
long long app_allreduce_max(long long v);

/** True when @p a and @p b agree to a relative @p rel (absolute floor 1e-300). */
bool app_close(double a, double b, double rel);

/** A name for the transport in use ("ucx" or "mpi"; "local" for 1 rank without MPI). */
const char *app_transport_name(void);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_APP_UTIL_H */
