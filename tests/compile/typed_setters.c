/*
 * typed_setters.c - compiled by ctest (tests/CMakeLists.txt, api.typed_setters.*):
 * the right calls compile; each WRONG_* variant must be refused by the compiler.
 */
#include <ringmesh/ringmesh.h>

#define ASK(F) F(Ask, text, STR, _) F(Ask, x, INT, _) F(Ask, xs, LIST, INT)
RK_MESSAGE_DECLARE(Ask, ASK)
RK_MESSAGE_DEFINE(Ask, ASK)
#if defined(DEFAULT_ON_LIST) /* kinds without defaults refuse RK_DEFAULT */
#define BAD(F) F(Bad, xs, LIST, RK_DEFAULT(1))
#elif defined(DEFAULT_ON_BYTES)
#define BAD(F) F(Bad, blob, BYTES, RK_DEFAULT("x"))
#else
#define BAD(F) F(Bad, op, STR, RK_DEFAULT("sum")) F(Bad, n, INT, RK_DEFAULT(3)) F(Bad, grid, ARRAY, F32)
#endif
RK_MESSAGE_DECLARE(Bad, BAD)
RK_MESSAGE_DEFINE(Bad, BAD)
#define OTHER(F) F(Other, text, STR, _)
RK_MESSAGE_DECLARE(Other, OTHER)
RK_MESSAGE_DEFINE(Other, OTHER)

int main(void)
{
    Ask *m = NULL;
    Other *o = NULL;
    const int64_t xs[2] = {1, 2};
    if (Ask_new(&m) != RK_OK || Other_new(&o) != RK_OK) return 1;
#if defined(WRONG_LEVEL_SETTER)
    Ask_set_text(m, "x"); /* a T * where the setter needs the T ** it may move */
#elif defined(WRONG_TYPE_SETTER)
    Ask_set_text(&o, "x"); /* an Other ** given to an Ask setter */
#elif defined(WRONG_LEVEL_MACRO)
    RK_SET_STR(m, Ask, text, "x");
#elif defined(WRONG_TYPE_MACRO)
    RK_SET_STR(&o, Ask, text, "x");
#elif defined(WRONG_ELEMENTS)
    const double ds[2] = {1, 2};
    Ask_set_xs(&m, ds, 2); /* doubles for a LIST of INT */
#elif defined(WRONG_ARRAY_ELEMENTS)
    Bad *b = NULL;
    const double ds[2] = {1, 2};
    const uint64_t shape[1] = {2};
    Bad_set_grid(&b, ds, 1, shape); /* doubles for an ARRAY of F32 */
#else
    if (Ask_set_text(&m, "x") != RK_OK || RK_SET_STR(&m, Ask, text, "y") != RK_OK || Ask_set_x(&m, 3) != RK_OK ||
        Ask_set_xs(&m, xs, 2) != RK_OK || Other_set_text(&o, "z") != RK_OK)
        return 1;
    if (!Ask_cast(&m->hdr) || Ask_cast(&o->hdr) || Other_cast(&m->hdr)) return 1;
#if !defined(DEFAULT_ON_LIST) && !defined(DEFAULT_ON_BYTES)
    Bad *b = NULL;
    const float fs[2] = {1, 2};
    const uint64_t shape[1] = {2};
    if (Bad_new(&b) != RK_OK || Bad_set_grid(&b, fs, 1, shape) != RK_OK || !Bad_get_grid(b, NULL)) return 1;
    rk_msg_free(&b->hdr);
#endif
#endif
    rk_msg_free(&m->hdr);
    rk_msg_free(&o->hdr);
    return 0;
}
