/*
 * uuid.c - random UUIDv4 and the clock.
 *
 * UUIDs come from a per-thread xoshiro256** generator seeded from
 * getrandom(): no lock and no system call per message, 122 random bits each.
 */
#include "ringmesh/message.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static _Thread_local uint64_t rng_s[4] __attribute__((tls_model("initial-exec"))); /* see pool.c */
static _Thread_local int rng_seeded __attribute__((tls_model("initial-exec")));

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(void)
{
    uint64_t result = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return result;
}

static void rng_seed(void)
{
    uint64_t seed[4] = {0, 0, 0, 0};
    struct timespec ts;
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        clock_gettime(CLOCK_MONOTONIC, &ts); /* fallback: still unique per thread */
        seed[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
        seed[1] = (uint64_t)(uintptr_t)&rng_s;
    }
    seed[3] |= 1; /* never all zero */
    memcpy(rng_s, seed, sizeof seed);
    rng_seeded = 1;
}

void rk_uuid_generate(rk_uuid_t *out)
{
    uint64_t a, b;
    if (!rng_seeded) rng_seed();
    a = rng_next();
    b = rng_next();
    memcpy(out->bytes, &a, 8);
    memcpy(out->bytes + 8, &b, 8);
    out->bytes[6] = (uint8_t)((out->bytes[6] & 0x0f) | 0x40); /* version 4 */
    out->bytes[8] = (uint8_t)((out->bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

bool rk_uuid_is_nil(const rk_uuid_t *u)
{
    static const rk_uuid_t nil;
    return memcmp(u->bytes, nil.bytes, 16) == 0;
}

bool rk_uuid_equal(const rk_uuid_t *a, const rk_uuid_t *b) { return memcmp(a->bytes, b->bytes, 16) == 0; }

void rk_uuid_format(const rk_uuid_t *u, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
        out[j++] = hex[u->bytes[i] >> 4];
        out[j++] = hex[u->bytes[i] & 15];
    }
    out[j] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

rk_status_t rk_uuid_parse(const char *s, size_t len, rk_uuid_t *out)
{
    rk_uuid_t u;
    size_t i = 0;

    if (!s || !out || (len != 36 && len != 32)) return RK_ERR_INVALID;
    for (int k = 0; k < 16; k++) {
        int hi, lo;
        if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-') return RK_ERR_INVALID;
            i++;
        }
        hi = hexval(s[i++]);
        lo = hexval(s[i++]);
        if (hi < 0 || lo < 0) return RK_ERR_INVALID;
        u.bytes[k] = (uint8_t)(hi << 4 | lo);
    }
    *out = u;
    return RK_OK;
}

int64_t rk_time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
