//! `runtime::park::label`: names the park of a future the runtime does not know.
//!
//! Labels are interned once into a process-wide table so that a park record stays one word:
//! the record stores the label's 15-bit code, not the string.

use super::ParkReason;
use std::collections::HashMap;
use std::future::{poll_fn, Future, IntoFuture};
use std::panic::Location;
use std::sync::{OnceLock, RwLock};

/// Codes below this are the built-in reasons.
const FIRST_LABEL: u16 = 256;
/// Codes are 14 bits (the record word's top two bits are its PARKED and CARRY flags).
const LAST_LABEL: u16 = 0x3fff;

#[derive(Default)]
struct Labels {
    codes: HashMap<&'static str, u16>,
    names: Vec<&'static str>,
}

fn labels() -> &'static RwLock<Labels> {
    static LABELS: OnceLock<RwLock<Labels>> = OnceLock::new();
    LABELS.get_or_init(Default::default)
}

/// The code of `label`, assigning one on first use. Past 16,128 distinct labels, new ones are
/// recorded as `unknown` rather than growing without bound.
pub(crate) fn intern(label: &'static str) -> u16 {
    let table = labels();
    if let Some(&code) = table
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .codes
        .get(label)
    {
        return code;
    }
    let mut table = table.write().unwrap_or_else(|e| e.into_inner());
    if let Some(&code) = table.codes.get(label) {
        return code;
    }
    let next = FIRST_LABEL as usize + table.names.len();
    if next > LAST_LABEL as usize {
        return ParkReason::Unknown.code();
    }
    table.names.push(label);
    table.codes.insert(label, next as u16);
    next as u16
}

pub(crate) fn lookup(code: u16) -> Option<&'static str> {
    let index = code.checked_sub(FIRST_LABEL)? as usize;
    labels()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .names
        .get(index)
        .copied()
}

/// Runs `future`, recording its parks under `name` at the caller's site.
///
/// Futures from other crates do not know the runtime, so their parks show as `unknown`.
/// Wrapping one names it in every profile:
///
/// ```
/// # let rt = runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let rows = runtime::park::label("db query", async { 42 }).await;
/// # assert_eq!(rows, 42);
/// # });
/// ```
///
/// The label replaces whatever the wrapped future recorded, so it also groups runtime parks
/// under a name of the caller's choosing.
#[track_caller]
pub fn label<F: IntoFuture>(name: &'static str, future: F) -> impl Future<Output = F::Output> {
    let site = Location::caller();
    let code = intern(name);
    let future = future.into_future();
    async move {
        let mut future = std::pin::pin!(future);
        poll_fn(|cx| {
            let poll = future.as_mut().poll(cx);
            if poll.is_pending() {
                super::record_code(code, site);
            }
            poll
        })
        .await
    }
}
