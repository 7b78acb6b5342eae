#!/usr/bin/env bash
# scripts/quickstart.sh - install what is needed, build, and run the main job:
# the 4-rank streaming pipeline on its built-in data set, checked against a
# serial reference (--verify). Extra arguments go to ringmesh-pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec mpirun --oversubscribe --bind-to none -n 4 build/bin/ringmesh-pipeline --verify "$@"
