/*
 * log.h - rank-prefixed log lines on stderr, level from $RINGMESH_LOG.
 *
 * Levels: error, warn (default), info, debug. The rank prefix is set once by
 * the runtime when it learns its rank; before that lines carry no rank.
 */
#ifndef RK_LOG_H
#define RK_LOG_H

typedef enum rk_log_level { RK_LOG_ERROR = 0, RK_LOG_WARN, RK_LOG_INFO, RK_LOG_DEBUG } rk_log_level_t;

void rk_log_set_rank(int rank);
int rk_log_enabled(rk_log_level_t level);
void rk_log(rk_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define RK_ERROR(...) rk_log(RK_LOG_ERROR, __VA_ARGS__)
#define RK_WARN(...) rk_log(RK_LOG_WARN, __VA_ARGS__)
#define RK_INFO(...) rk_log(RK_LOG_INFO, __VA_ARGS__)
#define RK_DEBUG(...) rk_log(RK_LOG_DEBUG, __VA_ARGS__)

#endif
