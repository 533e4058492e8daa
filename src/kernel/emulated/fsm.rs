//! The carp(4) state machine, as far as it runs without timers:
//! `carp_set_state`, `carp_setrun`, `carp_sc_state`, `carp_master_down_locked`
//! and `carp_demote_adj` of `sys/netinet/ip_carp.c` (reference §11.2, §11.3).
//!
//! No time passes in the emulator yet: where FreeBSD arms a callout (the
//! BACKUP master-down timer, the MASTER advertisement timer) nothing
//! happens here. A simulator that adds time extends these functions; every
//! caller already goes through them, so the transitions it drives stay the
//! kernel's.

use crate::model::CarpState;

use super::state::{Softc, Sysctls};

/// Something the kernel would have logged (`CARP_LOG`) or announced
/// (`devctl_notify("CARP", "<vhid>@<if>", "<STATE>")`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `carp: 1@em0: BACKUP -> MASTER (master timed out)`.
    State {
        ifname: String,
        vhid: u8,
        from: CarpState,
        to: CarpState,
        reason: &'static str,
    },
    /// `carp: demoted by 240 to 240 (interface down)`.
    Demotion {
        delta: i32,
        total: i32,
        reason: &'static str,
    },
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::State {
                ifname,
                vhid,
                from,
                to,
                reason,
            } => {
                write!(f, "carp: {vhid}@{ifname}: {from} -> {to} ({reason})")
            }
            Event::Demotion {
                delta,
                total,
                reason,
            } => {
                write!(f, "carp: demoted by {delta} to {total} ({reason})")
            }
        }
    }
}

/// What `carp_setrun`/`carp_sc_state` look at on the parent interface.
#[derive(Debug, Clone, Copy)]
pub struct Parent<'a> {
    pub name: &'a str,
    /// `if_flags & IFF_UP`.
    pub up: bool,
    /// `if_link_state == LINK_STATE_UP`.
    pub link_up: bool,
}

/// `carp_set_state()`: change the state and announce it, only if it differs.
pub fn set_state(
    p: Parent<'_>,
    sc: &mut Softc,
    to: CarpState,
    reason: &'static str,
    ev: &mut Vec<Event>,
) {
    if sc.state != to {
        ev.push(Event::State {
            ifname: p.name.to_string(),
            vhid: sc.vhid,
            from: sc.state,
            to,
            reason,
        });
        sc.state = to;
    }
}

/// `carp_setrun(sc, 0)`: nothing unless the parent is up with link up, the
/// vhid has an address and `allow` is set; then INIT becomes BACKUP
/// ("initialization complete"). BACKUP and MASTER would (re)arm their timers.
pub fn setrun(p: Parent<'_>, sc: &mut Softc, naddrs: usize, allow: i32, ev: &mut Vec<Event>) {
    if !p.up || !p.link_up || naddrs == 0 || allow == 0 {
        return;
    }
    match sc.state {
        CarpState::Init => {
            set_state(p, sc, CarpState::Backup, "initialization complete", ev);
            // ip_carp.c calls carp_setrun() again, which arms the BACKUP
            // master-down timer: no time passes here yet.
        }
        CarpState::Backup | CarpState::Master => {}
    }
}

/// `carp_sc_state()`: run on address attach/detach, link and `IFF_UP`
/// changes and `allow` changes. Down (or `allow` = 0): INIT and the ifdown
/// demotion once per vhid; up: INIT, then `setrun` (INIT -> BACKUP when the
/// vhid has an address) and the demotion undone.
pub fn sc_state(
    p: Parent<'_>,
    sc: &mut Softc,
    naddrs: usize,
    sysctl: &mut Sysctls,
    ev: &mut Vec<Event>,
) {
    if !p.link_up || !p.up || sysctl.allow == 0 {
        set_state(p, sc, CarpState::Init, "hardware interface down", ev);
        setrun(p, sc, naddrs, sysctl.allow, ev);
        if !sc.suppressed {
            let adj = sysctl.ifdown_demotion_factor;
            demote_adj(sysctl, adj, "interface down", ev);
        }
        sc.suppressed = true;
    } else {
        set_state(p, sc, CarpState::Init, "hardware interface up", ev);
        setrun(p, sc, naddrs, sysctl.allow, ev);
        if sc.suppressed {
            let adj = sysctl.ifdown_demotion_factor;
            demote_adj(sysctl, adj.wrapping_neg(), "interface up", ev);
        }
        sc.suppressed = false;
    }
}

/// `carp_master_down_locked()`: BACKUP becomes MASTER (sends an ad, ARP/NA,
/// adds routes on FreeBSD). A no-op in INIT and MASTER.
pub fn master_down(p: Parent<'_>, sc: &mut Softc, reason: &'static str, ev: &mut Vec<Event>) {
    if sc.state == CarpState::Backup {
        set_state(p, sc, CarpState::Master, reason, ev);
    }
}

