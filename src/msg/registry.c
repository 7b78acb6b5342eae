/*
 * registry.c - the `__type__` name -> descriptor table used by the decoder.
 *
 * An open-addressing hash table (FNV-1a, linear probing, load <= 1/2) of
 * descriptor pointers. Key invariant: lookups only read the table, so any
 * number of threads may call rk_registry_find concurrently as long as no
 * rk_registry_add runs at the same time (types are registered at start-up).
 */
#include "msg/msg_internal.h"
#include "ringmesh/codec.h"

#include <stdlib.h>
#include <string.h>

typedef struct reg_slot {
    const rk_msg_type_t *type; /* NULL: empty */
    uint32_t hash;
    uint32_t name_len;
} reg_slot_t;

struct rk_registry {
    reg_slot_t *slots;
    size_t cap; /* power of two */
    size_t count;
    const rk_msg_type_t *last; /* the type found last, tried first (relaxed atomic: a hint) */
};

#define REG_INITIAL_CAP 16u

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

rk_status_t rk_registry_create(rk_registry_t **out)
{
    rk_registry_t *reg;
    if (!out) return RK_ERR_INVALID;
    reg = calloc(1, sizeof *reg);
    if (!reg) return RK_ERR_NOMEM;
    reg->slots = calloc(REG_INITIAL_CAP, sizeof *reg->slots);
    if (!reg->slots) {
        free(reg);
        return RK_ERR_NOMEM;
    }
    reg->cap = REG_INITIAL_CAP;
    *out = reg;
    return RK_OK;
}

void rk_registry_destroy(rk_registry_t *reg)
{
    if (!reg) return;
    free(reg->slots);
    free(reg);
}

/* The slot holding @p name, or the empty slot where it would go. */
static reg_slot_t *reg_probe(const reg_slot_t *slots, size_t cap, const char *name, size_t len,
                             uint32_t h)
{
    size_t i = h & (cap - 1);
    for (;; i = (i + 1) & (cap - 1)) {
        const reg_slot_t *s = &slots[i];
        if (!s->type) return (reg_slot_t *)s;
        if (s->hash == h && s->name_len == len && memcmp(s->type->name, name, len) == 0)
            return (reg_slot_t *)s;
    }
}

static rk_status_t reg_grow(rk_registry_t *reg)
{
    size_t cap = reg->cap * 2;
    reg_slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return RK_ERR_NOMEM;
    for (size_t i = 0; i < reg->cap; i++) {
        const reg_slot_t *s = &reg->slots[i];
        if (s->type) *reg_probe(slots, cap, s->type->name, s->name_len, s->hash) = *s;
    }
    free(reg->slots);
    reg->slots = slots;
    reg->cap = cap;
    return RK_OK;
}

/* Header keys the codec writes itself; a user field may not shadow them. */
static int reserved_name(const char *name)
{
    return strcmp(name, "message_id") == 0 || strcmp(name, "priority") == 0 ||
           strcmp(name, "correlation_id") == 0 || strcmp(name, "__type__") == 0;
}

/* A descriptor the codec can encode and decode (checked once, at registration). */
static int type_ok(const rk_msg_type_t *t)
{
    if (!t->name || !t->name[0] || strlen(t->name) > 255) return 0;
    if (t->struct_size < sizeof(rk_msg_t) || (t->nfields && !t->fields)) return 0;
    uint32_t ndefaults = 0;
    for (uint32_t i = 0; i < t->nfields; i++) ndefaults += t->fields[i].def.set ? 1 : 0;
    if (ndefaults != t->ndefaults) return 0; /* a hand-made descriptor that miscounts */
    for (uint32_t i = 0; i < t->nfields; i++) {
        const rk_field_t *f = &t->fields[i];
        if (!f->name || reserved_name(f->name) || f->kind <= RK_KIND_NONE || f->kind >= RK_KIND_COUNT_)
            return 0;
        if ((f->kind == RK_KIND_LIST || f->kind == RK_KIND_TUPLE || f->kind == RK_KIND_DICT) &&
            rk_elem_size(f->elem) == 0)
            return 0;
        if ((f->kind == RK_KIND_MSG || f->kind == RK_KIND_LIST_MSG) && !f->nested) return 0;
        if (f->kind == RK_KIND_LIST_LIST && rk_elem_size(f->elem) == 0) return 0;
        if ((f->kind == RK_KIND_ARRAY) != (f->dtype != RK_DTYPE_NONE) || !(f->dtype == RK_DTYPE_NONE || rk_dtype_size(f->dtype)))
            return 0;
        if (!rk_default_ok(f)) return 0;
    }
    return 1;
}

rk_status_t rk_registry_add(rk_registry_t *reg, const rk_msg_type_t *type)
{
    reg_slot_t *s;
    size_t len;
    uint32_t h;

    if (!reg || !type || !type_ok(type)) return RK_ERR_INVALID;
    len = strlen(type->name);
    h = name_hash(type->name, len);
    s = reg_probe(reg->slots, reg->cap, type->name, len, h);
    if (s->type) return s->type == type ? RK_OK : RK_ERR_EXISTS;
    if ((reg->count + 1) * 2 > reg->cap) {
        rk_status_t st = reg_grow(reg);
        if (st != RK_OK) return st;
        s = reg_probe(reg->slots, reg->cap, type->name, len, h);
    }
    s->type = type;
    s->hash = h;
    s->name_len = (uint32_t)len;
    reg->count++;
    return RK_OK;
}

const rk_msg_type_t *rk_registry_find(const rk_registry_t *reg, const char *name, size_t len)
{
    const rk_msg_type_t *t;
    if (!reg || !name || len == 0 || len > 255) return NULL;
    /* Streams mostly carry one type: the last one found costs a compare, not a hash and probe. */
    t = __atomic_load_n(&reg->last, __ATOMIC_RELAXED);
    if (t && rk_name_is(t->name, name, len)) return t;
    t = reg_probe(reg->slots, reg->cap, name, len, name_hash(name, len))->type;
    if (t) __atomic_store_n(&((rk_registry_t *)reg)->last, t, __ATOMIC_RELAXED); /* malloc'd: not const */
    return t;
}

size_t rk_registry_each(const rk_registry_t *reg, void (*fn)(void *arg, const rk_msg_type_t *type), void *arg)
{
    size_t n = 0;
    for (size_t i = 0; reg && i < reg->cap; i++)
        if (reg->slots[i].type) {
            fn(arg, reg->slots[i].type);
            n++;
        }
    return n;
}
