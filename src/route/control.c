/*
 * route/control.c - control frames: kernel and subscription announcements,
 * refusals (NACK) told to senders and callers, duplicate kernels, type layout
 * exchange at sync, and the dispatch of every non-data frame.
 */
#include "route/router_internal.h"

rk_status_t ctrl_all_locked(router_t *r, uint8_t kind, const char *name, size_t name_len, uint32_t aux)
{
    rk_status_t st = RK_OK;
    for (int i = 0; i < r->boot.size; i++) {
        if (i == r->boot.rank || i == failed_rank(r)) continue;
        rk_status_t s = send_ctrl(r, i, kind, name, name_len, aux);
        if (s != RK_OK && st == RK_OK) st = s;
    }
    return st;
}

rk_status_t ctrl_all(router_t *r, uint8_t kind, const char *name, size_t name_len, uint32_t aux)
{
    pthread_mutex_lock(&r->lock);
    rk_status_t st = ctrl_all_locked(r, kind, name, name_len, aux);
    pthread_mutex_unlock(&r->lock);
    return st;
}

void router_announce_gone(router_t *r, const struct kernel *k, int failed)
{
    ctrl_all(r, FRAME_GONE, rk_host_kernel_id(k), strlen(rk_host_kernel_id(k)), failed ? 1 : 0);
}

/* NACK payload: message_id, call_id, flags, 3 zero bytes, reply_rank, src_rank (little-endian). */
#define NACK_PAYLOAD 44

void nack_to(router_t *r, int dest, const rk_refusal_t *ref)
{
    uint8_t buf[RK_FRAME_HDR + RK_ID_MAX + NACK_PAYLOAD], pl[NACK_PAYLOAD] = {0};
    frame_t f = {0};
    size_t nl = strnlen(ref->kernel, RK_ID_MAX - 1);
    if (dest < 0 || dest >= r->boot.size || dest == r->boot.rank || dest == failed_rank(r)) return;
    memcpy(pl, ref->message_id.bytes, 16);
    memcpy(pl + 16, ref->call_id.bytes, 16);
    pl[32] = ref->flags;
    frame_put32(pl + 36, (uint32_t)ref->reply_rank);
    frame_put32(pl + 40, (uint32_t)ref->src_rank);
    f.kind = FRAME_NACK;
    f.name_len = (uint16_t)nl;
    f.src_rank = (uint32_t)r->boot.rank;
    f.aux = (uint32_t)(-(int)ref->st);
    f.payload_len = NACK_PAYLOAD;
    frame_write(buf, &f, ref->kernel, pl);
    tp_send_frame(r, dest, buf, frame_size(nl, NACK_PAYLOAD));
}

/* Tell the sender and, for a call, the caller (once each). Caller holds r->lock. */
static void nack_locked(router_t *r, const rk_refusal_t *ref)
{
    nack_to(r, ref->src_rank, ref);
    if ((ref->flags & RK_MSGF_CALL) && ref->reply_rank != ref->src_rank) nack_to(r, ref->reply_rank, ref);
}

void router_nack(router_t *r, const rk_refusal_t *ref)
{
    pthread_mutex_lock(&r->lock);
    nack_locked(r, ref);
    pthread_mutex_unlock(&r->lock);
}

/* A refusal learnt here under r->lock: this rank's part, then the other ranks'. */
void refuse_locked(router_t *r, const rk_refusal_t *ref)
{
    if (rk_refusal_local(r->rt, ref)) nack_locked(r, ref);
}

static void refuse_one_locked(void *r, const rk_refusal_t *ref) { refuse_locked(r, ref); }

/* Evictions the last put on this thread caused (DROP_OLDEST). Caller holds r->lock. */
void report_evictions_locked(router_t *r) { rk_evictions_each(refuse_one_locked, r); }

rk_status_t router_inject_raw(router_t *r, int dest, const void *data, size_t len, int sequenced)
{
    uint8_t *copy = malloc(len ? len : 1);
    rk_status_t st;
    if (!copy) return RK_ERR_NOMEM;
    memcpy(copy, data, len);
    pthread_mutex_lock(&r->lock);
    st = sequenced && len >= RK_FRAME_HDR ? tp_send_frame(r, dest, copy, len) : r->ops->send(r->tp, dest, copy, len);
    if (st == RK_OK && sequenced && len >= RK_FRAME_HDR && frame_is_data(copy[4]))
        r->peers[dest].data_sent++; /* the receiver counts it: shutdown's totals must agree */
    pthread_mutex_unlock(&r->lock);
    free(copy);
    return st;
}

