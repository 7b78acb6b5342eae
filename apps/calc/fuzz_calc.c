/*
 * fuzz_calc.c - libFuzzer target: the calculator's parser on arbitrary bytes.
 *
 * Key idea: calc_eval() must be total. For any input it returns either a
 * finite value or a NUL-terminated error text, and evaluating the same bytes
 * twice gives the same answer; anything else (a crash, a sanitizer report, an
 * abort below) is a bug.
 *
 * Not built by CMake. Build and run with clang from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iapps/calc \
 *       apps/calc/fuzz_calc.c apps/calc/calc_parser.c -lm -o build-apps/fuzz_calc
 *   mkdir -p build-apps/calc-corpus
 *   build-apps/fuzz_calc -max_total_time=60 -max_len=4096 build-apps/calc-corpus
 */
#include "calc_parser.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    calc_result_t a, b;
    bool ok = calc_eval((const char *)data, size, &a);

    if (ok != a.ok) abort();
    if (ok && (!isfinite(a.value) || a.error[0])) abort();
    if (!ok && (a.value != 0 || !a.error[0] || !memchr(a.error, '\0', sizeof a.error))) abort();
    calc_eval((const char *)data, size, &b);
    if (a.ok != b.ok || memcmp(&a.value, &b.value, sizeof a.value) || strcmp(a.error, b.error)) abort();
    return 0;
}
