//! The parent-interface view the state machine looks at ([`Parent`]), and
//! the one place that builds it from an interface and a softc.

use super::Hz;
use crate::kernel::emulated::state::{Iface, Naddrs, Softc};

/// What the state machine looks at on the parent interface, and the time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parent<'a> {
    pub name: &'a str,
    /// `if_index`, to name the interface in [`super::Event::Wake`] and friends
    /// without allocating.
    pub(crate) index: u16,
    /// `if_flags & IFF_UP`.
    pub up: bool,
    /// `if_link_state == LINK_STATE_UP`.
    pub(crate) link_up: bool,
    /// Virtual time in microseconds ([`crate::kernel::emulated::state::HostState::now`]).
    pub(crate) now: u64,
    /// `kern.hz` and the host's tick phase: where callouts fire.
    pub(crate) hz: Hz,
}

/// Run `f` on softc `si` of `ifc` with its parent's view at `now` and the
/// address counts `n` (borrowing the interface's name and its softc
/// separately). The one place that builds a [`Parent`] from an
/// [`Iface`], for the ioctl paths (`carp/`) and the live host (`live/`).
#[inline]
pub(in crate::kernel::emulated) fn with_parent<R>(
    ifc: &mut Iface,
    si: usize,
    (now, hz): (u64, Hz),
    n: Naddrs,
    f: impl FnOnce(Parent<'_>, &mut Softc, Naddrs) -> R,
) -> R {
    let (up, link_up) = (ifc.is_up(), ifc.link_is_up());
    f(
        Parent {
            name: &ifc.name,
            index: ifc.index,
            up,
            link_up,
            now,
            hz,
        },
        &mut ifc.vhids[si],
        n,
    )
}
