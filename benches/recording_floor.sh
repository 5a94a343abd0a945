#!/usr/bin/env bash
# Where the recording's instructions go: the `park` loop of recording_cost (200,000 channel
# parks and resumes, 20,000 spawns; one worker) under callgrind, built with the `profiling`
# feature off, on, and on with each patch of benches/experiments/ applied to a copy of the
# tree: without the park-time table update, and with nothing but the leaf futures' stores
# of the park word through the thread-local record pointer (no poll count, no resume check,
# no `since` stamp, no table). Instruction counts repeat to the instruction from run to run.
#
#   bash benches/recording_floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
root=$PWD
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" park 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
cargo build -q --release -p benches --bin recording_cost --target-dir target/cost-on
cargo build -q --release -p benches --bin recording_cost --no-default-features --target-dir target/cost-off
rows=("off $(count target/cost-off/release/recording_cost)")
for patch in benches/experiments/*.patch; do
  name=$(basename "$patch" .patch)
  tree=$(mktemp -d)
  git ls-files -z | xargs -0 cp --parents -t "$tree"
  (cd "$tree" && git apply "$root/$patch" && cargo build -q --release -p benches \
    --bin recording_cost --target-dir "$root/target/cost-$name")
  rm -rf "$tree"
  rows+=("$name $(count "target/cost-$name/release/recording_cost")")
done
rows+=("on $(count target/cost-on/release/recording_cost)")
python3 - "${rows[@]}" <<'PY'
import sys
rows = [row.split() for row in sys.argv[1:]]
off = int(rows[0][1])
print("| build | instructions | over off |")
print("|---|---:|---:|")
for name, count in rows:
    count = int(count)
    print(f"| {name} | {count:,} | +{(count - off) / off * 100:.2f}% |")
PY
