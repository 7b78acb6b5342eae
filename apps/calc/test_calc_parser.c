/*
 * test_calc_parser.c - unit test of the calculator's parser, without MPI.
 *
 * Key idea: the expression table shared with `ringmesh-calc --verify`
 * (calc_cases.h) is checked directly against calc_eval(), plus inputs that
 * only a direct call can produce (embedded NULs, huge nesting, huge input).
 */
#define _POSIX_C_SOURCE 200809L
#include "calc_cases.h"
#include "calc_parser.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect_error(const char *what, const char *s, size_t len, const char *needle)
{
    calc_result_t r;
    if (calc_eval(s, len, &r) || !strstr(r.error, needle)) {
        printf("FAIL %s: expected error containing '%s', got %s '%s'\n", what, needle, r.ok ? "value" : "error",
               r.error);
        failures++;
    }
}

static void check_table(void)
{
    for (size_t i = 0; i < CALC_NCASES; i++) {
        const calc_case_t *c = &calc_cases[i];
        calc_result_t r;
        calc_eval(c->expr, strlen(c->expr), &r);
        if (!calc_case_matches(c, r.ok, r.value, r.error)) {
            printf("FAIL '%s': got %s %.17g '%s'\n", c->expr, r.ok ? "ok" : "error", r.value, r.error);
            failures++;
        }
    }
}

static void check_limits(void)
{
    size_t n = 100000;
    char *deep = malloc(n + 1);
    if (!deep) exit(1);
    memset(deep, '(', n);
    expect_error("deep nesting", deep, CALC_MAX_DEPTH + 10, "nesting too deep");
    expect_error("too long", deep, n, "too long");
    memset(deep, '-', n);
    expect_error("many minus", deep, 5000, "nesting too deep");
    free(deep);
    expect_error("embedded NUL", "1+\0 2", 5, "byte 0x00");
    expect_error("NULL input", NULL, 0, "empty");
    expect_error("long number", "1111111111111111111111111111111111111111111111111111111111111111111111111111111"
                                "1111111111111111111111111111111111111111111111111111111111111",
                 140, "number too long");
}

static void check_format(void)
{
    static const struct { double v; const char *s; } cases[] = {
        {4, "4"}, {0.1 + 0.2, "0.30000000000000004"}, {-2.5, "-2.5"}, {1e20, "1e+20"}, {1.0 / 3, "0.3333333333333333"}};
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        calc_format(cases[i].v, buf, sizeof buf);
        if (strcmp(buf, cases[i].s)) {
            printf("FAIL format %.17g: got '%s', want '%s'\n", cases[i].v, buf, cases[i].s);
            failures++;
        }
    }
}

int main(void)
{
    check_table();
    check_limits();
    check_format();
    if (failures) {
        printf("calc parser: %d failure(s)\n", failures);
        return 1;
    }
    printf("calc parser: all %zu table cases and the limit checks passed\n", CALC_NCASES);
    return 0;
}
