/*
 * calc_parser.c - a recursive-descent evaluator for arithmetic expressions.
 *
 * Key idea: evaluate while parsing, stop at the first error, and keep every
 * step bounded: the input length is capped, recursion depth is counted at the
 * one rule every cycle of the grammar passes through (unary), numbers are
 * scanned by hand into a bounded buffer before strtod (so "inf", "0x1p3" or
 * locale quirks never sneak in), and each intermediate must stay finite.
 *
 * Grammar:
 *   expr    := term  (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary (('^' | '**') unary)?
 *   primary := NUMBER | '(' expr ')'
 */
#define _POSIX_C_SOURCE 200809L
#include "calc_parser.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_MAX 128 /* longest number token accepted */

typedef struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    bool failed;
    calc_result_t *out;
} parser_t;

static void fail(parser_t *p, const char *fmt, ...)
{
    va_list ap;
    if (p->failed) return;
    p->failed = true;
    va_start(ap, fmt);
    vsnprintf(p->out->error, sizeof p->out->error, fmt, ap);
    va_end(ap);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Next non-blank byte without consuming it; -1 at the end. */
static int peek(parser_t *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos])) p->pos++;
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const parser_t *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

/* Report the byte at the current position (or the end) as unexpected. */
static void unexpected(parser_t *p)
{
    int c = peek(p);
    if (c < 0) fail(p, "unexpected end of expression");
    else if (c >= 0x21 && c < 0x7f) fail(p, "unexpected character '%c' at position %zu", c, p->pos + 1);
    else fail(p, "unexpected byte 0x%02x at position %zu", c, p->pos + 1);
}

/* Finite-check an intermediate result. */
static double checked(parser_t *p, double v)
{
    if (p->failed) return 0;
    if (isnan(v)) fail(p, "result is not a real number");
    else if (isinf(v)) fail(p, "overflow: result too large");
    return p->failed ? 0 : v;
}

static size_t scan_digits(const parser_t *p, size_t i)
{
    while (i < p->len && is_digit(p->s[i])) i++;
    return i;
}

static double parse_number(parser_t *p)
{
    size_t start = p->pos, i = scan_digits(p, start), intd = i - start, fracd = 0;
    char buf[NUM_MAX + 1];
    double v;

    if (i < p->len && p->s[i] == '.') {
        size_t j = scan_digits(p, i + 1);
        fracd = j - (i + 1);
        i = j;
    }
    if (intd + fracd == 0) {
        unexpected(p);
        return 0;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (p->s[j] == '+' || p->s[j] == '-')) j++;
        size_t k = scan_digits(p, j);
        if (k == j) {
            fail(p, "malformed exponent in number at position %zu", start + 1);
            return 0;
        }
        i = k;
    }
    if (i - start > NUM_MAX) {
        fail(p, "number too long at position %zu", start + 1);
        return 0;
    }
    memcpy(buf, p->s + start, i - start);
    buf[i - start] = '\0';
    errno = 0;
    v = strtod(buf, NULL);
    if (errno == ERANGE && isinf(v)) {
        fail(p, "number out of range at position %zu", start + 1);
        return 0;
    }
    p->pos = i;
    return v;
}

static double parse_expr(parser_t *p);
static double parse_unary(parser_t *p);

static double parse_primary(parser_t *p)
{
    int c = peek(p);
    double v;

    if (c == '(') {
        size_t open = p->pos;
        p->pos++;
        v = parse_expr(p);
        if (p->failed) return 0;
        if (peek(p) != ')') {
            if (peek(p) < 0) fail(p, "missing ')' for '(' at position %zu", open + 1);
            else unexpected(p);
            return 0;
        }
        p->pos++;
        return v;
    }
    if (c == '.' || is_digit((char)c)) return parse_number(p);
    unexpected(p);
    return 0;
}

static double power(parser_t *p, double base, double ex)
{
    if (base == 0 && ex < 0) {
        fail(p, "division by zero (0 raised to a negative power)");
        return 0;
    }
    return checked(p, pow(base, ex));
}

static double parse_power(parser_t *p)
{
    double base = parse_primary(p), ex;
    int c = peek(p);

    if (p->failed) return 0;
    if (c == '^') p->pos += 1;
    else if (c == '*' && peek_at(p, 1) == '*') p->pos += 2;
    else return base;
    ex = parse_unary(p);
    return p->failed ? 0 : power(p, base, ex);
}

static double parse_unary(parser_t *p)
{
    int c = peek(p);
    double v;

    if (++p->depth > CALC_MAX_DEPTH) {
        fail(p, "nesting too deep (more than %d levels)", CALC_MAX_DEPTH);
        p->depth--;
        return 0;
    }
    if (c == '-' || c == '+') {
        p->pos++;
        v = parse_unary(p);
        v = c == '-' ? -v : v;
    } else {
        v = parse_power(p);
    }
    p->depth--;
    return p->failed ? 0 : v;
}

static double parse_term(parser_t *p)
{
    double v = parse_unary(p);
    for (;;) {
        int c = peek(p);
        double r;
        if (p->failed || (c != '*' && c != '/')) return p->failed ? 0 : v;
        p->pos++;
        r = parse_unary(p);
        if (p->failed) return 0;
        if (c == '/' && r == 0) {
            fail(p, "division by zero");
            return 0;
        }
        v = checked(p, c == '*' ? v * r : v / r);
    }
}

static double parse_expr(parser_t *p)
{
    double v = parse_term(p);
    for (;;) {
        int c = peek(p);
        double r;
        if (p->failed || (c != '+' && c != '-')) return p->failed ? 0 : v;
        p->pos++;
        r = parse_term(p);
        if (p->failed) return 0;
        v = checked(p, c == '+' ? v + r : v - r);
    }
}

bool calc_eval(const char *expr, size_t len, calc_result_t *out)
{
    parser_t p = {expr, len, 0, 0, false, out};
    double v;

    memset(out, 0, sizeof *out);
    if (len > CALC_MAX_INPUT) fail(&p, "expression too long (%zu bytes, at most %d)", len, CALC_MAX_INPUT);
    else if (!expr || peek(&p) < 0) fail(&p, "empty expression");
    if (p.failed) return false;
    v = parse_expr(&p);
    if (!p.failed && peek(&p) >= 0) unexpected(&p);
    if (p.failed) return false;
    out->ok = true;
    out->value = v == 0 ? 0.0 : v; /* no "-0" */
    return true;
}

void calc_format(double v, char *buf, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}
