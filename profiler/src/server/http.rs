//! The HTTP/1.1 the endpoint speaks: request heads parsed by httparse; a connection kept
//! alive between requests whose response has a length, as Go's `net/http` keeps it.
//! [`Response`] is also what [`DebugService`](super::DebugService) translates into an
//! `http::Response`: both transports send the same status, header fields and body.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};

/// The largest request head accepted (request line and header fields), as Go's
/// `DefaultMaxHeaderBytes` is for pprof's usual clients: far more than a browser, curl or
/// `go tool pprof` send.
pub(super) const MAX_HEAD: usize = 8 * 1024;
/// The most header fields accepted.
const MAX_HEADERS: usize = 100;

pub(super) const TEXT: &str = "text/plain; charset=utf-8";
pub(super) const HTML: &str = "text/html; charset=utf-8";
pub(super) const JSON: &str = "application/json; charset=utf-8";
pub(super) const OCTET_STREAM: &str = "application/octet-stream";
pub(super) const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A request line, and what the header fields say about the connection (the routes need
/// nothing else from them).
#[derive(Debug)]
pub(super) struct Request {
    /// As sent: a token, case-sensitive (`GET`, `HEAD`, …).
    pub(super) method: String,
    /// The request target: `/path?query`, or an absolute URL.
    pub(super) target: String,
    /// The head's length in bytes: what follows it is the next request's.
    pub(super) head_len: usize,
    /// The client lets the connection carry another request: HTTP/1.1 without
    /// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`, and no body (the
    /// endpoint reads none, so a body would be taken for the next request).
    pub(super) keep_alive: bool,
}

/// Whether a request of HTTP/1.`minor` with `headers` lets its connection be reused.
fn keep_alive(minor: u8, headers: &[httparse::Header<'_>]) -> bool {
    let mut keep = minor >= 1;
    for header in headers {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            if header
                .value
                .iter()
                .any(|&b| b != b'0' && !b.is_ascii_whitespace())
            {
                return false;
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return false;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    return false;
                }
                if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep = true;
                }
            }
        }
    }
    keep
}

impl Request {
    /// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete, `Err` with
    /// the response to send when it is malformed or too large.
    pub(super) fn parse(buf: &[u8]) -> Result<Option<Request>, Response> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(buf) {
            Ok(httparse::Status::Partial) => Ok(None),
            Ok(httparse::Status::Complete(len)) if len > MAX_HEAD => Err(Response::text(
                Status::HEADERS_TOO_LARGE,
                "431 request header fields too large: the request head exceeds 8 KiB\n",
            )),
            Ok(httparse::Status::Complete(len)) => match (request.method, request.path) {
                (Some(method), Some(target)) => Ok(Some(Request {
                    method: method.to_owned(),
                    target: target.to_owned(),
                    head_len: len,
                    keep_alive: keep_alive(request.version.unwrap_or(0), request.headers),
                })),
                _ => Err(Response::text(
                    Status::BAD_REQUEST,
                    "400 bad request: malformed request line\n",
                )),
            },
            Err(httparse::Error::TooManyHeaders) => Err(Response::text(
                Status::HEADERS_TOO_LARGE,
                format!("431 request header fields too large: more than {MAX_HEADERS} fields\n"),
            )),
            Err(err) => Err(Response::text(
                Status::BAD_REQUEST,
                format!("400 bad request: malformed request head ({err})\n"),
            )),
        }
    }
}

/// A status code and its reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Status(pub(super) u16, pub(super) &'static str);

impl Status {
    pub(super) const OK: Status = Status(200, "OK");
    pub(super) const BAD_REQUEST: Status = Status(400, "Bad Request");
    pub(super) const NOT_FOUND: Status = Status(404, "Not Found");
    pub(super) const METHOD_NOT_ALLOWED: Status = Status(405, "Method Not Allowed");
    pub(super) const HEADERS_TOO_LARGE: Status = Status(431, "Request Header Fields Too Large");
    pub(super) const INTERNAL_SERVER_ERROR: Status = Status(500, "Internal Server Error");
    pub(super) const SERVICE_UNAVAILABLE: Status = Status(503, "Service Unavailable");
}

