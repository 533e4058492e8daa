//! The scenario's `maintenance_on` event and its `procedure`.

use toml::Spanned;

use super::ScenarioValidator;
use super::event::Action;

/// The values `procedure` takes: the stepped `maintenance on` of
/// carpctl(8), and the one step of 240 it replaced.
const PROCEDURES: &[(&str, bool)] = &[("stepped", true), ("one_step", false)];

impl ScenarioValidator<'_> {
    /// `maintenance_on`, stepped unless `procedure = "one_step"`.
    pub(super) fn maintenance_on_action(
        &mut self,
        procedure: Option<Spanned<String>>,
        node: usize,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let stepped = match procedure {
            None => true,
            Some(p) => match PROCEDURES.iter().find(|(n, _)| *n == p.get_ref().as_str()) {
                Some(&(_, stepped)) => stepped,
                None => {
                    let msg = format!(
                        "{ctx}: procedure \"{}\" is not one of \"stepped\", \"one_step\"",
                        crate::text::escape(p.get_ref())
                    );
                    self.error(&p.span(), format!("{key}.procedure"), msg);
                    return None;
                }
            },
        };
        Some(Action::Maintenance {
            node,
            on: true,
            stepped,
            step: None,
        })
    }
}
