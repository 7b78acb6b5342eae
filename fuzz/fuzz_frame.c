/*
 * fuzz_frame.c - libFuzzer target for the router's wire frame parser.
 *
 * Any byte string either fails frame_parse with a status, or parses into
 * fields whose name and payload lie inside the input; re-encoding a parsed
 * frame must give back exactly the input bytes (the format has no slack).
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    frame_t f;
    uint8_t *again;

    if (frame_parse(data, size, &f) != RK_OK) return 0;
    if ((const uint8_t *)f.name < data || (const uint8_t *)f.name + f.name_len > data + size) abort();
    if (f.payload < data || f.payload + f.payload_len > data + size) abort();
    again = malloc(size ? size : 1);
    if (!again) return 0;
    frame_write(again, &f, f.name, f.payload);
    frame_set_seq(again, f.seq);
    if (memcmp(again, data, size) != 0) abort();
    free(again);
    return 0;
}
