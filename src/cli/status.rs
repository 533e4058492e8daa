//! `carpctl status [--json]`: every vhid with its interface, state, advbase,
//! advskew (configured and effective), addresses, peers and protocol, plus
//! the global `net.inet.carp.*` sysctls and the kernel in use.
//!
//! The human form reads like the `carp:` lines of ifconfig(8) (`carp.c`,
//! `carp_status()`: "carp: STATE vhid N advbase A advskew S", and for
//! VRRPv3 "vrrp: STATE vrid N prio P interval I"; docs/freebsd-carp.md §6.4). The JSON
//! form is a contract: its field names are documented in carpctl(8) and only
//! ever added to.
//!
//! Neither form ever shows a key: `key set` / `no key` at most. carp(4)
//! returns the key only to a privileged caller (`PRIV_NETINET_CARP`,
//! docs/freebsd-carp.md §4.4), so an unprivileged `status` always says `no key`.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use clap::Args;
use ipnet::IpNet;
use serde::Serialize;

use super::{CliError, GlobalOpts};
use crate::kernel::Kernel;
use crate::model::{Api, CarpState, KernelInfo, Protocol};
pub use crate::status::{ClusterView, ClusterVip, StatusReport, VhidReport};

/// Arguments of `carpctl status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Print JSON instead of text (stable field names, see carpctl(8))
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a VIP of this node is missing or not in the state the
    /// cluster file plans for it (for monitoring); needs the cluster file
    #[arg(long)]
    pub(crate) check: bool,
}

/// `carpctl status`.
///
/// The cluster view is added when the cluster file is given (`-c`,
/// `CARPCTL_CONFIG`) or exists at the default path.
pub fn run(global: &GlobalOpts, args: &StatusArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let path = global.config_path();
    let use_cluster = global.config.is_some() || path.exists();
    if args.check && !use_cluster {
        return Err(CliError::Usage(format!(
            "status --check compares with the cluster file, and there is none at {}; pass -c FILE",
            path.display()
        )));
    }
    let cfg = if use_cluster {
        Some(super::cluster::load(&path)?)
    } else {
        None
    };
    let mut kernel = global.open_kernel()?;
    let report = collect(kernel.as_mut())?;
    let view = match &cfg {
        Some(cfg) => {
            let node = super::cluster::node(global, cfg)?;
            let mut desired = super::cluster::desired(kernel.as_mut(), cfg, &node)?;
            // In maintenance, a VRRP vhid's planned priority is the
            // maintenance one (apply::hold): not drift.
            if desired.vips.iter().any(|d| d.vrrp.is_some())
                && super::maintenance::vrrp_held(kernel.as_mut(), cfg)
            {
                crate::apply::hold::hold(&mut desired);
            }
            let switched = super::switchover::for_status(kernel.as_mut(), cfg, &mut desired)?;
            let mut view = ClusterView::new(&path, &desired, &report);
            for v in &mut view.vips {
                v.switchover = switched
                    .iter()
                    .find(|(name, _)| *name == v.name)
                    .map(|(_, n)| n.clone());
            }
            Some(view)
        }
        None => None,
    };
    if args.json {
        write_json_with(&report, view.as_ref(), out)?;
    } else {
        write_human(&report, out)?;
        if let Some(v) = &view {
            write_cluster_view(v, out)?;
        }
    }
    if args.check {
        let problems = view.as_ref().map(ClusterView::problems).unwrap_or_default();
        if !problems.is_empty() {
            return Err(CliError::Failed(format!(
                "not as planned: {}",
                problems.join("; ")
            )));
        }
    }
    Ok(())
}

/// Read the kernel info, the sysctls, every vhid and every interface's
/// addresses.
pub fn collect(kernel: &mut dyn Kernel) -> Result<StatusReport, CliError> {
    // Without carp.ko neither the sysctls nor the vhids exist; say that
    // plainly rather than fail on the first sysctl.
    let loaded = kernel
        .carp_loaded()
        .map_err(CliError::kernel("cannot tell whether carp(4) is loaded"))?;
    if !loaded {
        return Err(CliError::kernel("cannot show the carp(4) status")(
            crate::kernel::KernelError::NotLoaded,
        ));
    }
    let info = kernel
        .info()
        .map_err(CliError::kernel("cannot identify the kernel"))?;
    let sysctls = kernel
        .sysctls()
        .map_err(CliError::kernel("cannot read net.inet.carp.*"))?;
    let vhids = kernel
        .all_vhids()
        .map_err(CliError::kernel("cannot list the vhids"))?;
    let interfaces = kernel
        .interfaces()
        .map_err(CliError::kernel("cannot list the interfaces"))?;
    let vhids = vhids
        .into_iter()
        .map(|status| {
            let addresses = interfaces
                .iter()
                .filter(|i| i.name == status.interface)
                .flat_map(|i| i.vhid_addresses(status.vhid))
                .map(|a| a.net)
                .collect();
            VhidReport { status, addresses }
        })
        .collect();
    Ok(StatusReport {
        kernel: info,
        sysctls,
        vhids,
    })
}