void router_report_dup(router_t *r, const char *id, int rank)
{
    pthread_mutex_lock(&r->lock);
    send_ctrl(r, rank, FRAME_DUP, id, strlen(id), 0);
    pthread_mutex_unlock(&r->lock);
}

rk_status_t router_announce_kernel(router_t *r, const struct kernel *k)
{
    return ctrl_all(r, FRAME_KERNEL, rk_host_kernel_id(k), strlen(rk_host_kernel_id(k)), (uint32_t)rk_host_kernel_out_strategy(k));
}

/* FRAME_SUB / FRAME_UNSUB to every peer: name = "topic\0kernel", aux = the kernel's home. */
static rk_status_t announce_topic(router_t *r, uint8_t kind, const char *topic, const struct kernel *k)
{
    char name[2 * RK_ID_MAX];
    size_t tl = strlen(topic), kl = strlen(rk_host_kernel_id(k));
    memcpy(name, topic, tl);
    name[tl] = '\0';
    memcpy(name + tl + 1, rk_host_kernel_id(k), kl);
    return ctrl_all(r, kind, name, tl + 1 + kl, (uint32_t)rk_host_kernel_home(k));
}

rk_status_t router_announce_unsub(router_t *r, const char *topic, const struct kernel *k)
{
    return announce_topic(r, FRAME_UNSUB, topic, k);
}

rk_status_t router_announce_sub(router_t *r, const char *topic, const struct kernel *k)
{
    return announce_topic(r, FRAME_SUB, topic, k);
}

/* Has the difference of type @p name been reported? Marks it when not. Caller holds r->lock. */
static int reported_before(router_t *r, const char *name)
{
    for (reported_t *x = r->reported; x; x = x->next)
        if (strcmp(x->name, name) == 0) return 1;
    reported_t *x = malloc(sizeof *x + strlen(name) + 1);
    if (x) {
        strcpy(x->name, name);
        x->next = r->reported;
        r->reported = x;
    }
    return 0;
}

static int compact_add(compact_type_t *tab, const rk_msg_type_t *t, uint32_t hash, int by_hash);

/* A peer's layout of type @p name: compared with ours, a difference reported once per type. */
void compare_type(router_t *r, int src, const char *name, const uint8_t *layout, size_t len, uint32_t hash)
{
    char why[160];
    const rk_msg_type_t *ours = rk_registry_find(r->cfg.reg, name, strlen(name));
    if (!ours) return; /* not a type this rank receives */
    /* the same block layout there: send it blocks of this type */
    if (hash && r->compact && rk_type_block_hash(ours) == hash) compact_add(r->peers[src].compact, ours, hash, 0);
    schema_diff_t d = schema_compare(ours, layout, len, why, sizeof why);
    if (d == SCHEMA_BAD) {
        bad_frame(r, src, "type layout", RK_ERR_DECODE);
        return;
    }
    if (d == SCHEMA_CLASH) r->schema_clash = 1;
    if (d == SCHEMA_SAME || reported_before(r, name)) return;
    if (d == SCHEMA_CLASH)
        RK_ERROR("message type '%s' differs between rank %d (here) and rank %d: %s; its messages cannot be read "
                 "across these ranks",
                 name, r->boot.rank, src, why);
    else
        RK_WARN("message type '%s' differs between rank %d (here) and rank %d: %s (messages still decode: missing "
                "fields take their defaults, unknown ones are ignored)",
                name, r->boot.rank, src, why);
}

/* Append one type's layout frame (rk_registry_each callback; no router lock held). */
/* ---- the compact form's type tables (router_internal.h) ---- */

static unsigned slot_of_ptr(const void *p) { return (unsigned)(((uintptr_t)p >> 4) * 2654435761u) % COMPACT_SLOTS; }

