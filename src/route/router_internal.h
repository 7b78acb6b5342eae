/*
 * route/router_internal.h - the router's state, shared by the files of src/route/
 * that each own one concern of it:
 *   router.c (frames in sequence, progress, waits, sync, life)
 *   send.c (flows, credits, priority send queues, batching)
 *   deliver.c (data frames into mailboxes, waiting deliveries)
 *   control.c (announcements, refusals, type layouts, control frames)
 *   buffers.c (buffer fetch and serving)
 * Locking: r->lock serializes the transport and all peer state (see router.c).
 */
#ifndef RK_ROUTE_ROUTER_INTERNAL_H
#define RK_ROUTE_ROUTER_INTERNAL_H

#include "route/router.h"

#include "route/frame.h"
#include "route/liveness.h"
#include "util/log.h"
#include "queue/mailbox_hook.h"
#include "msg/schema.h"
#include "msg/msg_internal.h"
#include "util/spin.h"
#include "util/timeutil.h"
#include "transport/transport.h"

#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTQ_PER_CREDIT 4
#define RESERVE_CREDITS 8 /* per flow, for frames above RK_PRIORITY_DEFAULT once the credits are spent */
#define BATCH_BYTES_DEFAULT 65536
#define BATCH_BYTES_MAX (64u << 20)
#define TAKE_MIN (64 * 1024) /* frames this large leave in their own buffer, handed to the transport */
#define WAIT_LIMIT_US (120LL * 1000000) /* sync / shutdown waits give up after this */

#define RK_FRAME_FIELDS(F) F(rk_frame_msg, data, BYTES, _)
RK_MESSAGE_DECLARE(rk_frame_msg, RK_FRAME_FIELDS)

typedef struct held_frame { /* arrived ahead of sequence */
    struct held_frame *next;
    uint32_t seq;
    size_t len;
    uint8_t data[];
} held_frame_t;

typedef struct delivery { /* a decoded message waiting for mailbox room */
    struct delivery *next;
    struct kernel *k;
    rk_msg_t *msg;
    int to_outbox;
    int credit; /* return a credit when this one is done */
    rk_mailbox_t *waits_on; /* the inbox it is registered with as a waiting put (rk_mailbox_waiter), or NULL */
    int prio;
} delivery_t;

/* A delivery that leaves the wait list withdraws its registration. */
static inline void delivery_done(delivery_t *d)
{
    if (d->waits_on) rk_mailbox_waiter(d->waits_on, d->prio, -1);
    d->waits_on = NULL;
}

/*
 * A flow is one (peer rank, frame kind, kernel or topic) stream. Credits are
 * counted per flow, within the pair of ranks: a kernel that stops draining
 * holds back only the flows into it, never another kernel's traffic between
 * the same two ranks, so pipelines that cross back and forth between ranks
 * cannot deadlock on a shared credit pool. Flows live until shutdown.
 */
typedef struct flow {
    struct flow *peer_next, *hash_next;
    int peer;
    uint8_t kind;
    uint16_t name_len;
    char name[RK_FRAME_NAME_MAX + 1];
    uint32_t credits;           /* sending: frames we may still send */
    uint32_t reserve;           /* sending: of RESERVE_CREDITS, those left for frames above the default priority */
    rk_mailbox_t *outq;         /* sending: frames waiting for credits, by priority */
    uint32_t to_return;         /* receiving: credits owed to the peer */
    delivery_t *pend_head, *pend_tail; /* receiving: waiting for mailbox room */
} flow_t;

#define FLOW_BUCKETS 1024

/*
 * Types that travel in the compact form (msg/compact.c): per peer, the types
 * whose block layout the peer announced identical to ours (keyed by type); on
 * this rank, our types by layout hash (what a compact frame names). Filled at
 * rk_runtime_sync, only ever added to, read without a lock.
 */
#define COMPACT_SLOTS 64
typedef struct compact_type {
    const rk_msg_type_t *type;
    uint32_t hash;
} compact_type_t;

typedef struct peer {
    uint32_t send_seq, recv_seq;
    compact_type_t compact[COMPACT_SLOTS]; /* our types it reads as blocks */
    held_frame_t *held;
    flow_t *flows;
    uint32_t sync_seen, fin_seen;
    uint64_t data_sent, data_recv;  /* data frames to / from this peer (shutdown's counting) */
    uint32_t round_seen;            /* the peer's latest ROUND report */
    uint64_t round_sent[2], round_recv[2]; /* its totals in rounds of each parity */
    uint8_t round_quiet[2];
    rk_peer_stats_t stats;
    uint64_t batches_sent, batched_frames; /* batches sent and the frames inside them */
} peer_t;

typedef struct reported { /* a type name whose layout difference was logged */
    struct reported *next;
    char name[];
} reported_t;

typedef struct layout { /* a peer's type layout, compared at the end of rk_runtime_sync */
    struct layout *next;
    int src;
    uint32_t hash; /* its block layout hash (0: it does not read this type as a block) */
    size_t len;
    char *name;
    uint8_t bytes[];
} layout_t;

typedef struct fetch { /* a buffer fetch waiting for its reply */
    struct fetch *next;
    uint32_t token;
    void *dst;
    size_t cap, *len;
    rk_status_t st;
    int done;
    /* an RMA offer (FRAME_BUF_KEY): read it, then say FRAME_BUF_DONE */
    int offered;
    uint64_t raddr, rsize;
    uint32_t lend_id;
    uint8_t *rkey;
    size_t rkey_len;
} fetch_t;

