/*
 * test_placement.c - the pipeline's default placement spreads its stages over
 * the job's nodes (app_order_by_node), with synthetic node names: no MPI.
 */
#include "../common/placement.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void check(const char *what, int got, int want)
{
    if (got == want) return;
    printf("FAIL %s: got %d, want %d\n", what, got, want);
    failures++;
}

/* @p size ranks, @p per_node consecutive ranks per node. */
static void spread(int size, int per_node)
{
    char hosts[64][APP_HOST_MAX];
    int order[64], seen[64] = {0};
    for (int r = 0; r < size; r++) snprintf(hosts[r], APP_HOST_MAX, "node%d", r / per_node);
    app_order_by_node(size, (const char(*)[APP_HOST_MAX])hosts, order);
    int nodes = (size + per_node - 1) / per_node, distinct = 0;
    for (int i = 0; i < 4 && i < size; i++) { /* the 4 stages */
        int node = order[i] / per_node;
        distinct += !seen[node];
        seen[node] = 1;
    }
    int want = nodes < 4 ? nodes : 4;
    char what[80];
    snprintf(what, sizeof what, "%d ranks, %d per node: nodes the 4 stages use", size, per_node);
    check(what, distinct, want < size ? want : size);
    int used[64] = {0}; /* a permutation */
    for (int i = 0; i < size; i++) used[order[i]]++;
    for (int r = 0; r < size; r++) check("every rank exactly once", used[r], 1);
}

int main(void)
{
    spread(8, 4);  /* sbatch -N 2 --ntasks-per-node=4 */
    spread(16, 4); /* -N 4 */
    spread(4, 4);  /* one node: 0, 1, 2, 3 as before */
    spread(3, 1);
    spread(12, 4);
    char hosts[4][APP_HOST_MAX] = {"b", "a", "b", "a"}; /* interleaved ranks: nodes by their lowest rank */
    int order[4];
    app_order_by_node(4, (const char(*)[APP_HOST_MAX])hosts, order);
    check("interleaved order[0]", order[0], 0);
    check("interleaved order[1]", order[1], 1);
    check("interleaved order[2]", order[2], 2);
    check("interleaved order[3]", order[3], 3);
    char one[4][APP_HOST_MAX] = {"x", "x", "x", "x"};
    app_order_by_node(4, (const char(*)[APP_HOST_MAX])one, order);
    for (int i = 0; i < 4; i++) check("one node keeps rank order", order[i], i);
    printf("placement: %s\n", failures ? "FAILED" : "OK");
    return failures != 0;
}
