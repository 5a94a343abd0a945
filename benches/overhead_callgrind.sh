#!/usr/bin/env bash
# Instructions spent on park recording, counted (not timed): the recording_cost workload
# under callgrind with the `profiling` feature on (default) and off.
#
#   bash benches/overhead_callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
cargo build -q --release -p benches --bin recording_cost --target-dir target/cost-on
cargo build -q --release -p benches --bin recording_cost --no-default-features --target-dir target/cost-off
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
on=$(count target/cost-on/release/recording_cost)
off=$(count target/cost-off/release/recording_cost)
python3 - "$on" "$off" <<'PY'
import sys
on, off = int(sys.argv[1]), int(sys.argv[2])
print(f"| build | instructions |")
print(f"|---|---:|")
print(f"| profiling on  | {on:,} |")
print(f"| profiling off | {off:,} |")
print(f"\non/off: {on / off:.4f}  (+{(on - off) / off * 100:.2f}%)")
PY
