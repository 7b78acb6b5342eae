/*
 * frame.h - the router's wire frame: a fixed 24-byte little-endian header,
 * a name (kernel id or topic) and a msgpack payload.
 *
 *   0 magic u32 "RKF1" | 4 kind u8 | 5 priority u8 | 6 name_len u16
 *   8 seq u32 | 12 src_rank u32 | 16 aux u32 | 20 payload_len u32
 *   24 name[name_len] | payload[payload_len]
 *
 * frame_parse never trusts its input: the lengths must add up to exactly the
 * bytes received and the kind must be known, or it returns RK_ERR_DECODE.
 *
 * A batch (kind FRAME_BATCH) carries several frames in one transport message:
 * name_len 0, aux = the number of frames, seq = the first frame's seq (for
 * reading a capture; the receiver ignores it), priority = the highest priority
 * inside, and a payload that is exactly `aux` complete frames back to back,
 * each with its own header and sequence number. A batch never nests. The
 * receiver splits it and processes each frame as if it had arrived alone.
 * frame_parse checks a batch completely (every inner frame parses and has
 * the batch's src_rank, no nesting, exactly aux frames, no bytes left over)
 * before returning RK_OK.
 */
#ifndef RK_FRAME_H
#define RK_FRAME_H

#include "ringmesh/status.h"

#include <stddef.h>
#include <stdint.h>

#define RK_FRAME_MAGIC 0x31464b52u
#define RK_FRAME_HDR 24
#define RK_FRAME_NAME_MAX 256

typedef enum frame_kind {
    FRAME_MSG = 1,    /* payload to a kernel's inbox (name = kernel id) */
    FRAME_OUTPUT,     /* a kernel's output to its outbox on this rank */
    FRAME_PUBLISH,    /* payload for this rank's subscribers of a topic */
    FRAME_KERNEL,     /* announce: kernel `name` lives on src_rank */
    FRAME_SUB,        /* announce: name = "topic\0kernel" */
    FRAME_CREDIT,     /* aux credits returned */
    FRAME_NACK,       /* a message refused at kernel `name`: aux = -status; payload: ids and ranks (router.c) */
    FRAME_SYNC,       /* aux = sync epoch */
    FRAME_FIN,        /* aux = shutdown phase */
    FRAME_DUP,        /* your kernel `name` duplicates one on src_rank */
    FRAME_BUF_GET,    /* send me buffer `name` (16 hex digits); aux = request token */
    FRAME_BUF_DATA,   /* buffer bytes for request aux; priority = 0 ok, else an rk_status_t negated */
    FRAME_GONE,       /* kernel `name` on src_rank has terminated (aux 0) or failed (aux 1) */
    FRAME_BATCH,      /* aux frames back to back in the payload (see above) */
    FRAME_UNSUB,      /* announce: name = "topic\0kernel" no longer subscribes */
    FRAME_ROUND,      /* shutdown: aux = round; payload: data frames sent, received, quiet (router.c) */
    FRAME_PING,       /* heartbeat to a peer on another machine (liveness.c); nothing to do */
    FRAME_TYPE,       /* the layout of the sender's message type `name` (schema.c), sent at sync */
    FRAME_BUF_RGET,   /* let me read buffer `name` by RMA; aux = request token (answer: BUF_KEY or BUF_DATA) */
    FRAME_BUF_KEY,    /* buffer `name` lent for request aux; payload: address, size, lend id, memory type, key */
    FRAME_BUF_DONE,   /* the read of lend aux is over: the owner may reuse the memory */
    FRAME_KIND_MAX_
} frame_kind_t;

typedef struct frame {
    uint8_t kind, priority;
    uint16_t name_len;
    uint32_t seq, src_rank, aux, payload_len;
    const char *name;       /* points into the parsed bytes, not NUL-terminated */
    const uint8_t *payload; /* points into the parsed bytes */
} frame_t;

/* Little-endian fields of frames and their payloads. */
static inline void frame_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t frame_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void frame_put64(uint8_t *p, uint64_t v)
{
    frame_put32(p, (uint32_t)v);
    frame_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint64_t frame_get64(const uint8_t *p) { return frame_get32(p) | (uint64_t)frame_get32(p + 4) << 32; }
/** Bytes of the whole frame whose header (RK_FRAME_HDR bytes) starts at @p hdr, as its lengths say. */
static inline uint64_t frame_span(const uint8_t *hdr)
{
    return (uint64_t)RK_FRAME_HDR + (uint16_t)(hdr[6] | hdr[7] << 8) + frame_get32(hdr + 20);
}

/** Frames that carry a message and spend a flow credit. */
static inline int frame_is_data(uint8_t kind)
{
    return kind == FRAME_MSG || kind == FRAME_OUTPUT || kind == FRAME_PUBLISH;
}

/** Frames that may carry a payload. */
static inline int frame_has_payload(uint8_t kind)
{
    return frame_is_data(kind) || kind == FRAME_BUF_DATA || kind == FRAME_BATCH || kind == FRAME_NACK ||
           kind == FRAME_ROUND || kind == FRAME_TYPE || kind == FRAME_BUF_KEY;
}

/** Bytes needed for a frame with these lengths. */
static inline size_t frame_size(size_t name_len, size_t payload_len) { return RK_FRAME_HDR + name_len + payload_len; }
/** Write only the RK_FRAME_HDR header bytes of @p f into @p out. */
void frame_write_hdr(uint8_t *out, const frame_t *f);
/** Write a frame into @p out (frame_size bytes). */
void frame_write(uint8_t *out, const frame_t *f, const void *name, const void *payload);
/** Patch the seq field of an encoded frame. */
void frame_set_seq(uint8_t *frame, uint32_t seq);
/** Parse and check @p len bytes; the result points into @p data. */
rk_status_t frame_parse(const void *data, size_t len, frame_t *out);

/**
 * Step through a batch parsed by frame_parse: *@p off starts at 0. Returns
 * RK_OK with the next inner frame in *@p sub and its raw bytes in
 * *@p raw / *@p raw_len, RK_ERR_NOT_FOUND after the last one, or the parse
 * error of a malformed inner frame (never reads outside the batch payload).
 */
rk_status_t frame_batch_next(const frame_t *batch, size_t *off, frame_t *sub, const uint8_t **raw, size_t *raw_len);

#endif
