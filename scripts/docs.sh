#!/usr/bin/env bash
# scripts/docs.sh [OUT_DIR] - API reference of include/ringmesh/*.h with Doxygen.
#
# Writes OUT_DIR/html (default build/docs/html; cmake --install then copies a
# BUILD/docs/html to share/doc/ringmesh/html) with README.md as the main page
# when it exists. Installs doxygen (Debian) when missing. Fails, printing the
# warnings, when Doxygen reports any: every public name must be documented.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/docs}
DOXYGEN=${DOXYGEN:-doxygen}

if ! command -v "$DOXYGEN" >/dev/null 2>&1; then
    command -v apt-get >/dev/null || { echo "docs.sh: doxygen is missing; install it" >&2; exit 1; }
    SUDO=()
    [[ $(id -u) == 0 ]] || SUDO=(sudo -E)
    echo "docs.sh: installing doxygen"
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -q -y -o Dpkg::Use-Pty=0 doxygen >/dev/null ||
        { "${SUDO[@]}" apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
            "${SUDO[@]}" apt-get install -q -y -o Dpkg::Use-Pty=0 doxygen >/dev/null; }
    DOXYGEN=doxygen
fi

mkdir -p "$OUT"
rm -rf "$OUT/html"
export RINGMESH_DOCS_OUT=$OUT
export RINGMESH_DOCS_MAINPAGE=
[[ -f README.md ]] && RINGMESH_DOCS_MAINPAGE=README.md
RINGMESH_VERSION=$(sed -n 's/^project(ringmesh VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
export RINGMESH_VERSION
log=$OUT/doxygen.log
if ! "$DOXYGEN" docs/Doxyfile >"$log" 2>&1; then
    cat "$log"
    echo "docs.sh: doxygen failed" >&2
    exit 1
fi
# Config problems go to stderr ($log); source warnings to WARN_LOGFILE.
if [[ -s $OUT/warnings.log ]] || grep -qi 'warning\|error' "$log"; then
    cat "$log" "$OUT/warnings.log" 2>/dev/null
    echo "docs.sh: FAIL: $(cat "$OUT/warnings.log" "$log" | grep -ci 'warning\|error') Doxygen warning(s)" >&2
    exit 1
fi
echo "docs.sh: OK, no warnings: $OUT/html/index.html ($("$DOXYGEN" --version), $(ls include/ringmesh/*.h | wc -l) headers)"
