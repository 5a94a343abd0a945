//! `profile.proto` export of a real runtime's profile: the structure pprof relies on, decoded
//! here with the crate's own prost messages, and (`--ignored`) `go tool pprof` itself
//! reading the files with no warning.

use profiler::pprof::{self, Profile as Proto, Sample};
use runtime::{ParkReason, Profile, Runtime, TaskState};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use test_support::{task_parked_for as parked, wait_for};

/// Channel ends the parked tasks wait on; dropping them would wake the tasks.
type Keep = Vec<Box<dyn std::any::Any>>;

/// A two-worker runtime with tasks parked on chan send (3, one site), chan receive (2, named
/// `consumer`), sleep and select, after parks that ended at a sleep, a chan receive and a
/// select site (so the park-time table has rows). Returns the profile taken then.
fn scene() -> (Runtime, Profile, Keep) {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (send_tx, send_rx) = runtime::chan::channel::<u32>(0);
    let (recv_tx, recv_rx) = runtime::chan::channel::<u32>(0);
    let (ping_tx, ping_rx) = runtime::chan::channel::<u32>(0);
    let (select_tx, select_rx) = runtime::chan::channel::<u32>(0);
    for _ in 0..3 {
        let tx = send_tx.clone();
        rt.spawn(async move { tx.send(1).await }); // SEND
    }
    for _ in 0..2 {
        let rx = recv_rx.clone();
        let consumer = runtime::task::Builder::new().name("consumer");
        consumer.spawn_on(async move { rx.recv().await }, rt.handle()); // CONSUME
    }
    let sleeper = rt.spawn(async {
        for _ in 0..3 {
            runtime::time::sleep(Duration::from_millis(5)).await; // NAP
        }
        runtime::time::sleep(Duration::from_secs(3600)).await; // SLEEP
    });
    let pinged = rt.spawn(async move {
        while ping_rx.recv().await.is_some() {} // PING
    });
    let selector = rt.spawn(async move {
        loop {
            let got = runtime::select! { // SELECT
                v = select_rx.recv() => v,
                _ = runtime::time::sleep(Duration::from_secs(3600)) => None,
            };
            if got.is_none() {
                break;
            }
        }
    });
    let (sleeper, pinged, selector) = (sleeper.id(), pinged.id(), selector.id());
    let profile = rt.block_on(async {
        // Each release waits for the task to be parked, so each park is recorded and ends.
        for i in 0..3 {
            wait_for(|p| parked(p, pinged, ParkReason::ChanReceive)).await;
            ping_tx.send(i).await.unwrap();
        }
        wait_for(|p| parked(p, selector, ParkReason::Select)).await;
        select_tx.send(1).await.unwrap();
        wait_for(|p| {
            parked(p, pinged, ParkReason::ChanReceive)
                && parked(p, selector, ParkReason::Select)
                && p.task(sleeper).and_then(|t| t.park()).is_some_and(|park| {
                    park.reason() == ParkReason::Sleep && park.site().line() == line_of("// SLEEP")
                })
                && p.parked_on(ParkReason::ChanSend).count() == 3
                && p.parked_on(ParkReason::ChanReceive).count() == 3
        })
        .await
    });
    let keep: Keep = vec![
        Box::new(send_rx),
        Box::new(recv_tx),
        Box::new(ping_tx),
        Box::new(select_tx),
    ];
    (rt, profile, keep)
}

/// The 1-based line marked `marker` in this file.
fn line_of(marker: &str) -> u32 {
    let index = include_str!("pprof.rs")
        .lines()
        .position(|l| l.contains(marker) && !l.contains("_of("))
        .expect("marker in file");
    index as u32 + 1
}

/// `file!():line:col` of the `needle` on the line marked `marker`.
fn site_of(marker: &str, needle: &str) -> String {
    let line = line_of(marker);
    let text = include_str!("pprof.rs")
        .lines()
        .nth(line as usize - 1)
        .unwrap();
    let column = text.find(needle).expect("needle on the marked line") + 1;
    format!("{}:{line}:{column}", file!())
}