/// Writes a streamed body. `Send`: [`DebugService`](super::DebugService) runs it on a render
/// thread of its own.
pub(super) type StreamBody = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// A response body: known in full, or written as it is produced.
pub(super) enum Body {
    /// Sent with `Content-Length`.
    Full(Vec<u8>),
    /// Sent without a length: delimited by closing the connection (`serve`), or chunked by
    /// the application's HTTP server (`DebugService`).
    Stream(StreamBody),
}

/// A response to one request.
pub(super) struct Response {
    pub(super) status: Status,
    content_type: &'static str,
    /// Extra header fields; `Content-Type` and `X-Content-Type-Options` are added by
    /// [`Response::fields`], `Content-Length` and `Connection` by the transport.
    headers: Vec<(&'static str, String)>,
    pub(super) body: Body,
}

impl Response {
    /// A body of `content_type`, known in full.
    pub(super) fn full(status: Status, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: Body::Full(body),
        }
    }

    /// A plain-text body: the error messages, and the text dumps.
    pub(super) fn text(status: Status, body: impl Into<String>) -> Response {
        Response::full(status, TEXT, body.into().into_bytes())
    }

    /// A `200` whose body is written to the client as it is produced.
    pub(super) fn stream(
        content_type: &'static str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send + 'static,
    ) -> Response {
        Response {
            status: Status::OK,
            content_type,
            headers: Vec::new(),
            body: Body::Stream(Box::new(write)),
        }
    }

    /// A `200` binary profile that a browser saves as `filename`, as Go's pprof handler
    /// sends its `debug=0` profiles.
    pub(super) fn attachment(filename: &str, body: Vec<u8>) -> Response {
        Response::full(Status::OK, OCTET_STREAM, body).header(
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        )
    }

    /// Adds a header field. `value` must not contain CR or LF.
    pub(super) fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// The `500` of a handler that panicked: a bug, never client input.
    pub(super) fn panicked() -> Response {
        Response::text(
            Status::INTERNAL_SERVER_ERROR,
            "500 internal server error: the handler panicked (see the process's stderr)\n",
        )
    }

    /// The header fields of this response whatever carries it: `Content-Type`,
    /// `X-Content-Type-Options` and the handler's own (`Allow`, `Content-Disposition`), in
    /// that order. `Content-Length` ([`Response::content_length`]) and `Connection` are the
    /// transport's to add.
    pub(super) fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        [
            ("Content-Type", self.content_type),
            ("X-Content-Type-Options", "nosniff"),
        ]
        .into_iter()
        .chain(
            self.headers
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        )
    }

    /// The length of a body known in full; `None` for a streamed one.
    pub(super) fn content_length(&self) -> Option<usize> {
        match &self.body {
            Body::Full(bytes) => Some(bytes.len()),
            Body::Stream(_) => None,
        }
    }

    /// The status line and header fields, ending with the empty line; `keep_alive` says
    /// the connection carries another request after this one.
    pub(super) fn head(&self, keep_alive: bool) -> Vec<u8> {
        let Status(code, reason) = self.status;
        let mut head = format!("HTTP/1.1 {code} {reason}\r\n");
        // Writing to a String cannot fail.
        for (name, value) in self.fields() {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if let Some(length) = self.content_length() {
            let _ = write!(head, "Content-Length: {length}\r\n");
        }
        head.push_str(match keep_alive {
            true => "Connection: keep-alive\r\n",
            false => "Connection: close\r\n",
        });
        head.push_str("\r\n");
        head.into_bytes()
    }
}

