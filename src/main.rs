//! The `carpctl` binary: parse arguments, run, map errors to exit codes.

fn main() -> std::process::ExitCode {
    carpctl::cli::main()
}
