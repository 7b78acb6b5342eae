#!/bin/sh
# smoke.sh COMMAND... - run a ringmesh-bench command line (possibly under
# mpirun) and check that it exits 0 and that every stdout line is a JSON
# object with a "name". Speed is never checked.
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$@" >"$out"
rc=$?
cat "$out"
if [ "$rc" -ne 0 ]; then
    echo "smoke: command exited with $rc" >&2
    exit 1
fi
python3 - "$out" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
if not lines:
    sys.exit("smoke: no output")
for l in lines:
    o = json.loads(l)
    if not isinstance(o, dict) or "name" not in o:
        sys.exit("smoke: not a result object: " + l)
    if "skipped" not in o and not all(k in o for k in ("metric", "value", "unit", "params")):
        sys.exit("smoke: result without metric/value/unit/params: " + l)
    # Host benchmarks report the spread over their repetitions; the median lies in it.
    if "skipped" not in o and not o["name"].startswith("gpu-"):
        sp = o.get("spread")
        if not sp or len(sp.get("value", [])) != 2:
            sys.exit("smoke: result without spread.value [min, max]: " + l)
        lo, hi = sp["value"]
        if not (lo <= o["value"] <= hi):
            sys.exit("smoke: median outside its spread: " + l)
        if "baseline_value" in o and "baseline_value" in sp:
            blo, bhi = sp["baseline_value"]
            if not (blo <= o["baseline_value"] <= bhi):
                sys.exit("smoke: baseline median outside its spread: " + l)
print("smoke: %d JSON line(s) ok" % len(lines), file=sys.stderr)
PY
