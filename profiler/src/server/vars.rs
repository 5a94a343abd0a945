//! `/debug/vars`: the runtime's counters as JSON, like Go's expvar.

use runtime::{TaskCounts, TaskState};
use serde::Serialize;
use std::collections::BTreeMap;

/// The page's fields, in the order they are written.
#[derive(Serialize)]
struct Vars {
    /// Live tasks.
    tasks: usize,
    /// Live tasks by state; every state is present.
    tasks_by_state: BTreeMap<&'static str, u64>,
    /// Parked tasks by park reason.
    tasks_by_reason: BTreeMap<String, u64>,
    spawned_total: u64,
    completed_total: u64,
    workers: usize,
    /// Variables the application published with `profiler::expvar`, at the top level as
    /// Go's expvar shows them.
    #[serde(flatten)]
    published: BTreeMap<String, i64>,
}

/// The JSON document for `counts` (no snapshot of the tasks), pretty-printed, ending with a
/// newline.
pub(super) fn render(counts: &TaskCounts) -> serde_json::Result<Vec<u8>> {
    let mut vars = Vars {
        tasks: usize::try_from(counts.total()).unwrap_or(usize::MAX),
        tasks_by_state: [TaskState::Running, TaskState::Runnable, TaskState::Parked]
            .into_iter()
            .map(|state| (state.as_str(), counts.state(state)))
            .collect(),
        tasks_by_reason: BTreeMap::new(),
        spawned_total: counts.spawned_total(),
        completed_total: counts.completed_total(),
        workers: counts.workers(),
        published: crate::expvar::snapshot(),
    };
    for (reason, count) in counts.by_reason() {
        *vars.tasks_by_reason.entry(reason.to_string()).or_default() += count;
    }
    let mut body = serde_json::to_vec_pretty(&vars)?;
    body.push(b'\n');
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_runtime() {
        let rt = runtime::Builder::new().worker_threads(3).build().unwrap();
        let body = render(&rt.handle().task_counts()).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["tasks"], 0);
        assert_eq!(json["tasks_by_state"]["parked"], 0);
        assert_eq!(json["tasks_by_reason"], serde_json::json!({}));
        assert_eq!(json["workers"], 3);
    }
}
