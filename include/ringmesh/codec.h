/**
 * @file ringmesh/codec.h
 * @brief msgpack wire format and the type registry.
 *
 * The wire form is the seed's Python reference format: a msgpack map keyed by
 * field name: user fields in declaration order, then message_id, priority,
 * correlation_id (nil when none), then "__type__": "<TypeName>". UUIDs are
 * written as {"__uuid_bin__": bin16}; the decoder also accepts a bare bin 16
 * and the 36-character string. Datetimes are ISO-8601 strings. OPT_UUID and
 * OPT_DATETIME are nil when absent, else written as UUID / DATETIME; UINT
 * takes any non-negative msgpack integer up to 2^64-1. Unknown keys are
 * ignored and missing keys keep their zero / nil defaults (message versioning).
 * The decoder never trusts its input: every length is bounds-checked, every
 * kind checked, and on failure nothing is allocated that is not freed.
 *
 * Thread safety: serializing and deserializing are thread-safe (each call
 * uses only its arguments); an rk_buf_t or a message must not be used by two
 * threads at once. A registry is read-only after start-up: rk_registry_find()
 * and the decoders may run concurrently, but not alongside rk_registry_add().
 */
#ifndef RINGMESH_CODEC_H
#define RINGMESH_CODEC_H

#include "ringmesh/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A growable byte buffer owned by the caller (reuse it to avoid allocations). */
typedef struct rk_buf {
    uint8_t *data; /**< the bytes (malloc'd by the codec; NULL when empty) */
    size_t len;    /**< bytes in use */
    size_t cap;    /**< bytes allocated */
} rk_buf_t;

/** Make @p b an empty buffer (no allocation). Call before first use. */
void rk_buf_init(rk_buf_t *b);
/** Release the buffer's memory; the struct may be reused after rk_buf_init. */
void rk_buf_free(rk_buf_t *b);

/** Largest encoded message accepted by the decoder by default (16 MiB). */
#define RK_CODEC_MAX_DEFAULT (16u << 20)

/** Maps `__type__` names to descriptors. Opaque; not thread-safe for register. */
typedef struct rk_registry rk_registry_t;

/** Create an empty registry. Ownership: *out is the caller's (rk_registry_destroy). */
rk_status_t rk_registry_create(rk_registry_t **out);
/** Free a registry (not the descriptors it names). NULL is a no-op. */
void rk_registry_destroy(rk_registry_t *reg);
/**
 * Register a type; RK_ERR_EXISTS when another descriptor has the same name.
 * The registry keeps the pointer: @p type must outlive it (descriptors made by
 * RK_MESSAGE_DEFINE are static). Not thread-safe: register at start-up.
 */
rk_status_t rk_registry_add(rk_registry_t *reg, const rk_msg_type_t *type);
/** Resolve a name (not NUL-terminated: @p len bytes); NULL when unknown. Thread-safe. */
const rk_msg_type_t *rk_registry_find(const rk_registry_t *reg, const char *name, size_t len);

/**
 * Serialize @p msg into @p out (out->len is set; out->data is reused/grown).
 * RK_ERR_MALFORMED when the block does not validate, RK_ERR_NOMEM when the
 * buffer cannot grow, RK_ERR_INVALID for NULL arguments. @p msg is not changed.
 */
rk_status_t rk_msg_serialize(const rk_msg_t *msg, rk_buf_t *out);

/**
 * Deserialize bytes into a new message, resolving `__type__` through @p reg.
 * @p max_len limits input size (0 = RK_CODEC_MAX_DEFAULT).
 * Errors: RK_ERR_TRUNCATED, RK_ERR_DECODE (garbage / wrong kinds),
 * RK_ERR_TOO_LARGE, RK_ERR_TYPE (no or unknown `__type__`), RK_ERR_PRIORITY.
 * Ownership: *out is the caller's (rk_msg_free); untouched on error.
 */
rk_status_t rk_msg_deserialize(const rk_registry_t *reg, const void *data, size_t len,
                               size_t max_len, rk_msg_t **out);

/** Like rk_msg_deserialize but for a known type; a differing `__type__` is RK_ERR_TYPE. */
rk_status_t rk_msg_deserialize_as(const rk_msg_type_t *type, const void *data, size_t len,
                                  size_t max_len, rk_msg_t **out);

/** Format microseconds since the epoch as ISO-8601 ("2026-11-25T11:43:40.123456+00:00"). */
void rk_datetime_format(int64_t us, char out[40]);
/** Parse ISO-8601 (date, 'T' or ' ', time, optional fraction, optional Z/+hh:mm). */
rk_status_t rk_datetime_parse(const char *s, size_t len, int64_t *us);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_CODEC_H */
