//! The picture files of `carpctl simulate --html/--svg` and `carpctl plan
//! --html` ([`crate::picture`]): created before the work that fills them,
//! so that a path that cannot be written is refused before a long run,
//! and never through a symbolic link.

use std::path::Path;

use super::CliError;
use crate::picture::{self, Output};
use crate::plan::{Balance, FailureMatrix};
use crate::sim::Report;

/// The `--html` and `--svg` files of `carpctl simulate`, created.
#[derive(Debug)]
pub(crate) struct SimPictures {
    html: Option<Output>,
    svg: Option<Output>,
}

/// The output files of one command must differ: one would overwrite the
/// other. `named`: (option, its path if given). Checked before any file
/// is created.
pub(crate) fn distinct(named: &[(&str, Option<&Path>)]) -> Result<(), CliError> {
    for (i, (a, pa)) in named.iter().enumerate() {
        for (b, pb) in &named[i + 1..] {
            if let (Some(pa), Some(pb)) = (pa, pb)
                && pa == pb
            {
                return Err(CliError::Usage(format!(
                    "{a} and {b} name the same file {}: give each its own",
                    pa.display()
                )));
            }
        }
    }
    Ok(())
}

impl SimPictures {
    /// Create the files.
    pub(crate) fn create(html: Option<&Path>, svg: Option<&Path>) -> Result<Self, CliError> {
        let create = |p: Option<&Path>| {
            p.map(Output::create)
                .transpose()
                .map_err(|e| CliError::Usage(e.to_string()))
        };
        Ok(SimPictures {
            html: create(html)?,
            svg: create(svg)?,
        })
    }

    /// Draw `report` into the files.
    pub(crate) fn write(self, report: &Report) -> Result<(), CliError> {
        let failed = |e: picture::PictureError| CliError::Failed(e.to_string());
        if let Some(out) = self.html {
            out.finish(&picture::sim_page::html(report))
                .map_err(failed)?;
        }
        if let Some(out) = self.svg {
            out.finish(&picture::sim_page::svg(report))
                .map_err(failed)?;
        }
        Ok(())
    }
}

/// `carpctl plan --html FILE`.
pub(crate) fn plan_html(
    path: &Path,
    file: &str,
    preempt: bool,
    matrix: &FailureMatrix<'_>,
    balance: &Balance,
) -> Result<(), CliError> {
    let out = Output::create(path).map_err(|e| CliError::Usage(e.to_string()))?;
    out.finish(&picture::plan_page::html(file, preempt, matrix, balance))
        .map_err(|e| CliError::Failed(e.to_string()))
}
