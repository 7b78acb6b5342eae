#!/bin/sh
# expect_fail.sh PATTERN COMPILER ARGS... - passes when the compiler refuses the
# code (non-zero exit) with a diagnostic matching PATTERN (grep -E).
pattern=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ $rc -eq 0 ]; then echo "expect_fail: the code compiled; it must not" >&2; exit 1; fi
printf '%s\n' "$out" | grep -Eq "$pattern" || { echo "expect_fail: no diagnostic matching '$pattern'" >&2; exit 1; }
echo "expect_fail: refused as expected"
