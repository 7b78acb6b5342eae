/*
 * app_util.c - option parsing, MPI/runtime start and stop, and non-busy MPI
 * waits shared by the ringmesh example applications.
 *
 * Key idea: the machines these apps run on are often oversubscribed (more
 * ranks than cores), so the app's own MPI waits poll a non-blocking request
 * with short sleeps instead of spinning inside a blocking collective, leaving
 * the cores to the ring kernels and the runtime's progress thread.
 */
#define _POSIX_C_SOURCE 200809L
#include "app_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *app_prog_name(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    return slash ? slash + 1 : (argv0 ? argv0 : "app");
}

void app_usage_error(const char *prog, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", prog, line, prog);
}

static bool parse_ll(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* Store @p val into @p o's destination; false (and a message) when it does not fit. */
static bool store_value(const char *prog, const app_opt_t *o, const char *val)
{
    long long ll;
    double d;

    switch (o->kind) {
    case APP_OPT_INT:
        if (!parse_ll(val, &ll) || ll < o->lo || ll > o->hi) {
            app_usage_error(prog, "invalid value '%s' for --%s: expected an integer in [%lld, %lld]", val,
                            o->name, o->lo, o->hi);
            return false;
        }
        *(long long *)o->dest = ll;
        return true;
    case APP_OPT_DOUBLE:
        if (!parse_double(val, &d) || d < o->dlo || d > o->dhi) {
            app_usage_error(prog, "invalid value '%s' for --%s: expected a number in [%g, %g]", val, o->name,
                            o->dlo, o->dhi);
            return false;
        }
        *(double *)o->dest = d;
        return true;
    case APP_OPT_STR:
        if (!*val) {
            app_usage_error(prog, "empty value for --%s", o->name);
            return false;
        }
        *(const char **)o->dest = val;
        return true;
    default: return false;
    }
}

static const app_opt_t *find_opt(const app_opt_t *opts, const char *name, size_t len)
{
    for (const app_opt_t *o = opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

/* Handle argv[*i] (a "--name[=value]" argument); advances *i past a separate value. */
static bool parse_long_opt(const char *prog, int argc, char **argv, int *i, const app_opt_t *opts, app_args_t *out)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const app_opt_t *o;

    if (len == 4 && strncmp(arg, "help", 4) == 0 && !eq) {
        out->help = true;
        return true;
    }
    o = find_opt(opts, arg, len);
    if (!o) {
        app_usage_error(prog, "unknown option '--%.*s'", (int)len, arg);
        return false;
    }
    if (o->kind == APP_OPT_FLAG) {
        if (eq) {
            app_usage_error(prog, "option '--%s' takes no value", o->name);
            return false;
        }
        *(bool *)o->dest = true;
        return true;
    }
    if (eq) return store_value(prog, o, eq + 1);
    if (*i + 1 >= argc) {
        app_usage_error(prog, "option '--%s' needs a value", o->name);
        return false;
    }
    return store_value(prog, o, argv[++*i]);
}

bool app_parse_options(int argc, char **argv, const app_opt_t *opts, bool allow_pos, app_args_t *out)
{
    const char *prog = app_prog_name(argc > 0 ? argv[0] : NULL);
    bool only_pos = false;

    memset(out, 0, sizeof *out);
    out->pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof *out->pos);
    if (!out->pos) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return false;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && strcmp(a, "-h") == 0) {
            out->help = true;
        } else if (!only_pos && strncmp(a, "--", 2) == 0) {
            if (!parse_long_opt(prog, argc, argv, &i, opts, out)) goto fail;
        } else if (allow_pos) {
            out->pos[out->npos++] = a;
        } else {
            app_usage_error(prog, "unexpected argument '%s'", a);
            goto fail;
        }
    }
    return true;
fail:
    app_args_free(out);
    return false;
}

void app_args_free(app_args_t *a)
{
    free(a->pos);
    a->pos = NULL;
    a->npos = 0;
}

bool app_start(int *argc, char ***argv, rk_runtime_t **rt)
{
    int provided = 0;
    rk_runtime_params_t p;
    rk_status_t st;

    *rt = NULL;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed\n", app_prog_name((*argv)[0]));
        return false;
    }
    memset(&p, 0, sizeof p);
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
    p.transport = RK_TRANSPORT_AUTO;
    st = rk_runtime_create(&p, rt);
    if (st != RK_OK) {
        fprintf(stderr, "%s: rk_runtime_create failed: %s\n", app_prog_name((*argv)[0]), rk_status_str(st));
        *rt = NULL;
        MPI_Finalize();
        return false;
    }
    return true;
}

bool app_finish(rk_runtime_t *rt)
{
    rk_status_t st = rt ? rk_runtime_destroy(rt) : RK_OK;
    if (st != RK_OK) fprintf(stderr, "rk_runtime_destroy: %s\n", rk_status_str(st));
    MPI_Finalize();
    return st == RK_OK;
}

double app_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void app_sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void app_wait_request(MPI_Request *req)
{
    int done = 0;
    for (int spins = 0;; spins++) {
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done) return;
        app_sleep_us(spins < 100 ? 50 : 1000);
    }
}

void app_barrier(void)
{
    MPI_Request r;
    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    app_wait_request(&r);
}

void app_bcast(void *buf, int bytes, int root)
{
    MPI_Request r;
    MPI_Ibcast(buf, bytes, MPI_BYTE, root, MPI_COMM_WORLD, &r);
    app_wait_request(&r);
}

long long app_allreduce_max(long long v)
{
    long long out = v;
    MPI_Request r;
    MPI_Iallreduce(&v, &out, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD, &r);
    app_wait_request(&r);
    return out;
}

bool app_close(double a, double b, double rel)
{
    double scale = fmax(fabs(a), fabs(b));
    if (a == b) return true;
    if (isnan(a) || isnan(b)) return false;
    return fabs(a - b) <= rel * scale || fabs(a - b) < 1e-300;
}

const char *app_transport_name(void)
{
    const char *env = getenv("RINGMESH_TRANSPORT");
    return env && *env ? env : "ucx";
}

bool app_node_order(int size, int *order, char (*hosts)[APP_HOST_MAX])
{
    char mine[APP_HOST_MAX] = {0};
    int len = 0;
    char name[MPI_MAX_PROCESSOR_NAME];
    bool ok = MPI_Get_processor_name(name, &len) == MPI_SUCCESS;
    if (ok) snprintf(mine, sizeof mine, "%.*s", len, name);
    ok = ok && MPI_Allgather(mine, APP_HOST_MAX, MPI_CHAR, hosts, APP_HOST_MAX, MPI_CHAR, MPI_COMM_WORLD) == MPI_SUCCESS;
    if (!ok) {
        for (int r = 0; r < size; r++) {
            order[r] = r;
            hosts[r][0] = '\0';
        }
        return false;
    }
    app_order_by_node(size, (const char(*)[APP_HOST_MAX])hosts, order);
    return true;
}
