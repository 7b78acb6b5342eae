/*
 * liveness.h - failure detection of peer ranks on every transport (liveness.c):
 * same-machine peers by their process, other machines by heartbeats. Used by
 * the router under its lock.
 */
#ifndef RK_LIVENESS_H
#define RK_LIVENESS_H

#include "transport/transport.h"

typedef struct liveness liveness_t;

/** Collective (MPI): learn every rank's process identity and machine. */
rk_status_t liveness_create(const rk_boot_t *boot, liveness_t **out);
void liveness_destroy(liveness_t *lv);
/** Something arrived from @p peer at @p now_ns (monotonic). */
void liveness_heard(liveness_t *lv, int peer, int64_t now_ns);
/** Is @p peer on this machine (checked by its process)? */
int liveness_is_local(const liveness_t *lv, int peer);
/**
 * At most every 100 ms: look at every peer; @p ping(arg, peer) sends a
 * heartbeat to a peer on another machine (0 = sent). Returns a peer found
 * dead, or -1.
 */
int liveness_check(liveness_t *lv, int64_t now_ns, int (*ping)(void *arg, int peer), void *arg);

#endif
