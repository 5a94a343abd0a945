//! A real Prometheus scrapes a Parkade runtime's `/metrics`: `promtool check metrics` accepts
//! the page, and PromQL over what Prometheus stored returns exactly the tasks parked here, by
//! reason, as `docs/prometheus.md` tells users to query them.
//!
//! Needs Debian's `prometheus` package (`/usr/bin/prometheus`, `/usr/bin/promtool`), so it is
//! `#[ignore]`d; CI installs the package and runs it with `--ignored`. Everything listens on
//! loopback; Prometheus runs as a child process with its own port and a data directory under
//! Cargo's per-target temp dir.

use runtime::sync::Mutex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Tasks parked on a send to an unbuffered channel nobody receives from.
const CHAN_SEND: u64 = 7;
/// Tasks in an hour-long sleep.
const SLEEP: u64 = 3;
/// Tasks waiting for a `runtime::sync::Mutex` the test holds.
const MUTEX_LOCK: u64 = 2;
/// How long anything that should happen "soon" may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);
/// The pause between two polls of something that is not there yet.
const POLL: Duration = Duration::from_millis(100);
/// Ports tried when the one picked was taken between picking it and Prometheus binding it.
const PORT_ATTEMPTS: usize = 3;

#[test]
#[ignore = "needs Debian's prometheus package (prometheus and promtool on PATH); CI runs it with --ignored"]
fn prometheus_scrapes_tasks_parked_by_reason() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();

    let (tx, rx) = runtime::chan::channel::<u64>(0);
    for i in 0..CHAN_SEND {
        let tx = tx.clone();
        rt.spawn(async move {
            let _ = tx.send(i).await;
        });
    }
    for _ in 0..SLEEP {
        rt.spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
    }
    let mutex = std::sync::Arc::new(Mutex::new(()));
    let held = rt.block_on(mutex.clone().lock_owned());
    for _ in 0..MUTEX_LOCK {
        let mutex = mutex.clone();
        rt.spawn(async move {
            let _guard = mutex.lock().await;
        });
    }
    let spawned = CHAN_SEND + SLEEP + MUTEX_LOCK;

    let debug = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    let target = debug.local_addr();
    let agent = loopback_agent();

    // Every task is parked before Prometheus starts, so its first scrape holds the final
    // values: the query below waits for a scrape, never for a value to change.
    let page = poll(
        "the tasks to park",
        || {
            let page = get(&agent, &format!("http://{target}/metrics")).ok()?;
            let samples = samples(&page);
            let parked = |reason: &str| {
                samples
                    .get(&format!(
                        "parkade_tasks{{state=\"parked\",reason=\"{reason}\"}}"
                    ))
                    .cloned()
            };
            let settled = parked("chan send") == Some(CHAN_SEND.to_string())
                && parked("sleep") == Some(SLEEP.to_string())
                && parked("mutex lock") == Some(MUTEX_LOCK.to_string());
            settled.then_some(page)
        },
        || get(&agent, &format!("http://{target}/metrics")).unwrap_or_else(|e| e.to_string()),
    );

    promtool_check_metrics(&page);

    let prometheus = Prometheus::start(target);
    let results = poll(
        "Prometheus's first scrape",
        || {
            let results = prometheus.query(&agent, r#"parkade_tasks{state="parked"}"#);
            (!results.is_empty()).then_some(results)
        },
        || prometheus.stderr(),
    );
    let by_reason: BTreeMap<String, f64> = results
        .iter()
        .map(|(labels, value)| {
            assert_eq!(labels["job"], "parkade", "{labels:?}");
            assert_eq!(labels["instance"], target.to_string(), "{labels:?}");
            (labels["reason"].clone(), *value)
        })
        .collect();
    let expected: BTreeMap<String, f64> = [
        ("chan send", CHAN_SEND),
        ("mutex lock", MUTEX_LOCK),
        ("sleep", SLEEP),
    ]
    .into_iter()
    .map(|(reason, count)| (reason.to_string(), count as f64))
    .collect();
    assert_eq!(by_reason, expected);

    assert_eq!(
        prometheus.single(&agent, "parkade_tasks_spawned_total"),
        spawned as f64
    );
    assert_eq!(prometheus.single(&agent, r#"up{job="parkade"}"#), 1.0);

    drop(prometheus);
    drop(held);
    drop(rx);
    drop(debug);
}

/// A ureq agent that talks to loopback directly whatever `http_proxy` says, never waits more
/// than 5 s for an answer, and hands back non-2xx answers as errors.
fn loopback_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent()
}

/// The body of a 200 answer to `GET url`.
fn get(agent: &ureq::Agent, url: &str) -> Result<String, ureq::Error> {
    agent.get(url).call()?.body_mut().read_to_string()
}

/// Calls `attempt` every [`POLL`] until it returns `Some`, for at most [`PATIENCE`]; then
/// fails naming `what` with the text of `context`.
fn poll<T>(what: &str, mut attempt: impl FnMut() -> Option<T>, context: impl Fn() -> String) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = attempt() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("waited {PATIENCE:?} for {what}\n{}", context());
        }
        std::thread::sleep(POLL);
    }
}

