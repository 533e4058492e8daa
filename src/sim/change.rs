//! The events that change a node's cluster file: `apply`, and the steps
//! of a `rollout` ([`scenario::Action::Apply`]).

use super::*;
use crate::apply::select::Selection;

impl Sim<'_, '_> {
    /// `carpctl -c FILE apply [--only VIP] [--remove VIP]` on `node`. A
    /// whole-file apply installs the file (what the node applies when it
    /// boots again); a rollout step leaves the installed one.
    pub(super) fn apply_event(
        &mut self,
        node: usize,
        file: usize,
        only: Vec<String>,
        remove: Vec<String>,
    ) -> Result<(), SimError> {
        let selection = Selection { only, remove };
        if !selection.is_partial() {
            self.nodes[node].file = Some(file);
        }
        self.apply_with(node, Some(file), &selection)
    }
}
