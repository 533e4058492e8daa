//! The scenario's `switchover` event: `vip`, optional `to` (a node) and
//! `back = true`, checked as `carpctl switchover` checks its arguments
//! ([`crate::switchover::check`]).

use std::collections::BTreeMap;

use toml::Spanned;

use super::ScenarioValidator;
use super::event::Action;
use crate::config::Config;

impl ScenarioValidator<'_> {
    /// `switchover`: `vip` (already a VIP of the cluster file, with where
    /// it is written), `to` a node of the scenario that is one of the
    /// VIP's nodes, and `back` without `to`. An error about the target is
    /// reported at `to`, one about the VIP (VRRPv3, one node, no
    /// preemption) at `vip`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn switchover_action(
        &mut self,
        (vip, vip_at): (String, std::ops::Range<usize>),
        to: Option<Spanned<String>>,
        back: Option<Spanned<bool>>,
        index: &BTreeMap<&str, usize>,
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let back_on = back.as_ref().is_some_and(|b| *b.get_ref());
        if let (true, Some(t)) = (back_on, &to) {
            let msg =
                format!("{ctx}: to does not apply with back = true (--back ends a switchover)");
            self.error(&t.span(), format!("{key}.to"), msg);
            return None;
        }
        let target = match &to {
            Some(t) => Some(self.node_named(t, index, ctx, &format!("{key}.to"))?),
            None => None,
        };
        let plan = match config.plan() {
            Ok(p) => p,
            Err(e) => {
                self.error(&vip_at, format!("{key}.vip"), format!("{ctx}: {e}"));
                return None;
            }
        };
        let name = to.as_ref().map(|t| t.get_ref().as_str());
        if let Err(e) = crate::switchover::check(&plan, config.cluster.preempt, &vip, name) {
            use crate::switchover::SwitchoverError::{NotInOrder, UnknownNode};
            let (span, field) = match (&e, &to) {
                (UnknownNode { .. } | NotInOrder { .. }, Some(t)) => (t.span(), "to"),
                _ => (vip_at, "vip"),
            };
            self.error(&span, format!("{key}.{field}"), format!("{ctx}: {e}"));
            return None;
        }
        Some(Action::Switchover {
            vip,
            to: target,
            back: back_on,
        })
    }
}
