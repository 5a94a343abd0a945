#!/usr/bin/env bash
# Instructions spent on park recording, counted (not timed): the recording_cost workloads
# (park, yield, spawn) under callgrind with the `profiling` feature on (default) and off.
#
#   bash benches/overhead_callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
cargo build -q --release -p benches --bin recording_cost --target-dir target/cost-on
cargo build -q --release -p benches --bin recording_cost --no-default-features --target-dir target/cost-off
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
rows=()
for workload in park yield spawn; do
  on=$(count target/cost-on/release/recording_cost "$workload")
  off=$(count target/cost-off/release/recording_cost "$workload")
  rows+=("$workload $on $off")
done
python3 - "${rows[@]}" <<'PY'
import sys
print("| workload | profiling on | profiling off | on/off |")
print("|---|---:|---:|---:|")
for row in sys.argv[1:]:
    name, on, off = row.split()
    on, off = int(on), int(off)
    print(f"| {name} | {on:,} | {off:,} | {on / off:.4f} (+{(on - off) / off * 100:.2f}%) |")
PY
