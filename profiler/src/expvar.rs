//! Published variables, Go's `expvar`: integers an application sets, served at `/debug/vars`
//! beside the runtime's own counters.
//!
//! ```
//! let task_count = profiler::expvar::Int::new("task_count");
//! task_count.set(42);
//! assert_eq!(profiler::expvar::Int::new("task_count").get(), 42); // same variable
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock, RwLock};

fn registry() -> &'static RwLock<BTreeMap<String, Arc<AtomicI64>>> {
    static VARS: OnceLock<RwLock<BTreeMap<String, Arc<AtomicI64>>>> = OnceLock::new();
    VARS.get_or_init(Default::default)
}

/// A published integer (Go's `expvar.Int`). Cloning gives the same variable.
#[derive(Clone, Debug)]
pub struct Int(Arc<AtomicI64>);

impl Int {
    /// The variable named `name`, created at 0 on first use.
    pub fn new(name: &str) -> Int {
        let mut vars = registry().write().unwrap_or_else(|e| e.into_inner());
        Int(vars.entry(name.to_string()).or_default().clone())
    }

    /// Sets the value.
    pub fn set(&self, value: i64) {
        self.0.store(value, Relaxed);
    }

    /// Adds `delta` to the value.
    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

/// Every published variable's current value, by name.
pub fn snapshot() -> BTreeMap<String, i64> {
    registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(name, value)| (name.clone(), value.load(Relaxed)))
        .collect()
}
