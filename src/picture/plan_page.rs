//! `carpctl plan --html`: the balance of a plan, its failure matrix (rows:
//! the failed node or pair, or the node in maintenance; columns: the
//! survivors; cells: the VIPs each holds, the most loaded marked, those
//! over the bound in red) and the per-VIP order table.
//!
//! The failure matrix is computed one entry at a time
//! ([`FailureMatrix::iter`]) and never held. A page shows what a reader can
//! take in, and says what it left out:
//!
//! * at most [`MAX_COLUMNS`] survivor columns; with more nodes, each row
//!   names the most loaded survivors instead;
//! * at most [`SECTION_ROWS`] rows per section (single failures, double
//!   failures, maintenance): every row over its bound first, then the
//!   most loaded ones, in matrix order;
//! * at most [`MAX_VIP_ROWS`] VIPs and [`MAX_RANKS`] ranks in the order
//!   table.
//!
//! So a page's memory and size are bounded whatever N and M are: the rows
//! are chosen in one pass that keeps O(SECTION_ROWS) indices, and only the
//! chosen entries are computed again to be drawn.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use maud::{Markup, html};

use super::{clean, page, plural, shorten};
use crate::plan::{Balance, Case, FailureMatrix, Outcome, ScenarioKind};

/// The most survivor columns of the matrix.
pub(crate) const MAX_COLUMNS: usize = 24;
/// The most rows of each section of the matrix.
pub(crate) const SECTION_ROWS: usize = 120;
/// The most VIPs in the order table.
pub(crate) const MAX_VIP_ROWS: usize = 1024;
/// The most ranks shown per VIP.
pub(crate) const MAX_RANKS: usize = 12;
/// The most VIP names in a cell's hover text.
const CELL_NAMES: usize = 40;
/// With at most this many VIPs, cells list them under the count.
const NAMES_IN_CELLS: usize = 16;

/// The three sections of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Single,
    Double,
    Maintenance,
}

impl Section {
    fn of(c: &Case) -> Self {
        match (c.kind, c.nodes().count()) {
            (ScenarioKind::Maintenance, _) => Section::Maintenance,
            (ScenarioKind::Failure, 1) => Section::Single,
            _ => Section::Double,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Section::Single => "One node fails",
            Section::Double => "Two nodes fail",
            Section::Maintenance => "One node in maintenance (demoted by 240)",
        }
    }

    const ALL: [Section; 3] = [Section::Single, Section::Double, Section::Maintenance];
}

/// The rows chosen for one section.
#[derive(Debug, Default)]
struct Chosen {
    total: usize,
    /// Matrix indices of the rows over their bound (at most SECTION_ROWS).
    over: Vec<usize>,
    over_total: usize,
    /// The most loaded of the others: a min-heap of (max load, earlier
    /// index first), at most SECTION_ROWS.
    top: BinaryHeap<Reverse<(usize, Reverse<usize>)>>,
}

impl Chosen {
    fn add(&mut self, index: usize, o: &Outcome<'_, '_>) {
        self.total += 1;
        if !o.within_bound {
            self.over_total += 1;
            if self.over.len() < SECTION_ROWS {
                self.over.push(index);
            }
            return;
        }
        self.top.push(Reverse((o.max_load, Reverse(index))));
        if self.top.len() > SECTION_ROWS {
            self.top.pop();
        }
    }

    /// The chosen indices, in matrix order.
    fn indices(&self) -> Vec<usize> {
        let room = SECTION_ROWS - self.over.len();
        let mut top: Vec<(usize, Reverse<usize>)> = self.top.iter().map(|r| r.0).collect();
        top.sort_unstable_by(|a, b| b.cmp(a));
        let mut all: Vec<usize> = self.over.clone();
        all.extend(top.into_iter().take(room).map(|(_, Reverse(i))| i));
        all.sort_unstable();
        all
    }
}

