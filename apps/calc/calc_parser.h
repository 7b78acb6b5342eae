/*
 * calc_parser.h - the calculator's expression language, as a pure function.
 *
 * Key idea: calc_eval() is total over arbitrary bytes (not NUL-terminated,
 * any length, embedded NULs): it either yields a finite double or an error
 * text, never crashes, never allocates, and bounds its recursion. That makes
 * it usable from the ring kernel, the unit test and the libFuzzer target alike.
 *
 * Language: numbers (123, 4.5, .5, 5., 1e3, 2.5E-3), binary + - * /,
 * power ^ or ** (right-associative, binds tighter than unary minus on its
 * left: -2^2 = -4, 2^-1 = 0.5), unary - and +, parentheses, whitespace.
 * Errors: malformed input, division by zero (also 0 ^ negative), overflow
 * (any non-finite intermediate) and non-real results (e.g. (-8)^0.5).
 */
#ifndef RINGMESH_CALC_PARSER_H
#define RINGMESH_CALC_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CALC_MAX_INPUT 65536 /**< longer inputs are rejected ("expression too long") */
#define CALC_MAX_DEPTH 256   /**< deeper nesting is rejected ("nesting too deep") */
#define CALC_ERROR_MAX 160   /**< size of calc_result_t.error, NUL included */
#define CALC_ERROR_CODE 400  /**< the error_code every evaluation error carries */

typedef struct calc_result {
    bool ok;                     /**< true: value is valid; false: error is set */
    double value;                /**< finite when ok, else 0 */
    char error[CALC_ERROR_MAX];  /**< "" when ok */
} calc_result_t;

/** Evaluate @p len bytes at @p expr; returns out->ok. @p expr may be NULL when len is 0. */
bool calc_eval(const char *expr, size_t len, calc_result_t *out);

/**
 * Format @p v with the fewest significant digits that read back exactly
 * (like Python's repr of a float, but integers print without ".0").
 */
void calc_format(double v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_CALC_PARSER_H */
