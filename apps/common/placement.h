/*
 * placement.h - where a job's ranks live, and an order of ranks that spreads
 * consecutive entries over nodes (placement.c: pure; app_util.c: the MPI part).
 */
#ifndef RK_APP_PLACEMENT_H
#define RK_APP_PLACEMENT_H

#define APP_HOST_MAX 64

/**
 * Order @p size ranks, whose node names are hosts[r], by node, then by rank:
 * the first rank of every node (nodes in the order of their lowest rank),
 * then the second rank of every node, and so on. So order[0..k) lies on
 * min(k, nodes) different nodes; on one node it is 0, 1, 2, ...
 */
void app_order_by_node(int size, const char (*hosts)[APP_HOST_MAX], int *order);

#endif
