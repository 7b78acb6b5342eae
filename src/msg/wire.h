/*
 * msg/wire.h - byte runs of the reference msgpack form that the encoder
 * writes and the decoder matches (msg/codec.c, msg/decode.c).
 */
#ifndef RK_MSG_WIRE_H
#define RK_MSG_WIRE_H

#include <stdint.h>

#define DAY_US INT64_C(86400000000)

/* {"__uuid_bin__": bin 16 ...}: the 16 bytes before the UUID itself. */
static const char UUID_MAP_HEAD[16] = "\x81\xac__uuid_bin__\xc4\x10";
/* The header keys as encoded (fixstr head, then the text): pack_header writes them, fast_header matches them. */
static const char K_MID[11] = "\xaamessage_id", K_PRIO[9] = "\xa8priority", K_CORR[15] = "\xae" "correlation_id",
                  K_TYPE[9] = "\xa8__type__";

#endif
