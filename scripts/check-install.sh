#!/usr/bin/env bash
# scripts/check-install.sh [BUILD_DIR] - check that an installed ringmesh is usable.
#
# Builds BUILD_DIR (default: build; configured first if it has no CMakeCache),
# installs it with `cmake --install BUILD_DIR --prefix TMP` into a temporary
# prefix, then checks, as a C application outside the tree would:
#   files     the libraries (.so + versioned links, .a), headers, CMake package,
#             ringmesh.pc and docs are where they should be
#   headers   each installed header compiles on its own (C11 and C++17) with
#             only -I PREFIX/include: no internal header is needed
#   cmake     examples/consumer built with find_package(ringmesh) through
#             CMAKE_PREFIX_PATH, run with `mpirun -n 2` (no LD_LIBRARY_PATH)
#   pkgconfig the same with `mpicc consumer.c $(pkg-config --cflags --libs ringmesh)`
#             through PKG_CONFIG_PATH, run with LD_LIBRARY_PATH=PREFIX/lib
#   static    the same linked against libringmesh.a (pkg-config --static)
#   apps      installed ringmesh-* executables start (--help) without LD_LIBRARY_PATH
# The MPI compiler wrapper and launcher are the ones the build was configured
# with (MPI_C_COMPILER / MPIEXEC_EXECUTABLE in its CMakeCache), so a build
# against MPICH is checked with MPICH. Exits non-zero on the first failure.
# JOBS (default 1) sets build parallelism; KEEP=1 keeps the temporary prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
JOBS=${JOBS:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

TMP=$(mktemp -d /tmp/ringmesh-install.XXXXXX)
PREFIX=$TMP/prefix
if [[ ${KEEP:-0} == 1 ]]; then trap 'echo "check-install: kept $TMP"' EXIT; else trap 'rm -rf "$TMP"' EXIT; fi
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
step() { printf '\n== check-install: %s\n' "$*"; }

if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    step "configure $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$TMP/configure.log" 2>&1 ||
        { cat "$TMP/configure.log"; fail "configure $BUILD"; }
fi
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" | head -n 1; }
MPICC=$(cache MPI_C_COMPILER)
MPIEXEC=$(cache MPIEXEC_EXECUTABLE)
[[ -n $MPICC && -x $MPICC ]] || MPICC=$(command -v mpicc) || fail "no mpicc"
[[ -n $MPIEXEC && -x $MPIEXEC ]] || MPIEXEC=$(command -v mpirun) || fail "no mpirun"
MPIEXEC_FLAGS=()
if "$MPIEXEC" --version 2>&1 | grep -qE 'Open MPI|OpenRTE'; then MPIEXEC_FLAGS=(--oversubscribe --bind-to none); fi
echo "check-install: build $BUILD, MPI: $MPICC / $MPIEXEC ${MPIEXEC_FLAGS[*]}"

step "build and install $BUILD -> $PREFIX"
cmake --build "$BUILD" -j"$JOBS" >"$TMP/build.log" 2>&1 || { tail -n 40 "$TMP/build.log"; fail "build $BUILD"; }
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "install"; }
(cd "$PREFIX" && find . \( -type f -o -type l \) | sort | sed 's/^\.\//  /')

step "files"
PC=$(find "$PREFIX" -name ringmesh.pc -path '*/pkgconfig/*' | head -n 1)
[[ -n $PC ]] || fail "no ringmesh.pc under $PREFIX"
LIBDIR=$(dirname "$(dirname "$PC")")
for f in "$LIBDIR/libringmesh.so" "$LIBDIR/libringmesh.a" "$LIBDIR/cmake/ringmesh/ringmeshConfig.cmake" \
         "$LIBDIR/cmake/ringmesh/ringmeshConfigVersion.cmake" "$LIBDIR/cmake/ringmesh/ringmeshTargets.cmake" \
         "$PREFIX/include/ringmesh/ringmesh.h" "$PREFIX/share/doc/ringmesh"; do
    [[ -e $f ]] || fail "missing $f"
