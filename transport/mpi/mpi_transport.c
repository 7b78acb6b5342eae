/*
 * mpi_transport.c - the fallback transport: plain MPI point-to-point.
 *
 * Frames go out with MPI_Isend from a private copy (freed when the request
 * completes) and come in through MPI_Iprobe + MPI_Recv into a reusable buffer,
 * all on the bootstrap's duplicated communicator with one tag. MPI's
 * non-overtaking rule keeps frames of one (source, destination) pair in order.
 */
#include "../transport.h"

#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RK_MPI_TAG 0x524b

typedef struct send_slot {
    MPI_Request req;
    void *buf;
} send_slot_t;

struct rk_transport {
    MPI_Comm comm;
    rk_tp_recv_fn fn;
    void *arg;
    send_slot_t *slots;
    size_t nslots, cap;
    void *rbuf;
    size_t rcap;
};

static rk_status_t mpi_create(const rk_boot_t *boot, rk_tp_recv_fn fn, void *arg, rk_transport_t **out)
{
    rk_transport_t *t = calloc(1, sizeof *t);
    if (!t) return RK_ERR_NOMEM;
    t->comm = *(MPI_Comm *)boot->comm;
    t->fn = fn;
    t->arg = arg;
    *out = t;
    return RK_OK;
}

/* MPI_Isend @p data, a malloc'd buffer we own from here on (freed once the send completes). */
static rk_status_t mpi_send_take(rk_transport_t *t, int dest, void *data, size_t len)
{
    if (len > (size_t)INT32_MAX) {
        free(data);
        return RK_ERR_TOO_LARGE;
    }
    if (t->nslots == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        send_slot_t *ns = realloc(t->slots, ncap * sizeof *ns);
        if (!ns) {
            free(data);
            return RK_ERR_NOMEM;
        }
        t->slots = ns;
        t->cap = ncap;
    }
    if (MPI_Isend(data, (int)len, MPI_BYTE, dest, RK_MPI_TAG, t->comm, &t->slots[t->nslots].req) != MPI_SUCCESS) {
        free(data);
        return RK_ERR_TRANSPORT;
    }
    t->slots[t->nslots++].buf = data;
    return RK_OK;
}

static rk_status_t mpi_send(rk_transport_t *t, int dest, const void *data, size_t len)
{
    void *copy;
    if (len > (size_t)INT32_MAX) return RK_ERR_TOO_LARGE;
    copy = malloc(len ? len : 1);
    if (!copy) return RK_ERR_NOMEM;
    memcpy(copy, data, len);
    return mpi_send_take(t, dest, copy, len);
}

static void complete_sends(rk_transport_t *t)
{
    size_t i = 0;
    while (i < t->nslots) {
        int done = 0;
        MPI_Test(&t->slots[i].req, &done, MPI_STATUS_IGNORE);
        if (!done) {
            i++;
            continue;
        }
        free(t->slots[i].buf);
        t->slots[i] = t->slots[--t->nslots];
    }
}

static int mpi_progress(rk_transport_t *t)
{
    int got = 0;
    for (int budget = 0; budget < 64; budget++) {
        int flag = 0, count = 0;
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, RK_MPI_TAG, t->comm, &flag, &status);
        if (!flag) break;
        MPI_Get_count(&status, MPI_BYTE, &count);
        if ((size_t)count > t->rcap) {
            void *nb = realloc(t->rbuf, (size_t)count);
            if (!nb) break; /* retried on the next progress call */
            t->rbuf = nb;
            t->rcap = (size_t)count;
        }
        MPI_Recv(t->rbuf, count, MPI_BYTE, status.MPI_SOURCE, RK_MPI_TAG, t->comm, MPI_STATUS_IGNORE);
        t->fn(t->arg, status.MPI_SOURCE, t->rbuf, (size_t)count);
        got++;
    }
    complete_sends(t);
    return got;
}

static size_t mpi_pending(rk_transport_t *t) { return t->nslots; }
static int mpi_failed_peer(rk_transport_t *t) { return -1; }

static void mpi_destroy(rk_transport_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nslots; i++) {
        MPI_Wait(&t->slots[i].req, MPI_STATUS_IGNORE);
        free(t->slots[i].buf);
    }
    free(t->slots);
    free(t->rbuf);
    free(t);
}

static int mpi_cuda_memory(rk_transport_t *t) { return 0; }

static const char *mpi_describe(rk_transport_t *t) { return "mpi (point-to-point, MPI_Isend/MPI_Iprobe)"; }

const rk_transport_ops_t rk_transport_mpi_ops = {
    .name = "mpi",
    .create = mpi_create,
    .send = mpi_send,
    .send_take = mpi_send_take,
    .progress = mpi_progress,
    .pending = mpi_pending,
    .failed_peer = mpi_failed_peer,
    .destroy = mpi_destroy,
    .wait = NULL, /* MPI has no wakeup fd: the progress thread polls */
    .cuda_memory = mpi_cuda_memory,
    .describe = mpi_describe,
};
