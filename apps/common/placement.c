/*
 * placement.c - an order of ranks that spreads over nodes (placement.h).
 */
#include "placement.h"

#include <stdlib.h>
#include <string.h>

void app_order_by_node(int size, const char (*hosts)[APP_HOST_MAX], int *order)
{
    int *node = malloc((size_t)size * sizeof *node), *slot = malloc((size_t)size * sizeof *slot);
    int nodes = 0, n = 0;
    if (!node || !slot) { /* no memory: keep rank order */
        for (int r = 0; r < size; r++) order[r] = r;
        free(node);
        free(slot);
        return;
    }
    for (int r = 0; r < size; r++) { /* node index (by first rank) and the rank's place on its node */
        int first = r;
        for (int q = 0; q < r; q++)
            if (strncmp(hosts[q], hosts[r], APP_HOST_MAX) == 0) {
                first = q;
                break;
            }
        node[r] = first == r ? nodes++ : node[first];
        slot[r] = 0;
        for (int q = 0; q < r; q++) slot[r] += node[q] == node[r];
    }
    for (int s = 0; n < size; s++)
        for (int k = 0; k < nodes; k++)
            for (int r = 0; r < size; r++)
                if (node[r] == k && slot[r] == s) order[n++] = r;
    free(node);
    free(slot);
}
