//! The heavy profiles under load: at most `max_renders` snapshots are rendered at once, the
//! other requests wait for a slot (then get `503`), and requests that overlap share one
//! snapshot, and what is rendered from a shared snapshot (a grouped dump, a pprof file) is
//! rendered once for all of them. Memory is so bounded by `max_renders` snapshots (and at most
//! `MAX_RENDERINGS` renderings each) whatever the number of clients; a request beyond waits
//! instead of adding another ~72 MB at a million tasks.

use super::http::{Response, Status};
use runtime::{Handle, Profile, TaskCounts};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Default number of profiles rendered at once.
pub(super) const DEFAULT_MAX_RENDERS: usize = 2;
/// Default time a request waits for a render slot before its `503`.
pub(super) const DEFAULT_RENDER_WAIT: Duration = Duration::from_secs(5);
/// How old a snapshot still in use by another render may be and be shared: overlapping
/// requests get the same tasks, a later one a fresh look.
const SHARE_WITHIN: Duration = Duration::from_secs(1);
/// Renderings kept per snapshot. Their keys hold a client's parameters (`min_parked`), so
/// past this many distinct ones a request renders for itself, as it did before renderings
/// were shared.
const MAX_RENDERINGS: usize = 16;
/// How old counts may be and still answer a scrape: far below any scrape interval, long
/// enough that a burst of scrapes walks the registry once.
const COUNTS_WITHIN: Duration = Duration::from_millis(100);

/// A runtime's profiles as the endpoint serves them: the handle, the render slots and the
/// snapshot being rendered.
pub(super) struct Profiles {
    handle: Handle,
    max_renders: usize,
    wait: Duration,
    state: Mutex<State>,
    /// Signalled when a slot is given back.
    freed: Condvar,
    /// The last counts and when they were read. Held while counting, so that concurrent
    /// scrapes wait for one walk of the registry and share its result.
    counts: Mutex<Option<(Instant, TaskCounts)>>,
}

struct State {
    /// Renders holding a slot; at most `max_renders`.
    rendering: usize,
    /// The last snapshot, alive while a render still holds it.
    latest: Weak<Snapshot>,
    taken_at: Instant,
}

/// A render slot and the snapshot it renders; the slot is given back when this is dropped
/// (after a streamed body is written, for `debug=2`).
pub(super) struct Render {
    snapshot: Arc<Snapshot>,
    _slot: Slot,
}

/// A snapshot, and what has been rendered from it: the renders that share the snapshot share
/// these too, each made once (the first request renders it, the others wait for it).
struct Snapshot {
    profile: Profile,
    /// By what was rendered (the path and the parameters that shape the body).
    rendered: Mutex<HashMap<String, Arc<Rendering>>>,
}

/// A body rendered from a snapshot, or the renderer's error; set by the first request that
/// asks, waited for by the others.
type Rendering = OnceLock<Result<Vec<u8>, String>>;

/// One taken render slot, given back on drop (also when a snapshot panics).
struct Slot(Arc<Profiles>);

impl Profiles {
    pub(super) fn new(handle: Handle, max_renders: usize, wait: Duration) -> Arc<Profiles> {
        Arc::new(Profiles {
            handle,
            max_renders: max_renders.max(1),
            wait,
            state: Mutex::new(State {
                rendering: 0,
                latest: Weak::new(),
                taken_at: Instant::now(),
            }),
            freed: Condvar::new(),
            counts: Mutex::new(None),
        })
    }

    /// The runtime, for what needs no snapshot (`task_counts`, the park-time table).
    pub(super) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Live tasks by state and reason: read at most once per `COUNTS_WITHIN`, however many
    /// scrapes ask at once (they wait for the one count in progress and share it).
    pub(super) fn task_counts(&self) -> TaskCounts {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        match &*counts {
            Some((at, fresh)) if at.elapsed() <= COUNTS_WITHIN => fresh.clone(),
            _ => {
                // With the leak check's default threshold, so the index counts suspects too.
                let fresh = self
                    .handle
                    .task_counts_parked_at_least(super::render::default_min_parked());
                *counts = Some((Instant::now(), fresh.clone()));
                fresh
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot and a snapshot to render: a snapshot another render is still using if it was
    /// taken within the last second, a new one otherwise. `Err` is the `503` to send when
    /// no slot frees up within the wait.
    pub(super) fn render(self: &Arc<Self>) -> Result<Render, Response> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.lock();
        while state.rendering >= self.max_renders {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.busy());
            }
            state = match self.freed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.rendering += 1;
        let shared = state
            .latest
            .upgrade()
            .filter(|_| state.taken_at.elapsed() <= SHARE_WITHIN);
        drop(state);
        let slot = Slot(self.clone());
        let snapshot = match shared {
            Some(snapshot) => snapshot,
            None => {
                let taken_at = Instant::now();
                let snapshot = Arc::new(Snapshot {
                    profile: self.handle.profile(),
                    rendered: Mutex::new(HashMap::new()),
                });
                let mut state = self.lock();
                state.latest = Arc::downgrade(&snapshot);
                state.taken_at = taken_at;
                snapshot
            }
        };
        Ok(Render {
            snapshot,
            _slot: slot,
        })
    }

    fn busy(&self) -> Response {
        Response::text(
            Status::SERVICE_UNAVAILABLE,
            format!(
                "503 service unavailable: {} profiles are being rendered already; retry later\n",
                self.max_renders
            ),
        )
        .header("Retry-After", "1")
    }
}

impl Render {
    /// The snapshot to render.
    pub(super) fn profile(&self) -> &Profile {
        &self.snapshot.profile
    }

