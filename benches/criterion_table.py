#!/usr/bin/env python3
"""Prints criterion results as the tables of BENCHMARKS.md.

  python3 benches/criterion_table.py [BASELINE]              Parkade vs tokio, per workload
  python3 benches/criterion_table.py --overhead ON OFF       Parkade, recording on vs off
  python3 benches/criterion_table.py --overhead-rounds N     on1/off1 … onN/offN, ratio per
                                                             round and their geometric mean

Reads target/criterion/<workload>/<runtime>/<baseline>/estimates.json (median, in ns).
"""
import json
import math
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")
RT_WORKLOADS = [
    "spawn_many_local",
    "spawn_many_remote_idle",
    "spawn_many_remote_busy1",
    "spawn_many_remote_busy2",
    "ping_pong",
    "yield_many",
    "chained_spawn",
]
SYNC_WORKLOADS = [
    "contention_bounded",
    "contention_bounded_full",
    "contention_unbounded",
    "uncontended_bounded",
    "chan_ping_pong",
    "oneshot_request_reply",
    "mutex_contention",
    "semaphore_contention",
    "timers_10k_sleep_1ms",
]
WORKLOADS = RT_WORKLOADS + SYNC_WORKLOADS


def median_ns(workload, runtime, baseline):
    path = os.path.join(ROOT, workload, runtime, baseline, "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def table(rows, left, right):
    print(f"| workload | {left} | {right} | ratio |")
    print("|---|---:|---:|---:|")
    ratios = []
    for workload, a, b in rows:
        if a is None or b is None:
            print(f"| {workload} | {'—' if a is None else fmt(a)} | {'—' if b is None else fmt(b)} | — |")
            continue
        ratios.append(a / b)
        print(f"| {workload} | {fmt(a)} | {fmt(b)} | {a / b:.2f} |")
    if ratios:
        geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\ngeomean: {geomean:.2f}")


def overhead_rounds(rounds):
    print("| workload | " + " | ".join(f"on/off round {r}" for r in range(1, rounds + 1)) + " | geomean |")
    print("|---|" + "---:|" * (rounds + 1))
    for workload in WORKLOADS:
        if median_ns(workload, "parkade", "on1") is None:
            continue
        ratios = []
        for r in range(1, rounds + 1):
            on = median_ns(workload, "parkade", f"on{r}")
            off = median_ns(workload, "parkade", f"off{r}")
            ratios.append(None if on is None or off is None else on / off)
        known = [x for x in ratios if x is not None]
        mean = math.exp(sum(math.log(x) for x in known) / len(known)) if known else None
        cells = ["—" if x is None else f"{x:.3f}" for x in ratios]
        print(f"| {workload} | " + " | ".join(cells) + f" | {'—' if mean is None else f'{mean:.3f}'} |")


def main(argv):
    if len(argv) >= 2 and argv[0] == "--overhead-rounds":
        overhead_rounds(int(argv[1]))
    elif len(argv) >= 1 and argv[0] == "--overhead":
        on, off = argv[1], argv[2]
        rows = [(w, median_ns(w, "parkade", on), median_ns(w, "parkade", off)) for w in WORKLOADS]
        rows = [r for r in rows if r[1] is not None or r[2] is not None]
        table(rows, f"recording on ({on})", f"recording off ({off})")
    else:
        baseline = argv[0] if argv else "new"
        rows = [(w, median_ns(w, "parkade", baseline), median_ns(w, "tokio", baseline)) for w in WORKLOADS]
        rows = [r for r in rows if r[1] is not None or r[2] is not None]
        table(rows, "Parkade", "tokio")


if __name__ == "__main__":
    main(sys.argv[1:])
