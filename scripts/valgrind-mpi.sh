#!/usr/bin/env bash
# scripts/valgrind-mpi.sh BUILD_DIR - valgrind memcheck on 2-rank runs of the
# cross-rank tests, both transports. Errors and definite leaks fail the run
# (exit 3); what MPI, PMIx and UCX do inside themselves is suppressed by
# scripts/valgrind.supp and Open MPI's own file.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SUPP="--suppressions=scripts/valgrind.supp"
[[ -f /usr/share/openmpi/openmpi-valgrind.supp ]] && SUPP="$SUPP --suppressions=/usr/share/openmpi/openmpi-valgrind.supp"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
FILTER=${RINGMESH_VALGRIND_FILTER:-'Directory.KernelsOfEveryRank*:PubSub.*:Priority.UrgentMessageOvertakesTenThousand*:Buffers.*:Observability.*:Hardening.Corrupt*:Refusal.*:Supervision.*:Call.Reply*'}
for tp in ucx mpi; do
    log=$(mktemp)
    echo "valgrind: 2 ranks, transport $tp, tests $FILTER"
    if ! RINGMESH_TRANSPORT=$tp UCX_MEM_MMAP_HOOK_MODE=none mpiexec --oversubscribe --bind-to none -n 2 \
        valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 $SUPP \
        "$BUILD/bin/ringmesh-mpi-tests" --gtest_filter="$FILTER" >"$log" 2>&1; then
        cat "$log"
        echo "valgrind: FAILED (transport $tp)"
        exit 3
    fi
    grep -E 'PASSED|FAILED' "$log" || true
    rm -f "$log"
done
echo "valgrind: clean (no errors, no definite leaks)"
