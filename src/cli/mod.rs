//! The command line: global options, kernel selection, one module per
//! subcommand.

use std::process::ExitCode;

/// Parse the arguments, run the subcommand, and map its outcome to the
/// documented exit status (0 ok, 1 failure, 2 usage or configuration error).
pub fn main() -> ExitCode {
    todo!("cli helper")
}
