//! Pass 2 of the cluster file's validation, the shape of an entry: each
//! table is deserialized on its own into a `deny_unknown_fields` struct
//! ([`Validator::entry`]), a key serde rejects is reported and dropped so that one
//! typo does not hide the next, and `[[section]]` arrays are taken apart
//! into their tables ([`Validator::array_of_tables`]). Also the naming helpers
//! every section shares (`vip "mail1"`, `vip #2`).

use std::collections::BTreeSet;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::Validator;
use crate::config::rules::{NAME_MAX, NODE_NAME_MAX, bad_name};

impl Validator<'_> {
    /// Deserialize one entry, reporting and dropping each rejected key until
    /// serde accepts the rest. Returns the value (if any) and the keys that
    /// were rejected, so that "missing key" is not reported for them too.
    pub(super) fn entry<T: DeserializeOwned>(
        &mut self,
        mut table: DeTable<'_>,
        span: Range<usize>,
        ctx: &str,
        keypath: &str,
    ) -> (Option<T>, BTreeSet<String>) {
        let mut failed = BTreeSet::new();
        loop {
            let value = Spanned::new(span.clone(), DeValue::Table(table.clone()));
            let err = match T::deserialize(ValueDeserializer::from(value)) {
                Ok(t) => return (Some(t), failed),
                Err(e) => e,
            };
            let espan = err.span();
            let hit = espan.as_ref().and_then(|s| {
                table
                    .iter()
                    .find(|(k, v)| k.span().contains(&s.start) || v.span().contains(&s.start))
                    .map(|(k, _)| k.get_ref().to_string())
            });
            let msg = serde_message(err.message());
            let at = espan.unwrap_or_else(|| span.clone());
            match hit {
                Some(key) => {
                    let text = if msg.starts_with("unknown key") {
                        format!("{ctx}: {msg}")
                    } else {
                        format!("{ctx}: {key}: {msg}")
                    };
                    self.error(&at, format!("{keypath}.{key}"), text);
                    table.remove(key.as_str());
                    failed.insert(key);
                }
                None => {
                    // Not attributable to a key: report it and give up on
                    // this entry (the loop could not make progress).
                    self.error(&at, keypath, format!("{ctx}: {msg}"));
                    return (None, failed);
                }
            }
        }
    }

    /// The elements of `[[section]]`, each a table with its span.
    pub(super) fn array_of_tables<'i>(
        &mut self,
        v: Spanned<DeValue<'i>>,
        section: &str,
    ) -> Vec<(usize, Range<usize>, DeTable<'i>)> {
        let span = v.span();
        match v.into_inner() {
            DeValue::Array(arr) => {
                let mut out = Vec::new();
                for (i, e) in arr.into_iter().enumerate() {
                    let espan = e.span();
                    match e.into_inner() {
                        DeValue::Table(t) => out.push((i, espan, t)),
                        other => {
                            let msg = format!(
                                "{section} #{}: must be a table, not {}",
                                i + 1,
                                article(other.type_str())
                            );
                            self.error(&espan, format!("{section}[{i}]"), msg);
                        }
                    }
                }
                out
            }
            DeValue::Table(_) => {
                let msg = format!(
                    "{section} must be an array of tables: write [[{section}]], not [{section}]"
                );
                self.error(&span, section, msg);
                Vec::new()
            }
            other => {
                let msg = format!(
                    "{section} must be an array of tables ([[{section}]]), not {}",
                    article(other.type_str())
                );
                self.error(&span, section, msg);
                Vec::new()
            }
        }
    }

    /// "missing key `key`" at the entry, unless serde already rejected the
    /// key (it was reported then). `why` says what the key should hold.
    pub(super) fn missing_key(&mut self, at: &EntryAt<'_>, key: &str, why: &str) {
        if !at.failed.contains(key) {
            self.error(
                at.span,
                format!("{}.{key}", at.keypath),
                format!("{}: missing key `{key}`{why}", at.ctx),
            );
        }
    }

    /// `n` if it is a usable name (of a check or a VIP), else an error at it.
    pub(super) fn valid_name(
        &mut self,
        n: Spanned<String>,
        keypath: &str,
        ctx: &str,
    ) -> Option<Spanned<String>> {
        match bad_name(n.get_ref(), NAME_MAX) {
            Some(why) => {
                self.error(
                    &n.span(),
                    format!("{keypath}.name"),
                    format!("{ctx}: name {why}"),
                );
                None
            }
            None => Some(n),
        }
    }
}

/// One `[[section]]` entry being checked: where it is, how messages name
/// it, and the keys serde already rejected.
pub(super) struct EntryAt<'a> {
    pub(super) span: &'a Range<usize>,
    /// `vip "mail1"` or `vip #2` ([`entry_ctx`]).
    pub(super) ctx: &'a str,
    /// `vip[1]`.
    pub(super) keypath: &'a str,
    pub(super) failed: &'a BTreeSet<String>,
}

/// The longest name of an entry of `section`.
fn name_max(section: &str) -> usize {
    if section == "node" {
        NODE_NAME_MAX
    } else {
        NAME_MAX
    }
}

/// `vip "mail1"` when the entry has a string name, else `vip #2`.
pub(super) fn entry_ctx(section: &str, i: usize, table: &DeTable<'_>) -> String {
    match table.get("name").map(|v| v.get_ref()) {
        Some(DeValue::String(s)) if bad_name(s, name_max(section)).is_none() => {
            format!("{section} \"{s}\"")
        }
        _ => format!("{section} #{}", i + 1),
    }
}

/// "a string", "an integer".
fn article(noun: &str) -> String {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

/// serde's wording, in the file's terms.
fn serde_message(msg: &str) -> String {
    let msg = msg
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table");
    msg.to_string()
}
