//! The README's first example: a send nobody receives, and the profile that shows it.
//!
//! `cargo run --example hello_profile`

#[runtime::main]
async fn main() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    runtime::spawn(async move { tx.send(1).await }); // nobody ever receives
    runtime::time::sleep(std::time::Duration::from_millis(10)).await;
    print!("{}", runtime::profile());
    drop(rx);
}
