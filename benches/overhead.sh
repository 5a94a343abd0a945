#!/usr/bin/env bash
# Cost of park recording in wall time: the `compare` workloads' Parkade times with the
# `profiling` feature on (default build) and off (--no-default-features: recording compiled
# out), builds alternating A B A B so that drift on a shared machine hits both; prints
# per-workload on/off ratios of the medians. Each round runs the recording-on build twice
# (before and after the off build); the ratio of those two halves' medians, "A/A", is the
# noise floor an on/off ratio must be read against. (Instruction counts, which this machine
# can resolve far better: benches/overhead_callgrind.sh.)
#
#   bash benches/overhead.sh [ROUNDS] [FILTER]   (default 6 rounds of `compare --quick`,
#                                                every workload; FILTER: a workload substring)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
filter=()
[ -n "${2:-}" ] && filter=(--filter "$2")
cargo build -q --release -p benches --bin compare --target-dir target/overhead-on
cargo build -q --release -p benches --bin compare --no-default-features --target-dir target/overhead-off
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  target/overhead-on/release/compare --quick "${filter[@]}" --json "$out/on$round.json" >/dev/null
  target/overhead-off/release/compare --quick "${filter[@]}" --json "$out/off$round.json" >/dev/null
  target/overhead-on/release/compare --quick "${filter[@]}" --json "$out/again$round.json" >/dev/null
done
python3 - "$out" "$rounds" <<'PY'
import json, math, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(kind):
    times = {}
    for r in range(1, rounds + 1):
        for row in json.load(open(f"{out}/{kind}{r}.json")):
            times.setdefault(row["workload"], []).append(row["parkade_ns"])
    return times
on, off, again = load("on"), load("off"), load("again")
print("| workload | recording on | recording off | on/off | A/A (on/on) |")
print("|---|---:|---:|---:|---:|")
ratios, floors = [], []
for workload in on:
    a = statistics.median(on[workload] + again[workload])
    b = statistics.median(off[workload])
    aa = statistics.median(on[workload]) / statistics.median(again[workload])
    ratios.append(a / b)
    floors.append(aa)
    print(f"| {workload} | {a / 1e3:.1f} µs | {b / 1e3:.1f} µs | {a / b:.3f} | {aa:.3f} |")
geomean = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
print(f"\ngeomean on/off: {geomean(ratios):.3f}  (A/A: {geomean(floors):.3f})")
PY