/// The samples of a text-format page, `series -> value` (`series` as printed, labels and all).
fn samples(page: &str) -> BTreeMap<String, String> {
    page.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .map(|(series, value)| (series.to_string(), value.to_string()))
        .collect()
}

/// Runs `promtool check metrics` on `page` (given on stdin) and fails with its output unless
/// it exits 0.
fn promtool_check_metrics(page: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running promtool (Debian package `prometheus`)");
    // promtool reads all of stdin before it writes, so writing first cannot deadlock.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(page.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}\nstdout:\n{}\nstderr:\n{}\npage:\n{page}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// A Prometheus server in a child process, scraping one target every second. Dropping it
/// kills the process and removes its directory.
struct Prometheus {
    child: Child,
    /// Holds `prometheus.yml`, `stderr.log` and the TSDB in `data/`.
    dir: PathBuf,
    addr: SocketAddr,
}

impl Prometheus {
    /// Starts Prometheus scraping `target`'s `/metrics` as job `parkade`, and waits for
    /// `/-/ready`.
    fn start(target: SocketAddr) -> Prometheus {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("prometheus-{}", std::process::id()));
        let agent = loopback_agent();
        for attempt in 1..=PORT_ATTEMPTS {
            // Picked by the OS, then released for Prometheus to bind: another process may
            // take it in between, which the retry covers.
            let addr = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .unwrap();
            // Afresh each attempt: dropping a failed attempt removes the directory.
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            let config = dir.join("prometheus.yml");
            fs::write(&config, config_yaml(target)).unwrap();
            let log = dir.join("stderr.log");
            let stderr = File::create(&log).unwrap();
            let child = Command::new("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("data").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                // A file, not a pipe: nobody reads it until the test fails, and a full pipe
                // would stall Prometheus.
                .stderr(stderr)
                .spawn()
                .expect("running prometheus (Debian package `prometheus`)");
            let mut prometheus = Prometheus {
                child,
                dir: dir.clone(),
                addr,
            };
            let ready = poll(
                "Prometheus to answer 200 on /-/ready",
                || {
                    if let Ok(Some(status)) = prometheus.child.try_wait() {
                        return Some(Err(status));
                    }
                    get(&agent, &format!("http://{addr}/-/ready"))
                        .ok()
                        .map(|_| Ok(()))
                },
                || fs::read_to_string(&log).unwrap_or_default(),
            );
            match ready {
                Ok(()) => return prometheus,
                Err(_)
                    if attempt < PORT_ATTEMPTS
                        && prometheus.stderr().contains("address already in use") => {}
                Err(status) => panic!("prometheus exited ({status}):\n{}", prometheus.stderr()),
            }
        }
        unreachable!("the last attempt returns or panics");
    }

    /// What Prometheus has logged so far.
    fn stderr(&self) -> String {
        fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// The instant vector `promql` evaluates to now, as (labels, value) pairs; empty while
    /// nothing matches (or Prometheus does not answer).
    fn query(&self, agent: &ureq::Agent, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let body = match agent
            .get(&format!("http://{}/api/v1/query", self.addr))
            .query("query", promql)
            .call()
            .and_then(|mut response| response.body_mut().read_to_string())
        {
            Ok(body) => body,
            Err(_) => return Vec::new(),
        };
        let answer: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("query {promql}: {e} in {body}"));
        assert_eq!(answer["status"], "success", "query {promql}: {body}");
        assert_eq!(
            answer["data"]["resultType"], "vector",
            "query {promql}: {body}"
        );
        let series = answer["data"]["result"].as_array().unwrap();
        series
            .iter()
            .map(|series| {
                let labels = series["metric"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_string()))
                    .collect();
                // A sample is `[unix time, "value"]`, the value a string so NaN and ±Inf fit.
                let value = series["value"][1].as_str().unwrap().parse().unwrap();
                (labels, value)
            })
            .collect()
    }

    /// The value of `promql`, which must evaluate to exactly one series.
    fn single(&self, agent: &ureq::Agent, promql: &str) -> f64 {
        let results = self.query(agent, promql);
        assert_eq!(results.len(), 1, "query {promql}: {results:?}");
        results[0].1
    }
}

/// `prometheus.yml`: one job, `parkade`, scraping `target` every second.
fn config_yaml(target: SocketAddr) -> String {
    format!(
        "global:\n  \
           scrape_interval: 1s\n  \
           scrape_timeout: 1s\n\
         scrape_configs:\n  \
           - job_name: parkade\n    \
             metrics_path: /metrics\n    \
             static_configs:\n      \
               - targets: ['{target}']\n"
    )
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