fn api_name(api: Api) -> &'static str {
    match api {
        Api::Netlink => "netlink",
        Api::Ioctl => "ioctl",
    }
}

fn inet_word(net: &IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "inet",
        IpNet::V6(_) => "inet6",
    }
}

/// The cluster view's human form, after the vhids.
fn write_cluster_view(view: &ClusterView, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "cluster {}, node {}:", view.file, view.node)?;
    for v in &view.vips {
        let state = v
            .state
            .map_or_else(|| "missing".to_string(), |s| s.to_string());
        writeln!(
            out,
            "	{} vhid {}: rank {}, planned {}, is {state}{}",
            v.name,
            v.vhid_ref(),
            v.rank,
            v.expected,
            if v.ok { "" } else { "  <-- not as planned" }
        )?;
        for d in &v.drift {
            writeln!(out, "\t    {d}")?;
        }
        if let Some(s) = &v.switchover {
            writeln!(
                out,
                "\t    switchover to {}: advskew {}, planned {} ({})",
                s.target,
                s.advskew,
                s.planned,
                if s.keep { "kept" } else { "temporary" }
            )?;
        }
    }
    Ok(())
}

/// The human form (lines after the `em0: vhid 1` header start with a tab,
/// as ifconfig's do; shown here as spaces):
///
/// ```text
/// carp(4): FreeBSD 14.1-RELEASE via netlink; preempt 1, allow 1, log 1, demotion 0
/// em0: vhid 1
///         carp: BACKUP vhid 1 advbase 1 advskew 100 (effective 100) key set
///               inet 192.168.1.50/32
/// ```
pub(crate) fn write_human(report: &StatusReport, out: &mut dyn Write) -> Result<(), CliError> {
    let s = &report.sysctls;
    writeln!(
        out,
        "carp(4): FreeBSD {} via {}; preempt {}, allow {}, log {}, demotion {}",
        report.kernel.osrelease,
        api_name(report.kernel.api),
        s.preempt,
        s.allow,
        s.log,
        s.demotion
    )?;
    if report.vhids.is_empty() {
        writeln!(out, "no vhids configured")?;
        return Ok(());
    }
    // Continuation lines line up under the text after "carp: ", as
    // ifconfig indents the lines that belong to one entry.
    const MORE: &str = "\t      ";
    for v in &report.vhids {
        let st = &v.status;
        writeln!(out, "{}: vhid {}", st.interface, st.vhid)?;
        match st.protocol {
            Protocol::Carp => {
                let key = if st.key.is_some() {
                    "key set"
                } else {
                    "no key"
                };
                writeln!(
                    out,
                    "\tcarp: {} vhid {} advbase {} advskew {} (effective {}) {key}",
                    st.state,
                    st.vhid,
                    st.advbase,
                    st.advskew.get(),
                    st.effective_advskew(s.demotion)
                )?;
            }
            Protocol::Vrrpv3 => {
                // ifconfig prints 0 for a priority or interval the kernel
                // did not report; do the same rather than guess a default.
                writeln!(
                    out,
                    "\tvrrp: {} vrid {} prio {} interval {}",
                    st.state,
                    st.vhid,
                    st.vrrp_priority.unwrap_or(0),
                    st.vrrp_interval.unwrap_or(0)
                )?;
            }
        }
        if let Some(peer) = st.peer {
            writeln!(out, "{MORE}peer {peer}")?;
        }
        if let Some(peer6) = st.peer6 {
            writeln!(out, "{MORE}peer6 {peer6}")?;
        }
        for net in &v.addresses {
            writeln!(out, "{MORE}{} {net}", inet_word(net))?;
        }
    }
    Ok(())
}