done
soname=$(readelf -d "$LIBDIR/libringmesh.so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[[ -n $soname && -e $LIBDIR/$soname ]] || fail "SONAME '$soname' is not installed next to libringmesh.so"
real=$(readlink -f "$LIBDIR/libringmesh.so")
echo "  libringmesh.so -> $soname -> $(basename "$real")"
for h in "$ROOT"/include/ringmesh/*.h; do # the public headers, unchanged
    cmp -s "$h" "$PREFIX/include/ringmesh/$(basename "$h")" || fail "installed $(basename "$h") differs from include/ringmesh"
done
for h in ring.h device_kernel.cuh; do # the GPU-body headers from cuda/
    cmp -s "$ROOT/cuda/$h" "$PREFIX/include/ringmesh/$h" || fail "cuda/$h is not installed as ringmesh/$h"
done

step "headers compile on their own"
for h in "$PREFIX"/include/ringmesh/*.h; do
    name=ringmesh/$(basename "$h")
    printf '#include <%s>\nint rk_check_install_dummy;\n' "$name" >"$TMP/h.c"
    cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$PREFIX/include" -c "$TMP/h.c" -o "$TMP/h.o" ||
        fail "$name does not compile alone as C11"
    c++ -std=c++17 -Wall -Wextra -Werror -I"$PREFIX/include" -x c++ -c "$TMP/h.c" -o "$TMP/h.o" ||
        fail "$name does not compile alone as C++17"
    echo "  $name: ok"
done

run_consumer() { # label, executable, env...
    local label=$1 exe=$2 out
    shift 2
    echo "  $ env $* $MPIEXEC ${MPIEXEC_FLAGS[*]} -n 2 $exe"
    out=$(env "$@" timeout 120 "$MPIEXEC" "${MPIEXEC_FLAGS[@]}" -n 2 "$exe" 2>&1) || {
        echo "$out"
        fail "$label: consumer exited non-zero"
    }
    echo "$out" | sed 's/^/  | /'
    grep -q '^consumer: OK' <<<"$out" || fail "$label: no 'consumer: OK'"
    echo "  $label: PASS"
}

step "consumer via CMake (find_package, CMAKE_PREFIX_PATH)"
cmake -S "$ROOT/examples/consumer" -B "$TMP/build-cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DMPI_C_COMPILER="$MPICC" -DCMAKE_BUILD_TYPE=Release >"$TMP/consumer-cmake.log" 2>&1 ||
    { cat "$TMP/consumer-cmake.log"; fail "cmake: configure examples/consumer"; }
cmake --build "$TMP/build-cmake" >>"$TMP/consumer-cmake.log" 2>&1 ||
    { cat "$TMP/consumer-cmake.log"; fail "cmake: build examples/consumer"; }
grep -q "ringmesh_DIR:PATH=$LIBDIR/cmake/ringmesh" "$TMP/build-cmake/CMakeCache.txt" ||
    fail "cmake: ringmesh was not found in $PREFIX"
run_consumer cmake "$TMP/build-cmake/consumer" LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"

step "consumer via mpicc + pkg-config (PKG_CONFIG_PATH)"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
echo "  pkg-config --cflags --libs ringmesh: $(pkg-config --cflags --libs ringmesh)"
[[ $(pkg-config --modversion ringmesh) == $(cache CMAKE_PROJECT_VERSION) ]] || fail "pkg-config: wrong version"
(cd "$ROOT/examples/consumer" &&
    "$MPICC" consumer.c -o "$TMP/consumer-pc" $(pkg-config --cflags --libs ringmesh)) ||
    fail "pkg-config: mpicc consumer.c"
run_consumer pkgconfig "$TMP/consumer-pc" LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "consumer linked statically against libringmesh.a"
static_libs=$(pkg-config --static --libs ringmesh | sed "s#-lringmesh#$LIBDIR/libringmesh.a#")
(cd "$ROOT/examples/consumer" &&
    "$MPICC" consumer.c -o "$TMP/consumer-static" $(pkg-config --cflags ringmesh) $static_libs) ||
    fail "static: mpicc consumer.c libringmesh.a"
if ldd "$TMP/consumer-static" | grep -q libringmesh; then fail "static: still linked to libringmesh.so"; fi
run_consumer static "$TMP/consumer-static" LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"

step "installed executables"
shopt -s nullglob
apps=("$PREFIX"/bin/ringmesh-*)
for exe in "${apps[@]}"; do
    if ldd "$exe" | grep -q 'libringmesh.*not found'; then fail "$(basename "$exe"): libringmesh.so not found"; fi
    case $(basename "$exe") in
    ringmesh-pipeline | ringmesh-pubsub | ringmesh-calc)
        "$exe" --help >/dev/null 2>&1 || fail "$(basename "$exe") --help"
        echo "  $(basename "$exe") --help: ok" ;;
    ringmesh-info)
        info=$("$exe" 2>&1) || { echo "$info"; fail "ringmesh-info"; }
        echo "  ringmesh-info: $(head -n 1 <<<"$info")" ;;
    *) echo "  $(basename "$exe"): installed, links to $(ldd "$exe" | awk '/libringmesh/ {print $3}')" ;;
    esac
done
[[ ${#apps[@]} -gt 0 ]] || echo "  (no ringmesh-* executables in this build)"

echo
echo "check-install: PASS ($BUILD installed to a temporary prefix; consumer OK via CMake, pkg-config and static)"