/// The page of a plan: `file` is the cluster file's path, `preempt` its
/// setting.
pub(crate) fn html(
    file: &str,
    preempt: bool,
    matrix: &FailureMatrix<'_>,
    balance: &Balance,
) -> String {
    let plan = matrix.plan();
    let mut chosen = [Chosen::default(), Chosen::default(), Chosen::default()];
    for (i, case) in matrix.cases().enumerate() {
        let o = matrix.outcome(case);
        chosen[Section::of(&case) as usize].add(i, &o);
    }
    let wanted: BTreeSet<usize> = chosen.iter().flat_map(Chosen::indices).collect();
    // Per section, the chosen rows, computed again one at a time below.
    let mut rows: [Vec<Case>; 3] = Default::default();
    for (i, case) in matrix.cases().enumerate() {
        if wanted.contains(&i) {
            rows[Section::of(&case) as usize].push(case);
        }
    }
    let file = clean(file);
    let n = plan.nodes.len();
    let m = plan.vips.len();
    let body = html! {
        h1 { "carpctl plan: " (file) }
        p.meta {
            (n) " node" (plural(n)) ", " (m) " VIP" (plural(m)) ", advskew_step "
            (plan.advskew_step) ", preempt " (if preempt { "on" } else { "off" })
        }
        (summary(balance, n, m))
        h2 { "Failure matrix" }
        p.note {
            "Rows: the failed node or pair, or the node in maintenance; columns: the survivors; \
             cells: how many VIPs each holds (rest the pointer on a cell for their names). \
             The most loaded survivor of each row is outlined; a count over the row's bound is red."
            @if !preempt {
                " Preemption is off: a node in maintenance keeps the VIPs it is MASTER of."
            }
        }
        @if n > MAX_COLUMNS {
            p.note.omitted {
                "With " (n) " nodes the matrix has too many columns to read: each row names its most \
                 loaded survivors instead (carpctl plan --json has every cell)."
            }
        }
        @for (s, section) in Section::ALL.iter().enumerate() {
            @if chosen[s].total > 0 {
                h3 { (section.title()) }
                (matrix_table(matrix, &rows[s]))
                @let shown = rows[s].len();
                @if shown < chosen[s].total {
                    p.note.omitted {
                        "Showing " (shown) " of " (chosen[s].total) " rows: "
                        @if chosen[s].over_total > chosen[s].over.len() {
                            (chosen[s].over.len()) " of the " (chosen[s].over_total) " over their bound"
                        } @else if chosen[s].over_total > 0 {
                            "every row over its bound, then the most loaded"
                        } @else {
                            "the most loaded (every row is within its bound)"
                        }
                        "; carpctl plan --json lists them all."
                    }
                }
            }
        }
        h2 { "Order of each VIP" }
        (orders(matrix))
    };
    page::document(&format!("carpctl plan: {file}"), body)
}

fn summary(b: &Balance, n: usize, m: usize) -> Markup {
    let bound = |x: Option<usize>| x.map_or("none".to_string(), |v| v.to_string());
    let none = |need: usize| format!("not applicable: it takes {need} nodes or more");
    html! {
        div.verdict.not-met[!b.balanced] id="balance" data-balanced=(b.balanced) {
            h3 {
                "Balanced: "
                @if b.balanced { span.met { "yes" } } @else { span.not-met-word { "no" } }
            }
            dl {
                dt { "primaries per node" }
                dd { (b.bounds.primaries_min) " to " (b.bounds.primaries_max) " (⌊M/N⌋ to ⌈M/N⌉, M = "
                     (m) ", N = " (n) ")" }
                dt { "bound after one failure" }
                dd {
                    @if let Some(x) = b.bounds.single_failure {
                        (x) " (⌈M/(N−1)⌉); worst: " (bound(b.worst_single_failure))
                    } @else { (none(2)) }
                }
                dt { "bound after two failures" }
                dd {
                    @if let Some(x) = b.bounds.double_failure {
                        (x) " (⌈M/(N−2)⌉ + 1); worst: " (bound(b.worst_double_failure))
                    } @else { (none(3)) }
                }
                dt { "first for" }
                dd {
                    (b.primaries.iter().map(|(k, v)| format!("{} {v}", clean(k))).collect::<Vec<_>>().join(", "))
                }
            }
            @if !b.notes.is_empty() {
                ul { @for note in &b.notes { li { (clean(note)) } } }
            }
        }
    }
}

/// The label of a row: "a fails", "a and b fail", "a in maintenance".
fn case_label(o: &Outcome<'_, '_>) -> String {
    let names: Vec<String> = o.nodes().iter().map(|n| clean(n)).collect();
    match (o.kind(), names.len()) {
        (ScenarioKind::Maintenance, _) => format!("{} in maintenance", names.join(", ")),
        (_, 1) => format!("{} fails", names[0]),
        _ => format!("{} fail", names.join(" and ")),
    }
}

fn matrix_table(matrix: &FailureMatrix<'_>, cases: &[Case]) -> Markup {
    let plan = matrix.plan();
    let grid = plan.nodes.len() <= MAX_COLUMNS;
    html! {
        div.scroll {
            table.matrix {
                tr {
                    th { "case" }
                    @if grid {
                        @for node in &plan.nodes { th.num.node { (clean(node)) } }
                    } @else {
                        th { "most loaded survivors" }
                    }
                    th.num { "most" } th.num { "bound" } th { "within" } th { "no node holds" }
                }
                @for case in cases {
                    (matrix_row(matrix, *case, grid))
                }
            }
        }
    }
}

