/*
 * raw_ucx.c - a minimal UCP active-message link between two ranks (the
 * baseline of the pingpong and rate benchmarks), plus one exposed memory
 * region the other rank reads with ucp_get_nbx (the baseline of
 * buffer-fetch). See raw_ucx.h.
 */
#include "raw_ucx.h"

#include "bench_util.h"

#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#define RAW_AM_ID 3

struct raw_ucx {
    ucp_context_h ctx;
    ucp_worker_h worker;
    ucp_ep_h ep;
    uint8_t *rbuf;
    size_t rcap;
    size_t rlen; /* length of the rendezvous receive under way */
    void (*on_recv)(void *arg, const void *data, size_t len);
    void *on_recv_arg;
    volatile uint64_t received;
    volatile int inflight; /* incomplete sends */
    int err_peer;
    char desc[256];
    /* raw_ucx_expose: the owner maps its region (memh); the reader unpacks its key (rkey). */
    ucp_mem_h memh;
    ucp_rkey_h rkey;
    uint64_t raddr; /* the region's address in the owner's process (reader side) */
    size_t rlen_exposed;
    int exposed; /* on both ranks while a region is exposed */
    int get_onesided; /* a get of the region completed while the owner stayed out of UCX */
};

static void fail(const char *what, ucs_status_t s)
{
    fprintf(stderr, "[bench %d] raw UCX: %s: %s\n", g_mpi.rank, what, ucs_status_string(s));
    MPI_Abort(MPI_COMM_WORLD, 3);
    exit(3);
}

static void rndv_done(void *req, ucs_status_t status, size_t length, void *user_data)
{
    raw_ucx_t *u = user_data;
    if (status != UCS_OK) fail("rendezvous receive", status);
    if (u->on_recv) u->on_recv(u->on_recv_arg, u->rbuf, u->rlen);
    u->received++;
    ucp_request_free(req);
}

static ucs_status_t am_cb(void *arg, const void *header, size_t header_length, void *data, size_t length,
                          const ucp_am_recv_param_t *param)
{
    raw_ucx_t *u = arg;
    if (length > u->rcap) fail("message larger than the receive buffer", UCS_ERR_MESSAGE_TRUNCATED);
    if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
        ucp_request_param_t rp;
        memset(&rp, 0, sizeof rp);
        rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
        rp.cb.recv_am = rndv_done;
        rp.user_data = u;
        u->rlen = length;
        ucs_status_ptr_t req = ucp_am_recv_data_nbx(u->worker, data, u->rbuf, length, &rp);
        if (req == NULL) {
            if (u->on_recv) u->on_recv(u->on_recv_arg, u->rbuf, length);
            u->received++;
        } else if (UCS_PTR_IS_ERR(req)) fail("ucp_am_recv_data_nbx", UCS_PTR_STATUS(req));
        return UCS_OK;
    }
    if (u->on_recv) u->on_recv(u->on_recv_arg, data, length); /* straight from UCX's buffer, as ringmesh reads */
    else memcpy(u->rbuf, data, length);
    u->received++;
    return UCS_OK;
}

static void send_cb(void *req, ucs_status_t status, void *user_data)
{
    raw_ucx_t *u = user_data;
    if (status != UCS_OK) fail("send", status);
    u->inflight--;
    ucp_request_free(req);
}

static void make_worker(raw_ucx_t *u)
{
    ucp_params_t p;
    ucp_config_t *cfg;
    ucp_worker_params_t wp;
    ucp_am_handler_param_t hp;
    ucs_status_t s;

    memset(&p, 0, sizeof p);
    p.field_mask = UCP_PARAM_FIELD_FEATURES;
    p.features = UCP_FEATURE_AM | UCP_FEATURE_RMA; /* AM: pingpong, rate; RMA: buffer-fetch */
    if ((s = ucp_config_read(NULL, NULL, &cfg)) != UCS_OK) fail("ucp_config_read", s);
    s = ucp_init(&p, cfg, &u->ctx);
    ucp_config_release(cfg);
    if (s != UCS_OK) fail("ucp_init", s);
    memset(&wp, 0, sizeof wp);
    wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wp.thread_mode = UCS_THREAD_MODE_SINGLE;
    if ((s = ucp_worker_create(u->ctx, &wp, &u->worker)) != UCS_OK) fail("ucp_worker_create", s);
    memset(&hp, 0, sizeof hp);
    hp.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
    hp.id = RAW_AM_ID;
    hp.cb = am_cb;
    hp.arg = u;
    if ((s = ucp_worker_set_am_recv_handler(u->worker, &hp)) != UCS_OK) fail("set_am_recv_handler", s);
}

