//! [`DebugService`]: the endpoint's routes as a `tower_service::Service`, so that an
//! application serving HTTP with hyper or axum mounts the profiles on its own router.
//!
//! One router answers both transports: a request becomes the router's [`Request`], and the
//! [`Response`] it gets back becomes an `http::Response` with the same status, header fields
//! and body that [`serve`](super::serve) writes, less `Connection: close` (the connection is
//! the application's).

use super::body::Body;
use super::http::{self, answer, Request, Response, Status};
use super::renders::{Profiles, DEFAULT_MAX_RENDERS, DEFAULT_RENDER_WAIT};
use super::routes;
use super::thread::{spawn_render, Rendering};
use ::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH};
use ::http::StatusCode;
use runtime::Handle;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// The debug endpoint as a [`tower_service::Service`]: mount the profiles of a Parkade runtime
/// on an axum or hyper server's own router.
///
/// Its responses are those of [`serve`](super::serve) for the same method, path and query
/// (see the [module docs](super) for the paths): same status codes, content types, header
/// fields and bodies, but no `Connection: close`. The request body is ignored. The `debug=2`
/// dumps stream as a [`Body`] without a length; every other body is sent with its length.
///
/// Rendering a profile of a million tasks takes a good tenth of a second of CPU, so the
/// service never renders on a runtime worker: each request's route, and the writer of a
/// streamed body, run on a thread of their own at nice +10 (Linux), below the workers, and
/// the service's future waits for them without blocking its worker. The runtime's blocking
/// pool is not used: its threads are the application's, and could not be given their
/// priority back. A handler that panics answers `500`, as `serve` does; should the OS refuse
/// a new thread, the answer is `503` with `Retry-After: 1`.
///
/// The requests reach the profiles by their full paths (`/debug/pprof/goroutine`, `/metrics`,
/// …), so mount the service where those paths arrive unchanged, as axum's `fallback_service`
/// or `route_service` do. Under `nest_service("/internal", …)` axum strips the prefix, so
/// `/internal/debug/pprof/goroutine` is served (the index page's links, though, are absolute).
///
/// # Examples
///
/// Answering on an axum router, here driven without a server:
///
/// ```
/// use axum::{body::Body, http::Request, routing::get, Router};
/// use tower::ServiceExt;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .fallback_service(profiler::DebugService::new());
///
/// let request = Request::get("/debug/pprof/goroutine?debug=1").body(Body::empty()).unwrap();
/// let response = app.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// # });
/// ```
#[derive(Clone)]
pub struct DebugService {
    /// Shared by the clones: the render slots and the snapshot being rendered.
    profiles: Arc<Profiles>,
}

impl DebugService {
    /// A service for the current runtime's profiles.
    ///
    /// # Panics
    /// Outside a Parkade runtime (a task, `block_on`, a blocking closure or
    /// `Handle::enter`); from other threads use [`DebugService::with_handle`].
    #[track_caller]
    pub fn new() -> DebugService {
        DebugService::with_handle(Handle::current())
    }

    /// A service for the profiles of `handle`'s runtime.
    pub fn with_handle(handle: Handle) -> DebugService {
        DebugService {
            profiles: Profiles::new(handle, DEFAULT_MAX_RENDERS, DEFAULT_RENDER_WAIT),
        }
    }

    /// How many heavy profiles (`goroutine`, `goroutineleak`, `park`, the index) this service
    /// and its clones render at once (default 2, at least 1); requests that overlap share one
    /// snapshot, and requests beyond wait up to `wait` for a slot (default 5 s), then get
    /// `503` with `Retry-After`. Memory so stays within `max` snapshots.
    pub fn max_renders(self, max: usize, wait: Duration) -> DebugService {
        let handle = self.profiles.handle().clone();
        DebugService {
            profiles: Profiles::new(handle, max, wait),
        }
    }
}

impl Default for DebugService {
    /// [`DebugService::new`].
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    #[track_caller]
    fn default() -> DebugService {
        DebugService::new()
    }
}

impl fmt::Debug for DebugService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugService").finish_non_exhaustive()
    }
}