/// `carp_demote_adj()`: `atomic_add_int(&V_carp_demotion, adj)` (wraps like
/// the C `int`).
pub fn demote_adj(sysctl: &mut Sysctls, adj: i32, reason: &'static str, ev: &mut Vec<Event>) {
    sysctl.demotion = sysctl.demotion.wrapping_add(adj);
    ev.push(Event::Demotion {
        delta: adj,
        total: sysctl.demotion,
        reason,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const UP: Parent<'static> = Parent {
        name: "em0",
        up: true,
        link_up: true,
    };

    fn states(ev: &[Event]) -> Vec<(CarpState, CarpState, &'static str)> {
        ev.iter()
            .filter_map(|e| match e {
                Event::State {
                    from, to, reason, ..
                } => Some((*from, *to, *reason)),
                Event::Demotion { .. } => None,
            })
            .collect()
    }

    #[test]
    fn setrun_needs_an_address_an_up_link_and_allow() {
        let mut ev = Vec::new();
        let mut sc = Softc::new(1, 2);
        setrun(UP, &mut sc, 0, 1, &mut ev);
        assert_eq!(sc.state, CarpState::Init);
        setrun(Parent { up: false, ..UP }, &mut sc, 1, 1, &mut ev);
        setrun(
            Parent {
                link_up: false,
                ..UP
            },
            &mut sc,
            1,
            1,
            &mut ev,
        );
        setrun(UP, &mut sc, 1, 0, &mut ev);
        assert_eq!(sc.state, CarpState::Init);
        assert!(ev.is_empty());
        setrun(UP, &mut sc, 1, 1, &mut ev);
        assert_eq!(sc.state, CarpState::Backup);
        assert_eq!(
            states(&ev),
            [(
                CarpState::Init,
                CarpState::Backup,
                "initialization complete"
            )]
        );
        assert_eq!(
            ev[0].to_string(),
            "carp: 1@em0: INIT -> BACKUP (initialization complete)"
        );
    }

    #[test]
    fn sc_state_down_demotes_once_and_up_undoes_it() {
        let mut ev = Vec::new();
        let mut sysctl = Sysctls {
            allow: 0,
            ..Sysctls::default()
        };
        let mut sc = Softc {
            state: CarpState::Master,
            ..Softc::new(3, 2)
        };
        sc_state(UP, &mut sc, 1, &mut sysctl, &mut ev);
        sc_state(UP, &mut sc, 1, &mut sysctl, &mut ev);
        assert_eq!(sysctl.demotion, 240, "applied once although run twice");
        assert!(sc.suppressed);
        assert_eq!(sc.state, CarpState::Init);
        sysctl.allow = 1;
        sc_state(UP, &mut sc, 1, &mut sysctl, &mut ev);
        assert_eq!(sysctl.demotion, 0);
        assert!(!sc.suppressed);
        assert_eq!(
            states(&ev),
            [
                (
                    CarpState::Master,
                    CarpState::Init,
                    "hardware interface down"
                ),
                (
                    CarpState::Init,
                    CarpState::Backup,
                    "initialization complete"
                ),
            ]
        );
        let demotions: Vec<String> = ev
            .iter()
            .filter(|e| matches!(e, Event::Demotion { .. }))
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            demotions,
            [
                "carp: demoted by 240 to 240 (interface down)",
                "carp: demoted by -240 to 0 (interface up)"
            ]
        );
    }

    #[test]
    fn sc_state_up_passes_master_through_init() {
        let mut ev = Vec::new();
        let mut sysctl = Sysctls::default();
        let mut sc = Softc {
            state: CarpState::Master,
            ..Softc::new(1, 2)
        };
        sc_state(UP, &mut sc, 2, &mut sysctl, &mut ev);
        assert_eq!(
            states(&ev),
            [
                (CarpState::Master, CarpState::Init, "hardware interface up"),
                (
                    CarpState::Init,
                    CarpState::Backup,
                    "initialization complete"
                ),
            ]
        );
        assert_eq!(sysctl.demotion, 0);
    }

    #[test]
    fn master_down_only_from_backup() {
        let mut ev = Vec::new();
        let mut sc = Softc::new(1, 2);
        master_down(UP, &mut sc, "user requested via ifconfig", &mut ev);
        assert_eq!(sc.state, CarpState::Init);
        sc.state = CarpState::Backup;
        master_down(UP, &mut sc, "user requested via ifconfig", &mut ev);
        assert_eq!(sc.state, CarpState::Master);
        assert_eq!(
            states(&ev),
            [(
                CarpState::Backup,
                CarpState::Master,
                "user requested via ifconfig"
            )]
        );
    }

    #[test]
    fn demotion_wraps_like_a_c_int() {
        let mut ev = Vec::new();
        let mut sysctl = Sysctls {
            demotion: i32::MAX,
            ..Sysctls::default()
        };
        demote_adj(&mut sysctl, 1, "sysctl", &mut ev);
        assert_eq!(sysctl.demotion, i32::MIN);
    }
}
