//! The article's errgroup (§4.4) with `runtime::task::Group`: the first error cancels the
//! group's context, every other task sees `done()` and stops, and `wait` returns the error.
//!
//! `cargo run --release --example errgroup`

use runtime::context::Context;
use runtime::task::Group;
use std::time::Duration;

const N: u64 = 6;

async fn do_concurrent_work(ctx: &Context) -> Result<(), String> {
    let (group, ctx) = Group::with_context(ctx);
    for i in 0..N {
        let ctx = ctx.clone();
        group.spawn(async move {
            runtime::select! {
                _ = ctx.done() => {
                    println!("task {i}: cancelled ({})", ctx.err().map_or("?".into(), |e| e.to_string()));
                    Err(format!("task {i}: {}", ctx.err().map_or("cancelled".into(), |e| e.to_string())))
                }
                _ = runtime::time::sleep(Duration::from_millis(i * 100)) => {
                    if i == 3 {
                        println!("task {i}: failing");
                        return Err(format!("task {i} failed"));
                    }
                    println!("task {i}: done");
                    Ok(())
                }
            }
        });
    }
    group.wait().await
}

#[runtime::main]
async fn main() {
    match do_concurrent_work(&Context::background()).await {
        Ok(()) => println!("all tasks succeeded"),
        Err(error) => println!("group failed: {error}"),
    }
    println!("tasks left: {}", runtime::profile().len());
}
