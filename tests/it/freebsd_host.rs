//! `carpctl` on a real FreeBSD kernel: the seed cluster and FreeBSD's own
//! carp.sh cases in VNET jails.
//!
//! In the style of FreeBSD's own `tests/sys/netinet/carp.sh` and
//! `tests/sys/common/vnet.subr` (the lab: `freebsd_host/lab.rs`), each
//! node is a VNET jail holding one end of an epair, renamed inside the
//! jail (as `vnet_ifrename_jail` does) so that one cluster file names the
//! same interface on every node, and each node runs `carpctl apply`. Then
//! the tests check what carp(4) itself reports through `carpctl status
//! --json`.
//!
//! The seed cluster (`one_epair.rs`): an epair joins two jails, mail-a and
//! mail-b of `examples/seed.toml` (used verbatim: the ends are `em0` and
//! `igb0`), and
//!
//! 1. one MASTER per vhid, in the mirrored layout of the seed (mail-a is
//!    MASTER for vhid 1 and BACKUP for vhid 2, mail-b the other way round);
//! 2. failover: when mail-a's interface goes down, mail-b is MASTER for both;
//! 3. preemption: when it comes back up, mail-a takes vhid 1 back.
//!
//! Every carp.sh case (@ ba0fe1dd) that `src/sim/freebsd_tests.rs`
//! simulates runs here on the real kernel too, built as carp.sh builds it:
//! `switch` and `negative_demotion` on one epair (`one_epair.rs`); basic_v4,
//! basic_v6 and nd6_ns_source_mac with an if_bridge in a third jail that
//! joins the two nodes' epairs and is also the client, unicast_v4 and
//! unicast_v6 with that jail a router between the nodes' two subnets
//! (`bridged.rs`). Each case configures its vhid as carp.sh does, through a
//! cluster file: pinned advskews (both 0 with `allow_tie` where carp.sh
//! names none), `unicast = true` with the nodes' `addresses` where carp.sh
//! gives `peer`/`peer6`, a password only where carp.sh has `pass`; and
//! asserts what carp.sh asserts (docs/freebsd-tests.md).
//!
//! It needs FreeBSD, root, carp(4) loaded (`kldstat -q -m carp`, as carp.sh
//! checks) and VNET jails (`kern.features.vimage`), the bridged cases
//! if_bridge(4) and the unicast ones FreeBSD 14.0 or later; without them
//! each test says "skipped: ..." and returns. Everything it creates
//! (jails, epairs, bridges, files) is removed again, also when an
//! assertion fails.

#[cfg(target_os = "freebsd")]
mod bridged;
#[cfg(target_os = "freebsd")]
mod lab;
#[cfg(target_os = "freebsd")]
mod one_epair;

/// The tests of `one_epair.rs` and `bridged.rs` elsewhere: each says why it
/// skipped.
#[cfg(not(target_os = "freebsd"))]
mod skipped {
    fn skip() {
        eprintln!("skipped: needs FreeBSD as root (carp(4) and VNET jails)");
    }

    #[test]
    fn seed_cluster_in_two_vnet_jails() {
        skip();
    }

    #[test]
    fn carp_sh_switch_in_a_vnet_jail() {
        skip();
    }

    #[test]
    fn carp_sh_negative_demotion_in_two_vnet_jails() {
        skip();
    }

    #[test]
    fn carp_sh_basic_v4_in_three_vnet_jails() {
        skip();
    }

    #[test]
    fn carp_sh_basic_v6_in_three_vnet_jails() {
        skip();
    }

    #[test]
    fn carp_sh_unicast_v4_in_three_vnet_jails() {
        skip();
    }

    #[test]
    fn carp_sh_unicast_v6_in_three_vnet_jails() {
        skip();
    }

    #[test]
    fn carp_sh_nd6_ns_source_mac_in_three_vnet_jails() {
        skip();
    }
}