/* Exchange worker addresses (MPI_Allgather of lengths, then of the bytes) and connect to the peer. */
static void connect_peer(raw_ucx_t *u, int err_peer)
{
    MPI_Comm comm = *(MPI_Comm *)bench_comm();
    ucp_address_t *addr;
    size_t alen;
    int mylen, lens[2], displs[2];
    char *all;
    ucp_ep_params_t ep;
    ucs_status_t s;
    int peer = 1 - g_mpi.rank;

    if ((s = ucp_worker_get_address(u->worker, &addr, &alen)) != UCS_OK) fail("ucp_worker_get_address", s);
    mylen = (int)alen;
    MPI_Allgather(&mylen, 1, MPI_INT, lens, 1, MPI_INT, comm);
    displs[0] = 0;
    displs[1] = lens[0];
    all = malloc((size_t)lens[0] + (size_t)lens[1]);
    if (!all) fail("address exchange", UCS_ERR_NO_MEMORY);
    MPI_Allgatherv(addr, mylen, MPI_BYTE, all, lens, displs, MPI_BYTE, comm);
    ucp_worker_release_address(u->worker, addr);
    memset(&ep, 0, sizeof ep);
    ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
    ep.address = (const ucp_address_t *)(all + displs[peer]);
    if (err_peer) { /* what ringmesh does; UCX may then pick other lanes */
        ep.field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE;
        ep.err_mode = UCP_ERR_HANDLING_MODE_PEER;
    }
    if ((s = ucp_ep_create(u->worker, &ep, &u->ep)) != UCS_OK) fail("ucp_ep_create", s);
    free(all);
}

/* "ucx 1.13.1 err_mode=none lanes=sysv/memory.0,cma/memory.0": what UCX picked for the endpoint. */
static void describe_lanes(raw_ucx_t *u)
{
    char *text = NULL, *line, *save = NULL;
    size_t tlen = 0, n;
    FILE *f = open_memstream(&text, &tlen);

    n = (size_t)snprintf(u->desc, sizeof u->desc, "ucx %s err_mode=%s lanes=", ucp_get_version_string(),
                         u->err_peer ? "peer" : "none");
    if (!f) return;
    ucp_ep_print_info(u->ep, f);
    fclose(f);
    if (getenv("RINGMESH_BENCH_UCX_INFO") && g_mpi.rank == 0) fputs(text, stderr);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = strstr(line, "lane["), tl[64];
        if (!p || !(p = strchr(p, ':'))) continue;
        p++;
        while (*p == ' ') p++;
        if ((p = strchr(p, ':')) == NULL || sscanf(p + 1, "%63s", tl) != 1) continue; /* "3:sysv/memory.0" */
        if (n < sizeof u->desc)
            n += (size_t)snprintf(u->desc + n, sizeof u->desc - n, "%s%s", u->desc[n - 1] == '=' ? "" : ",", tl);
    }
    free(text);
}

int raw_ucx_open(size_t max_msg, int err_peer, raw_ucx_t **out)
{
    raw_ucx_t *u = calloc(1, sizeof *u);
    if (!u || g_mpi.size != 2) {
        free(u);
        return -1;
    }
    u->rcap = max_msg;
    u->err_peer = err_peer;
    u->rbuf = malloc(max_msg ? max_msg : 1);
    if (!u->rbuf) fail("receive buffer", UCS_ERR_NO_MEMORY);
    memset(u->rbuf, 0, max_msg);
    make_worker(u);
    connect_peer(u, err_peer);
    describe_lanes(u);
    /* Make sure both sides' wireup is done before anyone measures. */
    {
        static const char hello = 1;
        raw_ucx_send(u, &hello, 1);
        raw_ucx_wait_received(u, 1);
        u->received = 0;
    }
    *out = u;
    return 0;
}

static void wait_req(raw_ucx_t *u, ucs_status_ptr_t req, const char *what)
{
    if (req == NULL) return;
    if (UCS_PTR_IS_ERR(req)) fail(what, UCS_PTR_STATUS(req));
    while (ucp_request_check_status(req) == UCS_INPROGRESS) ucp_worker_progress(u->worker);
    ucs_status_t s = ucp_request_check_status(req);
    ucp_request_free(req);
    if (s != UCS_OK) fail(what, s);
}

