//! Why a context is done: Go's `context.Canceled` and `context.DeadlineExceeded`.

use std::fmt;

/// Why a [`Context`](super::Context) is done, as [`Context::err`](super::Context::err)
/// reports it. `Display` gives Go's messages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// Cancelled through a [`CancelHandle`](super::CancelHandle), its own or an ancestor's:
    /// "context canceled".
    Canceled,
    /// The deadline passed (its own or an ancestor's) before any cancel: "context deadline
    /// exceeded".
    DeadlineExceeded,
}

impl ContextError {
    /// The nonzero code stored in a context's error word.
    pub(super) fn code(self) -> u8 {
        match self {
            ContextError::Canceled => 1,
            ContextError::DeadlineExceeded => 2,
        }
    }

    /// The error of a code; 0 (not done) gives `None`.
    pub(super) fn from_code(code: u8) -> Option<ContextError> {
        match code {
            1 => Some(ContextError::Canceled),
            2 => Some(ContextError::DeadlineExceeded),
            _ => None,
        }
    }

    /// True for [`ContextError::DeadlineExceeded`].
    pub fn is_deadline_exceeded(&self) -> bool {
        *self == ContextError::DeadlineExceeded
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for ContextError {}

impl From<ContextError> for std::io::Error {
    /// `Canceled` becomes `Interrupted`, `DeadlineExceeded` becomes `TimedOut`.
    fn from(error: ContextError) -> std::io::Error {
        let kind = match error {
            ContextError::Canceled => std::io::ErrorKind::Interrupted,
            ContextError::DeadlineExceeded => std::io::ErrorKind::TimedOut,
        };
        std::io::Error::new(kind, error)
    }
}
