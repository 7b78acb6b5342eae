#!/bin/sh
# gpu-check.sh - build ringmesh on a machine with a GPU and run the CUDA test,
# the GPU benchmarks, the pipeline with its GPU filter stage and the whole
# ctest suite there. Used on the lent GPU
# machine (../shared/gpu/README.md: run ../shared/gpu/prepare.sh here first,
# carry .device); works on any Linux box with nvcc, a GPU and the Debian deps.
# Results go to $OUT (default /tmp/rk-gpu-out). Environment: ARCHS (CUDA
# architectures, default 90), BUILD (default build-gpu), CTEST_ARGS.
set -u
OUT=${OUT:-/tmp/rk-gpu-out}
BUILD=${BUILD:-build-gpu}
mkdir -p "$OUT"
[ -f .device/deps.sh ] && . .device/deps.sh
nvidia-smi -L > "$OUT/gpu.txt" 2>&1 || true
cat "$OUT/gpu.txt"
echo "== build ($BUILD, sm_${ARCHS:-90})"
if ! { cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGMESH_CUDA_ARCHS="${ARCHS:-90}" &&
       cmake --build "$BUILD"; } > "$OUT/build.log" 2>&1; then
    tail -40 "$OUT/build.log"; exit 1
fi
echo "== ringmesh-gpu-test"
timeout 60 "$BUILD/bin/ringmesh-gpu-test" 2>&1 | tee "$OUT/gpu-test.txt"
echo "== ringmesh-gpu-bench"
timeout 90 "$BUILD/bin/ringmesh-gpu-bench" 2>&1 | tee "$OUT/gpu-bench.txt"
echo "== ringmesh-bench --quick gpu-*"
timeout 60 "$BUILD/bin/ringmesh-bench" --quick 'gpu-*' 2>&1 | tee "$OUT/bench-quick.txt"
echo "== ringmesh-pipeline (its filter stage as a persistent GPU kernel), 1 and 2 ranks, --verify"
RINGMESH_LOG=info timeout 60 "$BUILD/bin/ringmesh-pipeline" --verify --progress 0 2>&1 | grep -v pmix | tee "$OUT/pipeline-gpu.txt"
timeout 60 mpirun -n 2 --oversubscribe --bind-to none "$BUILD/bin/ringmesh-pipeline" --records 2000000 --verify --progress 0 2>&1 |
    grep -v pmix | tee -a "$OUT/pipeline-gpu.txt"
echo "== ctest"
timeout 200 ctest --test-dir "$BUILD" -j 12 --timeout 60 --output-on-failure ${CTEST_ARGS:--LE soak} > "$OUT/ctest.log" 2>&1
echo "ctest exit $?"
grep -E "tests passed|Failed|\*\*\*|Not Run|Skipped" "$OUT/ctest.log" | tail -30
