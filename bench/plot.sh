#!/bin/sh
# plot.sh [RESULTS_DIR [PNG]] - one-way latency vs message size (log-log) from the
# pingpong lines of a reference run (default bench/results/cpu-2core):
# 2rank-ucx.jsonl (plus 2rank-ucx-peer-errors.jsonl and 2rank-mpi.jsonl when
# present): ringmesh over UCX (default endpoints, and RINGMESH_PEER_ERRORS=1),
# ringmesh over MPI, raw UCX AM, MPI_Send/Recv, and the wire-format floor (raw
# UCX AM carrying the msgpack encoding, encoded and decoded every hop).
# Writes PNG (default bench/latency.png). Needs gnuplot (installs gnuplot-nox with apt-get
# when it is missing and we may).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
res=${1:-$here/results/cpu-2core}
png=${2:-$here/latency.png}

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot: gnuplot missing; installing gnuplot-nox" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y gnuplot-nox >/dev/null || { apt-get update >/dev/null && apt-get install -y gnuplot-nox >/dev/null; }
    else
        sudo apt-get install -y gnuplot-nox >/dev/null
    fi
fi
[ -s "$res/2rank-ucx.jsonl" ] || { echo "plot: no $res/2rank-ucx.jsonl; run bench/run-all.sh first" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# columns: size  ringmesh(ucx)  raw-ucx  mpi  ringmesh(mpi transport)  ringmesh(ucx, shm)  wire floor
python3 - "$res" >"$data" <<'PY'
import json, os, sys
res = sys.argv[1]
rows = {}
def load(name):
    path = os.path.join(res, name)
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        line = line.strip()
        if line:
            o = json.loads(line)
            if o.get("name") == "pingpong" and "value" in o:
                out.append(o)
    return out
FLOOR = "raw UCX AM + wire format"
for o in load("2rank-ucx.jsonl"):
    r = rows.setdefault(o["params"]["size"], {})
    r["rk_ucx"] = o["value"]
    if o["baseline"] == "raw UCX AM":
        r["raw"] = o["baseline_value"]
    elif o["baseline"] == FLOOR:
        r.setdefault("floor", o["baseline_value"])
    elif o["baseline"].startswith("MPI"):
        r["mpi"] = o["baseline_value"]
for o in load("2rank-mpi.jsonl"):
    rows.setdefault(o["params"]["size"], {})["rk_mpi"] = o["value"]
for o in load("2rank-ucx-peer-errors.jsonl"):
    rows.setdefault(o["params"]["size"], {})["rk_shm"] = o["value"]
for size in sorted(rows):
    r = rows[size]
    print(size, *[r.get(k, "NaN") for k in ("rk_ucx", "raw", "mpi", "rk_mpi", "rk_shm", "floor")])
PY

gnuplot <<EOF
set terminal pngcairo size 900,600 enhanced font "sans,11"
set output "$png"
set title "One-way latency (half round trip, p50), 2 ranks on one 2-core node"
set xlabel "message size (bytes)"
set ylabel "latency (us)"
set logscale xy
set grid xtics ytics mxtics mytics
set key top left
set xtics ("64" 64, "1K" 1024, "16K" 16384, "256K" 262144, "1M" 1048576)
plot "$data" using 1:2 with linespoints lw 2 pt 7 title "ringmesh kernel->kernel (UCX, default: shared memory on a node)", \
     "$data" using 1:6 with linespoints lw 2 pt 13 title "ringmesh kernel->kernel (UCX, RINGMESH\\\\_PEER\\\\_ERRORS=1: TCP)", \
     "$data" using 1:5 with linespoints lw 2 pt 9 title "ringmesh kernel->kernel (MPI transport)", \
     "$data" using 1:3 with linespoints lw 2 pt 5 title "raw UCX AM", \
     "$data" using 1:4 with linespoints lw 2 pt 11 title "MPI\\\\_Send/MPI\\\\_Recv", \\
     "$data" using 1:7 with linespoints lw 2 dt 2 pt 3 title "raw UCX AM + wire format (encode+decode every hop)"
EOF
echo "plot: wrote $png" >&2
