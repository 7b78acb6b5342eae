/*
 * log.c - rank-prefixed logging. The level is read from $RINGMESH_LOG once;
 * a whole line is formatted first and written with one fputs so lines of
 * concurrent threads never interleave mid-line.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

static int log_rank = -1;
static int log_level = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
    const char *s = getenv("RINGMESH_LOG");
    log_level = RK_LOG_WARN;
    if (!s) return;
    if (!strcasecmp(s, "error")) log_level = RK_LOG_ERROR;
    else if (!strcasecmp(s, "warn")) log_level = RK_LOG_WARN;
    else if (!strcasecmp(s, "info")) log_level = RK_LOG_INFO;
    else if (!strcasecmp(s, "debug")) log_level = RK_LOG_DEBUG;
}

void rk_log_set_rank(int rank) { __atomic_store_n(&log_rank, rank, __ATOMIC_RELAXED); }

int rk_log_enabled(rk_log_level_t level)
{
    pthread_once(&log_once, log_init);
    return (int)level <= log_level;
}

void rk_log(rk_log_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    int n, rank;
    va_list ap;

    if (!rk_log_enabled(level)) return;
    rank = __atomic_load_n(&log_rank, __ATOMIC_RELAXED);
    if (rank >= 0) n = snprintf(line, sizeof line, "[ringmesh %d] %s: ", rank, names[level]);
    else n = snprintf(line, sizeof line, "[ringmesh] %s: ", names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = (int)strlen(line);
    line[n] = '\n';
    line[n + 1] = '\0';
    fputs(line, stderr);
}
