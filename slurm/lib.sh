# shellcheck shell=bash
# slurm/lib.sh - everything the ringmesh sbatch scripts share (sourced, not run).
#
# A script locates the repo and sources this file, nothing more:
#   RM_ROOT=${RINGMESH_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
#   . "$RM_ROOT/slurm/lib.sh" || { echo "..." >&2; exit 1; }
# then calls rm_app_job srun|mpirun APP (or, like smoke.sbatch, the pieces).
# Everything here is driven by the job's Slurm variables and by these, so the
# same scripts run on a one-node test Slurm and on a real cluster:
#
#   RINGMESH_BIN        directory holding ringmesh-* binaries, or the binary itself
#                       (default: <repo>/build/bin)
#   RINGMESH_APP_ARGS   extra application arguments (appended after --verify)
#   RINGMESH_TRANSPORT  ucx | mpi  (read by the runtime on every rank)
#   RINGMESH_GPUS_PER_TASK  GPUs per task for srun when the job's GPUs were
#                       asked for some other way (--gres=gpu:N, --gpus-per-node)
#   RINGMESH_GPU_BIND   "local": each task keeps the GPU at its node-local rank
#                       (default when the job has GPUs but no per-task binding)
#   RINGMESH_SRUN_ARGS / RINGMESH_MPIRUN_ARGS  extra launcher arguments
#   RINGMESH_SLURM_SIM_NODES  K > 1: tests only (one-node job, root): the tasks
#                       appear to be on K nodes (slurm/task.sh)
#
# GPUs are switched on by asking Slurm for them at submit time
# (sbatch --gpus-per-task=1, or SBATCH_GPUS_PER_TASK=1 in the environment);
# without GPUs in the job nothing GPU-related is passed on.

RM_ROOT=$(cd "$RM_ROOT" && pwd)

rm_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
rm_die() { echo "ringmesh: $*" >&2; exit 1; }

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

rm_cpus_per_task() { echo "${SLURM_CPUS_PER_TASK:-1}"; }

# Tasks per node of the job (the most on any node).
rm_tasks_per_node() {
  local n=${SLURM_NTASKS_PER_NODE:-}
  if [ -z "$n" ] && [ -n "${SLURM_NTASKS:-}" ] && [ -n "${SLURM_NNODES:-}" ]; then
    n=$(( (SLURM_NTASKS + SLURM_NNODES - 1) / SLURM_NNODES ))
  fi
  echo "${n:-1}"
}

# More CPUs wanted on a node than it has? (the local tests run 4 tasks x
# --cpus-per-task on 2 CPUs, submitted with --overcommit)
rm_oversubscribed() {
  local need cpus=${SLURM_CPUS_ON_NODE:-0}
  [ -n "${SLURM_OVERCOMMIT:-}" ] && return 0
  need=$(( $(rm_tasks_per_node) * $(rm_cpus_per_task) ))
  [ "$cpus" -gt 0 ] && [ "$need" -gt "$cpus" ] && return 0
  [ "$need" -gt "$(nproc 2>/dev/null || echo 1000000)" ]
}

# The threads one rank of APP runs: its main thread, the runtime's progress
# thread and one thread per kernel it hosts (the event thread starts only when
# an app registers a callback with rk_runtime_on_event; these apps do not).
# Prints "THREADS WHAT".
rm_threads() {
  local app=$1 k=1 a prev="" place="" n=${SLURM_NTASKS:-1}
  # shellcheck disable=SC2086 # RINGMESH_APP_ARGS is a word list
  set -- ${RINGMESH_APP_ARGS:-}
  case "$app" in
    ringmesh-pipeline) # 4 stages over the ranks: at most ceil(4 / ranks) per rank, or what --place says
      k=$(( (4 + n - 1) / n ))
      for a in "$@"; do
        if [ "$prev" = --place ]; then place=$a; fi
        case "$a" in --place=*) place=${a#*=} ;; esac
        prev=$a
      done
      if [ -n "$place" ]; then
        k=$(tr ',' '\n' <<<"$place" | sort | uniq -c | sort -rn | awk 'NR==1{print $1}')
      fi
      echo "$((2 + k)) main, progress, $k stage kernel(s)" ;;
    ringmesh-pubsub) # --subscribers K kernels per rank (default 2); rank 0's main thread publishes
      k=2
      for a in "$@"; do
        case "$prev" in --subscribers) k=$a ;; esac
        case "$a" in --subscribers=*) k=${a#*=} ;; esac
        prev=$a
      done
      echo "$((2 + k)) main (publisher), progress, $k subscriber kernel(s)" ;;
    *) echo "1 main" ;;
  esac
}