    /// What `render` makes of the snapshot, made once per snapshot and `key` (which names
    /// everything the body depends on besides the snapshot), however many requests share
    /// it. An `Err` (a renderer's error message) is shared as well; a panic is not cached.
    pub(super) fn rendered(
        &self,
        key: String,
        render: impl FnOnce(&Profile) -> Result<Vec<u8>, String>,
    ) -> Result<Vec<u8>, String> {
        let cell = {
            let mut rendered = self
                .snapshot
                .rendered
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if rendered.len() >= MAX_RENDERINGS && !rendered.contains_key(&key) {
                drop(rendered);
                return render(&self.snapshot.profile);
            }
            rendered.entry(key).or_default().clone()
        };
        cell.get_or_init(|| render(&self.snapshot.profile)).clone()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.lock().rendering -= 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(max: usize, wait: Duration) -> (runtime::Runtime, Arc<Profiles>) {
        let rt = runtime::Runtime::new().unwrap();
        let profiles = Profiles::new(rt.handle().clone(), max, wait);
        (rt, profiles)
    }

    #[test]
    fn overlapping_renders_share_one_snapshot() {
        let (_rt, profiles) = profiles(2, Duration::from_millis(10));
        let first = profiles.render().ok().unwrap();
        let second = profiles.render().ok().unwrap();
        assert!(Arc::ptr_eq(&first.snapshot, &second.snapshot));
        drop((first, second));
        // Nobody holds it any more: the next render takes a fresh one.
        let third = profiles.render().ok().unwrap();
        assert_eq!(Arc::strong_count(&third.snapshot), 1);
    }

    #[test]
    fn renders_of_one_snapshot_are_made_once() {
        let (_rt, profiles) = profiles(2, Duration::from_millis(10));
        let made = std::sync::atomic::AtomicUsize::new(0);
        let render = |profile: &Profile| {
            made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(format!("{} tasks", profile.len()).into_bytes())
        };
        let first = profiles.render().ok().unwrap();
        let second = profiles.render().ok().unwrap();
        assert_eq!(first.rendered("a".into(), render), Ok(b"0 tasks".to_vec()));
        assert_eq!(second.rendered("a".into(), render), Ok(b"0 tasks".to_vec()));
        assert_eq!(made.load(std::sync::atomic::Ordering::Relaxed), 1);
        // Another key renders; an error is shared as it is.
        assert_eq!(
            second.rendered("b".into(), |_| Err("no".into())),
            Err("no".into())
        );
        assert_eq!(first.rendered("b".into(), render), Err("no".into()));
        // Past MAX_RENDERINGS keys, a request renders for itself (keys are client-chosen).
        for i in 0..MAX_RENDERINGS + 3 {
            let _ = first.rendered(format!("k{i}"), |_| Ok(Vec::new()));
        }
        assert_eq!(
            first.snapshot.rendered.lock().unwrap().len(),
            MAX_RENDERINGS
        );
        drop((first, second));
        // A new snapshot renders anew.
        let third = profiles.render().ok().unwrap();
        assert_eq!(third.rendered("a".into(), render), Ok(b"0 tasks".to_vec()));
        assert_eq!(made.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn renders_beyond_the_limit_wait_then_get_503() {
        let (_rt, profiles) = profiles(1, Duration::from_millis(50));
        let held = profiles.render().ok().unwrap();
        let busy = profiles.render().err().unwrap();
        assert_eq!(busy.status, Status::SERVICE_UNAVAILABLE);
        let head = String::from_utf8(busy.head(false)).unwrap();
        assert!(head.contains("Retry-After: 1\r\n"), "{head}");
        // A slot given back while a request waits is taken by it.
        let waiter = {
            let profiles = profiles.clone();
            std::thread::spawn(move || profiles.render().is_ok())
        };
        drop(held);
        assert!(waiter.join().unwrap());
        assert_eq!(profiles.lock().rendering, 0);
    }
}