void raw_ucx_send(raw_ucx_t *u, const void *buf, size_t len)
{
    ucp_request_param_t rp;
    memset(&rp, 0, sizeof rp);
    wait_req(u, ucp_am_send_nbx(u->ep, RAW_AM_ID, NULL, 0, buf, len, &rp), "ucp_am_send_nbx");
}

void raw_ucx_send_window(raw_ucx_t *u, const void *buf, size_t len, int window)
{
    ucp_request_param_t rp;
    ucs_status_ptr_t req;
    while (u->inflight >= window) ucp_worker_progress(u->worker);
    memset(&rp, 0, sizeof rp);
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    rp.cb.send = send_cb;
    rp.user_data = u;
    req = ucp_am_send_nbx(u->ep, RAW_AM_ID, NULL, 0, buf, len, &rp);
    if (req == NULL) return;
    if (UCS_PTR_IS_ERR(req)) fail("ucp_am_send_nbx (window)", UCS_PTR_STATUS(req));
    u->inflight++;
}

void raw_ucx_flush(raw_ucx_t *u)
{
    while (u->inflight > 0) ucp_worker_progress(u->worker);
}

uint64_t raw_ucx_received(const raw_ucx_t *u) { return u->received; }

void raw_ucx_on_recv(raw_ucx_t *u, void (*fn)(void *arg, const void *data, size_t len), void *arg)
{
    u->on_recv = fn;
    u->on_recv_arg = arg;
}

void raw_ucx_wait_received(raw_ucx_t *u, uint64_t count)
{
    while (u->received < count) ucp_worker_progress(u->worker);
}

void raw_ucx_serve_until_received(raw_ucx_t *u, uint64_t count)
{
    while (u->received < count)
        if (ucp_worker_progress(u->worker) == 0) sched_yield();
}

const char *raw_ucx_describe(raw_ucx_t *u) { return u->desc; }

const char *raw_ucx_get_mode(raw_ucx_t *u)
{
    if (!u->exposed) return "nothing exposed";
    return u->get_onesided ? "one-sided" : "emulated by UCX over AM (served by the owner's worker progress)";
}

int raw_ucx_get_onesided(const raw_ucx_t *u) { return u->get_onesided; }

/* Drop the exposed region on both sides (collective: nobody may be reading it). */
static void unexpose(raw_ucx_t *u)
{
    ucs_status_t s;
    if (u->rkey) ucp_rkey_destroy(u->rkey); /* before the endpoint goes */
    u->rkey = NULL;
    bench_barrier();                        /* the reader has let go of the key */
    if (u->memh && (s = ucp_mem_unmap(u->ctx, u->memh)) != UCS_OK) fail("ucp_mem_unmap", s);
    u->memh = NULL;
    u->raddr = 0;
    u->rlen_exposed = 0;
    u->exposed = 0;
}

/*
 * Does a get of the exposed region need the owner's progress? UCX reads
 * remote memory one-sided only over a lane whose memory domain can reach it;
 * otherwise it emulates the get with AM, which the owner's worker answers.
 * First a served get of the whole region (wireup done, pages touched); then
 * the probe: the owner waits in MPI_Recv, out of UCX, while the reader's get
 * runs for up to 200 ms. The verdict goes to the owner with MPI; a get still
 * under way is then served as usual.
 */
static void probe_get(raw_ucx_t *u, int owner)
{
    static const char done = 1;
    MPI_Comm comm = *(MPI_Comm *)bench_comm();
    int onesided = 0;

    for (int probe = 0; probe < 2; probe++) {
        uint64_t base = u->received;
        if (g_mpi.rank != owner) {
            void *tmp = malloc(u->rlen_exposed ? u->rlen_exposed : 1);
            ucp_request_param_t rp;
            ucs_status_ptr_t req;
            if (!tmp) fail("raw_ucx_expose: probe buffer", UCS_ERR_NO_MEMORY);
            memset(&rp, 0, sizeof rp);
            req = ucp_get_nbx(u->ep, tmp, u->rlen_exposed, u->raddr, u->rkey, &rp);
            if (UCS_PTR_IS_ERR(req)) fail("ucp_get_nbx (probe)", UCS_PTR_STATUS(req));
            if (probe == 1) {
                int64_t end = bench_now_ns() + 200000000LL;
                while (req && ucp_request_check_status(req) == UCS_INPROGRESS && bench_now_ns() < end)
                    ucp_worker_progress(u->worker);
                onesided = !req || ucp_request_check_status(req) != UCS_INPROGRESS;
                MPI_Send(&onesided, 1, MPI_INT, owner, 12, comm);
            }
            wait_req(u, req, "ucp_get_nbx (probe)");
            free(tmp);
            if (probe == 0 || !onesided) raw_ucx_send(u, &done, 1);
        } else {
            if (probe == 1) MPI_Recv(&onesided, 1, MPI_INT, 1 - owner, 12, comm, MPI_STATUS_IGNORE);
            if (probe == 0 || !onesided) raw_ucx_serve_until_received(u, base + 1);
        }
    }
    u->received = 0; /* the probes' done messages are not the caller's */
    u->get_onesided = onesided;
}

