/*
 * liveness.c - is a peer rank still alive? Failure detection that works on
 * every transport and mode, not only where UCX reports peer errors.
 *
 * A peer on this machine (same boot id and PID namespace, learnt at start-up)
 * is checked by its process: /proc/<pid>/stat gone, a zombie, or another
 * process's start time means it died (SIGKILL included); no false alarm is
 * possible and a death is seen within LIVE_CHECK_MS. A peer on another
 * machine cannot be looked at: it is sent a heartbeat (a PING frame) every
 * PING_EVERY_MS, and is declared dead when nothing at all came from it for $RINGMESH_HEARTBEAT_TIMEOUT_S (default 10 s: longer
 * than any pause a healthy, oversubscribed rank takes).
 */
#include "route/liveness.h"

#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIVE_CHECK_MS 100      /* same-machine peers are looked at this often */
#define PING_EVERY_MS 250      /* heartbeats to peers on other machines */
#define HEARTBEAT_TIMEOUT_S 10.0

typedef struct ident { /* what each rank tells the others about itself */
    int64_t pid;
    uint64_t start;      /* start time in clock ticks after boot (/proc/self/stat field 22) */
    uint64_t pidns;      /* inode of /proc/self/ns/pid */
    char boot_id[RK_MACHINE_ID_LEN];
} ident_t;

typedef struct lpeer {
    int local;           /* on this machine, in this PID namespace: checked by its process */
    int64_t pid;
    uint64_t start;
    int64_t heard_ns, pinged_ns;
} lpeer_t;

struct liveness {
    int rank, size;
    lpeer_t *peers;
    int64_t next_check_ns, timeout_ns;
};

/* State character and start time of process @p pid; 0 when it cannot be read (gone). */
static int read_stat(int64_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p || p[1] != ' ') return 0;
    *state = p[2];
    /* fields after the name: 3 state ... 22 starttime */
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p) return 0;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 1;
}

static void self_ident(ident_t *me)
{
    char state;
    struct stat st;
    memset(me, 0, sizeof *me);
    me->pid = getpid();
    if (!read_stat(me->pid, &state, &me->start)) me->start = 0;
    if (stat("/proc/self/ns/pid", &st) == 0) me->pidns = (uint64_t)st.st_ino;
    rk_boot_machine_id(me->boot_id);
}

rk_status_t liveness_create(const rk_boot_t *boot, liveness_t **out)
{
    liveness_t *lv = calloc(1, sizeof *lv);
    ident_t me, *all = NULL;
    size_t *offs, *lens;
    rk_status_t st;

    if (!lv) return RK_ERR_NOMEM;
    lv->rank = boot->rank;
    lv->size = boot->size;
    lv->peers = calloc((size_t)boot->size, sizeof *lv->peers);
    offs = calloc((size_t)boot->size, sizeof *offs);
    lens = calloc((size_t)boot->size, sizeof *lens);
    if (!lv->peers || !offs || !lens) {
        free(offs);
        free(lens);
        liveness_destroy(lv);
        return RK_ERR_NOMEM;
    }
    self_ident(&me);
    st = rk_boot_allgatherv(boot, &me, sizeof me, (void **)&all, offs, lens);
    int64_t now = rk_mono_ns();
    for (int i = 0; st == RK_OK && i < boot->size; i++) {
        const ident_t *id = (const ident_t *)((const char *)all + offs[i]);
        if (lens[i] != sizeof *id) {
            st = RK_ERR_TRANSPORT;
            break;
        }
        lpeer_t *p = &lv->peers[i];
        p->local = me.boot_id[0] && me.pidns && id->pidns == me.pidns && strcmp(id->boot_id, me.boot_id) == 0 &&
                   id->start != 0;
        p->pid = id->pid;
        p->start = id->start;
        p->heard_ns = p->pinged_ns = now;
    }
    free(all);
    free(offs);
    free(lens);
    if (st != RK_OK) {
        liveness_destroy(lv);
        return st;
    }
    const char *env = getenv("RINGMESH_HEARTBEAT_TIMEOUT_S");
    double t = env && *env ? atof(env) : HEARTBEAT_TIMEOUT_S;
    lv->timeout_ns = (int64_t)((t > 0 ? t : HEARTBEAT_TIMEOUT_S) * 1e9);
    lv->next_check_ns = now + LIVE_CHECK_MS * 1000000LL;
    *out = lv;
    return RK_OK;
}

void liveness_destroy(liveness_t *lv)
{
    if (!lv) return;
    free(lv->peers);
    free(lv);
}

void liveness_heard(liveness_t *lv, int peer, int64_t now_ns)
{
    if (peer >= 0 && peer < lv->size) lv->peers[peer].heard_ns = now_ns;
}

int liveness_is_local(const liveness_t *lv, int peer) { return lv->peers[peer].local; }

int liveness_check(liveness_t *lv, int64_t now_ns, int (*ping)(void *arg, int peer), void *arg)
{
    if (now_ns < lv->next_check_ns) return -1;
    lv->next_check_ns = now_ns + LIVE_CHECK_MS * 1000000LL;
    for (int i = 0; i < lv->size; i++) {
        lpeer_t *p = &lv->peers[i];
        if (i == lv->rank) continue;
        if (p->local) {
            char state = '?';
            uint64_t start = 0;
            if (!read_stat(p->pid, &state, &start) || state == 'Z' || state == 'X' || start != p->start) {
                RK_ERROR("rank %d (pid %lld, this machine) has died", i, (long long)p->pid);
                return i;
            }
            continue;
        }
        if (now_ns - p->heard_ns > lv->timeout_ns) {
            RK_ERROR("rank %d (another machine) sent nothing for %.1f s (RINGMESH_HEARTBEAT_TIMEOUT_S): taken as dead",
                     i, (double)(now_ns - p->heard_ns) / 1e9);
            return i;
        }
        if (now_ns - p->pinged_ns >= PING_EVERY_MS * 1000000LL && ping(arg, i) == 0) p->pinged_ns = now_ns;
    }
    return -1;
}
