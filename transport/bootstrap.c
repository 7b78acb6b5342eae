/*
 * bootstrap.c - start-up over MPI: init (or join the application's MPI),
 * rank, size, node-local rank from MPI_Comm_split_type (portable across Open
 * MPI and MPICH, no launcher environment variables), and blob exchange.
 * Threads: the router serializes transport calls with a lock, so
 * MPI_THREAD_SERIALIZED is enough; MULTIPLE is taken when offered.
 */
#include "transport.h"
#include "util/log.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rk_status_t rk_boot_init(void *user_comm, rk_boot_t *out)
{
    int inited = 0, provided = 0;
    MPI_Comm *comm, node;

    memset(out, 0, sizeof *out);
    MPI_Initialized(&inited);
    if (!inited) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) return RK_ERR_TRANSPORT;
        out->initialized_mpi = 1;
    } else {
        MPI_Query_thread(&provided);
    }
    if (provided < MPI_THREAD_SERIALIZED) {
        RK_ERROR("MPI thread level %d is below MPI_THREAD_SERIALIZED: initialize MPI with "
                 "MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...)", provided);
        if (out->initialized_mpi) MPI_Finalize();
        return RK_ERR_UNSUPPORTED;
    }
    comm = malloc(sizeof *comm);
    if (!comm) return RK_ERR_NOMEM;
    MPI_Comm_dup(user_comm ? *(MPI_Comm *)user_comm : MPI_COMM_WORLD, comm);
    /* A dead peer must become RK_ERR_PEER on the survivors, not abort them from inside MPI. */
    MPI_Comm_set_errhandler(*comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(*comm, &out->rank);
    MPI_Comm_size(*comm, &out->size);
    MPI_Comm_split_type(*comm, MPI_COMM_TYPE_SHARED, out->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &out->local_rank);
    MPI_Comm_size(node, &out->local_size);
    MPI_Comm_free(&node);
    out->comm = comm;
    return RK_OK;
}

void rk_boot_fini(rk_boot_t *b)
{
    if (!b->comm) return;
    MPI_Comm_free((MPI_Comm *)b->comm);
    free(b->comm);
    b->comm = NULL;
    if (b->initialized_mpi) MPI_Finalize();
}

void rk_boot_barrier(const rk_boot_t *b) { MPI_Barrier(*(MPI_Comm *)b->comm); }

rk_status_t rk_boot_allgatherv(const rk_boot_t *b, const void *mine, size_t len, void **all,
                               size_t *offs, size_t *lens)
{
    MPI_Comm comm = *(MPI_Comm *)b->comm;
    int *ilens = calloc((size_t)b->size, sizeof *ilens), *displs = calloc((size_t)b->size, sizeof *displs);
    int my = (int)len, total = 0;
    rk_status_t st = RK_OK;

    *all = NULL;
    if (!ilens || !displs) {
        st = RK_ERR_NOMEM;
        goto out;
    }
    MPI_Allgather(&my, 1, MPI_INT, ilens, 1, MPI_INT, comm);
    for (int i = 0; i < b->size; i++) {
        displs[i] = total;
        offs[i] = (size_t)total;
        lens[i] = (size_t)ilens[i];
        total += ilens[i];
    }
    *all = malloc(total ? (size_t)total : 1);
    if (!*all) {
        st = RK_ERR_NOMEM;
        goto out;
    }
    MPI_Allgatherv(mine, my, MPI_BYTE, *all, ilens, displs, MPI_BYTE, comm);
out:
    free(ilens);
    free(displs);
    return st;
}

rk_status_t rk_boot_gatherv(const rk_boot_t *b, const void *mine, size_t len, void **all, size_t *total)
{
    MPI_Comm comm = *(MPI_Comm *)b->comm;
    int my = len > INT32_MAX ? INT32_MAX : (int)len, *lens = NULL, *displs = NULL, sum = 0;
    rk_status_t st = RK_OK;

    *all = NULL;
    *total = 0;
    if (b->rank == 0) {
        lens = calloc((size_t)b->size, sizeof *lens);
        displs = calloc((size_t)b->size, sizeof *displs);
        if (!lens || !displs) st = RK_ERR_NOMEM; /* still join the collectives below */
    }
    MPI_Gather(&my, 1, MPI_INT, lens, 1, MPI_INT, 0, comm);
    if (b->rank == 0 && st == RK_OK) {
        for (int i = 0; i < b->size; i++) {
            displs[i] = sum;
            sum += lens[i];
        }
        *all = malloc(sum ? (size_t)sum : 1);
        if (!*all) st = RK_ERR_NOMEM;
    }
    MPI_Gatherv(mine, my, MPI_BYTE, *all, lens, displs, MPI_BYTE, 0, comm);
    *total = (size_t)sum;
    free(lens);
    free(displs);
    return st;
}

uint64_t rk_boot_sum_to_root(const rk_boot_t *b, uint64_t v)
{
    unsigned long long in = v, out = 0;
    MPI_Reduce(&in, &out, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, *(MPI_Comm *)b->comm);
    return out;
}

void rk_boot_machine_id(char out[RK_MACHINE_ID_LEN])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    memset(out, 0, RK_MACHINE_ID_LEN);
    if (!f) return;
    if (!fgets(out, RK_MACHINE_ID_LEN, f)) out[0] = '\0';
    fclose(f);
}
