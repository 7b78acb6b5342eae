#!/usr/bin/env bash
# Install everything ringmesh needs to build and test on Debian 12 (bookworm).
#
#   scripts/install-deps.sh            build + test toolchain
#   scripts/install-deps.sh --slurm    ... plus a local Slurm (slurmctld, slurmd,
#                                      client, munge, PMIx plugin support)
#
# Idempotent: if every package is already installed (checked with dpkg), apt
# is not touched at all, so repeated runs take well under a second.
# Works as root, or as a user with sudo. CUDA is NOT installed here: the
# build picks up /usr/local/cuda when it exists.
set -euo pipefail

want_slurm=0
for arg in "$@"; do
  case "$arg" in
    --slurm) want_slurm=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

pkgs=(
  build-essential cmake pkg-config git
  libopenmpi-dev openmpi-bin
  libucx-dev ucx-utils
  libmsgpack-dev
  libgtest-dev googletest
  clang libclang-rt-14-dev       # libFuzzer + sanitizer runtimes for clang-14
  valgrind gnuplot-nox python3 python3-msgpack python3-numpy  # numpy, msgpack: tests/interop
)
# Slurm for srun --mpi=pmix: slurm-wlm-basic-plugins ships mpi_pmix*.so,
# which dlopens libpmix2 (Open MPI 4.1 on Debian 12 is built against the
# same external PMIx, so srun-launched ranks wire up through it).
slurm_pkgs=(slurm-wlm slurmctld slurmd slurm-client slurm-wlm-basic-plugins
            munge libpmix2)
if [ "$want_slurm" = 1 ]; then
  pkgs+=("${slurm_pkgs[@]}")
fi

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${pkgs[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -E)
else
  echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: not a Debian system; install by hand: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
log=$(mktemp /tmp/install-deps.XXXXXX.log)
trap 'rm -f "$log"' EXIT

run_apt() {
  if ! "${SUDO[@]}" apt-get "${apt_opts[@]}" "$@" >"$log" 2>&1; then
    echo "install-deps: FAILED: apt-get $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

echo "install-deps: installing ${missing[*]}"
run_apt update
# Slurm's recommends pull in mail servers etc.; the rest keeps recommends.
base_missing=() slurm_missing=()
for p in "${missing[@]}"; do
  case " ${slurm_pkgs[*]} " in
    *" $p "*) slurm_missing+=("$p") ;;
    *) base_missing+=("$p") ;;
  esac
done
[ "${#base_missing[@]}" -eq 0 ] || run_apt install "${base_missing[@]}"
[ "${#slurm_missing[@]}" -eq 0 ] || run_apt install --no-install-recommends "${slurm_missing[@]}"

still=()
for p in "${pkgs[@]}"; do
  installed "$p" || still+=("$p")
done
if [ "${#still[@]}" -ne 0 ]; then
  echo "install-deps: FAILED: still not installed: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: done (${#missing[@]} installed)"
