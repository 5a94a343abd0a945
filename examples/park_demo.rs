//! Tasks parked for different reasons, and the runtime's own account of why.
//!
//! `cargo run --release --example park_demo`

use std::time::Duration;

#[runtime::main(worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    // 100 tasks asleep on one line.
    for _ in 0..100 {
        runtime::spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
    }

    // A server task waiting for a connection, and a client that connects and then waits for
    // a reply that never comes.
    let listener = runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = runtime::task::Builder::new()
        .name("server")
        .spawn(async move {
            let (socket, _) = listener.accept().await?;
            let _ = socket; // accepted, then the handler forgets to answer
            runtime::park::label(
                "forgotten reply",
                std::future::pending::<std::io::Result<()>>(),
            )
            .await
        });
    runtime::task::Builder::new()
        .name("client")
        .spawn(async move {
            let mut stream = runtime::net::TcpStream::connect(addr).await?;
            let mut reply = [0u8; 64];
            stream.read(&mut reply).await
        });

    // A task waiting for the server to finish.
    runtime::spawn(async move {
        let _ = server.await;
    });

    runtime::time::sleep(Duration::from_millis(100)).await;
    println!("{}", runtime::profile());
    Ok(())
}
