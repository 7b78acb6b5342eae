#!/bin/sh
# run-all.sh [BUILD_DIR] - run every ringmesh benchmark and write the reference
# run of this machine kind: bench/results/<kind>/ ($BENCH_MACHINE, default
# cpu-<N>core, or gpu-<model> where nvidia-smi sees a GPU), each file rewritten:
#   local.jsonl                 codec, mailbox, local-rr, call, gpu-* (one rank)
#   2rank-ucx.jsonl, 2rank-mpi.jsonl   pingpong + rate, RINGMESH_TRANSPORT=ucx / mpi,
#                               default settings (shared memory between ranks of a node);
#                               2rank-ucx.jsonl also buffer-fetch (vs raw UCX RMA)
#   2rank-ucx-reference.jsonl  the same with RINGMESH_COMPACT=0: every message in the
#                               reference msgpack form instead of its block
#   2rank-ucx-peer-errors.jsonl the same with RINGMESH_PEER_ERRORS=1 and the raw UCX
#                               baseline in peer-error mode too (what UCX does then)
#   pipeline-ucx.jsonl, pipeline-mpi.jsonl   pipeline at 1, 2 and 4 ranks
#   meta.json                   when, where, which commit
# bench/plot.sh then redraws bench/latency.png from the run. Extra ringmesh-bench
# options come from $BENCH_ARGS (e.g. BENCH_ARGS=--quick); $BENCH_RESULTS picks
# another output directory. On a shared machine set BENCH_WAIT_QUIET=SECONDS:
# before each run, wait up to that long for the CPUs to be >= 80% idle (other
# people's builds make every figure noisy).
# Exit status: 0 when every run succeeded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=""
for d in "${1:-}" "$root/build-bench" "$root/build"; do
    if [ -n "$d" ] && [ -x "$d/bin/ringmesh-bench" ]; then
        bin="$d/bin/ringmesh-bench"
        break
    fi
done
if [ -z "$bin" ]; then
    echo "run-all: no ringmesh-bench found; build it first:" >&2
    echo "  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench --target ringmesh-bench" >&2
    exit 1
fi

kind=${BENCH_MACHINE:-}
if [ -z "$kind" ]; then
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
    kind=${gpu:+gpu-$gpu}
    kind=${kind:-cpu-$(nproc)core}
fi
out=${BENCH_RESULTS:-$here/results/$kind}
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=${MPIRUN:-mpirun --oversubscribe --bind-to none}
ARGS=${BENCH_ARGS:-}
failed=0

# Percent of CPU time idle over one second (from /proc/stat).
idle_pct() {
    a=$(awk '/^cpu /{print $5, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu /{print $5, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    echo "$a $b" | awk '{d = $4 - $2; print (d > 0 ? int(100 * ($3 - $1) / d) : 100)}'
}

wait_quiet() {
    limit=${BENCH_WAIT_QUIET:-0}
    [ "$limit" -gt 0 ] || return 0
    waited=0
    while [ "$(idle_pct)" -lt 80 ] && [ "$waited" -lt "$limit" ]; do
        waited=$((waited + 1))
    done
    echo "run-all: $(idle_pct)% idle after waiting ${waited}s" >&2
}

# run FILE COMMAND...: append the command's stdout to results/FILE.
run() {
    file=$1
    shift
    wait_quiet
    echo "+ $*" >&2
    if ! "$@" >>"$out/$file"; then
        echo "run-all: FAILED: $*" >&2
        failed=1
    fi
}

for f in local 2rank-ucx 2rank-mpi 2rank-ucx-reference 2rank-ucx-peer-errors pipeline-ucx pipeline-mpi; do
    : >"$out/$f.jsonl"
done

# shellcheck disable=SC2086  # ARGS and MPIRUN are word lists on purpose
run local.jsonl "$bin" $ARGS codec mailbox local-rr call 'gpu-*'
for tp in ucx mpi; do
    RINGMESH_TRANSPORT=$tp run "2rank-$tp.jsonl" $MPIRUN -x RINGMESH_TRANSPORT -n 2 "$bin" $ARGS pingpong rate
done
# buffer-fetch (rk_buffer_fetch of a buffer on the other rank vs raw UCX RMA): over UCX only
RINGMESH_TRANSPORT=ucx run 2rank-ucx.jsonl $MPIRUN -x RINGMESH_TRANSPORT -n 2 "$bin" $ARGS buffer-fetch
RINGMESH_TRANSPORT=ucx RINGMESH_COMPACT=0 run 2rank-ucx-reference.jsonl $MPIRUN -x RINGMESH_TRANSPORT \
    -x RINGMESH_COMPACT -n 2 "$bin" $ARGS pingpong rate
RINGMESH_TRANSPORT=ucx RINGMESH_PEER_ERRORS=1 run 2rank-ucx-peer-errors.jsonl $MPIRUN -x RINGMESH_TRANSPORT \
    -x RINGMESH_PEER_ERRORS -n 2 "$bin" $ARGS --ucx-err-peer pingpong rate
for tp in ucx mpi; do
    for np in 1 2 4; do
        RINGMESH_TRANSPORT=$tp run "pipeline-$tp.jsonl" $MPIRUN -x RINGMESH_TRANSPORT -n $np "$bin" $ARGS pipeline
    done
done
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain -- . ":!bench/results" 2>/dev/null | grep -c . || true)
cat >"$out/meta.json" <<EOF
{"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","host":"$(hostname)","cpus":$(nproc),"cpu":"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')","loadavg":"$(cut -d' ' -f1-3 /proc/loadavg)","commit":"$commit","dirty_files":$dirty,"args":"$ARGS"}
EOF
echo "run-all: results in $out" >&2
[ "$out" = "$here/results/$kind" ] && "$here/plot.sh" "$out" "$here/latency.png" || true
exit $failed
