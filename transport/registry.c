/*
 * registry.c - the transports compiled into this library, by name.
 */
#include "transport.h"

#include <string.h>

extern const rk_transport_ops_t rk_transport_ucx_ops;
extern const rk_transport_ops_t rk_transport_mpi_ops;

static const rk_transport_ops_t *const transports[] = {&rk_transport_ucx_ops, &rk_transport_mpi_ops};

const rk_transport_ops_t *rk_transport_find(const char *name)
{
    for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++)
        if (strcmp(transports[i]->name, name) == 0) return transports[i];
    return NULL;
}
