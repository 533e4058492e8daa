//! `carpctl migrate FILE [--parent carpN=IF]...`: rewrite a FreeBSD 9
//! rc.conf (carp pseudo-interfaces) into the FreeBSD 10 form (vhid aliases
//! on the parent interface); see [`crate::migrate`].
//!
//! The new rc.conf goes to standard output, ending with a comment block
//! that gives the loader.conf change; what was done goes to standard
//! error. A parent that the subnets do not tell, lines with errors, or a
//! bad `--parent` are configuration errors (exit 2): nothing is printed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, GlobalOpts};
use crate::lint::Finding;
use crate::migrate::{self, MigrateError};
use zeroize::Zeroizing;

/// Arguments of `carpctl migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The FreeBSD 9 rc.conf to convert
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The parent interface of a carp interface, when no interface (or more
    /// than one) has a subnet holding its VIP; repeatable
    #[arg(long, value_name = "CARP=IF", value_parser = migrate::parse_parent)]
    pub parent: Vec<(String, String)>,
}

/// Turn a migration error into the exit-2 error, printing the findings
/// that block it.
pub(super) fn refuse(e: MigrateError) -> CliError {
    if let MigrateError::Invalid { file, issues, .. } = &e {
        let mut err = std::io::stderr().lock();
        for i in issues {
            let f = Finding {
                file: file.clone(),
                line: i.pos.line,
                column: i.pos.column,
                code: i.code,
                message: i.message.clone(),
            };
            let _ = writeln!(err, "{f}");
        }
    }
    CliError::Usage(format!("{e}; nothing was written"))
}

/// Read a file to convert; a missing or non-text file is a usage error.
pub(super) fn read(path: &std::path::Path) -> Result<Zeroizing<String>, CliError> {
    let inputs = crate::lint::read_inputs(std::slice::from_ref(&path.to_path_buf()));
    match inputs
        .into_iter()
        .next()
        .map(|mut i| std::mem::replace(&mut i.content, Ok(Zeroizing::default())))
    {
        Some(Ok(text)) => Ok(text),
        Some(Err(why)) => Err(CliError::Usage(format!("{}: {why}", path.display()))),
        None => Err(CliError::Usage(format!("{}: cannot read", path.display()))),
    }
}

/// `carpctl migrate`.
pub(crate) fn run(
    _global: &GlobalOpts,
    args: &MigrateArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut parents = BTreeMap::new();
    for (carp, parent) in &args.parent {
        if let Some(old) = parents.insert(carp.clone(), parent.clone())
            && old != *parent
        {
            return Err(CliError::Usage(format!(
                "--parent {carp}= is given twice ({old} and {parent})"
            )));
        }
    }
    let text = read(&args.file)?;
    let m = migrate::migrate(&args.file, &text, &parents).map_err(refuse)?;
    out.write_all(m.text.as_bytes())?;
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for n in &m.notes {
        let _ = writeln!(err, "carpctl migrate: {n}");
    }
    Ok(())
}
