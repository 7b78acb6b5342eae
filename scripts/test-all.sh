#!/usr/bin/env bash
# scripts/test-all.sh - install what is needed, build, and run every test once.
#
# Stages (each prints a banner and its time; the first failure stops the run):
#   deps      scripts/install-deps.sh (--slurm too, unless RINGMESH_SKIP_SLURM=1)
#   build     Release build in build/ (the CUDA backend is compiled when nvcc is found)
#   test      ctest labels unit, mpi, app, bench (multi-rank tests under mpiexec)
#   asan      ASan+UBSan build in build-asan/: unit tests, 2-rank MPI tests (ucx, mpi)
#   tsan      TSan build in build-tsan/: unit tests (mailbox, kernels, runtime concurrency)
#   fuzz      fuzz/run.sh: decoder and frame parser; fuzz/run_device.sh: ring server + device bodies;
#             RINGMESH_FUZZ_SECONDS each (default 60)
#   valgrind  memcheck on a 2-rank run (scripts/valgrind-mpi.sh)
#   install   scripts/check-install.sh: install to a temp prefix, build the consumer (CMake,
#             pkg-config, static) and run it under mpirun -n 2
#   docs      scripts/docs.sh: Doxygen over the public headers, warning-free
#   mpich     scripts/mpich-test.sh: the whole project built with MPICH, its multi-rank tests
#   slurm     scripts/slurm-local.sh: a real one-node Slurm running the slurm/ jobs
# RINGMESH_STAGES="build test" runs only the stages named.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}
STAGES=${RINGMESH_STAGES:-"deps build test asan tsan fuzz valgrind install docs mpich slurm"}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

want() { [[ " $STAGES " == *" $1 "* ]]; }
banner() { printf '\n==== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
configure() { # dir, extra cmake args...
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$ROOT/$dir.configure.log" 2>&1 ||
        { cat "$ROOT/$dir.configure.log"; return 1; }
}

if want deps; then
    banner "installing dependencies"
    if [[ ${RINGMESH_SKIP_SLURM:-0} == 1 ]]; then scripts/install-deps.sh; else scripts/install-deps.sh --slurm; fi
fi

if want build; then
    banner "build (Release, CUDA backend when nvcc is present)"
    configure build
    cmake --build build -j"$JOBS"
fi

if want test; then
    banner "ctest: unit, mpi, app, bench"
    ctest --test-dir build -L 'unit|mpi|app|bench' --output-on-failure -j1
fi

if want asan; then
    banner "ASan + UBSan"
    configure build-asan -DCMAKE_BUILD_TYPE=Debug -DRINGMESH_SANITIZE=address,undefined -DRINGMESH_ENABLE_CUDA=OFF
    cmake --build build-asan -j"$JOBS" --target ringmesh-unit ringmesh-mpi-tests ringmesh-info ringmesh-interop
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan -L unit --output-on-failure -j"$JOBS"
    # MPI libraries keep allocations past MPI_Finalize, so leak checking is
    # left to valgrind (with suppressions) for the multi-rank runs.
    ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build-asan -R '^mpi\.(ucx|mpi)\.np2$' --output-on-failure
fi

if want tsan; then
    banner "TSan"
    configure build-tsan -DCMAKE_BUILD_TYPE=Debug -DRINGMESH_SANITIZE=thread -DRINGMESH_ENABLE_CUDA=OFF
    cmake --build build-tsan -j"$JOBS" --target ringmesh-unit ringmesh-info ringmesh-mpi-tests ringmesh-interop ringmesh-pipeline \
        ringmesh-pubsub
    # UCX's mmap hooks (libucm) crash under TSan at thread exit; the library does not need them.
    UCX_MEM_MMAP_HOOK_MODE=none TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        ctest --test-dir build-tsan -L unit --output-on-failure -j1
    # Two ranks over ringmesh's UCX transport: kernel threads, the progress thread and
    # the caller all drive the router. (Over the MPI transport TSan reports Open MPI's
    # own uninstrumented internals, so that run says nothing about ringmesh.)
    tsan_np2() {
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 UCX_MEM_MMAP_HOOK_MODE=none RINGMESH_TRANSPORT=ucx \
            TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp" \
            mpirun --oversubscribe --bind-to none -x UCX_MEM_MMAP_HOOK_MODE -x RINGMESH_TRANSPORT -x TSAN_OPTIONS \
            -n 2 "$@"
    }
    tsan_np2 build-tsan/bin/ringmesh-mpi-tests
    for app in ringmesh-pipeline ringmesh-pubsub; do # the apps' own threads and stages
        tsan_np2 "build-tsan/bin/$app" --verify
    done
fi

if want fuzz; then
    banner "fuzzing (${RINGMESH_FUZZ_SECONDS:-60} s per target)"
    fuzz/run.sh "${RINGMESH_FUZZ_SECONDS:-60}"
    fuzz/run_device.sh "${RINGMESH_FUZZ_SECONDS:-60}"
    if [[ -x apps/calc/fuzz.sh ]]; then apps/calc/fuzz.sh "${RINGMESH_FUZZ_SECONDS:-60}"; fi
fi

if want valgrind && [[ -x scripts/valgrind-mpi.sh ]]; then
    banner "valgrind memcheck, 2 ranks"
    scripts/valgrind-mpi.sh build
fi

if want install; then
    banner "install + out-of-tree consumer (CMake and pkg-config)"
    scripts/check-install.sh build
fi

if want docs; then
    banner "Doxygen, warning-free"
    scripts/docs.sh
fi

if want mpich; then
    banner "MPICH build and multi-rank tests"
    scripts/mpich-test.sh
fi

if want slurm && [[ ${RINGMESH_SKIP_SLURM:-0} != 1 ]]; then
    banner "Slurm: local one-node cluster running slurm/ jobs"
    RINGMESH_BIN=$ROOT/build/bin scripts/slurm-local.sh
    # 2 nodes x 4 tasks, each task named after its simulated node: the pipeline's
    # stages must land on both nodes (slurm-check.sh reads the placement line).
    RINGMESH_BIN=$ROOT/build/bin RINGMESH_SLURM_SIM_NODES=2 scripts/slurm-local.sh --ntasks 8
fi

banner "all stages passed: $STAGES"