# GPUs: on when the job has them (sbatch --gpus-per-task / --gpus-per-node /
# --gres=gpu), off otherwise. Sets RM_GPU_SRUN (srun flags) and RM_GPU_MODE
# (a sentence); exports RINGMESH_GPU_BIND=local where Slurm does not bind
# GPUs per task (--gpus-per-node, --gres, or mpirun starting the ranks).
rm_gpu_setup() {
  local launcher=$1 per_task=${RINGMESH_GPUS_PER_TASK:-${SLURM_GPUS_PER_TASK:-}}
  local job=${SLURM_GPUS_PER_TASK:-${SLURM_GPUS_PER_NODE:-${SLURM_GPUS_ON_NODE:-${SLURM_JOB_GPUS:-${SLURM_GPUS:-}}}}}
  RM_GPU_SRUN=()
  if [ -z "$job" ] || [ "$job" = 0 ]; then
    [ -z "${RINGMESH_GPUS_PER_TASK:-}" ] ||
      rm_die "RINGMESH_GPUS_PER_TASK=$RINGMESH_GPUS_PER_TASK but the job has no GPUs: submit with sbatch --gpus-per-task=$RINGMESH_GPUS_PER_TASK (or SBATCH_GPUS_PER_TASK=$RINGMESH_GPUS_PER_TASK)"
    RM_GPU_MODE="none (CPU only; sbatch --gpus-per-task=1 switches GPUs on)"
    return 0
  fi
  if [ "$launcher" = srun ] && [ -n "$per_task" ] && [ -z "${RINGMESH_GPU_BIND:-}" ]; then
    RM_GPU_SRUN=(--gpus-per-task="$per_task") # implies --gpu-bind=per_task:N
    RM_GPU_MODE="$per_task per task, bound by Slurm (srun --gpus-per-task=$per_task)"
  else
    export RINGMESH_GPU_BIND=${RINGMESH_GPU_BIND:-local}
    RM_GPU_MODE="${SLURM_GPUS_ON_NODE:-all} GPU(s) of each node; each task keeps the one at its node-local rank (RINGMESH_GPU_BIND=$RINGMESH_GPU_BIND)"
  fi
  # Backend AUTO kernels (the pipeline's filter) then run on the task's GPU;
  # at log level info the runtime names the GPU (or why it fell back to the host).
  export RINGMESH_LOG=${RINGMESH_LOG:-info}
  # An explicit UCX transport list needs the CUDA transports for device buffers.
  case "${UCX_TLS:-}" in
    "" | ^* | *all* | *cuda*) ;;
    *) export UCX_TLS="$UCX_TLS,cuda_copy,cuda_ipc"; rm_log "UCX_TLS += cuda_copy,cuda_ipc (GPUs in the job)" ;;
  esac
}

# RINGMESH_SLURM_SIM_NODES=K: a one-node test job whose tasks look like K nodes.
rm_sim_setup() {
  local k=${RINGMESH_SLURM_SIM_NODES:-}
  if [ -z "$k" ] || [ "$k" -le 1 ]; then unset RINGMESH_SLURM_SIM_NODES; return 0; fi
  if [ "${SLURM_NNODES:-1}" != 1 ]; then
    rm_die "RINGMESH_SLURM_SIM_NODES is for one-node test jobs (this one has $SLURM_NNODES nodes)"
  fi
  if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
    rm_die "RINGMESH_SLURM_SIM_NODES needs root and unshare (each task gets a host name of its own)"
  fi
  rm_log "simulating $k nodes on $(hostname -s): the node-local ranks split into $k groups, each with its own host name"
}

