/*
 * msg/datetime.c - DATETIME fields: microseconds since the Unix epoch, read
 * and written as the ISO 8601 text the reference library produces.
 */
#include "msg/msg_internal.h"
#include "msg/wire.h"
#include "ringmesh/codec.h"

#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
    return p + n;
}

void rk_datetime_format(int64_t us, char out[40])
{
    int64_t days = us / DAY_US, rem = us % DAY_US, y;
    unsigned mo, d;
    char *p = out;

    if (rem < 0) {
        rem += DAY_US;
        days--;
    }
    civil_from_days(days, &y, &mo, &d);
    if (y >= 0 && y <= 9999) {
        p = put_digits(p, (uint64_t)y, 4);
    } else { /* ISO 8601 expanded year; Python's datetime stops at 1..9999 */
        *p++ = y < 0 ? '-' : '+';
        p = put_digits(p, (uint64_t)(y < 0 ? -y : y), 6);
    }
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (uint64_t)(rem / 3600000000), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(rem / 60000000 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(rem / 1000000 % 60), 2);
    if (rem % 1000000) { /* like datetime.isoformat(): no fraction when zero */
        *p++ = '.';
        p = put_digits(p, (uint64_t)(rem % 1000000), 6);
    }
    memcpy(p, "+00:00", 7);
}

typedef struct cursor {
    const char *p, *end;
} cursor_t;

/* Exactly @p n decimal digits. */
static int cur_digits(cursor_t *c, int n, int64_t *v)
{
    int64_t x = 0;
    if (c->end - c->p < n) return 0;
    for (int i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9') return 0;
        x = x * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *v = x;
    return 1;
}

static int cur_char(cursor_t *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* YYYY, or a sign and 4-6 digits (expanded years, as rk_datetime_format writes). */
static int parse_year(cursor_t *c, int64_t *y)
{
    int neg = 0, n = 0;
    if (cur_char(c, '-')) neg = 1;
    else if (!cur_char(c, '+')) return cur_digits(c, 4, y);
    while (c->p + n < c->end && n < 7 && c->p[n] >= '0' && c->p[n] <= '9') n++;
    if (n < 4 || n > 6 || !cur_digits(c, n, y)) return 0;
    if (neg) *y = -*y;
    return 1;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dm[m - 1] + (m == 2 && leap);
}

/* YYYY-MM-DD -> days since the epoch. */
static int parse_date(cursor_t *c, int64_t *days)
{
    int64_t y, m, d;
    if (!parse_year(c, &y) || !cur_char(c, '-') || !cur_digits(c, 2, &m) || !cur_char(c, '-') ||
        !cur_digits(c, 2, &d))
        return 0;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return 0;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 1;
}

/* HH:MM[:SS[.f{1,6}]] -> seconds of the day and microseconds. */
static int parse_time(cursor_t *c, int64_t *secs, int64_t *frac)
{
    int64_t h, mi, s = 0, f = 0;
    int n = 0;
    if (!cur_digits(c, 2, &h) || !cur_char(c, ':') || !cur_digits(c, 2, &mi)) return 0;
    if (cur_char(c, ':')) {
        if (!cur_digits(c, 2, &s)) return 0;
        if (cur_char(c, '.')) {
            while (c->p < c->end && n < 7 && *c->p >= '0' && *c->p <= '9') {
                f = f * 10 + (*c->p++ - '0');
                n++;
            }
            if (n < 1 || n > 6) return 0;
            for (; n < 6; n++) f *= 10;
        }
    }
    if (h > 23 || mi > 59 || s > 59) return 0;
    *secs = h * 3600 + mi * 60 + s;
    *frac = f;
    return 1;
}

/* Nothing (UTC), Z, or +HH:MM / -HH:MM / +HHMM -> seconds east of UTC. */
static int parse_offset(cursor_t *c, int64_t *off)
{
    int64_t h, m, sign = 1;
    *off = 0;
    if (c->p == c->end) return 1;
    if (cur_char(c, 'Z') || cur_char(c, 'z')) return c->p == c->end;
    if (cur_char(c, '-')) sign = -1;
    else if (!cur_char(c, '+')) return 0;
    if (!cur_digits(c, 2, &h)) return 0;
    cur_char(c, ':');
    if (!cur_digits(c, 2, &m) || h > 23 || m > 59 || c->p != c->end) return 0;
    *off = sign * (h * 3600 + m * 60);
    return 1;
}

rk_status_t rk_datetime_parse(const char *s, size_t len, int64_t *us)
{
    cursor_t c = {s, s + len};
    int64_t days, secs = 0, frac = 0, off = 0, t;

    if (!s || !us) return RK_ERR_INVALID;
    if (!parse_date(&c, &days)) return RK_ERR_DECODE;
    if (c.p != c.end) {
        if (!cur_char(&c, 'T') && !cur_char(&c, ' ')) return RK_ERR_DECODE;
        if (!parse_time(&c, &secs, &frac) || !parse_offset(&c, &off)) return RK_ERR_DECODE;
    }
    secs += days * 86400 - off; /* |days| < 4e8: no overflow in seconds */
    if (secs < 0 && frac) { /* keep secs * 1e6 in range near INT64_MIN */
        secs++;
        frac -= 1000000;
    }
    if (__builtin_mul_overflow(secs, INT64_C(1000000), &t) || __builtin_add_overflow(t, frac, &t))
        return RK_ERR_DECODE;
    *us = t;
    return RK_OK;
}