/* Add (type, hash) to a table keyed by type (@p by_hash 0) or by hash; 0 when full. */
static int compact_add(compact_type_t *tab, const rk_msg_type_t *t, uint32_t hash, int by_hash)
{
    unsigned i = by_hash ? (hash * 2654435761u) % COMPACT_SLOTS : slot_of_ptr(t);
    for (unsigned n = 0; n < COMPACT_SLOTS; n++, i = (i + 1) % COMPACT_SLOTS) {
        const rk_msg_type_t *have = __atomic_load_n(&tab[i].type, __ATOMIC_ACQUIRE);
        uint32_t h = __atomic_load_n(&tab[i].hash, __ATOMIC_ACQUIRE);
        if (by_hash ? h == hash : have == t) return 1; /* known already */
        if (by_hash ? h != 0 : have != NULL) continue;
        if (by_hash) { /* readers match the hash, then read the type */
            __atomic_store_n(&tab[i].type, t, __ATOMIC_RELEASE);
            __atomic_store_n(&tab[i].hash, hash, __ATOMIC_RELEASE);
        } else { /* readers match the type, then read the hash */
            __atomic_store_n(&tab[i].hash, hash, __ATOMIC_RELEASE);
            __atomic_store_n(&tab[i].type, t, __ATOMIC_RELEASE);
        }
        return 1;
    }
    return 0;
}

const compact_type_t *compact_for_peer(router_t *r, int peer, const rk_msg_type_t *t)
{
    compact_type_t *tab = r->peers[peer].compact;
    unsigned i = slot_of_ptr(t);
    for (unsigned n = 0; n < COMPACT_SLOTS; n++, i = (i + 1) % COMPACT_SLOTS) {
        const rk_msg_type_t *have = __atomic_load_n(&tab[i].type, __ATOMIC_ACQUIRE);
        if (have == t) return &tab[i];
        if (!have) return NULL;
    }
    return NULL;
}

const rk_msg_type_t *compact_local_type(router_t *r, uint32_t hash)
{
    unsigned i = (hash * 2654435761u) % COMPACT_SLOTS;
    if (!hash) return NULL;
    for (unsigned n = 0; n < COMPACT_SLOTS; n++, i = (i + 1) % COMPACT_SLOTS) {
        uint32_t h = __atomic_load_n(&r->local_types[i].hash, __ATOMIC_ACQUIRE);
        if (h == hash) return __atomic_load_n(&r->local_types[i].type, __ATOMIC_ACQUIRE);
        if (!h) return NULL;
    }
    return NULL;
}

void add_type_frame(void *arg, const rk_msg_type_t *t)
{
    type_frames_t *tf = arg;
    uint8_t layout[RK_SCHEMA_MAX];
    frame_t f = {0};
    size_t nl = strlen(t->name), need;
    if (nl > RK_FRAME_NAME_MAX) return;
    f.kind = FRAME_TYPE;
    f.name_len = (uint16_t)nl;
    f.src_rank = (uint32_t)tf->r->boot.rank;
    /* aux: the block layout hash, when this rank reads the type as a block (before peers can send one) */
    f.aux = tf->r->compact ? rk_type_block_hash(t) : 0;
    if (f.aux && !compact_add(tf->r->local_types, t, f.aux, 1)) f.aux = 0;
    f.payload_len = (uint32_t)schema_encode(t, layout);
    need = frame_size(nl, f.payload_len);
    if (tf->len + need > tf->cap) {
        size_t cap = (tf->len + need) * 2;
        uint8_t *nb = realloc(tf->buf, cap);
        if (!nb) return;
        tf->buf = nb;
        tf->cap = cap;
    }
    frame_write(tf->buf + tf->len, &f, t->name, layout);
    tf->len += need;
}

/* Send the collected layout frames to every live peer. Caller holds r->lock. */
void send_type_frames(router_t *r, const type_frames_t *tf)
{
    for (size_t at = 0; at < tf->len;) {
        size_t len = (size_t)frame_span(tf->buf + at);
        for (int i = 0; i < r->boot.size; i++)
            if (i != r->boot.rank && i != failed_rank(r)) tp_send_frame(r, i, tf->buf + at, len);
        at += len;
    }
}