fn matrix_row(matrix: &FailureMatrix<'_>, case: Case, grid: bool) -> Markup {
    let plan = matrix.plan();
    let o = matrix.outcome(case);
    let down: Vec<&str> = o.nodes();
    let kind = match o.kind() {
        ScenarioKind::Failure => "failure",
        ScenarioKind::Maintenance => "maintenance",
    };
    let failed = |node: &str| o.kind() == ScenarioKind::Failure && down.contains(&node);
    // Node -> the VIPs it holds, file order.
    let mut held: HashMap<&str, Vec<&str>> = HashMap::new();
    for (j, v) in plan.vips.iter().enumerate() {
        if let Some(owner) = o.owner_at(j) {
            held.entry(owner).or_default().push(v.name.as_str());
        }
    }
    let count = |node: &str| held.get(node).map_or(0, Vec::len);
    let over = |c: usize| o.bound.is_some_and(|b| c > b);
    let unowned: Vec<String> = o.unowned().map(clean).collect();
    html! {
        tr.case.over[!o.within_bound] data-kind=(kind) data-nodes=(down.iter().map(|n| clean(n)).collect::<Vec<_>>().join(" ")) {
            th { (case_label(&o)) }
            @if grid {
                @for node in &plan.nodes {
                    @if failed(node) {
                        td.down data-node=(clean(node)) { "down" }
                    } @else {
                        @let c = count(node);
                        @let names = held.get(node.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                        td.num.cell.max[c == o.max_load && c > 0].over[over(c)]
                            .maint[o.kind() == ScenarioKind::Maintenance && down.contains(&node.as_str())]
                            data-node=(clean(node)) data-count=(c)
                            title=(cell_title(node, names)) {
                            (c)
                            @if plan.vips.len() <= NAMES_IN_CELLS && !names.is_empty() {
                                br; span.vips { (names.iter().map(|n| clean(n)).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            } @else {
                td { (most_loaded(&o)) }
            }
            td.num { (o.max_load) }
            td.num { @match o.bound { Some(b) => (b), None => "none" } }
            @if o.within_bound { td.status.ok { "yes" } } @else { td.status { "NO" } }
            td.unowned { (unowned.join(", ")) }
        }
    }
}

fn cell_title(node: &str, names: &[&str]) -> String {
    if names.is_empty() {
        return format!("{} holds no VIP", clean(node));
    }
    let mut list: Vec<String> = names.iter().take(CELL_NAMES).map(|n| clean(n)).collect();
    if names.len() > CELL_NAMES {
        list.push(format!("and {} more", names.len() - CELL_NAMES));
    }
    format!(
        "{} holds {} VIP{}: {}",
        clean(node),
        names.len(),
        plural(names.len()),
        list.join(", ")
    )
}

/// The survivors holding the most VIPs (at most five named).
fn most_loaded(o: &Outcome<'_, '_>) -> String {
    let top: Vec<String> = o
        .load()
        .filter(|&(_, c)| c == o.max_load && c > 0)
        .map(|(n, _)| clean(n))
        .collect();
    if top.is_empty() {
        return "none".into();
    }
    let more = top.len().saturating_sub(5);
    let mut s = format!(
        "{} ({} each)",
        top[..top.len().min(5)].join(", "),
        o.max_load
    );
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

fn orders(matrix: &FailureMatrix<'_>) -> Markup {
    let plan = matrix.plan();
    let ranks = plan
        .vips
        .iter()
        .map(|v| v.order.len())
        .max()
        .unwrap_or(0)
        .min(MAX_RANKS);
    html! {
        p.note {
            "Rank 0 is the intended MASTER; each node advertises advskew = rank × "
            (plan.advskew_step) "."
        }
        div.scroll {
            table.orders {
                tr {
                    th { "VIP" } th.num { "vhid" } th { "order from" }
                    @for r in 0..ranks { th { "rank " (r) } }
                }
                @for v in plan.vips.iter().take(MAX_VIP_ROWS) {
                    tr.order data-vip=(clean(&v.name)) {
                        th { (shorten(&clean(&v.name), 32)) }
                        td.num { (v.vhid.get()) }
                        td { @match v.source { crate::plan::OrderSource::Prefer => "prefer", crate::plan::OrderSource::Balanced => "carpctl", crate::plan::OrderSource::Pinned => "pinned" } }
                        @for r in 0..ranks {
                            td {
                                @if let Some(node) = v.order.get(r) {
                                    (clean(node))
                                    @if let Some(skew) = v.advskew_of(node) { " (" (skew.get()) ")" }
                                    @if r + 1 == ranks && v.order.len() > ranks {
                                        " … " (v.order.len() - ranks) " more"
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if plan.vips.len() > MAX_VIP_ROWS {
            p.note.omitted {
                (plan.vips.len() - MAX_VIP_ROWS) " more VIPs not listed: carpctl plan --json has them all."
            }
        }
        @if plan.vips.iter().any(|v| v.order.len() > ranks) {
            p.note.omitted { "Ranks past " (ranks) " are left out: carpctl plan shows every rank." }
        }
    }
}
