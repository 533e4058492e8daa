//! Large cluster files for measuring `carpctl plan` and `apply` at scale:
//! used by tests/limits.rs, benches/plan.rs and `cargo run --example
//! bigcluster`.

use std::fmt::Write as _;

/// A cluster file of `nodes` nodes n0.. and `vips` VIPs v0.., 255 per
/// logical interface (lan0 = em0, lan1 = em1, ...: a vhid is unique per
/// interface), each with one address in 10.0.0.0/8 and a password (so the
/// file must be mode 0600, as carpctl requires). `prefer` = 0 lets
/// carpctl build every order; `prefer` = k gives VIP j the order n{j},
/// n{j+1}, ... of k nodes (mod `nodes`). `step` is `advskew_step`.
pub(crate) fn cluster(nodes: usize, vips: usize, prefer: usize, step: u8) -> String {
    let ifs = vips.div_ceil(255).max(1);
    let mut s = format!("[cluster]\npreempt = true\nadvskew_step = {step}\n");
    let map: Vec<String> = (0..ifs).map(|k| format!("lan{k} = \"em{k}\"")).collect();
    for i in 0..nodes {
        let _ = write!(
            s,
            "\n[[node]]\nname = \"n{i}\"\ninterfaces = {{ {} }}\n",
            map.join(", ")
        );
    }
    for j in 0..vips {
        let _ = write!(
            s,
            "\n[[vip]]\nname = \"v{j}\"\nvhid = {}\ninterface = \"lan{}\"\n\
             addresses = [\"10.{}.{}.{}/32\"]\npassword = \"pw{j}\"\n",
            j % 255 + 1,
            j / 255,
            (j >> 16) & 255,
            (j >> 8) & 255,
            (j & 255) + 1
        );
        if prefer > 0 {
            let order: Vec<String> = (0..prefer)
                .map(|r| format!("\"n{}\"", (j + r) % nodes.max(1)))
                .collect();
            let _ = writeln!(s, "prefer = [{}]", order.join(", "));
        }
    }
    s
}
