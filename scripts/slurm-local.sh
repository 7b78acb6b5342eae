#!/usr/bin/env bash
# Bring up a real one-node Slurm (munged + slurmctld + slurmd) on this machine
# and run the slurm/ jobs against it, checking each with scripts/slurm-check.sh.
#
#   scripts/slurm-local.sh            smoke job, then pipeline (srun), pubsub
#                                     (srun) and pipeline (mpirun) with --verify
#   scripts/slurm-local.sh --smoke    only the smoke job (srun --mpi=pmix
#                                     hostname + MPI hello under srun and mpirun)
#   scripts/slurm-local.sh --up       only bring the cluster up (no jobs)
#   scripts/slurm-local.sh --stop     stop slurmd and slurmctld (munged stays)
#   options: --ntasks N (default 4 tasks per job on this one node; more
#                       tasks than cores is fine: the node advertises
#                       max(nproc, N x cpus-per-task, 4) CPUs and jobs run
#                       with --overcommit)
#            --keep     keep the job output dir even when everything passed
#
# Environment: RINGMESH_BIN (dir of ringmesh-* binaries, default build/bin),
# RINGMESH_TRANSPORT, RINGMESH_SLURM_PIPELINE_ARGS / RINGMESH_SLURM_PUBSUB_ARGS
# (extra app arguments, e.g. "--records 200000" / "--events 50000
# --subscribers 3"; default RINGMESH_APP_ARGS), RINGMESH_SLURM_OUT (output dir,
# default a fresh /tmp/ringmesh-slurm.XXXXXX), RINGMESH_SLURM_TIMEOUT (seconds
# per job, default 600), RINGMESH_SLURM_FORCE=1 (replace a slurm.conf that
# this script did not write; the old one is kept as slurm.conf.bak).
#
# Needs root (it installs packages and starts daemons). Runs fine twice in a
# row: daemons it started before are stopped through their pid files and
# started again with the freshly written config. Leaves the cluster running;
# stop it with --stop. Exit status: 0 when every job passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=all ntasks=4 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke ;;
    --up) mode=up ;;
    --stop) mode=stop ;;
    --ntasks) ntasks=$2; shift ;;
    --ntasks=*) ntasks=${1#*=} ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "slurm-local: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'slurm-local: %s\n' "$*"; }
die() { printf 'slurm-local: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts daemons)"

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# written by ringmesh scripts/slurm-local.sh"
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
LOG_DIR=/var/log/slurm
NODE=$(hostname -s)
[ -n "$NODE" ] || NODE=$(hostname)

# ---------------------------------------------------------------- daemons ---
# pid_alive PIDFILE NAME: the pid in PIDFILE is a running NAME process.
pid_alive() {
  local pid
  [ -r "$1" ] || return 1
  pid=$(tr -dc 0-9 <"$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}

# stop_daemon PIDFILE NAME: TERM the daemon we started (by its pid file), wait.
stop_daemon() {
  local pidfile=$1 name=$2 pid i
  if ! pid_alive "$pidfile" "$name"; then rm -f "$pidfile"; return 0; fi
  pid=$(tr -dc 0-9 <"$pidfile")
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.2
  done
  if [ -d "/proc/$pid" ]; then
    say "$name (pid $pid) ignored SIGTERM for 20s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
}

stop_slurm() {
  stop_daemon "$SLURMD_PID" slurmd
  stop_daemon "$CTLD_PID" slurmctld
}

if [ "$mode" = stop ]; then
  stop_slurm
  say "stopped"
  exit 0
fi

# --------------------------------------------------------------- packages ---
"$ROOT/scripts/install-deps.sh" --slurm

# ------------------------------------------------------------------ munge ---
MUNGE_KEY=/etc/munge/munge.key
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s "$MUNGE_KEY" ]; then
  say "creating munge key $MUNGE_KEY"
  if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --keyfile="$MUNGE_KEY" --force
  else
    dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
  fi
fi
chown munge:munge "$MUNGE_KEY"
chmod 0400 "$MUNGE_KEY"

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
  say "munged already running"
else
  say "starting munged"
  if command -v runuser >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
  else
    su -s /bin/sh munge -c /usr/sbin/munged
  fi
  for _ in $(seq 1 50); do munge_ok && break; sleep 0.2; done
  munge_ok || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# srun and slurmstepd look the node name up; containers do not always map it.
if ! getent hosts "$NODE" >/dev/null 2>&1; then
  say "adding '127.0.0.1 $NODE' to /etc/hosts (the host name did not resolve)"
  printf '127.0.0.1 %s\n' "$NODE" >>/etc/hosts
fi

# ------------------------------------------------------------- slurm.conf ---
PLUGIN_DIR=$(dirname "$(find /usr/lib -name 'mpi_pmix.so' -path '*slurm*' -print -quit 2>/dev/null || true)")
MPI_DEFAULT=none
if [ -n "$PLUGIN_DIR" ] && [ -e "$PLUGIN_DIR/mpi_pmix.so" ]; then MPI_DEFAULT=pmix; fi
# Slurm (cons_tres) rejects --ntasks-per-node x --cpus-per-task above a
# node's CPU count even with --overcommit, and the slurm/ scripts ask for
# both. So the node advertises at least $ntasks (default 4) times the largest
# --cpus-per-task of slurm/*.sbatch; config_overrides makes slurmd accept more
# CPUs than it finds. No task binding (task/none), so the extra "CPUs" are
# plain time-sharing of the real cores.
NCPU=$(nproc)
CPT=$(sed -n 's/^#SBATCH --cpus-per-task=\([0-9]*\).*/\1/p' "$ROOT"/slurm/*.sbatch | sort -n | tail -n1)
NEED=$(( ntasks * ${CPT:-1} ))
CPUS=${RINGMESH_SLURM_CPUS:-$(( NCPU > NEED ? NCPU : (NEED > 4 ? NEED : 4) ))}
MEM_MB=$(awk '/^MemTotal:/{printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)

new_conf=$(cat <<EOF
$MARK
# A one-node test cluster; see slurm/README.md for real clusters.
ClusterName=ringmesh-local
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: plain /proc process tracking, no task binding/confinement.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=$MPI_DEFAULT
ReturnToService=2
SlurmdParameters=config_overrides
InactiveLimit=0
MailProg=/bin/true
KillWait=10
MinJobAge=600
SlurmctldTimeout=60
SlurmdTimeout=120
# $NCPU real CPUs here, $CPUS advertised (oversubscription, see above).
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Default=YES Nodes=ALL MaxTime=INFINITE OverSubscribe=YES State=UP
EOF
)

install -d -m 0755 "$CONF_DIR" "$LOG_DIR" /var/spool/slurmd
install -d -m 0700 /var/spool/slurmctld
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  if [ "${RINGMESH_SLURM_FORCE:-0}" = 1 ]; then
    cp -p "$CONF" "$CONF.bak"
    say "replacing $CONF (old one kept as $CONF.bak)"
  else
    die "$CONF exists and was not written by this script; set RINGMESH_SLURM_FORCE=1 to replace it"
  fi
fi
if [ -e "$CONF" ] && [ "$(cat "$CONF")" = "$new_conf" ]; then
  say "$CONF unchanged"
else
  printf '%s\n' "$new_conf" >"$CONF"
  say "wrote $CONF (node $NODE, $CPUS CPUs on $NCPU cores, ${MEM_MB} MB, MpiDefault=$MPI_DEFAULT)"
fi

# ------------------------------------------------------------ (re)start ---
stop_slurm
say "starting slurmctld and slurmd"
slurmctld || die "slurmctld failed to start; tail of $LOG_DIR/slurmctld.log:
$(tail -n 20 "$LOG_DIR/slurmctld.log" 2>/dev/null)"
for _ in $(seq 1 100); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.2; done
scontrol ping 2>/dev/null | grep -q 'is UP' || die "slurmctld does not answer; tail of $LOG_DIR/slurmctld.log:
$(tail -n 20 "$LOG_DIR/slurmctld.log" 2>/dev/null)"
slurmd || die "slurmd failed to start; tail of $LOG_DIR/slurmd.log:
$(tail -n 20 "$LOG_DIR/slurmd.log" 2>/dev/null)"

state=""
resumed=0
for i in $(seq 1 120); do
  state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null | head -n1 || true)
  case "$state" in
    idle|mix|alloc) break ;;
    *drain*|*drng*|*down*|*fail*|inval*)
      if [ "$resumed" = 0 ] && [ "$i" -gt 5 ]; then
        say "node $NODE is '$state' ($(sinfo -h -n "$NODE" -o %E)); resuming it"
        scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
        resumed=1
      fi ;;
  esac
  sleep 0.5
done
case "$state" in
  idle|mix|alloc) say "node $NODE is $state" ;;
  *) sinfo -N -l || true
     die "node $NODE not idle after 60s (state '${state:-?}'); tail of $LOG_DIR/slurmd.log:
$(tail -n 20 "$LOG_DIR/slurmd.log" 2>/dev/null)" ;;
esac
sinfo
mpi_list=$(srun --mpi=list 2>&1 | sed 's/^srun: *//' | grep -v -i -e 'types are' -e 'specific' | tr -s ' \t\n' ' ')
say "srun --mpi=list:$mpi_list"
case " $mpi_list " in
  *" pmix "*) ;;
  *) die "srun has no pmix MPI plugin (need slurm-wlm-basic-plugins and libpmix2)" ;;
esac

[ "$mode" = up ] && { say "cluster is up; stop it with $0 --stop"; exit 0; }

# ------------------------------------------------------------------- jobs ---
OUT=${RINGMESH_SLURM_OUT:-$(mktemp -d /tmp/ringmesh-slurm.XXXXXX)}
mkdir -p "$OUT"
chmod 0755 "$OUT"
JOB_TIMEOUT=${RINGMESH_SLURM_TIMEOUT:-600}
say "job outputs in $OUT"

# Build the MPI hello here once so the smoke job only launches it.
mpicc -O2 -o "$OUT/mpi-hello" "$ROOT/slurm/mpi-hello.c"

results=() fails=0
# submit NAME SCRIPT APP_ARGS [sbatch args...]: run a job to completion
# (sbatch --wait), then check it with slurm-check.sh.
submit() {
  local name=$1 script=$2 app_args=$3 jobid rc t0 t1 wall line
  shift 3
  t0=$(date +%s.%N)
  set +e
  jobid=$(RINGMESH_APP_ARGS=$app_args timeout "$JOB_TIMEOUT" sbatch --wait --parsable \
            --job-name="$name" --nodes=1 --ntasks="$ntasks" --ntasks-per-node="$ntasks" \
            --overcommit --time=$(( (JOB_TIMEOUT + 59) / 60 )) \
            --output="$OUT/$name-%j.out" --chdir="$OUT" "$@" "$script")
  rc=$?
  set -e
  t1=$(date +%s.%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  jobid=${jobid%%;*}
  if [ -z "$jobid" ]; then
    line="FAIL $name (sbatch could not submit, exit $rc)"
    echo "$line"
  else
    if [ "$rc" = 124 ]; then
      say "$name: job $jobid still running after ${JOB_TIMEOUT}s; cancelling it"
      scancel "$jobid" 2>/dev/null || true
    fi
    set +e
    line=$("$ROOT/scripts/slurm-check.sh" --name "$name" --rc "$rc" --wall "$wall" \
             "$jobid" "$OUT/$name-$jobid.out")
    set -e
    echo "$line"
    line=$(head -n1 <<<"$line")
  fi
  results+=("$line")
  case "$line" in PASS*) ;; *) fails=$((fails + 1)) ;; esac
}

export RINGMESH_ROOT=$ROOT
export MPI_HELLO=$OUT/mpi-hello
submit ringmesh-smoke "$ROOT/slurm/smoke.sbatch" ""

if [ "$mode" = all ]; then
  export RINGMESH_BIN=${RINGMESH_BIN:-$ROOT/build/bin}
  missing=()
  for b in ringmesh-pipeline ringmesh-pubsub; do
    [ -x "$RINGMESH_BIN/$b" ] || missing+=("$b")
  done
  if [ "${#missing[@]}" -ne 0 ]; then
    line="FAIL ringmesh apps (not built in $RINGMESH_BIN: ${missing[*]}; build them, set RINGMESH_BIN, or use --smoke)"
    echo "$line"; results+=("$line"); fails=$((fails + 1))
  else
    say "apps from $RINGMESH_BIN"
    pipe_args=${RINGMESH_SLURM_PIPELINE_ARGS-${RINGMESH_APP_ARGS:-}}
    pubsub_args=${RINGMESH_SLURM_PUBSUB_ARGS-${RINGMESH_APP_ARGS:-}}
    submit ringmesh-pipeline "$ROOT/slurm/pipeline.sbatch" "$pipe_args"
    submit ringmesh-pubsub "$ROOT/slurm/pubsub.sbatch" "$pubsub_args"
    submit ringmesh-pipeline-mpirun "$ROOT/slurm/pipeline-mpirun.sbatch" "$pipe_args"
  fi
fi

echo "================ slurm-local summary ($NODE, $ntasks tasks/job) ================"
printf '%s\n' "${results[@]}"
if [ "$fails" -ne 0 ]; then
  echo "slurm-local: $fails job(s) FAILED; outputs kept in $OUT; daemon logs in $LOG_DIR"
  exit 1
fi
echo "slurm-local: all ${#results[@]} job(s) PASSED"
if [ "$keep" = 1 ] || [ -n "${RINGMESH_SLURM_OUT:-}" ]; then
  say "outputs kept in $OUT"
else
  rm -rf "$OUT"
fi
