#!/usr/bin/env python3
"""compare.py AFTER_GLOB BEFORE_GLOB - medians of repeated run-all.sh result sets.

Each glob names result directories written by run-all.sh (BENCH_RESULTS=DIR),
e.g. bench/results/mailbox/after-* and bench/results/mailbox/before-*. For every
(file, benchmark, metric, size, ranks, baseline) it prints the median value,
the median same-run baseline and ratio, each with its [min-max] over the sets,
for AFTER and then BEFORE. Lines marked 'skipped' are ignored.
"""
import collections
import glob
import json
import statistics
import sys


def load(pattern):
    acc = collections.defaultdict(lambda: collections.defaultdict(list))
    for d in sorted(glob.glob(pattern)):
        for path in sorted(glob.glob(d + "/*.jsonl")):
            name = path.rsplit("/", 1)[-1][: -len(".jsonl")]
            with open(path) as fh:
                for line in fh:
                    j = json.loads(line)
                    if "skipped" in j:
                        continue
                    p = j["params"]
                    key = (name, j["name"], j["metric"], p.get("size"), p.get("ranks"), j.get("baseline", ""))
                    acc[key]["value"].append(j["value"])
                    if "baseline_value" in j:
                        acc[key]["baseline"].append(j["baseline_value"])
                        acc[key]["ratio"].append(j["ratio"])
    return acc


def fmt(xs):
    return f"{statistics.median(xs):.4g} [{min(xs):.3g}-{max(xs):.3g}]" if xs else "-"


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    after, before = load(argv[1]), load(argv[2])
    if not after:
        print(f"compare.py: no result sets match {argv[1]}", file=sys.stderr)
        return 1
    for k in sorted(after, key=str):
        a, b = after[k], before.get(k, {})
        print(" ".join(str(x) for x in k[:5]), (k[5] or "")[:28],
              "| after", fmt(a["value"]), "baseline", fmt(a.get("baseline", [])), "ratio", fmt(a.get("ratio", [])),
              "| before", fmt(b.get("value", [])), "ratio", fmt(b.get("ratio", [])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
