/*
 * schema.h - comparing message layouts between ranks (schema.c). At
 * rk_runtime_sync every rank sends its peers the layout of each registered
 * type; a receiver compares it with its own type of that name. Fields added
 * or left out are versioning and only reported (once per type); a field of
 * one name with different kinds is an error that sync returns.
 */
#ifndef RK_SCHEMA_H
#define RK_SCHEMA_H

#include "ringmesh/message.h"

#include <stddef.h>
#include <stdint.h>

/** Largest encoded layout (a type with more fields is sent truncated and compared as far as it goes). */
#define RK_SCHEMA_MAX 4096

/** Encode @p t's fields into @p out (at most RK_SCHEMA_MAX bytes); returns the length. */
size_t schema_encode(const rk_msg_type_t *t, uint8_t *out);

/** What comparing a peer's layout with ours found. */
typedef enum schema_diff {
    SCHEMA_SAME = 0,
    SCHEMA_VERSION, /* fields only here or only there: messages still decode (defaults, ignored keys) */
    SCHEMA_CLASH,   /* a field of one name with another kind: its values cannot decode */
    SCHEMA_BAD      /* the peer's encoding is malformed */
} schema_diff_t;

/**
 * Compare @p len bytes of a peer's layout with @p ours; a human-readable
 * account of the first difference goes into @p why (@p cap bytes).
 */
schema_diff_t schema_compare(const rk_msg_type_t *ours, const uint8_t *theirs, size_t len, char *why, size_t cap);

#endif
