//! `carpctl import [NAME=]FILE... [--parent carpN=IF]...`: build a cluster
//! file from the rc.conf files of a cluster's nodes, one file per node; see
//! [`crate::migrate::import`].
//!
//! The cluster file goes to standard output. Passwords are never printed:
//! each VIP gets a `password_file`, and standard error lists the key files
//! to create and the rc.conf line that holds each password.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, GlobalOpts};
use crate::migrate::{self, ImportNode};

/// Arguments of `carpctl import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Each node's rc.conf, as FILE or NAME=FILE (NAME is the node's name in
    /// the cluster file; default: the rc.conf hostname, else the file name)
    #[arg(value_name = "[NAME=]FILE", required = true)]
    pub files: Vec<String>,
    /// The parent interface of a FreeBSD 9 carp interface, for every node,
    /// when the subnets do not tell; repeatable
    #[arg(long, value_name = "CARP=IF", value_parser = migrate::parse_parent)]
    pub parent: Vec<(String, String)>,
}

/// `NAME=FILE` or `FILE`: a name is split off only when the file as a whole
/// does not exist and the name has no slash.
pub(super) fn node_arg(arg: &str) -> (Option<String>, PathBuf) {
    if let Some((name, file)) = arg.split_once('=')
        && !name.is_empty()
        && !name.contains('/')
        && !file.is_empty()
        && !std::path::Path::new(arg).exists()
    {
        return (Some(name.to_string()), PathBuf::from(file));
    }
    (None, PathBuf::from(arg))
}

/// `carpctl import`.
pub(crate) fn run(
    _global: &GlobalOpts,
    args: &ImportArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let parents: BTreeMap<String, String> = args.parent.iter().cloned().collect();
    let mut nodes = Vec::new();
    for a in &args.files {
        let (name, path) = node_arg(a);
        let mut text = super::migrate::read(&path)?;
        // Moved out, not copied (ImportNode keeps a plain String).
        let text = std::mem::take(&mut *text);
        nodes.push(ImportNode { name, path, text });
    }
    let imported = migrate::import(&nodes, &parents).map_err(super::migrate::refuse)?;
    for n in &mut nodes {
        zeroize::Zeroize::zeroize(&mut n.text);
    }
    out.write_all(imported.toml.as_bytes())?;
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for n in &imported.notes {
        let _ = writeln!(err, "carpctl import: {n}");
    }
    if !imported.key_files.is_empty() {
        let _ = writeln!(
            err,
            "carpctl import: create these key files next to the cluster file, readable by root \
             only (install -d -m 700 carpctl.d; umask 077), with the same content on every node:"
        );
        for k in &imported.key_files {
            let _ = writeln!(
                err,
                "  {}: the password after `pass` on line {} of {}",
                k.path,
                k.line,
                k.source.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_arguments() {
        assert_eq!(
            node_arg("mail-a=a/rc.conf"),
            (Some("mail-a".into()), PathBuf::from("a/rc.conf"))
        );
        assert_eq!(node_arg("a/rc.conf"), (None, PathBuf::from("a/rc.conf")));
        assert_eq!(node_arg("dir/x=y"), (None, PathBuf::from("dir/x=y")));
        assert_eq!(node_arg("=y"), (None, PathBuf::from("=y")));
    }
}
