//! The order in which a VIP's nodes take its new settings: every mixed
//! state along the way has a master that carp(4) keeps or elects alone,
//! the VIP is never left without a member while it exists in both files,
//! and its master changes at most once.
//!
//! Ties: a BACKUP preempts only a strictly slower master, and a MASTER
//! steps down when it hears an equal or shorter interval, which only
//! another MASTER sends (docs/freebsd-carp.md §11.3, from
//! `carp_input_c()`, sys/netinet/ip_carp.c). So a master that ties with a
//! backup stays master; two backups that tie below the master would both
//! take over at once, and such a state is refused.

use super::{Interval, Members, Refused};

/// The most nodes of one VIP whose order is searched (8! orders at
/// worst); a larger change is refused.
pub(crate) const MAX_CHANGED: usize = 8;

/// The node with the one shortest interval among `(node, interval)`;
/// `None` when there is none or two share it.
pub(crate) fn master<'a>(
    members: impl Iterator<Item = (&'a String, Option<Interval>)>,
) -> Option<String> {
    let mut best: Option<(Interval, &String)> = None;
    let mut tie = false;
    for (n, i) in members {
        let Some(i) = i else { continue };
        match best {
            Some((b, _)) if i == b => tie = true,
            Some((b, _)) if i > b => {}
            _ => {
                best = Some((i, n));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, n)| n.clone())
}

/// The master of a VIP whose members advertise the intervals of `state`
/// (`None`: takes no part), when it was `current` before: `current`
/// while it is among the fastest, else the one fastest node; `Ok(None)`
/// when no node takes part, `Err` when two fastest nodes would both take
/// over.
#[allow(clippy::result_unit_err)]
pub(crate) fn next_master(
    state: &[(&String, Option<Interval>)],
    current: Option<&String>,
) -> Result<Option<String>, ()> {
    let Some(min) = state.iter().filter_map(|(_, i)| *i).min() else {
        return Ok(None);
    };
    let fastest: Vec<&String> = state
        .iter()
        .filter(|(_, i)| *i == Some(min))
        .map(|(n, _)| *n)
        .collect();
    match (current, fastest.as_slice()) {
        (Some(c), f) if f.contains(&c) => Ok(Some(c.clone())),
        (_, [one]) => Ok(Some((*one).clone())),
        _ => Err(()),
    }
}

/// The nodes that change, in a safe order, each with the move it causes
/// (from, to); at most `budget` moves (0 or 1). `before` is the master
/// before the first of them when something else (a leaving node's
/// maintenance, [`super::leave`]) decided it; `None`: the one fastest
/// node of the old intervals.
#[allow(clippy::type_complexity)]
pub(crate) fn order(
    vip: &str,
    members: &Members,
    budget: usize,
    before: Option<&String>,
) -> Result<Vec<(String, Option<(String, String)>)>, Refused> {
    let changed: Vec<&String> = members
        .iter()
        .filter(|(_, (o, n))| o != n)
        .map(|(k, _)| k)
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    if changed.len() > MAX_CHANGED {
        return Err(Refused(format!(
            "VIP {vip}: {} nodes change; a rollout plan orders at most {MAX_CHANGED}",
            changed.len()
        )));
    }
    let existed = members.values().any(|(o, _)| o.is_some());
    let stays = members.values().any(|(_, n)| n.is_some());
    let state = |done: &[bool]| -> Vec<(&String, Option<Interval>)> {
        members
            .iter()
            .map(|(k, (o, n))| {
                let applied = changed
                    .iter()
                    .position(|c| *c == k)
                    .is_some_and(|i| done[i]);
                (k, if applied { *n } else { *o })
            })
            .collect()
    };
    // Each state's master after `current`: `Err` when none can be named.
    let master_of = |done: &[bool], current: Option<&String>| -> Result<Option<String>, ()> {
        next_master(&state(done), current)
    };
    let start = master_of(&vec![false; changed.len()], before).map_err(|()| {
        Refused(format!(
            "VIP {vip}: two nodes share the shortest interval in the old file"
        ))
    })?;
    let mut best = None;
    let mut done = vec![false; changed.len()];
    let mut seq = Vec::new();
    let limits = Limits {
        budget,
        must_stay: existed && stays,
    };
    search(&mut done, &mut seq, start, 0, &master_of, limits, &mut best);
    let Some((_, found)) = best else {
        return Err(Refused(format!(
            "VIP {vip}: no order of its nodes keeps one master throughout and moves it at \
             most once (two backups would tie below the master, or the VIP would be left on \
             no node); change its skews or members in smaller rollouts"
        )));
    };
    Ok(found
        .into_iter()
        .map(|(i, mv): (usize, Option<(String, String)>)| (changed[i].clone(), mv))
        .collect())
}

/// What an order may do: how many moves, whether the VIP must stay on
/// some node throughout.
#[derive(Clone, Copy)]
struct Limits {
    budget: usize,
    must_stay: bool,
}

/// The best order found so far: its number of moves and its steps.
type Best = Option<(usize, Vec<(usize, Option<(String, String)>)>)>;

/// Depth-first over the orders, keeping in `best` the first one with the
/// fewest moves (at most one).
#[allow(clippy::type_complexity)]
fn search(
    done: &mut Vec<bool>,
    seq: &mut Vec<(usize, Option<(String, String)>)>,
    current: Option<String>,
    moves: usize,
    master_of: &dyn Fn(&[bool], Option<&String>) -> Result<Option<String>, ()>,
    limits: Limits,
    best: &mut Best,
) {
    if seq.len() == done.len() {
        *best = Some((moves, seq.clone()));
        return;
    }
    for i in 0..done.len() {
        if done[i] || best.as_ref().is_some_and(|b| b.0 == 0) {
            continue;
        }
        done[i] = true;
        if let Ok(m) = master_of(done, current.as_ref())
            && !(limits.must_stay && m.is_none())
        {
            let mv = match (&current, &m) {
                (Some(a), Some(b)) if a != b => Some((a.clone(), b.clone())),
                _ => None,
            };
            let moves = moves + usize::from(mv.is_some());
            if moves <= limits.budget && best.as_ref().is_none_or(|b| moves < b.0) {
                seq.push((i, mv));
                search(done, seq, m, moves, master_of, limits, best);
                seq.pop();
            }
        }
        done[i] = false;
    }
}
