//! `carpctl emulate ...`: create and drive emulated FreeBSD hosts.
//!
//! * `emulate init PATH [--freebsd 13|14|15|main] [--iface NAME=ADDR/PREFIX]...
//!   [--no-carp-module] [--unprivileged]` writes a new host's state file;
//! * `emulate inject PATH --fail-call N --errno NAME` arms a failure of the
//!   Nth mutating call from now.
//!
//! The emulated host itself is [`crate::kernel::emulated::EmulatedHost`];
//! here are only the arguments, their validation (every bad value is named,
//! exit 2, and nothing is created) and what is printed.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::{Args, Subcommand};
use ipnet::IpNet;

use super::{CliError, GlobalOpts};
use crate::kernel::Errno;
use crate::kernel::emulated::{EmulatedHost, Flavor, HostSpec, IfaceSpec};
use crate::model::IfName;

/// `carpctl emulate <command>`.
#[derive(Debug, Clone, Subcommand)]
pub enum EmulateCommand {
    /// Create an emulated FreeBSD host (a state file) that
    /// `--kernel emulated:PATH` then talks to
    Init(InitArgs),
    /// Make the Nth mutating call from now on an emulated host fail with
    /// an errno, to rehearse error handling and rollback
    Inject(InjectArgs),
    /// Reboot an emulated host: its vhids, carp addresses and
    /// net.inet.carp sysctls (demotion 0) are gone, kern.boottime is new
    Reboot(RebootArgs),
}

/// Arguments of `carpctl emulate reboot`.
#[derive(Debug, Clone, Args)]
pub struct RebootArgs {
    /// The emulated host's state file
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// Arguments of `carpctl emulate init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The state file to create; it must not exist yet
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// The FreeBSD release the host behaves like: 13 (13.5, ioctl), 13.0
    /// (13.0-RELEASE), 14 (netlink), 15 (netlink and VRRPv3) or main
    /// (netlink only, no ioctls)
    #[arg(long = "freebsd", value_name = "13.0|13|14|15|main", default_value = "14", value_parser = Flavor::from_str)]
    pub flavor: Flavor,

    /// An Ethernet interface and one of its addresses; repeat it for more
    /// interfaces or more addresses (IPv4 or IPv6) on one interface.
    /// `NAME=` alone makes an interface without an address
    #[arg(long = "iface", value_name = "NAME=ADDR/PREFIX", value_parser = parse_iface)]
    pub(crate) ifaces: Vec<IfaceArg>,

    /// Start without carp.ko loaded (as if `kldload carp` had not been run)
    #[arg(long)]
    pub(crate) no_carp_module: bool,

    /// Make the caller unprivileged (not root): carp(4) then refuses
    /// changes with EPERM and hides keys
    #[arg(long)]
    pub(crate) unprivileged: bool,
}

/// Arguments of `carpctl emulate inject`.
#[derive(Debug, Clone, Args)]
pub struct InjectArgs {
    /// The emulated host's state file
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Which mutating call from now fails: 1 is the next one
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) fail_call: u64,

    /// The errno it fails with, by name (EINVAL, EPERM, EEXIST, ...)
    #[arg(long, value_name = "NAME", value_parser = parse_errno)]
    pub errno: Errno,
}

/// One `--iface` value: an interface name and at most one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IfaceArg {
    pub name: String,
    pub(crate) address: Option<IpNet>,
}

/// Parse `NAME=ADDR/PREFIX` or `NAME=`.
pub(crate) fn parse_iface(s: &str) -> Result<IfaceArg, String> {
    let Some((name, addr)) = s.split_once('=') else {
        return Err(format!(
            "{s:?} is not NAME=ADDR/PREFIX (e.g. em0=192.0.2.3/24), nor NAME= for an interface without an address"
        ));
    };
    check_ifname(name)?;
    let address = if addr.is_empty() {
        None
    } else {
        if !addr.contains('/') {
            return Err(format!(
                "address {addr:?} of {name} needs a prefix length, e.g. {addr}/24 or {addr}/64"
            ));
        }
        Some(addr.parse::<IpNet>().map_err(|_| {
            format!("{addr:?} of {name} is not an IPv4 or IPv6 address with a prefix length (ADDR/PREFIX)")
        })?)
    };
    Ok(IfaceArg {
        name: name.to_string(),
        address,
    })
}

