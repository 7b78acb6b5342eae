#!/bin/bash
# slurm/gpu-bind.sh CMD... - restrict this task to one GPU picked by its
# node-local rank (SLURM_LOCALID under srun, OMPI_COMM_WORLD_LOCAL_RANK under
# mpirun), modulo the GPUs it can see. Used when RINGMESH_GPU_BIND=local.
lr=${SLURM_LOCALID:-${OMPI_COMM_WORLD_LOCAL_RANK:-${MPI_LOCALRANKID:-0}}}
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
  IFS=, read -r -a devs <<<"$CUDA_VISIBLE_DEVICES"
else
  n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
  devs=(); for ((i = 0; i < ${n:-0}; i++)); do devs+=("$i"); done
fi
if [ "${#devs[@]}" -gt 0 ]; then
  export CUDA_VISIBLE_DEVICES=${devs[$((lr % ${#devs[@]}))]}
fi
exec "$@"
