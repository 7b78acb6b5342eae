/*
 * spin.c - the spin-wait policy's state (spin.h).
 */
#include "util/spin.h"
#include "util/log.h"

#include <stdlib.h>
#include <unistd.h>

unsigned rk_spinners, rk_spin_limit = 1;

/* The CPUs of the affinity mask are this process's own when they are fewer than
 * the node's (ranks bound to cores), else shared by every rank on the node. */
void rk_spin_set_share(int ranks_on_node)
{
    const char *env = getenv("RINGMESH_SPINNERS");
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int mine = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;

    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 4096) {
            __atomic_store_n(&rk_spin_limit, (unsigned)v, __ATOMIC_RELAXED);
            return;
        }
        RK_WARN("RINGMESH_SPINNERS=%s is not a count from 0 to 4096: using the CPU share", env);
    }
    if (ranks_on_node < 1) ranks_on_node = 1;
    if (mine < online) ranks_on_node = 1; /* bound: these CPUs are ours */
    __atomic_store_n(&rk_spin_limit, (unsigned)(mine > 0 ? mine / ranks_on_node : 1), __ATOMIC_RELAXED);
}
