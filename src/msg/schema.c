/*
 * schema.c - a message type's layout as bytes, and the comparison of a
 * peer's layout with ours (schema.h).
 *
 * Encoding, per field in declaration order: name, NUL, kind (u8), element
 * kind (u8; an ARRAY's dtype), the nested type's name (MSG and LIST_MSG fields,
 * else empty), NUL. The
 * decoder never trusts it: every name must end inside the bytes.
 */
#include "msg/schema.h"

#include <stdio.h>
#include <string.h>

/* The element byte: the element kind, or an ARRAY's dtype. */
static unsigned elem_code(const rk_field_t *f) { return f->kind == RK_KIND_ARRAY ? (unsigned)f->dtype : (unsigned)f->elem; }

static const char *kind_name(unsigned k)
{
    static const char *names[] = {"NONE", "INT",      "FLOAT", "BOOL", "STR",   "BYTES", "OPT_INT", "OPT_FLOAT",
                                  "OPT_BOOL", "UUID", "DATETIME", "LIST", "TUPLE", "DICT", "MSG",
                                  "OPT_UUID", "OPT_DATETIME", "UINT", "ARRAY", "LIST_LIST", "LIST_MSG"};
    _Static_assert(sizeof names / sizeof names[0] == RK_KIND_COUNT_, "a name for every field kind");
    return k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static size_t put_str(uint8_t *out, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n + 1 > RK_SCHEMA_MAX) return 0;
    memcpy(out + at, s, n + 1);
    return n + 1;
}

size_t schema_encode(const rk_msg_type_t *t, uint8_t *out)
{
    size_t at = 0;
    for (uint32_t i = 0; i < t->nfields; i++) {
        const rk_field_t *f = &t->fields[i];
        const rk_msg_type_t *nested = (f->kind == RK_KIND_MSG || f->kind == RK_KIND_LIST_MSG) && f->nested ? f->nested() : NULL;
        size_t start = at, n = put_str(out, at, f->name);
        if (!n || at + n + 2 > RK_SCHEMA_MAX) return start;
        at += n;
        out[at++] = (uint8_t)f->kind;
        out[at++] = (uint8_t)elem_code(f);
        n = put_str(out, at, nested ? nested->name : "");
        if (!n) return start;
        at += n;
    }
    return at;
}

/* The string at @p at, or NULL when it does not end inside the bytes. */
static const char *get_str(const uint8_t *b, size_t len, size_t *at)
{
    const uint8_t *end = *at < len ? memchr(b + *at, 0, len - *at) : NULL;
    if (!end) return NULL;
    const char *s = (const char *)b + *at;
    *at = (size_t)(end - b) + 1;
    return s;
}

static const rk_field_t *field_named(const rk_msg_type_t *t, const char *name)
{
    for (uint32_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0) return &t->fields[i];
    return NULL;
}

schema_diff_t schema_compare(const rk_msg_type_t *ours, const uint8_t *theirs, size_t len, char *why, size_t cap)
{
    schema_diff_t diff = SCHEMA_SAME;
    uint32_t seen = 0;
    size_t at = 0;
    why[0] = '\0';
    while (at < len) {
        const char *name = get_str(theirs, len, &at);
        if (!name || at + 2 > len) return SCHEMA_BAD;
        unsigned kind = theirs[at], elem = theirs[at + 1];
        at += 2;
        const char *nested = get_str(theirs, len, &at);
        if (!nested) return SCHEMA_BAD;
        const rk_field_t *f = field_named(ours, name);
        if (!f) {
            if (diff == SCHEMA_SAME) snprintf(why, cap, "field '%s' (%s) exists only there", name, kind_name(kind));
            if (diff == SCHEMA_SAME) diff = SCHEMA_VERSION;
            continue;
        }
        seen++;
        const rk_msg_type_t *mine = (f->kind == RK_KIND_MSG || f->kind == RK_KIND_LIST_MSG) && f->nested ? f->nested() : NULL;
        if (f->kind != kind || elem_code(f) != elem || strcmp(mine ? mine->name : "", nested) != 0) {
            snprintf(why, cap, "field '%s' is %s here and %s there", name, kind_name(f->kind), kind_name(kind));
            return SCHEMA_CLASH;
        }
    }
    if (seen < ours->nfields && diff == SCHEMA_SAME) {
        for (uint32_t i = 0; i < ours->nfields; i++) {
            size_t a = 0;
            int found = 0;
            while (a < len && !found) {
                const char *n = get_str(theirs, len, &a);
                if (!n || a + 2 > len) break;
                a += 2;
                if (!get_str(theirs, len, &a)) break;
                found = strcmp(n, ours->fields[i].name) == 0;
            }
            if (!found) {
                snprintf(why, cap, "field '%s' (%s) exists only here", ours->fields[i].name,
                         kind_name(ours->fields[i].kind));
                break;
            }
        }
        diff = SCHEMA_VERSION;
    }
    return diff;
}
