//! The release table: every behaviour of carp(4) that differs between the
//! FreeBSD releases the emulated kernel models, in one place, each rule
//! with the FreeBSD commit it comes from (`docs/freebsd-carp.md` §2).
//!
//! The state machine ([`super::fsm`]) and the receive path
//! ([`super::live`]) ask [`Rules`] instead of testing a release, so that
//! adding a release is one row and adding a difference is one field.
//!
//! Where a rule could not be confirmed from the FreeBSD source, the row
//! says so and takes the behaviour that is worse for the cluster (the
//! simulator should rather report a problem a real host might not have
//! than hide one it has); `docs/freebsd-carp.md` §2 lists each such rule.

use super::Flavor;

/// How `carp_input()` / `carp6_input()` / `carp_input_c()` check a packet,
/// in which order (`docs/freebsd-carp.md` §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RxPath {
    /// 13.x (`ip_carp.c` of stable/13): IPv4 checks TTL 255 first, before
    /// the length; IPv6 checks the receiving interface (`badif`) then TTL.
    /// The checksum covers the 36-byte header; the vhid lookup comes
    /// before the version check; there is no VRRP.
    Carp13,
    /// 14.x (the unicast rewrite, 137818006de5): no TTL check before the
    /// vhid lookup; after the vhid lookup and the version check, TTL 255 is
    /// required only when the vhid's destination is multicast. The
    /// checksum still covers the 36-byte header; no VRRP.
    Carp14,
    /// 15.0 and main (VRRPv3, 37115154672f and a254d6870e88): a common
    /// 8-byte header, the version dispatched before the checksum (which
    /// for IPv4 covers the whole IP payload), then the vhid lookup, the
    /// softc's version, TTL for a multicast destination, and the HMAC.
    Vrrp,
}

/// Everything that differs between releases in the state machine, the
/// receive path and the send path. See [`RELEASES`] for the values and
/// their sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    /// `DEMOTE_ADVSKEW()` clamps a negative demoted skew at 0 (PR 259528:
    /// main 1019354b, stable/13 0909e057, first released in 13.1).
    /// Without it, a negative demotion makes the skew negative: the
    /// comparison uses the negative value, the wire byte wraps (-1 is sent
    /// as 255), and a negative interval reaches `tvtohz()`.
    pub(crate) demote_clamps_low: bool,
    /// `carp_send_ad_error()` undoes the send-error demotion after three
    /// successful sends (PR 260499, main 9a8cf950). Before it, the first
    /// success cleared the error count and the demotion was never undone.
    pub(crate) senderr_recovers: bool,
    /// The receive path.
    pub(crate) rx: RxPath,
    /// The 14.x TTL check tests `IN_MULTICAST(sc->sc_carpaddr.s_addr)`
    /// without `ntohl()`: on a little-endian host (amd64, arm64) 224.0.0.18
    /// is never seen as multicast, so an IPv4 advertisement with a TTL
    /// other than 255 is accepted. IPv6 is not affected.
    pub(crate) ttl_v4_host_order_bug: bool,
    /// VRRPv3 priorities are demoted by `net.inet.carp.demotion`
    /// (`DEMOTE_VRRP_PRIO()`, review D55558). Not confirmed to be
    /// committed: off in every row.
    pub(crate) vrrp_demotion: bool,
}

/// One row of the release table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Release {
    pub flavor: Flavor,
    /// The release the row models.
    pub(crate) models: &'static str,
    pub(crate) rules: Rules,
}

/// The release table (`docs/freebsd-carp.md` §2; carpctl.scenario(5)).
pub(crate) const RELEASES: [Release; 5] = [
    Release {
        flavor: Flavor::V13_0,
        models: "13.0-RELEASE",
        rules: Rules {
            // ip_carp.c of 13.0: DEMOTE_ADVSKEW() clamps above only.
            demote_clamps_low: false,
            // ip_carp.c of 13.0: the first success clears sc_sendad_errors.
            senderr_recovers: false,
            rx: RxPath::Carp13,
            ttl_v4_host_order_bug: false,
            vrrp_demotion: false,
        },
    },
    Release {
        flavor: Flavor::V13,
        models: "13.5-RELEASE",
        rules: Rules {
            // 0909e057 (stable/13, MFC of 1019354b), before 13.1.
            demote_clamps_low: true,
            // 9a8cf950 carries no MFC tag and no stable/13 merge of it was
            // found: unconfirmed, so 13.5 keeps the demotion (the worse
            // outcome for the cluster).
            senderr_recovers: false,
            rx: RxPath::Carp13,
            ttl_v4_host_order_bug: false,
            vrrp_demotion: false,
        },
    },
    Release {
        flavor: Flavor::V14,
        models: "14.x",
        rules: Rules {
            demote_clamps_low: true,
            // 9a8cf950 is in main before stable/14 was branched.
            senderr_recovers: true,
            rx: RxPath::Carp14,
            // ip_carp.c of the 14.0 line (carp_input_c()); a fix was not
            // found: kept for every 14.x.
            ttl_v4_host_order_bug: true,
            vrrp_demotion: false,
        },
    },
    Release {
        flavor: Flavor::V15,
        models: "15.x",
        rules: VRRP_ERA,
    },
    Release {
        flavor: Flavor::Main,
        models: "main after 2026-03-12",
        rules: VRRP_ERA,
    },
];