# srun arguments for a job step (as an array in RM_SRUN). Slurm >= 22.05 does
# not pass the job's --cpus-per-task on to srun, so it is given again.
rm_srun_args() {
  RM_SRUN=(srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task="$(rm_cpus_per_task)"
          ${RM_GPU_SRUN[@]+"${RM_GPU_SRUN[@]}"})
  if rm_oversubscribed; then RM_SRUN+=(--overcommit); fi
  # shellcheck disable=SC2206
  if [ -n "${RINGMESH_SRUN_ARGS:-}" ]; then RM_SRUN+=($RINGMESH_SRUN_ARGS); fi
}

# mpirun arguments (as an array in RM_MPIRUN): one rank per Slurm task
# (Open MPI takes the slots per node from the allocation). mpirun starts one
# daemon per node with srun, and that step must get the node's whole
# allocation: so srun must not see the per-task requests it reads from the
# environment (SLURM_CPUS_PER_TASK on Slurm >= 23.11, SLURM_GPUS_PER_TASK,
# SLURM_TRES_PER_TASK), which would confine all ranks of a node to one task's share.
rm_mpirun_args() {
  RM_MPIRUN=(env -u SLURM_CPUS_PER_TASK -u SRUN_CPUS_PER_TASK -u SLURM_GPUS_PER_TASK -u SLURM_TRES_PER_TASK
             mpirun -n "${SLURM_NTASKS:?not inside a Slurm allocation}")
  if rm_oversubscribed; then RM_MPIRUN+=(--oversubscribe --bind-to none); fi
  # Forward every RINGMESH_* and UCX_* setting to every rank (mpirun does not by default).
  local v
  for v in $(compgen -e | grep -E '^(RINGMESH_|UCX_)' || true); do
    RM_MPIRUN+=(-x "$v")
  done
  # shellcheck disable=SC2206
  if [ -n "${RINGMESH_MPIRUN_ARGS:-}" ]; then RM_MPIRUN+=($RINGMESH_MPIRUN_ARGS); fi
}

# The command each task runs: slurm/task.sh (GPU pick, "where" line), then CMD.
rm_task_cmd() { RM_TASK=("$RM_ROOT/slurm/task.sh" "$@"); }

# rm_start LAUNCHER [APP]: root env, GPU and simulation setup, the job banner.
rm_start() {
  local launcher=$1 app=${2:-} c threads
  rm_root_env
  c=$(rm_cpus_per_task)
  rm_log "job ${SLURM_JOB_ID:-?} (${SLURM_JOB_NAME:-?}): ${SLURM_NNODES:-?} node(s) [${SLURM_JOB_NODELIST:-?}]," \
         "${SLURM_NTASKS:-?} task(s), $(rm_tasks_per_node) per node, $c CPU(s) per task," \
         "${SLURM_CPUS_ON_NODE:-?} CPU(s) on $(hostname -s)"
  rm_log "repo $RM_ROOT; launcher $launcher; transport ${RINGMESH_TRANSPORT:-<default>}; UCX_TLS ${UCX_TLS:-<default>}"
  RM_GPU_SRUN=() RM_GPU_MODE="none"
  rm_gpu_setup "$launcher"
  rm_sim_setup
  rm_log "GPUs: $RM_GPU_MODE"
  if [ -n "$app" ]; then
    threads=$(rm_threads "$app")
    rm_log "threads per rank: ${threads%% *} (${threads#* }); --cpus-per-task=$c"
    if [ "${threads%% *}" -gt "$c" ]; then
      rm_log "warning: a rank runs ${threads%% *} threads on $c CPU(s); submit with --cpus-per-task=${threads%% *}"
    fi
  fi
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

# rm_app_job srun|mpirun APP: the whole job of an app script: APP --verify
# [RINGMESH_APP_ARGS] on every task, each task printing where it runs.
rm_app_job() {
  local launcher=$1 app=$2 bin
  rm_start "$launcher" "$app"
  bin=$(rm_resolve_bin "$app")
  # shellcheck disable=SC2086 # RINGMESH_APP_ARGS is a word list
  rm_task_cmd "$bin" --verify ${RINGMESH_APP_ARGS:-}
  case "$launcher" in
    srun) rm_srun_args; rm_run "${RM_SRUN[@]}" "${RM_TASK[@]}" ;;
    mpirun) rm_mpirun_args; rm_run "${RM_MPIRUN[@]}" "${RM_TASK[@]}" ;;
    *) rm_die "rm_app_job: launcher must be srun or mpirun, not '$launcher'" ;;
  esac
}
