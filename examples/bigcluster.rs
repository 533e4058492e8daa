//! Write a large cluster file to standard output, for measuring `carpctl
//! plan` and `carpctl apply` at scale (see benches/plan.rs):
//!
//! ```text
//! cargo run --example bigcluster -- NODES VIPS [PREFER [STEP]] > big.toml
//! chmod 600 big.toml
//! /usr/bin/time -v target/release/carpctl -c big.toml plan > /dev/null
//! ```
//!
//! PREFER = 0 (the default) lets carpctl build every order; PREFER = k
//! gives each VIP an explicit order of k nodes. STEP is `advskew_step`
//! (default 4; 64 nodes need 3 or less, 240 nodes 1).

#[path = "../tests/common/bigcluster.rs"]
mod bigcluster;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: usize| -> Option<usize> {
        args.get(i).map_or(Some(default), |a| a.parse().ok())
    };
    let (Some(nodes), Some(vips), Some(prefer), Some(step)) =
        (num(0, 0), num(1, 0), num(2, 0), num(3, 4))
    else {
        eprintln!("usage: bigcluster NODES VIPS [PREFER [STEP]]");
        return std::process::ExitCode::from(2);
    };
    let Ok(step) = u8::try_from(step) else {
        eprintln!("bigcluster: STEP is 1 to 239");
        return std::process::ExitCode::from(2);
    };
    if args.len() < 2 {
        eprintln!("usage: bigcluster NODES VIPS [PREFER [STEP]]");
        return std::process::ExitCode::from(2);
    }
    print!("{}", bigcluster::cluster(nodes, vips, prefer, step));
    std::process::ExitCode::SUCCESS
}
