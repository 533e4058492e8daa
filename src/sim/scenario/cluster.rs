//! The scenario's cluster file: loaded with `[passwords]` in place of its
//! own passwords, its errors reported against the scenario, and the limit
//! on its (node, VIP) pairs.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use zeroize::Zeroizing;

use super::{ScenarioValidator, limits};
use crate::config::{self, Config, Diagnostic};
use crate::model::Key;
use crate::textfile::{self, Access};

impl ScenarioValidator<'_> {
    /// The cluster file named by `cluster`, with `[passwords]` applied; its
    /// errors are reported, followed by one pointing at `cluster`.
    pub(super) fn cluster_file(
        &mut self,
        cluster: &Spanned<String>,
        raw_passwords: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    ) -> Option<Config> {
        let cluster_path = self.relative(cluster.get_ref());
        let passwords = self.passwords(raw_passwords);
        match load_cluster(&cluster_path, &passwords) {
            Ok(cfg) => Some(cfg),
            Err(LoadError::Diags(d)) => {
                let names_file = format!(
                    "in the cluster file {} named by cluster",
                    cluster_path.display()
                );
                let has_missing_key = d.iter().any(|d| {
                    d.key
                        .as_deref()
                        .is_some_and(|k| k.ends_with("password_file"))
                });
                self.diags.extend(d);
                let mut msg = format!("the cluster file has errors (see above; {names_file})");
                if has_missing_key {
                    msg.push_str(
                        "; for a simulation, the scenario can give the passwords instead: \
                         [passwords] VIPNAME = \"...\"",
                    );
                }
                self.error(&cluster.span(), "cluster", msg);
                None
            }
            Err(LoadError::UnknownVip {
                names,
                known,
                diags,
            }) => {
                for name in names {
                    let span = passwords
                        .iter()
                        .find(|(n, _, _)| *n == name)
                        .map(|(_, s, _)| s.clone())
                        .unwrap_or_default();
                    let msg = format!(
                        "passwords.{name}: the cluster file has no VIP \"{name}\" (its VIPs: \
                         {known})"
                    );
                    self.error(&span, format!("passwords.{name}"), msg);
                }
                if !diags.is_empty() {
                    self.diags.extend(diags);
                    let msg = format!(
                        "the cluster file has errors (see above; in the cluster file {} named \
                         by cluster)",
                        cluster_path.display()
                    );
                    self.error(&cluster.span(), "cluster", msg);
                }
                None
            }
        }
    }

    /// The (node, VIP) pairs in which a node takes part stay within
    /// [`limits::MAX_MEMBERS`].
    pub(super) fn within_member_limit(
        &mut self,
        config: &Config,
        cluster: &Spanned<String>,
        key: &str,
    ) -> bool {
        let members: usize = config
            .vips
            .iter()
            .map(|v| {
                config
                    .nodes
                    .iter()
                    .filter(|n| v.takes_part(&n.name))
                    .count()
            })
            .sum();
        if members > limits::MAX_MEMBERS {
            self.error(
                &cluster.span(),
                key,
                format!(
                    "{key}: the cluster file has {members} (node, VIP) pairs in which a node takes \
                     part; a simulation runs at most {} (carpctl.scenario(5), LIMITS)",
                    limits::MAX_MEMBERS
                ),
            );
            return false;
        }
        true
    }

    /// `[passwords]`: name, span and key of each.
    fn passwords(
        &mut self,
        raw: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    ) -> Vec<(String, Range<usize>, Key)> {
        let mut out = Vec::new();
        for (name, value) in raw.unwrap_or_default() {
            if !self.name_ok(&name, config::NAME_MAX, "passwords", "a VIP name") {
                if let toml::Value::String(s) = value.into_inner() {
                    drop(Zeroizing::new(s));
                }
                continue;
            }
            let key = format!("passwords.{}", name.get_ref());
            let span = value.span();
            match value.into_inner() {
                toml::Value::String(s) => {
                    let s = Zeroizing::new(s);
                    match Key::new(s.as_bytes()) {
                        Ok(k) => out.push((name.get_ref().clone(), name.span(), k)),
                        Err(e) => {
                            // Key::new's messages never contain the bytes.
                            self.error(&span, &key, format!("{key}: {e}"));
                        }
                    }
                }
                _ => self.error(&span, &key, format!("{key} must be a string")),
            }
        }
        out
    }
}

/// Why the cluster file did not load.
pub(super) enum LoadError {
    Diags(Vec<Diagnostic>),
    /// `[passwords]` names VIPs the cluster file does not have; `diags`
    /// are the cluster file's own errors, if it has any too.
    UnknownVip {
        names: Vec<String>,
        known: String,
        diags: Vec<Diagnostic>,
    },
}

