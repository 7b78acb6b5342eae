/*
 * ucx_transport.c - the default transport: UCP active messages.
 *
 * Start-up: one worker per rank; worker addresses (with the machine's boot
 * id) are exchanged with the MPI bootstrap and an endpoint is made to every
 * peer. Endpoints to ranks on other machines use UCX peer error handling, so
 * a dead rank there surfaces as RK_ERR_PEER; endpoints to ranks on this
 * machine do not, because UCX then leaves out the shared-memory lanes (it
 * cannot report a dead peer over them): a dead rank on this machine is found
 * by the router's liveness check of its process (src/route/liveness.c) instead.
 * RINGMESH_PEER_ERRORS=1 asks for peer error handling on every endpoint, 0
 * on none.
 * Send: small frames first try an immediate-completion eager send straight
 * from the caller's buffer (no copy); otherwise the frame is copied into a
 * buffer that lives until the send callback fires (send_take hands over the
 * caller's malloc'd buffer instead of a copy). Frames above RNDV_MIN use
 * rendezvous (zero-copy on transports that can). Receive: eager data is
 * handed to the router inside the AM callback; rendezvous data is pulled with
 * ucp_am_recv_data_nbx into a buffer and handed over on completion. UCX may
 * reorder AMs on one endpoint; the router's per-peer sequence numbers restore
 * order.
 * RMA (buffer fetches): the owner registers a buffer once (ucp_mem_map) and
 * sends its packed key; the reader unpacks it on its endpoint and pulls the
 * bytes with ucp_get_nbx, host or CUDA memory alike where UCX supports it.
 */
#include "../transport.h"
#include "util/log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#define AM_ID 7
#define BOOT_ID_LEN RK_MACHINE_ID_LEN
#define RNDV_MIN (64 * 1024)

typedef struct rndv_recv {
    struct rk_transport *t;
    int src;
    size_t len;
    void *buf;
} rndv_recv_t;

struct rk_transport {
    ucp_context_h ctx;
    ucp_worker_h worker;
    ucp_ep_h *eps;
    int rank, size;
    int32_t my_rank_hdr;  /* AM header: the sender's rank (must outlive sends) */
    rk_tp_recv_fn fn;
    void *arg;
    size_t inflight;      /* sends and rendezvous receives not yet complete */
    size_t rndv;          /* of which rendezvous (large) sends and receives */
    int failed;           /* first failed peer, -1 none */
    uint8_t *dead;        /* per peer: its endpoint reported an error (sends to it are RK_ERR_PEER) */
    int delivered;        /* frames handed over during the current progress */
    int efd;              /* the worker's wakeup fd, -1 if none */
    int peer_errors;      /* UCP_ERR_HANDLING_MODE_PEER: 1 everywhere, 0 nowhere, -1 to other machines only (default) */
    int shm_peers;        /* endpoints made without it (ranks on this machine, or all with 0) */
    char desc[224];
};

/* Peer @p rank is gone: sends to it are RK_ERR_PEER; the first one is what failed_peer reports. */
static void mark_dead(rk_transport_t *t, int rank)
{
    if (t->failed < 0) t->failed = rank;
    t->dead[rank] = 1;
}

static void peer_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    rk_transport_t *t = arg;
    for (int i = 0; i < t->size; i++) {
        if (t->eps[i] != ep) continue;
        mark_dead(t, i);
        RK_ERROR("ucx: peer rank %d failed: %s", i, ucs_status_string(status));
    }
}

/* A send UCX did not finish at once: the bytes it keeps until completion. */
typedef struct pending_send {
    rk_transport_t *t;
    void *buf;
    int rndv; /* a rendezvous send (counted in t->rndv) */
} pending_send_t;

