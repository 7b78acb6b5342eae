# shellcheck shell=bash
# slurm/lib.sh - shared helpers for the ringmesh sbatch scripts (sourced, not run).
#
# The sbatch scripts locate the repo (see rm_find_root in each of them), then
# source this file. Everything here is driven by environment variables, so the
# same scripts work on a laptop-sized local Slurm and on a real cluster:
#
#   RINGMESH_BIN        directory holding ringmesh-* binaries, or the binary itself
#                       (default: <repo>/build/bin)
#   RINGMESH_TRANSPORT  ucx | mpi  (passed through to the runtime)
#   RINGMESH_GPUS_PER_TASK  if set (e.g. 1), srun gets --gpus-per-task=N
#   RINGMESH_GPU_BIND   "local": each task sets CUDA_VISIBLE_DEVICES to its
#                       node-local rank (mod the GPUs it sees); default: leave
#                       it to Slurm (--gpus-per-task) / the runtime
#   RINGMESH_SRUN_ARGS  extra srun arguments
#   RINGMESH_MPIRUN_ARGS extra mpirun arguments
#   RINGMESH_APP_ARGS   extra application arguments (appended after --verify)

rm_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Open MPI refuses to run as root unless told; only set it when we are root.
rm_root_env() {
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
}

# rm_resolve_bin NAME -> prints the path of binary NAME (ringmesh-pipeline ...)
rm_resolve_bin() {
  local name=$1 b=${RINGMESH_BIN:-$RM_ROOT/build/bin}
  if [ -d "$b" ]; then b="$b/$name"; fi
  if [ ! -x "$b" ]; then
    echo "ringmesh: binary not found or not executable: $b" >&2
    echo "ringmesh: build it (cmake --build build) or set RINGMESH_BIN" >&2
    return 1
  fi
  printf '%s\n' "$b"
}

# More tasks per node than CPUs? (local tests run 4 tasks on 2 CPUs)
rm_oversubscribed() {
  local per_node=${SLURM_NTASKS_PER_NODE:-} cpus=${SLURM_CPUS_ON_NODE:-0}
  if [ -z "$per_node" ] && [ -n "${SLURM_NTASKS:-}" ] && [ -n "${SLURM_NNODES:-}" ]; then
    per_node=$(( (SLURM_NTASKS + SLURM_NNODES - 1) / SLURM_NNODES ))
  fi
  [ -n "${SLURM_OVERCOMMIT:-}" ] && return 0
  [ -n "$per_node" ] || return 1
  [ "$cpus" -gt 0 ] && [ "$per_node" -gt "$cpus" ] && return 0
  [ "$per_node" -gt "$(nproc 2>/dev/null || echo 1000000)" ]
}

# srun arguments common to all jobs (as an array in RM_SRUN).
rm_srun_args() {
  RM_SRUN=(srun --mpi=pmix --kill-on-bad-exit=1)
  if [ -n "${RINGMESH_GPUS_PER_TASK:-}" ]; then
    RM_SRUN+=(--gpus-per-task="$RINGMESH_GPUS_PER_TASK")
  fi
  if rm_oversubscribed; then RM_SRUN+=(--overcommit); fi
  # shellcheck disable=SC2206
  if [ -n "${RINGMESH_SRUN_ARGS:-}" ]; then RM_SRUN+=($RINGMESH_SRUN_ARGS); fi
}

# mpirun arguments (as an array in RM_MPIRUN): one rank per Slurm task.
rm_mpirun_args() {
  RM_MPIRUN=(mpirun -n "${SLURM_NTASKS:?not inside a Slurm allocation}")
  if rm_oversubscribed; then RM_MPIRUN+=(--oversubscribe --bind-to none); fi
  # Forward every RINGMESH_* and UCX_* setting to every rank (mpirun does not by default).
  local v
  for v in $(compgen -e | grep -E '^(RINGMESH_|UCX_)' || true); do
    RM_MPIRUN+=(-x "$v")
  done
  # shellcheck disable=SC2206
  if [ -n "${RINGMESH_MPIRUN_ARGS:-}" ]; then RM_MPIRUN+=($RINGMESH_MPIRUN_ARGS); fi
}

# The command each task runs: optionally through the GPU-binding wrapper.
rm_task_cmd() {
  RM_TASK=()
  if [ "${RINGMESH_GPU_BIND:-}" = local ]; then RM_TASK=("$RM_ROOT/slurm/gpu-bind.sh"); fi
  RM_TASK+=("$@")
}

rm_banner() {
  rm_log "job ${SLURM_JOB_ID:-?} (${SLURM_JOB_NAME:-?}): ${SLURM_NNODES:-?} node(s) [${SLURM_JOB_NODELIST:-?}]," \
         "${SLURM_NTASKS:-?} task(s), ${SLURM_CPUS_ON_NODE:-?} CPU(s) on $(hostname -s)"
  rm_log "repo $RM_ROOT; transport ${RINGMESH_TRANSPORT:-<default>}; UCX_TLS ${UCX_TLS:-<default>}"
}

# rm_run CMD... : run, report time and exit code, return the exit code.
rm_run() {
  local t0 t1 rc
  rm_log "+ $*"
  t0=$(date +%s.%N)
  set +e
  "$@"
  rc=$?
  set -e
  t1=$(date +%s.%N)
  rm_log "exit $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')s"
  return $rc
}