/// Load the cluster file; VIPs named in `passwords` take that password
/// instead of their `password` / `password_file`, which are blanked out of
/// the text first (spaces of the same length, so every position the
/// cluster file's own diagnostics give stays right).
pub(super) fn load_cluster(
    path: &Path,
    passwords: &[(String, Range<usize>, Key)],
) -> Result<Config, LoadError> {
    if passwords.is_empty() {
        let mut cfg = config::load(path).map_err(LoadError::Diags)?;
        // Every node applies: every key is needed.
        let warnings = cfg.read_keys(|_| true).map_err(LoadError::Diags)?;
        cfg.warnings.extend(warnings);
        return Ok(cfg);
    }
    // Read as config::load reads it (a trusted regular file, capped).
    let mut text = textfile::read(path, Access::Trusted)
        .map_err(|e| LoadError::Diags(vec![config::unreadable(path, e, false)]))?
        .text;
    let (names, all) = blank_passwords(&mut text, passwords.iter().map(|(n, _, _)| n.as_str()));
    let result = config::parse(&text, path, None);
    // Told whether or not the cluster file has errors of its own: a typo
    // in a VIP name is often why a password_file is still read (and
    // fails).
    let unknown: Vec<String> = passwords
        .iter()
        .map(|(n, _, _)| n)
        .filter(|n| all.as_ref().is_some_and(|all| !all.contains(n)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        let diags = match result {
            Err(d) => d,
            // Key files are read after parsing: those the scenario does not
            // replace, which the simulation needs, are reported too.
            Ok(mut cfg) => cfg
                .read_keys(|v| !names.iter().any(|(n, _)| *n == v.name))
                .err()
                .unwrap_or_default(),
        };
        return Err(LoadError::UnknownVip {
            names: unknown,
            known: all.unwrap_or_default().join(", "),
            diags,
        });
    }
    let mut cfg = result.map_err(LoadError::Diags)?;
    for (name, _, key) in passwords {
        if let Some(v) = cfg.vips.iter_mut().find(|v| v.name == *name) {
            v.key = Some(config::KeySource::Inline(key.clone()));
        }
    }
    // The "no password" warnings of the VIPs whose password we supplied.
    cfg.warnings.retain(|d| {
        !(d.message.contains("no password")
            && names
                .iter()
                .any(|(_, k)| d.key.as_deref() == Some(k.as_str())))
    });
    // The key files of the others: every node applies.
    let warnings = cfg.read_keys(|_| true).map_err(LoadError::Diags)?;
    cfg.warnings.extend(warnings);
    Ok(cfg)
}

/// Blank `password` and `password_file` in the `[[vip]]` entries named in
/// `names`. Returns (VIP name, its key path `vip[i]`) for each one found,
/// and the names of all VIPs of the file (`None` when it is not TOML).
fn blank_passwords<'a>(
    text: &mut String,
    names: impl Iterator<Item = &'a str>,
) -> (Vec<(String, String)>, Option<Vec<String>>) {
    let wanted: BTreeSet<&str> = names.collect();
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut found = Vec::new();
    let mut all = None;
    if let Ok(root) = toml::de::DeTable::parse(text) {
        let all = all.get_or_insert_with(Vec::new);
        let root = root.into_inner();
        for (k, v) in root.iter() {
            if k.get_ref().as_ref() != "vip" {
                continue;
            }
            let toml::de::DeValue::Array(entries) = v.get_ref() else {
                continue;
            };
            for (i, entry) in entries.iter().enumerate() {
                let toml::de::DeValue::Table(t) = entry.get_ref() else {
                    continue;
                };
                let name = t
                    .iter()
                    .find_map(|(k, v)| match (k.get_ref().as_ref(), v.get_ref()) {
                        ("name", toml::de::DeValue::String(s)) => Some(s.to_string()),
                        _ => None,
                    });
                all.extend(name.clone());
                let Some(name) = name.filter(|n| wanted.contains(n.as_str())) else {
                    continue;
                };
                for (k, v) in t.iter() {
                    if matches!(k.get_ref().as_ref(), "password" | "password_file") {
                        spans.push(k.span().start..v.span().end);
                    }
                }
                found.push((name, format!("vip[{i}]")));
            }
        }
    }
    // Spaces replace whole TOML tokens (key to end of value), byte for
    // byte except newlines, so the text stays UTF-8 and every later
    // position stays where it was.
    let mut bytes = std::mem::take(text).into_bytes();
    for s in spans {
        for b in bytes.get_mut(s).into_iter().flatten() {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    *text = String::from_utf8(bytes).unwrap_or_default();
    (found, all)
}
