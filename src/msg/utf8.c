/*
 * msg/utf8.c - STR text check: well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) without NUL bytes. The reference
 * library refuses ill-formed UTF-8 when it unpacks a str; ringmesh refuses it
 * when a STR is set and when one is decoded, so it never forwards one.
 */
#include "msg/msg_internal.h"

#include <string.h>

#define HI8 0x8080808080808080ull
#define LO8 0x0101010101010101ull

bool rk_text_ok(const void *data, size_t len)
{
    const unsigned char *p = data, *end = p + len;
    while (p < end) {
        if (end - p >= 8) { /* eight ASCII bytes at a time, none zero */
            uint64_t w;
            memcpy(&w, p, 8);
            if (!(w & HI8) && !((w - LO8) & ~w & HI8)) {
                p += 8;
                continue;
            }
        }
        unsigned c = *p;
        if (c < 0x80) {
            if (c == 0) return false;
            p++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) lo = 0xA0;      /* overlong */
            else if (c == 0xED) hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) lo = 0x90;      /* overlong */
            else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
        } else {
            return false; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        }
        if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) return false;
        for (size_t i = 2; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += n;
    }
    return true;
}