/// 15.0 and main: VRRPv3, and the receive path rewritten with it
/// (37115154672f, a254d6870e88).
const VRRP_ERA: Rules = Rules {
    demote_clamps_low: true,
    senderr_recovers: true,
    rx: RxPath::Vrrp,
    ttl_v4_host_order_bug: false,
    // Review D55558: not confirmed committed (docs/freebsd-carp.md §2).
    vrrp_demotion: false,
};

/// The row of `flavor` (asked for every packet received: a constant
/// index, not a search).
pub(crate) fn release(flavor: Flavor) -> &'static Release {
    let row = match flavor {
        Flavor::V13_0 => 0,
        Flavor::V13 => 1,
        Flavor::V14 => 2,
        Flavor::V15 => 3,
        Flavor::Main => 4,
    };
    &RELEASES[row]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flavor_has_exactly_one_row() {
        for f in Flavor::ALL {
            let rows = RELEASES.iter().filter(|r| r.flavor == *f).count();
            assert_eq!(rows, 1, "{f:?}");
            assert_eq!(release(*f).flavor, *f);
        }
        assert_eq!(RELEASES.len(), Flavor::ALL.len());
    }

    #[test]
    fn the_13_flavor_is_13_5_and_clamps() {
        let r = release(Flavor::V13);
        assert_eq!(r.models, "13.5-RELEASE");
        assert!(r.rules.demote_clamps_low);
        assert!(!release(Flavor::V13_0).rules.demote_clamps_low);
    }

    /// carpctl.scenario(5) shows this table (RELEASES): each row there is
    /// rendered from [`RELEASES`] here, so the two cannot drift apart.
    #[test]
    fn the_man_page_shows_this_table() {
        let man = include_str!("../../../man/carpctl.scenario.5");
        let yes = |b: bool| if b { "yes" } else { "no" };
        let cols = [Flavor::V13_0, Flavor::V13, Flavor::V14, Flavor::V15];
        let r = |f: Flavor| release(f).rules;
        assert_eq!(
            r(Flavor::V15),
            r(Flavor::Main),
            "15 and main share a column"
        );
        let row = |label: &str, cell: &dyn Fn(Rules) -> String| {
            let cells: Vec<String> = cols.iter().map(|f| cell(r(*f))).collect();
            format!(".It {label} Ta {}", cells.join(" Ta "))
        };
        let star = |f: Flavor, s: &str| {
            // The rules the release table marks as unconfirmed.
            let hedged = matches!(f, Flavor::V13 | Flavor::V14);
            format!("{s}{}", if hedged { "*" } else { "" })
        };
        let rows = [
            row("negative demotion clamped at 0", &|x| {
                yes(x.demote_clamps_low).into()
            }),
            row("IPv4 checksum over", &|x| {
                if x.rx == RxPath::Vrrp {
                    "payload"
                } else {
                    "36 B"
                }
                .into()
            }),
            row("version before vhid lookup", &|x| {
                yes(x.rx == RxPath::Vrrp).into()
            }),
            row("VRRPv3", &|x| yes(x.rx == RxPath::Vrrp).into()),
        ];
        for want in rows {
            assert!(man.contains(&want), "carpctl.scenario.5 lacks: {want}");
        }
        let senderr: Vec<String> = cols
            .iter()
            .map(|f| match (r(*f).senderr_recovers, *f) {
                (false, Flavor::V13) => star(*f, "no"),
                (b, _) => yes(b).into(),
            })
            .collect();
        let want = format!(
            ".It send errors undone after 3 sends Ta {}",
            senderr.join(" Ta ")
        );
        assert!(man.contains(&want), "{want}");
        let ttl: Vec<String> = cols
            .iter()
            .map(|f| match (r(*f).rx, r(*f).ttl_v4_host_order_bug) {
                (RxPath::Carp13, _) => "first".into(),
                (_, true) => star(*f, "never"),
                _ => "multicast".into(),
            })
            .collect();
        let want = format!(".It IPv4 TTL 255 checked Ta {}", ttl.join(" Ta "));
        assert!(man.contains(&want), "{want}");
    }
}