/// An interface name as carpctl accepts it ([`IfName`]), but not `lo0`:
/// every emulated host has it already, and carp(4) cannot use a loopback.
fn check_ifname(name: &str) -> Result<(), String> {
    IfName::check(name.as_bytes()).map_err(|e| format!("{name:?}: {e}"))?;
    if name == "lo0" {
        return Err("lo0 is always present on an emulated host (and carp(4) cannot use it)".into());
    }
    Ok(())
}

/// Merge the `--iface` values into interfaces, in the order they first
/// appear; an address given twice, on one interface or two, is refused.
pub(crate) fn merge_ifaces(args: &[IfaceArg]) -> Result<Vec<IfaceSpec>, CliError> {
    let mut out: Vec<IfaceSpec> = Vec::new();
    for arg in args {
        if let Some(addr) = arg.address
            && let Some(other) = out
                .iter()
                .find(|i| i.addresses.iter().any(|a| a.addr() == addr.addr()))
        {
            return Err(CliError::Usage(format!(
                "--iface {}={addr}: address {} is already given to {}",
                arg.name,
                addr.addr(),
                other.name
            )));
        }
        let idx = match out.iter().position(|i| i.name == arg.name) {
            Some(idx) => idx,
            None => {
                out.push(IfaceSpec {
                    name: arg.name.clone(),
                    addresses: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let (Some(addr), Some(iface)) = (arg.address, out.get_mut(idx)) {
            iface.addresses.push(addr);
        }
    }
    Ok(out)
}

/// Parse an errno name (`EINVAL`, case-insensitive) into FreeBSD's number.
pub(crate) fn parse_errno(s: &str) -> Result<Errno, String> {
    Errno::from_name(s).ok_or_else(|| {
        let known: Vec<&str> = crate::kernel::Errno::TABLE.iter().map(|e| e.1).collect();
        format!(
            "unknown errno name {s:?}; known names: {}",
            known.join(", ")
        )
    })
}

/// The API a flavor offers (design.md, "Supported FreeBSD releases").
fn flavor_api(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::V13_0 | Flavor::V13 => "ioctl",
        Flavor::V14 => "netlink, ioctls still present",
        Flavor::V15 => "netlink with VRRPv3, ioctls still present",
        Flavor::Main => "netlink only",
    }
}

/// `carpctl emulate ...`.
pub(crate) fn run(
    _global: &GlobalOpts,
    cmd: &EmulateCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match cmd {
        EmulateCommand::Init(args) => init(args, out),
        EmulateCommand::Inject(args) => inject(args, out),
        EmulateCommand::Reboot(args) => reboot(args, out),
    }
}

fn refuse_unless_exists(path: &Path) -> Result<(), CliError> {
    match path.try_exists() {
        Ok(true) => Ok(()),
        Ok(false) => Err(CliError::Usage(format!(
            "emulated host {} does not exist: create it with `carpctl emulate init {}`",
            path.display(),
            path.display()
        ))),
        Err(e) => Err(CliError::Usage(format!(
            "emulated host {}: {e}",
            path.display()
        ))),
    }
}

fn init(args: &InitArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let interfaces = merge_ifaces(&args.ifaces)?;
    // EmulatedHost::create refuses too; checking first gives exit 2 and a
    // message about the path rather than about the emulator.
    match args.path.try_exists() {
        Ok(false) => {}
        Ok(true) => {
            return Err(CliError::Usage(format!(
                "{} already exists: remove it or choose another path",
                args.path.display()
            )));
        }
        Err(e) => return Err(CliError::Usage(format!("{}: {e}", args.path.display()))),
    }
    let spec = HostSpec {
        flavor: args.flavor,
        interfaces,
        carp_loaded: !args.no_carp_module,
        privileged: !args.unprivileged,
    };
    EmulatedHost::create(&args.path, &spec).map_err(CliError::kernel(format!(
        "cannot create the emulated host {}",
        args.path.display()
    )))?;
    out.write_all(describe_host(&args.path, &spec).as_bytes())?;
    Ok(())
}

/// What `emulate init` prints: the host it created and how to use it.
pub(crate) fn describe_host(path: &Path, spec: &HostSpec) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        s,
        "created an emulated FreeBSD {} host at {} ({})",
        spec.flavor.label(),
        path.display(),
        flavor_api(spec.flavor)
    );
    let _ = writeln!(
        s,
        "  carp.ko {}; caller {}",
        if spec.carp_loaded {
            "loaded"
        } else {
            "not loaded"
        },
        if spec.privileged {
            "privileged (root)"
        } else {
            "unprivileged"
        }
    );
    let _ = writeln!(s, "  lo0 (loopback, no carp)");
    for iface in &spec.interfaces {
        if iface.addresses.is_empty() {
            let _ = writeln!(s, "  {} (no address)", iface.name);
        } else {
            let addrs: Vec<String> = iface.addresses.iter().map(ToString::to_string).collect();
            let _ = writeln!(s, "  {} {}", iface.name, addrs.join(" "));
        }
    }
    let _ = writeln!(
        s,
        "use it with: carpctl --kernel emulated:{} status",
        path.display()
    );
    s
}

fn reboot(args: &RebootArgs, out: &mut dyn Write) -> Result<(), CliError> {
    refuse_unless_exists(&args.path)?;
    let boot = EmulatedHost::reboot(&args.path).map_err(CliError::kernel(format!(
        "cannot reboot the emulated host {}",
        args.path.display()
    )))?;
    writeln!(
        out,
        "rebooted {}: every vhid and carp address is gone, net.inet.carp.* are back to \
         their defaults (demotion 0), kern.boottime is {boot}\n\
         at boot rc.d runs `carpctl apply`, which also applies carpctl's persistent \
         demotion (maintenance) again",
        args.path.display()
    )?;
    Ok(())
}

fn inject(args: &InjectArgs, out: &mut dyn Write) -> Result<(), CliError> {
    refuse_unless_exists(&args.path)?;
    EmulatedHost::inject_failure(&args.path, args.fail_call, args.errno).map_err(
        CliError::kernel(format!(
            "cannot arm a failure on the emulated host {}",
            args.path.display()
        )),
    )?;
    let which = match args.fail_call {
        1 => "the next mutating call".to_string(),
        n => format!("mutating call {n} from now"),
    };
    writeln!(
        out,
        "armed: {which} on {} fails with {}",
        args.path.display(),
        args.errno
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::testutil::net;

    #[test]
    fn iface_values() {
        assert_eq!(
            parse_iface("em0=192.0.2.3/24").unwrap(),
            IfaceArg {
                name: "em0".into(),
                address: Some(net("192.0.2.3/24"))
            }
        );
        assert_eq!(
            parse_iface("vlan0.100=2001:db8::3/64").unwrap(),
            IfaceArg {
                name: "vlan0.100".into(),
                address: Some(net("2001:db8::3/64"))
            }
        );
        assert_eq!(
            parse_iface("em1=").unwrap(),
            IfaceArg {
                name: "em1".into(),
                address: None
            }
        );
        assert_eq!(parse_iface("lagg0_vlan210=").unwrap().name, "lagg0_vlan210");
    }

    #[test]
    fn bad_iface_values_are_named() {
        for (bad, needle) in [
            ("em0", "NAME=ADDR/PREFIX"),
            ("=192.0.2.3/24", "empty"),
            ("em0=192.0.2.3", "prefix length"),
            ("em0=300.0.2.3/24", "\"300.0.2.3/24\""),
            ("em0=192.0.2.3/33", "\"192.0.2.3/33\""),
            ("em0=2001:db8::1/129", "\"2001:db8::1/129\""),
            ("em0=hello/24", "\"hello/24\""),
            ("abcdefghijklmnop=", "at most 15"),
            ("em 0=", "only letters, digits"),
            ("em/0=", "only letters, digits"),
            ("lo0=127.0.0.2/8", "lo0"),
        ] {
            let e = parse_iface(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
        // 15 bytes is the longest name that fits IFNAMSIZ with its NUL.
        assert!(parse_iface("abcdefghijklmno=").is_ok());
        // IfName's rule: FreeBSD does not require a leading letter (a
        // renamed interface may start with a digit, SIOCSIFNAME).
        assert!(parse_iface("0em=").is_ok());
    }

    #[test]
    fn ifaces_merge_in_order_of_first_appearance() {
        let args: Vec<IfaceArg> = [
            "em0=192.0.2.3/24",
            "em1=",
            "em0=2001:db8::3/64",
            "em0=198.51.100.3/24",
        ]
        .iter()
        .map(|s| parse_iface(s).unwrap())
        .collect();
        let merged = merge_ifaces(&args).unwrap();
        assert_eq!(
            merged,
            vec![
                IfaceSpec {
                    name: "em0".into(),
                    addresses: vec![
                        net("192.0.2.3/24"),
                        net("2001:db8::3/64"),
                        net("198.51.100.3/24")
                    ]
                },
                IfaceSpec {
                    name: "em1".into(),
                    addresses: vec![]
                },
            ]
        );
    }

    #[test]
    fn an_address_given_twice_is_refused() {
        for pair in [
            ["em0=192.0.2.3/24", "em0=192.0.2.3/25"],
            ["em0=192.0.2.3/24", "em1=192.0.2.3/24"],
        ] {
            let args: Vec<IfaceArg> = pair.iter().map(|s| parse_iface(s).unwrap()).collect();
            let e = merge_ifaces(&args).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().contains("192.0.2.3 is already given to em0"),
                "{e}"
            );
        }
    }

    #[test]
    fn errno_names() {
        assert_eq!(parse_errno("EINVAL").unwrap(), Errno::EINVAL);
        assert_eq!(parse_errno("eperm").unwrap(), Errno::EPERM);
        let e = parse_errno("EFOO").unwrap_err();
        assert!(e.contains("\"EFOO\""), "{e}");
        assert!(e.contains("EINVAL") && e.contains("EPERM"), "{e}");
        assert!(parse_errno("22").is_err());
        assert!(parse_errno("").is_err());
    }

    #[test]
    fn host_description() {
        let spec = HostSpec {
            flavor: Flavor::V13,
            interfaces: vec![
                IfaceSpec {
                    name: "em0".into(),
                    addresses: vec![net("192.0.2.3/24"), net("2001:db8::3/64")],
                },
                IfaceSpec {
                    name: "em1".into(),
                    addresses: vec![],
                },
            ],
            carp_loaded: false,
            privileged: false,
        };
        assert_eq!(
            describe_host(Path::new("/tmp/h"), &spec),
            "created an emulated FreeBSD 13 host at /tmp/h (ioctl)\n\
             \x20 carp.ko not loaded; caller unprivileged\n\
             \x20 lo0 (loopback, no carp)\n\
             \x20 em0 192.0.2.3/24 2001:db8::3/64\n\
             \x20 em1 (no address)\n\
             use it with: carpctl --kernel emulated:/tmp/h status\n"
        );
    }

    #[test]
    fn flavor_and_fail_call_are_validated_by_clap() {
        use clap::Parser;

        use crate::cli::Cli;
        let e = Cli::try_parse_from(["carpctl", "emulate", "init", "/x", "--freebsd", "12"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("\"12\""), "{e}");
        let e = Cli::try_parse_from([
            "carpctl",
            "emulate",
            "inject",
            "/x",
            "--fail-call",
            "0",
            "--errno",
            "EIO",
        ])
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let ok = Cli::try_parse_from(["carpctl", "emulate", "init", "/x"]).unwrap();
        match ok.command {
            crate::cli::Command::Emulate(EmulateCommand::Init(a)) => {
                assert_eq!(a.flavor, Flavor::V14);
                assert!(a.ifaces.is_empty() && !a.no_carp_module && !a.unprivileged);
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