/// The JSON document (see carpctl(8), `status --json`).
#[derive(Debug, Serialize)]
struct JsonStatus<'a> {
    kernel: &'a KernelInfo,
    preempt: bool,
    allow: bool,
    log: i32,
    demotion: i32,
    ifdown_demotion_factor: i32,
    senderr_demotion_factor: i32,
    dscp: Option<i32>,
    vhids: Vec<JsonVhid<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonVhid<'a> {
    interface: &'a str,
    vhid: u8,
    state: CarpState,
    advbase: u8,
    advskew: u8,
    effective_advskew: u8,
    key_set: bool,
    addresses: Vec<String>,
    /// `null`: the multicast group 224.0.0.18.
    peer: Option<Ipv4Addr>,
    /// `null`: the multicast group ff02::12.
    peer6: Option<Ipv6Addr>,
    protocol: Protocol,
    /// carp(4)'s `carpver`: 2 for CARP, 3 for VRRPv3.
    version: u8,
    vrrp_priority: Option<u8>,
    vrrp_interval: Option<u16>,
}

fn json_document(report: &StatusReport) -> JsonStatus<'_> {
    let s = &report.sysctls;
    JsonStatus {
        kernel: &report.kernel,
        preempt: s.preempt != 0,
        allow: s.allow != 0,
        log: s.log,
        demotion: s.demotion,
        ifdown_demotion_factor: s.ifdown_demotion_factor,
        senderr_demotion_factor: s.senderr_demotion_factor,
        dscp: s.dscp,
        vhids: report
            .vhids
            .iter()
            .map(|v| {
                let st = &v.status;
                JsonVhid {
                    interface: &st.interface,
                    vhid: st.vhid.get(),
                    state: st.state,
                    advbase: st.advbase,
                    advskew: st.advskew.get(),
                    effective_advskew: st.effective_advskew(s.demotion),
                    key_set: st.key.is_some(),
                    addresses: v.addresses.iter().map(ToString::to_string).collect(),
                    peer: st.peer,
                    peer6: st.peer6,
                    protocol: st.protocol,
                    version: st.protocol.as_raw(),
                    vrrp_priority: st.vrrp_priority,
                    vrrp_interval: st.vrrp_interval,
                }
            })
            .collect(),
    }
}

/// The JSON form, pretty-printed, one document followed by a newline.
pub fn write_json(report: &StatusReport, out: &mut dyn Write) -> Result<(), CliError> {
    write_json_with(report, None, out)
}

