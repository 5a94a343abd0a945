//! Every workload on Parkade and on tokio, alternating, with a fresh runtime per round.
//!
//! ```sh
//! cargo run --release -p benches --bin compare [-- --quick] [--aa] [--filter SUBSTR] [--json PATH]
//! ```
//!
//! For each workload (`benches/src/workloads.rs`, written once for both runtimes): one
//! calibration round on each runtime picks the iteration count `k` so that a round's timed
//! part takes about 200 ms (40 ms with `--quick`); then rounds alternate Parkade, tokio, Parkade, tokio, …
//! Each round builds a runtime with `benches::workers()` workers, runs the workload once to
//! warm up, times `k` iterations and drops the runtime (within one long-lived runtime,
//! where the workers happen to place tasks can make a workload bimodal). The table gives the
//! median over rounds of the per-iteration time and the Parkade/tokio ratio (< 1: Parkade
//! faster); its last line is the geometric mean of the ratios.
//!
//! `--aa` runs tokio against tokio: the spread of its ratios around 1.0 is the noise floor
//! against which the real ratios are read. `--json PATH` also writes
//! `[{"workload", "parkade_ns", "tokio_ns", "ratio"}]` (with `--aa`, both columns are tokio)
//! for `benches/chart.py`.

use benches::rt::{Parkade, Rt, Tokio};
use benches::workloads::{self, RunFn};
use std::time::{Duration, Instant};

struct Options {
    quick: bool,
    aa: bool,
    filter: Option<String>,
    json: Option<String>,
}

struct Row {
    workload: &'static str,
    a: Duration,
    b: Duration,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.a.as_secs_f64() / self.b.as_secs_f64()
    }
}

fn usage() -> ! {
    eprintln!("usage: compare [--quick] [--aa] [--filter SUBSTR] [--json PATH]");
    std::process::exit(2)
}

fn parse_args() -> Options {
    let mut options = Options {
        quick: false,
        aa: false,
        filter: None,
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--aa" => options.aa = true,
            "--filter" => options.filter = Some(args.next().unwrap_or_else(|| usage())),
            "--json" => options.json = Some(args.next().unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    options
}

/// One round: a fresh runtime, the workload's warm-up and `k` timed iterations; the time
/// per iteration.
fn round<R: Rt>(run: RunFn<R>, k: u32) -> Duration {
    let rt = R::build(benches::workers());
    let elapsed = run(&rt, k);
    drop(rt);
    elapsed / k
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

fn fmt_time(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Two decimals, three below 0.1 (so that a tiny ratio does not print as 0.00).
fn fmt_ratio(ratio: f64) -> String {
    if ratio < 0.1 {
        format!("{ratio:.3}")
    } else {
        format!("{ratio:.2}")
    }
}

fn run<A: Rt, B: Rt>(options: &Options, rounds: usize, target: Duration) -> Vec<Row> {
    let a = workloads::all::<A>();
    let b = workloads::all::<B>();
    println!("| workload | {} | {} | ratio |", A::NAME, B::NAME);
    println!("|---|---:|---:|---:|");
    let mut rows = Vec::new();
    for (wa, wb) in a.iter().zip(&b) {
        assert_eq!(wa.name, wb.name);
        if let Some(filter) = &options.filter {
            if !wa.name.contains(filter.as_str()) {
                continue;
            }
        }
        // Calibration (discarded): one iteration after the warm-up on each runtime; `k` from
        // their geometric mean, so that neither runtime's rounds get very long or very short
        // when one is much slower.
        let once = (round::<A>(wa.run, 1).as_secs_f64() * round::<B>(wb.run, 1).as_secs_f64())
            .sqrt()
            .max(1e-9);
        let k = (target.as_secs_f64() / once).clamp(1.0, 100_000.0) as u32;
        let (mut sa, mut sb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        for _ in 0..rounds {
            sa.push(round::<A>(wa.run, k));
            sb.push(round::<B>(wb.run, k));
        }
        let row = Row {
            workload: wa.name,
            a: median(sa),
            b: median(sb),
        };
        println!(
            "| {} | {} | {} | {} |",
            row.workload,
            fmt_time(row.a),
            fmt_time(row.b),
            fmt_ratio(row.ratio())
        );
        rows.push(row);
    }
    rows
}

fn write_json(path: &str, rows: &[Row]) -> std::io::Result<()> {
    let entries: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "  {{\"workload\": \"{}\", \"parkade_ns\": {}, \"tokio_ns\": {}, \"ratio\": {}}}",
                row.workload,
                row.a.as_nanos(),
                row.b.as_nanos(),
                row.ratio()
            )
        })
        .collect();
    std::fs::write(path, format!("[\n{}\n]\n", entries.join(",\n")))
}

fn main() {
    let options = parse_args();
    let (rounds, target) = if options.quick {
        (4, Duration::from_millis(40))
    } else {
        (12, Duration::from_millis(200))
    };
    let command: Vec<String> = std::env::args().collect();
    println!(
        "compare: `{}` | {} workers | {} rounds per runtime, alternating, fresh runtime per round | median time per iteration{}",
        command.join(" "),
        benches::workers(),
        rounds,
        if options.aa {
            " | A/A: tokio against tokio (noise floor)"
        } else {
            ""
        }
    );
    println!();
    let start = Instant::now();
    let rows = if options.aa {
        run::<Tokio, Tokio>(&options, rounds, target)
    } else {
        run::<Parkade, Tokio>(&options, rounds, target)
    };
    if let Some(path) = &options.json {
        if let Err(e) = write_json(path, &rows) {
            eprintln!("compare: writing {path}: {e}");
            std::process::exit(1);
        }
        eprintln!("compare: wrote {path}");
    }
    eprintln!("compare: {:.1} s", start.elapsed().as_secs_f64());
    println!();
    if rows.is_empty() {
        println!("geomean: n/a");
    } else {
        let log_sum: f64 = rows.iter().map(|row| row.ratio().ln()).sum();
        println!("geomean: {:.2}", (log_sum / rows.len() as f64).exp());
    }
}