void handle_ctrl(router_t *r, int src, const frame_t *f)
{
    char name[RK_FRAME_NAME_MAX + 1];
    peer_t *p = &r->peers[src];

    memcpy(name, f->name, f->name_len);
    name[f->name_len] = '\0';
    switch (f->kind) {
    case FRAME_KERNEL:
        if (rk_host_learn_kernel(r->rt, name, src, f->aux <= RK_BP_DROP_OLDEST ? (int)f->aux : -1) ==
            RK_ERR_EXISTS) {
            r->dup_detected = 1; /* both owners learn it: here, and the peer through DUP */
            send_ctrl(r, src, FRAME_DUP, f->name, f->name_len, 0);
        }
        break;
    case FRAME_DUP:
        RK_ERROR("kernel_id '%s' is also launched on rank %d: duplicate kernel_id", name, src);
        r->dup_detected = 1;
        break;
    case FRAME_SUB: {
        size_t tl = strnlen(name, f->name_len);
        if (tl >= f->name_len || tl == 0 || tl >= RK_ID_MAX) {
            bad_frame(r, src, "subscription", RK_ERR_DECODE);
            break;
        }
        rk_host_learn_sub(r->rt, name, name + tl + 1, (int)f->aux);
        break;
    }
    case FRAME_UNSUB: {
        size_t tl = strnlen(name, f->name_len);
        if (tl >= f->name_len || tl == 0 || tl >= RK_ID_MAX) {
            bad_frame(r, src, "unsubscription", RK_ERR_DECODE);
            break;
        }
        rk_host_forget_sub(r->rt, name, name + tl + 1);
        break;
    }
    case FRAME_CREDIT: {
        flow_t *fl = get_flow(r, src, f->priority, f->name, f->name_len);
        if (fl) { /* the reserve is refilled first */
            uint32_t back = RESERVE_CREDITS - fl->reserve < f->aux ? RESERVE_CREDITS - fl->reserve : f->aux;
            fl->reserve += back;
            fl->credits += f->aux - back;
        }
        flush_peer(r, src);
        break;
    }
    case FRAME_NACK: {
        rk_refusal_t ref = {0};
        const uint8_t *pl = f->payload;
        if (f->payload_len != NACK_PAYLOAD || f->name_len == 0 || f->name_len >= RK_ID_MAX) {
            bad_frame(r, src, "refusal", RK_ERR_DECODE);
            break;
        }
        memcpy(ref.kernel, name, f->name_len + 1);
        memcpy(ref.message_id.bytes, pl, 16);
        memcpy(ref.call_id.bytes, pl + 16, 16);
        ref.flags = pl[32] & RK_MSGF_MASK;
        ref.reply_rank = (int32_t)frame_get32(pl + 36);
        ref.src_rank = (int32_t)frame_get32(pl + 40);
        ref.st = (rk_status_t)(-(int32_t)f->aux);
        rk_host_refused_remote(r->rt, &ref); /* counters, the event or the future here; nothing passed on */
        break;
    }
    case FRAME_SYNC:
        if (f->aux > p->sync_seen) p->sync_seen = f->aux;
        break;
    case FRAME_FIN:
        if (f->aux > p->fin_seen) p->fin_seen = f->aux;
        break;
    case FRAME_BUF_GET: serve_buffer(r, src, name, f->aux); break;
    case FRAME_BUF_RGET: serve_buffer_rma(r, src, name, f->aux); break;
    case FRAME_BUF_KEY: offer_fetch(r, src, f); break;
    case FRAME_BUF_DONE: lend_done(r, src, f->aux); break;
    case FRAME_GONE:
        rk_host_kernel_gone(r->rt, name, src, f->aux == 1);
        break;
    case FRAME_BUF_DATA: complete_fetch(r, f); break;
    case FRAME_TYPE: { /* kept: this rank may still be registering its own types */
        layout_t *l = malloc(sizeof *l + f->payload_len + f->name_len + 1);
        if (!l) break;
        l->src = src;
        l->hash = f->aux;
        l->len = f->payload_len;
        memcpy(l->bytes, f->payload, f->payload_len);
        l->name = (char *)l->bytes + f->payload_len;
        memcpy(l->name, name, f->name_len + 1);
        l->next = r->layouts;
        r->layouts = l;
        break;
    }
    case FRAME_ROUND: {
        const uint8_t *pl = f->payload;
        if (f->payload_len != ROUND_PAYLOAD || f->aux == 0) {
            bad_frame(r, src, "shutdown round", RK_ERR_DECODE);
            break;
        }
        p->round_sent[f->aux & 1] = frame_get64(pl);
        p->round_recv[f->aux & 1] = frame_get64(pl + 8);
        p->round_quiet[f->aux & 1] = pl[16];
        if (f->aux > p->round_seen) p->round_seen = f->aux;
        break;
    }
    default: break;
    }
}
