/*
 * msg/defaults.c - declared field defaults (RK_DEFAULT in the declaration):
 * which kinds may have one, and writing them into a block.
 */
#include "msg/msg_internal.h"

#include <string.h>

int rk_default_ok(const rk_field_t *f)
{
    if (!f->def.set) return 1;
    switch (f->kind) {
    case RK_KIND_INT:
    case RK_KIND_UINT:
    case RK_KIND_FLOAT:
    case RK_KIND_DATETIME:
    case RK_KIND_OPT_INT:
    case RK_KIND_OPT_FLOAT: return 1;
    case RK_KIND_BOOL:
    case RK_KIND_OPT_BOOL: return f->def.i == 0 || f->def.i == 1;
    case RK_KIND_STR: return f->def.s && rk_text_ok(f->def.s, strlen(f->def.s));
    default: return 0;
    }
}

/* One scalar default of kind @p kind at @p p. */
static void put_scalar(char *p, rk_kind_t kind, const rk_default_t *d)
{
    bool b = d->i != 0;
    switch (kind) {
    case RK_KIND_UINT: memcpy(p, &d->u, 8); break;
    case RK_KIND_FLOAT: memcpy(p, &d->f, 8); break;
    case RK_KIND_BOOL: memcpy(p, &b, sizeof b); break;
    default: memcpy(p, &d->i, 8); break; /* INT, DATETIME */
    }
}

rk_status_t rk_defaults_apply(rk_msg_t **root, uint32_t base, const rk_msg_type_t *t)
{
    if (!t->ndefaults) return RK_OK; /* the common case: nothing to write */
    for (uint32_t i = 0; i < t->nfields; i++) {
        const rk_field_t *f = &t->fields[i];
        rk_kind_t opt_base;
        size_t has_off, size;
        if (!f->def.set) continue;
        if (!rk_default_ok(f)) return RK_ERR_INVALID;
        if (f->kind == RK_KIND_STR) { /* appended to the root block, viewed from the block at base */
            size_t len = strlen(f->def.s);
            uint32_t off;
            rk_status_t st = rk_msg_reserve(root, len + 1, &off);
            if (st != RK_OK) return st;
            memcpy((char *)*root + off, f->def.s, len);
            rk_view_t v = {off - base, (uint32_t)len};
            memcpy((char *)*root + base + f->offset, &v, sizeof v);
        } else if (rk_opt_layout(f->kind, &opt_base, &has_off, &size)) {
            char *p = (char *)*root + base + f->offset;
            put_scalar(p, opt_base, &f->def);
            p[has_off] = 1;
        } else {
            put_scalar((char *)*root + base + f->offset, f->kind, &f->def);
        }
    }
    return RK_OK;
}
