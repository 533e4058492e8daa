//! Netlink and generic-netlink constants as FreeBSD defines them
//! (`sys/netlink/netlink.h`, `netlink_generic.h` @ NL 013ab21c), and the carp
//! family (`sys/netinet/ip_carp_nl.h` @ MAIN e4452d45; attributes 10-12
//! arrived with VRRPv3 in 15.0).

/// `AF_NETLINK` on FreeBSD (38; Linux uses 16). Source: `sys/sys/socket.h` as
/// cited by rust-lang/libc `freebsd/netlink.rs` @ dd087b0c.
pub const AF_NETLINK: i32 = 38;
/// `SOL_NETLINK`.
pub const SOL_NETLINK: i32 = 270;
/// `NETLINK_GENERIC`.
pub const NETLINK_GENERIC: i32 = 16;
/// `NETLINK_ADD_MEMBERSHIP` / `NETLINK_DROP_MEMBERSHIP`.
pub const NETLINK_ADD_MEMBERSHIP: i32 = 1;
pub const NETLINK_DROP_MEMBERSHIP: i32 = 2;

/// `struct nlmsghdr` is 16 bytes; `genlmsghdr` 4; `nlattr` 4.
pub const NLMSG_HDRLEN: usize = 16;
pub const GENL_HDRLEN: usize = 4;
pub const NLA_HDRLEN: usize = 4;
/// Messages and attributes are padded to 4 bytes.
pub const NLMSG_ALIGNTO: usize = 4;

pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
pub const NLM_F_ECHO: u16 = 0x08;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_ATOMIC: u16 = 0x400;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;
/// `NLMSG_MIN_TYPE` = `GENL_MIN_ID` = `GENL_ID_CTRL`.
pub const GENL_ID_CTRL: u16 = 16;
pub const GENL_MAX_ID: u16 = 1023;

/// Attribute type bits.
pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// nlctrl commands and attributes.
pub const CTRL_CMD_NEWFAMILY: u8 = 1;
pub const CTRL_CMD_GETFAMILY: u8 = 3;
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub const CTRL_ATTR_VERSION: u16 = 3;
pub const CTRL_ATTR_HDRSIZE: u16 = 4;
pub const CTRL_ATTR_MAXATTR: u16 = 5;
pub const CTRL_ATTR_OPS: u16 = 6;
pub const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
pub const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
pub const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
/// `CTRL_ATTR_OPS` entries: `CTRL_ATTR_OP_ID`, `CTRL_ATTR_OP_FLAGS` (u32).
pub const CTRL_ATTR_OP_ID: u16 = 1;
pub const CTRL_ATTR_OP_FLAGS: u16 = 2;
/// Op flags. `GENL_ADMIN_PERM` is added by `get_cmd_flags` for a command
/// with a `cmd_priv` (netlink_generic.c @ 031fb30f): carp's SET reports
/// `DO | HASPOL | ADMIN_PERM` = 0x0b.
pub const GENL_ADMIN_PERM: u32 = 0x01;
pub const GENL_CMD_CAP_DO: u32 = 0x02;
pub const GENL_CMD_CAP_DUMP: u32 = 0x04;
pub const GENL_CMD_CAP_HASPOL: u32 = 0x08;
/// `GENL_NAMSIZ`: family names are at most 15 bytes plus NUL.
pub const GENL_NAMSIZ: usize = 16;

/// `CARP_NL_FAMILY_NAME`.
pub const CARP_NL_FAMILY_NAME: &str = "carp";
/// The family's version (`genl_register_family(..., 2, ...)`).
pub const CARP_NL_FAMILY_VERSION: u8 = 2;

/// carp family commands.
pub const CARP_NL_CMD_UNSPEC: u8 = 0;
/// Registered as "SIOCGVH"; no privilege needed (the key only with it).
pub const CARP_NL_CMD_GET: u8 = 1;
/// Registered as "SIOCSVH"; needs `PRIV_NETINET_CARP`.
pub const CARP_NL_CMD_SET: u8 = 2;

/// carp family attributes.
pub const CARP_NL_UNSPEC: u16 = 0;
/// u32; 1..255 for SET; 0/absent = all for GET.
pub const CARP_NL_VHID: u16 = 1;
/// u32; SET: > 2 is EINVAL, 0 = no change.
pub const CARP_NL_STATE: u16 = 2;
/// s32 (parsed as u32); 0 = keep.
pub const CARP_NL_ADVBASE: u16 = 3;
/// s32 (parsed as u32); always applied, absent = 0.
pub const CARP_NL_ADVSKEW: u16 = 4;
/// Byte array, at most 20; first byte 0 = unchanged.
pub const CARP_NL_KEY: u16 = 5;
/// u32.
pub const CARP_NL_IFINDEX: u16 = 6;
/// 4 bytes, unicast peer; 0.0.0.0 = keep.
pub const CARP_NL_ADDR: u16 = 7;
/// 16 bytes, unicast peer6; `::` = keep.
pub const CARP_NL_ADDR6: u16 = 8;
/// NUL-terminated string; takes precedence over IFINDEX.
pub const CARP_NL_IFNAME: u16 = 9;
/// u8, 2 or 3 (15.0+).
pub const CARP_NL_VERSION: u16 = 10;
/// u8, 0 = keep (15.0+).
pub const CARP_NL_VRRP_PRIORITY: u16 = 11;
/// u16 centiseconds, <= 4095, 0 = keep (15.0+).
pub const CARP_NL_VRRP_ADV_INTER: u16 = 12;
/// Highest attribute on 14.x.
pub const CARP_NL_MAX_ATTR_14: u16 = CARP_NL_IFNAME;
/// Highest attribute on 15.x and main.
pub const CARP_NL_MAX_ATTR: u16 = CARP_NL_VRRP_ADV_INTER;

/// nlsysevent (15.0+): family name, command and attributes.
pub const NLSE_FAMILY_NAME: &str = "nlsysevent";
pub const NLSE_CMD_NEWEVENT: u8 = 1;
pub const NLSE_ATTR_SYSTEM: u16 = 1;
pub const NLSE_ATTR_SUBSYSTEM: u16 = 2;
pub const NLSE_ATTR_TYPE: u16 = 3;
pub const NLSE_ATTR_DATA: u16 = 4;