/// The JSON form with the cluster view (`"cluster"`, `null` without a
/// cluster file).
pub(crate) fn write_json_with(
    report: &StatusReport,
    cluster: Option<&ClusterView>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        status: JsonStatus<'a>,
        cluster: Option<&'a ClusterView>,
    }
    serde_json::to_writer_pretty(
        &mut *out,
        &Doc {
            status: json_document(report),
            cluster,
        },
    )?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::model::{AdvSkew, CarpSysctls, Key, Vhid, VhidStatus};

    fn sysctls(demotion: i32) -> CarpSysctls {
        CarpSysctls {
            allow: 1,
            preempt: 1,
            log: 1,
            demotion,
            ifdown_demotion_factor: 240,
            senderr_demotion_factor: 240,
            dscp: Some(56),
        }
    }

    fn kernel14() -> KernelInfo {
        KernelInfo {
            osreldate: 1401000,
            osrelease: "14.1-RELEASE".into(),
            api: Api::Netlink,
            vrrp: false,
        }
    }

    fn carp_vhid(
        ifname: &str,
        vhid: i64,
        state: CarpState,
        advskew: u8,
        key: Option<&[u8]>,
    ) -> VhidStatus {
        VhidStatus {
            interface: ifname.into(),
            vhid: Vhid::new(vhid).unwrap(),
            state,
            advbase: 1,
            advskew: AdvSkew::new(i64::from(advskew)).unwrap(),
            key: key.map(|k| Key::new(k).unwrap()),
            peer: None,
            peer6: None,
            protocol: Protocol::Carp,
            vrrp_priority: None,
            vrrp_interval: None,
        }
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    /// The example of the brief: one BACKUP vhid with a key, v4 and v6.
    fn example() -> StatusReport {
        StatusReport {
            kernel: kernel14(),
            sysctls: sysctls(0),
            vhids: vec![VhidReport {
                status: carp_vhid("em0", 1, CarpState::Backup, 100, Some(b"testpass")),
                addresses: nets(&["192.168.1.50/32", "2001:db8::51/128"]),
            }],
        }
    }

    fn human(report: &StatusReport) -> String {
        let mut buf = Vec::new();
        write_human(report, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn json(report: &StatusReport) -> Value {
        let mut buf = Vec::new();
        write_json(report, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.ends_with("}\n"),
            "one document and a newline: {text:?}"
        );
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn human_form_reads_like_ifconfig() {
        assert_eq!(
            human(&example()),
            "carp(4): FreeBSD 14.1-RELEASE via netlink; preempt 1, allow 1, log 1, demotion 0\n\
             em0: vhid 1\n\
             \tcarp: BACKUP vhid 1 advbase 1 advskew 100 (effective 100) key set\n\
             \t      inet 192.168.1.50/32\n\
             \t      inet6 2001:db8::51/128\n"
        );
    }

    #[test]
    fn human_form_without_vhids_is_one_line_after_the_header() {
        let mut r = example();
        r.vhids.clear();
        r.kernel = KernelInfo {
            osreldate: 1303000,
            osrelease: "13.3-RELEASE".into(),
            api: Api::Ioctl,
            vrrp: false,
        };
        assert_eq!(
            human(&r),
            "carp(4): FreeBSD 13.3-RELEASE via ioctl; preempt 1, allow 1, log 1, demotion 0\n\
             no vhids configured\n"
        );
    }

    #[test]
    fn human_form_unicast_demoted_no_key_and_several_interfaces() {
        let mut master = carp_vhid("vlan0.100", 2, CarpState::Master, 0, None);
        master.advbase = 3;
        master.peer = Some("192.0.2.2".parse().unwrap());
        master.peer6 = Some("2001:db8::2".parse().unwrap());
        let r = StatusReport {
            kernel: kernel14(),
            sysctls: sysctls(50),
            vhids: vec![
                VhidReport {
                    status: carp_vhid("em0", 1, CarpState::Init, 230, Some(b"k")),
                    addresses: nets(&["192.0.2.50/24"]),
                },
                VhidReport {
                    status: master,
                    addresses: vec![],
                },
            ],
        };
        assert_eq!(
            human(&r),
            "carp(4): FreeBSD 14.1-RELEASE via netlink; preempt 1, allow 1, log 1, demotion 50\n\
             em0: vhid 1\n\
             \tcarp: INIT vhid 1 advbase 1 advskew 230 (effective 240) key set\n\
             \t      inet 192.0.2.50/24\n\
             vlan0.100: vhid 2\n\
             \tcarp: MASTER vhid 2 advbase 3 advskew 0 (effective 50) no key\n\
             \t      peer 192.0.2.2\n\
             \t      peer6 2001:db8::2\n"
        );
    }

    #[test]
    fn human_form_vrrp_line() {
        let mut v = carp_vhid("em0", 7, CarpState::Master, 0, None);
        v.protocol = Protocol::Vrrpv3;
        v.advbase = 0;
        v.vrrp_priority = Some(100);
        v.vrrp_interval = Some(100);
        let r = StatusReport {
            kernel: KernelInfo {
                osreldate: 1500000,
                osrelease: "15.0-RELEASE".into(),
                api: Api::Netlink,
                vrrp: true,
            },
            sysctls: sysctls(0),
            vhids: vec![VhidReport {
                status: v,
                addresses: nets(&["198.51.100.7/32"]),
            }],
        };
        assert_eq!(
            human(&r),
            "carp(4): FreeBSD 15.0-RELEASE via netlink; preempt 1, allow 1, log 1, demotion 0\n\
             em0: vhid 7\n\
             \tvrrp: MASTER vrid 7 prio 100 interval 100\n\
             \t      inet 198.51.100.7/32\n"
        );
    }

    #[test]
    fn json_has_the_contract_fields_with_their_types() {
        let v = json(&example());
        assert_eq!(v["preempt"], Value::Bool(true));
        assert_eq!(v["allow"], Value::Bool(true));
        assert_eq!(v["demotion"], Value::from(0));
        assert_eq!(v["log"], Value::from(1));
        assert_eq!(v["dscp"], Value::from(56));
        assert_eq!(v["kernel"]["osrelease"], "14.1-RELEASE");
        assert_eq!(v["kernel"]["osreldate"], 1401000);
        assert_eq!(v["kernel"]["api"], "netlink");
        assert_eq!(v["kernel"]["vrrp"], false);
        let vhids = v["vhids"].as_array().unwrap();
        assert_eq!(vhids.len(), 1);
        let e = &vhids[0];
        assert_eq!(e["interface"], "em0");
        assert_eq!(e["vhid"], 1);
        assert_eq!(e["state"], "BACKUP");
        assert_eq!(e["advbase"], 1);
        assert_eq!(e["advskew"], 100);
        assert_eq!(e["effective_advskew"], 100);
        assert_eq!(e["key_set"], true);
        assert_eq!(
            e["addresses"],
            serde_json::json!(["192.168.1.50/32", "2001:db8::51/128"])
        );
        assert_eq!(e["peer"], Value::Null);
        assert_eq!(e["peer6"], Value::Null);
        assert_eq!(e["protocol"], "carp");
        assert_eq!(e["version"], 2);
        assert_eq!(e["vrrp_priority"], Value::Null);
    }

    #[test]
    fn json_every_state_and_unicast_vrrp_fields() {
        let mut unicast = carp_vhid("em1", 3, CarpState::Master, 10, None);
        unicast.peer = Some("192.0.2.9".parse().unwrap());
        unicast.peer6 = Some("fe80::9".parse().unwrap());
        let mut vrrp = carp_vhid("em1", 4, CarpState::Init, 0, None);
        vrrp.protocol = Protocol::Vrrpv3;
        vrrp.vrrp_priority = Some(255);
        vrrp.vrrp_interval = Some(4095);
        let r = StatusReport {
            kernel: kernel14(),
            sysctls: CarpSysctls {
                preempt: 0,
                allow: 0,
                dscp: None,
                ..sysctls(-20)
            },
            vhids: vec![
                VhidReport {
                    status: carp_vhid("em0", 255, CarpState::Backup, 5, None),
                    addresses: vec![],
                },
                VhidReport {
                    status: unicast,
                    addresses: vec![],
                },
                VhidReport {
                    status: vrrp,
                    addresses: vec![],
                },
            ],
        };
        let v = json(&r);
        assert_eq!(v["preempt"], false);
        assert_eq!(v["allow"], false);
        assert_eq!(v["demotion"], -20);
        assert_eq!(v["dscp"], Value::Null);
        let states: Vec<&str> = v["vhids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["BACKUP", "MASTER", "INIT"]);
        assert_eq!(v["vhids"][0]["vhid"], 255);
        // A negative demotion lowers the skew, but not below 0.
        assert_eq!(v["vhids"][0]["effective_advskew"], 0);
        assert_eq!(v["vhids"][1]["peer"], "192.0.2.9");
        assert_eq!(v["vhids"][1]["peer6"], "fe80::9");
        assert_eq!(v["vhids"][1]["key_set"], false);
        assert_eq!(v["vhids"][1]["addresses"], serde_json::json!([]));
        assert_eq!(v["vhids"][2]["protocol"], "vrrpv3");
        assert_eq!(v["vhids"][2]["version"], 3);
        assert_eq!(v["vhids"][2]["vrrp_priority"], 255);
        assert_eq!(v["vhids"][2]["vrrp_interval"], 4095);
        // VRRPv3 is not demoted.
        assert_eq!(v["vhids"][2]["effective_advskew"], 0);
    }

    #[test]
    fn json_without_vhids_is_an_empty_array() {
        let mut r = example();
        r.vhids.clear();
        assert_eq!(json(&r)["vhids"], serde_json::json!([]));
    }

    #[test]
    fn no_form_ever_shows_the_key() {
        let r = example();
        let text = human(&r);
        let mut buf = Vec::new();
        write_json(&r, &mut buf).unwrap();
        let doc = String::from_utf8(buf).unwrap();
        for form in [&text, &doc] {
            assert!(!form.contains("testpass"), "{form}");
            // Not hex-encoded either ("testpass" = 74 65 73 74 70 61 73 73).
            assert!(!form.contains("7465737470617373"), "{form}");
        }
    }

    #[test]
    fn write_errors_are_output_errors() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert!(
            write_human(&example(), &mut Closed)
                .unwrap_err()
                .is_broken_pipe()
        );
        assert!(
            write_json(&example(), &mut Closed)
                .unwrap_err()
                .is_broken_pipe()
        );
    }
}
