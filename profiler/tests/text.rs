//! The grouped (`debug=1`) and per-task (`debug=2`) dumps of a real runtime's profile,
//! compared with golden files in `tests/golden/`.
//!
//! The scene is deterministic except for task ids and park durations, which [`normalize`]
//! replaces; all else (reasons, sites of this file, future types, states, parents) must match
//! the golden exactly. `UPDATE_GOLDEN=1 cargo test -p profiler --test text` rewrites them.

use runtime::{ParkReason, Profile, TaskSnapshot, TaskState};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;
use test_support::wait_for;

/// Builds a one-worker runtime whose tasks wait in every shape the dumps render, and
/// snapshots it from a task: that task is `running` and the task it spawned just before
/// the snapshot is `runnable` (the only worker is busy with the snapshot task).
fn scene() -> Profile {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let (send_tx, send_rx) = runtime::chan::channel::<u32>(0);
    let (recv_tx, recv_rx) = runtime::chan::channel::<u32>(0);
    let (select_tx, select_rx) = runtime::chan::channel::<u32>(0);
    let (child_tx, child_rx) = runtime::chan::channel::<u32>(0);
    let listener = rt
        .block_on(runtime::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();

    let sender = runtime::task::Builder::new().name("sender");
    sender.spawn_on(async move { send_tx.send(1).await }, rt.handle()); // SENDER
    rt.spawn(async move { recv_rx.recv().await }); // RECEIVER
    rt.spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await }); // SLEEPER
    rt.spawn(async move {
        runtime::select! { // SELECT
            v = select_rx.recv() => v, // CASE-RECV
            _ = runtime::time::sleep(Duration::from_secs(3600)) => None, // CASE-SLEEP
        }
    });
    rt.spawn(async move { listener.accept().await.map(|_| ()) }); // ACCEPT
    rt.spawn(async move {
        let child = runtime::spawn(async move { child_rx.recv().await }); // CHILD
        child.await // JOIN
    });
    let snapshot = rt.spawn(async {
        // RUNNING is the task spawned on the line above.
        // Registry order is not creation order: count the parked tasks, whatever their ids.
        wait_for(|p| p.tasks().iter().filter(|t| t.park().is_some()).count() == 7).await;
        runtime::spawn(async {}); // RUNNABLE
        runtime::profile()
    });
    let profile = rt.block_on(snapshot).unwrap();
    drop((send_rx, recv_tx, select_tx, child_tx));
    profile
}

/// Replaces what changes from run to run in a dump, as these regexes would:
/// `task \d+` → `task N`, and in a task header `, [0-9.]+(ns|µs|ms|s|m\d+s|h\d+m)\]:$`
/// → `, <dur>]:`.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut line = line.to_string();
        // Task ids, in headers and in `created by task`.
        let mut from = 0;
        while let Some(at) = line[from..].find("task ") {
            let digits_at = from + at + "task ".len();
            let digits = line[digits_at..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits > 0 {
                line.replace_range(digits_at..digits_at + digits, "N");
            }
            from = digits_at;
        }
        // The park duration of a header: `[<reason>, <duration>]:`.
        if line.starts_with("task ") && line.ends_with("]:\n") {
            if let Some(comma) = line.rfind(", ") {
                let duration = &line[comma + 2..line.len() - 3];
                let duration = duration.strip_suffix(" in poll").unwrap_or(duration);
                assert!(is_duration(duration), "not a duration: {duration:?}");
                let end = match line.ends_with(" in poll]:\n") {
                    true => line.len() - 3 - " in poll".len(),
                    false => line.len() - 3,
                };
                line.replace_range(comma + 2..end, "<dur>");
            }
        }
        out.push_str(&line);
    }
    out
}

/// The grouped dump lists a select's cases in the order it polled them, which starts at
/// random: sort each run of `#\tcase` lines.
fn sort_case_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    for run in lines.chunk_by_mut(|a, b| a.starts_with("#\tcase") == b.starts_with("#\tcase")) {
        if run[0].starts_with("#\tcase") {
            run.sort();
        }
    }
    lines.concat()
}

/// Whether `s` is one of `format_duration`'s shapes.
fn is_duration(s: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let decimal = |s: &str| match s.split_once('.') {
        Some((int, frac)) => number(int) && frac.len() == 1 && number(frac),
        None => number(s),
    };
    if let Some(s) = s.strip_suffix("ns").or(s.strip_suffix("µs")) {
        return number(s);
    }
    if let Some(s) = s.strip_suffix("ms") {
        return number(s);
    }
    if let Some(s) = s.strip_suffix('s') {
        return match s.split_once('m') {
            Some((m, s)) => number(m) && number(s),
            None => decimal(s),
        };
    }
    if let Some(s) = s.strip_suffix('m') {
        return s
            .split_once('h')
            .is_some_and(|(h, m)| number(h) && number(m));
    }
    false
}