/// Checks what pprof's `CheckValid` and readers rely on: string 0 is "", ids are non-zero
/// and unique, every reference resolves, one mapping with functions.
fn assert_well_formed(p: &Proto) {
    assert_eq!(p.string_table.first().map(String::as_str), Some(""));
    let strings = p.string_table.len() as i64;
    let in_table = |i: i64| (0..strings).contains(&i);
    assert_eq!(p.mapping.len(), 1);
    let m = &p.mapping[0];
    assert_eq!(m.id, 1);
    assert!(m.has_functions && m.has_filenames && m.has_line_numbers);
    assert!(in_table(m.filename) && m.filename != 0);
    let functions: HashSet<u64> = p.function.iter().map(|f| f.id).collect();
    assert_eq!(functions.len(), p.function.len(), "function ids unique");
    assert!(!functions.contains(&0));
    for f in &p.function {
        assert!(in_table(f.name) && f.name != 0);
        assert!(in_table(f.system_name) && in_table(f.filename));
    }
    let locations: HashSet<u64> = p.location.iter().map(|l| l.id).collect();
    assert_eq!(locations.len(), p.location.len(), "location ids unique");
    assert!(!locations.contains(&0));
    for l in &p.location {
        assert_eq!(l.mapping_id, 1);
        assert_eq!(l.line.len(), 1);
        assert!(functions.contains(&l.line[0].function_id));
    }
    for t in p.sample_type.iter().chain(&p.period_type) {
        assert!(in_table(t.r#type) && t.r#type != 0 && in_table(t.unit) && t.unit != 0);
    }
    assert_eq!(p.period, 1);
    for s in &p.sample {
        assert_eq!(s.value.len(), p.sample_type.len());
        assert!(!s.location_id.is_empty());
        assert!(s.location_id.iter().all(|id| locations.contains(id)));
        for label in &s.label {
            assert!(in_table(label.key) && label.key != 0);
            assert!(in_table(label.str) && in_table(label.num_unit));
        }
    }
    for &c in &p.comment {
        assert!(in_table(c));
    }
}

/// The sample's frames as (function name, file, line, column), leaf first.
fn frames(p: &Proto, s: &Sample) -> Vec<(String, String, i64, i64)> {
    s.location_id
        .iter()
        .map(|id| {
            let l = p.location.iter().find(|l| l.id == *id).unwrap();
            let f = p
                .function
                .iter()
                .find(|f| f.id == l.line[0].function_id)
                .unwrap();
            (
                p.string(f.name).to_string(),
                p.string(f.filename).to_string(),
                l.line[0].line,
                l.line[0].column,
            )
        })
        .collect()
}

/// The sample's string labels, and its numeric labels with their units.
fn labels(p: &Proto, s: &Sample) -> (HashMap<String, String>, HashMap<String, (i64, String)>) {
    let mut strs = HashMap::new();
    let mut nums = HashMap::new();
    for l in &s.label {
        let key = p.string(l.key).to_string();
        if l.str != 0 {
            strs.insert(key, p.string(l.str).to_string());
        } else {
            nums.insert(key, (l.num, p.string(l.num_unit).to_string()));
        }
    }
    (strs, nums)
}

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

#[test]
fn task_profile_has_one_sample_per_stack_and_labels_with_go_types() {
    let (_rt, profile, _keep) = scene();
    let before = now_nanos();
    let bytes = pprof::encode(&profile);
    let after = now_nanos();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzipped");
    let p = pprof::decode(&bytes).unwrap();
    assert_well_formed(&p);
    assert!((before..=after).contains(&p.time_nanos));
    let types: Vec<(&str, &str)> = p
        .sample_type
        .iter()
        .map(|t| (p.string(t.r#type), p.string(t.unit)))
        .collect();
    assert_eq!(types, [("goroutine", "count")]);
    let period = p.period_type.as_ref().unwrap();
    assert_eq!(
        (p.string(period.r#type), p.string(period.unit)),
        ("goroutine", "count")
    );
    let total: i64 = p.sample.iter().map(|s| s.value[0]).sum();
    assert_eq!(total, profile.len() as i64);

    // Identical (stack, labels) share a sample.
    let mut seen = HashSet::new();
    for s in &p.sample {
        let mut label: Vec<_> = s.label.iter().map(|l| (l.key, l.str, l.num)).collect();
        label.sort();
        assert!(
            seen.insert((s.location_id.clone(), label)),
            "duplicate sample"
        );
    }

    // The three senders: one stack, [chan send at the send, future at the spawn].
    let send = format!("chan send at {}", site_of("// SEND", "send("));
    let senders: Vec<&Sample> = p
        .sample
        .iter()
        .filter(|s| frames(&p, s)[0].0 == send)
        .collect();
    assert_eq!(senders.iter().map(|s| s.value[0]).sum::<i64>(), 3);
    let durations: HashSet<i64> = profile
        .parked_on(ParkReason::ChanSend)
        .map(|t| t.park().unwrap().duration().as_nanos() as i64)
        .collect();
    for s in &senders {
        let frames = frames(&p, s);
        assert_eq!(frames.len(), 2);
        let line = i64::from(line_of("// SEND"));
        assert_eq!(frames[0].1, file!());
        assert_eq!(frames[0].2, line);
        let task = profile.parked_on(ParkReason::ChanSend).next().unwrap();
        let spawn = task.spawn_site();
        assert_eq!(
            frames[1],
            (
                task.future_type().to_string(),
                file!().to_string(),
                i64::from(spawn.line()),
                i64::from(spawn.column())
            )
        );
        assert_eq!(
            format!("{}:{}:{}", file!(), frames[1].2, frames[1].3),
            site_of("// SEND", "spawn(")
        );
        let (strs, nums) = labels(&p, s);
        assert_eq!(strs.get("state").map(String::as_str), Some("parked"));
        assert_eq!(strs.get("reason").map(String::as_str), Some("chan send"));
        assert_eq!(strs.get("name"), None);
        let (parked, unit) = &nums["parked"];
        assert_eq!(unit, "nanoseconds");
        assert!(
            durations.contains(parked),
            "{parked} not a sender's park duration"
        );
    }

    // The named consumers carry their name.
    let consume = format!("chan receive at {}", site_of("// CONSUME", "recv("));
    let consumers: Vec<&Sample> = p
        .sample
        .iter()
        .filter(|s| frames(&p, s)[0].0 == consume)
        .collect();
    assert_eq!(consumers.iter().map(|s| s.value[0]).sum::<i64>(), 2);
    for s in consumers {
        let (strs, _) = labels(&p, s);
        assert_eq!(strs.get("name").map(String::as_str), Some("consumer"));
    }

    // Sleep and select, at their sites.
    for (reason, marker, needle) in [
        ("sleep", "// SLEEP", "runtime::time::sleep("),
        ("select", "// SELECT", "runtime::select!"),
    ] {
        let leaf = format!("{reason} at {}", site_of(marker, needle));
        let s = p.sample.iter().find(|s| frames(&p, s)[0].0 == leaf);
        let s = s.unwrap_or_else(|| panic!("no sample for {leaf}"));
        assert_eq!(labels(&p, s).0["reason"], reason);
        assert_eq!(
            p.function
                .iter()
                .find(|f| p.string(f.name) == leaf)
                .map(|f| p.string(f.system_name)),
            Some(reason)
        );
    }
}

#[test]
fn task_profile_of_running_tasks_has_only_the_future_frame() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let profile = rt.block_on(rt.spawn(async { runtime::profile() })).unwrap(); // RUNNING
    let p = pprof::decode(&pprof::encode(&profile)).unwrap();
    assert_well_formed(&p);
    let running = profile
        .tasks()
        .iter()
        .find(|t| t.state() == TaskState::Running);
    let running = running.expect("the snapshot task");
    let s = p
        .sample
        .iter()
        .find(|s| labels(&p, s).0["state"] == "running")
        .unwrap();
    let frames = frames(&p, s);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0, running.future_type());
    assert_eq!(
        format!("{}:{}:{}", frames[0].1, frames[0].2, frames[0].3),
        site_of("// RUNNING", "spawn(")
    );
    let (strs, nums) = labels(&p, s);
    assert_eq!(strs.get("reason"), None);
    // The one worker, and the time in poll the snapshot read (no `parked`).
    assert_eq!(nums["worker"], (0, String::new()));
    let in_poll = running.poll_duration().expect("time in poll").as_nanos() as i64;
    assert_eq!(nums["in_poll"], (in_poll, "nanoseconds".to_string()));
    assert_eq!(nums.len(), 2, "{nums:?}");
}

#[test]
fn park_profile_has_one_sample_per_park_site() {
    let (_rt, profile, _keep) = scene();
    let p = pprof::decode(&pprof::encode_park(&profile)).unwrap();
    assert_well_formed(&p);
    let types: Vec<(&str, &str)> = p
        .sample_type
        .iter()
        .map(|t| (p.string(t.r#type), p.string(t.unit)))
        .collect();
    assert_eq!(types, [("contentions", "count"), ("delay", "nanoseconds")]);
    assert_eq!(p.sample.len(), profile.park_sites().len());
    for (row, s) in profile.park_sites().iter().zip(&p.sample) {
        assert_eq!(s.value, [row.count as i64, row.total.as_nanos() as i64]);
        let frames = frames(&p, s);
        assert_eq!(frames.len(), 1);
        let site = row
            .site
            .map_or("<unknown site>".to_string(), |s| s.to_string());
        assert_eq!(frames[0].0, format!("{:#} at {site}", row.reason));
        assert_eq!(labels(&p, s).0["reason"], format!("{:#}", row.reason));
    }
    let count_at = |reason: ParkReason, site: String| {
        profile
            .park_sites()
            .iter()
            .filter(|r| r.reason == reason && r.site.is_some_and(|s| s.to_string() == site))
            .map(|r| r.count)
            .sum::<u64>()
    };
    assert!(
        count_at(
            ParkReason::Sleep,
            site_of("// NAP", "runtime::time::sleep(")
        ) >= 3
    );
    assert!(count_at(ParkReason::ChanReceive, site_of("// PING", "recv(")) >= 3);
    assert!(count_at(ParkReason::Select, site_of("// SELECT", "runtime::select!")) >= 1);
}

#[test]
fn empty_profile_encodes_a_valid_file() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    for bytes in [
        pprof::encode(&rt.profile()),
        pprof::encode_park(&rt.profile()),
    ] {
        let p = pprof::decode(&bytes).unwrap();
        assert_well_formed(&p);
        assert!(p.sample.is_empty());
    }
}

/// Runs `go tool pprof <args> <file>` and returns its stdout, failing on a non-zero exit
/// or on anything at all on stderr.
fn go_tool_pprof(args: &[&str], file: &Path) -> String {
    let output = Command::new("go")
        .args(["tool", "pprof"])
        .args(args)
        .arg(file)
        .output()
        .expect("`go` on PATH (apt-get install golang-go)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "go tool pprof {args:?} failed: {}\n{stderr}",
        output.status
    );
    assert!(
        stderr.trim().is_empty(),
        "go tool pprof {args:?} warned:\n{stderr}\nstdout:\n{stdout}"
    );
    println!(
        "$ go tool pprof {} {}\n{stdout}",
        args.join(" "),
        file.display()
    );
    stdout
}

#[test]
#[ignore = "needs Go: apt-get install golang-go; .ci/run runs it"]
fn go_tool_pprof_reads_our_profiles() {
    let (_rt, profile, _keep) = scene();
    let dir = std::env::temp_dir().join(format!("parkade-pprof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tasks = dir.join("goroutine.pb.gz");
    let park = dir.join("park.pb.gz");
    std::fs::write(&tasks, pprof::encode(&profile)).unwrap();
    std::fs::write(&park, pprof::encode_park(&profile)).unwrap();

    let send = format!("chan send at {}", site_of("// SEND", "send("));
    let consume = format!("chan receive at {}", site_of("// CONSUME", "recv("));
    let sleep = format!("sleep at {}", site_of("// SLEEP", "runtime::time::sleep("));
    let select = format!("select at {}", site_of("// SELECT", "runtime::select!"));
    let future = "pprof::scene::{{closure}}";

    let top = go_tool_pprof(&["-top"], &tasks);
    assert!(top.contains("Type: goroutine"), "{top}");
    assert!(
        top.contains(&format!("of {} total", profile.len())),
        "{top}"
    );
    // Ranked by task count: the three senders first.
    let first = top
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        first.trim_start().starts_with("3 ") && first.ends_with(&send),
        "{top}"
    );
    for name in [consume.as_str(), &sleep, &select, future] {
        assert!(top.contains(name), "{name} missing:\n{top}");
    }

    let traces = go_tool_pprof(&["-traces"], &tasks);
    for needle in [
        send.as_str(),
        &consume,
        &sleep,
        &select,
        future,
        "reason:  chan send",
        "reason:  chan receive",
        "reason:  sleep",
        "reason:  select",
        "name:  consumer",
        "state:  parked",
        "parked:  ",
    ] {
        assert!(traces.contains(needle), "{needle} missing:\n{traces}");
    }

    let tags = go_tool_pprof(&["-tags"], &tasks);
    for needle in [
        "reason:",
        "chan send",
        "chan receive",
        "sleep",
        "select",
        "name:",
        "consumer",
        "state:",
        "parked",
        "parked:",
    ] {
        assert!(tags.contains(needle), "{needle} missing:\n{tags}");
    }
    // `parked` is numeric in nanoseconds, shown as durations; every task is counted.
    let parked = tags
        .split("\n\n")
        .find(|section| section.trim_start().starts_with("parked:"))
        .unwrap_or_default();
    assert!(
        parked.contains(&format!("parked: Total {}.0", profile.len())),
        "{tags}"
    );
    let distinct: HashSet<Duration> = profile
        .tasks()
        .iter()
        .filter_map(|t| Some(t.park()?.duration()))
        .collect();
    // pprof merges durations that print the same (`20ms`), so at most one line per value.
    let values = parked.lines().count() - 1;
    assert!((1..=distinct.len()).contains(&values), "{tags}");

    // Park time: every site's count; only the 5 ms naps are sure to add up to a delay the
    // park clock (1-4 ms resolution) cannot round to zero, and pprof omits zero rows.
    let naps = format!("sleep at {}", site_of("// NAP", "runtime::time::sleep("));
    let delay = go_tool_pprof(&["-top", "-sample_index=delay"], &park);
    assert!(delay.contains("Type: delay"), "{delay}");
    assert!(delay.contains(&naps), "{naps} missing:\n{delay}");
    let contentions = go_tool_pprof(&["-top", "-sample_index=contentions"], &park);
    assert!(contentions.contains("Type: contentions"), "{contentions}");
    for site in [
        naps.clone(),
        format!("chan receive at {}", site_of("// PING", "recv(")),
        select.clone(),
    ] {
        assert!(
            contentions.contains(&site),
            "{site} missing:\n{contentions}"
        );
    }

    std::fs::remove_dir_all(&dir).unwrap();
}
