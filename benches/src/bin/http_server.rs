//! `http_hello`'s server — hyper's HTTP/1.1 "hello, world", the same code on both runtimes —
//! on Parkade or on tokio, for a load generator in another process (Debian's `wrk`):
//!
//! ```sh
//! cargo run --release -p benches --bin http_server -- parkade 127.0.0.1:3000 20 &
//! wrk -t1 -c64 -d10s http://127.0.0.1:3000/
//! ```
//!
//! Arguments: the runtime (`parkade` or `tokio`), the address (default `127.0.0.1:3000`) and
//! how many seconds to serve before exiting (default 30), so that a forgotten server stops.

use benches::rt::{Parkade, Rt, Tokio};
use std::net::SocketAddr;
use std::time::Duration;

fn serve<R: Rt>(addr: SocketAddr, seconds: u64) {
    let rt = R::build(benches::workers());
    R::block_on(&rt, async {
        let addr = benches::workloads::serve_hello::<R>(addr).await;
        println!(
            "{} serving hello on http://{addr}/ for {seconds} s",
            R::NAME
        );
        R::sleep(Duration::from_secs(seconds)).await;
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: http_server parkade|tokio [ADDR] [SECONDS]";
    let addr = args
        .get(1)
        .map_or("127.0.0.1:3000", String::as_str)
        .parse()
        .expect(usage);
    let seconds = args.get(2).map_or(Ok(30), |s| s.parse()).expect(usage);
    match args.first().map(String::as_str) {
        Some("parkade") => serve::<Parkade>(addr, seconds),
        Some("tokio") => serve::<Tokio>(addr, seconds),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