/// Compares `actual` with `tests/golden/<name>`, or rewrites it under `UPDATE_GOLDEN=1`.
fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    assert!(
        actual == expected,
        "{name} differs from the golden file.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// `file!():line:col` of the `needle` on the line marked `marker` in this file.
fn site_of(marker: &str, needle: &str) -> String {
    let (index, text) = include_str!("text.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker) && !l.contains("site_of("))
        .expect("marker in file");
    let column = text.find(needle).expect("needle on the marked line") + 1;
    format!("{}:{}:{column}", file!(), index + 1)
}

fn dump(task: &TaskSnapshot) -> String {
    let mut out = Vec::new();
    profiler::text::write_task(&mut out, task).unwrap();
    String::from_utf8(out).unwrap()
}

fn by_spawn_site(profile: &Profile) -> Vec<&TaskSnapshot> {
    let mut tasks: Vec<&TaskSnapshot> = profile.tasks().iter().collect();
    tasks.sort_by_key(|t| (t.spawn_site().line(), t.spawn_site().column()));
    tasks
}

#[test]
fn per_task_dump_matches_golden() {
    let profile = scene();
    let tasks: Vec<String> = by_spawn_site(&profile).into_iter().map(dump).collect();
    assert_golden("tasks.txt", &normalize(&tasks.join("\n")));
}

#[test]
fn grouped_dump_matches_golden_and_display() {
    let profile = scene();
    let mut out = Vec::new();
    profiler::text::write_grouped(&mut out, &profile).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, profile.to_string());
    assert_golden("grouped.txt", &sort_case_lines(&text));
}

#[test]
fn write_tasks_is_write_task_in_registry_order_separated_by_blank_lines() {
    let profile = scene();
    let mut out = Vec::new();
    profiler::text::write_tasks(&mut out, &profile).unwrap();
    let expected: Vec<String> = profile.tasks().iter().map(dump).collect();
    assert_eq!(String::from_utf8(out).unwrap(), expected.join("\n"));
}

#[test]
fn named_parked_task_reads_like_a_go_traceback() {
    let profile = scene();
    let task = profile.tasks().iter().find(|t| t.name() == Some("sender"));
    let task = task.expect("the sender task");
    let park = task.park().unwrap();
    assert_eq!(park.reason(), ParkReason::ChanSend);
    let expected = format!(
        "task {} \"sender\" [chan send, {}]:\n\
         \tparked at {}\n\
         \tfuture {}\n\
         created at {}\n",
        task.id(),
        profiler::text::format_duration(park.duration()),
        site_of("// SENDER", "send("),
        task.future_type(),
        site_of("// SENDER", "spawn_on("),
    );
    assert_eq!(dump(task), expected);
    assert!(task.future_type().starts_with("text::scene::{{closure}}"));
}

#[test]
fn child_task_names_its_parent_and_select_lists_its_cases() {
    let profile = scene();
    let child = profile
        .tasks()
        .iter()
        .find(|t| t.spawn_site().to_string() == site_of("// CHILD", "runtime::spawn("))
        .expect("the child task");
    let parent = child.parent().expect("spawned from a task");
    let text = dump(child);
    let last = text.lines().last().unwrap();
    let spawn = site_of("// CHILD", "runtime::spawn(");
    assert_eq!(last, format!("created by task {parent} at {spawn}"));
    let parent = profile.task(parent).expect("the parent is alive");
    assert!(dump(parent).contains(&format!(
        "[join wait, {}]:\n\tparked at {}\n",
        profiler::text::format_duration(parent.park().unwrap().duration()),
        site_of("// JOIN", "await")
    )));

    let select = profile.parked_on(ParkReason::Select).next().unwrap();
    let lines: Vec<String> = dump(select).lines().map(str::to_string).collect();
    assert_eq!(
        lines[1],
        format!("\tparked at {}", site_of("// SELECT", "runtime::select!"))
    );
    // Source order, whatever order the select polled its cases in.
    assert_eq!(
        lines[2..4],
        [
            format!("\tcase [chan receive] {}", site_of("// CASE-RECV", "recv(")),
            format!(
                "\tcase [sleep] {}",
                site_of("// CASE-SLEEP", "runtime::time::sleep(")
            ),
        ]
    );
}

#[test]
fn io_wait_shows_its_detail_and_unparked_tasks_their_state() {
    let profile = scene();
    let accept = profile
        .tasks()
        .iter()
        .find(|t| {
            t.park()
                .is_some_and(|p| p.reason().detail() == Some("accept"))
        })
        .expect("the accepting task");
    assert!(
        dump(accept).contains(" [IO wait (accept), "),
        "{}",
        dump(accept)
    );

    let running = profile
        .tasks()
        .iter()
        .find(|t| t.state() == TaskState::Running)
        .expect("the snapshot task");
    let text = dump(running);
    let worker = running.worker().expect("a running task's worker");
    assert!(worker < 2, "{worker}");
    let in_poll = running
        .poll_duration()
        .expect("a running task's time in poll");
    assert!(
        text.starts_with(&format!(
            "task {} [running, {} in poll]:\n\ton worker {worker}\n\tfuture ",
            running.id(),
            runtime::time::format_duration(in_poll)
        )),
        "{text}"
    );
    assert!(!text.contains("parked at"), "{text}");
    let spawned = include_str!("text.rs")
        .lines()
        .position(|l| l.contains("// RUNNING is the task"))
        .unwrap(); // the line before the marker, as a 1-based number
    let column = include_str!("text.rs")
        .lines()
        .nth(spawned - 1)
        .unwrap()
        .find("spawn(")
        .unwrap();
    assert!(
        text.ends_with(&format!(
            "created at {}:{spawned}:{}\n",
            file!(),
            column + 1
        )),
        "{text}"
    );

    let runnable = profile
        .tasks()
        .iter()
        .find(|t| t.state() == TaskState::Runnable)
        .expect("the task spawned just before the snapshot");
    let text = dump(runnable);
    assert!(text.starts_with(&format!("task {} [runnable]:\n", runnable.id())));
    assert!(text.ends_with(&format!(
        "created by task {} at {}\n",
        running.id(),
        site_of("// RUNNABLE", "runtime::spawn(")
    )));
}

/// A writer that keeps only counts: bytes, blank lines, and the largest single write.
#[derive(Default)]
struct Counting {
    bytes: usize,
    largest_write: usize,
    blank_lines: usize,
    last: u8,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len();
        self.largest_write = self.largest_write.max(buf.len());
        for &b in buf {
            if b == b'\n' && self.last == b'\n' {
                self.blank_lines += 1;
            }
            self.last = b;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_tasks_streams_a_hundred_thousand_tasks() {
    const TASKS: usize = 100_000;
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (tx, rx) = runtime::chan::channel::<()>(0);
    for _ in 0..TASKS {
        let rx = rx.clone();
        rt.spawn(async move { rx.recv().await });
    }
    let profile = rt.block_on(async {
        wait_for(|p| p.parked_on(ParkReason::ChanReceive).count() == TASKS).await
    });
    let mut sink = Counting::default();
    profiler::text::write_tasks(&mut sink, &profile).unwrap();
    // One blank line between tasks, none inside one.
    assert_eq!(sink.blank_lines, TASKS - 1);
    assert!(sink.bytes > TASKS * 100, "{} bytes", sink.bytes);
    assert!(
        sink.largest_write <= 64 * 1024,
        "one write of {} bytes: the dump was built in memory",
        sink.largest_write
    );
    drop((tx, rx));
}

#[test]
fn normalize_replaces_ids_and_durations_only() {
    let text = "task 18 \"handler\" [chan send, 5m12s]:\n\
                \tparked at examples/leak_server.rs:44:24\n\
                \tfuture leak_server::handle_channel_leak::{{closure}}\n\
                created by task 7 at examples/leak_server.rs:42:5\n\
                \n\
                task 3 [running]:\n\
                \tfuture a::{{closure}}\n\
                created at a.rs:1:1\n";
    assert_eq!(
        normalize(text),
        "task N \"handler\" [chan send, <dur>]:\n\
         \tparked at examples/leak_server.rs:44:24\n\
         \tfuture leak_server::handle_channel_leak::{{closure}}\n\
         created by task N at examples/leak_server.rs:42:5\n\
         \n\
         task N [running]:\n\
         \tfuture a::{{closure}}\n\
         created at a.rs:1:1\n"
    );
    for d in [
        "0s", "412ns", "412µs", "850ms", "12.3s", "7s", "5m12s", "2h3m",
    ] {
        assert!(is_duration(d), "{d}");
    }
    for d in ["12.34s", "m12s", "2h", "ms", "1.5ms"] {
        assert!(!is_duration(d), "{d}");
    }
}
