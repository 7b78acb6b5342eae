/*
 * calc_cases.h - the built-in table of expressions with their expected
 * results or errors, used by `ringmesh-calc --verify` (through the kernel)
 * and by the parser unit test (directly).
 *
 * Key idea: one table, two paths; a case expecting an error names a
 * substring of the error text, a good case its value (compared to a relative
 * 1e-12).
 */
#ifndef RINGMESH_CALC_CASES_H
#define RINGMESH_CALC_CASES_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct calc_case {
    const char *expr;
    bool ok;           /* expected success */
    double value;      /* expected value when ok */
    const char *error; /* expected error substring when !ok */
} calc_case_t;

static const calc_case_t calc_cases[] = {
    {"2 + 2", true, 4, NULL},
    {"1 + 2 * 3", true, 7, NULL},
    {"(1 + 2) * 3", true, 9, NULL},
    {"10 / 4", true, 2.5, NULL},
    {"2 ^ 10", true, 1024, NULL},
    {"2 ** 3 ** 2", true, 512, NULL},
    {"2 ^ 3 ^ 2", true, 512, NULL},
    {"-2 ^ 2", true, -4, NULL},
    {"(-2) ^ 2", true, 4, NULL},
    {"2 ^ -1", true, 0.5, NULL},
    {"--3", true, 3, NULL},
    {"+4 - -4", true, 8, NULL},
    {"1.5e3 + .5", true, 1500.5, NULL},
    {"2.5E-3 * 4", true, 0.01, NULL},
    {"5. - 1", true, 4, NULL},
    {"  7\t*\n6  ", true, 42, NULL},
    {"((((((1))))))", true, 1, NULL},
    {"100 - 99 - 1", true, 0, NULL},
    {"8 / 2 / 2", true, 2, NULL},
    {"0.1 + 0.2", true, 0.30000000000000004, NULL},
    {"1 / 3 * 3", true, 1, NULL},
    {"1 / 0", false, 0, "division by zero"},
    {"5 / (2 - 2)", false, 0, "division by zero"},
    {"0 ^ -1", false, 0, "division by zero"},
    {"", false, 0, "empty expression"},
    {"   ", false, 0, "empty expression"},
    {"2 +", false, 0, "unexpected end"},
    {"(1 + 2", false, 0, "missing ')'"},
    {"1 + 2)", false, 0, "unexpected character ')'"},
    {"2 * * 3", false, 0, "unexpected character '*'"},
    {"abc", false, 0, "unexpected character 'a'"},
    {"1e", false, 0, "malformed exponent"},
    {"1.2.3", false, 0, "unexpected character '.'"},
    {"10 ^ 400", false, 0, "overflow"},
    {"1e999", false, 0, "out of range"},
    {"(-8) ^ 0.5", false, 0, "not a real number"},
};

#define CALC_NCASES (sizeof calc_cases / sizeof calc_cases[0])

/** True when an outcome (ok, value, error text) is what @p c expects. */
static inline bool calc_case_matches(const calc_case_t *c, bool ok, double value, const char *error)
{
    if (ok != c->ok) return false;
    if (!ok) return error && strstr(error, c->error) != NULL;
    if (value == c->value) return true;
    return fabs(value - c->value) <= 1e-12 * fmax(fabs(value), fabs(c->value));
}

#endif /* RINGMESH_CALC_CASES_H */
