#!/bin/sh
# fuzz/run_device.sh [seconds|--seeds] - build and run the device-body fuzz target
# (fuzz/fuzz_device.c: the ring server, rk_body_scale_sum and the pipeline's
# filter body on arbitrary slot bytes) with clang -fsanitize=fuzzer,address,
# undefined into build-fuzz/ for N seconds (default 60). Exits non-zero on a
# crash or failed check; the reproducer is build-fuzz/device-crash-*.
set -eu
cd "$(dirname "$0")/.."
OUT=build-fuzz
SECS=${1:-60}
CC=${CC:-clang}
mkdir -p "$OUT"
if [ "$SECS" = "--seeds" ]; then
    ${CC} -std=c11 -D_GNU_SOURCE -g -Iinclude -DFUZZ_GEN_SEEDS fuzz/fuzz_device.c -lm -o "$OUT/gen_device_seeds"
    mkdir -p fuzz/corpus/device
    "$OUT/gen_device_seeds" fuzz/corpus/device
    exit 0
fi
rm -rf "$OUT/corpus-device"
mkdir -p "$OUT/corpus-device"
cp fuzz/corpus/device/* "$OUT/corpus-device/"
$CC -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    fuzz/fuzz_device.c -lm -o "$OUT/fuzz_device"
# Seeds (fuzz/corpus/device, regenerate with --seeds): a well-formed entry for each body.
"$OUT/fuzz_device" -max_total_time="$SECS" -max_len=9000 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/device-" -print_final_stats=1 "$OUT/corpus-device"
