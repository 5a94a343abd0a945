#!/usr/bin/env python3
"""Prints criterion results as the tables of BENCHMARKS.md.

  python3 benches/criterion_table.py [BASELINE]              Parkade vs tokio, per workload

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


def main(argv):
    baseline = argv[0] if argv else "new"
    rows = [(w, median_ns(w, "parkade", baseline), median_ns(w, "tokio", baseline)) for w in WORKLOADS]
    rows = [r for r in rows if r[1] is not None or r[2] is not None]
    table(rows, "Parkade", "tokio")


if __name__ == "__main__":
    main(sys.argv[1:])
