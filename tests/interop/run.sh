#!/usr/bin/env bash
# Live two-way interop with the reference wire form (Python msgpack + numpy):
#   run.sh DIR_OF_BINARY   (the directory holding ringmesh-interop)
# Python writes, ringmesh writes, Python checks ringmesh's files, ringmesh checks Python's.
# Missing python3-msgpack / python3-numpy is a failure, not a skip.
set -euo pipefail

bin="${1:?usage: run.sh DIR_OF_BINARY}/ringmesh-interop"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$bin" ] || { echo "interop: FAIL: $bin not built" >&2; exit 1; }

# The first interpreter with both modules: $PYTHON, python3 on PATH, then Debian's (a pyenv
# or venv python3 on PATH does not see the python3-* packages).
py=""
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import msgpack, numpy' 2>/dev/null; then
    py="$cand"
    break
  fi
done
if [ -z "$py" ]; then
  echo "interop: FAIL: python3-msgpack and python3-numpy are needed (scripts/install-deps.sh)" >&2
  exit 1
fi

tmp="$(mktemp -d /tmp/ringmesh-interop.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/py" "$tmp/c"

step() { echo "== $*"; "$@" || { echo "interop: FAIL: $* (exit $?)" >&2; exit 1; }; }
step "$py" "$here/reference.py" write "$tmp/py"
step "$bin" write "$tmp/c"
step "$py" "$here/reference.py" check "$tmp/c"
step "$bin" check "$tmp/py"
echo "interop: PASSED"