/// Runs a handler, turning a panic (a bug, never client input) into [`Response::panicked`].
pub(super) fn answer(handler: impl FnOnce() -> Response) -> Response {
    panic::catch_unwind(AssertUnwindSafe(handler)).unwrap_or_else(|_| Response::panicked())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(head: &str) -> Result<Option<Request>, u16> {
        Request::parse(head.as_bytes()).map_err(|response| response.status.0)
    }

    #[test]
    fn parses_a_request_line() {
        let request = parse("GET /debug/pprof/?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(request.target, "/debug/pprof/?x=1");
    }

    #[test]
    fn waits_for_the_end_of_the_head() {
        assert!(parse("GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
        assert!(parse("").unwrap().is_none());
    }

    #[test]
    fn rejects_malformed_and_oversized_heads() {
        assert_eq!(parse("GARBAGE\r\n\r\n").unwrap_err(), 400);
        assert_eq!(parse("GET / HTTP/9.9\r\n\r\n").unwrap_err(), 400);
        assert_eq!(
            parse("\u{1}\u{2}\u{3} / HTTP/1.1\r\n\r\n").unwrap_err(),
            400
        );
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect();
        assert_eq!(
            parse(&format!("GET / HTTP/1.1\r\n{many}\r\n")).unwrap_err(),
            431
        );
        let long = "v".repeat(MAX_HEAD);
        assert_eq!(
            parse(&format!("GET / HTTP/1.1\r\nX: {long}\r\n\r\n")).unwrap_err(),
            431
        );
    }

    fn request(head: &[u8]) -> Request {
        match Request::parse(head) {
            Ok(Some(request)) => request,
            _ => panic!(
                "not a complete request: {:?}",
                String::from_utf8_lossy(head)
            ),
        }
    }

    fn kept_alive(head: &str) -> bool {
        request(head.as_bytes()).keep_alive
    }

    #[test]
    fn http_1_1_keeps_the_connection_unless_told_otherwise() {
        assert!(kept_alive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(!kept_alive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!kept_alive(
            "GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n"
        ));
        assert!(!kept_alive("GET / HTTP/1.0\r\n\r\n"));
        assert!(kept_alive(
            "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
        ));
        // A body the endpoint would not read: the connection closes after the answer.
        assert!(!kept_alive("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
        assert!(kept_alive("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
        assert!(!kept_alive(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        ));
    }

    #[test]
    fn a_head_ends_where_the_next_request_begins() {
        let two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        let first = request(two.as_bytes());
        assert_eq!(first.target, "/a");
        let second = request(&two.as_bytes()[first.head_len..]);
        assert_eq!(second.target, "/b");
    }

    #[test]
    fn a_kept_connection_says_so() {
        let head = String::from_utf8(Response::text(Status::OK, "x").head(true)).unwrap();
        assert!(head.contains("Connection: keep-alive\r\n"));
        assert!(!head.contains("close"));
    }

    #[test]
    fn heads_say_connection_close_and_length() {
        let response = Response::attachment("goroutine", vec![1, 2, 3]);
        let head = String::from_utf8(response.head(false)).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains("Content-Type: application/octet-stream\r\n"));
        assert!(head.contains("Content-Length: 3\r\n"));
        assert!(head.contains("Connection: close\r\n"));
        assert!(head.contains("Content-Disposition: attachment; filename=\"goroutine\"\r\n"));
        assert!(head.contains("X-Content-Type-Options: nosniff\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
    }

    #[test]
    fn fields_leave_length_and_connection_to_the_transport() {
        let response = Response::text(Status::METHOD_NOT_ALLOWED, "405\n").header("Allow", "GET");
        let fields: Vec<_> = response.fields().collect();
        assert_eq!(
            fields,
            [
                ("Content-Type", TEXT),
                ("X-Content-Type-Options", "nosniff"),
                ("Allow", "GET"),
            ]
        );
        assert_eq!(response.content_length(), Some(4));
        let stream = Response::stream(TEXT, |w| w.write_all(b"x"));
        assert_eq!(stream.content_length(), None);
        let head = String::from_utf8(stream.head(false)).unwrap();
        assert!(!head.contains("Content-Length"));
    }

    #[test]
    fn a_panicking_handler_answers_500() {
        let response = answer(|| panic!("handler bug (this panic is expected)"));
        assert_eq!(response.status, Status::INTERNAL_SERVER_ERROR);
        let Body::Full(body) = response.body else {
            panic!("a 500 has a full body");
        };
        assert!(String::from_utf8(body).unwrap().starts_with("500 "));
    }
}
