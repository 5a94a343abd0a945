//! A hyper client on Parkade: GETs URLs over one kept-alive connection, HTTP/1.1 or HTTP/2.
//!
//! ```sh
//! cargo run --release --example axum_server &
//! cargo run --release --example http_client -- http://127.0.0.1:8080/leak/channel
//! cargo run --release --example http_client -- --http2 --count 3 http://127.0.0.1:8080/status
//! cargo run --release --example http_client -- 'http://127.0.0.1:8080/debug/pprof/goroutine?debug=1'
//! ```

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{Request, Uri};
use runtime::compat::hyper::{Executor, Io, Timer};
use runtime::net::TcpStream;
use std::error::Error;

type BoxError = Box<dyn Error + Send + Sync>;

/// One connection to `uri`'s host that sends requests, HTTP/1.1 or HTTP/2.
enum Client {
    Http1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
}

impl Client {
    async fn connect(uri: &Uri, http2: bool) -> Result<Client, BoxError> {
        let host = uri.host().ok_or("the URL has no host")?;
        let port = uri.port_u16().unwrap_or(80);
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        let io = Io::new(stream);
        Ok(if http2 {
            let (sender, connection) = hyper::client::conn::http2::Builder::new(Executor::new())
                .timer(Timer::new())
                .handshake(io)
                .await?;
            runtime::spawn(connection);
            Client::Http2(sender)
        } else {
            let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
            runtime::spawn(connection);
            Client::Http1(sender)
        })
    }

    async fn get(
        &mut self,
        uri: &Uri,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, String), BoxError> {
        let authority = uri.authority().ok_or("the URL has no host")?.as_str();
        let request = Request::get(uri.clone())
            .header(hyper::header::HOST, authority)
            .body(Empty::<Bytes>::new())?;
        let mut response = match self {
            Client::Http1(sender) => {
                sender.ready().await?;
                sender.send_request(request).await?
            }
            Client::Http2(sender) => sender.send_request(request).await?,
        };
        let body = response.body_mut().collect().await?.to_bytes();
        Ok((response, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[runtime::main]
async fn main() -> Result<(), BoxError> {
    let mut http2 = false;
    let mut count = 1;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http2" => http2 = true,
            "--count" => count = args.next().ok_or("--count needs a number")?.parse()?,
            url => urls.push(url.parse::<Uri>()?),
        }
    }
    if urls.is_empty() {
        urls.push(Uri::from_static("http://127.0.0.1:8080/status"));
    }
    let mut client = Client::connect(&urls[0], http2).await?;
    for _ in 0..count {
        for uri in &urls {
            let (response, body) = client.get(uri).await?;
            println!(
                "GET {uri} -> {} ({:?})",
                response.status(),
                response.version()
            );
            print!("{body}");
        }
    }
    Ok(())
}
