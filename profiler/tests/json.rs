//! `/debug/pprof/goroutine?debug=json` (`profiler::json`): parsed as a program would, for the
//! fields `docs/profile-json.md` documents.
// Reasons, sites and times are what the document carries.
#![cfg(feature = "profiling")]

use serde_json::Value;
use std::time::Duration;

fn get_json(addr: std::net::SocketAddr, query: &str) -> (u16, Value) {
    let reply = test_support::http_get(addr, &format!("/debug/pprof/goroutine?{query}"));
    let status: u16 = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").unwrap().1;
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    )
}

#[test]
fn groups_totals_and_pages_of_tasks() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let mut senders = Vec::new();
    for i in 0..5 {
        let tx = tx.clone();
        let name = if i == 0 {
            "<script>alert(1)</script>"
        } else {
            "sender"
        };
        let _enter = rt.enter();
        senders.push(runtime::task::Builder::new().name(name).spawn(async move {
            tx.send(i).await // SEND
        }));
    }
    let sleeper = rt.spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    let addr = server.local_addr();
    test_support::wait_until(|| {
        let (_, doc) = get_json(addr, "debug=json");
        doc["totals"]["parked"] == 6
    });

    let (status, doc) = get_json(addr, "debug=json");
    assert_eq!(status, 200);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["totals"]["tasks"], 6);
    assert_eq!(doc["totals"]["workers"], 2);
    assert_eq!(
        doc["tasks"].as_array().unwrap().len(),
        0,
        "no tasks unless asked"
    );
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let send = &groups[0];
    assert_eq!(send["count"], 5);
    assert_eq!(send["state"], "parked");
    assert_eq!(send["reason"], "chan send");
    let line = include_str!("json.rs")
        .lines()
        .position(|l| l.ends_with("// SEND"))
        .unwrap()
        + 1;
    assert!(
        send["park_site"]
            .as_str()
            .unwrap()
            .starts_with(&format!("profiler/tests/json.rs:{line}:")),
        "{send}"
    );
    assert!(send["longest_park_ns"].as_u64().is_some());
    assert_eq!(groups[1]["reason"], "sleep");

    // The group's tasks, two at a time.
    let (_, page) = get_json(addr, "debug=json&group=0&limit=2&offset=4");
    assert_eq!(page["tasks_matched"], 5);
    assert_eq!(page["offset"], 4);
    let tasks = page["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "the fifth of five");
    let (_, all) = get_json(addr, "debug=json&group=0&limit=10");
    let tasks = all["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 5);
    for task in tasks {
        assert_eq!(task["group"], 0);
        assert_eq!(task["reason"], "chan send");
        assert!(task["park_ns"].as_u64().is_some());
        assert!(task["future_type"]
            .as_str()
            .unwrap()
            .contains("groups_totals_and_pages_of_tasks"));
        assert_eq!(task["blocked_by"], Value::Array(vec![]));
        assert_eq!(task["poll_ns"], Value::Null);
    }
    // Names are strings, as given: escaping them is the page's job.
    assert!(tasks
        .iter()
        .any(|t| t["name"] == "<script>alert(1)</script>"));
    let ids: Vec<u64> = tasks.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    for sender in &senders {
        assert!(ids.contains(&sender.id().as_u64()));
    }

    for bad in [
        "debug=json&group=2",
        "debug=json&limit=x",
        "debug=json&offset=-1",
        "debug=json&limit=10001",
    ] {
        let (status, body) = get_json(addr, bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
    // The server kept serving.
    assert_eq!(get_json(addr, "debug=json").0, 200);
    drop((rx, sleeper));
}

#[test]
fn the_live_page_is_one_self_contained_file_linked_from_the_index() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    let reply = test_support::http_get(server.local_addr(), "/debug/pprof/live");
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("\r\nContent-Type: text/html"), "{reply}");
    let page = reply.split_once("\r\n\r\n").unwrap().1;
    assert!(page.contains("<script>") && page.contains("debug=json"));
    // No external assets: no src or stylesheet links, no remote URL but the SVG namespace.
    assert!(!page.contains(" src="), "a script or image from elsewhere");
    assert!(!page.contains("<link"), "a stylesheet from elsewhere");
    let remote = page.matches("http://").count() + page.matches("https://").count();
    assert_eq!(remote, page.matches("http://www.w3.org/2000/svg").count());
    // Data reaches the page as text only.
    assert!(!page.contains("innerHTML") && !page.contains("insertAdjacentHTML"));
    let index = test_support::http_get(server.local_addr(), "/debug/pprof/");
    assert!(index.contains("<a href=\"/debug/pprof/live\">"), "{index}");
    // And the running tasks the page flags as stuck polls are in the JSON.
    let json = test_support::http_get(server.local_addr(), "/debug/pprof/goroutine?debug=json");
    assert!(json.contains("\"running\":["), "{json}");
}

/// In a real browser: a task name holding HTML shows as text and runs nothing. Needs
/// Chromium (`CHROMIUM`, default `/usr/bin/chromium`); `.ci/browser-test` runs it.
#[test]
#[ignore = "needs headless Chromium; run by .ci/browser-test"]
fn the_live_page_shows_a_name_holding_html_as_text() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let name =
        "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
    let (tx, rx) = runtime::chan::channel::<()>(0);
    let task = {
        let _enter = rt.enter();
        runtime::task::Builder::new()
            .name(name)
            .spawn(async move { rx.recv().await })
    };
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    test_support::wait_until(|| {
        rt.profile()
            .task(task.id())
            .is_some_and(|t| t.park().is_some())
    });
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile_dir = std::env::temp_dir().join(format!("parkade-live-{}", std::process::id()));
    let output = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .arg("--dump-dom")
        .arg(format!("http://{}/debug/pprof/live", server.local_addr()))
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile_dir);
    let dom = String::from_utf8_lossy(&output.stdout);
    // The group row names the task, as text: the serializer escapes `<` in text nodes.
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<title>pwned"), "a script ran: {dom}");
    assert!(dom.contains("<title>Parkade live</title>"), "{dom}");
    assert!(
        !dom.contains("<img src=\"x\""),
        "the name became an element: {dom}"
    );
    drop(tx);
}