impl<B> tower_service::Service<::http::Request<B>> for DebugService {
    type Response = ::http::Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    /// Always ready: requests are never turned away.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ::http::Request<B>) -> ResponseFuture {
        let uri = request.uri();
        let request = Request {
            method: request.method().as_str().to_owned(),
            // An authority-form target (`CONNECT host:443`) has no path: the router
            // answers it `400`, as `serve` does.
            target: uri
                .path_and_query()
                .map_or_else(|| uri.to_string(), |target| target.as_str().to_owned()),
            // The application's server frames the connection.
            head_len: 0,
            keep_alive: false,
        };
        let head_only = request.method == "HEAD";
        let profiles = self.profiles.clone();
        let route = spawn_render(RENDER_THREAD, move || {
            answer(|| routes::route(&request, &profiles))
        });
        ResponseFuture {
            state: match route {
                Ok(rendering) => State::Rendering(rendering),
                Err(err) => State::NoThread(err),
            },
            handle: self.profiles.handle().clone(),
            head_only,
        }
    }
}

/// The name of the threads that run a request's route.
const RENDER_THREAD: &str = "parkade-render";

/// The future of [`DebugService`]'s `call`: waits for the route, which runs on a thread of
/// its own.
///
/// Dropping it does not stop the route (it runs to its end on its thread), but a streamed
/// body is then never rendered. The route's thread is not the runtime's: the runtime's
/// shutdown does not wait for it, nor cancel it.
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture {
    state: State,
    /// Drives the sends of a streamed body's writer.
    handle: Handle,
    head_only: bool,
}

enum State {
    /// The route runs on its render thread.
    Rendering(Rendering<Response>),
    /// No thread could be started for the route: answered `503`.
    NoThread(io::Error),
    /// The response was returned.
    Done,
}

impl Future for ResponseFuture {
    type Output = Result<::http::Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let response = match &mut this.state {
            State::Rendering(rendering) => match ready!(Pin::new(rendering).poll(cx)) {
                Ok(response) => response,
                // `answer` catches the handler's panics; this is a panic outside it.
                Err(_panicked) => Response::panicked(),
            },
            State::NoThread(err) => no_thread(err),
            State::Done => panic!("`ResponseFuture` polled after completion"),
        };
        this.state = State::Done;
        Poll::Ready(Ok(into_http(response, &this.handle, this.head_only)))
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("done", &matches!(self.state, State::Done))
            .finish()
    }
}

/// The `503` of a request that found no thread to render on: the OS refused one (`err`,
/// typically `EAGAIN` at the process's thread limit), a condition that passes.
fn no_thread(err: &io::Error) -> Response {
    Response::text(
        Status::SERVICE_UNAVAILABLE,
        format!(
            "503 service unavailable: no thread could be started to render the response \
             ({err}); retry later\n"
        ),
    )
    .header("Retry-After", "1")
}

/// `response` as hyper and axum take it; a streamed body starts rendering on a thread of its
/// own, unless only the head is wanted.
fn into_http(response: Response, handle: &Handle, head_only: bool) -> ::http::Response<Body> {
    let mut headers = HeaderMap::new();
    for (name, value) in response.fields() {
        // The router's names are tokens and its values never hold CR or LF.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => debug_assert!(false, "invalid header field {name}: {value:?}"),
        }
    }
    // Sent for `HEAD` too, as `serve` does: the length of the body a `GET` gets.
    if let Some(length) = response.content_length() {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    let status =
        StatusCode::from_u16(response.status.0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match response.body {
        _ if head_only => Body::empty(),
        http::Body::Full(bytes) => Body::full(bytes),
        http::Body::Stream(write) => match Body::stream(handle, write) {
            Ok(body) => body,
            // Before any of this response was sent: it is replaced whole.
            Err(err) => return into_http(no_thread(&err), handle, head_only),
        },
    };
    let mut out = ::http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// What axum's `fallback_service` and `nest_service` ask of a service, checked here.
fn _assert_bounds() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    fn future<F: Future + Send + 'static>() {}
    check::<DebugService>();
    future::<ResponseFuture>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_thread_to_render_on_answers_503() {
        let rt = runtime::Runtime::new().unwrap();
        let refused = io::Error::from(io::ErrorKind::WouldBlock);
        let response = into_http(no_thread(&refused), rt.handle(), false);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        let head = into_http(no_thread(&refused), rt.handle(), true);
        assert_eq!(head.headers(), response.headers());
    }
}
