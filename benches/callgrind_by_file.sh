#!/usr/bin/env bash
# Where two builds of recording_cost differ, instruction by instruction: callgrind on both,
# self instructions summed per source file (so that inlining into different callers does
# not hide a change), printed per iteration of the workload for files that moved.
#
#   CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -p benches \
#     --bin recording_cost --target-dir target/a        # and the other build into target/b
#   bash benches/callgrind_by_file.sh yield 200000 target/a/release/recording_cost \
#     target/b/release/recording_cost
#
# Iterations: park 220000 (its polls), yield 200000, spawn 100000.
set -euo pipefail
workload=$1 iterations=$2 a=$3 b=$4
dir=$(mktemp -d)
for side in a b; do
  bin=${!side}
  valgrind --tool=callgrind --callgrind-out-file="$dir/$side.out" "$bin" "$workload" >/dev/null 2>&1
  callgrind_annotate --inclusive=no "$dir/$side.out" 2>/dev/null \
    | grep -E "^ *[0-9,]+ \(" | grep -v "PROGRAM TOTALS" \
    | sed -E 's/^ *([0-9,]+) \( *[0-9.]+%\)  ([^ ]+).*/\2 \1/' | tr -d ',' > "$dir/$side.tab"
done
python3 - "$iterations" "$dir/a.tab" "$dir/b.tab" <<'PY'
import re, sys
n = int(sys.argv[1])
def load(path):
    files = {}
    for line in open(path):
        key, count = line.rsplit(" ", 1)
        if not count.strip().isdigit():
            continue
        key = key.split(":")[0]
        if not re.search(r"\.(rs|c|S)$", key):
            continue  # callee lines ("=>"), annotations
        key = re.sub(r"^.*?/((runtime|benches|profiler)/)", r"\1", key)
        key = re.sub(r"^/rustc/[0-9a-f]+/library/", "std: ", key)
        files[key] = files.get(key, 0) + int(count)
    return files
a, b = load(sys.argv[2]), load(sys.argv[3])
print("| file | b − a per iteration |")
print("|---|---:|")
for delta, key in sorted((b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)):
    if abs(delta) >= n / 4:
        print(f"| {key} | {delta / n:+.1f} |")
print(f"| total | {(sum(b.values()) - sum(a.values())) / n:+.1f} |")
PY
rm -rf "$dir"
