#!/usr/bin/env bash
# Check a finished Slurm job of ringmesh: exit code 0, at least one
# "VERIFY OK" in its output and no "VERIFY FAIL" (and, for the pipeline, its
# stages on min(4, nodes) nodes per its placement line). Prints one PASS/FAIL line;
# on FAIL also the job's output. Exit status 0 = PASS, 1 = FAIL, 2 = usage.
#
#   scripts/slurm-check.sh [options] JOBID [OUTFILE]
#     --name NAME     label for the PASS/FAIL line (default: the job's name)
#     --rc RC         exit code to judge (e.g. from sbatch --wait); default:
#                     the job's ExitCode from scontrol (or sacct)
#     --expect STR    string that must appear (default: "VERIFY OK")
#     --count N       ... at least N times (default 1)
#     --wall SECS     wall time to report (e.g. measured around sbatch --wait)
#   OUTFILE defaults to the job's StdOut as Slurm reports it.
#
# Works on any cluster: scontrol keeps finished jobs for MinJobAge (300 s by
# default); after that sacct is used when accounting is configured.
set -uo pipefail

name="" rc="" expect="VERIFY OK" count=1 wall=""
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --rc) rc=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --wall) wall=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "slurm-check: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: slurm-check.sh [--name N] [--rc RC] [--expect STR] [--count N] JOBID [OUTFILE]" >&2
  exit 2
fi
job=$1 out=${2:-}

# Job facts from scontrol (recent jobs) or sacct (accounting).
info=$(scontrol show job -o "$job" 2>/dev/null || true)
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $info" | head -n1; }
state=$(field JobState) runtime=$(field RunTime) exitcode=$(field ExitCode)
[ -n "$name" ] || name=$(field JobName)
[ -n "$out" ] || out=$(field StdOut)
if [ -z "$info" ] && command -v sacct >/dev/null 2>&1; then
  line=$(sacct -X -n -P -j "$job" -o JobName,State,Elapsed,ExitCode 2>/dev/null | head -n1)
  if [ -n "$line" ]; then
    IFS='|' read -r sname state runtime exitcode <<<"$line"
    [ -n "$name" ] || name=$sname
  fi
fi
[ -n "$name" ] || name="job"
if [ -z "$rc" ] && [ -n "$exitcode" ]; then rc=${exitcode%%:*}; fi
# ExitCode=0:9 means killed by signal 9 even though the exit code says 0.
sig=${exitcode#*:}; [ "$sig" != "$exitcode" ] || sig=0

reasons=()
if [ -z "$rc" ]; then reasons+=("exit code unknown")
elif [ "$rc" != 0 ]; then reasons+=("exit code $rc"); fi
if [ -n "$sig" ] && [ "$sig" != 0 ]; then reasons+=("signal $sig"); fi
case "$state" in ""|COMPLETED) ;; *) reasons+=("state $state") ;; esac
n=0
if [ -z "$out" ] || [ ! -r "$out" ]; then
  reasons+=("no output file ${out:-?}")
else
  n=$(grep -cF -- "$expect" "$out" || true)
  [ "$n" -ge "$count" ] || reasons+=("'$expect' seen $n time(s), want >= $count")
  if grep -q 'VERIFY FAIL' "$out"; then reasons+=("VERIFY FAIL in output"); fi
fi

# The pipeline's placement line ("source@R (node) ..."): its 4 stages must use
# min(4, nodes of the job) different nodes, so a multi-node job really spans them.
placed=""
if [ -r "$out" ] && grep -q '^ *placement ' "$out"; then
  placed=$(grep -m1 '^ *placement ' "$out" | grep -o '([^)]*)' | sort -u | wc -l)
  nodes=$(field NumNodes); nodes=${nodes%%-*}
  if [ -n "$nodes" ] && [ "$nodes" -gt 0 ] 2>/dev/null; then
    want=$(( nodes < 4 ? nodes : 4 ))
    [ "$placed" -ge "$want" ] || reasons+=("pipeline stages on $placed node(s), want $want of the job's $nodes")
  fi
fi

# App time as printed by slurm/lib.sh's rm_run ("exit 0 after 1.23s").
apptime=""
if [ -r "$out" ]; then
  apptime=$(sed -n 's/.*exit [0-9]* after \([0-9.]*s\)$/\1/p' "$out" | paste -sd+ -)
fi
detail="job $job, exit ${rc:-?}, state ${state:-?}, runtime ${runtime:-?}"
[ -z "$wall" ] || detail+=", wall ${wall}s"
[ -z "$apptime" ] || detail+=", steps $apptime"
detail+=", $n x '$expect'"
[ -z "$placed" ] || detail+=", stages on $placed node(s)"

if [ "${#reasons[@]}" -eq 0 ]; then
  echo "PASS $name ($detail)"
  exit 0
fi
reason=$(printf '%s; ' "${reasons[@]}")
echo "FAIL $name (${reason%; }) ($detail)"
if [ -r "$out" ]; then
  echo "----- $out -----"
  cat -- "$out"
  echo "----- end of $out -----"
fi
exit 1
