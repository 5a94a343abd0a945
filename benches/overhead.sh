#!/usr/bin/env bash
# Cost of park recording: Parkade's rt_multi_threaded workloads built with the `profiling`
# feature (default) and without it (recording compiled out), alternating builds A B A B so
# that drift on a shared machine hits both, then per-workload on/off ratios.
#
#   bash benches/overhead.sh [ROUNDS] [FILTER]   (default 2 rounds, every Parkade workload;
#                                                FILTER is a criterion regex, e.g. 'yield|chained')
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
filter=${2:-parkade}
args=(--warm-up-time 1 --measurement-time 3)
for round in $(seq 1 "$rounds"); do
  cargo bench -q -p benches --bench rt_multi_threaded --bench sync -- "$filter" "${args[@]}" \
    --save-baseline "on$round" >/dev/null
  cargo bench -q -p benches --bench rt_multi_threaded --bench sync --no-default-features -- "$filter" "${args[@]}" \
    --save-baseline "off$round" >/dev/null
done
python3 benches/criterion_table.py --overhead-rounds "$rounds"