static void send_done(void *request, ucs_status_t status, void *user_data)
{
    pending_send_t *ps = user_data;
    rk_transport_t *t = ps->t;
    if (status != UCS_OK && status != UCS_ERR_CANCELED) RK_WARN("ucx: send failed: %s", ucs_status_string(status));
    if (ps->rndv) t->rndv--;
    free(ps->buf);
    free(ps);
    t->inflight--;
    ucp_request_free(request);
}

static void rndv_done(void *request, ucs_status_t status, size_t length, void *user_data)
{
    rndv_recv_t *r = user_data;
    rk_transport_t *t = r->t;
    if (status == UCS_OK) {
        t->fn(t->arg, r->src, r->buf, r->len);
        t->delivered++;
    } else {
        RK_WARN("ucx: rendezvous receive from rank %d failed: %s", r->src, ucs_status_string(status));
    }
    free(r->buf);
    free(r);
    t->inflight--;
    t->rndv--;
    ucp_request_free(request);
}

static ucs_status_t am_recv(void *arg, const void *header, size_t header_length, void *data, size_t length,
                            const ucp_am_recv_param_t *param)
{
    rk_transport_t *t = arg;
    int32_t src;
    rndv_recv_t *r;
    ucp_request_param_t rp;
    ucs_status_ptr_t req;

    if (header_length != sizeof src) {
        RK_WARN("ucx: dropped an AM with a %zu-byte header", header_length);
        return UCS_OK;
    }
    memcpy(&src, header, sizeof src);
    if (src < 0 || src >= t->size) {
        RK_WARN("ucx: dropped an AM from unknown rank %d", (int)src);
        return UCS_OK;
    }
    if (!(param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
        t->fn(t->arg, src, data, length);
        t->delivered++;
        return UCS_OK;
    }
    r = calloc(1, sizeof *r);
    if (r) r->buf = malloc(length ? length : 1);
    if (!r || !r->buf) {
        free(r);
        RK_ERROR("ucx: no memory for a %zu-byte rendezvous frame from rank %d", length, (int)src);
        return UCS_ERR_NO_MEMORY;
    }
    r->t = t;
    r->src = src;
    r->len = length;
    memset(&rp, 0, sizeof rp);
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    rp.cb.recv_am = rndv_done;
    rp.user_data = r;
    req = ucp_am_recv_data_nbx(t->worker, data, r->buf, length, &rp);
    if (req == NULL) { /* completed in place */
        t->fn(t->arg, src, r->buf, length);
        t->delivered++;
        free(r->buf);
        free(r);
    } else if (UCS_PTR_IS_ERR(req)) {
        RK_WARN("ucx: rendezvous receive failed: %s", ucs_status_string(UCS_PTR_STATUS(req)));
        free(r->buf);
        free(r);
    } else {
        t->inflight++;
        t->rndv++;
    }
    return UCS_OK;
}

static rk_status_t make_worker(rk_transport_t *t)
{
    ucp_params_t p;
    ucp_config_t *cfg;
    ucp_worker_params_t wp;
    ucp_am_handler_param_t hp;
    ucs_status_t s;

    memset(&p, 0, sizeof p);
    p.field_mask = UCP_PARAM_FIELD_FEATURES;
    p.features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP | UCP_FEATURE_RMA; /* RMA: buffer fetches */
    /* UCX_* settings apply; RINGMESH_UCX_* override them for this context only,
     * leaving the MPI library's own UCX (Open MPI pml/ucx, MPICH ch4:ucx) alone. */
    if (ucp_config_read("RINGMESH", NULL, &cfg) != UCS_OK) return RK_ERR_TRANSPORT;
    s = ucp_init(&p, cfg, &t->ctx);
    ucp_config_release(cfg);
    if (s != UCS_OK) return RK_ERR_TRANSPORT;
    memset(&wp, 0, sizeof wp);
    wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wp.thread_mode = UCS_THREAD_MODE_SERIALIZED;
    if (ucp_worker_create(t->ctx, &wp, &t->worker) != UCS_OK) return RK_ERR_TRANSPORT;
    memset(&hp, 0, sizeof hp);
    hp.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
    hp.id = AM_ID;
    hp.cb = am_recv;
    hp.arg = t;
    if (ucp_worker_set_am_recv_handler(t->worker, &hp) != UCS_OK) return RK_ERR_TRANSPORT;
    if (ucp_worker_get_efd(t->worker, &t->efd) != UCS_OK) t->efd = -1; /* then the router polls */
    return RK_OK;
}

static rk_status_t connect_peers(rk_transport_t *t, const rk_boot_t *boot)
{
    ucp_address_t *addr;
    size_t alen, *offs, *lens;
    void *all = NULL;
    rk_status_t st;

    char boot_id[BOOT_ID_LEN];
    rk_boot_machine_id(boot_id);
    if (ucp_worker_get_address(t->worker, &addr, &alen) != UCS_OK) return RK_ERR_TRANSPORT;
    uint8_t *mine = malloc(BOOT_ID_LEN + alen); /* the machine's boot id, then the worker address */
    offs = calloc((size_t)t->size, sizeof *offs);
    lens = calloc((size_t)t->size, sizeof *lens);
    if (mine) {
        memcpy(mine, boot_id, BOOT_ID_LEN);
        memcpy(mine + BOOT_ID_LEN, addr, alen);
    }
    st = mine && offs && lens ? rk_boot_allgatherv(boot, mine, BOOT_ID_LEN + alen, &all, offs, lens) : RK_ERR_NOMEM;
    ucp_worker_release_address(t->worker, addr);
    free(mine);
    for (int i = 0; st == RK_OK && i < t->size; i++) {
        ucp_ep_params_t ep;
        const char *theirs = (const char *)all + offs[i];
        int same_machine = boot_id[0] && lens[i] > BOOT_ID_LEN && memcmp(theirs, boot_id, BOOT_ID_LEN) == 0;
        int pe = t->peer_errors < 0 ? !same_machine : t->peer_errors;
        if (lens[i] <= BOOT_ID_LEN) {
            st = RK_ERR_TRANSPORT;
            break;
        }
        memset(&ep, 0, sizeof ep);
        ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                        UCP_EP_PARAM_FIELD_ERR_HANDLER;
        ep.address = (const ucp_address_t *)(theirs + BOOT_ID_LEN);
        ep.err_mode = pe ? UCP_ERR_HANDLING_MODE_PEER : UCP_ERR_HANDLING_MODE_NONE;
        if (!pe && i != t->rank) t->shm_peers++;
        ep.err_handler.cb = peer_error;
        ep.err_handler.arg = t;
        if (ucp_ep_create(t->worker, &ep, &t->eps[i]) != UCS_OK) st = RK_ERR_TRANSPORT;
    }
    free(all);
    free(offs);
    free(lens);
    return st;
}

static void ucx_destroy(rk_transport_t *t);

static rk_status_t ucx_create(const rk_boot_t *boot, rk_tp_recv_fn fn, void *arg, rk_transport_t **out)
{
    rk_transport_t *t = calloc(1, sizeof *t);
    const char *tls = getenv("RINGMESH_UCX_TLS") ? getenv("RINGMESH_UCX_TLS") : getenv("UCX_TLS");
    rk_status_t st;

    if (!t) return RK_ERR_NOMEM;
    t->rank = boot->rank;
    t->size = boot->size;
    t->my_rank_hdr = boot->rank;
    t->fn = fn;
    t->arg = arg;
    t->failed = -1;
    t->efd = -1;
    const char *pe = getenv("RINGMESH_PEER_ERRORS");
    t->peer_errors = pe && strcmp(pe, "0") == 0 ? 0 : pe && strcmp(pe, "1") == 0 ? 1 : -1;
    t->eps = calloc((size_t)boot->size, sizeof *t->eps);
    t->dead = calloc((size_t)boot->size, 1);
    st = t->eps && t->dead ? make_worker(t) : RK_ERR_NOMEM;
    if (st == RK_OK) st = connect_peers(t, boot);
    if (st != RK_OK) {
        RK_ERROR("ucx transport failed to start (%s)", rk_status_str(st));
        ucx_destroy(t);
        return st;
    }
    snprintf(t->desc, sizeof t->desc,
             "ucx %s (active messages, UCX_TLS=%s, peer error handling %s; %d peer(s) on this machine without it)",
             ucp_get_version_string(), tls ? tls : "default",
             t->peer_errors < 0 ? "to other machines" : t->peer_errors ? "on" : "off", t->shm_peers);
    *out = t;
    return RK_OK;
}

/*
 * A send to @p dest failed with @p status: RK_ERR_PEER when the endpoint is
 * gone (an error it reported, or one of the errors a dead or vanished peer
 * causes), else RK_ERR_TRANSPORT. A peer that already finished and exited looks
 * the same as one that crashed: its endpoint is dead either way.
 */
static rk_status_t send_error(rk_transport_t *t, int dest, ucs_status_t status)
{
    switch (status) {
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_REJECTED:
    case UCS_ERR_NOT_CONNECTED:
    case UCS_ERR_CANCELED: mark_dead(t, dest); break;
    default: break;
    }
    return t->dead[dest] ? RK_ERR_PEER : RK_ERR_TRANSPORT;
}

/* Send @p data; with @p owned it is a malloc'd buffer we keep until completion and free. */
static rk_status_t send_frame(rk_transport_t *t, int dest, void *data, size_t len, int owned)
{
    ucp_request_param_t rp;
    ucs_status_ptr_t req;
    pending_send_t *ps;
    void *copy = owned ? data : NULL;
    int rndv = len >= RNDV_MIN;

    if (t->dead[dest]) {
        free(copy);
        return RK_ERR_PEER;
    }
    memset(&rp, 0, sizeof rp);
    if (!rndv) { /* eager, straight from the caller's buffer if UCX can finish now */
        rp.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS | UCP_OP_ATTR_FLAG_FORCE_IMM_CMPL;
        rp.flags = UCP_AM_SEND_FLAG_EAGER;
        req = ucp_am_send_nbx(t->eps[dest], AM_ID, &t->my_rank_hdr, sizeof t->my_rank_hdr, data, len, &rp);
        if (req == NULL) {
            free(copy);
            return RK_OK;
        }
        if (UCS_PTR_STATUS(req) != UCS_ERR_NO_RESOURCE) {
            free(copy);
            if (UCS_PTR_IS_ERR(req)) return send_error(t, dest, UCS_PTR_STATUS(req));
            ucp_request_free(req); /* cannot happen with FORCE_IMM_CMPL, be safe */
            return RK_OK;
        }
    }
    if (!copy && (copy = malloc(len ? len : 1)) != NULL) memcpy(copy, data, len);
    ps = malloc(sizeof *ps);
    if (!copy || !ps) {
        free(copy);
        free(ps);
        return RK_ERR_NOMEM;
    }
    ps->t = t;
    ps->buf = copy;
    ps->rndv = rndv;
    memset(&rp, 0, sizeof rp);
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_FLAGS;
    rp.flags = rndv ? UCP_AM_SEND_FLAG_RNDV : UCP_AM_SEND_FLAG_EAGER;
    rp.cb.send = send_done;
    rp.user_data = ps;
    req = ucp_am_send_nbx(t->eps[dest], AM_ID, &t->my_rank_hdr, sizeof t->my_rank_hdr, copy, len, &rp);
    if (req == NULL) {
        free(copy);
        free(ps);
        return RK_OK;
    }
    if (UCS_PTR_IS_ERR(req)) {
        free(copy);
        free(ps);
        return send_error(t, dest, UCS_PTR_STATUS(req));
    }
    t->inflight++;
    t->rndv += (size_t)rndv;
    return RK_OK;
}

static rk_status_t ucx_send(rk_transport_t *t, int dest, const void *data, size_t len)
{
    return send_frame(t, dest, (void *)data, len, 0);
}

static rk_status_t ucx_send_take(rk_transport_t *t, int dest, void *data, size_t len)
{
    return send_frame(t, dest, data, len, 1);
}

static int ucx_progress(rk_transport_t *t)
{
    t->delivered = 0;
    while (ucp_worker_progress(t->worker)) {
    }
    return t->delivered;
}

/* Sleep on the worker's event fd until a frame (or a completion) arrives. */
static void ucx_wait(rk_transport_t *t, int timeout_ms, void (*unlock)(void *), void (*relock)(void *), void *lock)
{
    struct pollfd pfd;
    if (t->efd < 0 || ucp_worker_arm(t->worker) != UCS_OK) return; /* busy: progress again now */
    pfd.fd = t->efd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    unlock(lock);
    poll(&pfd, 1, timeout_ms);
    relock(lock);
}

static size_t ucx_pending(rk_transport_t *t) { return t->inflight; }
static size_t ucx_transferring(rk_transport_t *t) { return t->rndv; }
static int ucx_failed_peer(rk_transport_t *t) { return t->failed; }

static void close_eps(rk_transport_t *t)
{
    ucp_request_param_t rp;
    memset(&rp, 0, sizeof rp);
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    rp.flags = UCP_EP_CLOSE_FLAG_FORCE; /* peers are done: the router exchanged FIN first */
    for (int i = 0; i < t->size; i++) {
        ucs_status_ptr_t req;
        if (!t->eps[i]) continue;
        req = ucp_ep_close_nbx(t->eps[i], &rp);
        if (UCS_PTR_IS_PTR(req)) {
            while (ucp_request_check_status(req) == UCS_INPROGRESS) ucp_worker_progress(t->worker);
            ucp_request_free(req);
        }
        t->eps[i] = NULL;
    }
}

static void ucx_destroy(rk_transport_t *t)
{
    if (!t) return;
    if (t->worker) {
        for (int spins = 0; t->inflight && spins < 1000000; spins++) ucp_worker_progress(t->worker);
        if (t->eps) close_eps(t);
        ucp_worker_destroy(t->worker);
    }
    if (t->ctx) ucp_cleanup(t->ctx);
    free(t->eps);
    free(t->dead);
    free(t);
}

/* Does this UCX build register CUDA memory (a GPUDirect-capable transport)? */
static int ucx_cuda_memory(rk_transport_t *t)
{
    ucp_context_attr_t a;
    memset(&a, 0, sizeof a);
    a.field_mask = UCP_ATTR_FIELD_MEMORY_TYPES;
    if (ucp_context_query(t->ctx, &a) != UCS_OK) return 0;
    return (a.memory_types & UCS_BIT(UCS_MEMORY_TYPE_CUDA)) != 0;
}

static const char *ucx_describe(rk_transport_t *t) { return t->desc; }

/* ---- RMA ------------------------------------------------------------------ */

struct rk_tp_mem {
    ucp_mem_h memh;
    void *rkey;
    size_t rkey_len;
};

static void ucx_mem_deregister(rk_transport_t *t, rk_tp_mem_t *m)
{
    if (!m) return;
    if (m->rkey) ucp_rkey_buffer_release(m->rkey);
    if (m->memh) ucp_mem_unmap(t->ctx, m->memh);
    free(m);
}

static rk_status_t ucx_mem_register(rk_transport_t *t, void *addr, size_t len, rk_tp_mem_type_t mem_type,
                                    rk_tp_mem_t **out, const void **rkey, size_t *rkey_len)
{
    ucp_mem_map_params_t mp;
    rk_tp_mem_t *m;

    if (mem_type == RK_TP_MEM_CUDA && !ucx_cuda_memory(t)) return RK_ERR_UNSUPPORTED;
    if (!(m = calloc(1, sizeof *m))) return RK_ERR_NOMEM;
    memset(&mp, 0, sizeof mp);
    mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH |
                    UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE;
    mp.address = addr;
    mp.length = len ? len : 1;
    mp.memory_type = mem_type == RK_TP_MEM_CUDA ? UCS_MEMORY_TYPE_CUDA : UCS_MEMORY_TYPE_HOST;
    if (ucp_mem_map(t->ctx, &mp, &m->memh) != UCS_OK) m->memh = NULL;
    if (!m->memh || ucp_rkey_pack(t->ctx, m->memh, &m->rkey, &m->rkey_len) != UCS_OK || m->rkey_len > RK_TP_RKEY_MAX) {
        RK_WARN("ucx: cannot register %zu bytes for remote reads; fetches are staged", len);
        if (m->rkey_len > RK_TP_RKEY_MAX) RK_WARN("ucx: its remote key takes %zu bytes", m->rkey_len);
        ucx_mem_deregister(t, m);
        return RK_ERR_UNSUPPORTED;
    }
    *out = m;
    *rkey = m->rkey;
    *rkey_len = m->rkey_len;
    return RK_OK;
}

typedef struct get_op { /* a get in flight: where its completion goes */
    rk_transport_t *t;
    int src;
    ucp_rkey_h rkey;
    int *done;
    rk_status_t *st;
} get_op_t;

static void get_done(void *request, ucs_status_t status, void *user_data)
{
    get_op_t *g = user_data;
    rk_transport_t *t = g->t;
    *g->st = status == UCS_OK ? RK_OK : send_error(t, g->src, status);
    if (status != UCS_OK) RK_WARN("ucx: read from rank %d failed: %s", g->src, ucs_status_string(status));
    *g->done = 1;
    ucp_rkey_destroy(g->rkey);
    free(g);
    t->inflight--;
    ucp_request_free(request);
}

static rk_status_t ucx_get(rk_transport_t *t, int src, void *dst, size_t len, uint64_t raddr, const void *rkey,
                           size_t rkey_len, int *done, rk_status_t *st)
{
    ucp_request_param_t rp;
    ucs_status_ptr_t req;
    get_op_t *g;

    (void)rkey_len; /* the packed key carries its own length */
    if (src < 0 || src >= t->size || !t->eps[src]) return RK_ERR_INVALID;
    if (t->dead[src]) return RK_ERR_PEER;
    if (!(g = calloc(1, sizeof *g))) return RK_ERR_NOMEM;
    if (ucp_ep_rkey_unpack(t->eps[src], rkey, &g->rkey) != UCS_OK) {
        free(g);
        return RK_ERR_TRANSPORT;
    }
    g->t = t;
    g->src = src;
    g->done = done;
    g->st = st;
    memset(&rp, 0, sizeof rp);
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    rp.cb.send = get_done;
    rp.user_data = g;
    req = ucp_get_nbx(t->eps[src], dst, len, raddr, g->rkey, &rp);
    if (UCS_PTR_IS_PTR(req)) {
        t->inflight++;
        return RK_OK;
    }
    ucp_rkey_destroy(g->rkey);
    free(g);
    if (UCS_PTR_IS_ERR(req)) return send_error(t, src, UCS_PTR_STATUS(req));
    *st = RK_OK; /* finished in place */
    *done = 1;
    return RK_OK;
}

const rk_transport_ops_t rk_transport_ucx_ops = {
    .name = "ucx",
    .create = ucx_create,
    .send = ucx_send,
    .send_take = ucx_send_take,
    .progress = ucx_progress,
    .pending = ucx_pending,
    .transferring = ucx_transferring,
    .failed_peer = ucx_failed_peer,
    .destroy = ucx_destroy,
    .wait = ucx_wait,
    .cuda_memory = ucx_cuda_memory,
    .mem_register = ucx_mem_register,
    .mem_deregister = ucx_mem_deregister,
    .get = ucx_get,
    .describe = ucx_describe,
};
