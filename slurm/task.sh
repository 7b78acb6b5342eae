#!/bin/bash
# slurm/task.sh CMD... - run by every task of a ringmesh job in front of the
# app (slurm/lib.sh puts it there, under srun and under mpirun):
#   1. RINGMESH_GPU_BIND=local: keep only the GPU at this task's node-local
#      rank, modulo the GPUs it sees (jobs with --gpus-per-node or --gres, and
#      mpirun, where Slurm binds no GPU per task);
#   2. RINGMESH_SLURM_SIM_NODES=K (tests on a one-node cluster, as root): the
#      task gets a UTS namespace and the host name <host>-sim<i>, the
#      node-local ranks split into K consecutive groups, so MPI (and the
#      pipeline's placement) sees K nodes;
#   3. prints one line saying where it runs:
#        where task 5/8 on node02 (node-local 1/4): 4 CPU(s) [4-7], GPU 1
# then execs CMD.
set -euo pipefail

# Under mpirun the SLURM_* task variables are those of mpirun's daemon, so
# Open MPI's own come first.
rank=${OMPI_COMM_WORLD_RANK:-${SLURM_PROCID:-0}}
size=${OMPI_COMM_WORLD_SIZE:-${SLURM_NTASKS:-1}}
lr=${OMPI_COMM_WORLD_LOCAL_RANK:-${SLURM_LOCALID:-0}}
ln=${OMPI_COMM_WORLD_LOCAL_SIZE:-${SLURM_STEP_TASKS_PER_NODE:-${SLURM_TASKS_PER_NODE:-1}}}
ln=${ln%%[(,]*} # "4(x2)" -> 4

if [ "${RINGMESH_GPU_BIND:-}" = local ]; then
  if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
    IFS=, read -r -a devs <<<"$CUDA_VISIBLE_DEVICES"
  else
    n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
    devs=(); for ((i = 0; i < ${n:-0}; i++)); do devs+=("$i"); done
  fi
  if [ "${#devs[@]}" -gt 0 ]; then
    export CUDA_VISIBLE_DEVICES=${devs[$((lr % ${#devs[@]}))]}
  fi
fi

k=${RINGMESH_SLURM_SIM_NODES:-1}
if [ "$k" -gt 1 ]; then
  sim="$(hostname -s)-sim$(( lr * k / (ln > 0 ? ln : 1) ))"
  if [ "${RM_TASK_SIM_HOST:-}" != "$sim" ]; then # not yet in its own namespace
    export RM_TASK_SIM_HOST=$sim
    exec unshare --uts "$0" "$@"
  fi
  hostname "$sim"
fi

cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
gpu=""
[ -z "${CUDA_VISIBLE_DEVICES+x}" ] || gpu=", GPU ${CUDA_VISIBLE_DEVICES:-none}"
printf 'where task %s/%s on %s (node-local %s/%s): %s CPU(s) [%s]%s\n' \
  "$rank" "$size" "$(hostname -s)" "$lr" "$ln" "$(nproc)" "$cpus" "$gpu"
exec "$@"
