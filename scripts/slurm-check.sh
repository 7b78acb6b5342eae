#!/usr/bin/env bash
# Check a finished Slurm job of ringmesh: exit code 0, at least one
# "VERIFY OK" in its output and no "VERIFY FAIL" (and, for the pipeline, its
# stages on min(4, nodes) nodes per its placement line, each on the node its
# rank's task reported). Prints one PASS/FAIL line;
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
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# Where the tasks ran: slurm/task.sh prints "where task R/N on HOST ..." per
# task and step; the job's nodes are those of Slurm (NumNodes) or, in a
# one-node test job that simulates several (RINGMESH_SLURM_SIM_NODES), the
# host names its tasks saw, whichever are more.
nodes=$(field NumNodes); nodes=${nodes%%-*}
where="" hosts=0
if [ -r "$out" ]; then
  where=$(sed -n 's/^where task \([0-9]*\)\/[0-9]* on \([^ ]*\) .*/\1 \2/p' "$out" | sort -u)
  [ -z "$where" ] || hosts=$(cut -d' ' -f2 <<<"$where" | sort -u | wc -l)
fi
case "$nodes" in ''|*[!0-9]*) nodes=$hosts ;; esac
[ "$hosts" -le "$nodes" ] || nodes=$hosts

# The pipeline's placement line ("source@R (node) ..."): its 4 stages must use
# min(4, nodes of the job) different nodes, so a multi-node job really spans
# them; and each stage's node must be the one its rank's task reported.
placed=""
if [ -r "$out" ] && grep -q '^ *placement ' "$out"; then
  pline=$(grep -m1 '^ *placement ' "$out")
  placed=$(grep -o '([^)]*)' <<<"$pline" | sort -u | wc -l)
  if [ "$nodes" -gt 0 ] 2>/dev/null; then
    want=$(( nodes < 4 ? nodes : 4 ))
    [ "$placed" -ge "$want" ] || reasons+=("pipeline stages on $placed node(s), want $want of the job's $nodes")
  fi
  if [ -n "$where" ]; then
    while read -r stage r h; do # "source 0 node01" per stage; short host names on both sides
      [ -n "$h" ] || continue
      ran=$(sed -n "s/^$r \([^.]*\).*/\1/p" <<<"$where" | head -n1)
      [ "${h%%.*}" = "$ran" ] ||
        reasons+=("placement puts $stage on rank $r ($h), but task $r reported ${ran:-no host}")
    done < <(grep -o '[a-z]*@[0-9]* ([^)]*)' <<<"$pline" | sed 's/^\([a-z]*\)@\([0-9]*\) (\(.*\))$/\1 \2 \3/')
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
[ -z "$where" ] || detail+=", $(wc -l <<<"$where") task(s) on $hosts host(s)"
[ -z "$placed" ] || detail+=", stages on $placed of $nodes node(s)"

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