typedef struct reg { /* a transport registration of buffer memory, kept while the memory lives */
    struct reg *next;
    void *base;
    size_t cap;
    int device;
    rk_tp_mem_t *mem;
    const void *rkey;
    size_t rkey_len;
} reg_t;

typedef struct lend { /* a buffer lent to a peer for a read by RMA */
    struct lend *next;
    uint32_t id;
    int peer;
    void *buf;
} lend_t;

struct router {
    rk_runtime_t *rt;
    router_config_t cfg;
    rk_boot_t boot;
    const rk_transport_ops_t *ops;
    rk_transport_t *tp;
    pthread_mutex_t lock;
    peer_t *peers;
    flow_t *buckets[FLOW_BUCKETS];
    uint32_t credits_init;
    size_t batch_cap;   /* largest batch in bytes; 0 = batching off */
    uint8_t *batch_buf; /* batch_cap bytes, used under lock by flush_peer */
    uint32_t sync_epoch;
    int failed_peer;
    int busy; /* the transport had large transfers under way after the last progress call (atomic) */
    int dup_detected;
    int closing; /* FIN 2 sent: nothing more may go out (MPI may reuse the communicator) */
    int draining; /* router_drain runs: outputs nobody can read any more are not waited for */
    liveness_t *live; /* failure detection on every transport (liveness.c) */
    int schema_clash; /* a type's field has another kind on a peer: rk_runtime_sync says RK_ERR_TYPE */
    struct reported *reported; /* types whose difference was reported already */
    layout_t *layouts;         /* peers' layouts received, not yet compared */
    int compact;               /* the compact form is on ($RINGMESH_COMPACT, default 1) */
    compact_type_t local_types[COMPACT_SLOTS]; /* our types by block layout hash */
    unsigned live_tick;
    pthread_t thread;
    int stop;
    uint64_t bad_frames, undeliverable;
    fetch_t *fetches;
    uint32_t next_token;
    int rma;       /* fetch by RMA when the transport can ($RINGMESH_RMA, default 1) */
    reg_t *regs;   /* registered buffer memory */
    lend_t *lends; /* buffers peers are reading */
    uint32_t next_lend;
    char buffer_path[128];
};

#define ROUND_PAYLOAD 17 /* data frames sent (u64), received (u64), quiet (u8), little-endian */
#define NACK_PAYLOAD 44 /* message_id, call id, flags, reply rank, source rank */

typedef struct type_frames { /* every registered type's layout as a FRAME_TYPE, back to back */
    router_t *r;
    uint8_t *buf;
    size_t len, cap;
} type_frames_t;

#pragma GCC visibility push(hidden)

/* router.c */
int failed_rank(router_t *r);
void mark_failed(router_t *r, int rank);
int progress_locked(router_t *r);

/* send.c */
void flush_peer(router_t *r, int dest);
flow_t *get_flow(router_t *r, int peer, uint8_t kind, const char *name, size_t len);
rk_status_t send_ctrl(router_t *r, int dest, uint8_t kind, const char *name, size_t name_len, uint32_t aux);
rk_status_t tp_send_frame(router_t *r, int dest, uint8_t *frame, size_t len);
rk_status_t tp_send_frames(router_t *r, int dest, uint8_t *bytes, size_t len, uint32_t nframes, int take);
void payload_buf_drop(void);

/* deliver.c */
void bad_frame(router_t *r, int src, const char *what, rk_status_t st);
void handle_data(router_t *r, int src, const frame_t *f);
int retry_pending(router_t *r);

/* control.c */
const compact_type_t *compact_for_peer(router_t *r, int peer, const rk_msg_type_t *t);
const rk_msg_type_t *compact_local_type(router_t *r, uint32_t hash);
void add_type_frame(void *arg, const rk_msg_type_t *t);
void compare_type(router_t *r, int src, const char *name, const uint8_t *layout, size_t len, uint32_t hash);
rk_status_t ctrl_all(router_t *r, uint8_t kind, const char *name, size_t name_len, uint32_t aux);
rk_status_t ctrl_all_locked(router_t *r, uint8_t kind, const char *name, size_t name_len, uint32_t aux);
void handle_ctrl(router_t *r, int src, const frame_t *f);
void nack_to(router_t *r, int dest, const rk_refusal_t *ref);
void refuse_locked(router_t *r, const rk_refusal_t *ref);
void report_evictions_locked(router_t *r);
void send_type_frames(router_t *r, const type_frames_t *tf);

/* buffers.c */
void complete_fetch(router_t *r, const frame_t *f);
void serve_buffer(router_t *r, int src, const char *name, uint32_t token);
/** FRAME_BUF_RGET: lend the buffer for an RMA read (or answer with its bytes when that cannot be). */
void serve_buffer_rma(router_t *r, int src, const char *name, uint32_t token);
/** FRAME_BUF_KEY: the owner's offer for one of our fetches. */
void offer_fetch(router_t *r, int src, const frame_t *f);
/** FRAME_BUF_DONE: peer @p src has read lend @p id. */
void lend_done(router_t *r, int src, uint32_t id);
/** Return every buffer @p peer (or every peer, -1) has on loan; with @p all, drop registrations too. */
void buffers_drop(router_t *r, int peer, int all);

#pragma GCC visibility pop

#endif
