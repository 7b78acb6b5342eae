/*
 * fuzz_schema.c - libFuzzer target for the type-layout decoder that compares
 * a peer's message layout with ours at rk_runtime_sync (src/msg/schema.c).
 *
 * Any byte string is compared with a few types (scalars, containers, a
 * nested message): the result is one of the four verdicts, the account of
 * the difference is a NUL-terminated string inside its buffer, and nothing
 * outside the input is read (ASan). A type's own encoding always compares
 * SAME with it, and the input encoded as a type name never matters.
 */
#include "msg/schema.h"

#include <stdlib.h>
#include <string.h>

#define INNER(F) F(FzInner, v, INT, _)
RK_MESSAGE_DECLARE(FzInner, INNER)
RK_MESSAGE_DEFINE(FzInner, INNER)
#define OUTER(F)                   \
    F(FzOuter, a, INT, _)          \
    F(FzOuter, s, STR, _)          \
    F(FzOuter, xs, LIST, FLOAT)    \
    F(FzOuter, d, DICT, STR)       \
    F(FzOuter, child, MSG, FzInner)
RK_MESSAGE_DECLARE(FzOuter, OUTER)
RK_MESSAGE_DEFINE(FzOuter, OUTER)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const rk_msg_type_t *types[] = {FzInner_type(), FzOuter_type()};
    uint8_t own[RK_SCHEMA_MAX];
    char why[96];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint8_t *copy = malloc(size ? size : 1); /* exactly `size` bytes: ASan sees any overread */
        if (!copy) return 0;
        memcpy(copy, data, size);
        memset(why, 'x', sizeof why);
        schema_diff_t d = schema_compare(types[i], copy, size, why, sizeof why);
        if (d != SCHEMA_SAME && d != SCHEMA_VERSION && d != SCHEMA_CLASH && d != SCHEMA_BAD) abort();
        if (!memchr(why, '\0', sizeof why)) abort();
        free(copy);
        size_t n = schema_encode(types[i], own);
        if (schema_compare(types[i], own, n, why, sizeof why) != SCHEMA_SAME) abort();
    }
    return 0;
}