/*
 * The owner (buf != NULL) maps its region and packs a remote key; one
 * MPI_Allgather tells both sides who owns what (address, length, key size),
 * an MPI_Bcast from the owner carries the packed key, and the reader unpacks
 * it on its endpoint to the owner.
 */
void raw_ucx_expose(raw_ucx_t *u, void *buf, size_t len)
{
    MPI_Comm comm = *(MPI_Comm *)bench_comm();
    uint64_t mine[3] = {0, 0, 0}, all[6]; /* address, length, packed key bytes */
    void *kbuf = NULL;
    size_t ksize = 0;
    int owner;
    ucs_status_t s;

    if (u->exposed) unexpose(u); /* one region at a time (collective) */
    if (buf) {
        ucp_mem_map_params_t mp;
        memset(&mp, 0, sizeof mp);
        mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
        mp.address = buf;
        mp.length = len;
        if ((s = ucp_mem_map(u->ctx, &mp, &u->memh)) != UCS_OK) fail("ucp_mem_map", s);
        if ((s = ucp_rkey_pack(u->ctx, u->memh, &kbuf, &ksize)) != UCS_OK) fail("ucp_rkey_pack", s);
        mine[0] = (uint64_t)(uintptr_t)buf;
        mine[1] = len;
        mine[2] = ksize;
    }
    MPI_Allgather(mine, 3, MPI_UINT64_T, all, 3, MPI_UINT64_T, comm);
    if (all[0] == 0 && all[3] == 0) return; /* both passed NULL: the region is dropped */
    if (all[0] != 0 && all[3] != 0) fail("raw_ucx_expose: only one rank may pass a region", UCS_ERR_INVALID_PARAM);
    owner = all[0] ? 0 : 1;
    ksize = (size_t)all[3 * owner + 2];
    if (!buf && !(kbuf = malloc(ksize ? ksize : 1))) fail("raw_ucx_expose", UCS_ERR_NO_MEMORY);
    MPI_Bcast(kbuf, (int)ksize, MPI_BYTE, owner, comm);
    if (buf) ucp_rkey_buffer_release(kbuf);
    else {
        if ((s = ucp_ep_rkey_unpack(u->ep, kbuf, &u->rkey)) != UCS_OK) fail("ucp_ep_rkey_unpack", s);
        free(kbuf);
    }
    u->raddr = all[3 * owner];
    u->rlen_exposed = (size_t)all[3 * owner + 1];
    u->exposed = 1;
    probe_get(u, owner);
}

void raw_ucx_get(raw_ucx_t *u, void *dst, size_t len)
{
    ucp_request_param_t rp;
    if (!u->rkey || len > u->rlen_exposed)
        fail("raw_ucx_get: the peer exposed nothing, or less than that", UCS_ERR_INVALID_PARAM);
    memset(&rp, 0, sizeof rp);
    wait_req(u, ucp_get_nbx(u->ep, dst, len, u->raddr, u->rkey, &rp), "ucp_get_nbx");
}

void raw_ucx_close(raw_ucx_t *u)
{
    ucp_request_param_t rp;
    if (!u) return;
    raw_ucx_flush(u);
    bench_barrier(); /* both sides idle; each flushes and closes its endpoint while progressing */
    if (u->exposed) unexpose(u);
    memset(&rp, 0, sizeof rp);
    if (u->err_peer) { /* FORCE is only valid with peer error handling */
        rp.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        rp.flags = UCP_EP_CLOSE_FLAG_FORCE;
    }
    wait_req(u, ucp_ep_close_nbx(u->ep, &rp), "ucp_ep_close_nbx");
    bench_barrier();
    ucp_worker_destroy(u->worker);
    ucp_cleanup(u->ctx);
    free(u->rbuf);
    free(u);
}
